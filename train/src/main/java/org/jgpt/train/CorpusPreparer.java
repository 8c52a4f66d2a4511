package org.jgpt.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.GPT2Tokenizer;

/**
 * Tokenizes a corpus into train and validation token shards, as {@code jgpt prepare} does.
 *
 * <p>A document is a file, or one line of a {@code .jsonl} file (its {@code "text"} field). Directories are walked
 * in name order. Every document is preceded by the tokenizer's {@link GPT2Tokenizer#documentSeparator() document
 * separator}, so documents are separated as in GPT-2's training data ({@code <|endoftext|>}) or, in a RoBERTa-style
 * vocabulary, as in RoBERTa's full-sentence packing ({@code </s>}). The split is by document and deterministic: the
 * last documents in input order go to validation (for SOTU's year-named files, the most recent addresses). The
 * tokenizer's files are saved beside the shards, so the directory is all a training run needs. The output directory
 * appears whole or not at all.
 */
public final class CorpusPreparer {

    /** Receives progress in input bytes. */
    public interface Progress {
        void update(long doneBytes, long totalBytes);
    }

    /** What was written. */
    public record Summary(int trainDocuments, int valDocuments, long trainTokens, long valTokens, long bytes) {}

    private record Document(Path file, String jsonText, long bytes) {}

    private CorpusPreparer() {}

    public static Summary prepare(List<Path> inputs, Path outDir, GPT2Tokenizer tokenizer, double valFraction,
                                  int shardTokens, Progress progress) throws IOException {
        if (valFraction < 0 || valFraction >= 1) throw new IllegalArgumentException("--val-fraction must be in [0, 1): " + valFraction);
        if (shardTokens <= 0) throw new IllegalArgumentException("shard size must be positive: " + shardTokens);
        if (tokenizer.vocabSize() > 65536) {
            throw new IllegalArgumentException("vocabulary of " + tokenizer.vocabSize() + " does not fit uint16 token shards");
        }
        if (Files.exists(outDir) && (!Files.isDirectory(outDir) || Directories.isNonEmptyDirectory(outDir))) {
            throw new IOException(outDir + " exists and is not an empty directory; choose another --out");
        }
        int separator = tokenizer.documentSeparator();
        List<Document> documents = documents(inputs);
        if (documents.isEmpty()) throw new IOException("no documents found in " + inputs);
        int valDocuments = (int) Math.round(documents.size() * valFraction);
        if (valFraction > 0 && valDocuments == 0 && documents.size() > 1) valDocuments = 1;
        int trainDocuments = documents.size() - valDocuments;
        long totalBytes = documents.stream().mapToLong(Document::bytes).sum();

        Path absoluteOut = outDir.toAbsolutePath();
        Path temp = absoluteOut.resolveSibling(absoluteOut.getFileName() + ".partial");
        Directories.deleteRecursively(temp);
        Files.createDirectories(temp);
        try {
            ShardWriter train = new ShardWriter(temp, "train", shardTokens);
            ShardWriter val = new ShardWriter(temp, "val", shardTokens);
            long doneBytes = 0;
            for (int i = 0; i < documents.size(); i++) {
                Document doc = documents.get(i);
                int[] ids = doc.jsonText != null ? tokenizer.encode(doc.jsonText) : tokenizer.encode(Files.readAllBytes(doc.file));
                ShardWriter split = i < trainDocuments ? train : val;
                split.add(separator);
                for (int id : ids) split.add(id);
                doneBytes += doc.bytes;
                if (progress != null) progress.update(doneBytes, totalBytes);
            }
            train.finish();
            val.finish();
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("format", "llm.c token shards: 256 int32 header (magic 20240520, version 1, count), uint16 tokens");
            manifest.put("vocab_size", tokenizer.vocabSize());
            manifest.put("eot_token", separator);
            manifest.put("train_documents", trainDocuments);
            manifest.put("val_documents", valDocuments);
            manifest.put("train", train.entries);
            manifest.put("val", val.entries);
            tokenizer.save(temp.resolve(TokenDataset.TOKENIZER));
            Files.writeString(temp.resolve(TokenDataset.MANIFEST), Json.write(manifest) + "\n");
            if (Files.exists(absoluteOut)) Files.delete(absoluteOut);
            Files.move(temp, absoluteOut);
            return new Summary(trainDocuments, valDocuments, train.total, val.total, totalBytes);
        } catch (IOException | RuntimeException e) {
            Directories.deleteRecursively(temp);
            throw e;
        }
    }

    private static List<Document> documents(List<Path> inputs) throws IOException {
        List<Document> documents = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                List<Path> files;
                try (Stream<Path> walk = Files.walk(input)) {
                    files = walk.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).toList();
                }
                for (Path file : files) addFile(documents, file);
            } else if (Files.isRegularFile(input)) {
                addFile(documents, input);
            } else {
                throw new IOException(input + ": no such file or directory");
            }
        }
        return documents;
    }

    private static void addFile(List<Document> documents, Path file) throws IOException {
        if (!file.getFileName().toString().endsWith(".jsonl")) {
            documents.add(new Document(file, null, Files.size(file)));
            return;
        }
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) continue;
                Object text;
                try {
                    text = Json.parseObject(line).get("text");
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + ":" + lineNumber + ": " + e.getMessage(), e);
                }
                if (!(text instanceof String s)) throw new IOException(file + ":" + lineNumber + ": no string field \"text\"");
                documents.add(new Document(file, s, line.length()));
            }
        }
    }

    /** Buffers one split's tokens and writes a shard each time the buffer fills. */
    private static final class ShardWriter {
        private final Path dir;
        private final String split;
        private final int[] buffer;
        private final List<Map<String, Object>> entries = new ArrayList<>();
        private int filled;
        private long total;

        ShardWriter(Path dir, String split, int shardTokens) {
            this.dir = dir;
            this.split = split;
            this.buffer = new int[shardTokens];
        }

        void add(int token) throws IOException {
            buffer[filled++] = token;
            total++;
            if (filled == buffer.length) flush();
        }

        void finish() throws IOException {
            if (filled > 0) flush();
        }

        private void flush() throws IOException {
            String name = String.format("%s_%06d.bin", split, entries.size());
            TokenShard.write(dir.resolve(name), buffer, filled);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("file", name);
            entry.put("tokens", filled);
            entries.add(entry);
            filled = 0;
        }
    }
}
