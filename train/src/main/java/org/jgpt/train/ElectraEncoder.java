package org.jgpt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.kernel.Backprop;
import org.jgpt.kernel.Matmul;
import org.jgpt.kernel.Tensor;
import org.jgpt.model.ElectraConfig;

/**
 * The body of one ELECTRA model, Hugging Face's ElectraModel: word, position and token-type embeddings summed,
 * LayerNorm and dropout; {@code embeddings_project} to the hidden width when the embeddings are narrower or wider;
 * BERT's post-LN blocks attending both ways within each sequence's length. Positions count from 0, padding included,
 * and every token is of type 0, as in Hugging Face's ELECTRA.
 *
 * <p>The embedding tables and their LayerNorm ({@link Embeddings}) may belong to another model: ELECTRA's generator
 * and discriminator share them, each looking up its own tokens, both adding to their gradients.
 */
final class ElectraEncoder {
    /** ELECTRA's embeddings: the tables and the LayerNorm after their sum, named as Hugging Face names them. */
    record Embeddings(Parameter word, Parameter position, Parameter tokenType, Parameter lnWeight, Parameter lnBias) {
        Embeddings(ElectraConfig config) {
            this(new Parameter("electra.embeddings.word_embeddings.weight", config.vocabSize(), config.embeddingSize()),
                    new Parameter("electra.embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), config.embeddingSize()),
                    new Parameter("electra.embeddings.token_type_embeddings.weight", config.typeVocabSize(), config.embeddingSize()),
                    new Parameter("electra.embeddings.LayerNorm.weight", config.embeddingSize()),
                    new Parameter("electra.embeddings.LayerNorm.bias", config.embeddingSize()));
        }

        List<Parameter> parameters() {
            return List.of(word, position, tokenType, lnWeight, lnBias);
        }
    }

    private final ElectraConfig config;
    private final Embeddings embeddings;
    private final int batch, seqLen, rows;
    private final float dropout;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Parameter project, projectBias; // null when the embeddings are as wide as the blocks
    private final TransformerBlock.Stack stack;
    private final TransformerBlock[] blocks;

    // activations
    private final int[] tokens;
    private final int[] lengths;
    private final float[] embeddingSum; // before the embedding LayerNorm
    private final float[] embMean, embRstd, embMask;
    private final float[] embedded; // after LayerNorm and dropout: residual[0], or the projection's input
    private final float[][] residual; // residual[l] is the input of block l; residual[L] the output
    private final float[] dEmbedded, dEmbeddingSum;

    /**
     * A model named {@code name} (its own parameters are named "{@code name}.…", so that two models' names differ)
     * over {@code embeddings}, for batches of {@code batch} × {@code seqLen}.
     */
    ElectraEncoder(String name, ElectraConfig config, Embeddings embeddings, int batch, int seqLen, float dropout) {
        if (seqLen > config.maxLength()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds the model's " + config.maxLength());
        }
        if (embeddings.word().shape()[1] != config.embeddingSize()
                || embeddings.position().shape()[0] != config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("shared embeddings of shape " + Arrays.toString(embeddings.word().shape())
                    + " do not fit " + config);
        }
        this.config = config;
        this.embeddings = embeddings;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.dropout = dropout;
        int e = config.embeddingSize();
        int h = config.hiddenSize();
        if (config.projectsEmbeddings()) {
            project = add(new Parameter(name + ".embeddings_project.weight", e, h));
            projectBias = add(new Parameter(name + ".embeddings_project.bias", h));
        } else {
            project = projectBias = null;
        }
        stack = new TransformerBlock.Stack(batch, seqLen, h, config.numHeads(), config.intermediateSize(),
                config.layerNormEps(), dropout, true, config.exactGelu());
        blocks = new TransformerBlock[config.numLayers()];
        float scale = (float) (1.0 / Math.sqrt(config.headDim()));
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new TransformerBlock(l, stack, scale, (n, shape) -> add(new Parameter(name + "." + n, shape)));
        }
        tokens = new int[rows];
        lengths = new int[batch];
        embeddingSum = new float[rows * e];
        embMean = new float[rows];
        embRstd = new float[rows];
        embMask = dropout > 0 ? new float[rows * e] : null;
        residual = new float[blocks.length + 1][rows * h];
        embedded = project != null ? new float[rows * e] : residual[0];
        dEmbedded = project != null ? new float[rows * e] : null;
        dEmbeddingSum = new float[rows * e];
    }

    private Parameter add(Parameter p) {
        parameters.add(p);
        return p;
    }

    /** Its own parameters: the projection and the blocks, not the embeddings. */
    List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    ElectraConfig config() {
        return config;
    }

    /**
     * The output [batch × seqLen, hidden] (a live view) for {@code inputs} ([batch × seqLen], right-padded; sequence
     * b has {@code lengths[b]} tokens), with dropout when {@code training}. Keeps what {@link #backward} needs.
     */
    float[] encode(int[] inputs, int[] lengthsIn, boolean training, long seed) {
        if (inputs.length != rows || lengthsIn.length != batch) {
            throw new IllegalArgumentException("expected " + rows + " inputs and " + batch + " lengths, got "
                    + inputs.length + " and " + lengthsIn.length);
        }
        for (int b = 0; b < batch; b++) {
            if (lengthsIn[b] < 1 || lengthsIn[b] > seqLen) throw new IllegalArgumentException("sequence length " + lengthsIn[b] + " out of 1.." + seqLen);
            lengths[b] = lengthsIn[b];
        }
        for (int r = 0; r < rows; r++) {
            if (inputs[r] < 0 || inputs[r] >= config.vocabSize()) throw new IllegalArgumentException("token id " + inputs[r] + " out of range");
            tokens[r] = inputs[r];
        }
        stack.training = training && dropout > 0;
        stack.keyLengths = lengths;
        int e = config.embeddingSize();
        float[] word = embeddings.word().value(), position = embeddings.position().value(), type = embeddings.tokenType().value();
        for (int r = 0; r < rows; r++) {
            int wb = tokens[r] * e, pb = (r % seqLen) * e, o = r * e;
            for (int i = 0; i < e; i++) embeddingSum[o + i] = word[wb + i] + type[i] + position[pb + i];
        }
        Backprop.layerNormForward(embedded, embMean, embRstd, embeddingSum, embeddings.lnWeight().value(),
                embeddings.lnBias().value(), rows, e, config.layerNormEps());
        if (stack.training) {
            Backprop.dropoutMask(embMask, rows * e, dropout, seed);
            Backprop.applyMask(embedded, embMask, rows * e);
        }
        if (project != null) {
            Matmul.forward(residual[0], embedded, project.tensor(), projectBias.value(), rows, e, config.hiddenSize());
        }
        for (int l = 0; l < blocks.length; l++) {
            blocks[l].forward(residual[l], residual[l + 1], seed + 1_000_003L * (l + 1));
            if (!training) Tensor.requireFinite(residual[l + 1], rows * config.hiddenSize(), "layer " + l);
        }
        return residual[blocks.length];
    }

    /** The last {@link #encode}'s output; a live view. */
    float[] output() {
        return residual[blocks.length];
    }

    /** Accumulates into its parameters' and the embeddings' gradients those of the last {@link #encode}'s output. */
    void backward(float[] dOutput) {
        int e = config.embeddingSize();
        int h = config.hiddenSize();
        float[] dResidual = stack.dResidual;
        System.arraycopy(dOutput, 0, dResidual, 0, rows * h);
        for (int l = blocks.length - 1; l >= 0; l--) blocks[l].backward(residual[l]);
        float[] dEmb = dResidual;
        if (project != null) {
            Matmul.backwardWeight(project.grad(), embedded, dResidual, rows, e, h);
            Backprop.biasGradient(projectBias.grad(), dResidual, rows, h);
            Matmul.backwardInput(dEmbedded, dResidual, project.tensor(), rows, e, h);
            dEmb = dEmbedded;
        }
        if (stack.training) Backprop.applyMask(dEmb, embMask, rows * e);
        Arrays.fill(dEmbeddingSum, 0f);
        Backprop.layerNormBackward(dEmbeddingSum, embeddings.lnWeight().grad(), embeddings.lnBias().grad(), dEmb,
                embeddingSum, embeddings.lnWeight().value(), embMean, embRstd, rows, e);
        int pad = config.padTokenId();
        float[] dWord = embeddings.word().grad(), dPosition = embeddings.position().grad(), dType = embeddings.tokenType().grad();
        for (int r = 0; r < rows; r++) {
            int o = r * e, pb = (r % seqLen) * e;
            // nn.Embedding(padding_idx): the padding row gets no gradient from the lookup
            if (tokens[r] != pad) for (int i = 0; i < e; i++) dWord[tokens[r] * e + i] += dEmbeddingSum[o + i];
            for (int i = 0; i < e; i++) {
                dPosition[pb + i] += dEmbeddingSum[o + i];
                dType[i] += dEmbeddingSum[o + i];
            }
        }
    }

    /** ElectraModel's tensors, {@code electra.*}, the shared embeddings included. */
    List<HfTensor> huggingFaceLayout() {
        List<HfTensor> layout = new ArrayList<>();
        for (Parameter p : embeddings.parameters()) layout.add(HfTensor.whole(p.name(), p));
        if (project != null) layout.addAll(HfTensor.linear("electra.embeddings_project", project, projectBias));
        for (int l = 0; l < blocks.length; l++) {
            layout.addAll(HfTensor.bertLayer("electra.encoder.layer." + l + ".", blocks[l], config.hiddenSize()));
        }
        return layout;
    }
}
