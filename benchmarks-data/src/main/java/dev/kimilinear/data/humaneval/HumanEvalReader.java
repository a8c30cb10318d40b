package dev.kimilinear.data.humaneval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.kimilinear.data.input.BadEncodingException;
import dev.kimilinear.data.input.FileKind;
import dev.kimilinear.data.input.InputBytes;
import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.input.JsonFields;
import dev.kimilinear.data.input.Lines;
import dev.kimilinear.data.input.ParsedRows;
import dev.kimilinear.data.input.StrictUtf8;
import dev.kimilinear.data.record.ErrorRecord;

/** Reads HumanEval problems from JSON lines, plain or gzip-compressed; rows are line numbers. */
public final class HumanEvalReader {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private HumanEvalReader() {
    }

    public static ParsedRows<HumanEvalProblem> read(Path file) {
        FileKind kind = FileKind.detect(file);
        byte[] bytes = switch (kind) {
            case GZIP -> InputBytes.gunzip(file);
            case JSON_OBJECT -> InputBytes.read(file);
            default -> throw new InputException(file + ": expected HumanEval JSON lines (.jsonl or .jsonl.gz), found "
                    + kind.description() + " starting with '" + FileKind.preview(file) + "'");
        };
        FileKind content = FileKind.detect(bytes, Math.min(bytes.length, 4096));
        if (kind == FileKind.GZIP && content != FileKind.JSON_OBJECT) {
            throw new InputException(file + ": expected gzip-compressed HumanEval JSON lines, but the content is "
                    + content.description());
        }
        String source = file.toString();
        List<ParsedRows.Row<HumanEvalProblem>> rows = new ArrayList<>();
        List<ErrorRecord> errors = new ArrayList<>();
        Map<String, Long> firstLineOfTask = new HashMap<>();
        int syntaxErrors = 0;
        for (Lines.Line line : Lines.split(bytes)) {
            if (line.isBlank(bytes)) {
                continue;
            }
            try {
                JsonNode node = MAPPER.readTree(StrictUtf8.decode(bytes, line.from(), line.to()));
                HumanEvalProblem problem = problem(node);
                Long first = firstLineOfTask.putIfAbsent(problem.taskId(), line.number());
                if (first != null) {
                    throw new IllegalArgumentException("duplicate task_id " + problem.taskId() + " (first on line " + first + ")");
                }
                rows.add(new ParsedRows.Row<>(line.number(), problem));
            } catch (BadEncodingException e) {
                errors.add(new ErrorRecord(source, line.number(), "bad encoding: " + e.getMessage()));
            } catch (JsonProcessingException e) {
                syntaxErrors++;
                errors.add(new ErrorRecord(source, line.number(), "not valid JSON: " + e.getOriginalMessage()));
            } catch (IllegalArgumentException e) {
                errors.add(new ErrorRecord(source, line.number(), e.getMessage()));
            }
        }
        if (rows.isEmpty() && syntaxErrors > 0 && syntaxErrors == errors.size()) {
            throw new InputException(file + ": not HumanEval JSON lines: no line parses as JSON (line "
                    + errors.get(0).row() + ": " + errors.get(0).reason() + ")");
        }
        return new ParsedRows<>(source, rows, errors);
    }

    private static HumanEvalProblem problem(JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("expected a problem object, found " + node.getNodeType());
        }
        return new HumanEvalProblem(required(node, "task_id"), required(node, "prompt"),
                JsonFields.optionalText(node, "canonical_solution"), required(node, "test"),
                required(node, "entry_point"));
    }

    private static String required(JsonNode node, String field) {
        String value = JsonFields.optionalText(node, field);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("field " + field + " is " + (value == null ? "missing" : "empty"));
        }
        return value;
    }
}
