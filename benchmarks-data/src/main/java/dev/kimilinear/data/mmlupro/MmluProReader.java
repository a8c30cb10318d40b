package dev.kimilinear.data.mmlupro;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.kimilinear.data.input.BadEncodingException;
import dev.kimilinear.data.input.FileKind;
import dev.kimilinear.data.input.InputBytes;
import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.input.JsonFields;
import dev.kimilinear.data.input.JsonArrayElements;
import dev.kimilinear.data.input.ParquetRows;
import dev.kimilinear.data.input.ParquetValues;
import dev.kimilinear.data.input.ParsedRows;
import dev.kimilinear.data.input.StrictUtf8;
import dev.kimilinear.data.record.ErrorRecord;

/**
 * Reads MMLU-Pro questions from the Hugging Face Parquet files (test or validation split), from a
 * JSON list of question objects, or from a zip holding one such JSON list. Rows that are not valid
 * questions are returned as errors; the rest load.
 */
public final class MmluProReader {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private MmluProReader() {
    }

    public static ParsedRows<MmluProQuestion> read(Path file) {
        FileKind kind = FileKind.detect(file);
        return switch (kind) {
            case PARQUET -> readParquet(file);
            case JSON_ARRAY -> readJsonList(file, InputBytes.read(file));
            case ZIP -> readJsonList(file, InputBytes.singleZipEntry(file, ".json"));
            default -> throw new InputException(file + ": expected MMLU-Pro as Parquet, a JSON list, or a zip holding "
                    + "one JSON list; found " + kind.description() + " starting with '" + FileKind.preview(file) + "'");
        };
    }

    private static ParsedRows<MmluProQuestion> readParquet(Path file) {
        var schema = ParquetRows.schema(file);
        for (String column : List.of("question_id", "question", "options", "answer", "answer_index", "category")) {
            if (!schema.containsField(column)) {
                throw new InputException(file + ": not an MMLU-Pro Parquet file: column " + column + " is missing "
                        + "(expected question_id, question, options, answer, answer_index, cot_content, category, src)");
            }
        }
        List<ParsedRows.Row<MmluProQuestion>> rows = new ArrayList<>();
        List<ErrorRecord> errors = new ArrayList<>();
        String source = file.toString();
        ParquetRows.forEach(file, (row, group) -> {
            try {
                rows.add(new ParsedRows.Row<>(row, MmluProFields.validate(
                        ParquetValues.integer(group, "question_id"),
                        ParquetValues.string(group, "question"),
                        ParquetValues.stringList(group, "options"),
                        ParquetValues.string(group, "answer"),
                        ParquetValues.integer(group, "answer_index"),
                        ParquetValues.string(group, "cot_content"),
                        ParquetValues.string(group, "category"),
                        ParquetValues.string(group, "src"))));
            } catch (BadEncodingException e) {
                errors.add(new ErrorRecord(source, row, "bad encoding: " + e.getMessage()));
            } catch (IllegalArgumentException e) {
                errors.add(new ErrorRecord(source, row, e.getMessage()));
            }
        });
        return new ParsedRows<>(source, rows, errors);
    }

    private static ParsedRows<MmluProQuestion> readJsonList(Path file, byte[] bytes) {
        String source = file.toString();
        List<ParsedRows.Row<MmluProQuestion>> rows = new ArrayList<>();
        List<ErrorRecord> errors = new ArrayList<>();
        for (JsonArrayElements.Element element : JsonArrayElements.split(bytes, source)) {
            try {
                JsonNode node = MAPPER.readTree(StrictUtf8.decode(bytes, element.from(), element.to()));
                rows.add(new ParsedRows.Row<>(element.index(), fromJson(node)));
            } catch (BadEncodingException e) {
                errors.add(new ErrorRecord(source, element.index(), "bad encoding: " + e.getMessage()));
            } catch (JsonProcessingException e) {
                errors.add(new ErrorRecord(source, element.index(), "not valid JSON: " + e.getOriginalMessage()));
            } catch (IllegalArgumentException e) {
                errors.add(new ErrorRecord(source, element.index(), e.getMessage()));
            }
        }
        return new ParsedRows<>(source, rows, errors);
    }

    private static MmluProQuestion fromJson(JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("expected a question object, found " + node.getNodeType());
        }
        List<String> options = null;
        JsonNode optionsNode = node.get("options");
        if (optionsNode != null && !optionsNode.isNull()) {
            if (!optionsNode.isArray()) {
                throw new IllegalArgumentException("field options must be a list of strings");
            }
            options = new ArrayList<>();
            for (JsonNode option : optionsNode) {
                if (!option.isTextual()) {
                    throw new IllegalArgumentException("field options entry " + options.size() + " is not a string");
                }
                options.add(option.asText());
            }
        }
        return MmluProFields.validate(integer(node, "question_id"), JsonFields.optionalText(node, "question"),
                options, JsonFields.optionalText(node, "answer"), integer(node, "answer_index"),
                JsonFields.optionalText(node, "cot_content"),
                JsonFields.optionalText(node, "category"), JsonFields.optionalText(node, "src"));
    }

    private static Long integer(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber()) {
            throw new IllegalArgumentException("field " + field + " must be an integer, found " + value);
        }
        return value.asLong();
    }
}
