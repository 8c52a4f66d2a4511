package org.jgpt.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Callable;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.TokenDataset;
import org.jgpt.train.TrainConfig;
import org.jgpt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Pre-train a GPT-2 or an encoder (RoBERTa, ELECTRA, sentence embeddings).",
        description = {"Pre-trains on a corpus made by 'jgpt prepare': GPT-2 with the causal LM objective (clm), or a"
                + " RoBERTa encoder with a masked objective (mlm, wwm, span, each alone or with +sop or +nsp). Or learns"
                + " sentence embeddings from text: simcse (sentences), contrastive-pairs (JSONL pairs). Or ELECTRA's"
                + " replaced-token detection: rtd (generator and discriminator), rtd-random (no generator). Or XLM's"
                + " translation LM from JSONL pairs: tlm. Or XLNet's permutation LM, plm: two-stream attention on a"
                + " RoBERTa body, 1/6 of tokens predicted.",
                "Prints a line per step to stderr, writes metrics.csv and loss.png, and checkpoints in Hugging Face"
                + " layout. Ctrl-C saves a checkpoint before exiting; --resume continues exactly where it stopped."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt train --data sotu-data --out runs/sotu \\",
                "      --n-layer 6 --n-head 8 --n-embd 256 --steps 1600",
                "  jgpt train --out runs/sotu --resume",
                "  jgpt train --objective mlm --data enc-data --out runs/mlm --seq 128"})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Prepared corpus directory (jgpt prepare); for simcse"
            + " a text file (a sentence a line) or JSONL, for contrastive-pairs and tlm JSONL (required, except with"
            + " --resume: no default).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Run directory: checkpoints, metrics.csv, loss.png, and the latest model.")
    Path out;

    @Option(names = "--resume", description = "Continue the run saved in --out, with its own settings.")
    boolean resume;

    @Option(names = "--init", defaultValue = "scratch", description = "'scratch' (GPT-2's or BERT's initialisation) or"
            + " a model directory to start from: a GPT-2 for clm, an encoder for the others (default: ${DEFAULT-VALUE}).")
    String init;

    @Option(names = "--objective", defaultValue = "clm", description = "clm trains GPT-2; mlm (BERT/RoBERTa masking),"
            + " wwm (whole words), span (SpanBERT), alone or +sop (ALBERT's sentence order) or +nsp (BERT's next"
            + " sentence), train a RoBERTa encoder; simcse (unsupervised SimCSE) and contrastive-pairs"
            + " (MultipleNegativesRankingLoss) train a sentence encoder; rtd (ELECTRA) and rtd-random (uniform"
            + " replacements, no generator) train an ELECTRA discriminator, saved in --out, the generator in"
            + " --out/generator; tlm (XLM's translation LM) masks pairs of a sentence and its translation; plm"
            + " (XLNet's permutation LM, spans as Hugging Face's permutation collator, an even --seq) trains a"
            + " RoBERTa body with a query stream (default: ${DEFAULT-VALUE}).")
    String objective;

    @Option(names = "--mask-rate", defaultValue = "0.15", description = "Share of tokens the masked objectives predict,"
            + " 80%% of them replaced by <mask>, 10%% by a random token, 10%% kept; rtd: 85%% <mask>, 15%% kept, then"
            + " all filled by the generator; rtd-random: all replaced by random tokens; plm predicts 1/6 as XLNet, whatever this says"
            + " (default: ${DEFAULT-VALUE}).")
    double maskRate;

    @Option(names = "--generator-width-ratio", defaultValue = "0.25", description = "rtd: the generator's hidden size,"
            + " feed-forward size and heads over the discriminator's, at most 1 (default: ${DEFAULT-VALUE}, ELECTRA's).")
    double generatorWidthRatio;

    @Option(names = "--discriminator-weight", defaultValue = "50", description = "rtd: λ, the weight of the"
            + " discriminator's loss beside the generator's, > 0 (default: ${DEFAULT-VALUE}, ELECTRA's).")
    double discriminatorWeight;

    @Option(names = "--embedding-size", description = "rtd, rtd-random: the width of ELECTRA's embeddings, projected to"
            + " --n-embd when they differ (default: --n-embd; electra-small: 128).")
    Integer embeddingSize;

    @Option(names = "--temperature", defaultValue = "0.05", description = "simcse, contrastive-pairs: the softmax"
            + " temperature over cosine similarities, > 0 (default: ${DEFAULT-VALUE}; MultipleNegativesRankingLoss's"
            + " scale 20).")
    double temperature;

    @Option(names = "--pooling", defaultValue = "mean", description = "simcse, contrastive-pairs: mean (over the"
            + " tokens) or cls (the <s> output); saved in config.json for embed and serve (default: ${DEFAULT-VALUE}).")
    String pooling;

    @Option(names = "--fields", split = ",", paramLabel = "FIELD", description = "simcse, contrastive-pairs, tlm: the"
            + " JSONL fields to read, one for simcse, two for pairs (default: text; anchor,positive); tlm saves them as"
            + " its languages.")
    List<String> fields = List.of();

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "simcse, contrastive-pairs, tlm from scratch: the"
            + " directory of the RoBERTa vocabulary (jgpt tokenizer train --roberta) (default: with --init, the"
            + " model's own).")
    Path tokenizer;

    @Option(names = "--preset", paramLabel = "NAME", description = "Model size: gpt2, gpt2-medium, gpt2-large,"
            + " gpt2-xl, distilgpt2; with a masked objective, roberta-base; with rtd or rtd-random, electra-small (the"
            + " discriminator's size) (default: none, the size from --n-layer, --n-head and --n-embd).")
    String preset;

    @Option(names = "--n-layer", defaultValue = "4", description = "Transformer blocks (default: ${DEFAULT-VALUE}).") int nLayer;
    @Option(names = "--n-head", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).") int nHead;
    @Option(names = "--n-embd", defaultValue = "128", description = "Model width (default: ${DEFAULT-VALUE}).") int nEmbd;
    @Option(names = "--context", defaultValue = "256", description = "GPT-2's n_positions; a RoBERTa encoder's positions"
            + " are --seq + 2, an ELECTRA's --seq (default: ${DEFAULT-VALUE}).") int context;

    @Option(names = "--batch", defaultValue = "8", description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--seq", defaultValue = "128", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).") int seq;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).") int gradAccum;
    @Option(names = "--steps", defaultValue = "1000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--lr", defaultValue = "6e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).") double lr;
    @Option(names = "--min-lr", defaultValue = "6e-5", description = "Learning rate at the end of the cosine decay (default: ${DEFAULT-VALUE}).") double minLr;
    @Option(names = "--warmup", defaultValue = "100", description = "Steps of linear warmup (default: ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW's decoupled weight decay on matrices (default: ${DEFAULT-VALUE}).") double weightDecay;
    @Option(names = "--no-decay-embeddings", description = "Exempt the embedding tables from weight decay: GPT-2's wte and wpe, the encoders' word, position and token type embeddings.") boolean noDecayEmbeddings;
    @Option(names = "--beta1", defaultValue = "0.9", description = "AdamW's beta1 (default: ${DEFAULT-VALUE}).") double beta1;
    @Option(names = "--beta2", defaultValue = "0.95", description = "AdamW's beta2 (default: ${DEFAULT-VALUE}; RoBERTa used 0.98).") double beta2;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Global-norm clipping; 0 turns it off (default: ${DEFAULT-VALUE}).") double gradClip;
    @Option(names = "--dropout", defaultValue = "0.1", description = "Embedding, attention and residual dropout (default: ${DEFAULT-VALUE}, GPT-2's).") double dropout;
    @Option(names = "--eval-interval", defaultValue = "100", description = "Steps between validations; 0: only at the end (default: ${DEFAULT-VALUE}).") int evalInterval;
    @Option(names = "--eval-batches", defaultValue = "20", description = "Validation batches each time (default: ${DEFAULT-VALUE}).") int evalBatches;
    @Option(names = "--checkpoint-interval", defaultValue = "500", description = "Steps between checkpoints; 0: only at the end (default: ${DEFAULT-VALUE}).") int checkpointInterval;
    @Option(names = "--seed", defaultValue = "1337", description = "Seed of initialisation, batches, masks and dropout (default: ${DEFAULT-VALUE}).") long seed;

    @Override
    public Integer call() throws Exception {
        Trainer trainer;
        if (resume) {
            trainer = Trainer.resume(out);
            System.err.printf("resuming %s at step %d of %d%n", out, trainer.step(), trainer.config().maxSteps());
        } else {
            if (data == null) throw new IllegalArgumentException("--data is required (a directory made by jgpt prepare,"
                    + " or for simcse, contrastive-pairs and tlm a text or JSONL file)");
            TrainConfig config = new TrainConfig(data.toAbsolutePath().toString(), batch, seq, gradAccum, steps, lr, minLr,
                    warmup, weightDecay, !noDecayEmbeddings, beta1, beta2, gradClip, dropout, evalInterval, evalBatches,
                    checkpointInterval, seed, objective, maskRate, temperature, pooling, fields, generatorWidthRatio,
                    discriminatorWeight);
            if (tokenizer != null && !(config.readsText() && "scratch".equals(init))) {
                throw new IllegalArgumentException("--tokenizer is for simcse, contrastive-pairs and tlm from scratch; "
                        + (config.readsText() ? "--init brings its own" : "a prepared corpus brings its own"));
            }
            if (embeddingSize != null && !config.replacedTokenDetection()) {
                throw new IllegalArgumentException("--embedding-size is ELECTRA's: it applies to rtd and rtd-random");
            }
            if (config.replacedTokenDetection()) {
                if (!"scratch".equals(init)) throw new IllegalArgumentException("--init: " + objective + " starts from scratch");
                trainer = Trainer.start(config, electraConfig(corpusVocabulary()), out);
            } else if (config.trainsEncoder() && !"scratch".equals(init)) {
                trainer = Trainer.startFrom(config, Path.of(init), out);
            } else if (config.readsText()) {
                if (tokenizer == null) {
                    throw new IllegalArgumentException(objective + " reads text: start from an encoder (--init DIR) or"
                            + " give a RoBERTa vocabulary (--tokenizer DIR)");
                }
                GPT2Tokenizer vocabulary = GPT2Tokenizer.fromDirectory(tokenizer);
                trainer = Trainer.start(config, encoderConfig(vocabulary.vocabSize()), vocabulary, out);
            } else if (config.trainsEncoder()) {
                trainer = Trainer.start(config, encoderConfig(corpusVocabulary()), out);
            } else if ("scratch".equals(init)) {
                trainer = Trainer.start(config, modelConfig(), null, out);
            } else {
                ModelDirectory.requireGpt(Path.of(init), "cannot start a causal-LM run (--objective clm)");
                try (GPT2Weights weights = Checkpoints.load(Path.of(init))) {
                    trainer = Trainer.start(config, weights.config(), weights, out);
                }
            }
        }
        try (trainer) {
            return train(trainer);
        }
    }

    private GPT2Config modelConfig() throws Exception {
        if (preset != null) return GPT2Config.preset(preset);
        int vocab;
        try (TokenDataset corpus = TokenDataset.open(data, "train")) {
            vocab = corpus.vocabSize();
        }
        return new GPT2Config(vocab, context, nEmbd, nLayer, nHead, 4 * nEmbd, 1e-5f, "gelu_new", true, false,
                vocab - 1, vocab - 1);
    }

    private int corpusVocabulary() throws Exception {
        try (TokenDataset corpus = TokenDataset.open(data, "train")) {
            return corpus.vocabSize();
        }
    }

    private EncoderConfig encoderConfig(int vocab) {
        if ("roberta-base".equals(preset)) return EncoderConfig.robertaBase(vocab);
        if (preset != null) throw new IllegalArgumentException("--preset " + preset + " is a GPT; encoders take roberta-base");
        return EncoderConfig.roberta(vocab, seq, nEmbd, nLayer, nHead);
    }

    /** The discriminator's config; positions count from 0, so --seq of them. RoBERTa's <pad> is 1. */
    private ElectraConfig electraConfig(int vocab) {
        if ("electra-small".equals(preset)) return ElectraConfig.small(vocab, 1);
        if (preset != null) throw new IllegalArgumentException("--preset " + preset + " is not an ELECTRA; rtd takes electra-small");
        return ElectraConfig.of(vocab, seq, embeddingSize != null ? embeddingSize : nEmbd, nEmbd, nLayer, nHead, 1);
    }

    private static int train(Trainer trainer) throws Exception {
        String accuracyName = trainer.accuracyName();
        System.err.printf(Locale.ROOT, "model: %,d parameters, %s%n", trainer.parameterCount(), trainer.describe());
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread onInterrupt = new Thread(() -> {
            stop.set(true);
            System.err.println("\ninterrupted: saving a checkpoint after this step...");
            try {
                finished.await(10, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try {
            trainer.run(new Trainer.Listener() {
                @Override
                public void onStep(Trainer.StepMetrics m) {
                    System.err.printf(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | norm %.2f | %,.0f tok/s | ETA %s%n",
                            m.step(), m.maxSteps(), m.loss(), m.learningRate(), m.gradNorm(), m.tokensPerSecond(),
                            duration(m.secondsLeft()));
                }

                @Override
                public void onValidation(int step, double loss, double accuracy) {
                    if (Double.isNaN(accuracy)) {
                        System.err.printf(Locale.ROOT, "step %d | validation loss %.4f (perplexity %.2f)%n", step, loss, Math.exp(loss));
                    } else {
                        System.err.printf(Locale.ROOT, "step %d | validation loss %.4f | %s %.4f%n", step, loss, accuracyName, accuracy);
                    }
                }

                @Override
                public void onCheckpoint(int step, Path checkpoint) {
                    System.err.println("saved " + checkpoint);
                }
            }, stop::get);
        } finally {
            finished.countDown();
        }
        if (!stop.get()) Runtime.getRuntime().removeShutdownHook(onInterrupt);
        return 0;
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
