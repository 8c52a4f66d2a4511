package org.jgpt.tokenizer;

/**
 * The ids of RoBERTa's special tokens, which an encoder's inputs are framed and masked with: {@code <s>} begins a
 * sequence, {@code </s>} ends one (and separates documents), {@code <pad>} fills a row, {@code <unk>} is unused by
 * byte-level BPE but reserved, and {@code <mask>} hides a token from masked-language-model training.
 */
public record RobertaTokens(int bos, int pad, int eos, int unk, int mask) {
    public static final String BOS = "<s>";
    public static final String PAD = "<pad>";
    public static final String EOS = "</s>";
    public static final String UNK = "<unk>";
    public static final String MASK = "<mask>";

    /** Looks the five up among the tokenizer's special tokens; an IllegalArgumentException names the first missing. */
    public static RobertaTokens of(GPT2Tokenizer tokenizer) {
        return new RobertaTokens(special(tokenizer, BOS), special(tokenizer, PAD), special(tokenizer, EOS),
                special(tokenizer, UNK), special(tokenizer, MASK));
    }

    private static int special(GPT2Tokenizer tokenizer, String token) {
        // An ordinary token spelled "<s>" would not do: encode() could produce it from plain text.
        int id = tokenizer.tokenId(token).orElse(-1);
        if (id < 0 || !tokenizer.isSpecial(id)) {
            throw new IllegalArgumentException("the vocabulary has no " + token + " token: masked objectives need a "
                    + "RoBERTa-style vocabulary (train one with 'jgpt tokenizer train --roberta')");
        }
        return id;
    }

    /** {@code <s> a </s>}: one sequence. */
    public int[] frame(int[] a) {
        int[] framed = new int[a.length + 2];
        framed[0] = bos;
        System.arraycopy(a, 0, framed, 1, a.length);
        framed[a.length + 1] = eos;
        return framed;
    }

    /** {@code <s> a </s></s> b </s>}: a pair of sequences, framed as RoBERTa does. */
    public int[] frame(int[] a, int[] b) {
        int[] framed = new int[a.length + b.length + 4];
        framed[0] = bos;
        System.arraycopy(a, 0, framed, 1, a.length);
        framed[a.length + 1] = eos;
        framed[a.length + 2] = eos;
        System.arraycopy(b, 0, framed, a.length + 3, b.length);
        framed[framed.length - 1] = eos;
        return framed;
    }

    /** Whether the id is one of the five. */
    public boolean isSpecial(int id) {
        return id == bos || id == pad || id == eos || id == unk || id == mask;
    }
}
