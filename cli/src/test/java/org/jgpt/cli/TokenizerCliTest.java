package org.jgpt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The tokenize, detokenize and tokenizer train commands, run in-process with their output captured. */
class TokenizerCliTest {
    @TempDir
    Path dir;

    /** Exit code, text output and error output of one command. */
    private record Run(int exit, String out, String err, byte[] stdout) {}

    private static Run run(byte[] stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        try {
            // Swapped before the command line is made: picocli misroutes getOut() if System.out changes afterwards.
            System.setIn(new ByteArrayInputStream(stdin));
            System.setOut(new PrintStream(stdout));
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.setErr(new PrintWriter(err));
            int exit = cli.execute(args);
            return new Run(exit, out.toString(), err.toString(), stdout.toByteArray());
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    private Path file(String name, byte[] bytes) throws Exception {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void tokenizePrintsOneLineOfIdsPerFile() throws Exception {
        // GPT-2's ids for "Hello, world!" and for "<|endoftext|>" spelled as ordinary text ("<", "|", "end", "of", "text", "|", ">").
        Path hello = file("hello.txt", "Hello, world!".getBytes(StandardCharsets.UTF_8));
        Path special = file("special.txt", "<|endoftext|>".getBytes(StandardCharsets.UTF_8));
        Run run = run(new byte[0], "tokenize", hello.toString(), special.toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("15496 11 995 0\n27 91 437 1659 5239 91 29\n", run.out().replace("\r\n", "\n"));

        Run allowed = run(new byte[0], "tokenize", "--allow-special", special.toString());
        assertEquals("50256\n", allowed.out().replace("\r\n", "\n"));

        Run count = run(new byte[0], "tokenize", "--count", hello.toString(), special.toString());
        assertEquals("4\n7\n", count.out().replace("\r\n", "\n"));
    }

    @Test
    void detokenizeWritesTheExactBytes() throws Exception {
        byte[] raw = {'o', 'k', (byte) 0xFF, (byte) 0xC3, ' ', (byte) 0xE2, (byte) 0x82, '\n'};
        Run tokens = run(new byte[0], "tokenize", file("raw.bin", raw).toString());
        assertEquals(0, tokens.exit(), tokens.err());
        Run back = run(tokens.out().getBytes(StandardCharsets.UTF_8), "detokenize");
        assertEquals(0, back.exit(), back.err());
        assertArrayEquals(raw, back.stdout());
    }

    @Test
    void badIdsAndMissingFilesFailWithAMessage() {
        Run badId = run("15496 50257\n".getBytes(StandardCharsets.UTF_8), "detokenize");
        assertEquals(1, badId.exit());
        assertTrue(badId.err().contains("token id 50257"), badId.err());
        assertEquals(0, badId.stdout().length, "nothing may be written before the error");

        Run notANumber = run("15496 x1\n".getBytes(StandardCharsets.UTF_8), "detokenize");
        assertEquals(1, notANumber.exit());
        assertTrue(notANumber.err().contains("not a token id: \"x1\""), notANumber.err());

        Run missing = run(new byte[0], "tokenize", dir.resolve("nope.txt").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("nope.txt: no such file"), missing.err());
    }

    @Test
    void tokenizerTrainWritesFilesThatTokenizeLoads() throws Exception {
        Path corpus = file("corpus.txt", "the cat sat on the mat; the cat ate the rat. 123 456 123\n".repeat(50).getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve("model");
        Run train = run(new byte[0], "tokenizer", "train", "--vocab-size", "270", "--out", out.toString(), corpus.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("270 tokens"), train.out());
        assertTrue(Files.isRegularFile(out.resolve("vocab.json")) && Files.isRegularFile(out.resolve("merges.txt")));
        assertEquals(270 - 257 + 1, Files.readAllLines(out.resolve("merges.txt")).size(), "13 merges after the #version line");

        Run tokens = run(new byte[0], "tokenize", "--model", out.toString(), corpus.toString());
        assertEquals(0, tokens.exit(), tokens.err());
        Run back = run(tokens.out().getBytes(StandardCharsets.UTF_8), "detokenize", "--model", out.toString());
        assertArrayEquals(Files.readAllBytes(corpus), back.stdout());

        Run special = run("269".getBytes(StandardCharsets.UTF_8), "detokenize", "--model", out.toString());
        assertEquals("<|endoftext|>", new String(special.stdout(), StandardCharsets.UTF_8));
    }

    @Test
    void tokenizerTrainWithRobertaReservesRobertasSpecialTokens() throws Exception {
        Path corpus = file("corpus.txt", "the cat sat on the mat\n".repeat(20).getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve("roberta");
        Run train = run(new byte[0], "tokenizer", "train", "--roberta", "--vocab-size", "270", "--out", out.toString(),
                corpus.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("270 tokens"), train.out());
        Run special = run("0 1 2 3 269".getBytes(StandardCharsets.UTF_8), "detokenize", "--model", out.toString());
        assertEquals("<s><pad></s><unk><mask>", new String(special.stdout(), StandardCharsets.UTF_8));

        Run help = run(new byte[0], "tokenizer", "train", "--help");
        assertTrue(help.out().contains("--roberta") && help.out().contains("(default: false)"), help.out());
    }
}
