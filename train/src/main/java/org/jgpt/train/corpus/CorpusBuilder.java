package org.jgpt.train.corpus;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jgpt.io.Json;
import org.jgpt.io.LineRanges;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.Directories;
import org.netpreserve.jwarc.HttpResponse;
import org.netpreserve.jwarc.MediaType;
import org.netpreserve.jwarc.WarcReader;
import org.netpreserve.jwarc.WarcRecord;
import org.netpreserve.jwarc.WarcResponse;

/**
 * A WebText-style corpus builder. Its stages, in order: read the inputs (HTML pages, WARC archives, {@code .jsonl}
 * records with a "text" and an optional "url" field, any other file as plain UTF-8 text), extract the main text of
 * HTML ({@link HtmlText}), leave out documents from excluded domains (Wikipedia by default, as the GPT-2 paper did)
 * and those shorter than a minimum of words, then drop exact duplicates (same normalised text) and near duplicates
 * ({@link MinHash}), keeping the first in corpus order. It writes {@code documents.jsonl} and {@code report.json}
 * (what each stage kept and dropped) into a new folder that appears whole or not at all.
 *
 * <p>The per-file step ({@link #readFile}) and the deduplication rules are the functions that the Spark job runs
 * too, so both give the same output: corpus order is (input file, record within it), and every rule depends on it
 * alone.
 */
public final class CorpusBuilder {
    public static final String DOCUMENTS = "documents.jsonl";
    public static final String REPORT = "report.json";

    /** @param excludedDomains hosts left out with their subdomains ("wikipedia.org" drops "en.wikipedia.org") */
    public record Settings(List<String> excludedDomains, int minWords, double nearThreshold, long seed) implements Serializable {
        public static final List<String> DEFAULT_EXCLUDED = List.of("wikipedia.org");

        public Settings {
            excludedDomains = excludedDomains.stream().map(d -> d.strip().toLowerCase(Locale.ROOT))
                    .filter(d -> !d.isEmpty()).toList();
            if (minWords < 0) throw new IllegalArgumentException("--min-words must not be negative: " + minWords);
            new MinHash(nearThreshold, seed); // checks the threshold
        }
    }

    /** A document that passed the per-document stages, at its place in corpus order. */
    public record Document(long order, String url, String text) implements Serializable {}

    /** What the per-document stages saw and dropped; adds up over files. */
    public record Counts(long documents, long bytes, long noText, long excludedDomain, long tooShort) implements Serializable {
        public static final Counts ZERO = new Counts(0, 0, 0, 0, 0);

        public Counts plus(Counts o) {
            return new Counts(documents + o.documents, bytes + o.bytes, noText + o.noText,
                    excludedDomain + o.excludedDomain, tooShort + o.tooShort);
        }
    }

    /** One input file's documents that passed the per-document stages, in order, and its counts. */
    public record FileResult(List<Document> kept, Counts counts) implements Serializable {}

    /** What every stage kept and dropped, and what was written. */
    public record Report(Settings settings, Counts counts, long exactDuplicates, long nearDuplicates, long written,
                         long writtenBytes) {
        public Map<String, Object> toJson() {
            long afterExtract = counts.documents() - counts.noText();
            long afterDomain = afterExtract - counts.excludedDomain();
            long afterLength = afterDomain - counts.tooShort();
            long afterExact = afterLength - exactDuplicates;
            Map<String, Object> root = new LinkedHashMap<>();
            Map<String, Object> read = new LinkedHashMap<>();
            read.put("documents", counts.documents());
            read.put("bytes", counts.bytes());
            root.put("read", read);
            root.put("stages", List.of(
                    stage("extract_text", afterExtract, counts.noText(), "no text left after boilerplate removal"),
                    stage("exclude_domains", afterDomain, counts.excludedDomain(), "from " + settings.excludedDomains()),
                    stage("min_words", afterLength, counts.tooShort(), "fewer than " + settings.minWords() + " words"),
                    stage("exact_dedup", afterExact, exactDuplicates, "same normalised text as an earlier document"),
                    stage("near_dedup", written, nearDuplicates, "MinHash Jaccard >= " + settings.nearThreshold()
                            + " with an earlier document")));
            Map<String, Object> written = new LinkedHashMap<>();
            written.put("documents", this.written);
            written.put("bytes", writtenBytes);
            root.put("written", written);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("exclude_domains", settings.excludedDomains());
            s.put("min_words", settings.minWords());
            s.put("near_threshold", settings.nearThreshold());
            s.put("minhash_permutations", MinHash.PERMUTATIONS);
            MinHash minHash = new MinHash(settings.nearThreshold(), settings.seed());
            s.put("lsh_bands", minHash.bands());
            s.put("lsh_rows", minHash.rows());
            s.put("shingle_words", MinHash.SHINGLE_WORDS);
            s.put("seed", settings.seed());
            root.put("settings", s);
            return root;
        }

        /** What {@code build-corpus} prints: the stages as a table, then what was written where. */
        public String summary(Path out, double seconds) {
            StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "read %d documents (%.1f MB)%n",
                    counts.documents(), counts.bytes() / 1e6));
            for (Object stage : (List<?>) toJson().get("stages")) {
                Map<?, ?> s = (Map<?, ?>) stage;
                text.append(String.format(Locale.ROOT, "  %-16s kept %8d  dropped %8d  (%s)%n", s.get("stage"),
                        s.get("kept"), s.get("dropped"), s.get("dropped_for")));
            }
            text.append(String.format(Locale.ROOT, "%s: %d documents (%.1f MB of text) in %.1f s%n",
                    out.resolve(DOCUMENTS), written, writtenBytes / 1e6, seconds));
            return text.toString();
        }

        private static Map<String, Object> stage(String name, long kept, long dropped, String why) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stage", name);
            m.put("kept", kept);
            m.put("dropped", dropped);
            m.put("dropped_for", why);
            return m;
        }
    }

    private CorpusBuilder() {}

    /** Builds the corpus in this process. */
    public static Report build(List<Path> inputs, Path out, Settings settings) throws IOException {
        checkOutput(out);
        List<Path> files = inputFiles(inputs);
        List<Document> documents = new ArrayList<>();
        Counts counts = Counts.ZERO;
        for (int i = 0; i < files.size(); i++) {
            FileResult result = readFile(files.get(i), i, settings);
            documents.addAll(result.kept());
            counts = counts.plus(result.counts());
        }
        Set<String> seen = new HashSet<>();
        List<Document> unique = new ArrayList<>();
        for (Document doc : documents) if (seen.add(exactKey(doc.text()))) unique.add(doc);

        MinHash minHash = new MinHash(settings.nearThreshold(), settings.seed());
        List<MinHash.Signed> signed = new ArrayList<>();
        for (Document doc : unique) signed.add(new MinHash.Signed(doc.order(), minHash.signature(normalize(doc.text()))));
        Set<Long> near = minHash.nearDuplicates(signed);
        List<Document> kept = unique.stream().filter(d -> !near.contains(d.order())).toList();
        return write(out, settings, counts, documents.size() - unique.size(), near.size(), kept.iterator());
    }

    /** Refuses an output folder that exists, before any work. */
    public static void checkOutput(Path out) throws IOException {
        if (Files.exists(out)) throw new IOException(out + " exists; choose another --out (the corpus builder never overwrites)");
    }

    /** The input files in corpus order: {@link CorpusPreparer#inputFiles}'s listing, which must not be empty. */
    public static List<Path> inputFiles(List<Path> inputs) throws IOException {
        List<Path> files = CorpusPreparer.inputFiles(inputs);
        if (files.isEmpty()) throw new IOException("no input files in " + inputs);
        return files;
    }

    /**
     * Reads one input file and runs the per-document stages (text extraction, domain exclusion, minimum length).
     *
     * @param fileIndex the file's place in {@link #inputFiles}, the high half of its documents' corpus order
     */
    public static FileResult readFile(Path file, int fileIndex, Settings settings) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Stage stage = new Stage(fileIndex, settings);
        try {
            if (name.endsWith(".html") || name.endsWith(".htm")) {
                byte[] bytes = Files.readAllBytes(file);
                HtmlText.Page page = HtmlText.extract(bytes, null, null, file.toString());
                stage.add(page.url(), page.text(), bytes.length);
            } else if (name.endsWith(".warc") || name.endsWith(".warc.gz")) {
                readWarc(file, stage);
            } else if (name.endsWith(".jsonl")) {
                LineRanges.forEachLine(file, 0, Long.MAX_VALUE, null, (line, number) -> {
                    if (line.isBlank()) return;
                    Map<String, Object> record;
                    try {
                        record = Json.parseObject(line);
                    } catch (IllegalArgumentException e) {
                        throw new IOException(file + ":" + number + ": " + e.getMessage(), e);
                    }
                    if (!(record.get("text") instanceof String text)) throw new IOException(file + ":" + number + ": no string field \"text\"");
                    stage.add(record.get("url") instanceof String url ? url : null, text, line.length());
                });
            } else {
                byte[] bytes = Files.readAllBytes(file);
                String text;
                try {
                    text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes)).toString();
                } catch (CharacterCodingException e) {
                    throw new IOException(file + " is not valid UTF-8 text (name HTML pages .html, archives .warc or .warc.gz)");
                }
                stage.add(null, text, bytes.length);
            }
        } catch (AccessDeniedException e) {
            throw new IOException(file + ": cannot read (permission denied)");
        }
        return new FileResult(stage.kept, stage.counts());
    }

    private static void readWarc(Path file, Stage stage) throws IOException {
        try (WarcReader reader = new WarcReader(file)) {
            for (WarcRecord record : reader) {
                if (!(record instanceof WarcResponse response)) continue;
                if (!response.contentType().base().equals(MediaType.HTTP)) continue;
                HttpResponse http = response.http();
                if (!http.contentType().base().equals(MediaType.HTML)) continue;
                byte[] body;
                try (InputStream in = http.bodyDecoded().stream()) {
                    body = in.readAllBytes();
                }
                String charset = http.contentType().parameters().get("charset");
                HtmlText.Page page = HtmlText.extract(body, charset, response.target(), file + " (" + response.target() + ")");
                stage.add(page.url(), page.text(), body.length);
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": not a readable WARC archive: " + e.getMessage(), e);
        }
    }

    /** The per-document stages for one file's documents. */
    private static final class Stage {
        final int fileIndex;
        final Settings settings;
        final List<Document> kept = new ArrayList<>();
        long documents, bytes, noText, excluded, tooShort;

        Stage(int fileIndex, Settings settings) {
            this.fileIndex = fileIndex;
            this.settings = settings;
        }

        void add(String url, String text, long size) {
            long order = ((long) fileIndex << 32) | documents;
            documents++;
            bytes += size;
            if (text.isBlank()) {
                noText++;
            } else if (isExcluded(url, settings.excludedDomains())) {
                excluded++;
            } else if (wordCount(text) < settings.minWords()) {
                tooShort++;
            } else {
                kept.add(new Document(order, url, text));
            }
        }

        Counts counts() {
            return new Counts(documents, bytes, noText, excluded, tooShort);
        }
    }

    /** Whether the address's host is one of the domains or below one. */
    public static boolean isExcluded(String url, List<String> domains) {
        if (url == null || domains.isEmpty()) return false;
        String host;
        try {
            host = URI.create(url.strip()).getHost();
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (host == null) return false;
        host = host.toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        for (String domain : domains) if (host.equals(domain) || host.endsWith("." + domain)) return true;
        return false;
    }

    /** Lower-case letters and digits, one space between words: what exact and near deduplication compare. */
    public static String normalize(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean inWord = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                if (!inWord && !out.isEmpty()) out.append(' ');
                out.appendCodePoint(Character.toLowerCase(cp));
                inWord = true;
            } else {
                inWord = false;
            }
        }
        return out.toString();
    }

    static int wordCount(String text) {
        String normalized = normalize(text);
        return normalized.isEmpty() ? 0 : normalized.split(" ").length;
    }

    /** The exact-duplicate key: SHA-256 of the normalised text. */
    public static String exactKey(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(normalize(text).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the kept documents (in corpus order) and the report into a folder beside {@code out}, then renames it
     * to {@code out}. A corpus left empty by the filters is an error, and nothing is written.
     */
    public static Report write(Path out, Settings settings, Counts counts, long exactDuplicates, long nearDuplicates,
                               Iterator<Document> documents) throws IOException {
        checkOutput(out);
        Path target = out.toAbsolutePath();
        Path temp = target.resolveSibling(target.getFileName() + ".partial");
        Directories.deleteRecursively(temp);
        Files.createDirectories(temp);
        try {
            long written = 0;
            long writtenBytes = 0;
            try (BufferedWriter w = Files.newBufferedWriter(temp.resolve(DOCUMENTS), StandardCharsets.UTF_8)) {
                while (documents.hasNext()) {
                    Document doc = documents.next();
                    Map<String, Object> record = new LinkedHashMap<>();
                    record.put("text", doc.text());
                    if (doc.url() != null) record.put("url", doc.url());
                    w.write(Json.write(record));
                    w.write('\n');
                    written++;
                    writtenBytes += doc.text().getBytes(StandardCharsets.UTF_8).length;
                }
            }
            Report report = new Report(settings, counts, exactDuplicates, nearDuplicates, written, writtenBytes);
            if (written == 0) {
                throw new IOException("the corpus is empty after filtering: " + counts.documents() + " documents read, "
                        + counts.noText() + " without text, " + counts.excludedDomain() + " from excluded domains, "
                        + counts.tooShort() + " under " + settings.minWords() + " words, " + exactDuplicates
                        + " exact and " + nearDuplicates + " near duplicates; nothing written");
            }
            Files.writeString(temp.resolve(REPORT), Json.write(report.toJson()) + "\n");
            checkOutput(out);
            Files.move(temp, target);
            return report;
        } catch (IOException | RuntimeException e) {
            Directories.deleteRecursively(temp);
            throw e;
        }
    }
}
