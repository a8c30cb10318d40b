package dev.kimilinear.job.prompts;

import dev.kimilinear.cli.PromptsFile;
import dev.kimilinear.job.config.GenerateSpec;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The prompts of an offline generation job: any Parquet or JSONL file with a text column or a
 * chat messages column (a list of {role, content}). The text column is the one named by
 * {@code generate.column}, else the first of {@link #TEXT_COLUMNS} the file has; a named column
 * that holds a list is read as chat messages. Rows that cannot become a prompt go to the errors
 * output with their row number and the reason; the others run.
 */
public final class GenerateInput {
    public static final String CORRUPT = "_corrupt_record";
    /** Text columns datasets use, in the order they are looked for (bench engine --prompts reads the same). */
    public static final List<String> TEXT_COLUMNS = PromptsFile.TEXT_FIELDS;
    public static final StructType ERRORS = new StructType(new StructField[]{
            DataTypes.createStructField("source", DataTypes.StringType, false),
            DataTypes.createStructField("row", DataTypes.LongType, false),
            DataTypes.createStructField("reason", DataTypes.StringType, false)});

    /** Prompt rows (in {@link PromptRows#SCHEMA}) and error rows (in {@link #ERRORS}). */
    public record Split(Dataset<Row> prompts, Dataset<Row> errors) {
    }

    private GenerateInput() {
    }

    public static Split read(SparkSession spark, GenerateSpec spec) {
        String path = spec.input().toString();
        String name = spec.input().getFileName().toString().toLowerCase(Locale.ROOT);
        Dataset<Row> input;
        if (name.endsWith(".parquet") || isParquetDirectory(spec.input())) {
            input = spark.read().parquet(path);
        } else {
            input = spark.read().option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT).json(path);
        }
        Columns columns = columns(input.schema(), spec);
        boolean hasText = columns.textColumn() != null;
        boolean hasMessages = has(input, columns.messagesColumn());
        if (!hasText && !hasMessages && !has(input, CORRUPT)) {
            throw new IllegalArgumentException("generate.input: " + path + " has no prompt column: "
                    + (spec.textColumn() != null ? "no column '" + spec.textColumn() + "' (generate.column)"
                    : "none of " + String.join(", ", TEXT_COLUMNS) + " (or name one with generate.column)")
                    + " and no '" + spec.messagesColumn() + "' (generate.messages_column); its columns: "
                    + String.join(", ", input.columns()));
        }
        if (spec.idColumn() != null && !has(input, spec.idColumn())) {
            throw new IllegalArgumentException("generate.id_column: " + path + " has no column '" + spec.idColumn() + "'");
        }
        Converter converter = new Converter(path, columns, hasText, hasMessages, has(input, CORRUPT));
        JavaRDD<Tuple2<Row, Long>> indexed = input.toJavaRDD().zipWithIndex().map(t -> new Tuple2<>(t._1(), t._2() + 1));
        JavaRDD<Row> converted = indexed.map(converter::convert).cache();
        Dataset<Row> prompts = spark.createDataFrame(converted.filter(r -> r.get(0) != null).map(r -> r.getStruct(0)),
                PromptRows.SCHEMA);
        Dataset<Row> errors = spark.createDataFrame(converted.filter(r -> r.get(1) != null).map(r -> r.getStruct(1)),
                ERRORS);
        return new Split(prompts, errors);
    }

    private static boolean isParquetDirectory(java.nio.file.Path dir) {
        if (!java.nio.file.Files.isDirectory(dir)) {
            return false;
        }
        try (var files = java.nio.file.Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static boolean has(Dataset<Row> input, String column) {
        for (String c : input.columns()) {
            if (c.equals(column)) {
                return true;
            }
        }
        return false;
    }

    /** The columns a file's prompts come from (textColumn null: none) and the dataset name. */
    record Columns(String textColumn, String messagesColumn, String idColumn, String dataset) implements Serializable {
    }

    /** The input's columns other than the prompt's, in their order: carried into the dataset output. */
    static StructType extrasSchema(StructType schema, Columns columns) {
        StructType kept = new StructType();
        for (StructField f : schema.fields()) {
            if (!f.name().equals(columns.textColumn()) && !f.name().equals(columns.messagesColumn())
                    && !f.name().equals(CORRUPT)) {
                kept = kept.add(f);
            }
        }
        return kept;
    }

    /** The extras' schema of a generate job's input, read again from the file (resumed runs do not keep it). */
    public static StructType extrasSchema(SparkSession spark, GenerateSpec spec) {
        String path = spec.input().toString();
        String name = spec.input().getFileName().toString().toLowerCase(Locale.ROOT);
        StructType schema = name.endsWith(".parquet") || isParquetDirectory(spec.input())
                ? spark.read().parquet(path).schema()
                : spark.read().option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT).json(path).schema();
        return extrasSchema(schema, columns(schema, spec));
    }

    /**
     * Which columns of a file of this schema hold the prompts: {@code generate.column} when set
     * (a list-typed one is read as chat messages), else the first text column of
     * {@link #TEXT_COLUMNS} present.
     */
    static Columns columns(StructType schema, GenerateSpec spec) {
        List<String> names = List.of(schema.fieldNames());
        String text = null;
        String messages = spec.messagesColumn();
        if (spec.textColumn() != null) {
            if (names.contains(spec.textColumn())) {
                if (schema.apply(spec.textColumn()).dataType() instanceof org.apache.spark.sql.types.ArrayType) {
                    messages = spec.textColumn();
                } else {
                    text = spec.textColumn();
                }
            }
        } else {
            for (String candidate : TEXT_COLUMNS) {
                if (names.contains(candidate)) {
                    text = candidate;
                    break;
                }
            }
        }
        return new Columns(text, messages, spec.idColumn(), spec.dataset());
    }

    /** One input row to (prompt row, null) or (null, error row). */
    static final class Converter implements Serializable {
        private final String source;
        private final Columns spec;
        private final boolean hasText;
        private final boolean hasMessages;
        private final boolean hasCorrupt;

        Converter(String source, Columns spec, boolean hasText, boolean hasMessages, boolean hasCorrupt) {
            this.source = source;
            this.spec = spec;
            this.hasText = hasText;
            this.hasMessages = hasMessages;
            this.hasCorrupt = hasCorrupt;
        }

        Row convert(Tuple2<Row, Long> indexed) {
            Row row = indexed._1();
            long number = indexed._2();
            try {
                return RowFactory.create(prompt(row, number), null);
            } catch (IllegalArgumentException | ClassCastException e) {
                return RowFactory.create(null, RowFactory.create(source, number, e.getMessage()));
            }
        }

        private Row prompt(Row row, long number) {
            if (hasCorrupt && !row.isNullAt(row.fieldIndex(CORRUPT))) {
                throw new IllegalArgumentException("not a JSON object");
            }
            String id;
            if (spec.idColumn() != null) {
                Object value = row.get(row.fieldIndex(spec.idColumn()));
                if (value == null || value.toString().isBlank()) {
                    throw new IllegalArgumentException("column " + spec.idColumn() + " is empty; expected the row's id");
                }
                id = spec.dataset() + "/default/" + value;
            } else {
                id = spec.dataset() + "/default/" + number;
            }
            String text = hasText ? (String) row.get(row.fieldIndex(spec.textColumn())) : null;
            List<Row> messages = new ArrayList<>();
            if (hasMessages && !row.isNullAt(row.fieldIndex(spec.messagesColumn()))) {
                Object value = row.get(row.fieldIndex(spec.messagesColumn()));
                if (!(value instanceof scala.collection.Seq<?> seq)) {
                    throw new IllegalArgumentException("column " + spec.messagesColumn()
                            + " is not a list of {role, content} messages");
                }
                for (int i = 0; i < seq.size(); i++) {
                    Object item = seq.apply(i);
                    if (!(item instanceof Row m) || !hasField(m, "role") || !hasField(m, "content")
                            || m.isNullAt(m.fieldIndex("role")) || m.isNullAt(m.fieldIndex("content"))) {
                        throw new IllegalArgumentException(spec.messagesColumn() + "[" + i
                                + "]: expected a message with a role and a content");
                    }
                    messages.add(RowFactory.create(m.get(m.fieldIndex("role")).toString(),
                            m.get(m.fieldIndex("content")).toString()));
                }
            }
            if (text != null && !messages.isEmpty()) {
                throw new IllegalArgumentException("has both " + spec.textColumn() + " and " + spec.messagesColumn()
                        + "; expected one");
            }
            if (messages.isEmpty() && (text == null || text.isEmpty())) {
                List<String> why = new ArrayList<>();
                if (hasText) {
                    why.add("column '" + spec.textColumn() + "' is empty");
                }
                if (hasMessages) {
                    why.add("column '" + spec.messagesColumn() + "' holds no messages");
                }
                throw new IllegalArgumentException("no prompt: " + String.join(" and ", why));
            }
            // rows built inside tasks are encoded by Spark's row encoder, which takes Scala sequences for arrays
            return RowFactory.create(id, spec.dataset(), "default", scala.collection.JavaConverters.asScalaBuffer(messages),
                    messages.isEmpty() ? text : null,
                    extras(row), null);
        }

        /** The row's other columns, unchanged, as JSON: what the dataset output carries back. */
        private String extras(Row row) {
            StructType schema = row.schema();
            if (schema == null) {
                return "{}";
            }
            StructType kept = extrasSchema(schema, spec);
            Object[] values = new Object[kept.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = row.get(row.fieldIndex(kept.fields()[i].name()));
            }
            return new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(values, kept).json();
        }

        private static boolean hasField(Row row, String name) {
            return row.schema() != null && List.of(row.schema().fieldNames()).contains(name);
        }
    }
}
