package org.jgpt.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jgpt.io.Checkpoints;
import org.jgpt.model.Fixtures;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.Test;

/**
 * Generation's bookkeeping on {@link ScriptedModel}s, which say exactly the tokens a test picks: stop strings,
 * {@code <|endoftext|>}, the token limit, streaming (pieces joined equal the final text, UTF-8 never split),
 * context overflow and truncation; and batched decoding on the full-vocabulary PyTorch fixture, against its greedy
 * tokens and against each prompt generated alone.
 */
class GeneratorTest {
    private static final GPT2Tokenizer TOKENIZER = GPT2Tokenizer.gpt2();
    private static final String PROMPT = "Once upon a time";
    private static final GenerationOptions GREEDY = GenerationOptions.defaults().withTemperature(0f).withMaxNewTokens(20);

    /** Streamed pieces per sequence, and the finished completions in order of finishing. */
    private static final class Recorder implements Generator.Listener {
        final List<List<String>> pieces = new ArrayList<>();
        final List<Generator.Completion> finished = new ArrayList<>();

        @Override
        public void onText(int sequence, String text) {
            while (pieces.size() <= sequence) pieces.add(new ArrayList<>());
            pieces.get(sequence).add(text);
        }

        @Override
        public void onFinish(Generator.Completion completion) {
            finished.add(completion);
        }

        String streamed(int sequence) {
            return sequence < pieces.size() ? String.join("", pieces.get(sequence)) : "";
        }
    }

    private static Generator.Completion generate(int[] script, GenerationOptions options, Recorder recorder) {
        GPT2Model model = ScriptedModel.saying(TOKENIZER.encode(PROMPT).length, script);
        List<Generator.Completion> out = new Generator(model, TOKENIZER).generate(List.of(PROMPT), options, recorder);
        assertEquals(1, out.size());
        assertEquals(out, recorder.finished);
        return out.get(0);
    }

    @Test
    void stopStringEndsGenerationAndIsLeftOut() {
        int[] script = TOKENIZER.encode(" there was a frog. THE END and more text");
        Recorder recorder = new Recorder();
        Generator.Completion c = generate(script, GREEDY.withStop(List.of("THE END", "zebra")), recorder);
        assertEquals(" there was a frog. ", c.text());
        assertEquals(Generator.FinishReason.STOP, c.reason());
        assertEquals(c.text(), recorder.streamed(0));
        for (String piece : recorder.pieces.get(0)) assertFalse(piece.contains("THE"), "held back: " + piece);
    }

    @Test
    void endOfTextEndsGenerationAndIsNotAToken() {
        int[] words = TOKENIZER.encode(" the end");
        int[] script = {words[0], words[1], TOKENIZER.endOfText(), words[0]};
        Recorder recorder = new Recorder();
        Generator.Completion c = generate(script, GREEDY, recorder);
        assertEquals(" the end", c.text());
        assertArrayEquals(words, c.tokens());
        assertEquals(Generator.FinishReason.END_OF_TEXT, c.reason());
        assertEquals(c.text(), recorder.streamed(0));
    }

    @Test
    void stopsAtTheTokenLimit() {
        int[] script = TOKENIZER.encode(" one two three four five six");
        Recorder recorder = new Recorder();
        Generator.Completion c = generate(script, GREEDY.withMaxNewTokens(3), recorder);
        assertEquals(" one two three", c.text());
        assertEquals(3, c.tokens().length);
        assertEquals(Generator.FinishReason.LENGTH, c.reason());
        assertEquals(List.of(" one", " two", " three"), recorder.pieces.get(0));
    }

    @Test
    void utf8CharactersSplitAcrossTokensStreamWhole() {
        String text = " 😀 café 🦙!";
        int[] script = TOKENIZER.encode(text);
        assertTrue(TOKENIZER.encode("😀").length >= 2, "the emoji should take several byte tokens");
        Recorder recorder = new Recorder();
        Generator.Completion c = generate(script, GREEDY.withMaxNewTokens(script.length), recorder);
        assertEquals(text, c.text());
        assertEquals(text, recorder.streamed(0));
        for (String piece : recorder.pieces.get(0)) {
            assertFalse(piece.contains("\uFFFD"), "a piece holds a broken character: " + piece);
            assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)), "a piece ends mid-pair: " + piece);
        }
        assertTrue(recorder.pieces.get(0).size() < script.length, "bytes of a character are held until it is whole");
    }

    @Test
    void samplingFollowsTheScriptToo() {
        int[] script = TOKENIZER.encode(" sampled words");
        Recorder recorder = new Recorder();
        Generator.Completion c = generate(script, GenerationOptions.defaults().withMaxNewTokens(script.length)
                .withTopK(40).withTopP(0.9f).withRepetitionPenalty(1.3f), recorder);
        assertEquals(" sampled words", c.text());
    }

    @Test
    void promptTooLongForTheContextIsAnErrorUnlessTruncated() {
        String prompt = "one two three four five six seven eight nine ten ".repeat(4);
        int[] tokens = TOKENIZER.encode(prompt);
        assertTrue(tokens.length > ScriptedModel.CONTEXT);
        GPT2Model model = ScriptedModel.saying(1, new int[0]);
        Generator generator = new Generator(model, TOKENIZER);
        GenerationOptions options = GREEDY.withMaxNewTokens(5);
        var error = assertThrows(IllegalArgumentException.class,
                () -> generator.generate(List.of(prompt), options, new Recorder()));
        assertTrue(error.getMessage().contains("prompt 1 is " + tokens.length + " tokens"), error.getMessage());

        Generator.Completion c = generator.generate(List.of(prompt), options.withTruncate(true), new Recorder()).get(0);
        int room = ScriptedModel.CONTEXT + 1 - 5; // the last new token is never fed back
        assertArrayEquals(Arrays.copyOfRange(tokens, tokens.length - room, tokens.length), c.promptTokens());
        assertEquals(5, c.tokens().length);
    }

    @Test
    void batchedPromptsAndSamplesDecodeLikePyTorchsGreedyRun() throws Exception {
        Path dir = Fixtures.DIR.resolve("full-vocab");
        Fixtures.Expected expected = Fixtures.Expected.read(dir);
        try (GPT2Weights weights = Checkpoints.load(dir)) {
            Generator generator = new Generator(new GPT2Model(weights), TOKENIZER);
            GenerationOptions options = GREEDY.withMaxNewTokens(expected.greedyTokens().length).withSamples(2);
            String prompt = TOKENIZER.decode(expected.greedyPrompt());
            List<String> prompts = List.of("A", prompt, "Three tokens here, then seven more of them");
            List<Generator.Completion> batched = generator.generate(prompts, options, new Recorder());
            for (int s = 0; s < 2; s++) assertArrayEquals(expected.greedyTokens(), batched.get(2 + s).tokens());
            for (int p = 0; p < prompts.size(); p++) {
                Generator.Completion alone = generator.generate(List.of(prompts.get(p)), options.withSamples(1),
                        new Recorder()).get(0);
                assertArrayEquals(alone.tokens(), batched.get(2 * p).tokens(), "prompt " + p);
                assertArrayEquals(alone.tokens(), batched.get(2 * p + 1).tokens(), "prompt " + p);
            }
        }
    }

    @Test
    void severalPromptsAndSamplesComeBackInOrder() {
        GPT2Model model = ScriptedModel.saying(TOKENIZER.encode(PROMPT).length, TOKENIZER.encode(" again and again"));
        Recorder recorder = new Recorder();
        List<Generator.Completion> out = new Generator(model, TOKENIZER).generate(List.of(PROMPT, PROMPT),
                GREEDY.withMaxNewTokens(3).withSamples(2), recorder);
        assertEquals(4, out.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(i, out.get(i).sequence());
            assertEquals(i / 2, out.get(i).prompt());
            assertEquals(i % 2, out.get(i).sample());
            assertEquals(" again and again", out.get(i).text());
            assertEquals(out.get(i).text(), recorder.streamed(i));
        }
    }
}
