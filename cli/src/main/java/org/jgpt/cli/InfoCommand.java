package org.jgpt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.jgpt.io.Json;
import org.jgpt.io.Safetensors;
import org.jgpt.io.TensorFile;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.ElectraConfig;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jgpt info}: what a model folder holds, from its config.json and its weights' headers alone, as llama.cpp
 * prints at load: no weight is read.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        header = "Describe a model folder without loading it.",
        description = {"Prints what a model folder holds: the kind of model (GPT-2, GPT-1, an encoder, or a classifier"
                + " made by 'jgpt finetune'), its architecture, parameter count, the dtype and size of its weights,"
                + " context, vocabulary and tokenizer. Reads config.json, the weight files' headers and the tokenizer's"
                + " vocabulary; no weight is loaded."},
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt info",
                "  jgpt info --model models/demo --json"})
final class InfoCommand implements Callable<Integer> {
    /** Buffers that checkpoints carry beside the parameters: GPT-2's attention masks, RoBERTa's position ids. */
    private static final Pattern BUFFER = Pattern.compile("(.*\\.)?(attn\\.bias|attn\\.masked_bias|position_ids)");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (default: the built-in demo model).")
    Path modelDir;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        Path dir = modelDir != null ? modelDir : ModelDirectory.builtInModel();
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new IllegalArgumentException(dir + " has no config.json");
        Map<String, Object> config = Json.parseFile(configFile);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("path", dir.toString());
        describeModel(dir, config, info);
        describeWeights(dir, info);
        info.put("tokenizer", tokenizer(dir, config, info));
        print(info);
        return 0;
    }

    /** Kind, family, architecture and shape, from config.json, checked by the config classes that load it. */
    private static void describeModel(Path dir, Map<String, Object> config, Map<String, Object> info) {
        Path configFile = dir.resolve("config.json");
        String architecture = config.get("architectures") instanceof List<?> list && !list.isEmpty()
                ? String.valueOf(list.getFirst()) : null;
        boolean classifier = architecture != null && architecture.endsWith("ForSequenceClassification");
        if (ElectraConfig.describes(configFile)) {
            ElectraConfig c = ElectraConfig.load(configFile);
            info.put("kind", classifier ? "classifier" : "encoder");
            info.put("family", "ELECTRA");
            info.put("architecture", architecture != null ? architecture : "ElectraModel");
            shape(info, c.numLayers(), c.numHeads(), c.hiddenSize(), c.intermediateSize(), c.maxLength(), c.vocabSize());
            if (c.embeddingSize() != c.hiddenSize()) info.put("embedding_size", c.embeddingSize());
        } else if (EncoderConfig.describes(configFile)) {
            EncoderConfig c = EncoderConfig.load(configFile);
            info.put("kind", classifier ? "classifier" : "encoder");
            info.put("family", "RoBERTa");
            info.put("architecture", architecture != null ? architecture : "RobertaModel");
            shape(info, c.numLayers(), c.numHeads(), c.hiddenSize(), c.intermediateSize(), c.maxLength(), c.vocabSize());
            if (config.get("jgpt_objective") instanceof String objective) info.put("objective", objective);
            if (config.get("jgpt_pooling") instanceof String pooling) info.put("pooling", pooling);
            if (config.get("jgpt_languages") instanceof List<?> languages) info.put("languages", languages);
        } else {
            GPT2Config c = GPT2Config.load(configFile);
            boolean gpt1 = c.postLayerNorm();
            info.put("kind", classifier ? "classifier" : "language model");
            info.put("family", gpt1 ? "GPT-1" : "GPT-2");
            info.put("architecture", architecture != null ? architecture : gpt1 ? "OpenAIGPTLMHeadModel" : "GPT2LMHeadModel");
            shape(info, c.nLayer(), c.nHead(), c.nEmbd(), c.innerDim(), c.nPositions(), c.vocabSize());
        }
        if (classifier && config.get("id2label") instanceof Map<?, ?> labels) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < labels.size(); i++) names.add(String.valueOf(labels.get(String.valueOf(i))));
            info.put("labels", names);
        }
        if (config.get("jgpt_task") instanceof Map<?, ?> task && task.get("task") != null) info.put("task", task.get("task"));
    }

    private static void shape(Map<String, Object> info, int layers, int heads, int width, int feedForward, int context,
                              int vocabulary) {
        info.put("layers", layers);
        info.put("heads", heads);
        info.put("hidden_size", width);
        info.put("intermediate_size", feedForward);
        info.put("context", context);
        info.put("vocab_size", vocabulary);
    }

    /** Parameter count, dtypes and bytes of the weight files, from their headers. */
    private static void describeWeights(Path dir, Map<String, Object> info) {
        List<Path> files = weightFiles(dir);
        long parameters = 0, bytes = 0;
        TreeSet<String> dtypes = new TreeSet<>();
        for (Path file : files) {
            Set<MemorySegment> storages = new HashSet<>();
            bytes += size(file);
            try (TensorFile tensors = TensorFile.open(file)) {
                for (String name : tensors.names()) {
                    if (BUFFER.matcher(name).matches()) continue;
                    if (tensors instanceof Safetensors safetensors) {
                        Safetensors.Entry entry = safetensors.entry(name);
                        parameters += count(entry.shape());
                        dtypes.add(entry.dtype());
                    } else {
                        Tensor tensor = tensors.tensor(name);
                        if (!storages.add(tensor.data())) continue; // a tied weight, saved once under two names
                        parameters += count(tensor.shape());
                        dtypes.add(tensor.dtype().name());
                    }
                }
            }
        }
        info.put("parameters", parameters);
        info.put("dtype", String.join("+", dtypes));
        info.put("weight_bytes", bytes);
        info.put("weight_files", files.stream().map(f -> f.getFileName().toString()).toList());
    }

    /** model.safetensors, pytorch_model.bin, or the shards an index names, as Checkpoints.load looks for them. */
    private static List<Path> weightFiles(Path dir) {
        for (String single : List.of("model.safetensors", "pytorch_model.bin")) {
            if (Files.isRegularFile(dir.resolve(single))) return List.of(dir.resolve(single));
        }
        for (String index : List.of("model.safetensors.index.json", "pytorch_model.bin.index.json")) {
            Path indexFile = dir.resolve(index);
            if (!Files.isRegularFile(indexFile)) continue;
            if (!(Json.parseFile(indexFile).get("weight_map") instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException(indexFile + " has no weight_map object");
            }
            return new TreeSet<>(map.values().stream().map(String::valueOf).toList()).stream().map(dir::resolve).toList();
        }
        throw new IllegalArgumentException(dir + " has no model.safetensors, pytorch_model.bin or sharded index");
    }

    /** The tokenizer the folder brings, as the commands would pick it. */
    private static Map<String, Object> tokenizer(Path dir, Map<String, Object> config, Map<String, Object> info) {
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        boolean gpt1 = GPT2Config.GPT1.equals(config.get("model_type"));
        Path vocab = dir.resolve("vocab.json");
        if (Files.isRegularFile(vocab)) {
            Map<String, Object> ids = Json.parseFile(vocab);
            String type = gpt1 ? "GPT-1 BPE (lower-cased words)"
                    : ids.containsKey("<mask>") ? "byte-level BPE with RoBERTa's special tokens" : "byte-level BPE";
            tokenizer.put("type", type);
            tokenizer.put("size", ids.size());
            tokenizer.put("files", Files.isRegularFile(dir.resolve("merges.txt")) ? List.of("vocab.json", "merges.txt")
                    : List.of("vocab.json"));
        } else if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            tokenizer.put("type", "byte-level BPE");
            tokenizer.put("files", List.of("tokenizer.json"));
        } else if ("GPT-2".equals(info.get("family")) && Integer.valueOf(50257).equals(info.get("vocab_size"))) {
            tokenizer.put("type", "GPT-2's built-in byte-level BPE (r50k_base)");
            tokenizer.put("size", 50257);
            tokenizer.put("files", List.of());
        } else {
            tokenizer.put("type", "none: vocab.json and merges.txt are missing");
            tokenizer.put("files", List.of());
        }
        return tokenizer;
    }

    private void print(Map<String, Object> info) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(info));
            out.flush();
            return;
        }
        long parameters = (Long) info.get("parameters");
        @SuppressWarnings("unchecked") Map<String, Object> tokenizer = (Map<String, Object>) info.get("tokenizer");
        @SuppressWarnings("unchecked") List<String> files = (List<String>) info.get("weight_files");
        Map<String, String> rows = new LinkedHashMap<>();
        rows.put("model", info.get("family") + " " + info.get("kind") + " (" + info.get("architecture") + ")");
        if (info.containsKey("task")) rows.put("task", info.get("task") + ", labels " + info.get("labels"));
        else if (info.containsKey("labels")) rows.put("labels", String.valueOf(info.get("labels")));
        for (String key : List.of("objective", "pooling", "languages")) {
            if (info.containsKey(key)) rows.put(key, String.valueOf(info.get(key)));
        }
        rows.put("parameters", String.format(Locale.ROOT, "%,d (%s)", parameters, human(parameters)));
        rows.put("weights", info.get("dtype") + ", " + bytes((Long) info.get("weight_bytes")) + " in "
                + (files.size() == 1 ? files.getFirst() : files.size() + " shards"));
        rows.put("layers", String.format(Locale.ROOT, "%d, %d heads, hidden size %d, feed-forward %d", info.get("layers"),
                info.get("heads"), info.get("hidden_size"), info.get("intermediate_size")));
        rows.put("context", info.get("context") + " tokens");
        rows.put("vocabulary", String.format(Locale.ROOT, "%,d tokens", info.get("vocab_size")));
        @SuppressWarnings("unchecked") List<String> tokenizerFiles = (List<String>) tokenizer.get("files");
        rows.put("tokenizer", tokenizer.get("type") + (tokenizer.containsKey("size")
                ? String.format(Locale.ROOT, ", %,d tokens", tokenizer.get("size")) : "")
                + (tokenizerFiles.isEmpty() ? "" : " (" + String.join(", ", tokenizerFiles) + ")"));
        out.println(info.get("path"));
        for (Map.Entry<String, String> row : rows.entrySet()) out.printf("  %-12s %s%n", row.getKey(), row.getValue());
        out.flush();
    }

    private static String human(long parameters) {
        if (parameters >= 1e9) return String.format(Locale.ROOT, "%.2fB", parameters / 1e9);
        if (parameters >= 1e6) return String.format(Locale.ROOT, "%.1fM", parameters / 1e6);
        return String.format(Locale.ROOT, "%.1fK", parameters / 1e3);
    }

    private static String bytes(long n) {
        if (n >= 1e9) return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
        if (n >= 1e6) return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        return String.format(Locale.ROOT, "%.1f KB", n / 1e3);
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
