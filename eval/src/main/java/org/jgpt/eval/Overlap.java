package org.jgpt.eval;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.jgpt.io.Json;

/**
 * The GPT-2 paper's overlap analysis: the 8-grams of the training text go into a {@link BloomFilter}; a test set's
 * overlap is the share of its 8-grams found there, overall and per document. Files are streamed, never loaded.
 *
 * <p>Documents: in a {@code .jsonl} file each line is one (its {@code field}, "text" by default); in any other
 * file they are separated by lines equal to {@code separator} ("---", as {@code jgpt generate} separates its
 * samples), and a file without such a line is one document.
 */
public final class Overlap {
    private Overlap() {}

    /** How a file is cut into documents. */
    public record Format(String separator, String jsonField) {
        public static final Format DEFAULT = new Format("---", "text");
    }

    public record BuildReport(BloomFilter filter, long bytes, long ngrams, double seconds) {
        public double megabytesPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    /** @param overlaps percent of each document's 8-grams found in the filter (documents with none left out) */
    public record FileReport(Path file, int documents, long ngrams, long found, double[] overlaps) {
        public double percent() {
            return ngrams == 0 ? 0 : 100.0 * found / ngrams;
        }
    }

    public record CheckReport(List<FileReport> files, long bytes, double seconds) {
        public double megabytesPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    /** Two passes over the training files: one counts their 8-grams to size the filter, one fills it. */
    public static BuildReport build(List<Path> files, double falsePositiveRate, Format format, Progress progress)
            throws IOException {
        long start = System.nanoTime();
        long total = totalSize(files);
        long[] count = {0};
        progress.start("counting 8-grams", total);
        for (Path file : files) readDocuments(file, format, progress, new Ngrams(key -> count[0]++), null);
        BloomFilter filter = BloomFilter.forCapacity(count[0], falsePositiveRate);
        progress.start("filling the filter", total);
        for (Path file : files) readDocuments(file, format, progress, new Ngrams(filter::add), null);
        return new BuildReport(filter, 2 * total, count[0], (System.nanoTime() - start) / 1e9);
    }

    public static CheckReport check(BloomFilter filter, List<Path> files, Format format, Progress progress)
            throws IOException {
        long start = System.nanoTime();
        long total = totalSize(files);
        progress.start("checking 8-grams", total);
        List<FileReport> reports = new ArrayList<>();
        for (Path file : files) {
            long[] counts = new long[2]; // n-grams, found: of the current document
            long[] fileCounts = new long[2];
            List<Double> overlaps = new ArrayList<>();
            int[] documents = {0};
            Ngrams ngrams = new Ngrams(key -> {
                counts[0]++;
                if (filter.mightContain(key)) counts[1]++;
            });
            readDocuments(file, format, progress, ngrams, () -> {
                documents[0]++;
                if (counts[0] > 0) overlaps.add(100.0 * counts[1] / counts[0]);
                fileCounts[0] += counts[0];
                fileCounts[1] += counts[1];
                counts[0] = counts[1] = 0;
            });
            reports.add(new FileReport(file, documents[0], fileCounts[0], fileCounts[1],
                    overlaps.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return new CheckReport(reports, total, (System.nanoTime() - start) / 1e9);
    }

    /** The value at quantile q (0..1) of the sorted values, by the nearest rank; 0 for none. */
    public static double quantile(double[] values, double q) {
        if (values.length == 0) return 0;
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static long totalSize(List<Path> files) throws IOException {
        long total = 0;
        for (Path file : files) {
            try {
                total += Files.size(file);
            } catch (NoSuchFileException e) {
                throw new IOException(file + ": no such file");
            }
        }
        return total;
    }

    /** Streams a file's documents into {@code ngrams}, calling {@code endOfDocument} after each. */
    private static void readDocuments(Path file, Format format, Progress progress, Ngrams ngrams,
                                      Runnable endOfDocument) throws IOException {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try (InputStream in = new CountingStream(Files.newInputStream(file), progress);
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, utf8), 1 << 16)) {
            String line;
            int lineNumber = 0;
            boolean open = false;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (jsonl) {
                    if (line.isBlank()) continue;
                    ngrams.accept(jsonText(file, lineNumber, line, format.jsonField()));
                    endDocument(ngrams, endOfDocument);
                } else if (line.equals(format.separator())) {
                    endDocument(ngrams, endOfDocument);
                    open = false;
                } else {
                    ngrams.accept(line);
                    ngrams.accept("\n");
                    open = true;
                }
            }
            if (open) endDocument(ngrams, endOfDocument);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(file + " is not valid UTF-8");
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
    }

    private static void endDocument(Ngrams ngrams, Runnable endOfDocument) {
        ngrams.endDocument();
        if (endOfDocument != null) endOfDocument.run();
    }

    private static String jsonText(Path file, int line, String json, String field) {
        Map<String, Object> record;
        try {
            record = Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ":" + line + ": " + e.getMessage());
        }
        if (!(record.get(field) instanceof String text)) {
            throw new IllegalArgumentException(file + ":" + line + ": no string field \"" + field + "\"");
        }
        return text;
    }

    /** Reports the bytes read to the progress. */
    private static final class CountingStream extends FilterInputStream {
        private final Progress progress;

        CountingStream(InputStream in, Progress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) progress.step(1);
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) progress.step(n);
            return n;
        }
    }

    /** Every 8-gram key of a short text, in order (one document). */
    public static long[] keys(String text) {
        List<Long> keys = new ArrayList<>();
        LongConsumer add = keys::add;
        Ngrams ngrams = new Ngrams(add);
        ngrams.accept(text);
        ngrams.endDocument();
        return keys.stream().mapToLong(Long::longValue).toArray();
    }
}
