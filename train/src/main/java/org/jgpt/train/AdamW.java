package org.jgpt.train;

import java.util.List;
import org.jgpt.kernel.Optimizers;

/**
 * AdamW with decoupled weight decay on matrices only (not biases or LayerNorm gains; embeddings as configured), and
 * clipping by global gradient norm, as torch.optim.AdamW with torch.nn.utils.clip_grad_norm_.
 */
public final class AdamW {
    /** Hyper-parameters; GPT-2 / nanoGPT use beta2 0.95 and weight decay 0.1. */
    public record Settings(float beta1, float beta2, float eps, float weightDecay, boolean decayEmbeddings) {
        public static Settings gpt2() {
            return new Settings(0.9f, 0.95f, 1e-8f, 0.1f, true);
        }
    }

    private final List<Parameter> parameters;
    private final Settings settings;
    private final float[][] m;
    private final float[][] v;
    private int step;

    public AdamW(List<Parameter> parameters, Settings settings) {
        this.parameters = List.copyOf(parameters);
        this.settings = settings;
        this.m = new float[parameters.size()][];
        this.v = new float[parameters.size()][];
        for (int i = 0; i < parameters.size(); i++) {
            m[i] = new float[parameters.get(i).value().length];
            v[i] = new float[parameters.get(i).value().length];
        }
    }

    /** The global L2 norm of all gradients. */
    public double gradientNorm() {
        double sum = 0;
        for (Parameter p : parameters) sum += Optimizers.sumOfSquares(p.grad(), p.grad().length);
        return Math.sqrt(sum);
    }

    /**
     * Scales the gradients down so their global norm is at most {@code maxNorm} (no clipping when it is 0 or
     * less), then takes one step at learning rate {@code lr}. Returns the norm before clipping.
     */
    public double step(float lr, float maxNorm) {
        double norm = gradientNorm();
        if (maxNorm > 0) {
            float coefficient = (float) Math.min(1.0, maxNorm / (norm + 1e-6));
            if (coefficient < 1f) {
                for (Parameter p : parameters) Optimizers.scale(p.grad(), p.grad().length, coefficient);
            }
        }
        step++;
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            float decay = decays(p) ? settings.weightDecay() : 0f;
            Optimizers.adamw(p.value(), p.grad(), m[i], v[i], p.value().length, lr, settings.beta1(), settings.beta2(),
                    settings.eps(), decay, step);
        }
        return norm;
    }

    private boolean decays(Parameter p) {
        return p.matrix() && (!p.embedding() || settings.decayEmbeddings());
    }

    /** Steps taken so far. */
    public int steps() {
        return step;
    }

    /** First and second moments, in parameter order: for checkpoints. */
    float[][] firstMoments() {
        return m;
    }

    float[][] secondMoments() {
        return v;
    }

    void restore(int steps) {
        this.step = steps;
    }
}
