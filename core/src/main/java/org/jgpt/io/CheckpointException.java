package org.jgpt.io;

import java.nio.file.Path;

/** A checkpoint file that is malformed, inconsistent or unsupported. The message names the file and the tensor. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(Path file, String message) {
        super(file + ": " + message);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
