package dev.kimilinear.job.report;

import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.report.samples.PromptText;
import dev.kimilinear.eval.report.samples.ReferenceText;
import dev.kimilinear.eval.report.samples.SampleView;
import dev.kimilinear.job.prompts.PromptRows;
import dev.kimilinear.job.run.RunDirectory;
import dev.kimilinear.job.scoring.EvalRows;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.Iterator;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;

/**
 * The samples of a run for its per-sample pages, streamed to the driver one partition at a time
 * in the pages' order: each score with its generation and what the pages show of its prompt. The
 * prompt is cut on the executors (its beginning and end, {@link PromptText}), so a run of long
 * RULER prompts never brings whole haystacks to the driver.
 */
public final class SampleRows {

    private SampleRows() {
    }

    public static Iterator<SampleView> inPageOrder(SparkSession spark, RunDirectory run, Dataset<Row> generations) {
        Dataset<Row> s = spark.read().schema(EvalRows.SCORES).parquet(run.scores().toString()).as("s");
        Dataset<Row> g = generations.as("g");
        Column text = expr("CASE WHEN size(messages) > 0 THEN concat_ws('\\n\\n', "
                + "transform(messages, m -> concat(m.role, ':\\n', m.content))) ELSE prompt END");
        int head = PromptText.HEAD;
        int both = PromptText.HEAD + PromptText.TAIL;
        Dataset<Row> p = spark.read().schema(PromptRows.SCHEMA).parquet(run.prompts().toString())
                .select(col("id").as("p_id"), col("reference").as("p_reference"), text.as("t"))
                .select(col("p_id"), col("p_reference"), expr("coalesce(char_length(t), 0)").as("p_chars"),
                        expr("CASE WHEN char_length(t) <= " + both + " THEN t ELSE substring(t, 1, " + head + ") END")
                                .as("p_head"),
                        expr("CASE WHEN char_length(t) <= " + both + " THEN '' ELSE substring(t, char_length(t) - "
                                + (PromptText.TAIL - 1) + ", " + PromptText.TAIL + ") END").as("p_tail"));
        Dataset<Row> joined = s
                .join(g, s.col("id").equalTo(g.col("id")).and(s.col("sample").equalTo(g.col("sample"))), "left")
                .join(p, s.col("id").equalTo(p.col("p_id")), "left")
                .select(col("s.id"), col("s.benchmark"), col("s.subset"), col("s.sample"), col("s.extracted"),
                        col("s.correct"), col("s.score"), col("s.reason"), col("s.stdout"), col("s.stderr"),
                        col("g.id"), col("g.text"), col("g.finish_reason"), col("g.prompt_tokens"),
                        col("g.output_tokens"), col("g.error"), col("p_reference"), col("p_head"), col("p_tail"),
                        col("p_chars"))
                .orderBy(col("s.benchmark").asc_nulls_first(), col("s.subset").asc_nulls_first(),
                        col("s.id").asc_nulls_first(), col("s.sample").asc());
        Iterator<Row> rows = joined.toLocalIterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public SampleView next() {
                return view(rows.next());
            }
        };
    }

    static SampleView view(Row r) {
        ScoreRecord score = new ScoreRecord(r.getString(0), r.getString(1), r.getString(2), r.getInt(3),
                r.getString(4), r.getBoolean(5), r.getDouble(6), r.getString(7), r.getString(8), r.getString(9));
        GenerationRecord generation = r.isNullAt(10) ? null : new GenerationRecord(r.getString(10), score.benchmark(),
                score.subset(), score.sample(), r.getString(11), r.getString(12), r.isNullAt(13) ? 0 : r.getInt(13),
                r.isNullAt(14) ? 0 : r.getInt(14), r.getString(15));
        PromptText prompt = new PromptText(r.isNullAt(17) ? "" : r.getString(17), r.isNullAt(18) ? "" : r.getString(18),
                r.isNullAt(19) ? 0 : ((Number) r.get(19)).longValue());
        return new SampleView(score, prompt, ReferenceText.of(score.benchmark(), r.getString(16)), generation);
    }
}
