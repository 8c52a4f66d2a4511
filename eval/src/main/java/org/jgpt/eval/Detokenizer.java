package org.jgpt.eval;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Undoes the tokenization of the classic language-modelling corpora, as the GPT-2 paper did, so that the model
 * sees natural text. The rules are those of lm-evaluation-harness's wikitext detokenizer and Megatron-LM's
 * ptb/lambada detokenizers; 1BW gets the same kind of rules for its Moses-style tokens. Perplexity per word is
 * still counted on the original words.
 */
public enum Detokenizer {
    NONE, WIKITEXT, PTB, LAMBADA, LM1B;

    public static Detokenizer parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT).replace("-", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown detokenizer '" + name + "' (none, wikitext, ptb, lambada, lm1b)");
        }
    }

    public String apply(String s) {
        return switch (this) {
            case NONE -> s;
            case WIKITEXT -> wikitext(s);
            case PTB -> ptb(s);
            case LAMBADA, LM1B -> moses(s);
        };
    }

    private static String wikitext(String s) {
        s = s.replace("s '", "s'");
        s = s.replaceAll("/' [0-9]/", "/'[0-9]/");
        s = s.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".");
        s = s.replace(" : ", ": ").replace(" ; ", "; ").replace(" . ", ". ").replace(" ! ", "! ")
                .replace(" ? ", "? ").replace(" , ", ", ");
        s = tighten(s, "\\(\\s*([^\\)]*?)\\s*\\)", "(", ")");
        s = tighten(s, "\\[\\s*([^\\]]*?)\\s*\\]", "[", "]");
        s = tighten(s, "\\{\\s*([^}]*?)\\s*\\}", "{", "}");
        s = tighten(s, "\"\\s*([^\"]*?)\\s*\"", "\"", "\"");
        s = tighten(s, "'\\s*([^']*?)\\s*'", "'", "'");
        s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==");
        s = s.replace(" \u00b0 ", "\u00b0");
        s = s.replace(" \n", "\n").replace("\n ", "\n");
        s = s.replace(" N ", " 1 ");
        s = s.replace(" 's", "'s");
        return s;
    }

    private static String ptb(String s) {
        return s.replace(" '", "'").replace(" \n", "\n").replace("\n ", "\n").replace(" n't", "n't")
                .replace(" N ", "1 ").replace("$ 1", "$1").replace("# 1", "#1");
    }

    /** Moses-style tokens (1BW, the original LAMBADA release): clitics, punctuation and brackets re-attached. */
    private static String moses(String s) {
        s = s.replace(" n't", "n't").replace(" 's", "'s").replace(" 're", "'re").replace(" 've", "'ve")
                .replace(" 'm", "'m").replace(" 'll", "'ll").replace(" 'd", "'d");
        s = s.replaceAll(" ([.,!?;:%])", "$1");
        s = s.replace("( ", "(").replace(" )", ")").replace("$ ", "$");
        s = s.replace("`` ", "\"").replace(" ''", "\"");
        s = tighten(s, "\"\\s*([^\"]*?)\\s*\"", "\"", "\"");
        return s.replace(" \n", "\n").replace("\n ", "\n");
    }

    /** Removes the spaces just inside matching brackets or quotes. */
    private static String tighten(String s, String regex, String open, String close) {
        Matcher m = Pattern.compile(regex).matcher(s);
        return m.replaceAll(r -> Matcher.quoteReplacement(open + r.group(1) + close));
    }
}
