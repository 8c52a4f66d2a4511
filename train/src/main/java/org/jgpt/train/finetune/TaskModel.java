package org.jgpt.train.finetune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.AtomicFiles;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.Parameter;
import org.jgpt.train.TrainableGPT2;

/**
 * GPT-2 (or GPT-1) with a GPT-1-style task head: a linear map {@code score.weight} ([outputs, C], no bias, as Hugging
 * Face's GPT2ForSequenceClassification and OpenAIGPTForSequenceClassification) of the final hidden state at each sequence's extract token, after dropout. For
 * SIMILARITY the states of the two orderings are added first; for CHOICE each answer's sequence gets one score and
 * the softmax runs over the answers. The loss is the task's cross-entropy plus λ × the LM loss on the same inputs.
 *
 * <p>Runs {@code examplesPerForward} examples of up to {@code seqLen} tokens per forward (fixed buffers, llm.c style).
 */
public final class TaskModel implements FineTunable {
    /** What the head predicts and how inputs are framed: saved with the model. Labels are in class-index order. */
    public record Spec(Task task, List<String> labels, int choices, InputTransform transform) implements TaskSpec {
        public Spec {
            labels = List.copyOf(labels);
            if (task == Task.CHOICE ? choices < 2 || labels.size() != choices : labels.size() < 2) {
                throw new IllegalArgumentException(task.cliName() + " needs at least two " + (task == Task.CHOICE ? "answers" : "labels")
                        + ", got " + labels);
            }
        }

        int sequencesPerExample() {
            return switch (task) {
                case CLASSIFICATION, ENTAILMENT -> 1;
                case SIMILARITY -> 2;
                case CHOICE -> choices;
            };
        }

        int headOutputs() {
            return task == Task.CHOICE ? 1 : labels.size();
        }

        /** Classes the softmax runs over: the labels, or the answers. */
        int classes() {
            return labels.size();
        }

        @Override
        public int maxLength() {
            return transform.maxLength();
        }

        @Override
        public Encoded encode(Example example, Tokenizer tokenizer) {
            List<int[]> texts = new ArrayList<>();
            for (String text : example.texts()) texts.add(tokenizer.encode(text));
            if (task == Task.CHOICE && texts.size() - 1 != choices) {
                throw new IllegalArgumentException(example.source() + ": " + (texts.size() - 1) + " answers, the model takes "
                        + choices);
            }
            InputTransform.Sequences s = transform.apply(task, texts);
            return new Encoded(s.sequences(), classOf(example), s.truncated());
        }
    }

    /** One example as token sequences, with its class index (-1 when unlabelled). */
    public record Encoded(int[][] sequences, int label, boolean truncated) {}

    private final Spec spec;
    private final TrainableGPT2 gpt;
    private final Parameter head;
    private final Tensor headTensor;
    private final int examplesPerForward;
    private final int seqLen;
    private final float headDropout;
    private final int[] inputs, lmTargets, noTargets, extractRows, labels;
    private final float[] features, featureMask, logits, losses, dFeatures, dFinal;

    /**
     * GPT-2 of {@code config} (parameters to be filled in) with an untrained head; {@code dropout} applies inside
     * GPT-2, {@code headDropout} to the extract states.
     */
    public TaskModel(GPT2Config config, Spec spec, int examplesPerForward, int seqLen, float dropout, float headDropout) {
        if (seqLen > spec.transform().maxLength()) throw new IllegalArgumentException("seqLen " + seqLen + " exceeds the maximum length");
        this.spec = spec;
        this.examplesPerForward = examplesPerForward;
        this.seqLen = seqLen;
        this.headDropout = headDropout;
        int sequences = examplesPerForward * spec.sequencesPerExample();
        this.gpt = new TrainableGPT2(config, sequences, seqLen, dropout);
        int c = config.nEmbd();
        int outputs = spec.headOutputs();
        this.head = new Parameter("score.weight", new long[] {outputs, c}, new float[outputs * c],
                new float[outputs * c], true);
        this.headTensor = Tensor.of(head.name(), head.value(), outputs, c);
        int rows = sequences * seqLen;
        inputs = new int[rows];
        lmTargets = new int[rows];
        noTargets = new int[rows];
        Arrays.fill(noTargets, -1);
        extractRows = new int[sequences];
        labels = new int[examplesPerForward];
        int featureRows = spec.task() == Task.SIMILARITY ? examplesPerForward : sequences;
        features = new float[featureRows * c];
        featureMask = new float[featureRows * c];
        dFeatures = new float[featureRows * c];
        logits = new float[featureRows * outputs];
        losses = new float[examplesPerForward];
        dFinal = new float[rows * c];
    }

    /**
     * A head for {@code spec} on pre-trained GPT-2 weights, whose vocabulary grows by the transform's three special
     * tokens (their embeddings, and the head, drawn from N(0, 0.02) as GPT-2 initialises).
     */
    public static TaskModel fromPretrained(GPT2Weights base, Spec spec, int examplesPerForward, int seqLen, float dropout,
                                           float headDropout, long seed) {
        GPT2Config b = base.config();
        InputTransform t = spec.transform();
        if (t.start() != b.vocabSize() || t.delimiter() != b.vocabSize() + 1 || t.extract() != b.vocabSize() + 2) {
            throw new IllegalArgumentException("the special tokens must follow the model's vocabulary of " + b.vocabSize());
        }
        GPT2Config config = new GPT2Config(b.vocabSize() + 3, b.nPositions(), b.nEmbd(), b.nLayer(), b.nHead(), b.innerDim(),
                b.layerNormEpsilon(), b.activationFunction(), b.scaleAttnWeights(), b.scaleAttnByInverseLayerIdx(),
                b.bosTokenId(), b.eosTokenId(), b.modelType());
        SplittableRandom random = new SplittableRandom(seed);
        int c = b.nEmbd();
        float[] wte = new float[config.vocabSize() * c];
        for (int i = 0; i < b.vocabSize() * c; i++) wte[i] = base.wte().get(i);
        for (int i = b.vocabSize() * c; i < wte.length; i++) wte[i] = (float) (0.02 * random.nextGaussian());
        Tensor grown = Tensor.of("token embedding", wte, config.vocabSize(), c);
        TaskModel model = new TaskModel(config, spec, examplesPerForward, seqLen, dropout, headDropout);
        model.gpt.load(new GPT2Weights(config, grown, base.wpe(), base.layers(), base.lnFWeight(), base.lnFBias(), grown, null));
        for (int i = 0; i < model.head.value().length; i++) model.head.value()[i] = (float) (0.02 * random.nextGaussian());
        return model;
    }

    @Override
    public Spec spec() {
        return spec;
    }

    public GPT2Config config() {
        return gpt.config();
    }

    @Override
    public int examplesPerForward() {
        return examplesPerForward;
    }

    public int seqLen() {
        return seqLen;
    }

    /** GPT-2's parameters, then the head's. */
    @Override
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(gpt.parameters());
        all.add(head);
        return all;
    }

    @Override
    public void zeroGrad() {
        gpt.zeroGrad();
        Arrays.fill(head.grad(), 0f);
    }

    /** The longest sequence among the examples. */
    public static int longest(List<Encoded> examples) {
        int max = 0;
        for (Encoded e : examples) for (int[] s : e.sequences()) max = Math.max(max, s.length);
        return max;
    }

    /** Task loss and LM loss of one forward. */
    public record Losses(float task, float lm) {}

    /**
     * Forward and backward on up to {@code examplesPerForward} labelled examples, accumulating the gradient of
     * {@code share} × (task loss + {@code lmWeight} × LM loss), where {@code share} is these examples' part of the
     * optimizer batch. Dropout is drawn from {@code seed}.
     */
    @Override
    public Losses trainStep(List<Encoded> examples, float lmWeight, float share, long seed) {
        float lm = fill(examples, lmWeight > 0, true, seed);
        int n = examples.size();
        int width = spec.classes();
        float task = Backprop.crossEntropyForward(losses, logits, labels, n, width);
        Backprop.crossEntropyBackward(logits, labels, n, width, share);
        int featureRows = featureRows(n);
        int c = gpt.config().nEmbd();
        int outputs = spec.headOutputs();
        Matmul.backwardWeight(head.grad(), logits, features, featureRows, outputs, c);
        Matmul.forward(dFeatures, logits, headTensor, null, featureRows, outputs, c);
        if (headDropout > 0) Backprop.applyMask(dFeatures, featureMask, featureRows * c);
        Arrays.fill(dFinal, 0f);
        for (int r = 0; r < featureRows; r++) {
            if (spec.task() == Task.SIMILARITY) {
                addRow(dFinal, extractRows[2 * r], dFeatures, r, c);
                addRow(dFinal, extractRows[2 * r + 1], dFeatures, r, c);
            } else {
                addRow(dFinal, extractRows[r], dFeatures, r, c);
            }
        }
        gpt.backward(lmWeight * share, dFinal);
        return new Losses(task, lm);
    }

    /** Class probabilities of up to {@code examplesPerForward} examples, dropout off: [example][class]. */
    @Override
    public float[][] predict(List<Encoded> examples) {
        fill(examples, false, false, 0);
        int n = examples.size();
        int width = spec.classes();
        Arrays.fill(labels, 0);
        Backprop.crossEntropyForward(losses, logits, labels, n, width); // leaves the softmax in logits
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(logits, i * width, (i + 1) * width);
        return out;
    }

    /** Runs GPT-2 on the examples and the head on their extract states; returns the LM loss (0 without). */
    private float fill(List<Encoded> examples, boolean withLm, boolean training, long seed) {
        if (examples.isEmpty() || examples.size() > examplesPerForward) {
            throw new IllegalArgumentException(examples.size() + " examples for a forward of " + examplesPerForward);
        }
        Arrays.fill(inputs, 0);
        Arrays.fill(lmTargets, -1);
        int slot = 0;
        for (int e = 0; e < examples.size(); e++) {
            Encoded example = examples.get(e);
            labels[e] = example.label();
            for (int[] seq : example.sequences()) {
                if (seq.length > seqLen) throw new IllegalArgumentException("a sequence of " + seq.length + " tokens exceeds " + seqLen);
                int base = slot * seqLen;
                System.arraycopy(seq, 0, inputs, base, seq.length);
                for (int t = 0; t + 1 < seq.length; t++) lmTargets[base + t] = seq[t + 1];
                extractRows[slot++] = base + seq.length - 1;
            }
        }
        float lm = training ? gpt.forward(inputs, withLm ? lmTargets : noTargets, seed) : gpt.evaluate(inputs, noTargets);
        float[] hidden = gpt.finalHidden();
        int c = gpt.config().nEmbd();
        int featureRows = featureRows(examples.size());
        Arrays.fill(features, 0f);
        for (int r = 0; r < featureRows; r++) {
            if (spec.task() == Task.SIMILARITY) {
                addRow(features, r, hidden, extractRows[2 * r], c);
                addRow(features, r, hidden, extractRows[2 * r + 1], c);
            } else {
                addRow(features, r, hidden, extractRows[r], c);
            }
        }
        if (training && headDropout > 0) {
            Backprop.dropoutMask(featureMask, featureRows * c, headDropout, seed ^ 0x5DEECE66DL);
            Backprop.applyMask(features, featureMask, featureRows * c);
        }
        Matmul.forwardTransposed(logits, features, headTensor, featureRows, c, spec.headOutputs());
        return lm;
    }

    private int featureRows(int examples) {
        return spec.task() == Task.SIMILARITY ? examples : examples * spec.sequencesPerExample();
    }

    /** {@code to[toRow] += from[fromRow]}, rows of {@code c}. */
    private static void addRow(float[] to, int toRow, float[] from, int fromRow, int c) {
        for (int i = 0; i < c; i++) to[toRow * c + i] += from[fromRow * c + i];
    }

    // ---- saving and loading --------------------------------------------------------------------------------------

    /**
     * Saves a Hugging Face model folder: GPT-2 (the grown vocabulary) and {@code score.weight} in model.safetensors,
     * config.json with {@code id2label}/{@code label2id} (GPT2ForSequenceClassification, or OpenAIGPT..., for
     * single-sequence tasks)
     * and the task under {@code jgpt_task}, and the tokenizer files. The folder still opens as a GPT-2 LM.
     */
    @Override
    public void save(Path dir, Tokenizer tokenizer) {
        Checkpoints.save(gpt.weights(), dir, DType.F32, List.of(headTensor));
        Map<String, Object> config = Json.parseObject(gpt.config().toJson());
        boolean sequenceClassification = spec.task() == Task.CLASSIFICATION || spec.task() == Task.ENTAILMENT;
        if (sequenceClassification) {
            config.put("architectures", List.of(gpt.config().postLayerNorm() ? "OpenAIGPTForSequenceClassification"
                    : "GPT2ForSequenceClassification"));
        }
        SavedTask.putLabels(config, spec.labels());
        InputTransform t = spec.transform();
        config.put("pad_token_id", (long) t.start()); // HF pools the last token before padding; jgpt never pads inside
        Map<String, Object> task = new LinkedHashMap<>();
        task.put("task", spec.task().cliName());
        task.put("choices", (long) spec.choices());
        task.put("start_token_id", (long) t.start());
        task.put("delimiter_token_id", (long) t.delimiter());
        task.put("extract_token_id", (long) t.extract());
        task.put("max_length", (long) t.maxLength());
        config.put(SavedTask.KEY, task);
        try {
            tokenizer.save(dir);
            AtomicFiles.writeString(dir.resolve("config.json"), Json.write(config) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The task a folder written by {@link #save} was fine-tuned for. */
    public static Spec readSpec(Path dir) {
        Path configFile = dir.resolve("config.json");
        Map<String, Object> config = Json.parseFile(configFile);
        Map<?, ?> task = SavedTask.task(config, dir);
        List<String> labels = SavedTask.labels(config, configFile);
        InputTransform transform = new InputTransform(SavedTask.integer(task, "start_token_id", configFile),
                SavedTask.integer(task, "delimiter_token_id", configFile), SavedTask.integer(task, "extract_token_id", configFile),
                SavedTask.integer(task, "max_length", configFile));
        return new Spec(Task.parse(String.valueOf(task.get("task"))), labels, SavedTask.integer(task, "choices", configFile),
                transform);
    }

    /** Opens a folder written by {@link #save} for prediction (dropout off), on sequences of up to {@code seqLen}. */
    public static TaskModel load(Path dir, int examplesPerForward, int seqLen) {
        Spec spec = readSpec(dir);
        InputTransform transform = spec.transform();
        try (GPT2Weights weights = Checkpoints.load(dir); Safetensors file = Safetensors.open(dir.resolve("model.safetensors"))) {
            TaskModel model = new TaskModel(weights.config(), spec, examplesPerForward, Math.min(seqLen, transform.maxLength()), 0f, 0f);
            model.gpt.load(weights);
            if (!file.names().contains("score.weight")) throw new IllegalArgumentException(file.file() + ": no score.weight");
            Tensor score = file.tensor("score.weight");
            if (!Arrays.equals(score.shape(), model.headTensor.shape())) {
                throw new IllegalArgumentException(file.file() + ": score.weight has shape " + Arrays.toString(score.shape())
                        + ", the task needs " + Arrays.toString(model.headTensor.shape()));
            }
            for (int i = 0; i < model.head.value().length; i++) model.head.value()[i] = score.get(i);
            return model;
        }
    }
}
