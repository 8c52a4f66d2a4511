package org.jgpt.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgpt.io.Json;

/**
 * How {@code /v1/chat/completions} turns messages into the plain text a GPT-2 continues: each message through the
 * template of its role, with {@code {content}} replaced by its text, then the generation prompt; the model's reply
 * ends at one of the stop strings (or the request's own). The default:
 * <pre>
 * system:     "{content}\n\n"
 * user:       "User: {content}\n"
 * assistant:  "Assistant: {content}\n"
 * generation: "Assistant:"
 * stop:       ["\nUser:"]
 * </pre>
 * so that {@code [system "Be brief.", user "Hi"]} becomes {@code "Be brief.\n\nUser: Hi\nAssistant:"}. A JSON file
 * with the same five keys replaces it ({@code jgpt serve --chat-template FILE}).
 */
record ChatTemplate(String system, String user, String assistant, String generation, List<String> stop) {
    private static final Set<String> KEYS = Set.of("system", "user", "assistant", "generation", "stop");

    ChatTemplate {
        stop = List.copyOf(stop);
        for (String template : List.of(system, user, assistant)) {
            if (!template.contains("{content}")) {
                throw new IllegalArgumentException("chat template '" + template + "' has no {content}");
            }
        }
        if (stop.stream().anyMatch(String::isEmpty)) throw new IllegalArgumentException("a chat template's stop string is empty");
    }

    static ChatTemplate defaults() {
        return new ChatTemplate("{content}\n\n", "User: {content}\n", "Assistant: {content}\n", "Assistant:",
                List.of("\nUser:"));
    }

    /** A template from a JSON file with the keys system, user, assistant, generation (strings) and stop (a list). */
    static ChatTemplate read(Path file) {
        Map<String, Object> json = Json.parseFile(file);
        for (String key : json.keySet()) {
            if (!KEYS.contains(key)) throw new IllegalArgumentException(file + ": unknown chat template key '" + key + "'");
        }
        try {
            List<String> stop = new ArrayList<>();
            if (json.get("stop") instanceof List<?> list) {
                for (Object item : list) stop.add(string(item, "stop"));
            } else if (json.containsKey("stop")) {
                throw new IllegalArgumentException("'stop' must be a list of strings");
            }
            return new ChatTemplate(string(json.get("system"), "system"), string(json.get("user"), "user"),
                    string(json.get("assistant"), "assistant"), string(json.get("generation"), "generation"), stop);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    private static String string(Object value, String key) {
        if (value instanceof String text) return text;
        throw new IllegalArgumentException("'" + key + "' must be a string");
    }

    /** The prompt for these (role, content) messages, ending with the generation prompt. */
    String render(List<Map.Entry<String, String>> messages) {
        StringBuilder prompt = new StringBuilder();
        for (Map.Entry<String, String> message : messages) {
            String template = switch (message.getKey()) {
                case "system", "developer" -> system;
                case "user" -> user;
                case "assistant" -> assistant;
                default -> throw new IllegalArgumentException("a message's role must be system, developer, user or"
                        + " assistant, not '" + message.getKey() + "'");
            };
            prompt.append(template.replace("{content}", message.getValue()));
        }
        return prompt.append(generation).toString();
    }
}
