package org.jgpt.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jgpt.io.AtomicFiles;
import org.jgpt.io.Json;

/**
 * GPT-1's tokenizer, as Hugging Face's OpenAIGPTTokenizer runs without ftfy and spaCy: BERT's BasicTokenizer
 * (control characters dropped, whitespace to spaces, CJK characters split apart, NFC, lower case, accents
 * stripped, punctuation split off), then BPE within each word, whose last symbol carries {@code </w>}. Files:
 * vocab.json (token → id) and merges.txt (one "left right" merge a line, by rank). Symbols outside the vocabulary
 * become {@code <unk>}. Decoding joins the tokens and turns {@code </w>} into a space, so the text comes back
 * lower-cased and with spaces around punctuation. Thread-safe.
 */
public final class GPT1Tokenizer implements Tokenizer {
    private static final String WORD_END = "</w>";
    private static final String UNKNOWN = "<unk>";

    private final Map<String, Integer> encoder;
    private final String[] decoder;
    private final Map<String, Integer> ranks; // "left right" → rank
    private final int unknown;
    private final Map<String, String[]> cache = new ConcurrentHashMap<>();

    private GPT1Tokenizer(Map<String, Integer> encoder, Map<String, Integer> ranks) {
        this.encoder = encoder;
        this.ranks = ranks;
        int size = 0;
        for (int id : encoder.values()) size = Math.max(size, id + 1);
        this.decoder = new String[size];
        encoder.forEach((token, id) -> decoder[id] = token);
        this.unknown = encoder.getOrDefault(UNKNOWN, -1);
    }

    /** The tokenizer of a GPT-1 model directory: its vocab.json and merges.txt. */
    public static GPT1Tokenizer fromDirectory(Path dir) {
        return load(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    }

    public static GPT1Tokenizer load(Path vocabJson, Path mergesTxt) {
        Map<String, Integer> encoder = new HashMap<>();
        Map<String, Object> vocab;
        try {
            vocab = Json.parseObject(read(vocabJson));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(vocabJson + ": not a JSON object: " + e.getMessage(), e);
        }
        for (Map.Entry<String, Object> e : vocab.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(vocabJson + ": token " + Json.write(e.getKey()) + " has id " + e.getValue()
                        + ", not a non-negative integer");
            }
            encoder.put(e.getKey(), id.intValue());
        }
        Map<String, Integer> ranks = new HashMap<>();
        String[] lines = read(mergesTxt).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
            String[] pair = line.split(" ");
            if (pair.length != 2) throw new IllegalArgumentException(mergesTxt + " line " + (i + 1) + ": expected two symbols, got '" + line + "'");
            ranks.putIfAbsent(pair[0] + " " + pair[1], ranks.size());
        }
        return new GPT1Tokenizer(encoder, ranks);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes vocab.json and merges.txt into {@code dir} (created if needed), each atomically. */
    @Override
    public void save(Path dir) throws IOException {
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int id = 0; id < decoder.length; id++) if (decoder[id] != null) vocab.put(decoder[id], (long) id);
        String[] merges = new String[ranks.size()];
        ranks.forEach((pair, rank) -> merges[rank] = pair);
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("vocab.json"), Json.write(vocab) + "\n");
        AtomicFiles.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
    }


    /** The number of ids (the largest id + 1). */
    @Override
    public int vocabSize() {
        return decoder.length;
    }

    /** The token ids of a text. */
    @Override
    public int[] encode(String text) {
        List<String> tokens = tokenize(text);
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = encoder.get(tokens.get(i));
            if (id == null && unknown < 0) {
                throw new IllegalArgumentException("symbol " + Json.write(tokens.get(i)) + " is not in the vocabulary, which has no " + UNKNOWN);
            }
            ids[i] = id == null ? unknown : id;
        }
        return ids;
    }

    /** The BPE tokens of a text (before the vocabulary lookup). */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (String word : basicTokenize(text)) {
            for (String piece : cache.computeIfAbsent(word, this::bpe)) out.add(piece);
        }
        return out;
    }

    /** The text of ids: tokens joined, {@code </w>} as a space, trimmed. */
    @Override
    public String decode(int[] ids) {
        StringBuilder s = new StringBuilder();
        for (int id : ids) s.append(token(id));
        return s.toString().replace(WORD_END, " ").strip();
    }

    /** A token's text with {@code </w>} as a space. */
    @Override
    public byte[] tokenBytes(int id) {
        return token(id).replace(WORD_END, " ").getBytes(StandardCharsets.UTF_8);
    }

    private String token(int id) {
        if (id < 0 || id >= decoder.length || decoder[id] == null) throw new IllegalArgumentException("token id " + id + " is not in the vocabulary");
        return decoder[id];
    }

    @Override
    public boolean hasEndOfText() {
        return false;
    }

    @Override
    public int endOfText() {
        throw new IllegalStateException("GPT-1's vocabulary has no end-of-text token: give a prompt");
    }

    /** Merges the word's symbols by rank until no ranked pair is left, all occurrences of a pair at a time. */
    private String[] bpe(String word) {
        List<String> symbols = new ArrayList<>();
        word.codePoints().forEach(cp -> symbols.add(Character.toString(cp)));
        symbols.set(symbols.size() - 1, symbols.getLast() + WORD_END);
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols.clear();
            symbols.addAll(merged);
        }
        return symbols.toArray(String[]::new);
    }

    /** BERT's BasicTokenizer with do_lower_case: the words and punctuation marks of a text. */
    static List<String> basicTokenize(String text) {
        StringBuilder clean = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
            if (isWhitespace(cp)) clean.append(' ');
            else if (isCjk(cp)) clean.append(' ').appendCodePoint(cp).append(' ');
            else clean.appendCodePoint(cp);
        });
        String normalized = Normalizer.normalize(clean, Normalizer.Form.NFC);
        List<String> out = new ArrayList<>();
        for (String token : normalized.strip().split("\\s+")) {
            if (token.isEmpty()) continue;
            String lower = Normalizer.normalize(token.toLowerCase(Locale.ROOT), Normalizer.Form.NFD);
            StringBuilder word = new StringBuilder();
            lower.codePoints().forEach(cp -> {
                if (Character.getType(cp) == Character.NON_SPACING_MARK) return; // accents
                if (isPunctuation(cp)) {
                    if (!word.isEmpty()) out.add(word.toString());
                    word.setLength(0);
                    out.add(Character.toString(cp));
                } else {
                    word.appendCodePoint(cp);
                }
            });
            if (!word.isEmpty()) out.add(word.toString());
        }
        return out;
    }

    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** Unicode category C* (control, format, private use, surrogate, unassigned), except tab and line breaks. */
    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.PRIVATE_USE
                || type == Character.SURROGATE || type == Character.UNASSIGNED;
    }

    /** ASCII symbols (BERT counts $, +, ^ and the like as punctuation) and Unicode category P*. */
    private static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
        int type = Character.getType(cp);
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideographs blocks, as BERT's _is_chinese_char. */
    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
