package org.jgpt.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jgpt.model.EncoderConfig;
import org.jgpt.model.GPT2Model;
import org.jgpt.server.Embedder;
import org.jgpt.server.Server;
import org.jgpt.train.SentenceEncoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", mixinStandardHelpOptions = true,
        header = "Serve a model over HTTP to many clients at once: OpenAI's completions, chat and embeddings APIs.",
        footerHeading = "%nExamples:%n",
        footer = {"  jgpt serve",
                "  jgpt serve --model models/demo --host 0.0.0.0 --port 8000",
                "  jgpt serve --api-key secret --cors-origin http://localhost:3000"},
        description = "Serves a model over HTTP until stopped, to many clients at once (continuous batching):"
                + " POST /v1/completions and POST /v1/chat/completions (OpenAI's APIs; \"stream\": true sends"
                + " server-sent events), POST /v1/score, POST /tokenize, POST /detokenize, GET /health, GET /v1/models,"
                + " GET /metrics (Prometheus) and a playground page at /. A sentence encoder (jgpt train --objective"
                + " simcse or contrastive-pairs) answers POST /v1/embeddings (OpenAI's embeddings API) instead of the"
                + " text endpoints. One access-log line per request goes to stderr.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory: a GPT-2 or GPT-1, or a sentence encoder (default: the built-in demo model).")
    Path modelDir;

    @Mixin
    DTypeOption dtype = new DTypeOption();

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST", description = "Address to listen on; 0.0.0.0 for all (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:JGPT_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on the API (not on /health, /metrics or the playground);"
                    + " default: the JGPT_API_KEY environment variable, else none.")
    String apiKey;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Let web pages from ORIGIN (e.g. http://localhost:3000, or * for any) call the API; repeatable (default: none).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "A JSON chat template for /v1/chat/completions: {\"system\", \"user\", \"assistant\","
                    + " \"generation\", \"stop\"}, the first three with {content}; default: \"{content}\\n\\n\","
                    + " \"User: {content}\\n\", \"Assistant: {content}\\n\", \"Assistant:\", [\"\\nUser:\"].")
    Path chatTemplate;

    @Option(names = "--max-sequences", defaultValue = "64", paramLabel = "N",
            description = "Sequences decoding at once, at most; also the most one request may ask for (default: ${DEFAULT-VALUE}).")
    int maxSequences;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
            description = "Requests waiting for room in the batch, at most; more get 503 with Retry-After (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--read-timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "Time a request's body has to arrive, else 408 (default: ${DEFAULT-VALUE}).")
    int readTimeout;

    @Option(names = "--idle-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "A connection with nothing sent or received for this long is closed (default: ${DEFAULT-VALUE}).")
    int idleTimeout;

    /** Starts a server at an address; a port already taken is a plain error. */
    private interface Starter {
        Server start(InetSocketAddress address) throws IOException;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, not " + port);
        if (chatTemplate != null && !Files.isRegularFile(chatTemplate)) {
            throw new IllegalArgumentException("--chat-template " + chatTemplate + " is not a file");
        }
        if (readTimeout < 1 || idleTimeout < 1) throw new IllegalArgumentException("--read-timeout and --idle-timeout must be at least 1 second");
        if (maxSequences < 1 || maxQueue < 1) throw new IllegalArgumentException("--max-sequences and --max-queue must be at least 1");
        Server.Options options = Server.Options.defaults()
                .withApiKey(apiKey == null || apiKey.isEmpty() ? null : apiKey)
                .withCorsOrigins(corsOrigins)
                .withChatTemplate(chatTemplate)
                .withLimits(maxSequences, maxQueue)
                .withTimeouts(Duration.ofSeconds(readTimeout), Duration.ofSeconds(idleTimeout));
        String name = (modelDir != null ? modelDir : ModelDirectory.builtInModel()).toAbsolutePath().normalize()
                .getFileName().toString();
        if (modelDir != null && Files.isRegularFile(modelDir.resolve("config.json"))
                && EncoderConfig.describes(modelDir.resolve("config.json"))) {
            if (dtype.q8()) throw new IllegalArgumentException("--dtype q8_0 quantizes GPT models, not sentence encoders");
            SentenceEncoder encoder = SentenceEncoder.open(modelDir);
            Embedder embedder = texts -> encoder.embed(texts).stream()
                    .map(e -> new Embedder.Embedding(e.vector(), e.tokens())).toList();
            serve(name, address -> Server.startEmbeddings(embedder, name, address, options));
            return 0;
        }
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir, dtype.q8())) {
            serve(name, address -> Server.start(new GPT2Model(dir.weights()), dir.tokenizer(), name, address, options));
        }
        return 0;
    }

    private void serve(String name, Starter starter) throws Exception {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) throw new IllegalArgumentException("cannot resolve --host " + host);
        Server started;
        try {
            started = starter.start(address);
        } catch (BindException e) {
            throw new IllegalArgumentException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
        try (Server server = started) {
            spec.commandLine().getErr().printf("jgpt: serving %s on http://%s:%d (Ctrl-C stops)%n", name, host, server.port());
            spec.commandLine().getErr().flush();
            new CountDownLatch(1).await(); // until the process is stopped
        }
    }
}
