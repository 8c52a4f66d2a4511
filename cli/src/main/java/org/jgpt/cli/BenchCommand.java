package org.jgpt.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.MemoryBandwidth;
import org.jgpt.kernel.Parallel;
import org.jgpt.kernel.Q8Matrix;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.KVCache;
import org.jgpt.model.LayerWeights;
import org.jgpt.train.TrainingBenchmark;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Time decoding, prefill or training steps; one JSON line.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt bench decode --preset gpt2 --dtype bf16",
                "  jgpt bench prefill --model models/demo --prompt 256",
                "  jgpt bench train --objective mlm --steps 3"},
        description = "Times the forward pass and prints one JSON line with tokens_per_second. decode: prefill a"
                + " prompt, then time single-token steps, each followed by a pass of a memory bandwidth probe; of"
                + " --repeats such rounds, the one with the median fraction of the bandwidth roofline counts. prefill:"
                + " time forwards over the prompt, the best of --repeats. Untimed runs of the same work (at most 16"
                + " decode steps, or five prefills) warm the JIT first.")
final class BenchCommand implements Callable<Integer> {
    enum Mode { decode, prefill, train }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODE", description = "decode, prefill or train.")
    Mode mode;

    @ArgGroup
    Source source = new Source();

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "Model directory to load (default: random weights of --preset).")
        Path modelDir;

        @Option(names = "--preset", paramLabel = "NAME", description = "Random weights of a GPT-2 size: gpt2, gpt2-medium, ... (default: gpt2).")
        String preset;
    }

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16|q8_0", description = "Element type of the"
            + " random weights (default: ${DEFAULT-VALUE}); q8_0: F32 weights quantized at load, as generate's --dtype q8_0"
            + " (which applies to a --model too).")
    String dtype;

    @Option(names = "--prompt", paramLabel = "N", description = "Prompt tokens (default 512 for prefill, 64 for decode).")
    Integer prompt;

    @Option(names = "--tokens", defaultValue = "64", paramLabel = "N", description = "Decode steps to time (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N", description = "Timed rounds: prefill, the best counts; decode, the median (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "B", description = "train: sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "256", paramLabel = "T", description = "train: tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--objective", defaultValue = "clm", paramLabel = "NAME", description = "train: clm (GPT-2), mlm"
            + " (a RoBERTa-base encoder, 15%% of positions predicted) or rtd (ELECTRA-small's discriminator and its"
            + " generator 1/4 as wide, vocabulary 30522, 15%% of positions replaced) (default: ${DEFAULT-VALUE}).")
    String objective;

    @Option(names = "--steps", defaultValue = "5", paramLabel = "N", description = "train: timed steps, after one untimed (default: ${DEFAULT-VALUE}).")
    int trainSteps;

    @Override
    public Integer call() throws Exception {
        if (mode == Mode.train) return benchTraining();
        int promptTokens = prompt != null ? prompt : mode == Mode.prefill ? 512 : 64;
        if (promptTokens < 1) throw new IllegalArgumentException("--prompt must be at least 1");
        if (tokens < 1) throw new IllegalArgumentException("--tokens must be at least 1");
        if (repeats < 1) throw new IllegalArgumentException("--repeats must be at least 1");
        boolean q8 = dtype.toLowerCase(Locale.ROOT).equals("q8_0");
        DType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "q8_0" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16, bf16 or q8_0, not '" + dtype + "'");
        };
        if (source.modelDir != null && !q8 && spec.commandLine().getParseResult().hasMatchedOption("--dtype")) {
            throw new IllegalArgumentException("--dtype f32, f16 and bf16 apply to --preset's random weights; a --model"
                    + " keeps its own (or takes q8_0)");
        }
        if (source.modelDir != null) ModelDirectory.requireGpt(source.modelDir, "bench " + mode + " cannot time");
        String name = source.modelDir != null ? source.modelDir.toString()
                : (source.preset != null ? source.preset : "gpt2") + " (random)";
        try (GPT2Weights weights = quantizedIf(q8, source.modelDir != null ? Checkpoints.load(source.modelDir)
                : randomWeights(GPT2Config.preset(source.preset != null ? source.preset : "gpt2"), type))) {
            GPT2Config config = weights.config();
            int steps = mode == Mode.decode ? tokens : 0;
            if (promptTokens + steps > config.nPositions()) {
                throw new IllegalArgumentException("prompt " + promptTokens + " + tokens " + steps
                        + " exceed the model's context of " + config.nPositions());
            }
            GPT2Model model = new GPT2Model(weights);
            int[] promptIds = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) promptIds[i] = (i * 7919) % config.vocabSize();
            long weightBytes = weightBytes(weights);
            // Each decoded token streams every weight once, except the position table (one row).
            long streamed = weightBytes - weights.wpe().data().byteSize();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mode", mode.name());
            result.put("model", name);
            result.put("dtype", weights.quantizedWte() != null ? "q8_0" : weights.wte().dtype().name().toLowerCase(Locale.ROOT));
            result.put("threads", Parallel.threads());
            result.put("prompt", promptTokens);
            int timed;
            double seconds;
            double bandwidth = 0;
            List<Double> fractions = List.of();
            if (mode == Mode.prefill) {
                // Untimed, so that what is timed runs compiled: C2 takes about five passes to settle on the kernels.
                for (int i = 0; i < 5; i++) prefill(model, promptIds);
                timed = promptTokens;
                seconds = Double.MAX_VALUE;
                for (int i = 0; i < repeats; i++) seconds = Math.min(seconds, prefill(model, promptIds));
            } else {
                try (MemoryBandwidth probe = new MemoryBandwidth(Math.clamp(streamed, 256L << 20, 1L << 30))) {
                    decode(model, promptIds, Math.min(steps, 16), probe);
                    // A shared machine's bandwidth and CPU time drift within a round: the median round is the figure.
                    double[][] rounds = new double[repeats][];
                    for (int i = 0; i < repeats; i++) rounds[i] = decode(model, promptIds, steps, probe);
                    double probeBytes = probe.bytes();
                    // A round's roofline fraction is its probe seconds over its decode seconds, times a constant.
                    Arrays.sort(rounds, Comparator.comparingDouble(r -> r[1] / r[0]));
                    fractions = Arrays.stream(rounds).mapToDouble(r -> streamed * r[1] / (r[0] * probeBytes))
                            .boxed().toList();
                    double[] median = rounds[(repeats - 1) / 2]; // of an even count, the lower middle one
                    timed = steps;
                    seconds = median[0];
                    bandwidth = probeBytes * steps / median[1];
                }
            }
            result.put("tokens", timed);
            result.put("seconds", seconds);
            result.put("tokens_per_second", timed / seconds);
            result.put("weight_bytes", weightBytes);
            if (mode == Mode.decode) {
                result.put("streamed_bytes_per_token", streamed);
                result.put("memory_bandwidth_gb_per_s", bandwidth / 1e9);
                result.put("roofline_tokens_per_second", bandwidth / streamed);
                result.put("roofline_fraction", timed / seconds / (bandwidth / streamed));
                result.put("roofline_fractions_of_rounds", fractions);
            }
            spec.commandLine().getOut().println(Json.write(result));
            return 0;
        }
    }

    private int benchTraining() throws Exception {
        if (batch < 1 || seq < 1 || trainSteps < 1) throw new IllegalArgumentException("--batch, --seq and --steps must be at least 1");
        if (!objective.equals("clm")) return benchEncoderTraining();
        GPT2Config config;
        String name;
        if (source.modelDir != null) {
            ModelDirectory.requireGpt(source.modelDir, "bench train --objective clm cannot time");
            config = GPT2Config.load(source.modelDir.resolve("config.json"));
            name = source.modelDir + " (config, random weights)";
        } else {
            String preset = source.preset != null ? source.preset : "gpt2";
            config = GPT2Config.preset(preset);
            name = preset + " (random)";
        }
        TrainingBenchmark.Result r = TrainingBenchmark.run(config, batch, seq, trainSteps, 1234);
        return printTraining(name, r);
    }

    /** One JSON line of a training benchmark's figures. */
    private int printTraining(String name, TrainingBenchmark.Result r) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "train");
        result.put("objective", objective);
        result.put("model", name);
        result.put("threads", Parallel.threads());
        result.put("batch", batch);
        result.put("seq", seq);
        result.put("steps", trainSteps);
        result.put("seconds_per_step", r.secondsPerStep());
        result.put("tokens_per_second", r.tokensPerSecond());
        result.put("model_gflops", r.modelGflops());
        result.put("gemm_gflops", r.gemmGflops());
        result.put("mfu", r.mfu());
        result.put("peak_rss_bytes", peakResidentBytes());
        spec.commandLine().getOut().println(Json.write(result));
        return 0;
    }

    private int benchEncoderTraining() {
        if (objective.equals("rtd")) return benchElectraTraining();
        if (!objective.equals("mlm")) throw new IllegalArgumentException("--objective: bench train times clm, mlm or rtd");
        if (source.modelDir != null || (source.preset != null && !source.preset.equals("roberta-base"))) {
            throw new IllegalArgumentException("bench train --objective mlm runs RoBERTa-base's shapes (--preset roberta-base)");
        }
        EncoderConfig config = EncoderConfig.robertaBase(50265);
        TrainingBenchmark.Result r = TrainingBenchmark.runEncoder(config, batch, seq, trainSteps, 0.15, 1234);
        return printTraining("roberta-base (random)", r);
    }

    /** ELECTRA-small as google/electra-small-discriminator (BERT's vocabulary of 30522), the generator 1/4 as wide. */
    private int benchElectraTraining() {
        if (source.modelDir != null || (source.preset != null && !source.preset.equals("electra-small"))) {
            throw new IllegalArgumentException("bench train --objective rtd runs ELECTRA-small's shapes (--preset electra-small)");
        }
        TrainingBenchmark.Result r = TrainingBenchmark.runElectra(ElectraConfig.small(30522, 0), 0.25, batch, seq,
                trainSteps, 0.15, 1234);
        return printTraining("electra-small (random)", r);
    }

    /** The process's peak resident set (VmHWM), or -1 where /proc is not there. */
    private static long peakResidentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Seconds of one forward over the prompt. */
    private static double prefill(GPT2Model model, int[] promptIds) {
        float[] logits = new float[model.config().vocabSize()];
        long start = System.nanoTime();
        model.forward(new int[][] {promptIds}, new KVCache[] {model.newCache(promptIds.length)}, logits);
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Prefills the prompt, then decodes {@code steps} tokens greedily, reading the bandwidth probe once after each:
     * the seconds of the steps and of the probe's reads. Interleaved, both see the same state of a shared machine.
     */
    private static double[] decode(GPT2Model model, int[] promptIds, int steps, MemoryBandwidth probe) {
        float[] logits = new float[model.config().vocabSize()];
        KVCache[] cache = {model.newCache(promptIds.length + steps)};
        model.forward(new int[][] {promptIds}, cache, logits);
        int[][] next = {new int[1]};
        double decodeSeconds = 0, probeSeconds = 0;
        for (int i = 0; i < steps; i++) {
            long start = System.nanoTime();
            next[0][0] = argmax(logits);
            model.forward(next, cache, logits);
            decodeSeconds += (System.nanoTime() - start) / 1e9;
            probeSeconds += probe.read();
        }
        return new double[] {decodeSeconds, probeSeconds};
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** The weights' bytes: tensors as stored, Q8_0 matrices as quants and scales (whose tensor fields are null). */
    private static long weightBytes(GPT2Weights w) {
        List<Tensor> tensors = new ArrayList<>(Arrays.asList(w.wte(), w.wpe(), w.lnFWeight(), w.lnFBias(),
                w.tied() ? null : w.lmHead()));
        for (LayerWeights l : w.layers()) {
            tensors.addAll(Arrays.asList(l.ln1Weight(), l.ln1Bias(), l.attnWeight(), l.attnBias(), l.attnProjWeight(),
                    l.attnProjBias(), l.ln2Weight(), l.ln2Bias(), l.fcWeight(), l.fcBias(), l.fcProjWeight(), l.fcProjBias()));
        }
        long bytes = 0;
        for (Tensor t : tensors) bytes += t == null ? 0 : t.data().byteSize();
        for (Q8Matrix q : w.quantized().values()) bytes += q.byteSize();
        return bytes;
    }

    /** {@code weights}, quantized to Q8_0 if {@code q8}; closed if that fails. */
    private static GPT2Weights quantizedIf(boolean q8, GPT2Weights weights) {
        if (!q8) return weights;
        try {
            return weights.quantizeQ8();
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static GPT2Weights randomWeights(GPT2Config config, DType type) {
        return GPT2Weights.random(config, 1234, type);
    }
}
