package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jgpt.io.AtomicFiles;
import org.jgpt.model.ElectraConfig;

/**
 * ELECTRA's pair for replaced-token detection (Clark et al. 2020): a generator, a narrow masked-LM encoder, fills the
 * masked positions with tokens drawn from its own distribution, and a discriminator tells at every token whether it
 * is the original; the two share their embeddings (tables and LayerNorm, as ELECTRA shares its whole embeddings
 * scope). The loss is the generator's masked-LM loss plus λ × the discriminator's, with no gradient through the
 * sampling. Without a generator (rtd-random) the replacements come from elsewhere and the loss is the
 * discriminator's alone.
 *
 * <p>Saved as two Hugging Face folders: the discriminator (ElectraForPreTraining, the model to fine-tune) in the
 * folder itself, the generator (ElectraForMaskedLM) in its {@value #GENERATOR_FOLDER}/ subfolder; each carries the
 * shared embeddings.
 */
final class TrainableElectra {
    static final String GENERATOR_FOLDER = "generator";

    private final ElectraConfig discriminatorConfig;
    private final ElectraConfig generatorConfig; // null: no generator
    private final float discriminatorWeight;
    private final ElectraEncoder.Embeddings embeddings;
    private final ElectraGenerator generator;
    private final ElectraDiscriminator discriminator;
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<HfTensor> discriminatorLayout, generatorLayout;
    private final int[] corrupted;
    private float generatorLoss, discriminatorLoss;

    /**
     * The pair for batches of {@code batch} × {@code seqLen}; {@code generatorConfig} null for the discriminator alone.
     * {@code discriminatorWeight} is λ, by which the discriminator's loss is multiplied beside the generator's.
     */
    TrainableElectra(ElectraConfig discriminatorConfig, ElectraConfig generatorConfig, float discriminatorWeight, int batch,
                     int seqLen, float dropout) {
        if (!(discriminatorWeight > 0)) {
            throw new IllegalArgumentException("the discriminator's weight λ must be positive: " + discriminatorWeight);
        }
        if (generatorConfig != null) requireGeneratorFits(generatorConfig, discriminatorConfig);
        this.discriminatorConfig = discriminatorConfig;
        this.generatorConfig = generatorConfig;
        this.discriminatorWeight = discriminatorWeight;
        this.embeddings = new ElectraEncoder.Embeddings(discriminatorConfig);
        this.generator = generatorConfig == null ? null : new ElectraGenerator(generatorConfig, embeddings, batch, seqLen, dropout);
        this.discriminator = new ElectraDiscriminator(discriminatorConfig, embeddings, batch, seqLen, dropout);
        parameters.addAll(embeddings.parameters()); // once, though both models use them
        if (generator != null) parameters.addAll(generator.parameters());
        parameters.addAll(discriminator.parameters());
        discriminatorLayout = discriminator.huggingFaceLayout();
        generatorLayout = generator == null ? List.of() : generator.huggingFaceLayout();
        corrupted = new int[batch * seqLen];
    }

    private static void requireGeneratorFits(ElectraConfig generator, ElectraConfig discriminator) {
        if (generator.hiddenSize() > discriminator.hiddenSize()) {
            throw new IllegalArgumentException("the generator (hidden size " + generator.hiddenSize() + ") is wider than"
                    + " the discriminator (" + discriminator.hiddenSize() + "): ELECTRA's generator is the smaller model");
        }
        boolean sameEmbeddings = generator.vocabSize() == discriminator.vocabSize()
                && generator.embeddingSize() == discriminator.embeddingSize()
                && generator.maxPositionEmbeddings() == discriminator.maxPositionEmbeddings()
                && generator.typeVocabSize() == discriminator.typeVocabSize()
                && generator.padTokenId() == discriminator.padTokenId()
                && generator.layerNormEps() == discriminator.layerNormEps();
        if (!sameEmbeddings) {
            throw new IllegalArgumentException("the generator and discriminator share their embeddings, so need the same"
                    + " vocabulary, embedding size, positions, token types, padding and LayerNorm eps: " + generator
                    + " vs " + discriminator);
        }
    }

    List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    boolean hasGenerator() {
        return generator != null;
    }

    ElectraConfig discriminatorConfig() {
        return discriminatorConfig;
    }

    ElectraConfig generatorConfig() {
        return generatorConfig;
    }

    void initialize(long seed) {
        initialize(parameters, embeddings, discriminatorConfig.padTokenId(), seed);
    }

    /**
     * BERT's initialisation, as Hugging Face's ElectraPreTrainedModel: N(0, 0.02) matrices and embeddings (the word
     * embeddings' padding row 0), zero biases, unit LayerNorm gains.
     */
    static void initialize(List<Parameter> parameters, ElectraEncoder.Embeddings embeddings, int padTokenId, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : parameters) {
            boolean gain = p.name().endsWith("LayerNorm.weight") || p.name().endsWith("ln_1.weight")
                    || p.name().endsWith("ln_2.weight");
            if (gain) {
                Arrays.fill(p.value(), 1f);
            } else if (p.matrix()) {
                for (int i = 0; i < p.value().length; i++) p.value()[i] = (float) (random.nextGaussian() * 0.02);
            } else {
                Arrays.fill(p.value(), 0f);
            }
        }
        int e = (int) embeddings.word().shape()[1];
        Arrays.fill(embeddings.word().value(), padTokenId * e, (padTokenId + 1) * e, 0f);
    }

    void zeroGrad() {
        for (Parameter p : parameters) Arrays.fill(p.grad(), 0f);
    }

    /**
     * One batch: the generator's loss on {@code masked} (labels at the masked positions), its samples (one uniform each
     * from {@code sampleSeed}) written over {@code original} at those positions, and the discriminator's loss on the
     * result. Without a generator the discriminator sees {@code masked} as it is. Returns {@link #loss()}; keeps what
     * {@link #backward} needs.
     */
    float forward(int[] original, int[] masked, int[] lengths, int[] labels, long sampleSeed, boolean training,
                  long dropoutSeed) {
        if (generator == null) return discriminatorForward(masked, original, lengths, training, dropoutSeed);
        generatorForward(masked, lengths, labels, training, dropoutSeed);
        System.arraycopy(original, 0, corrupted, 0, corrupted.length);
        generator.sample(corrupted, new SplittableRandom(sampleSeed));
        // the two models draw different dropout masks
        return discriminatorForward(corrupted, original, lengths, training, BatchLoader.mix(dropoutSeed, 1));
    }

    /** The generator's masked-LM loss on {@code masked}; {@link #sample} then draws from its distribution. */
    float generatorForward(int[] masked, int[] lengths, int[] labels, boolean training, long dropoutSeed) {
        generatorLoss = generator.forward(masked, lengths, labels, training, dropoutSeed);
        return generatorLoss;
    }

    /** Writes a draw from the generator's distribution over {@code tokens} at each position of its last forward's labels. */
    void sample(int[] tokens, SplittableRandom random) {
        generator.sample(tokens, random);
    }

    /**
     * The discriminator's loss on {@code inputs}, a token replaced wherever it differs from {@code original}; returns
     * the pair's {@link #loss()}.
     */
    float discriminatorForward(int[] inputs, int[] original, int[] lengths, boolean training, long dropoutSeed) {
        discriminatorLoss = discriminator.forward(inputs, original, lengths, training, dropoutSeed);
        return loss();
    }

    /** The last batch's loss: generator + λ × discriminator, or the discriminator's alone without a generator. */
    float loss() {
        return generator == null ? discriminatorLoss : generatorLoss + discriminatorWeight * discriminatorLoss;
    }

    float generatorLoss() {
        return generatorLoss;
    }

    float discriminatorLoss() {
        return discriminatorLoss;
    }

    ElectraGenerator generator() {
        return generator;
    }

    ElectraDiscriminator discriminator() {
        return discriminator;
    }

    /** Accumulates into every parameter's gradient that of {@code lossScale} × the last batch's {@link #loss()}. */
    void backward(float lossScale) {
        if (generator == null) {
            discriminator.backward(lossScale);
            return;
        }
        generator.backward(lossScale);
        discriminator.backward(lossScale * discriminatorWeight);
    }

    /** The discriminator's parameters (or gradients) by ElectraForPreTraining's names; the shared embeddings' included. */
    Map<String, float[]> discriminatorTensors(boolean gradients) {
        return HfTensor.read(discriminatorLayout, gradients);
    }

    /** The generator's parameters (or gradients) by ElectraForMaskedLM's names; the shared embeddings' included. */
    Map<String, float[]> generatorTensors(boolean gradients) {
        return HfTensor.read(generatorLayout, gradients);
    }

    /** Writes the discriminator's folder at {@code dir} and, if there is one, the generator's in {@code dir}/generator. */
    void save(Path dir) throws IOException {
        HfTensor.save(dir, discriminatorLayout, discriminatorConfig.toJson("ElectraForPreTraining", Map.of()));
        if (generator != null) {
            HfTensor.save(dir.resolve(GENERATOR_FOLDER), generatorLayout, generatorConfig.toJson("ElectraForMaskedLM", Map.of()));
        }
    }

    /**
     * Writes {@code dir}/tokenizer_config.json, which tells transformers that the vocabulary is RoBERTa's byte-level
     * BPE, as jgpt's ELECTRA models use: an ELECTRA folder would otherwise be read as WordPiece.
     */
    static void writeRobertaTokenizerConfig(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"RobertaTokenizer\"}\n");
    }

    /** Reads back what {@link #save} wrote; returns the tensors it lacks, the generator's as "generator/NAME". */
    List<String> load(Path dir) {
        List<String> missing = new ArrayList<>(HfTensor.load(dir, discriminatorLayout));
        if (generator != null) {
            for (String name : HfTensor.load(dir.resolve(GENERATOR_FOLDER), generatorLayout)) missing.add(GENERATOR_FOLDER + "/" + name);
        }
        return missing;
    }
}
