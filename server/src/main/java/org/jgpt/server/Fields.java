package org.jgpt.server;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jgpt.io.Json;

/**
 * A JSON request body's fields, read by name with their types checked; {@link #rejectOthers} then refuses any field
 * that was not read, so that a misspelt option is an error rather than silently ignored. A field that is null counts
 * as absent, as in OpenAI's API.
 */
final class Fields {
    private final Map<String, Object> values;
    private final Set<String> read = new HashSet<>();

    Fields(String body) {
        this.values = Json.parseObject(body);
    }

    boolean has(String name) {
        return values.get(name) != null;
    }

    /** Fields accepted for compatibility and not used. */
    void ignore(String... names) {
        read.addAll(List.of(names));
    }

    void rejectOthers() {
        for (String name : values.keySet()) {
            if (!read.contains(name)) throw new IllegalArgumentException("unknown field '" + name + "'");
        }
    }

    String string(String name) {
        Object value = get(name);
        if (value == null) throw new IllegalArgumentException("'" + name + "' is required");
        if (!(value instanceof String text)) throw new IllegalArgumentException("'" + name + "' must be a string");
        return text;
    }

    /** A string or a list of strings, as a list; {@code absent} when the field is missing. */
    List<String> strings(String name, List<String> absent) {
        Object value = get(name);
        if (value == null) return absent;
        if (value instanceof String text) return List.of(text);
        if (value instanceof List<?> list) {
            List<String> texts = new ArrayList<>();
            for (Object item : list) {
                if (!(item instanceof String text)) {
                    throw new IllegalArgumentException("'" + name + "' must be a string or a list of strings");
                }
                texts.add(text);
            }
            return texts;
        }
        throw new IllegalArgumentException("'" + name + "' must be a string or a list of strings");
    }

    /**
     * A prompt in any of OpenAI's forms: a string, a list of strings, a list of token ids, or a list of lists of token
     * ids; as token ids, with strings encoded by {@code encode}. Null when the field is missing.
     */
    List<int[]> prompts(String name, Function<String, int[]> encode) {
        Object value = get(name);
        if (value == null) return null;
        String expected = "'" + name + "' must be a string, a list of strings, a list of token ids"
                + " or a list of lists of token ids";
        if (value instanceof String text) return List.of(encode.apply(text));
        if (!(value instanceof List<?> list)) throw new IllegalArgumentException(expected);
        if (!list.isEmpty() && list.stream().allMatch(item -> item instanceof Long)) return List.of(ints(list, expected));
        List<int[]> prompts = new ArrayList<>();
        for (Object item : list) {
            if (item instanceof String text) prompts.add(encode.apply(text));
            else if (item instanceof List<?> ids) prompts.add(ints(ids, expected));
            else throw new IllegalArgumentException(expected);
        }
        return prompts;
    }

    /** {@code list} as ints, or an error saying {@code expected} when an item is not an int. */
    private static int[] ints(List<?> list, String expected) {
        if (!list.stream().allMatch(v -> v instanceof Long l && l == l.intValue())) throw new IllegalArgumentException(expected);
        return Json.toIntArray(list);
    }

    int integer(String name, int absent) {
        if (!has(name)) {
            read.add(name);
            return absent;
        }
        long value = longInteger(name);
        if (value != (int) value) throw new IllegalArgumentException("'" + name + "' is out of range: " + value);
        return (int) value;
    }

    long longInteger(String name) {
        Object value = get(name);
        if (value instanceof Long whole) return whole;
        throw new IllegalArgumentException("'" + name + "' must be an integer");
    }

    float number(String name, float absent) {
        Object value = get(name);
        if (value == null) return absent;
        if (value instanceof Number number) return number.floatValue();
        throw new IllegalArgumentException("'" + name + "' must be a number");
    }

    boolean bool(String name, boolean absent) {
        Object value = get(name);
        if (value == null) return absent;
        if (value instanceof Boolean flag) return flag;
        throw new IllegalArgumentException("'" + name + "' must be true or false");
    }

    /** A list, or null when the field is missing. */
    List<?> list(String name) {
        Object value = get(name);
        if (value == null) return null;
        if (value instanceof List<?> list) return list;
        throw new IllegalArgumentException("'" + name + "' must be a list");
    }

    /** An object, or null when the field is missing. */
    Map<?, ?> object(String name) {
        Object value = get(name);
        if (value == null) return null;
        if (value instanceof Map<?, ?> map) return map;
        throw new IllegalArgumentException("'" + name + "' must be an object");
    }

    int[] integers(String name) {
        Object value = get(name);
        if (value == null) throw new IllegalArgumentException("'" + name + "' is required");
        String expected = "'" + name + "' must be a list of integers";
        if (value instanceof List<?> list) return ints(list, expected);
        throw new IllegalArgumentException(expected);
    }

    private Object get(String name) {
        read.add(name);
        return values.get(name);
    }
}
