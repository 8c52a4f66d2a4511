package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jgpt.io.Json;
import org.jgpt.io.LineRanges;
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
    public record Summary(int trainDocuments, int valDocuments, long trainTokens, long valTokens, long bytes) {
        /** What {@code prepare} prints once the shards are written to {@code out}. */
        public String summary(Path out) {
            return String.format("%s: %d train documents (%,d tokens), %d validation documents (%,d tokens)%n", out,
                    trainDocuments, trainTokens, valDocuments, valTokens);
        }
    }

    /** One document: a whole file ({@code jsonText} null, read when tokenized) or one {@code .jsonl} record's text. */
    public record Document(Path file, String jsonText, long bytes) {
        /** The document's tokens, without the separator. */
        public int[] tokens(GPT2Tokenizer tokenizer) throws IOException {
            return jsonText != null ? tokenizer.encode(jsonText) : tokenizer.encode(Files.readAllBytes(file));
        }
    }

    private CorpusPreparer() {}

    public static Summary prepare(List<Path> inputs, Path outDir, GPT2Tokenizer tokenizer, double valFraction,
                                  int shardTokens, Progress progress) throws IOException {
        checkSettings(outDir, tokenizer, valFraction, shardTokens);
        List<Document> documents = new ArrayList<>();
        for (Path file : inputFiles(inputs)) documents.addAll(documents(file, 0, Long.MAX_VALUE));
        if (documents.isEmpty()) throw new IOException("no documents found in " + inputs);
        long totalBytes = documents.stream().mapToLong(Document::bytes).sum();
        try (Output output = new Output(outDir, tokenizer, valFraction, shardTokens)) {
            output.announce(documents.size());
            long doneBytes = 0;
            for (Document doc : documents) {
                output.add(doc.tokens(tokenizer), doc.bytes);
                doneBytes += doc.bytes;
                if (progress != null) progress.update(doneBytes, totalBytes);
            }
            return output.finish();
        }
    }

    /** The checks {@link #prepare} makes before reading anything, for other ways of running it. */
    public static void checkSettings(Path outDir, GPT2Tokenizer tokenizer, double valFraction, int shardTokens)
            throws IOException {
        if (valFraction < 0 || valFraction >= 1) throw new IllegalArgumentException("--val-fraction must be in [0, 1): " + valFraction);
        if (shardTokens <= 0) throw new IllegalArgumentException("shard size must be positive: " + shardTokens);
        if (tokenizer.vocabSize() > 65536) {
            throw new IllegalArgumentException("vocabulary of " + tokenizer.vocabSize() + " does not fit uint16 token shards");
        }
        if (Files.exists(outDir) && (!Files.isDirectory(outDir) || Directories.isNonEmptyDirectory(outDir))) {
            throw new IOException(outDir + " exists and is not an empty directory; choose another --out");
        }
    }

    /** The input files in the order their documents are read: directories walked in name order. */
    public static List<Path> inputFiles(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                try (Stream<Path> walk = Files.walk(input)) {
                    walk.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).forEach(files::add);
                }
            } else if (Files.isRegularFile(input)) {
                files.add(input);
            } else {
                throw new IOException(input + ": no such file or directory");
            }
        }
        return files;
    }

    /** Whether a file holds many documents, one a line, so that it can be read in byte ranges. */
    public static boolean isJsonl(Path file) {
        return file.getFileName().toString().endsWith(".jsonl");
    }

    /**
     * The documents of one input file: the whole file, or the records of a {@code .jsonl} file whose lines start in
     * {@code [start, end)} (a whole-file document belongs to the range that holds byte 0).
     */
    public static List<Document> documents(Path file, long start, long end) throws IOException {
        List<Document> documents = new ArrayList<>();
        if (!isJsonl(file)) {
            if (start == 0) documents.add(new Document(file, null, Files.size(file)));
            return documents;
        }
        LineRanges.forEachLine(file, start, end, null, (line, lineNumber) -> {
            if (line.isBlank()) return;
            String where = lineNumber > 0 ? file + ":" + lineNumber : file + " (a line after byte " + start + ")";
            Object text;
            try {
                text = Json.parseObject(line).get("text");
            } catch (IllegalArgumentException e) {
                throw new IOException(where + ": " + e.getMessage(), e);
            }
            if (!(text instanceof String s)) throw new IOException(where + ": no string field \"text\"");
            documents.add(new Document(file, s, line.length()));
        });
        return documents;
    }

    /**
     * The output directory being written: opening it saves the tokenizer, {@link #announce} says how many documents
     * will come, their tokens go in, in order, and {@link #finish} moves the shards and manifest into place. Closing it
     * unfinished removes what was written.
     */
    public static final class Output implements AutoCloseable {
        private final Path out;
        private final Path temp;
        private final GPT2Tokenizer tokenizer;
        private final double valFraction;
        private final int separator;
        private final ShardWriter train;
        private final ShardWriter val;
        private int documents = -1;
        private int trainDocuments;
        private int added;
        private long bytes;
        private boolean finished;

        /**
         * A temporary folder beside {@code outDir} with the tokenizer's files in it. Opening it before the document
         * count is known lets a caller that counts while tokenizing elsewhere (the Spark job) save the tokenizer
         * meanwhile.
         */
        public Output(Path outDir, GPT2Tokenizer tokenizer, double valFraction, int shardTokens) throws IOException {
            this.out = outDir.toAbsolutePath();
            this.temp = out.resolveSibling(out.getFileName() + ".partial");
            this.tokenizer = tokenizer;
            this.valFraction = valFraction;
            this.separator = tokenizer.documentSeparator();
            Directories.deleteRecursively(temp);
            Files.createDirectories(temp);
            tokenizer.save(temp.resolve(TokenDataset.TOKENIZER));
            this.train = new ShardWriter(temp, "train", shardTokens);
            this.val = new ShardWriter(temp, "val", shardTokens);
        }

        /** How many documents will be added, once, before the first: the last of them go to the validation split. */
        public void announce(int documents) throws IOException {
            if (this.documents >= 0) throw new IllegalStateException("the document count was already announced");
            if (documents == 0) throw new IOException("no documents found in the inputs");
            int valDocuments = (int) Math.round(documents * valFraction);
            if (valFraction > 0 && valDocuments == 0 && documents > 1) valDocuments = 1;
            this.documents = documents;
            this.trainDocuments = documents - valDocuments;
        }

        /** The next document's tokens (without the separator, which is added before them). */
        public void add(int[] tokens, long documentBytes) throws IOException {
            if (documents < 0) throw new IllegalStateException("announce the document count before adding documents");
            if (added == documents) throw new IllegalStateException("more documents than the " + documents + " announced");
            ShardWriter split = added < trainDocuments ? train : val;
            split.add(separator);
            for (int id : tokens) split.add(id);
            added++;
            bytes += documentBytes;
        }

        public Summary finish() throws IOException {
            if (added != documents) throw new IllegalStateException(added + " documents added of the " + documents + " announced");
            train.finish();
            val.finish();
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("format", "llm.c token shards: 256 int32 header (magic 20240520, version 1, count), uint16 tokens");
            manifest.put("vocab_size", tokenizer.vocabSize());
            manifest.put("eot_token", separator);
            manifest.put("train_documents", trainDocuments);
            manifest.put("val_documents", documents - trainDocuments);
            manifest.put("train", train.entries);
            manifest.put("val", val.entries);
            Files.writeString(temp.resolve(TokenDataset.MANIFEST), Json.write(manifest) + "\n");
            if (Files.exists(out)) Files.delete(out);
            Files.move(temp, out);
            finished = true;
            return new Summary(trainDocuments, documents - trainDocuments, train.total, val.total, bytes);
        }

        @Override
        public void close() throws IOException {
            if (!finished) Directories.deleteRecursively(temp);
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
