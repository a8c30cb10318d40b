package dev.kimilinear.job.prompts;

import dev.kimilinear.job.config.GenerateSpec;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which column an offline generation file's prompts come from, and what a row without one says. */
class GenerateInputTest {
    static final StructType MESSAGE = new StructType(new StructField[] {
            DataTypes.createStructField("role", DataTypes.StringType, true),
            DataTypes.createStructField("content", DataTypes.StringType, true)});

    static StructType schema(String... textColumns) {
        StructType s = new StructType().add("id", DataTypes.StringType);
        for (String c : textColumns) {
            s = s.add(c, DataTypes.StringType);
        }
        return s;
    }

    static GenerateSpec spec(String column) {
        return new GenerateSpec(Path.of("in.jsonl"), column, "messages", null, "d");
    }

    @Test
    void theTextColumnIsTheNamedOneElseTheFirstDatasetsUse() {
        assertEquals("prompt", GenerateInput.columns(schema("prompt", "meta"), spec(null)).textColumn());
        assertEquals("question", GenerateInput.columns(schema("question", "input"), spec(null)).textColumn());
        assertEquals("text", GenerateInput.columns(schema("input", "text"), spec(null)).textColumn(),
                "text comes first when a file has several");
        assertEquals("body", GenerateInput.columns(schema("body", "text"), spec("body")).textColumn());
        assertNull(GenerateInput.columns(schema("body"), spec(null)).textColumn());
        assertNull(GenerateInput.columns(schema("text"), spec("body")).textColumn(), "a named column is never guessed");
        StructType chat = schema().add("conversation", DataTypes.createArrayType(MESSAGE));
        GenerateInput.Columns c = GenerateInput.columns(chat, spec("conversation"));
        assertNull(c.textColumn());
        assertEquals("conversation", c.messagesColumn(), "a list-typed column is read as chat messages");
    }

    @Test
    void aRowWithoutAPromptSaysWhichColumnsAreEmpty() {
        StructType s = schema("prompt");
        GenerateInput.Converter converter = new GenerateInput.Converter("in.jsonl",
                GenerateInput.columns(s, spec(null)), true, false, false);
        Row empty = new GenericRowWithSchema(new Object[] {"1", ""}, s);
        Row out = converter.convert(new Tuple2<>(empty, 4L));
        assertNull(out.get(0));
        Row error = out.getStruct(1);
        assertEquals(4L, error.getLong(1));
        assertEquals("no prompt: column 'prompt' is empty", error.getString(2));
        Row good = converter.convert(new Tuple2<>(new GenericRowWithSchema(new Object[] {"2", "Hello"}, s), 5L));
        assertEquals("Hello", good.getStruct(0).getString(4));
    }
}
