package org.jgpt.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The detokenizers on samples in each corpus's style; the expected texts are worked out by hand from the rules. */
class DetokenizerTest {
    @Test
    void wikitext() {
        assertEquals(" The game's battle system, the BliTZ system, is carried over from Valkyria Chronicles. During"
                        + " missions, players use a top-down view (a map) of 1,000 units at 2.5 \"speed\".\n",
                Detokenizer.WIKITEXT.apply(" The game 's battle system , the BliTZ system , is carried over from"
                        + " Valkyria Chronicles . During missions , players use a top @-@ down view ( a map ) of 1 @,@ 000"
                        + " units at 2 @.@ 5 \" speed \" . \n"));
        assertEquals(" == Gameplay ==\n", Detokenizer.WIKITEXT.apply(" = = Gameplay = = \n"));
    }

    @Test
    void ptb() {
        // Megatron-LM's rules, quirks included: " N " becomes "1 ", so a number glues to the word before it.
        assertEquals("the company's shares fall1 % to $1 million\nit said",
                Detokenizer.PTB.apply("the company 's shares fall N % to $ N million \n it said"));
        assertEquals("they didn't", Detokenizer.PTB.apply("they did n't"));
    }

    @Test
    void mosesStyleForLambadaAnd1bw() {
        assertEquals("\"I'm here,\" she said (quietly). It's $5!",
                Detokenizer.LM1B.apply("\" I 'm here , \" she said ( quietly ) . It 's $ 5 !"));
        assertEquals(Detokenizer.LM1B.apply("do n't stop"), Detokenizer.LAMBADA.apply("do n't stop"));
    }

    @Test
    void unknownNamesAreRejected() {
        assertEquals(Detokenizer.LM1B, Detokenizer.parse("lm1b"));
        assertThrows(IllegalArgumentException.class, () -> Detokenizer.parse("moses"));
    }
}
