package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jgpt.model.EncoderConfig;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tlm evaluation on a toy language pair: sentences of one or two words drawn independently from twelve, and their
 * word-for-word translations, so that a masked English word can be told only from its translation (and the other way
 * round): hidden, the best guess is one in twelve. A tiny encoder trained with tlm for a few seconds uses the
 * translation, an untrained one does not; hiding the translation hides all of it and nothing else; and an encoder
 * that names no languages is read in RoBERTa's pair layout.
 */
class TranslationLmEvaluationTest {
    private static final String[] ENGLISH = {"red", "green", "blue", "black", "white", "grey", "pink", "brown", "cat",
            "dog", "bird", "fish"};
    private static final String[] FRENCH = {"rouge", "vert", "bleu", "noir", "blanc", "gris", "rose", "brun", "chat",
            "chien", "oiseau", "poisson"};
    private static final double MASK_RATE = 0.4;

    @TempDir
    static Path dir;
    /** The pairs, and the same English with wrong translations of the same lengths. */
    private static Path pairs, wrongPairs;
    private static GPT2Tokenizer tokenizer;
    private static Path trained, untrained;

    @BeforeAll
    static void trainOnToyPairs() throws IOException {
        Random random = new Random(3);
        List<String> lines = new ArrayList<>(), wrong = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            List<String> en = new ArrayList<>(), fr = new ArrayList<>(), other = new ArrayList<>();
            for (int w = 1 + random.nextInt(2); w > 0; w--) {
                int k = random.nextInt(ENGLISH.length);
                en.add(ENGLISH[k]);
                fr.add(FRENCH[k]);
                other.add(FRENCH[(k + 1) % FRENCH.length]);
            }
            lines.add(record(en, fr));
            wrong.add(record(en, other));
            text.append(String.join(" ", en)).append('\n').append(String.join(" ", fr)).append('\n');
        }
        pairs = Files.write(dir.resolve("pairs.jsonl"), lines);
        wrongPairs = Files.write(dir.resolve("wrong.jsonl"), wrong);
        // enough merges that every word, with or without its leading space, is one token
        tokenizer = BpeTrainer.train(List.of(text.toString().getBytes(StandardCharsets.UTF_8)), 400,
                BpeTrainer.SpecialTokens.ROBERTA, null);
        EncoderConfig model = EncoderConfig.roberta(tokenizer.vocabSize(), 16, 32, 2, 2);
        TrainConfig config = new TrainConfig(pairs.toString(), 32, 16, 1, 300, 5e-3, 5e-4, 30, 0.01, true, 0.9, 0.98,
                1.0, 0.0, 0, 5, 0, 1, "tlm", MASK_RATE, 0.05, "mean", List.of("en", "fr"));
        trained = dir.resolve("trained");
        try (Trainer trainer = Trainer.start(config, model, tokenizer, trained)) {
            trainer.run(new Trainer.Listener() {}, () -> false);
        }
        untrained = dir.resolve("untrained");
        try (Trainer trainer = Trainer.start(config, model, tokenizer, untrained)) {
            trainer.encoder().initialize(1); // undoes the one step taken to save a checkpoint
            trainer.run(new Trainer.Listener() {}, () -> true);
        }
    }

    private static String record(List<String> en, List<String> fr) {
        return "{\"en\": \"" + String.join(" ", en) + "\", \"fr\": \"" + String.join(" ", fr) + "\"}";
    }

    private static TranslationLmEvaluation.Result evaluate(Path model, Path data, List<String> fields) {
        return TranslationLmEvaluation.run(model, data, fields, MASK_RATE, 8, 0, 0);
    }

    @Test
    void aTlmModelUsesTheTranslationAndAnUntrainedOneDoesNot() {
        TranslationLmEvaluation.Result result = evaluate(trained, pairs, List.of());
        assertTrue(result.languageEmbeddings());
        assertEquals(100, result.pairs(), "every 20th of 2,000 records");
        assertEquals(List.of("en", "fr"), result.directions().stream().map(TranslationLmEvaluation.Direction::masked).toList());
        for (TranslationLmEvaluation.Direction d : result.directions()) {
            assertTrue(d.tokens() > 30, d.toString());
            assertTrue(d.visibleAccuracy() > d.hiddenAccuracy() + 0.25, d.toString());
            assertTrue(d.visibleLoss() < d.hiddenLoss() - 0.25, d.toString());
        }
        for (TranslationLmEvaluation.Direction d : evaluate(untrained, pairs, List.of()).directions()) {
            assertTrue(Math.abs(d.visibleAccuracy() - d.hiddenAccuracy()) < 0.1, d.toString());
        }
    }

    @Test
    void hidingTheTranslationHidesAllOfItAndNothingElse() {
        // the same English and masks; only the French words differ
        TranslationLmEvaluation.Direction right = evaluate(trained, pairs, List.of()).directions().getFirst();
        TranslationLmEvaluation.Direction wrong = evaluate(trained, wrongPairs, List.of()).directions().getFirst();
        assertEquals(right.tokens(), wrong.tokens());
        assertEquals(right.hiddenLoss(), wrong.hiddenLoss());
        assertEquals(right.hiddenAccuracy(), wrong.hiddenAccuracy());
        assertNotEquals(right.visibleLoss(), wrong.visibleLoss());
        assertTrue(wrong.visibleAccuracy() < right.visibleAccuracy() - 0.25, "a wrong translation misleads: " + wrong);
    }

    @Test
    void theFieldsMayComeInEitherOrderButMustBeTheModelsLanguages() {
        TranslationLmEvaluation.Result reversed = evaluate(trained, pairs, List.of("fr", "en"));
        assertEquals(List.of("fr", "en"), reversed.directions().stream().map(TranslationLmEvaluation.Direction::masked).toList());
        for (TranslationLmEvaluation.Direction d : reversed.directions()) {
            assertTrue(d.visibleAccuracy() > d.hiddenAccuracy(), d.toString());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> evaluate(trained, pairs, List.of("en", "de")));
        assertEquals(trained + " was trained on languages [en, fr], not 'de'", e.getMessage());
    }

    @Test
    void anEncoderThatNamesNoLanguagesReadsRobertasPairLayout() throws IOException {
        EncoderConfig config = EncoderConfig.roberta(tokenizer.vocabSize(), 16, 32, 2, 2);
        TrainableEncoder maskedLm = new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmOnly(), 1, 16, 0f);
        maskedLm.initialize(5);
        Path folder = dir.resolve("mlm");
        maskedLm.save(folder, Map.of());
        tokenizer.save(folder);
        TranslationLmEvaluation.Result result = evaluate(folder, pairs, List.of("en", "fr"));
        assertFalse(result.languageEmbeddings());
        for (TranslationLmEvaluation.Direction d : result.directions()) {
            assertTrue(Double.isFinite(d.visibleLoss()) && Double.isFinite(d.hiddenLoss()), d.toString());
        }
    }
}
