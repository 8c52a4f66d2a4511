package org.jgpt.train;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds files committed at the repository root from a test's working directory (a module directory). */
public final class RepoFiles {
    private RepoFiles() {}

    public static Path find(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.exists(candidate)) return candidate;
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
