package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Config;
import org.junit.jupiter.api.Test;

/**
 * Which parameters AdamW decays: matrices, and the embedding tables only without {@code --no-decay-embeddings}. The
 * embedding tables are named here as the Hugging Face layouts name them, independently of {@link Parameter#embedding}.
 * One step with zero gradients, learning rate 1 and weight decay 0.5 halves exactly the decayed parameters.
 */
class WeightDecayTest {
    private static final Set<String> ROBERTA_TABLES = Set.of("roberta.embeddings.word_embeddings.weight",
            "roberta.embeddings.position_embeddings.weight", "roberta.embeddings.token_type_embeddings.weight");

    @Test
    void gpt2ExemptsWteAndWpe() {
        GPT2Config config = new GPT2Config(31, 8, 12, 2, 3, 20, 1e-5f, "gelu_new", true, true, 30, 30);
        checkExempt(new TrainableGPT2(config, 1, 8, 0f).parameters(), Set.of("wte.weight", "wpe.weight"));
    }

    @Test
    void robertaAndThePermutationEncoderExemptTheirThreeTables() {
        EncoderConfig config = EncoderConfig.roberta(40, 16, 16, 1, 2);
        checkExempt(new TrainableEncoder(config, TrainableEncoder.Heads.maskedLmOnly(), 1, 8, 0f).parameters(), ROBERTA_TABLES);
        checkExempt(new PermutationEncoder(config, 1, 8, 0f).parameters(), ROBERTA_TABLES);
    }

    @Test
    void electraExemptsItsTablesButNotTheirProjection() {
        List<Parameter> parameters = List.of(new Parameter("electra.embeddings.word_embeddings.weight", 40, 8),
                new Parameter("electra.embeddings.position_embeddings.weight", 16, 8),
                new Parameter("electra.embeddings.token_type_embeddings.weight", 2, 8),
                new Parameter("electra.embeddings_project.weight", 16, 8),
                new Parameter("electra.embeddings_project.bias", 16));
        checkExempt(parameters, Set.of("electra.embeddings.word_embeddings.weight",
                "electra.embeddings.position_embeddings.weight", "electra.embeddings.token_type_embeddings.weight"));
    }

    /** With embeddings exempt, the matrices other than {@code tables} halve; with them decayed, every matrix does. */
    private static void checkExempt(List<Parameter> parameters, Set<String> tables) {
        Set<String> names = new TreeSet<>();
        for (Parameter p : parameters) names.add(p.name());
        assertTrue(names.containsAll(tables), "the tables " + tables + " among " + names);
        for (boolean decayEmbeddings : new boolean[] {true, false}) {
            Set<String> expected = new TreeSet<>();
            for (Parameter p : parameters) {
                if (p.shape().length == 2 && (decayEmbeddings || !tables.contains(p.name()))) expected.add(p.name());
            }
            assertEquals(expected, halvedByOneStep(parameters, decayEmbeddings), "decay_embeddings " + decayEmbeddings);
        }
    }

    /** The names of the parameters that one step from all ones halves; the others must stay at one. */
    private static Set<String> halvedByOneStep(List<Parameter> parameters, boolean decayEmbeddings) {
        for (Parameter p : parameters) {
            Arrays.fill(p.value(), 1f);
            Arrays.fill(p.grad(), 0f);
        }
        new AdamW(parameters, new AdamW.Settings(0.9f, 0.95f, 1e-8f, 0.5f, decayEmbeddings)).step(1f, 0f);
        Set<String> halved = new TreeSet<>();
        for (Parameter p : parameters) {
            float v = p.value()[0];
            if (v == 0.5f) halved.add(p.name());
            else assertEquals(1f, v, p.name() + " neither kept nor halved");
        }
        return halved;
    }
}
