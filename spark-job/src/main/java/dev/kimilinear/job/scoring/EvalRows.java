package dev.kimilinear.job.scoring;

import dev.kimilinear.eval.records.ChatMessage;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.SamplingOverrides;
import dev.kimilinear.eval.records.ScoreRecord;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/** Spark rows to and from the evaluation module's records, in the shared schemas. */
public final class EvalRows {
    public static final StructType GENERATIONS = new StructType(new StructField[]{
            DataTypes.createStructField("id", DataTypes.StringType, true),
            DataTypes.createStructField("benchmark", DataTypes.StringType, true),
            DataTypes.createStructField("subset", DataTypes.StringType, true),
            DataTypes.createStructField("sample", DataTypes.IntegerType, true),
            DataTypes.createStructField("text", DataTypes.StringType, true),
            DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
            DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("output_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true)});
    public static final StructType SCORES = new StructType(new StructField[]{
            DataTypes.createStructField("id", DataTypes.StringType, true),
            DataTypes.createStructField("benchmark", DataTypes.StringType, true),
            DataTypes.createStructField("subset", DataTypes.StringType, true),
            DataTypes.createStructField("sample", DataTypes.IntegerType, true),
            DataTypes.createStructField("extracted", DataTypes.StringType, true),
            DataTypes.createStructField("correct", DataTypes.BooleanType, true),
            DataTypes.createStructField("score", DataTypes.DoubleType, true),
            DataTypes.createStructField("reason", DataTypes.StringType, true),
            DataTypes.createStructField("stdout", DataTypes.StringType, true),
            DataTypes.createStructField("stderr", DataTypes.StringType, true)});
    public static final StructType METRICS = new StructType(new StructField[]{
            DataTypes.createStructField("benchmark", DataTypes.StringType, true),
            DataTypes.createStructField("subset", DataTypes.StringType, true),
            DataTypes.createStructField("metric", DataTypes.StringType, true),
            DataTypes.createStructField("value", DataTypes.DoubleType, true),
            DataTypes.createStructField("n", DataTypes.LongType, true),
            DataTypes.createStructField("ci_low", DataTypes.DoubleType, true),
            DataTypes.createStructField("ci_high", DataTypes.DoubleType, true),
            DataTypes.createStructField("status", DataTypes.StringType, true),
            DataTypes.createStructField("note", DataTypes.StringType, true)});

    private EvalRows() {
    }

    /** A row in the prompt-record schema; {@code withText} false drops the prompt text (scorers that read only references). */
    public static PromptRecord prompt(Row row, boolean withText) {
        List<ChatMessage> messages = new ArrayList<>();
        String prompt = null;
        if (withText) {
            int mi = row.fieldIndex("messages");
            if (!row.isNullAt(mi)) {
                for (Row m : row.<Row>getList(mi)) {
                    messages.add(new ChatMessage(m.getString(0), m.getString(1)));
                }
            }
            prompt = string(row, "prompt");
        }
        SamplingOverrides sampling = null;
        int si = row.fieldIndex("sampling");
        if (!row.isNullAt(si)) {
            Row s = row.getStruct(si);
            sampling = new SamplingOverrides(s.isNullAt(0) ? null : s.getInt(0), s.isNullAt(1) ? null : s.getList(1),
                    s.isNullAt(2) ? null : s.getInt(2), s.isNullAt(3) ? null : s.getDouble(3));
        }
        return new PromptRecord(string(row, "id"), string(row, "benchmark"), string(row, "subset"), messages, prompt,
                string(row, "reference"), sampling);
    }

    public static GenerationRecord generation(Row row) {
        return new GenerationRecord(row.getString(0), row.getString(1), row.getString(2), row.getInt(3),
                row.getString(4), row.getString(5), row.isNullAt(6) ? 0 : row.getInt(6),
                row.isNullAt(7) ? 0 : row.getInt(7), row.getString(8));
    }

    public static Row score(ScoreRecord s) {
        return RowFactory.create(s.id(), s.benchmark(), s.subset(), s.sample(), s.extracted(), s.correct(), s.score(),
                s.reason(), s.stdout(), s.stderr());
    }

    public static ScoreRecord score(Row r) {
        return new ScoreRecord(r.getString(0), r.getString(1), r.getString(2), r.getInt(3), r.getString(4),
                r.getBoolean(5), r.getDouble(6), r.getString(7), r.getString(8), r.getString(9));
    }

    public static Row metric(MetricRecord m) {
        // as the evaluation module writes it: a subset that did not run has null value and interval
        return RowFactory.create(m.benchmark(), m.subset(), m.metric(), m.ran() ? m.value() : null, m.n(),
                m.ran() ? m.ciLow() : null, m.ran() ? m.ciHigh() : null, m.status(), m.note());
    }

    private static String string(Row row, String field) {
        int i = row.fieldIndex(field);
        return row.isNullAt(i) ? null : row.getString(i);
    }
}
