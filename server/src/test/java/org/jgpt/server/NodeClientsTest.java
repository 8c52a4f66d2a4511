package org.jgpt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jgpt.kernel.DType;
import org.jgpt.model.GPT2Config;
import org.jgpt.model.GPT2Model;
import org.jgpt.model.GPT2Weights;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real clients against a served tiny random GPT-2 on 127.0.0.1, with an API key and a CORS origin: the official
 * openai Node SDK ({@code src/test/node/openai.test.mjs}) and a headless Chromium driven by playwright-core on the
 * playground ({@code src/test/node/playground.test.mjs}), each run with {@code node --test}. {@code .ci/run} installs
 * Node, Chromium and the Node packages; here a missing {@code node_modules} is installed with {@code npm ci}, and a
 * test is skipped, saying why, only when Node or Chromium is not on the machine or the packages cannot be had.
 * A second server embeds (as a sentence encoder's does, here with a fixed function of the text) for the SDK's
 * {@code embeddings.create}, which asks for base64 by default ({@code src/test/node/embeddings.test.mjs}).
 */
class NodeClientsTest {
    private static final GPT2Config CONFIG = new GPT2Config(50257, 256, 64, 2, 2, 256, 1e-5f, "gelu_new", true, false,
            50256, 50256);
    private static final Path NODE_DIR = Path.of("src/test/node");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String API_KEY = "test-key";
    private static final String ORIGIN = "http://playground.test";
    private static GPT2Weights weights;
    private static Server server;
    private static Server embeddings;

    @BeforeAll
    static void start() throws IOException {
        weights = GPT2Weights.random(CONFIG, 13, DType.F32);
        server = Server.start(new GPT2Model(weights), GPT2Tokenizer.gpt2(), "tiny", new InetSocketAddress("127.0.0.1", 0),
                Server.Options.defaults().withApiKey(API_KEY).withCorsOrigins(List.of(ORIGIN)).withAccessLog(null));
        embeddings = Server.startEmbeddings(texts -> texts.stream().map(NodeClientsTest::embedding).toList(),
                "sentences", new InetSocketAddress("127.0.0.1", 0), Server.Options.defaults().withAccessLog(null));
    }

    /** Three numbers from the text (not of unit length: the server normalises), and its length + 2 tokens. */
    private static Embedder.Embedding embedding(String text) {
        float[] v = {text.length() + 1, text.chars().filter(c -> c == 'a').count(), -3};
        return new Embedder.Embedding(v, text.length() + 2);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        embeddings.close();
        weights.close();
    }

    @Test
    void theOpenAiNodeSdk() throws Exception {
        runNodeTest("openai.test.mjs", Map.of());
    }

    @Test
    void theOpenAiNodeSdkEmbeds() throws Exception {
        runNodeTest("embeddings.test.mjs", Map.of("JGPT_EMBEDDINGS_URL", "http://127.0.0.1:" + embeddings.port() + "/v1"));
    }

    @Test
    void thePlaygroundInHeadlessChromium() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed (" + CHROMIUM
                + "): .ci/run installs it with apt-get install chromium");
        runNodeTest("playground.test.mjs", Map.of("JGPT_CHROMIUM", CHROMIUM.toString()));
    }

    private static void runNodeTest(String file, Map<String, String> env) throws Exception {
        assumeTrue(onPath("node") && onPath("npm"), "Node.js is not installed: .ci/run installs it (apt-get install nodejs npm)");
        installPackages();
        ProcessBuilder builder = new ProcessBuilder("node", "--test", "--test-reporter=spec", file)
                .directory(NODE_DIR.toFile()).redirectErrorStream(true);
        builder.environment().put("JGPT_BASE_URL", "http://127.0.0.1:" + server.port() + "/v1");
        builder.environment().put("JGPT_API_KEY", API_KEY);
        builder.environment().put("JGPT_CORS_ORIGIN", ORIGIN);
        builder.environment().putAll(env);
        Result result = run(builder, 300);
        System.out.println(result.output());
        assertEquals(0, result.exitCode(), file + " failed:\n" + result.output());
    }

    /** {@code npm ci} from the committed lock file, once, when node_modules is missing. */
    private static synchronized void installPackages() throws Exception {
        if (Files.isDirectory(NODE_DIR.resolve("node_modules/openai"))
                && Files.isDirectory(NODE_DIR.resolve("node_modules/playwright-core"))) {
            return;
        }
        Result install = run(new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(NODE_DIR.toFile())
                .redirectErrorStream(true), 300);
        assumeTrue(install.exitCode() == 0, "the Node packages could not be installed (npm ci in " + NODE_DIR + "):\n"
                + install.output());
    }

    private record Result(int exitCode, String output) {}

    private static Result run(ProcessBuilder builder, int seconds) throws Exception {
        Path log = Files.createTempFile("jgpt-node-", ".log");
        try {
            Process process = builder.redirectOutput(log.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                return new Result(-1, "timed out after " + seconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) return true;
        }
        return false;
    }
}
