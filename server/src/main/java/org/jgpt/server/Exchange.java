package org.jgpt.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.jgpt.io.Json;

/**
 * One HTTP request and its response, read and written with blocking calls from the request's own virtual thread:
 * the body within a deadline and a size limit, a JSON or file answer, or server-sent events. Remembers the status
 * and bytes sent, for the access log and metrics.
 */
final class Exchange {
    /** A request that cannot be served, with the status to answer. */
    static final class HttpError extends RuntimeException {
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    final Request request;
    final Response response;
    private final Callback callback;
    private final long started = System.nanoTime();
    private boolean committed;
    private long bytesSent;

    Exchange(Request request, Response response, Callback callback) {
        this.request = request;
        this.response = response;
        this.callback = callback;
    }

    String method() {
        return request.getMethod();
    }

    String path() {
        return Request.getPathInContext(request);
    }

    String header(String name) {
        return request.getHeaders().get(name);
    }

    long started() {
        return started;
    }

    int status() {
        return response.getStatus();
    }

    long bytesSent() {
        return bytesSent;
    }

    boolean committed() {
        return committed;
    }

    void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    /**
     * The body as UTF-8, refused with 413 past {@code maxBytes} and with 408 unless it has all arrived by
     * {@code deadlineNanos} ({@link System#nanoTime}): a client that sends its headers and then trickles or withholds
     * its body holds this virtual thread and its socket until then, and nothing else.
     */
    String body(int maxBytes, long deadlineNanos) {
        long declared = request.getLength();
        if (declared > maxBytes) throw new HttpError(413, "the request body exceeds " + maxBytes + " bytes");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while (true) {
            Content.Chunk chunk = request.read();
            if (chunk == null) {
                CompletableFuture<Void> ready = new CompletableFuture<>();
                request.demand(() -> ready.complete(null));
                try {
                    ready.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    setHeader("Connection", "close");
                    throw new HttpError(408, "the request body did not arrive in time");
                } catch (InterruptedException | ExecutionException e) {
                    throw new IllegalStateException(e);
                }
                continue;
            }
            if (Content.Chunk.isFailure(chunk)) {
                throw new UncheckedIOException(new IOException("reading the request failed", chunk.getFailure()));
            }
            ByteBuffer buffer = chunk.getByteBuffer();
            if (bytes.size() + buffer.remaining() > maxBytes) {
                chunk.release();
                setHeader("Connection", "close");
                throw new HttpError(413, "the request body exceeds " + maxBytes + " bytes");
            }
            byte[] piece = new byte[buffer.remaining()];
            buffer.get(piece);
            bytes.writeBytes(piece);
            chunk.release();
            if (chunk.isLast()) break;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the request body is not valid UTF-8");
        }
    }

    void sendJson(int status, Object value) {
        send(status, "application/json; charset=utf-8", (Json.write(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** OpenAI's error shape. */
    void sendError(int status, String message) {
        String type = status >= 500 ? "server_error" : switch (status) {
            case 401 -> "authentication_error";
            case 404 -> "not_found_error";
            case 429, 503 -> "server_busy";
            default -> "invalid_request_error";
        };
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("code", null);
        sendJson(status, Map.of("error", error));
    }

    void send(int status, String contentType, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        write(true, body);
    }

    /** Starts a stream of server-sent events; {@link #event} sends each. */
    void startEvents() {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.getHeaders().put("X-Accel-Buffering", "no");
    }

    /** One {@code data:} event, flushed; throws {@link UncheckedIOException} when the client has gone. */
    void event(String data) {
        write(false, ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
    }

    void endEvents() {
        write(true, new byte[0]);
    }

    private void write(boolean last, byte[] bytes) {
        committed = true;
        try (Blocker.Callback blocker = Blocker.callback()) {
            response.write(last, ByteBuffer.wrap(bytes), blocker);
            blocker.block();
            bytesSent += bytes.length;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Marks a request whose client went away before any answer: 499, nginx's "client closed request", for the log
     * (the client never sees it).
     */
    void clientGone() {
        if (!committed) response.setStatus(499);
    }

    /** Ends the exchange: Jetty completes the response, or aborts the connection after a failure mid-answer. */
    void complete(Throwable failure) {
        if (failure == null || !committed) callback.succeeded();
        else callback.failed(failure);
    }
}
