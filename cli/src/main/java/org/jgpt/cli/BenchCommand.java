package org.jgpt.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgpt.io.Json;
import org.jgpt.kernel.DType;
import org.jgpt.kernel.Parallel;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.model.KVCache;
import org.jgpt.model.LayerWeights;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times the forward pass and prints one JSON line with tokens_per_second.",
                "decode: prefill a prompt, then time single-token steps; prefill: time one forward over the prompt.",
                "A short untimed prefill and a few decode steps warm the JIT first."})
final class BenchCommand implements Callable<Integer> {
    enum Mode { decode, prefill }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODE", description = "decode or prefill.")
    Mode mode;

    @ArgGroup
    Source source = new Source();

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "Model directory to load.")
        Path modelDir;

        @Option(names = "--preset", paramLabel = "NAME", description = "Random weights of a GPT-2 size (gpt2, gpt2-medium, ...; default gpt2).")
        String preset;
    }

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16", description = "Element type of the random weights (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--prompt", paramLabel = "N", description = "Prompt tokens (default 512 for prefill, 64 for decode).")
    Integer prompt;

    @Option(names = "--tokens", defaultValue = "64", paramLabel = "N", description = "Decode steps to time (default ${DEFAULT-VALUE}).")
    int tokens;

    @Override
    public Integer call() throws Exception {
        int promptTokens = prompt != null ? prompt : mode == Mode.prefill ? 512 : 64;
        if (promptTokens < 1) throw new IllegalArgumentException("--prompt must be at least 1");
        if (tokens < 1) throw new IllegalArgumentException("--tokens must be at least 1");
        DType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16 or bf16, not '" + dtype + "'");
        };
        if (source.modelDir != null && spec.commandLine().getParseResult().hasMatchedOption("--dtype")) {
            throw new IllegalArgumentException("--dtype applies to --preset's random weights; a --model keeps its own");
        }
        String name = source.modelDir != null ? source.modelDir.toString()
                : (source.preset != null ? source.preset : "gpt2") + " (random)";
        try (GPT2Weights weights = source.modelDir != null ? ModelDirectory.open(source.modelDir).weights()
                : randomWeights(GPT2Config.preset(source.preset != null ? source.preset : "gpt2"), type)) {
            GPT2Config config = weights.config();
            int steps = mode == Mode.decode ? tokens : 0;
            if (promptTokens + steps > config.nPositions()) {
                throw new IllegalArgumentException("prompt " + promptTokens + " + tokens " + steps
                        + " exceed the model's context of " + config.nPositions());
            }
            GPT2Model model = new GPT2Model(weights);
            int[] promptIds = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) promptIds[i] = (i * 7919) % config.vocabSize();
            float[] logits = new float[config.vocabSize()];

            // Warm-up, untimed: a short prefill and a few single-token steps, so that both paths are compiled.
            KVCache[] warmUp = {model.newCache(Math.min(config.nPositions(), 24))};
            model.forward(new int[][] {Arrays.copyOf(promptIds, Math.min(promptTokens, 16))}, warmUp, logits);
            for (int i = 0; i < 4 && warmUp[0].length() < warmUp[0].capacity(); i++) {
                model.forward(new int[][] {{argmax(logits)}}, warmUp, logits);
            }

            KVCache cache = model.newCache(promptTokens + steps);
            long start = System.nanoTime();
            model.forward(new int[][] {promptIds}, new KVCache[] {cache}, logits);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (mode == Mode.decode) {
                int[][] next = {new int[1]};
                KVCache[] caches = {cache};
                start = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    next[0][0] = argmax(logits);
                    model.forward(next, caches, logits);
                }
                seconds = (System.nanoTime() - start) / 1e9;
            }
            int timed = mode == Mode.decode ? steps : promptTokens;
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mode", mode.name());
            result.put("model", name);
            result.put("dtype", weights.wte().dtype().name().toLowerCase(Locale.ROOT));
            result.put("threads", Parallel.threads());
            result.put("prompt", promptTokens);
            result.put("tokens", timed);
            result.put("seconds", seconds);
            result.put("tokens_per_second", timed / seconds);
            result.put("weight_bytes", weightBytes(weights));
            spec.commandLine().getOut().println(Json.write(result));
            return 0;
        }
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static long weightBytes(GPT2Weights w) {
        long bytes = w.wte().data().byteSize() + w.wpe().data().byteSize() + w.lnFWeight().data().byteSize()
                + w.lnFBias().data().byteSize() + (w.tied() ? 0 : w.lmHead().data().byteSize());
        for (LayerWeights l : w.layers()) {
            for (Tensor t : new Tensor[] {l.ln1Weight(), l.ln1Bias(), l.attnWeight(), l.attnBias(), l.attnProjWeight(),
                    l.attnProjBias(), l.ln2Weight(), l.ln2Bias(), l.fcWeight(), l.fcBias(), l.fcProjWeight(), l.fcProjBias()}) {
                bytes += t.data().byteSize();
            }
        }
        return bytes;
    }

    private static GPT2Weights randomWeights(GPT2Config config, DType type) {
        return GPT2Weights.random(config, 1234, type);
    }
}
