package dev.kimilinear.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.engine.Prompt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Text prompts from a JSONL file, one object per line, read from the first of the fields a
 * generate job reads ({@code text}, {@code prompt}, {@code question}, {@code input}), so that a
 * bench runs the very prompts a job does.
 */
public final class PromptsFile {
    /** Text fields datasets use, in the order they are looked for (a generate job's input columns too). */
    public static final List<String> TEXT_FIELDS = List.of("text", "prompt", "question", "input");

    private PromptsFile() {
    }

    public static List<Prompt> read(Path file) {
        ObjectMapper json = new ObjectMapper();
        List<Prompt> prompts = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = json.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": not a JSON object: "
                            + e.getOriginalMessage());
                }
                prompts.add(new Prompt.Text(text(row, file, number)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException(file + ": no prompts");
        }
        return prompts;
    }

    private static String text(JsonNode row, Path file, int number) {
        if (row == null || !row.isObject()) {
            throw new IllegalArgumentException(file + " line " + number + ": not a JSON object");
        }
        for (String field : TEXT_FIELDS) {
            JsonNode value = row.get(field);
            if (value != null && value.isTextual() && !value.asText().isEmpty()) {
                return value.asText();
            }
        }
        throw new IllegalArgumentException(file + " line " + number + ": no prompt: none of the fields " + TEXT_FIELDS
                + " holds a non-empty string");
    }
}
