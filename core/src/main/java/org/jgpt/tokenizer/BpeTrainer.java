package org.jgpt.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Learns byte-level BPE merges from a corpus, GPT-2 style. The corpus is split with GPT-2's pre-tokenization, so a
 * merge never crosses a letter/number/punctuation/space boundary; then, over the distinct pieces weighted by how
 * often they occur, the most frequent adjacent pair is merged into a new token until the vocabulary is full.
 *
 * <p>Ids: 0..255 are the bytes in GPT-2's order, then one id per new token in the order learned, then
 * {@code <|endoftext|>} last. With {@link SpecialTokens#ROBERTA} the ids are laid out as RoBERTa's vocabulary:
 * {@code <s> <pad> </s> <unk>} are 0..3, the bytes and learned tokens follow, and {@code <mask>} is last. Ties
 * between equally frequent pairs go to the pair with the smaller left id, then the smaller right id, so training is
 * deterministic. Pair counts are kept up to date incrementally: a merge only revisits the pieces that contain the
 * pair, and a priority queue (with stale entries skipped) gives the next pair.
 */
public final class BpeTrainer {
    /** Told of progress as tokens are learned. */
    public interface Progress {
        void update(int learned, int wanted);
    }

    /** The special tokens a trained vocabulary reserves: some before the bytes, and one after the learned tokens. */
    public enum SpecialTokens {
        /** GPT-2's: {@code <|endoftext|>} last. */
        GPT2(List.of(), GPT2Tokenizer.END_OF_TEXT),
        /** RoBERTa's: {@code <s> <pad> </s> <unk>} first, {@code <mask>} last, and no {@code <|endoftext|>}. */
        ROBERTA(List.of(RobertaTokens.BOS, RobertaTokens.PAD, RobertaTokens.EOS, RobertaTokens.UNK),
                RobertaTokens.MASK);

        private final List<String> first;
        private final String last;

        SpecialTokens(List<String> first, String last) {
            this.first = first;
            this.last = last;
        }

        /** How many ids the special tokens take. */
        public int count() {
            return first.size() + 1;
        }
    }

    private final List<int[]> words = new ArrayList<>();
    private final List<Long> frequencies = new ArrayList<>();
    private final Map<Long, Long> pairCounts = new HashMap<>();
    private final Map<Long, List<Integer>> pairWords = new HashMap<>();
    private final PriorityQueue<long[]> queue = new PriorityQueue<>(BpeTrainer::compareCandidates);
    private final List<byte[]> tokens = new ArrayList<>();
    private final Map<String, Integer> idsByBytes = new HashMap<>();
    private int[] visited;

    private BpeTrainer() {}

    /**
     * Trains on the texts (any bytes) until the vocabulary has {@code vocabSize} ids, {@code <|endoftext|>} included,
     * or until no pair is left to merge. {@code progress} may be null.
     */
    public static GPT2Tokenizer train(List<byte[]> texts, int vocabSize, Progress progress) {
        return train(texts, vocabSize, SpecialTokens.GPT2, progress);
    }

    /**
     * Trains on the texts until the vocabulary has {@code vocabSize} ids, the special tokens included, or until no
     * pair is left to merge. {@code progress} may be null.
     */
    public static GPT2Tokenizer train(List<byte[]> texts, int vocabSize, SpecialTokens specials, Progress progress) {
        int smallest = 256 + specials.count();
        if (vocabSize < smallest) {
            List<String> names = new ArrayList<>(specials.first);
            names.add(specials.last);
            throw new IllegalArgumentException("vocab size " + vocabSize + " is too small: 256 bytes + "
                    + String.join(", ", names) + " need " + smallest);
        }
        BpeTrainer trainer = new BpeTrainer();
        trainer.countWords(texts);
        return trainer.learn(vocabSize - specials.count(), progress).withSpecials(specials);
    }

    private void countWords(List<byte[]> texts) {
        Map<String, Long> counts = new HashMap<>();
        for (byte[] text : texts) {
            for (int pos = 0; pos < text.length; ) {
                int end = PreTokenizer.nextPiece(text, pos, text.length);
                if (end - pos > 1) counts.merge(latin1(text, pos, end), 1L, Long::sum);
                pos = end;
            }
        }
        int[] idOfByte = new int[256];
        for (int id = 0; id < 256; id++) {
            int b = ByteLevel.BYTE_ORDER[id];
            idOfByte[b] = id;
            tokens.add(new byte[] {(byte) b});
            idsByBytes.put(latin1(tokens.get(id), 0, 1), id);
        }
        // Sorted, so that the order of the work (not only its result) is the same on every run.
        List<String> distinct = new ArrayList<>(counts.keySet());
        distinct.sort(null);
        for (String word : distinct) {
            int[] symbols = new int[word.length()];
            for (int i = 0; i < symbols.length; i++) symbols[i] = idOfByte[word.charAt(i)];
            int w = words.size();
            words.add(symbols);
            frequencies.add(counts.get(word));
            for (int i = 0; i + 1 < symbols.length; i++) {
                long pair = pair(symbols[i], symbols[i + 1]);
                pairCounts.merge(pair, counts.get(word), Long::sum);
                pairWords.computeIfAbsent(pair, p -> new ArrayList<>()).add(w);
            }
        }
        pairCounts.forEach((pair, count) -> queue.add(new long[] {count, pair}));
        visited = new int[words.size()];
    }

    /** The learned vocabulary: bytes and merged tokens, ids from 0, before the special tokens are placed. */
    private record Learned(List<byte[]> tokens, List<Integer> mergeLeft, List<Integer> mergeRight) {
        /**
         * Shifts the learned ids past the leading special tokens and appends the last one. Shifting every id by the
         * same amount keeps the order that broke ties, so the merges are those training with the shift would learn.
         */
        GPT2Tokenizer withSpecials(SpecialTokens specials) {
            int shift = specials.first.size();
            byte[][] all = new byte[shift + tokens.size() + 1][];
            Map<String, Integer> ids = new LinkedHashMap<>();
            for (int id = 0; id < shift; id++) {
                all[id] = specials.first.get(id).getBytes(StandardCharsets.UTF_8);
                ids.put(specials.first.get(id), id);
            }
            for (int id = 0; id < tokens.size(); id++) all[shift + id] = tokens.get(id);
            all[all.length - 1] = specials.last.getBytes(StandardCharsets.UTF_8);
            ids.put(specials.last, all.length - 1);
            int[] left = mergeLeft.stream().mapToInt(id -> id + shift).toArray();
            int[] right = mergeRight.stream().mapToInt(id -> id + shift).toArray();
            return new GPT2Tokenizer(all, left, right, ids);
        }
    }

    /** Merges until there are {@code learnedSize} bytes and tokens, or no pair is left. */
    private Learned learn(int learnedSize, Progress progress) {
        List<Integer> mergeLeft = new ArrayList<>();
        List<Integer> mergeRight = new ArrayList<>();
        int wanted = learnedSize - 256;
        int stamp = 0;
        while (tokens.size() < learnedSize && !queue.isEmpty()) {
            long[] candidate = queue.poll();
            long pair = candidate[1];
            if (pairCounts.getOrDefault(pair, 0L) != candidate[0] || candidate[0] == 0) continue;
            int left = (int) (pair >>> 32);
            int right = (int) pair;
            byte[] bytes = concat(tokens.get(left), tokens.get(right));
            // Two merges can spell the same bytes (a+bc and ab+c); the token then keeps its first id.
            Integer merged = idsByBytes.get(latin1(bytes, 0, bytes.length));
            if (merged == null) {
                merged = tokens.size();
                tokens.add(bytes);
                idsByBytes.put(latin1(bytes, 0, bytes.length), merged);
            }
            mergeLeft.add(left);
            mergeRight.add(right);
            applyMerge(pair, left, right, merged, ++stamp);
            if (progress != null) progress.update(tokens.size() - 256, wanted);
        }
        return new Learned(tokens, mergeLeft, mergeRight);
    }

    /** Rewrites every piece that holds the pair and updates the pair counts by the difference. */
    private void applyMerge(long pair, int left, int right, int merged, int stamp) {
        Map<Long, Long> delta = new HashMap<>();
        for (int w : pairWords.remove(pair)) {
            if (visited[w] == stamp) continue;
            visited[w] = stamp;
            int[] old = words.get(w);
            int[] now = new int[old.length];
            int n = 0;
            for (int i = 0; i < old.length; i++) {
                if (i + 1 < old.length && old[i] == left && old[i + 1] == right) {
                    now[n++] = merged;
                    i++;
                } else {
                    now[n++] = old[i];
                }
            }
            if (n == old.length) continue;
            now = Arrays.copyOf(now, n);
            words.set(w, now);
            long frequency = frequencies.get(w);
            for (int i = 0; i + 1 < old.length; i++) delta.merge(pair(old[i], old[i + 1]), -frequency, Long::sum);
            for (int i = 0; i + 1 < n; i++) {
                long p = pair(now[i], now[i + 1]);
                delta.merge(p, frequency, Long::sum);
                if (now[i] == merged || now[i + 1] == merged) pairWords.computeIfAbsent(p, k -> new ArrayList<>()).add(w);
            }
        }
        delta.forEach((p, change) -> {
            if (change == 0) return;
            long count = pairCounts.merge(p, change, Long::sum);
            if (count > 0) queue.add(new long[] {count, p});
        });
    }

    /** Higher count first; on a tie the smaller left id, then the smaller right id. */
    private static int compareCandidates(long[] a, long[] b) {
        if (a[0] != b[0]) return Long.compare(b[0], a[0]);
        return Long.compare(a[1], b[1]);
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | right;
    }

    private static String latin1(byte[] bytes, int from, int to) {
        return new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
