package org.jgpt.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.jgpt.io.AtomicFiles;
import org.jgpt.io.Json;

/**
 * GPT-2's byte-level BPE tokenizer: text or raw bytes to token ids and back, exactly as tiktoken's r50k_base.
 *
 * <p>Encoding splits the bytes into pieces with GPT-2's pre-tokenization pattern ({@link PreTokenizer}), then
 * merges each piece's bytes pair by pair, always the pair with the lowest merge rank first. A piece that is itself a
 * token is taken whole (as tiktoken does), and merged pieces are kept in word caches that each encode call borrows
 * from a bounded pool ({@link WordCachePool}), whatever thread it runs on. Any byte string round-trips, invalid UTF-8
 * included. Special tokens (GPT-2 has one, {@code <|endoftext|>} = 50256) are plain text to {@link #encode(String)}
 * and single ids to {@link #encodeAllowingSpecial(String)}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class GPT2Tokenizer implements Tokenizer {
    public static final String END_OF_TEXT = "<|endoftext|>";

    private final byte[][] tokens;
    private final int[] byteIds = new int[256];
    private final int[] mergeLeft;
    private final int[] mergeRight;
    private final PairTable pairs;
    private final PieceTable pieces;
    private final Map<String, Integer> specials;
    private final WordCachePool caches = new WordCachePool();

    GPT2Tokenizer(byte[][] tokens, int[] mergeLeft, int[] mergeRight, Map<String, Integer> specials) {
        this.tokens = tokens;
        this.mergeLeft = mergeLeft;
        this.mergeRight = mergeRight;
        this.specials = specials;
        this.pairs = new PairTable(mergeLeft.length);
        this.pieces = new PieceTable(tokens.length);
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null && !specials.containsValue(id)) {
                pieces.put(tokens[id], id);
                if (tokens[id].length == 1) byteIds[tokens[id][0] & 0xFF] = id;
            }
        }
        for (int rank = 0; rank < mergeLeft.length; rank++) {
            byte[] left = tokens[mergeLeft[rank]];
            byte[] right = tokens[mergeRight[rank]];
            byte[] both = Arrays.copyOf(left, left.length + right.length);
            System.arraycopy(right, 0, both, left.length, right.length);
            pairs.put(mergeLeft[rank], mergeRight[rank], rank, pieces.get(both, 0, both.length));
        }
    }

    private static final class BuiltIn {
        static final GPT2Tokenizer GPT2 = loadBuiltIn();

        private static GPT2Tokenizer loadBuiltIn() {
            String dir = "/org/jgpt/tokenizer/gpt2/";
            return parse(resource(dir + "vocab.json"), "built-in vocab.json", resource(dir + "merges.txt"),
                    "built-in merges.txt");
        }

        private static String resource(String name) {
            try (InputStream in = GPT2Tokenizer.class.getResourceAsStream(name)) {
                if (in == null) throw new IllegalStateException("missing resource " + name);
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** GPT-2's own tokenizer (built in, loaded once). */
    public static GPT2Tokenizer gpt2() {
        return BuiltIn.GPT2;
    }

    /** Loads GPT-2-format files: vocab.json (token → id) and merges.txt (one "left right" merge a line, by rank). */
    public static GPT2Tokenizer load(Path vocabJson, Path mergesTxt) {
        return parse(read(vocabJson), vocabJson.toString(), read(mergesTxt), mergesTxt.toString());
    }

    /**
     * Loads the tokenizer of a model directory: its Hugging Face tokenizer.json if present, else its vocab.json and
     * merges.txt.
     */
    public static GPT2Tokenizer fromDirectory(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return parseTokenizerJson(read(json), json.toString());
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        if (Files.isRegularFile(vocab) && Files.isRegularFile(merges)) return load(vocab, merges);
        throw new IllegalArgumentException("no tokenizer in " + dir + ": expected tokenizer.json, or vocab.json and merges.txt");
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static GPT2Tokenizer parse(String vocabText, String vocabName, String mergesText, String mergesName) {
        Map<String, Object> vocab = parseJsonObject(vocabText, vocabName);
        List<String> merges = new ArrayList<>();
        List<String> where = new ArrayList<>();
        String[] lines = mergesText.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
            merges.add(line);
            where.add(mergesName + " line " + (i + 1));
        }
        return build(vocab, vocabName, vocabText, merges, where, List.of());
    }

    @SuppressWarnings("unchecked")
    private static GPT2Tokenizer parseTokenizerJson(String text, String name) {
        Map<String, Object> root = parseJsonObject(text, name);
        if (!(root.get("model") instanceof Map<?, ?> modelMap)) throw new IllegalArgumentException(name + ": no \"model\" object");
        Map<String, Object> model = (Map<String, Object>) modelMap;
        if (model.get("type") != null && !"BPE".equals(model.get("type"))) {
            throw new IllegalArgumentException(name + ": model type is " + model.get("type") + ", expected BPE");
        }
        if (!(model.get("vocab") instanceof Map<?, ?> vocab)) throw new IllegalArgumentException(name + ": no model.vocab object");
        if (!(model.get("merges") instanceof List<?> mergeList)) throw new IllegalArgumentException(name + ": no model.merges list");
        List<String> merges = new ArrayList<>();
        List<String> where = new ArrayList<>();
        for (int i = 0; i < mergeList.size(); i++) {
            Object merge = mergeList.get(i);
            // Newer files write a merge as a two-element list, older ones as "left right".
            if (merge instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String l && pair.get(1) instanceof String r) {
                merges.add(l + " " + r);
            } else if (merge instanceof String s) {
                merges.add(s);
            } else {
                merges.add(String.valueOf(merge) + " ?");
            }
            where.add(name + " model.merges[" + i + "]");
        }
        List<String> added = new ArrayList<>();
        Map<String, Object> allTokens = new LinkedHashMap<>((Map<String, Object>) vocab);
        if (root.get("added_tokens") instanceof List<?> list) {
            for (Object entry : list) {
                if (!(entry instanceof Map<?, ?> token) || !(token.get("content") instanceof String content) || !(token.get("id") instanceof Long)) {
                    throw new IllegalArgumentException(name + ": an added_tokens entry lacks \"content\" or \"id\": " + Json.write(entry));
                }
                added.add(content);
                allTokens.put(content, token.get("id"));
            }
        }
        return build(allTokens, name, text, merges, where, added);
    }

    private static Map<String, Object> parseJsonObject(String text, String name) {
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static GPT2Tokenizer build(Map<String, Object> vocab, String vocabName, String vocabText, List<String> merges,
                                       List<String> where, List<String> added) {
        Map<String, Integer> ids = new HashMap<>();
        int size = 0;
        for (Map.Entry<String, Object> e : vocab.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id >= Integer.MAX_VALUE) {
                throw new IllegalArgumentException(vocabName + " line " + lineOf(vocabText, e.getKey()) + ": token "
                        + Json.write(e.getKey()) + " has id " + Json.write(e.getValue()) + ", expected a non-negative integer");
            }
            ids.put(e.getKey(), id.intValue());
            size = Math.max(size, id.intValue() + 1);
        }
        byte[][] tokens = new byte[size][];
        int[] left = new int[merges.size()];
        int[] right = new int[merges.size()];
        boolean[] fromMerges = new boolean[size];
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < merges.size(); i++) {
            String merge = merges.get(i);
            int space = merge.indexOf(' ');
            if (space <= 0 || space == merge.length() - 1 || merge.indexOf(' ', space + 1) >= 0) {
                throw new IllegalArgumentException(where.get(i) + ": expected two tokens separated by one space, got " + Json.write(merge));
            }
            String a = merge.substring(0, space);
            String b = merge.substring(space + 1);
            left[i] = idOf(ids, a, where.get(i));
            right[i] = idOf(ids, b, where.get(i));
            fromMerges[idOf(ids, a + b, where.get(i))] = true;
            if (!seen.add((long) left[i] << 32 | right[i])) {
                throw new IllegalArgumentException(where.get(i) + ": the merge " + Json.write(merge) + " is listed twice");
            }
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            String text = e.getKey();
            int id = e.getValue();
            if (tokens[id] != null) {
                throw new IllegalArgumentException(vocabName + " line " + lineOf(vocabText, text) + ": id " + id + " is used twice");
            }
            // A token that no merge makes and that is not a single byte is a special token, such as <|endoftext|>.
            byte[] bytes = ByteLevel.toBytes(text);
            boolean special = !fromMerges[id] && (added.contains(text) || bytes == null || bytes.length != 1);
            if (special) {
                tokens[id] = text.getBytes(StandardCharsets.UTF_8);
                specials.put(text, id);
            } else if (bytes == null) {
                throw new IllegalArgumentException(vocabName + " line " + lineOf(vocabText, text) + ": token " + Json.write(text)
                        + " has a character outside GPT-2's byte alphabet");
            } else {
                tokens[id] = bytes;
            }
        }
        boolean[] hasByte = new boolean[256];
        for (int id = 0; id < size; id++) {
            if (tokens[id] != null && tokens[id].length == 1 && !specials.containsValue(id)) hasByte[tokens[id][0] & 0xFF] = true;
        }
        for (int b = 0; b < 256; b++) {
            if (!hasByte[b]) {
                throw new IllegalArgumentException(vocabName + ": no token for the byte 0x" + Integer.toHexString(b)
                        + " (" + Json.write(ByteLevel.toText(new byte[] {(byte) b})) + ")");
            }
        }
        return new GPT2Tokenizer(tokens, left, right, specials);
    }

    private static int idOf(Map<String, Integer> ids, String token, String where) {
        Integer id = ids.get(token);
        if (id == null) throw new IllegalArgumentException(where + ": token " + Json.write(token) + " is not in the vocabulary");
        return id;
    }

    /** The 1-based line of the vocab text where the token is spelled, for error messages. */
    private static int lineOf(String text, String token) {
        int at = text.indexOf(Json.write(token) + ":");
        if (at < 0) return 1;
        int line = 1;
        for (int i = 0; i < at; i++) if (text.charAt(i) == '\n') line++;
        return line;
    }

    /** Writes vocab.json and merges.txt into {@code dir} (created if needed); each file appears whole or not at all. */
    @Override
    public void save(Path dir) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] == null) continue;
            vocab.put(specials.containsValue(id) ? new String(tokens[id], StandardCharsets.UTF_8) : ByteLevel.toText(tokens[id]), id);
        }
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (int rank = 0; rank < mergeLeft.length; rank++) {
            merges.append(ByteLevel.toText(tokens[mergeLeft[rank]])).append(' ')
                    .append(ByteLevel.toText(tokens[mergeRight[rank]])).append('\n');
        }
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("vocab.json"), Json.write(vocab) + "\n");
        AtomicFiles.writeString(dir.resolve("merges.txt"), merges.toString());
    }


    /** The ids of the text's UTF-8 bytes; special-token text such as {@code <|endoftext|>} is ordinary text. */
    public int[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The ids of any byte string (invalid UTF-8 included); {@link #decodeBytes} gives the bytes back exactly. */
    public int[] encode(byte[] bytes) {
        Ids out = new Ids(bytes.length / 4 + 16);
        WordCache cache = caches.borrow();
        try {
            encodeOrdinary(bytes, 0, bytes.length, out, cache);
        } finally {
            caches.giveBack(cache);
        }
        return out.toArray();
    }

    /** Like {@link #encode(String)}, but special-token text becomes the special token's id. */
    public int[] encodeAllowingSpecial(String text) {
        return encodeAllowingSpecial(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Like {@link #encode(byte[])}, but the UTF-8 bytes of a special token become the special token's id. */
    public int[] encodeAllowingSpecial(byte[] bytes) {
        List<byte[]> specialBytes = new ArrayList<>();
        List<Integer> specialIds = new ArrayList<>();
        specials.forEach((token, id) -> {
            specialBytes.add(token.getBytes(StandardCharsets.UTF_8));
            specialIds.add(id);
        });
        Ids out = new Ids(bytes.length / 4 + 16);
        WordCache cache = caches.borrow();
        try {
            encodeWithSpecials(bytes, specialBytes, specialIds, out, cache);
        } finally {
            caches.giveBack(cache);
        }
        return out.toArray();
    }

    private void encodeWithSpecials(byte[] bytes, List<byte[]> specialBytes, List<Integer> specialIds, Ids out, WordCache cache) {
        int from = 0;
        while (true) {
            int at = bytes.length;
            int which = -1;
            for (int s = 0; s < specialBytes.size(); s++) {
                int found = indexOf(bytes, specialBytes.get(s), from);
                if (found >= 0 && (found < at || (found == at && specialBytes.get(s).length > specialBytes.get(which).length))) {
                    at = found;
                    which = s;
                }
            }
            encodeOrdinary(bytes, from, at, out, cache);
            if (which < 0) return;
            out.add(specialIds.get(which));
            from = at + specialBytes.get(which).length;
        }
    }

    private static int indexOf(byte[] text, byte[] pattern, int from) {
        for (int i = from; i <= text.length - pattern.length; i++) {
            if (Arrays.equals(text, i, i + pattern.length, pattern, 0, pattern.length)) return i;
        }
        return -1;
    }

    /** Encodes text[from, to) without special tokens; {@code cache} may be null (all caches were lent out). */
    private void encodeOrdinary(byte[] text, int from, int to, Ids out, WordCache cache) {
        int pos = from;
        while (pos < to) {
            int end = PreTokenizer.nextPiece(text, pos, to);
            int length = end - pos;
            int id = length == 1 ? byteIds[text[pos] & 0xFF] : pieces.get(text, pos, length);
            if (id >= 0) {
                out.add(id);
            } else if (cache == null) {
                out.addAll(merge(text, pos, length));
            } else {
                int[] merged = cache.get(text, pos, length);
                if (merged == null) {
                    merged = merge(text, pos, length);
                    cache.put(text, pos, length, merged);
                }
                out.addAll(merged);
            }
            pos = end;
        }
    }

    /** Byte-pair merging of one piece: repeatedly merges the adjacent pair with the lowest rank (leftmost on ties). */
    private int[] merge(byte[] text, int from, int length) {
        return length <= LONG_PIECE ? mergeShort(text, from, length) : mergeLong(text, from, length);
    }

    /** Above this many bytes a piece is merged with a heap, which is O(n log n) instead of O(n²). */
    private static final int LONG_PIECE = 128;

    private int[] mergeShort(byte[] text, int from, int length) {
        int[] ids = new int[length];
        int[] ranks = new int[length];
        for (int i = 0; i < length; i++) ids[i] = byteIds[text[from + i] & 0xFF];
        int n = length;
        for (int i = 0; i < n - 1; i++) ranks[i] = rank(ids[i], ids[i + 1]);
        while (n > 1) {
            int best = 0;
            for (int i = 1; i < n - 1; i++) if (ranks[i] < ranks[best]) best = i;
            if (ranks[best] == Integer.MAX_VALUE) break;
            ids[best] = pairs.merged(pairs.find(ids[best], ids[best + 1]));
            System.arraycopy(ids, best + 2, ids, best + 1, n - best - 2);
            if (n - best - 3 > 0) System.arraycopy(ranks, best + 2, ranks, best + 1, n - best - 3);
            n--;
            if (best > 0) ranks[best - 1] = rank(ids[best - 1], ids[best]);
            if (best < n - 1) ranks[best] = rank(ids[best], ids[best + 1]);
        }
        return Arrays.copyOf(ids, n);
    }

    /**
     * The same merges for long pieces (a base64 blob, a run of one character): the pieces form a linked list, and a
     * min-heap of (rank, position) gives the next pair; entries made stale by earlier merges are skipped.
     */
    private int[] mergeLong(byte[] text, int from, int length) {
        int[] ids = new int[length];
        int[] next = new int[length];
        int[] prev = new int[length];
        long[] heap = new long[3 * length]; // length - 1 pairs at first, at most two new ones per merge
        int heapSize = 0;
        for (int i = 0; i < length; i++) {
            ids[i] = byteIds[text[from + i] & 0xFF];
            next[i] = i + 1 < length ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i + 1 < length; i++) {
            int rank = rank(ids[i], ids[i + 1]);
            if (rank != Integer.MAX_VALUE) heapSize = heapPush(heap, heapSize, (long) rank << 32 | i);
        }
        int count = length;
        while (heapSize > 0) {
            long top = heap[0];
            heapSize = heapPop(heap, heapSize);
            int at = (int) top;
            int right = next[at];
            // Stale if a merge removed this position or changed either side since the entry was pushed.
            if (ids[at] < 0 || right < 0 || rank(ids[at], ids[right]) != (int) (top >>> 32)) continue;
            ids[at] = pairs.merged(pairs.find(ids[at], ids[right]));
            ids[right] = -1;
            next[at] = next[right];
            if (next[at] >= 0) prev[next[at]] = at;
            count--;
            if (prev[at] >= 0) {
                int rank = rank(ids[prev[at]], ids[at]);
                if (rank != Integer.MAX_VALUE) heapSize = heapPush(heap, heapSize, (long) rank << 32 | prev[at]);
            }
            if (next[at] >= 0) {
                int rank = rank(ids[at], ids[next[at]]);
                if (rank != Integer.MAX_VALUE) heapSize = heapPush(heap, heapSize, (long) rank << 32 | at);
            }
        }
        int[] out = new int[count];
        for (int i = 0, n = 0; i >= 0; i = next[i]) out[n++] = ids[i];
        return out;
    }

    private static int heapPush(long[] heap, int size, long value) {
        int i = size;
        heap[i] = value;
        while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
            long parent = heap[(i - 1) / 2];
            heap[(i - 1) / 2] = heap[i];
            heap[i] = parent;
            i = (i - 1) / 2;
        }
        return size + 1;
    }

    private static int heapPop(long[] heap, int size) {
        size--;
        heap[0] = heap[size];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) return size;
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (heap[i] <= heap[child]) return size;
            long swap = heap[i];
            heap[i] = heap[child];
            heap[child] = swap;
            i = child;
        }
    }

    private int rank(int left, int right) {
        int slot = pairs.find(left, right);
        return slot < 0 ? Integer.MAX_VALUE : pairs.rank(slot);
    }

    /** The exact bytes of the tokens. */
    public byte[] decodeBytes(int[] ids) {
        int total = 0;
        for (int id : ids) total += tokenBytes(id).length;
        byte[] out = new byte[total];
        int at = 0;
        for (int id : ids) {
            byte[] bytes = tokens[id];
            System.arraycopy(bytes, 0, out, at, bytes.length);
            at += bytes.length;
        }
        return out;
    }

    /** The tokens as text; bytes that are not valid UTF-8 become U+FFFD. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    /** A decoder for ids that arrive one by one, which emits text only once its UTF-8 characters are complete. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (ids 0 to " + (tokens.length - 1) + ")");
        }
        return tokens[id];
    }

    /** The pool of word caches that encode calls borrow from, for tests. */
    WordCachePool wordCaches() {
        return caches;
    }

    /** The number of ids (the largest id + 1). */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of {@code <|endoftext|>} (50256 for GPT-2). */
    @Override
    public boolean hasEndOfText() {
        return specials.containsKey(END_OF_TEXT);
    }

    public int endOfText() {
        Integer id = specials.get(END_OF_TEXT);
        if (id == null) throw new IllegalStateException("this tokenizer has no " + END_OF_TEXT + " token");
        return id;
    }

    /**
     * The token that separates documents in a prepared corpus: {@code <|endoftext|>}, or RoBERTa's {@code </s>} in a
     * vocabulary without it (RoBERTa packs documents with {@code </s>} between them).
     */
    public int documentSeparator() {
        Integer id = specials.getOrDefault(END_OF_TEXT, specials.get(RobertaTokens.EOS));
        if (id == null) {
            throw new IllegalStateException("the vocabulary has neither " + END_OF_TEXT + " nor " + RobertaTokens.EOS
                    + " to separate documents with");
        }
        return id;
    }

    /** Whether the id is a special token such as {@code <|endoftext|>} or {@code <mask>}, which encode never gives. */
    public boolean isSpecial(int id) {
        return specials.containsValue(id);
    }

    /** The id of a token as vocab.json spells it (e.g. "Ġthe", or "<|endoftext|>"). */
    public OptionalInt tokenId(String token) {
        Integer special = specials.get(token);
        if (special != null) return OptionalInt.of(special);
        byte[] bytes = ByteLevel.toBytes(token);
        int id = bytes == null ? -1 : pieces.get(bytes, 0, bytes.length);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** A growable list of ids. */
    private static final class Ids {
        private int[] ids;
        private int size;

        Ids(int capacity) {
            ids = new int[capacity];
        }

        void add(int id) {
            if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
            ids[size++] = id;
        }

        void addAll(int[] more) {
            if (size + more.length > ids.length) ids = Arrays.copyOf(ids, Math.max(size * 2, size + more.length));
            System.arraycopy(more, 0, ids, size, more.length);
            size += more.length;
        }

        int[] toArray() {
            return Arrays.copyOf(ids, size);
        }
    }
}
