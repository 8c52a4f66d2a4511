package org.jgpt.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.tokenizer.RobertaTokens;
import org.jgpt.train.objective.Masking;
import org.jgpt.train.objective.TranslationPairs;

/**
 * Whether a masked-LM encoder uses a sentence's translation to fill in its masked words: over held-out pairs (every
 * 20th record, as tlm and contrastive-pairs hold them out), each pair one row {@code <s> a </s></s> b </s>}, the
 * tokens of one language are masked as mlm masks them (the other language's masks undone), and scored twice: with the
 * translation visible, and with every token of it replaced by {@code <mask>} (unlabelled; its framing and so its
 * length stay). Then the same the other way round. The same masks serve both conditions, so the two figures differ
 * only by what the translation shows.
 *
 * <p>A model trained with tlm names its languages in config.json and gets its layout: a language embedding per
 * segment, positions restarting at the second. Any other masked-LM encoder reads the row as RoBERTa reads a pair:
 * token type 0 throughout, positions running on.
 */
public final class TranslationLmEvaluation {
    /** One masked language's masked-token loss (nats) and accuracy with the other language visible and hidden. */
    public record Direction(String masked, String other, double visibleLoss, double visibleAccuracy, double hiddenLoss,
                            double hiddenAccuracy, long tokens) {}

    /** Both directions, the pairs scored, and whether the model's own language embeddings were used. */
    public record Result(List<Direction> directions, int pairs, boolean languageEmbeddings) {}

    private TranslationLmEvaluation() {}

    /**
     * @param fields the two JSONL fields (languages) of a pair; empty for the model's own languages (or, for a model
     *               that names none, anchor and positive)
     * @param limit  the first {@code limit} held-out pairs; 0 for all of them
     */
    public static Result run(Path modelDir, Path data, List<String> fields, double maskRate, int batch, long seed,
                             int limit) {
        EncoderConfig config = EncoderConfig.load(TrainableEncoder.requireMaskedLm(modelDir));
        Optional<List<String>> languages = TranslationLm.languages(modelDir);
        List<String> names = !fields.isEmpty() ? fields : languages.orElse(ContrastiveData.PAIR_FIELDS);
        if (names.size() != 2) throw new IllegalArgumentException("tlm needs two fields, one per language, not " + names);
        int[] languageIds = {0, 0};
        if (languages.isPresent()) {
            for (int side = 0; side < 2; side++) {
                languageIds[side] = languages.get().indexOf(names.get(side));
                if (languageIds[side] < 0) {
                    throw new IllegalArgumentException(modelDir + " was trained on languages " + languages.get()
                            + ", not '" + names.get(side) + "'");
                }
            }
        }
        List<ContrastiveData.Pair> records = ContrastiveData.read(data, names, true).heldOut();
        if (limit > 0 && limit < records.size()) records = records.subList(0, limit);
        if (records.isEmpty()) throw new IllegalArgumentException(data + " has no held-out pairs (every 20th record)");

        GPT2Tokenizer tokenizer = GPT2Tokenizer.fromDirectory(modelDir);
        RobertaTokens special = RobertaTokens.of(tokenizer);
        int seqLen = config.maxLength();
        TranslationPairs rows = new TranslationPairs(special, seqLen);
        Masking masking = new Masking(Masking.Kind.TOKENS, maskRate, special, tokenizer);
        TrainableEncoder model = TrainableEncoder.open(modelDir, TrainableEncoder.Heads.maskedLmOnly(), batch, seqLen, 0f,
                false, 0);
        Batch b = new Batch(batch, seqLen);
        Tally[][] tallies = {{new Tally(), new Tally()}, {new Tally(), new Tally()}}; // [masked side][visible, hidden]
        TranslationPairs.Pair empty = rows.fit(new int[0], new int[0]); // fills a last batch's unused rows
        for (int start = 0; start < records.size(); start += batch) {
            TranslationPairs.Pair[] pairs = new TranslationPairs.Pair[batch];
            for (int row = 0; row < batch; row++) {
                int i = start + row;
                pairs[row] = i < records.size()
                        ? rows.fit(tokenizer.encode(records.get(i).anchor()), tokenizer.encode(records.get(i).positive()))
                        : empty;
                rows.write(row, pairs[row], languageIds[0], languageIds[1], b.original, b.typeIds, b.positionIds, b.lengths);
            }
            int[] masked = b.original.clone();
            int[] labels = new int[batch * seqLen];
            masking.apply(masked, labels, batch, seqLen, BatchLoader.mix(seed, -1 - start / batch));
            TrainableEncoder.Segments segments = languages.isPresent() ? new TrainableEncoder.Segments(b.typeIds, b.positionIds) : null;
            for (int side = 0; side < 2; side++) {
                int[] inputs = masked.clone();
                int[] sideLabels = labels.clone();
                for (int row = 0; row < batch; row++) {
                    int[] other = otherSegment(pairs[row], side);
                    for (int t = other[0]; t < other[1]; t++) {
                        int at = row * seqLen + t;
                        inputs[at] = b.original[at];
                        sideLabels[at] = Masking.IGNORED;
                    }
                }
                tallies[side][0].add(model, model.evaluate(inputs, b.lengths, segments, sideLabels, null));
                for (int row = 0; row < batch; row++) {
                    int[] other = otherSegment(pairs[row], side);
                    // the other sentence's words; its </s> framing stays
                    for (int t = other[0] + 1; t < other[1] - 1; t++) inputs[row * seqLen + t] = special.mask();
                }
                tallies[side][1].add(model, model.evaluate(inputs, b.lengths, segments, sideLabels, null));
            }
        }
        List<Direction> directions = new ArrayList<>();
        for (int side = 0; side < 2; side++) {
            Tally visible = tallies[side][0], hidden = tallies[side][1];
            directions.add(new Direction(names.get(side), names.get(1 - side), visible.loss(), visible.accuracy(),
                    hidden.loss(), hidden.accuracy(), visible.tokens));
        }
        return new Result(directions, records.size(), languages.isPresent());
    }

    /** Row positions [from, to) of the segment that is not {@code side}'s: {@code <s> a </s>} or {@code </s> b </s>}. */
    private static int[] otherSegment(TranslationPairs.Pair pair, int side) {
        return side == 0 ? new int[] {pair.secondStart(), pair.length()} : new int[] {0, pair.secondStart()};
    }

    /** The rows of one batch before masking. */
    private static final class Batch {
        final int[] original, typeIds, positionIds, lengths;

        Batch(int batch, int seqLen) {
            original = new int[batch * seqLen];
            typeIds = new int[batch * seqLen];
            positionIds = new int[batch * seqLen];
            lengths = new int[batch];
        }
    }

    /** Sums over the masked tokens of a condition. */
    private static final class Tally {
        double lossSum;
        long correct;
        long tokens;

        void add(TrainableEncoder model, float meanLoss) {
            int count = model.maskedLmCount();
            lossSum += (double) meanLoss * count;
            correct += model.maskedLmCorrect();
            tokens += count;
        }

        double loss() {
            return tokens == 0 ? Double.NaN : lossSum / tokens;
        }

        double accuracy() {
            return tokens == 0 ? Double.NaN : (double) correct / tokens;
        }
    }
}
