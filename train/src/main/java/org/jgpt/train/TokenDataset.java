package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * One split (train or val) of a prepared corpus: its shards seen as one long token stream. Made by
 * {@link CorpusPreparer}; described by the directory's {@code manifest.json}.
 */
public final class TokenDataset implements AutoCloseable {
    static final String MANIFEST = "manifest.json";
    static final String TOKENIZER = "tokenizer";

    private final List<TokenShard> shards;
    private final long[] starts;
    private final long size;
    private final int vocabSize;

    private TokenDataset(List<TokenShard> shards, int vocabSize) {
        this.shards = List.copyOf(shards);
        this.vocabSize = vocabSize;
        this.starts = new long[shards.size() + 1];
        for (int i = 0; i < shards.size(); i++) starts[i + 1] = starts[i] + shards.get(i).size();
        this.size = starts[shards.size()];
    }

    /** Opens split {@code "train"} or {@code "val"} of a prepared directory. */
    @SuppressWarnings("unchecked")
    public static TokenDataset open(Path dir, String split) throws IOException {
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new IOException(dir + " is not a prepared corpus: " + manifestFile.getFileName() + " is missing (run jgpt prepare)");
        }
        Map<String, Object> manifest;
        try {
            manifest = Json.parseObject(Files.readString(manifestFile));
        } catch (IllegalArgumentException e) {
            throw new IOException(manifestFile + ": " + e.getMessage(), e);
        }
        if (!(manifest.get(split) instanceof List<?> entries)) {
            throw new IOException(manifestFile + ": no \"" + split + "\" list of shards");
        }
        int vocabSize = ((Number) manifest.get("vocab_size")).intValue();
        List<TokenShard> shards = new ArrayList<>();
        try {
            for (Object entry : entries) {
                Map<String, Object> shard = (Map<String, Object>) entry;
                TokenShard opened = TokenShard.open(dir.resolve((String) shard.get("file")));
                shards.add(opened);
                long expected = ((Number) shard.get("tokens")).longValue();
                if (opened.size() != expected) {
                    throw new IOException(opened.file() + ": holds " + opened.size() + " tokens, the manifest says " + expected);
                }
            }
        } catch (IOException | RuntimeException e) {
            shards.forEach(TokenShard::close);
            throw e;
        }
        return new TokenDataset(shards, vocabSize);
    }

    /** The tokenizer the corpus was prepared with, saved in its directory. */
    public static GPT2Tokenizer tokenizer(Path dir) {
        return GPT2Tokenizer.fromDirectory(dir.resolve(TOKENIZER));
    }

    /** Total number of tokens in this split. */
    public long size() {
        return size;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** Copies tokens {@code [start, start + count)} of the split's stream into {@code out[offset...]}. */
    public void read(long start, int[] out, int offset, int count) {
        if (start < 0 || start + count > size) {
            throw new IndexOutOfBoundsException("tokens [" + start + ", " + (start + count) + ") of " + size);
        }
        int shard = shardOf(start);
        long local = start - starts[shard];
        for (int i = 0; i < count; i++) {
            while (local >= shards.get(shard).size()) {
                shard++;
                local = 0;
            }
            out[offset + i] = shards.get(shard).get(local++);
        }
    }

    private int shardOf(long position) {
        int lo = 0;
        int hi = shards.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= position) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    @Override
    public void close() {
        shards.forEach(TokenShard::close);
    }
}
