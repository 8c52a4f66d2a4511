package org.jgpt.server;

import java.util.List;

/** What {@code POST /v1/embeddings} needs of a model: a vector per text, and the tokens each text took. */
public interface Embedder {
    record Embedding(float[] vector, int tokens) {}

    /** The texts' embeddings, in their order. */
    List<Embedding> embed(List<String> texts);
}
