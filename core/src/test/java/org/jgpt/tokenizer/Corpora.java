package org.jgpt.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The test corpora in the repository's data/corpora, found by walking up from the working directory. */
final class Corpora {
    private Corpora() {}

    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("data/corpora"))) return dir.resolve("data/corpora");
        }
        throw new IllegalStateException("data/corpora not found above " + Path.of("").toAbsolutePath());
    }

    /** The regular files under a folder of data/corpora, sorted by path. */
    static List<Path> files(String folder) {
        try (Stream<Path> files = Files.walk(root().resolve(folder))) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
