package org.jgpt.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.eclipse.jetty.io.SelectableChannelEndPoint;

/**
 * Notices clients that close their connection while a whole (not streamed) answer is being made, so that their
 * sequences leave the batch at once rather than when the answer is written. Jetty reads nothing from a connection
 * while its request is handled, so each such connection is also registered, for reading, with a selector of its own
 * here; that reads nothing either, it only learns that there is something to read. An HTTP/1.1 client sends nothing
 * more before its answer has come, so a connection that becomes readable meanwhile has been closed (a client that
 * pipelined a second request behind a generation would be taken as gone; none of the usual ones does). The
 * selector's own thread does the registering, so that a key cancelled by the previous request on the same
 * keep-alive connection is cleared first.
 */
final class ClientWatch implements AutoCloseable {
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Watching> toRegister = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    /** One connection watched until {@link #close}. */
    static final class Watching {
        private final SelectableChannel channel;
        private final Runnable gone;
        private volatile SelectionKey key;
        private volatile boolean done;

        private Watching(SelectableChannel channel, Runnable gone) {
            this.channel = channel;
            this.gone = gone;
        }

        /** Stops watching. */
        void close() {
            done = true;
            SelectionKey registered = key;
            if (registered != null) registered.cancel();
        }
    }

    ClientWatch() {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.thread = Thread.ofPlatform().name("jgpt-client-watch").daemon().start(this::loop);
    }

    /** Runs {@code gone} (once, on the watch's thread) if the exchange's client closes its connection before {@code close}. */
    Watching watch(Exchange exchange, Runnable gone) {
        Object endPoint = exchange.request.getConnectionMetaData().getConnection().getEndPoint();
        Watching watching = new Watching(endPoint instanceof SelectableChannelEndPoint selectable ? selectable.getChannel()
                : null, gone);
        if (watching.channel != null) {
            toRegister.add(watching);
            selector.wakeup();
        }
        return watching;
    }

    private void loop() {
        while (!closed) {
            try {
                selector.select(ClientWatch::closedByClient);
                for (Watching watching; (watching = toRegister.poll()) != null; ) register(watching);
            } catch (IOException e) {
                if (!closed) throw new UncheckedIOException(e);
            }
        }
    }

    private static void closedByClient(SelectionKey key) {
        key.cancel();
        Watching watching = (Watching) key.attachment();
        if (!watching.done) watching.gone.run();
    }

    private void register(Watching watching) throws IOException {
        if (watching.done) return;
        try {
            watching.key = register(watching.channel, watching);
        } catch (CancelledKeyException e) {
            selector.selectNow(ClientWatch::closedByClient); // clears the key the connection's previous request cancelled
            watching.key = register(watching.channel, watching);
        } catch (ClosedChannelException e) {
            watching.gone.run();
            return;
        }
        if (watching.done) watching.key.cancel(); // closed while being registered
    }

    private SelectionKey register(SelectableChannel channel, Watching watching) throws ClosedChannelException {
        return channel.register(selector, SelectionKey.OP_READ, watching);
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
