package org.jgpt.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A byte range of an input file, the unit of work of the jobs: a {@code .jsonl} file is cut into ranges of at most
 * {@code splitBytes} (a range owns the records that start in it), any other file is one range. Tasks read their
 * ranges with {@code java.nio} from a path, so every machine of a cluster must see the inputs at the same path (a
 * shared or replicated file system); Hadoop's input formats are not used (see the README).
 *
 * @param file the file's place in the input order
 */
public record FileSplit(int file, String path, long start, long end, long bytes) implements Serializable {

    public Path toPath() {
        return Path.of(path);
    }

    /** The ranges of the files, in input order. */
    public static List<FileSplit> of(List<Path> files, long splitBytes, Predicate<Path> splittable) throws IOException {
        if (splitBytes <= 0) throw new IllegalArgumentException("split size must be positive: " + splitBytes);
        List<FileSplit> splits = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i).toAbsolutePath();
            long size = Files.size(file);
            if (!splittable.test(file) || size <= splitBytes) {
                splits.add(new FileSplit(i, file.toString(), 0, Long.MAX_VALUE, size));
                continue;
            }
            for (long start = 0; start < size; start += splitBytes) {
                long end = Math.min(size, start + splitBytes);
                splits.add(new FileSplit(i, file.toString(), start, end == size ? Long.MAX_VALUE : end, end - start));
            }
        }
        return splits;
    }

    /**
     * The splits cut, in order, into at most {@code partitions} runs of about equal bytes: one Spark partition each,
     * so that a partition's output follows the previous one's in input order.
     */
    public static List<List<FileSplit>> partitions(List<FileSplit> splits, int partitions) {
        long total = 0;
        for (FileSplit s : splits) total += s.bytes;
        long target = Math.max(1, (total + partitions - 1) / partitions);
        List<List<FileSplit>> out = new ArrayList<>();
        List<FileSplit> current = new ArrayList<>();
        long filled = 0;
        for (FileSplit s : splits) {
            current.add(s);
            filled += s.bytes;
            if (filled >= target && out.size() < partitions - 1) {
                out.add(current);
                current = new ArrayList<>();
                filled = 0;
            }
        }
        if (!current.isEmpty()) out.add(current);
        return out;
    }
}
