package org.jgpt.train.finetune;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.Tokenizer;
import org.jgpt.train.AdamW;
import org.jgpt.train.EncoderFolder;
import org.jgpt.train.LearningRateSchedule;

/**
 * GPT-1's supervised fine-tuning loop (Radford et al. 2018, §3.2 and §4.1): AdamW over the pre-trained model and the
 * task head, linear warmup then linear decay to 0, gradients accumulated over micro-batches to the batch size,
 * validation metrics after each epoch. The model is GPT-2 with GPT-1's head ({@link #train}) or a RoBERTa or ELECTRA
 * encoder with Hugging Face's sequence-classification head ({@link #trainEncoder}).
 */
public final class FineTuner {
    /**
     * @param batch       examples per optimizer step (the paper: 32)
     * @param microBatch  examples per forward; the batch is accumulated from them (memory, not maths)
     * @param lmWeight    λ, the weight of the auxiliary LM loss (the paper: 0.5; 0 turns it off)
     * @param maxLength   longest sequence; longer ones are truncated (see {@link InputTransform})
     */
    public record Settings(double learningRate, int batch, int microBatch, int epochs, double warmupFraction, float lmWeight,
                           float dropout, float headDropout, float weightDecay, float gradClip, int maxLength, long seed) {
        public Settings {
            if (batch <= 0 || microBatch <= 0 || epochs <= 0 || maxLength < 4) {
                throw new IllegalArgumentException("batch, micro-batch, epochs must be positive, max length at least 4");
            }
        }

        /**
         * The paper's: lr 6.25e-5, batch 32, 3 epochs, warmup over 0.2% of training then linear decay, λ 0.5,
         * dropout 0.1 (also on the head), weight decay 0.01; plus clipping at norm 1 (as Hugging Face's script).
         */
        public static Settings paper(int maxLength) {
            return new Settings(6.25e-5, 32, 8, 3, 0.002, 0.5f, 0.1f, 0.1f, 0.01f, 1f, maxLength, 42);
        }
    }

    /** Progress callbacks. */
    public interface Listener {
        void onStep(int step, int steps, int epoch, double loss, double taskLoss, double lmLoss, double learningRate);

        void onEpoch(int epoch, Metrics.Report validation);
    }

    private FineTuner() {}

    /**
     * The labels of a training set in class-index order: the answers' indices for CHOICE; otherwise sorted, by value
     * when every label is a number.
     */
    public static List<String> labels(Task task, List<Example> train) {
        if (task == Task.CHOICE) {
            List<String> indices = new ArrayList<>();
            for (int i = 0; i < train.getFirst().texts().size() - 1; i++) indices.add(Integer.toString(i));
            return indices;
        }
        Set<String> distinct = new LinkedHashSet<>();
        for (Example e : train) distinct.add(e.label());
        List<String> labels = new ArrayList<>(distinct);
        if (labels.stream().allMatch(FineTuner::isNumber)) labels.sort(Comparator.comparingDouble(Double::parseDouble));
        else Collections.sort(labels);
        if (labels.size() < 2) throw new IllegalArgumentException("the training set has only the label " + labels);
        return labels;
    }

    static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The result of {@link #train}: the model and how many examples were truncated. */
    public record Result(TaskModel model, int truncated) {}

    /** The result of {@link #trainEncoder}: the model and how many examples were truncated. */
    public record EncoderResult(EncoderTaskModel model, int truncated) {}

    /** Fine-tunes {@code base} on {@code train}, reporting on {@code valid} after each epoch. */
    public static Result train(GPT2Weights base, Tokenizer tokenizer, Task task, List<Example> train, List<Example> valid,
                               Settings s, Listener listener) {
        int maxLength = Math.min(s.maxLength(), base.config().nPositions());
        List<String> labels = labels(task, train);
        int choices = task == Task.CHOICE ? labels.size() : 0;
        TaskModel.Spec spec = new TaskModel.Spec(task, labels, choices,
                InputTransform.appendedTo(base.config().vocabSize(), maxLength));
        List<TaskModel.Encoded> trainSet = encode(spec, train, tokenizer);
        List<TaskModel.Encoded> validSet = encode(spec, valid, tokenizer);
        int seqLen = Math.max(TaskModel.longest(trainSet), TaskModel.longest(validSet));
        TaskModel model = TaskModel.fromPretrained(base, spec, microBatch(s), seqLen, s.dropout(), s.headDropout(), s.seed());
        fit(model, trainSet, validSet, s, listener);
        return new Result(model, truncated(trainSet) + truncated(validSet));
    }

    /**
     * Fine-tunes the RoBERTa or ELECTRA encoder saved in {@code encoder} on {@code train}, reporting on {@code valid}
     * after each epoch. Inputs are framed RoBERTa's way ({@link RobertaInput}); {@code tokenizer} is the encoder's.
     * There is no LM loss (the settings' LM weight must be 0), and the head takes the encoder's dropout (so must the
     * head dropout).
     */
    public static EncoderResult trainEncoder(Path encoder, GPT2Tokenizer tokenizer, Task task, List<Example> train,
                                             List<Example> valid, Settings s, Listener listener) {
        if (s.lmWeight() != 0) {
            throw new IllegalArgumentException("an encoder has no LM loss: the LM weight must be 0, not " + s.lmWeight());
        }
        if (s.headDropout() != s.dropout()) {
            throw new IllegalArgumentException("an encoder's head takes the encoder's dropout, " + s.dropout() + ", not "
                    + s.headDropout());
        }
        EncoderFolder folder = EncoderFolder.of(encoder);
        RobertaInput input = new RobertaInput(EncoderTaskModel.specialTokens(tokenizer, folder),
                Math.min(s.maxLength(), folder.maxLength()));
        var spec = new EncoderTaskModel.Spec(task, labels(task, train), input);
        List<TaskModel.Encoded> trainSet = encode(spec, train, tokenizer);
        List<TaskModel.Encoded> validSet = encode(spec, valid, tokenizer);
        int seqLen = Math.max(TaskModel.longest(trainSet), TaskModel.longest(validSet));
        EncoderTaskModel model = EncoderTaskModel.fromPretrained(encoder, spec, microBatch(s), seqLen, s.dropout(), s.seed());
        fit(model, trainSet, validSet, s, listener);
        return new EncoderResult(model, truncated(trainSet) + truncated(validSet));
    }

    private static int microBatch(Settings s) {
        return Math.min(s.microBatch(), s.batch());
    }

    private static int truncated(List<TaskModel.Encoded> examples) {
        int truncated = 0;
        for (TaskModel.Encoded e : examples) if (e.truncated()) truncated++;
        return truncated;
    }

    /** The loop itself: epochs of shuffled batches, each accumulated over micro-batches, then validation. */
    private static void fit(FineTunable model, List<TaskModel.Encoded> trainSet, List<TaskModel.Encoded> validSet, Settings s,
                            Listener listener) {
        int micro = microBatch(s);
        int stepsPerEpoch = (trainSet.size() + s.batch() - 1) / s.batch();
        int steps = stepsPerEpoch * s.epochs();
        int warmup = (int) Math.ceil(s.warmupFraction() * steps);
        var schedule = new LearningRateSchedule(s.learningRate(), 0, warmup, steps, LearningRateSchedule.Decay.LINEAR);
        var optimizer = new AdamW(model.parameters(), new AdamW.Settings(0.9f, 0.999f, 1e-8f, s.weightDecay(), true));
        Random shuffler = new Random(s.seed());
        List<TaskModel.Encoded> order = new ArrayList<>(trainSet);
        int step = 0;
        for (int epoch = 1; epoch <= s.epochs(); epoch++) {
            Collections.shuffle(order, shuffler);
            for (int from = 0; from < order.size(); from += s.batch()) {
                List<TaskModel.Encoded> batch = order.subList(from, Math.min(from + s.batch(), order.size()));
                model.zeroGrad();
                double taskLoss = 0, lmLoss = 0;
                for (int m = 0; m < batch.size(); m += micro) {
                    List<TaskModel.Encoded> part = batch.subList(m, Math.min(m + micro, batch.size()));
                    float share = (float) part.size() / batch.size();
                    TaskModel.Losses losses = model.trainStep(part, s.lmWeight(), share, s.seed() * 1_000_003L + step * 1009L + m);
                    taskLoss += share * losses.task();
                    lmLoss += share * losses.lm();
                }
                double lr = schedule.at(step);
                optimizer.step((float) lr, s.gradClip());
                step++;
                listener.onStep(step, steps, epoch, taskLoss + s.lmWeight() * lmLoss, taskLoss, lmLoss, lr);
            }
            listener.onEpoch(epoch, evaluate(model, validSet));
        }
    }

    /** Encodes examples for a spec (labels checked: an unknown one is an error naming its file and line). */
    public static List<TaskModel.Encoded> encode(TaskSpec spec, List<Example> examples, Tokenizer tokenizer) {
        List<TaskModel.Encoded> out = new ArrayList<>(examples.size());
        for (Example e : examples) out.add(spec.encode(e, tokenizer));
        return out;
    }

    /** Class probabilities for every example, [example][class]. */
    public static float[][] predict(FineTunable model, List<TaskModel.Encoded> examples) {
        float[][] out = new float[examples.size()][];
        for (int from = 0; from < examples.size(); from += model.examplesPerForward()) {
            int to = Math.min(from + model.examplesPerForward(), examples.size());
            float[][] part = model.predict(examples.subList(from, to));
            System.arraycopy(part, 0, out, from, part.length);
        }
        return out;
    }

    /**
     * Validation metrics of labelled examples: mean cross-entropy, accuracy, F1, MCC, and, when every label is a
     * number, Pearson and Spearman correlation of the expected label value Σ p(label)·label with the gold value.
     */
    public static Metrics.Report evaluate(FineTunable model, List<TaskModel.Encoded> examples) {
        float[][] probabilities = predict(model, examples);
        List<String> labels = model.spec().labels();
        int n = examples.size();
        int[] gold = new int[n], predicted = new int[n];
        double loss = 0;
        for (int i = 0; i < n; i++) {
            gold[i] = examples.get(i).label();
            predicted[i] = argmax(probabilities[i]);
            loss -= Math.log(Math.max(probabilities[i][gold[i]], Float.MIN_NORMAL));
        }
        double pearson = Double.NaN, spearman = Double.NaN;
        if (model.spec().task() != Task.CHOICE && labels.stream().allMatch(FineTuner::isNumber)) {
            double[] expected = new double[n], goldValue = new double[n];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < labels.size(); k++) expected[i] += probabilities[i][k] * Double.parseDouble(labels.get(k));
                goldValue[i] = Double.parseDouble(labels.get(gold[i]));
            }
            pearson = Metrics.pearson(expected, goldValue);
            spearman = Metrics.spearman(expected, goldValue);
        }
        int classes = labels.size();
        return new Metrics.Report(n, loss / n, Metrics.accuracy(gold, predicted), Metrics.f1(gold, predicted, classes),
                Metrics.mcc(gold, predicted, classes), pearson, spearman);
    }

    public static int argmax(float[] p) {
        int best = 0;
        for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
        return best;
    }
}
