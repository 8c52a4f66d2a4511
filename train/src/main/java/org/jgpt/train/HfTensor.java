package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jgpt.io.AtomicFiles;
import org.jgpt.io.Checkpoints;
import org.jgpt.io.Safetensors;
import org.jgpt.kernel.Tensor;

/**
 * One tensor of a Hugging Face checkpoint: a parameter, or columns [from, to) of one. A {@code linear} one is
 * the transpose of a Conv1D [in, out] matrix's columns (nn.Linear's [out, in]); others are copied as they are.
 */
record HfTensor(String name, Parameter parameter, int from, int to, boolean linear) {
    /** A parameter as it is. */
    static HfTensor whole(String name, Parameter p) {
        return new HfTensor(name, p, 0, p.value().length, false);
    }

    /** An nn.Linear, {@code name}.weight and {@code name}.bias, kept as a Conv1D [in, out] weight and its bias. */
    static List<HfTensor> linear(String name, Parameter weight, Parameter bias) {
        int out = (int) weight.shape()[1];
        return List.of(new HfTensor(name + ".weight", weight, 0, out, true), new HfTensor(name + ".bias", bias, 0, out, false));
    }

    /** A BERT layer's tensors under {@code prefix} (e.g. "roberta.encoder.layer.0."): q, k and v apart, post-LN norms. */
    static List<HfTensor> bertLayer(String prefix, TransformerBlock b, int dim) {
        List<HfTensor> tensors = new ArrayList<>();
        String[] qkv = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            String name = prefix + "attention.self." + qkv[k];
            tensors.add(new HfTensor(name + ".weight", b.attnWeight, k * dim, (k + 1) * dim, true));
            tensors.add(new HfTensor(name + ".bias", b.attnBias, k * dim, (k + 1) * dim, false));
        }
        tensors.addAll(linear(prefix + "attention.output.dense", b.projWeight, b.projBias));
        tensors.add(whole(prefix + "attention.output.LayerNorm.weight", b.ln1Weight));
        tensors.add(whole(prefix + "attention.output.LayerNorm.bias", b.ln1Bias));
        tensors.addAll(linear(prefix + "intermediate.dense", b.fcWeight, b.fcBias));
        tensors.addAll(linear(prefix + "output.dense", b.fcProjWeight, b.fcProjBias));
        tensors.add(whole(prefix + "output.LayerNorm.weight", b.ln2Weight));
        tensors.add(whole(prefix + "output.LayerNorm.bias", b.ln2Bias));
        return tensors;
    }

    /** The parameters (or, with {@code gradients}, their gradients) of {@code layout}, by Hugging Face's names. */
    static Map<String, float[]> read(List<HfTensor> layout, boolean gradients) {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (HfTensor t : layout) tensors.put(t.name(), t.read(gradients ? t.parameter().grad() : t.parameter().value()));
        return tensors;
    }

    /** Writes {@code configJson} and {@code layout}'s model.safetensors into {@code dir}, each file whole or not at all. */
    static void save(Path dir, List<HfTensor> layout, String configJson) throws IOException {
        Files.createDirectories(dir);
        List<Tensor> tensors = new ArrayList<>();
        for (HfTensor t : layout) tensors.add(Tensor.of(t.name(), t.read(t.parameter().value()), t.shape()));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve("config.json"), configJson);
    }

    /** Reads every tensor of {@code layout} that {@code dir}'s model.safetensors holds; returns the names it lacks. */
    static List<String> load(Path dir, List<HfTensor> layout) {
        List<String> missing = new ArrayList<>();
        try (Safetensors file = Safetensors.open(dir.resolve("model.safetensors"))) {
            for (HfTensor t : layout) {
                if (file.names().contains(t.name())) t.write(finite(file, t.name()), t.parameter().value());
                else missing.add(t.name());
            }
        }
        return missing;
    }

    /** The tensor {@code name} of {@code file}, refused if it holds a NaN or an infinity (a damaged or diverged model). */
    static Tensor finite(Safetensors file, String name) {
        Tensor tensor = file.tensor(name);
        Checkpoints.requireFinite(tensor, file.file());
        return tensor;
    }

    long[] shape() {
        if (linear) return new long[] {to - from, parameter.shape()[0]};
        return parameter.shape().length == 1 ? new long[] {to - from} : parameter.shape();
    }

    float[] read(float[] source) {
        if (!linear) return Arrays.copyOfRange(source, from, to);
        int in = (int) parameter.shape()[0], out = (int) parameter.shape()[1];
        float[] hf = new float[(to - from) * in];
        for (int o = from; o < to; o++) for (int i = 0; i < in; i++) hf[(o - from) * in + i] = source[i * out + o];
        return hf;
    }

    void write(Tensor tensor, float[] target) {
        if (!Arrays.equals(tensor.shape(), shape())) {
            throw new IllegalArgumentException(name + " has shape " + Arrays.toString(tensor.shape()) + ", expected "
                    + Arrays.toString(shape()));
        }
        if (!linear) {
            for (int k = from; k < to; k++) target[k] = tensor.get(k - from);
            return;
        }
        int in = (int) parameter.shape()[0], out = (int) parameter.shape()[1];
        for (int o = from; o < to; o++) for (int i = 0; i < in; i++) target[i * out + o] = tensor.get((long) (o - from) * in + i);
    }
}
