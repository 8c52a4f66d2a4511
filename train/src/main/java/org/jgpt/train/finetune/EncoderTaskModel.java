package org.jgpt.train.finetune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.kernel.Activations;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.EncoderFolder;
import org.jgpt.train.Parameter;
import org.jgpt.train.SequenceClassifier;
import org.jgpt.train.TrainableEncoder;
import org.jgpt.train.finetune.TaskModel.Encoded;
import org.jgpt.train.finetune.TaskModel.Losses;

/**
 * An encoder with Hugging Face's sequence-classification head on the final hidden state of {@code <s>}: RoBERTa's
 * (RobertaForSequenceClassification: dropout, {@code classifier.dense}, tanh, dropout, {@code classifier.out_proj})
 * or ELECTRA's (ElectraForSequenceClassification: the same with GELU for tanh), as the pre-trained folder is
 * ({@link EncoderFolder}). Each example is one sequence framed by {@link RobertaInput}, right-padded with
 * {@code <pad>}; padding is never attended. There is no LM loss: an encoder is fine-tuned on the task's cross-entropy
 * alone, as RoBERTa and ELECTRA were.
 *
 * <p>Runs {@code examplesPerForward} examples of up to {@code seqLen} tokens per forward (fixed buffers).
 */
public final class EncoderTaskModel implements FineTunable {
    /** What the head predicts and how inputs are framed: saved with the model. Labels are in class-index order. */
    public record Spec(Task task, List<String> labels, RobertaInput input) implements TaskSpec {
        public Spec {
            labels = List.copyOf(labels);
            requireSupported(task);
            if (labels.size() < 2) throw new IllegalArgumentException(task.cliName() + " needs at least two labels, got " + labels);
        }

        @Override
        public int maxLength() {
            return input.maxLength();
        }

        /** One text; for entailment and similarity the pair in one sequence, one ordering (as Hugging Face's GLUE). */
        @Override
        public Encoded encode(Example example, Tokenizer tokenizer) {
            List<int[]> texts = new ArrayList<>();
            for (String text : example.texts()) texts.add(tokenizer.encode(text));
            InputTransform.Sequences s = input.apply(texts);
            return new Encoded(s.sequences(), classOf(example), s.truncated());
        }
    }

    /** Refuses the tasks an encoder cannot be fine-tuned for here: multiple choice. */
    public static void requireSupported(Task task) {
        if (task == Task.CHOICE) {
            throw new IllegalArgumentException("multiple choice is not supported for encoders (Hugging Face's"
                    + " RobertaForMultipleChoice and ElectraForMultipleChoice heads are not implemented): use"
                    + " classification, entailment or similarity, or fine-tune a GPT-2");
        }
    }

    private final Spec spec;
    private final SequenceClassifier classifier;
    private final int[] inputs, lengths, labels;

    private EncoderTaskModel(Spec spec, SequenceClassifier classifier) {
        if (classifier.seqLen() > spec.maxLength()) {
            throw new IllegalArgumentException("seqLen " + classifier.seqLen() + " exceeds the maximum length " + spec.maxLength());
        }
        this.spec = spec;
        this.classifier = classifier;
        inputs = new int[classifier.batchSize() * classifier.seqLen()];
        lengths = new int[classifier.batchSize()];
        labels = new int[classifier.batchSize()];
    }

    /**
     * The pre-trained encoder in {@code dir} with a new classifier head (BERT's initialisation, drawn from
     * {@code seed}); a folder that already has a classifier of the spec's size keeps it. {@code dropout} applies
     * inside the encoder and before each layer of the head (Hugging Face's classifier_dropout, unset).
     */
    public static EncoderTaskModel fromPretrained(Path dir, Spec spec, int examplesPerForward, int seqLen, float dropout,
                                                  long seed) {
        var classifier = EncoderFolder.of(dir).classifier(spec.labels().size(), examplesPerForward, seqLen, dropout, true, seed);
        return new EncoderTaskModel(spec, classifier);
    }

    /** Opens a folder written by {@link #save} for prediction (dropout off), on sequences of up to {@code seqLen}. */
    public static EncoderTaskModel load(Path dir, Spec spec, int examplesPerForward, int seqLen) {
        int length = Math.min(seqLen, spec.maxLength());
        var classifier = EncoderFolder.of(dir).classifier(spec.labels().size(), examplesPerForward, length, 0f, false, 0);
        return new EncoderTaskModel(spec, classifier);
    }

    /** The task a folder written by {@link #save} was fine-tuned for, framed with {@code tokenizer}'s special tokens. */
    public static Spec readSpec(Path dir, GPT2Tokenizer tokenizer) {
        EncoderFolder folder = EncoderFolder.of(dir);
        Path configFile = folder.configJson();
        Map<String, Object> config = Json.parseFile(configFile);
        Map<?, ?> task = SavedTask.task(config, dir);
        RobertaTokens tokens = specialTokens(tokenizer, folder);
        return new Spec(Task.parse(String.valueOf(task.get("task"))), SavedTask.labels(config, configFile),
                new RobertaInput(tokens, SavedTask.integer(task, "max_length", configFile)));
    }

    /**
     * The tokenizer's RoBERTa special tokens, checked against the encoder in {@code folder}: every token needs an
     * embedding, and the encoder tells padding by its pad_token_id.
     */
    public static RobertaTokens specialTokens(GPT2Tokenizer tokenizer, EncoderFolder folder) {
        RobertaTokens tokens = RobertaTokens.of(tokenizer);
        if (tokenizer.vocabSize() > folder.vocabSize()) {
            throw new IllegalArgumentException(folder.dir() + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model only " + folder.vocabSize());
        }
        if (tokens.pad() != folder.padTokenId()) {
            throw new IllegalArgumentException(folder.dir() + ": the tokenizer's <pad> is id " + tokens.pad()
                    + " but config.json's pad_token_id is " + folder.padTokenId());
        }
        return tokens;
    }

    @Override
    public Spec spec() {
        return spec;
    }

    /** The encoder and its head, by Hugging Face's names (for checks against PyTorch). */
    public SequenceClassifier classifier() {
        return classifier;
    }

    @Override
    public int examplesPerForward() {
        return classifier.batchSize();
    }

    @Override
    public List<Parameter> parameters() {
        return classifier.parameters();
    }

    @Override
    public void zeroGrad() {
        classifier.zeroGrad();
    }

    /** The task loss alone: {@code lmWeight} must be 0. */
    @Override
    public Losses trainStep(List<Encoded> examples, float lmWeight, float share, long seed) {
        if (lmWeight != 0) throw new IllegalArgumentException("an encoder has no LM loss: its weight must be 0, not " + lmWeight);
        fill(examples);
        float loss = classifier.sentenceLoss(inputs, lengths, labels, seed);
        classifier.backward(share);
        return new Losses(loss, 0f);
    }

    @Override
    public float[][] predict(List<Encoded> examples) {
        fill(examples);
        float[] logits = classifier.sentenceLogits(inputs, lengths);
        int classes = spec.labels().size();
        float[][] out = new float[examples.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(logits, i * classes, (i + 1) * classes);
            Activations.softmax(out[i], 0, classes);
        }
        return out;
    }

    /** Right-pads each example's sequence with {@code <pad>}; rows beyond the examples hold one {@code <pad>}, no label. */
    private void fill(List<Encoded> examples) {
        if (examples.isEmpty() || examples.size() > examplesPerForward()) {
            throw new IllegalArgumentException(examples.size() + " examples for a forward of " + examplesPerForward());
        }
        int seqLen = classifier.seqLen();
        Arrays.fill(inputs, spec.input().tokens().pad());
        Arrays.fill(lengths, 1);
        Arrays.fill(labels, TrainableEncoder.IGNORE);
        for (int b = 0; b < examples.size(); b++) {
            int[] sequence = examples.get(b).sequences()[0];
            if (sequence.length > seqLen) {
                throw new IllegalArgumentException("a sequence of " + sequence.length + " tokens exceeds " + seqLen);
            }
            System.arraycopy(sequence, 0, inputs, b * seqLen, sequence.length);
            lengths[b] = sequence.length;
            labels[b] = examples.get(b).label();
        }
    }

    /**
     * Saves a Hugging Face RobertaForSequenceClassification or ElectraForSequenceClassification folder:
     * {@code roberta.*} or {@code electra.*}, and {@code classifier.*}, in model.safetensors (no pre-training head),
     * config.json with {@code id2label}/{@code label2id} and the task under {@code jgpt_task}, and the tokenizer files.
     */
    @Override
    public void save(Path dir, Tokenizer tokenizer) {
        Map<String, Object> extra = new LinkedHashMap<>();
        SavedTask.putLabels(extra, spec.labels());
        Map<String, Object> task = new LinkedHashMap<>();
        task.put("task", spec.task().cliName());
        task.put("max_length", (long) spec.maxLength());
        extra.put(SavedTask.KEY, task);
        try {
            classifier.save(dir, extra);
            tokenizer.save(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        }
    }
}
