package org.jgpt.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/** Files written whole or not at all: into a temporary file beside the target, then renamed over it. */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * A new, empty temporary file in {@code file}'s folder, readable by all as a plain new file is
     * ({@code Files.createTempFile} makes it owner-only, which a saved model should not be).
     */
    public static Path temporarySibling(Path file) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return tmp;
    }

    /** Writes the content of a file, given the path to write it to. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path path) throws IOException;
    }

    /**
     * Has {@code content} write a {@link #temporarySibling} of {@code file}, then renames it over {@code file}. If
     * anything fails, the temporary file is removed and {@code file} is left as it was.
     */
    public static void write(Path file, Content content) throws IOException {
        Path tmp = temporarySibling(file);
        try {
            content.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes {@code text} as UTF-8 to {@code file}, atomically. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }
}
