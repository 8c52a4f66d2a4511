package org.jgpt.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import org.eclipse.jetty.io.SelectableChannelEndPoint;

/**
 * Notices clients that close their connection while a whole (not streamed) answer is being made, so that their
 * sequences leave the batch at once rather than when the answer is written. Jetty reads nothing from a connection
 * while its request is handled, so each such connection is also registered, for reading, with a selector of its own
 * here; that reads nothing either, it only learns that there is something to read. An HTTP/1.1 client sends nothing
 * more before its answer has come, so a connection that becomes readable meanwhile has been closed (a client that
 * pipelined a second request behind a generation would be taken as gone; none of the usual ones does).
 */
final class ClientWatch implements AutoCloseable {
    private final Selector selector;
    private final Thread thread;
    private volatile boolean closed;

    ClientWatch() {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.thread = Thread.ofPlatform().name("jgpt-client-watch").daemon().start(this::loop);
    }

    /** Stops watching one connection. */
    interface Watching {
        void close();
    }

    /** Runs {@code gone} (once, on the watch's thread) if the exchange's client closes its connection before {@code close}. */
    Watching watch(Exchange exchange, Runnable gone) {
        if (!(exchange.request.getConnectionMetaData().getConnection().getEndPoint() instanceof SelectableChannelEndPoint endPoint)) {
            return () -> {};
        }
        SelectableChannel channel = endPoint.getChannel();
        try {
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ, gone);
            selector.wakeup();
            return key::cancel;
        } catch (ClosedChannelException e) {
            gone.run();
            return () -> {};
        }
    }

    private void loop() {
        while (!closed) {
            try {
                selector.select(key -> {
                    key.cancel();
                    ((Runnable) key.attachment()).run();
                });
            } catch (IOException e) {
                if (!closed) throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join();
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
