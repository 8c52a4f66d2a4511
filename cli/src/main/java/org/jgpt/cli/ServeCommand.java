package org.jgpt.cli;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jgpt.model.GPT2Model;
import org.jgpt.server.Server;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serves a model over HTTP until stopped: POST /v1/completions (OpenAI's completions API; \"stream\":"
                + " true sends server-sent events), POST /v1/score, POST /tokenize, POST /detokenize, GET /health,"
                + " GET /v1/models.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (config.json, weights); default: the built-in demo model.")
    Path modelDir;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST", description = "Address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "Port to listen on; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int port;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, not " + port);
        try (ModelDirectory dir = ModelDirectory.openOrBuiltIn(modelDir)) {
            String name = (modelDir != null ? modelDir : ModelDirectory.builtInModel()).toAbsolutePath().normalize()
                    .getFileName().toString();
            InetSocketAddress address = new InetSocketAddress(host, port);
            if (address.isUnresolved()) throw new IllegalArgumentException("cannot resolve --host " + host);
            Server started;
            try {
                started = Server.start(new GPT2Model(dir.weights()), dir.tokenizer(), name, address);
            } catch (BindException e) {
                throw new IllegalArgumentException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
            }
            try (Server server = started) {
                spec.commandLine().getErr().printf("jgpt: serving %s on http://%s:%d (Ctrl-C stops)%n", name, host,
                        server.port());
                spec.commandLine().getErr().flush();
                new CountDownLatch(1).await(); // until the process is stopped
            }
        }
        return 0;
    }
}
