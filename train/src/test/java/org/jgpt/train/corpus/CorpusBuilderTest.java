package org.jgpt.train.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corpus builder's stages on a corpus with planted cases: boilerplate around an article, a Wikipedia page, a
 * short page, an exact and a near duplicate, a document below the near-duplicate threshold, and WARC and JSONL inputs.
 */
class CorpusBuilderTest {
    @TempDir
    Path dir;

    /** A document of {@code words} words drawn from a made-up vocabulary, the same for the same seed. */
    public static String words(long seed, int words) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < words; i++) {
            if (i > 0) text.append(i % 12 == 0 ? ".\n" : " ");
            text.append("w").append(Integer.toString(random.nextInt(100_000), 36));
        }
        return text.append('.').toString();
    }

    /** The text with every {@code every}-th word replaced. */
    public static String edited(String text, int every) {
        String[] parts = text.split(" ");
        for (int i = 0; i < parts.length; i += every) parts[i] = "changed" + i;
        return String.join(" ", parts);
    }

    public static String page(String url, String article) {
        return "<!doctype html><html><head><title>T</title><link rel=canonical href=\"" + url + "\">"
                + "<style>p{color:red}</style><script>var menu = 'Home About';</script></head><body>"
                + "<header><h1>Site name</h1></header><nav><a href=/>Home</a> <a href=/about>About us</a></nav>"
                + "<article><h2>Headline</h2>" + article.lines().map(l -> "<p>" + l + "</p>").reduce("", String::concat)
                + "</article><aside>Most read today</aside><form><input name=q><button>Search</button></form>"
                + "<footer>Copyright footer text</footer></body></html>";
    }

    /** A WARC file of HTTP responses holding the pages, as a crawler writes them. */
    public static byte[] warc(List<String> urls, List<String> pages) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < urls.size(); i++) {
            byte[] body = pages.get(i).getBytes(StandardCharsets.UTF_8);
            String http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + body.length + "\r\n\r\n";
            int length = http.getBytes(StandardCharsets.UTF_8).length + body.length;
            out.append("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: ").append(urls.get(i))
                    .append("\r\nWARC-Date: 2019-02-14T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000000")
                    .append(i).append(">\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: ")
                    .append(length).append("\r\n\r\n").append(http).append(pages.get(i)).append("\r\n\r\n");
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The planted corpus: which documents must survive is said beside each. */
    public static Path plantedCorpus(Path dir) throws IOException {
        Path in = Files.createDirectories(dir.resolve("in"));
        String a = words(1, 200), b = words(2, 200), c = words(3, 200);
        Files.writeString(in.resolve("01-a.html"), page("https://news.example.com/a", a));           // kept
        Files.writeString(in.resolve("02-wiki.html"), page("https://en.wikipedia.org/wiki/A", b));   // excluded domain
        Files.writeString(in.resolve("03-short.html"), page("https://news.example.com/s", "Too short to keep."));
        Files.writeString(in.resolve("04-empty.html"), "<html><body><nav>only a menu</nav></body></html>"); // no text
        Files.write(in.resolve("05-crawl.warc"), warc(
                List.of("https://blog.example.org/b", "https://blog.example.org/a-copy", "https://blog.example.org/a-near"),
                List.of(page("x", b), page("x", a.toUpperCase()), page("x", edited(a, 150)))));     // kept, exact, near
        Files.writeString(in.resolve("06-more.jsonl"),
                Json.write(Map.of("text", edited(c, 3), "url", "https://forum.example.net/c")) + "\n"   // kept: below threshold of c
                        + Json.write(Map.of("text", c)) + "\n"                                          // kept
                        + Json.write(Map.of("text", edited(b, 150))) + "\n");                           // near duplicate of b
        return in;
    }

    @Test
    void keepsTheMainTextOfTheFirstOfEachDuplicateAndReportsEveryStage() throws IOException {
        Path out = dir.resolve("corpus");
        CorpusBuilder.Report report = CorpusBuilder.build(List.of(plantedCorpus(dir)), out,
                new CorpusBuilder.Settings(CorpusBuilder.Settings.DEFAULT_EXCLUDED, 50, 0.8, 0));

        List<Map<String, Object>> docs = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(CorpusBuilder.DOCUMENTS))) docs.add(Json.parseObject(line));
        assertEquals(List.of("https://news.example.com/a", "https://blog.example.org/b", "https://forum.example.net/c"),
                docs.stream().map(d -> d.get("url")).filter(u -> u != null).toList());
        assertEquals(4, docs.size(), "a, b, c edited below the threshold, and c");
        String a = (String) docs.get(0).get("text");
        assertTrue(a.startsWith("Headline\n" + words(1, 200).lines().findFirst().orElseThrow()), a);
        for (String boilerplate : List.of("Site name", "Home", "About us", "Most read", "Search", "Copyright", "menu", "color")) {
            assertFalse(a.contains(boilerplate), boilerplate + " left in " + a);
        }

        assertEquals(10, report.counts().documents());
        assertEquals(1, report.counts().noText());
        assertEquals(1, report.counts().excludedDomain());
        assertEquals(1, report.counts().tooShort());
        assertEquals(1, report.exactDuplicates());
        assertEquals(2, report.nearDuplicates());
        assertEquals(4, report.written());
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve(CorpusBuilder.REPORT)));
        assertEquals(5, ((List<?>) json.get("stages")).size());
        assertFalse(Files.exists(dir.resolve("corpus.partial")));
    }

    @Test
    void nearDuplicateSimilarityStaysOnTheRightSideOfTheThreshold() {
        MinHash minHash = new MinHash(0.8, 0);
        String a = CorpusBuilder.normalize(words(1, 200));
        assertTrue(MinHash.similarity(minHash.signature(a), minHash.signature(CorpusBuilder.normalize(edited(words(1, 200), 150)))) >= 0.8);
        assertTrue(MinHash.similarity(minHash.signature(a), minHash.signature(CorpusBuilder.normalize(edited(words(1, 200), 3)))) < 0.5);
        assertTrue(minHash.bands() * minHash.rows() <= MinHash.PERMUTATIONS);
    }

    @Test
    void badInputAndAnEmptyResultAreClearErrorsThatWriteNothing() throws IOException {
        CorpusBuilder.Settings settings = new CorpusBuilder.Settings(List.of(), 50, 0.8, 0);
        Path binary = Files.write(dir.resolve("image.html"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 13});
        Path out = dir.resolve("out");
        IOException e = assertThrows(IOException.class, () -> CorpusBuilder.build(List.of(binary), out, settings));
        assertTrue(e.getMessage().contains("image.html: not an HTML page"), e.getMessage());

        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "only a few words");
        e = assertThrows(IOException.class, () -> CorpusBuilder.build(List.of(tiny), out, settings));
        assertTrue(e.getMessage().contains("empty after filtering") && e.getMessage().contains("1 under 50 words"), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("out.partial")));

        Files.createDirectories(out);
        e = assertThrows(IOException.class, () -> CorpusBuilder.build(List.of(tiny), out, settings));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
    }
}
