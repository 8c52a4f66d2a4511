package org.jgpt.cli;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
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
        description = "Serves a model over HTTP until stopped: POST /v1/completions (OpenAI's completions API; \"stream\":"
                + " true sends server-sent events), POST /v1/score, POST /tokenize, POST /detokenize, GET /health,"
                + " GET /v1/models. A sentence encoder (jgpt train --objective simcse or contrastive-pairs) answers"
                + " POST /v1/embeddings (OpenAI's embeddings API) instead of the text endpoints.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (config.json, weights); default: the built-in demo model.")
    Path modelDir;

    @Mixin
    DTypeOption dtype = new DTypeOption();

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST", description = "Address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "Port to listen on; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int port;

    /** Starts a server at an address; a port already taken is a plain error. */
    private interface Starter {
        Server start(InetSocketAddress address) throws IOException;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, not " + port);
        String name = (modelDir != null ? modelDir : ModelDirectory.builtInModel()).toAbsolutePath().normalize()
                .getFileName().toString();
        if (modelDir != null && Files.isRegularFile(modelDir.resolve("config.json"))
                && EncoderConfig.describes(modelDir.resolve("config.json"))) {
            if (dtype.q8()) throw new IllegalArgumentException("--dtype q8_0 quantizes GPT models, not sentence encoders");
            SentenceEncoder encoder = SentenceEncoder.open(modelDir);
            Embedder embedder = texts -> encoder.embed(texts).stream()
                    .map(e -> new Embedder.Embedding(e.vector(), e.tokens())).toList();
            serve(name, address -> Server.startEmbeddings(embedder, name, address));
            return 0;
        }
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir, dtype.q8())) {
            serve(name, address -> Server.start(new GPT2Model(dir.weights()), dir.tokenizer(), name, address));
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
