package org.jgpt.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;
import org.jgpt.io.Json;
import org.jgpt.io.LineRanges;

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

        /** What {@code overlap build} prints once the filter is saved at {@code out}. */
        public String summary(Path out) {
            return String.format(Locale.ROOT, "%s: %d 8-grams, %d bits (%.1f MB), %d hashes, false-positive rate %.2g%n", out,
                    ngrams, filter.bitCount(), filter.bitCount() / 8e6, filter.hashCount(), filter.falsePositiveRate())
                    + String.format(Locale.ROOT, "read %.1f MB (two passes) in %.1f s: %.1f MB/s%n", bytes / 1e6,
                    seconds, megabytesPerSecond());
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

        /** What {@code overlap check} prints: a row per file, then the speed. */
        public String table() {
            StringBuilder out = new StringBuilder(String.format("%-32s %9s %12s %8s %8s %8s %8s%n", "file", "documents",
                    "8-grams", "found %", "doc p50", "doc p90", "doc max"));
            for (FileReport f : files) {
                out.append(String.format(Locale.ROOT, "%-32s %9d %12d %8.2f %8.2f %8.2f %8.2f%n", f.file().getFileName(),
                        f.documents(), f.ngrams(), f.percent(), quantile(f.overlaps(), 0.5),
                        quantile(f.overlaps(), 0.9), quantile(f.overlaps(), 1)));
            }
            out.append(String.format(Locale.ROOT, "read %.1f MB in %.1f s: %.1f MB/s%n", bytes / 1e6, seconds, megabytesPerSecond()));
            return out.toString();
        }

        /** What {@code overlap check} prints: the {@link #table}, or with {@code json} the {@link #toJson} on a line. */
        public String output(boolean json) {
            return json ? Json.write(toJson()) + "\n" : table();
        }

        /** What {@code overlap check --json} prints. */
        public Map<String, Object> toJson() {
            List<Object> rows = new ArrayList<>();
            for (FileReport f : files) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", f.file().toString());
                m.put("documents", f.documents());
                m.put("ngrams", f.ngrams());
                m.put("found", f.found());
                m.put("percent", f.percent());
                Map<String, Object> perDocument = new LinkedHashMap<>();
                for (double q : new double[] {0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1}) {
                    perDocument.put("p" + Math.round(q * 100), quantile(f.overlaps(), q));
                }
                m.put("document_percent_quantiles", perDocument);
                m.put("document_percents", f.overlaps());
                rows.add(m);
            }
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("files", rows);
            root.put("megabytes_per_second", megabytesPerSecond());
            return root;
        }
    }

    /** Two passes over the training files: one counts their 8-grams to size the filter, one fills it. */
    public static BuildReport build(List<Path> files, double falsePositiveRate, Format format, Progress progress)
            throws IOException {
        long start = System.nanoTime();
        long total = totalSize(files);
        long count = 0;
        progress.start("counting 8-grams", total);
        for (Path file : files) count += countNgrams(file, 0, Long.MAX_VALUE, format, progress);
        BloomFilter filter = BloomFilter.forCapacity(count, falsePositiveRate);
        progress.start("filling the filter", total);
        for (Path file : files) addNgrams(filter, file, 0, Long.MAX_VALUE, format, progress);
        return new BuildReport(filter, 2 * total, count, (System.nanoTime() - start) / 1e9);
    }

    public static CheckReport check(BloomFilter filter, List<Path> files, Format format, Progress progress)
            throws IOException {
        long start = System.nanoTime();
        long total = totalSize(files);
        progress.start("checking 8-grams", total);
        List<FileReport> reports = new ArrayList<>();
        for (Path file : files) reports.add(check(filter, file, 0, Long.MAX_VALUE, format, progress));
        return new CheckReport(reports, total, (System.nanoTime() - start) / 1e9);
    }

    /**
     * The 8-grams of the documents of {@code file} that start in the byte range {@code [start, end)}: the lines of a
     * {@code .jsonl} file are separate documents, any other file is read whole by the range that holds byte 0.
     */
    public static long countNgrams(Path file, long start, long end, Format format, Progress progress) throws IOException {
        long[] count = {0};
        readDocuments(file, start, end, format, progress, new Ngrams(key -> count[0]++), null);
        return count[0];
    }

    /** Adds the 8-grams of a byte range's documents (as {@link #countNgrams} reads them) to {@code filter}. */
    public static void addNgrams(BloomFilter filter, Path file, long start, long end, Format format, Progress progress)
            throws IOException {
        readDocuments(file, start, end, format, progress, new Ngrams(filter::add), null);
    }

    /** The overlap of a byte range's documents (as {@link #countNgrams} reads them); see {@link #merge}. */
    public static FileReport check(BloomFilter filter, Path file, long start, long end, Format format, Progress progress)
            throws IOException {
        long[] counts = new long[2]; // n-grams, found: of the current document
        long[] fileCounts = new long[2];
        List<Double> overlaps = new ArrayList<>();
        int[] documents = {0};
        Ngrams ngrams = new Ngrams(key -> {
            counts[0]++;
            if (filter.mightContain(key)) counts[1]++;
        });
        readDocuments(file, start, end, format, progress, ngrams, () -> {
            documents[0]++;
            if (counts[0] > 0) overlaps.add(100.0 * counts[1] / counts[0]);
            fileCounts[0] += counts[0];
            fileCounts[1] += counts[1];
            counts[0] = counts[1] = 0;
        });
        return new FileReport(file, documents[0], fileCounts[0], fileCounts[1],
                overlaps.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** One file's report from the reports of its byte ranges, in file order. */
    public static FileReport merge(Path file, List<FileReport> parts) {
        int documents = 0;
        long ngrams = 0;
        long found = 0;
        double[] overlaps = new double[0];
        for (FileReport part : parts) {
            documents += part.documents();
            ngrams += part.ngrams();
            found += part.found();
            int at = overlaps.length;
            overlaps = Arrays.copyOf(overlaps, at + part.overlaps().length);
            System.arraycopy(part.overlaps(), 0, overlaps, at, part.overlaps().length);
        }
        return new FileReport(file, documents, ngrams, found, overlaps);
    }

    /** The value at quantile q (0..1) of the sorted values, by the nearest rank; 0 for none. */
    public static double quantile(double[] values, double q) {
        if (values.length == 0) return 0;
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public static long totalSize(List<Path> files) throws IOException {
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

    /** Streams the documents of a byte range of a file into {@code ngrams}, calling {@code endOfDocument} after each. */
    private static void readDocuments(Path file, long start, long end, Format format, Progress progress, Ngrams ngrams,
                                      Runnable endOfDocument) throws IOException {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        if (!jsonl && start > 0) return;
        boolean[] open = {false};
        LineRanges.forEachLine(file, start, jsonl ? end : Long.MAX_VALUE, progress::step, (line, lineNumber) -> {
            if (jsonl) {
                if (line.isBlank()) return;
                ngrams.accept(jsonText(file, lineNumber, start, line, format.jsonField()));
                endDocument(ngrams, endOfDocument);
            } else if (line.equals(format.separator())) {
                endDocument(ngrams, endOfDocument);
                open[0] = false;
            } else {
                ngrams.accept(line);
                ngrams.accept("\n");
                open[0] = true;
            }
        });
        if (open[0]) endDocument(ngrams, endOfDocument);
    }

    private static void endDocument(Ngrams ngrams, Runnable endOfDocument) {
        ngrams.endDocument();
        if (endOfDocument != null) endOfDocument.run();
    }

    private static String jsonText(Path file, long line, long rangeStart, String json, String field) {
        String where = line > 0 ? file + ":" + line : file + " (a line after byte " + rangeStart + ")";
        Map<String, Object> record;
        try {
            record = Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
        if (!(record.get(field) instanceof String text)) {
            throw new IllegalArgumentException(where + ": no string field \"" + field + "\"");
        }
        return text;
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
