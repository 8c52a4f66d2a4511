package org.jgpt.train.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.RepoFiles;
import org.jgpt.train.objective.Masking.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Masking over many draws on framed rows of Moby-Dick, tokenized with a RoBERTa-style vocabulary trained in the test.
 * Statistical checks allow 5 standard deviations of the count they test (a false failure about once in 1.7 million).
 */
class MaskingTest {
    private static final byte[] MOBY = mobyDick(200_000);
    private static final GPT2Tokenizer TOKENIZER =
            BpeTrainer.train(List.of(MOBY), 1000, BpeTrainer.SpecialTokens.ROBERTA, null);
    private static final RobertaTokens SPECIAL = RobertaTokens.of(TOKENIZER);
    private static final int[] TEXT = TOKENIZER.encode(MOBY);
    /** Ids a random replacement is drawn from: all but the 5 special tokens. */
    private static final int ORDINARY = TOKENIZER.vocabSize() - 5;
    private static final int BATCH = 32;
    private static final int SEQ = 128;
    private static final int DRAWS = 20;

    private static byte[] mobyDick(int bytes) {
        try {
            return Arrays.copyOf(Files.readAllBytes(RepoFiles.find("data/corpora/moby-dick.txt")), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** BATCH framed rows of text at random places: even rows one sequence, odd rows a pair padded to SEQ. */
    private static int[] rows(long seed) {
        Random random = new Random(seed);
        int[] rows = new int[BATCH * SEQ];
        for (int row = 0; row < BATCH; row++) {
            int[] framed;
            if (row % 2 == 0) {
                framed = SPECIAL.frame(text(random, SEQ - 2));
            } else {
                framed = SPECIAL.frame(text(random, 1 + random.nextInt(40)), text(random, 1 + random.nextInt(40)));
            }
            Arrays.fill(rows, row * SEQ, (row + 1) * SEQ, SPECIAL.pad());
            System.arraycopy(framed, 0, rows, row * SEQ, framed.length);
        }
        return rows;
    }

    private static int[] text(Random random, int length) {
        int from = random.nextInt(TEXT.length - length);
        return Arrays.copyOfRange(TEXT, from, from + length);
    }

    /** The words of positions [from, to), as the masking defines them: [start, end) pairs. */
    private static List<int[]> words(int[] ids, int from, int to) {
        List<int[]> words = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (SPECIAL.isSpecial(ids[i])) continue;
            boolean start = i == from || SPECIAL.isSpecial(ids[i - 1]) || TOKENIZER.tokenBytes(ids[i])[0] == ' ';
            if (start) words.add(new int[] {i, i + 1});
            else words.getLast()[1] = i + 1;
        }
        return words;
    }

    private static int budget(double rate, int tokens) {
        return Math.max(1, (int) Math.round(rate * tokens));
    }

    private static double fiveSigmas(double n, double p) {
        return 5 * Math.sqrt(n * p * (1 - p));
    }

    /** The outcome of one draw: the rows before and after, and the labels. */
    private record Draw(int[] original, int[] corrupted, int[] labels) {
        static Draw of(Masking masking, long seed) {
            int[] original = rows(seed);
            int[] corrupted = original.clone();
            int[] labels = new int[original.length];
            masking.apply(corrupted, labels, BATCH, SEQ, seed * 7919 + 1);
            return new Draw(original, corrupted, labels);
        }

        boolean chosen(int i) {
            return labels[i] != Masking.IGNORED;
        }
    }

    @ParameterizedTest
    @CsvSource({"TOKENS, 0.15", "TOKENS, 0.4", "WHOLE_WORDS, 0.15", "WHOLE_WORDS, 0.4", "SPANS, 0.15", "SPANS, 0.4"})
    void choosesTheRateOfNonSpecialTokensAndNeverASpecialOne(Kind kind, double rate) {
        Masking masking = new Masking(kind, rate, SPECIAL, TOKENIZER);
        long tokens = 0;
        long chosen = 0;
        double slack = 0; // what the word kinds' rules allow beyond rate × tokens, summed over rows
        for (int seed = 0; seed < DRAWS; seed++) {
            Draw draw = Draw.of(masking, seed);
            for (int i = 0; i < draw.original.length; i++) {
                int id = draw.original[i];
                if (draw.chosen(i)) assertEquals(id, draw.labels[i], "a label is the original token");
                if (SPECIAL.isSpecial(id)) assertFalse(draw.chosen(i), "special token " + id + " chosen at " + i);
                if (!draw.chosen(i)) assertEquals(id, draw.corrupted[i], "an unchosen token changed at " + i);
                if (draw.corrupted[i] != id && draw.corrupted[i] != SPECIAL.mask()) {
                    assertFalse(SPECIAL.isSpecial(draw.corrupted[i]), "a random replacement is special at " + i);
                }
            }
            for (int row = 0; row < BATCH; row++) {
                List<int[]> words = words(draw.original, row * SEQ, (row + 1) * SEQ);
                int rowTokens = words.stream().mapToInt(w -> w[1] - w[0]).sum();
                int rowChosen = 0;
                int longestUnchosen = 0;
                int shortestUnchosen = Integer.MAX_VALUE;
                int longest = 0;
                for (int[] word : words) {
                    int inWord = 0;
                    for (int i = word[0]; i < word[1]; i++) if (draw.chosen(i)) inWord++;
                    int length = word[1] - word[0];
                    if (kind != Kind.TOKENS) {
                        assertTrue(inWord == 0 || inWord == length, "a word of " + length + " tokens is partly chosen");
                    }
                    rowChosen += inWord;
                    longest = Math.max(longest, length);
                    if (inWord == 0) {
                        longestUnchosen = Math.max(longestUnchosen, length);
                        shortestUnchosen = Math.min(shortestUnchosen, length);
                    }
                }
                int budget = budget(rate, rowTokens);
                if (kind == Kind.WHOLE_WORDS) {
                    // Never over the budget; short of it only if no unchosen word fits in what is left.
                    assertTrue(rowChosen <= budget, rowChosen + " chosen, budget " + budget);
                    if (rowChosen < budget) assertTrue(shortestUnchosen > budget - rowChosen, "a word still fits");
                    slack += budget - rowChosen;
                } else if (kind == Kind.SPANS) {
                    // The budget is met; the last span keeps its last word whole, so may overshoot by less than a word.
                    assertTrue(rowChosen >= budget && rowChosen < budget + longest,
                            rowChosen + " chosen, budget " + budget);
                    slack += longest - 1;
                }
                tokens += rowTokens;
                chosen += rowChosen;
            }
        }
        if (kind == Kind.TOKENS) {
            assertEquals(rate * tokens, chosen, fiveSigmas(tokens, rate), "chosen tokens are a binomial draw");
        } else {
            // Each row's budget is rate × its tokens rounded (±0.5), and the rules checked above allow the slack.
            assertEquals(rate * tokens, chosen, 0.5 * BATCH * DRAWS + slack, chosen + " of " + tokens);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void chosenTokensAreMaskedRandomizedOrKeptEightyTenTen(Kind kind) {
        Masking masking = new Masking(kind, 0.15, SPECIAL, TOKENIZER);
        long chosen = 0;
        long masked = 0;
        long randomized = 0;
        long kept = 0;
        long runSquares = 0;
        for (int seed = 0; seed < DRAWS; seed++) {
            Draw draw = Draw.of(masking, seed);
            int run = 0;
            for (int i = 0; i < draw.original.length; i++) {
                if (!draw.chosen(i)) {
                    runSquares += (long) run * run;
                    run = 0;
                    continue;
                }
                run++;
                chosen++;
                if (draw.corrupted[i] == SPECIAL.mask()) masked++;
                else if (draw.corrupted[i] != draw.original[i]) randomized++;
                else kept++;
            }
            runSquares += (long) run * run;
        }
        // A random replacement is the original token again once in ORDINARY times, and then looks kept.
        double pMasked = 0.8;
        double pRandomized = 0.1 * (1 - 1.0 / ORDINARY);
        double pKept = 0.1 + 0.1 / ORDINARY;
        if (kind == Kind.SPANS) {
            // Decided per span, so counts move a span at a time. A span's count is nonzero with probability p and at
            // most the span's length, so its variance is at most p × span²; spans split the runs of chosen tokens, so
            // Σ span² ≤ Σ run².
            assertEquals(pMasked * chosen, masked, 5 * Math.sqrt(pMasked * (1 - pMasked) * runSquares));
            assertEquals(pRandomized * chosen, randomized, 5 * Math.sqrt(0.1 * runSquares));
            assertEquals(pKept * chosen, kept, 5 * Math.sqrt(0.2 * runSquares));
        } else {
            assertEquals(pMasked * chosen, masked, fiveSigmas(chosen, pMasked), "masked");
            assertEquals(pRandomized * chosen, randomized, fiveSigmas(chosen, pRandomized), "randomized");
            assertEquals(pKept * chosen, kept, fiveSigmas(chosen, pKept), "kept");
        }
    }

    @Test
    void spansAreCorruptedAsAWholeWordsTokenByToken() {
        // Rows of single words of 3+ tokens, each between special tokens, so that every span is exactly one word.
        List<int[]> longWords = words(TEXT, 0, TEXT.length).stream().filter(w -> w[1] - w[0] >= 3).toList();
        int[] rows = new int[BATCH * SEQ];
        Arrays.fill(rows, SPECIAL.pad());
        int next = 0;
        for (int row = 0; row < BATCH; row++) {
            int at = row * SEQ;
            rows[at++] = SPECIAL.bos();
            while (true) {
                int[] word = longWords.get(next++ % longWords.size());
                if (at + word[1] - word[0] + 1 > (row + 1) * SEQ) break;
                for (int i = word[0]; i < word[1]; i++) rows[at++] = TEXT[i];
                rows[at++] = SPECIAL.eos();
            }
        }
        assertEquals(0, mixedWords(Kind.SPANS, rows), "a span is masked, randomized or kept as a whole");
        assertTrue(mixedWords(Kind.WHOLE_WORDS, rows) > 0, "whole-word masking decides token by token");
    }

    /** How many chosen words over the draws have both masked and unmasked tokens. */
    private static int mixedWords(Kind kind, int[] rows) {
        Masking masking = new Masking(kind, 0.4, SPECIAL, TOKENIZER);
        int mixed = 0;
        for (int seed = 0; seed < DRAWS; seed++) {
            int[] corrupted = rows.clone();
            masking.apply(corrupted, new int[rows.length], BATCH, SEQ, seed);
            for (int[] word : words(rows, 0, rows.length)) {
                long masks = Arrays.stream(corrupted, word[0], word[1]).filter(id -> id == SPECIAL.mask()).count();
                if (masks > 0 && masks < word[1] - word[0]) mixed++;
            }
        }
        return mixed;
    }

    @Test
    void spanLengthsFollowTheGeometricDistributionRenormalisedOverOneToTen() {
        double q = 1 - Masking.SPAN_P;
        double[] p = new double[11];
        double mean = 0;
        double square = 0;
        for (int length = 1; length <= 10; length++) {
            p[length] = Math.pow(q, length - 1) * Masking.SPAN_P / (1 - Math.pow(q, 10));
            mean += length * p[length];
            square += length * length * p[length];
        }
        assertEquals(3.797, mean, 0.0005, "SpanBERT's paper gives a mean span of 3.8 words");
        int draws = 200_000;
        long[] counts = new long[11];
        long sum = 0;
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < draws; i++) {
            int length = Masking.spanLength(random);
            assertTrue(length >= 1 && length <= 10, "length " + length);
            counts[length]++;
            sum += length;
        }
        for (int length = 1; length <= 10; length++) {
            assertEquals(draws * p[length], counts[length], fiveSigmas(draws, p[length]),
                    "spans of " + length + " words");
        }
        double sigma = Math.sqrt(square - mean * mean);
        assertEquals(mean, (double) sum / draws, 5 * sigma / Math.sqrt(draws), "mean span length");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theSameSeedGivesTheSameResultAndAnotherSeedAnother(Kind kind) {
        Masking masking = new Masking(kind, 0.15, SPECIAL, TOKENIZER);
        int[] rows = rows(1);
        int[][] outputs = new int[3][];
        int[][] labels = new int[3][rows.length];
        long[] seeds = {5, 5, 6};
        for (int k = 0; k < 3; k++) {
            outputs[k] = rows.clone();
            masking.apply(outputs[k], labels[k], BATCH, SEQ, seeds[k]);
        }
        assertArrayEquals(outputs[0], outputs[1]);
        assertArrayEquals(labels[0], labels[1]);
        assertFalse(Arrays.equals(labels[0], labels[2]), "seeds 5 and 6 chose the same tokens");
        assertFalse(Arrays.equals(outputs[0], outputs[2]), "seeds 5 and 6 corrupted the rows alike");
    }

    @Test
    void electrasSharesMaskOrKeepAndRtdRandomsReplaceEveryChosenToken() {
        long chosen = 0, masked = 0, kept = 0, randomized = 0;
        Masking electra = new Masking(Kind.TOKENS, 0.15, Masking.Replacement.ELECTRA, SPECIAL, TOKENIZER);
        for (int seed = 0; seed < DRAWS; seed++) {
            Draw draw = Draw.of(electra, seed);
            for (int i = 0; i < draw.original.length; i++) {
                if (!draw.chosen(i)) continue;
                chosen++;
                if (draw.corrupted[i] == SPECIAL.mask()) masked++;
                else if (draw.corrupted[i] == draw.original[i]) kept++;
            }
        }
        assertEquals(chosen, masked + kept, "ELECTRA's generator input has no random tokens");
        assertEquals(0.85 * chosen, masked, fiveSigmas(chosen, 0.85), "masked");

        chosen = 0;
        Masking uniform = new Masking(Kind.TOKENS, 0.15, Masking.Replacement.RANDOM, SPECIAL, TOKENIZER);
        for (int seed = 0; seed < DRAWS; seed++) {
            Draw draw = Draw.of(uniform, seed);
            for (int i = 0; i < draw.original.length; i++) {
                if (!draw.chosen(i)) continue;
                chosen++;
                assertFalse(SPECIAL.isSpecial(draw.corrupted[i]), "a uniform replacement is never special, nor <mask>");
                if (draw.corrupted[i] != draw.original[i]) randomized++;
            }
        }
        // a uniform draw is the original token once in ORDINARY times
        double pChanged = 1 - 1.0 / ORDINARY;
        assertEquals(pChanged * chosen, randomized, fiveSigmas(chosen, pChanged), "replaced");
        assertThrows(IllegalArgumentException.class, () -> new Masking.Replacement(0.9, 0.2));
    }

    @Test
    void ratesOutsideZeroToOneAreRejected() {
        for (double rate : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Masking(Kind.TOKENS, rate, SPECIAL, TOKENIZER));
            assertEquals("masking rate must be in (0, 1): " + rate, e.getMessage());
        }
    }
}
