package org.jgpt.train;

import java.io.IOException;
import java.io.UncheckedIOException;
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

/**
 * The texts a contrastive objective learns from, read whole before anything is written: sentences (simcse), from a
 * text file (one per non-blank line) or JSON Lines (one field of each record, {@code text} by default); or pairs
 * (contrastive-pairs, retrieval), from JSON Lines (two fields, {@code anchor} and {@code positive} by default, as
 * sentence-transformers names them). Every {@value #HELD_OUT_EVERY}th record (the 20th, 40th, ... non-blank line) is
 * held out for validation and retrieval; the others train. Errors name the file and line.
 */
public final class ContrastiveData {
    public static final int HELD_OUT_EVERY = 20;
    public static final List<String> SENTENCE_FIELDS = List.of("text");
    public static final List<String> PAIR_FIELDS = List.of("anchor", "positive");

    /** One record: an anchor and its positive (for sentences, the sentence twice). */
    public record Pair(String anchor, String positive) {}

    /** The training records and the held-out ones, each in file order. */
    public record Split(List<Pair> train, List<Pair> heldOut) {}

    private ContrastiveData() {}

    /**
     * Reads {@code file}: pairs when {@code pairs}, else sentences. {@code fields} names the JSON fields (two for
     * pairs, one for sentences); empty for the defaults.
     */
    public static Split read(Path file, List<String> fields, boolean pairs) {
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        List<String> names = !fields.isEmpty() ? fields : pairs ? PAIR_FIELDS : SENTENCE_FIELDS;
        if (names.size() != (pairs ? 2 : 1)) {
            throw new IllegalArgumentException((pairs ? "pairs need two fields" : "sentences need one field")
                    + " (anchor,positive or text), not " + names);
        }
        if (!jsonl && pairs) throw new IllegalArgumentException(file + ": pairs are read from JSON Lines (a .jsonl file)");
        if (!jsonl && !fields.isEmpty()) throw new IllegalArgumentException(file + ": fields apply to JSON Lines (a .jsonl file)");
        List<Pair> train = new ArrayList<>();
        List<Pair> heldOut = new ArrayList<>();
        String[] lines = text(file).split("\n", -1);
        int records = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) continue;
            String source = file + ":" + (i + 1);
            Pair pair;
            if (jsonl) {
                Map<String, Object> record;
                try {
                    record = Json.parseObject(line);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(source + ": not a JSON object: " + e.getMessage(), e);
                }
                String anchor = field(record, names.getFirst(), source);
                pair = new Pair(anchor, pairs ? field(record, names.get(1), source) : anchor);
            } else {
                pair = new Pair(line, line);
            }
            records++;
            (records % HELD_OUT_EVERY == 0 ? heldOut : train).add(pair);
        }
        if (records == 0) throw new IllegalArgumentException(file + " holds no records");
        return new Split(train, heldOut);
    }

    private static String field(Map<String, Object> record, String name, String source) {
        Object value = record.get(name);
        if (value == null) throw new IllegalArgumentException(source + ": missing field '" + name + "'");
        if (!(value instanceof String text)) throw new IllegalArgumentException(source + ": field '" + name + "' must be a string, not " + value);
        if (text.isBlank()) throw new IllegalArgumentException(source + ": field '" + name + "' is empty");
        return text;
    }

    private static String text(Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
