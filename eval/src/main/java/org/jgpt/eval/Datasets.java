package org.jgpt.eval;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/** Reading evaluation data: errors name the file, the line and the field. */
public final class Datasets {
    private Datasets() {}

    /** One JSON object of a JSONL file, with where it came from. */
    public record Row(Path file, int line, Map<String, Object> fields) {
        public String string(String name) {
            if (!(fields.get(name) instanceof String s)) throw error("no string field \"" + name + "\"");
            return s;
        }

        public Object get(String name) {
            if (!fields.containsKey(name)) throw error("no field \"" + name + "\"");
            return fields.get(name);
        }

        /** A field holding a string or a list of strings (e.g. several gold answers). */
        public List<String> strings(String name) {
            Object value = get(name);
            if (value instanceof String s) return List.of(s);
            List<String> out = new ArrayList<>();
            if (value instanceof List<?> list) {
                for (Object o : list) {
                    if (!(o instanceof String s)) throw error("field \"" + name + "\" must hold strings");
                    out.add(s);
                }
            }
            if (out.isEmpty()) throw error("field \"" + name + "\" must be a string or a non-empty list of strings");
            return out;
        }

        public IllegalArgumentException error(String message) {
            return new IllegalArgumentException(file + ":" + line + ": " + message);
        }
    }

    public static String readText(Path file) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        }
    }

    /** The JSON objects of a JSONL file, blank lines skipped, at most {@code limit} (0: all). */
    public static List<Row> jsonl(Path file, int limit) throws IOException {
        List<Row> rows = new ArrayList<>();
        String[] lines = readText(file).split("\n", -1);
        for (int i = 0; i < lines.length && (limit <= 0 || rows.size() < limit); i++) {
            if (lines[i].isBlank()) continue;
            try {
                rows.add(new Row(file, i + 1, Json.parseObject(lines[i])));
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + " holds no examples");
        return rows;
    }

    /** The first {@code limit} elements (all for 0). */
    public static <T> List<T> limit(List<T> items, int limit) {
        return limit <= 0 || limit >= items.size() ? items : items.subList(0, limit);
    }
}
