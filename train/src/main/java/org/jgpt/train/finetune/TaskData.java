package org.jgpt.train.finetune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jgpt.io.Json;

/**
 * Reads task examples from JSON Lines (one object a line, fields named as in {@link Task#fields()} plus
 * {@code label}) or CSV (a header row naming the same columns; CHOICE answers in columns choice1, choice2, ...;
 * RFC 4180 quoting). The format follows the file's extension: {@code .csv}, otherwise JSON Lines. Errors name the
 * file and line.
 */
public final class TaskData {
    private TaskData() {}

    /** The file's examples; {@code labelled} requires every example to carry a label. */
    public static List<Example> read(Path file, Task task, boolean labelled) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        List<Example> examples = file.getFileName().toString().endsWith(".csv") ? csv(file, text, task) : jsonl(file, text, task);
        if (examples.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        if (labelled) {
            for (Example e : examples) {
                if (e.label() == null) throw new IllegalArgumentException(e.source() + ": no label");
            }
        }
        return examples;
    }

    private static List<Example> jsonl(Path file, String text, Task task) {
        List<Example> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            String source = file + ":" + (i + 1);
            Map<String, Object> object;
            try {
                object = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": not a JSON object: " + e.getMessage(), e);
            }
            List<String> texts = new ArrayList<>();
            for (String field : task.fields()) {
                Object value = object.get(field);
                if (value == null) throw new IllegalArgumentException(source + ": missing field '" + field + "'");
                if (field.equals("choices")) {
                    if (!(value instanceof List<?> choices) || choices.size() < 2) {
                        throw new IllegalArgumentException(source + ": 'choices' must be a list of at least two texts");
                    }
                    for (Object choice : choices) texts.add(string(choice, source, "choices"));
                } else {
                    texts.add(string(value, source, field));
                }
            }
            Object label = object.get("label");
            out.add(new Example(texts, label == null ? null : labelText(label, source), source));
        }
        return out;
    }

    private static String string(Object value, String source, String field) {
        if (value instanceof String s) return s;
        throw new IllegalArgumentException(source + ": field '" + field + "' must be a string, not " + value);
    }

    /** Labels may be strings or numbers; numbers are spelled as written in JSON (3, 3.5). */
    private static String labelText(Object label, String source) {
        return switch (label) {
            case String s -> s;
            case Long n -> Long.toString(n);
            case Number n -> Double.toString(n.doubleValue());
            case Boolean b -> b.toString();
            default -> throw new IllegalArgumentException(source + ": label must be a string or a number, not " + label);
        };
    }

    private static List<Example> csv(Path file, String text, Task task) {
        List<List<String>> rows = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        parseCsv(file, text, rows, lineNumbers);
        if (rows.isEmpty()) return List.of();
        List<String> header = rows.getFirst();
        List<Integer> columns = new ArrayList<>();
        for (String field : task.fields()) {
            if (field.equals("choices")) {
                for (int k = 1; header.contains("choice" + k); k++) columns.add(header.indexOf("choice" + k));
                if (columns.size() < 3) throw new IllegalArgumentException(file + ":1: need columns choice1 and choice2 at least");
            } else {
                if (!header.contains(field)) throw new IllegalArgumentException(file + ":1: no column '" + field + "' in the header " + header);
                columns.add(header.indexOf(field));
            }
        }
        int labelColumn = header.indexOf("label");
        List<Example> out = new ArrayList<>();
        for (int r = 1; r < rows.size(); r++) {
            List<String> row = rows.get(r);
            String source = file + ":" + lineNumbers.get(r);
            if (row.size() != header.size()) {
                throw new IllegalArgumentException(source + ": " + row.size() + " columns, the header has " + header.size());
            }
            List<String> texts = new ArrayList<>();
            for (int column : columns) texts.add(row.get(column));
            out.add(new Example(texts, labelColumn < 0 ? null : row.get(labelColumn), source));
        }
        return out;
    }

    /** RFC 4180: commas, double quotes around fields, "" for a quote inside, newlines inside quotes. */
    private static void parseCsv(Path file, String text, List<List<String>> rows, List<Integer> lineNumbers) {
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean rowHasContent = false;
        int line = 1;
        int rowLine = 1;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    if (ch == '\n') line++;
                    field.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
                rowHasContent = true;
            } else if (ch == ',') {
                row.add(field.toString());
                field.setLength(0);
                rowHasContent = true;
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                if (rowHasContent || !field.isEmpty()) {
                    row.add(field.toString());
                    rows.add(row);
                    lineNumbers.add(rowLine);
                }
                row = new ArrayList<>();
                field.setLength(0);
                rowHasContent = false;
                line++;
                rowLine = line;
            } else {
                field.append(ch);
                rowHasContent = true;
            }
        }
        if (quoted) throw new IllegalArgumentException(file + ":" + rowLine + ": unterminated quoted field");
        if (rowHasContent || !field.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
            lineNumbers.add(rowLine);
        }
    }
}
