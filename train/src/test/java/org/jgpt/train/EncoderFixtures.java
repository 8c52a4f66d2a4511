package org.jgpt.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;
import org.jgpt.tokenizer.BpeTrainer;
import org.jgpt.tokenizer.GPT2Tokenizer;

/** What the encoder training tests share: their small corpora with RoBERTa vocabularies, and a run's recorded figures. */
final class EncoderFixtures {
    private EncoderFixtures() {}

    /**
     * A 400-token RoBERTa vocabulary from Moby-Dick's first 100,000 characters, and six 2,000-character parts of the
     * book prepared with it into {@code dir}/data, a third held out for validation.
     */
    static GPT2Tokenizer prepareMobyDick(Path dir) throws IOException {
        String moby = Files.readString(RepoFiles.find("data/corpora/moby-dick.txt"));
        GPT2Tokenizer tokenizer = BpeTrainer.train(List.of(moby.substring(0, 100_000).getBytes(StandardCharsets.UTF_8)),
                400, BpeTrainer.SpecialTokens.ROBERTA, null);
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (int i = 0; i < 6; i++) {
            Files.writeString(corpus.resolve("part" + i + ".txt"), moby.substring(10_000 * i + 5_000, 10_000 * i + 7_000));
        }
        CorpusPreparer.prepare(List.of(corpus), dir.resolve("data"), tokenizer, 0.34, 1_000_000, null);
        return tokenizer;
    }

    /** The first 100 English-French records of the Debian translations, one JSON object a line. */
    static List<String> englishFrenchPairs() throws IOException {
        return Files.readAllLines(RepoFiles.find("data/corpora/debian-l10n-en-fr/pairs.jsonl")).subList(0, 100);
    }

    /** A 400-token RoBERTa vocabulary from both sides of {@code pairs}' records, each on a line of its own. */
    static GPT2Tokenizer bilingualTokenizer(List<String> pairs) {
        StringBuilder both = new StringBuilder();
        for (String line : pairs) {
            Map<String, Object> pair = Json.parseObject(line);
            both.append(pair.get("en")).append('\n').append(pair.get("fr")).append('\n');
        }
        return BpeTrainer.train(List.of(both.toString().getBytes(StandardCharsets.UTF_8)), 400,
                BpeTrainer.SpecialTokens.ROBERTA, null);
    }

    /** Each step's loss, then each validation's negated loss and accuracy, in order: two runs compare as lists. */
    static final class Recorder implements Trainer.Listener {
        final List<Double> values = new ArrayList<>();

        @Override
        public void onStep(Trainer.StepMetrics metrics) {
            values.add(metrics.loss());
        }

        @Override
        public void onValidation(int step, double loss, double accuracy) {
            values.add(-loss);
            values.add(accuracy);
        }
    }
}
