package org.jgpt.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * A tokenizer that travels to the executors as its files' bytes (a model folder need not exist on every machine),
 * loaded once per executor JVM by the same {@link GPT2Tokenizer#fromDirectory} that {@code jgpt prepare} uses.
 *
 * @param files the model folder's tokenizer files by name, or null for GPT-2's built-in tokenizer
 */
public record ShippedTokenizer(Map<String, byte[]> files) implements Serializable {
    private static final Map<ShippedTokenizer, GPT2Tokenizer> LOADED = new ConcurrentHashMap<>();

    public static ShippedTokenizer of(Path modelDir) throws IOException {
        if (modelDir == null) return new ShippedTokenizer(null);
        GPT2Tokenizer.fromDirectory(modelDir); // a clear error on the driver, before any task
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : new String[] {"tokenizer.json", "vocab.json", "merges.txt"}) {
            Path file = modelDir.resolve(name);
            if (Files.isRegularFile(file)) files.put(name, Files.readAllBytes(file));
        }
        return new ShippedTokenizer(files);
    }

    public GPT2Tokenizer tokenizer() {
        if (files == null) return GPT2Tokenizer.gpt2();
        return LOADED.computeIfAbsent(this, shipped -> {
            try {
                Path dir = Files.createTempDirectory("jgpt-tokenizer");
                for (Map.Entry<String, byte[]> file : files.entrySet()) Files.write(dir.resolve(file.getKey()), file.getValue());
                GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(dir);
                for (String name : files.keySet()) Files.delete(dir.resolve(name));
                Files.delete(dir);
                return tokenizer;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ShippedTokenizer other)) return false;
        if (files == null || other.files == null) return files == other.files;
        if (!files.keySet().equals(other.files.keySet())) return false;
        for (String name : files.keySet()) if (!Arrays.equals(files.get(name), other.files.get(name))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        if (files == null) return 0;
        int h = files.keySet().hashCode();
        for (byte[] bytes : files.values()) h = 31 * h + Arrays.hashCode(bytes);
        return h;
    }
}
