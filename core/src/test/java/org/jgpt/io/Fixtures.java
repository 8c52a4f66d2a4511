package org.jgpt.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The PyTorch reference fixtures under data/fixtures/gpt2 (see the README there). */
final class Fixtures {
    private Fixtures() {}

    /** The fixtures folder, found from the working directory (the module's or the repository's). */
    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("data/fixtures/gpt2");
            if (Files.isDirectory(candidate)) return candidate;
        }
        throw new IllegalStateException("data/fixtures/gpt2 not found above " + Path.of("").toAbsolutePath());
    }

    static Path variant(String name) {
        return root().resolve(name);
    }

    static Map<String, Object> expected(String name) {
        try {
            return Json.parseObject(Files.readString(variant(name).resolve("expected.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
