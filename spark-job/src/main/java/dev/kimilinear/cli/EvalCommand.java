package dev.kimilinear.cli;

import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.ruler.RulerSummary;
import dev.kimilinear.job.EvalJob;
import dev.kimilinear.job.JobResult;
import dev.kimilinear.job.LocalLogging;
import dev.kimilinear.job.SparkSessions;
import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigException;
import dev.kimilinear.job.config.JobConfigReader;

import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code eval CONFIG.yaml [--set key=value ...]}: the Spark job, local mode unless spark-submit says otherwise. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Run a job config: an evaluation (generate, score, compare with compare.baseline, report) or, "
                + "with mode: generate, offline dataset generation. Rerunning into the same output.dir resumes.",
        exitCodeListHeading = "Exit status:%n",
        exitCodeList = {"0:the job finished (and no metric regressed against compare.baseline)",
                "1:the job failed", "2:bad config or inputs (found before Spark starts)",
                "3:a metric regressed against compare.baseline beyond compare.max_drop and beyond noise"})
public final class EvalCommand implements Callable<Integer> {
    public static final int FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int REGRESSION = 3;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG.yaml", description = "the job config")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override a config value, e.g. --set sampling.max_tokens=64 (repeatable)")
    List<String> overrides = new ArrayList<>();

    private final PrintStream out;

    public EvalCommand() {
        this(System.out);
    }

    /** Progress, the metrics table, the comparison and the output paths go to {@code out}. */
    public EvalCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        JobConfig config;
        EvalJob job;
        try {
            config = JobConfigReader.read(configFile, overrides);
            job = EvalJob.prepare(config, out);
        } catch (JobConfigException e) {
            err.println("eval: " + e.getMessage());
            return BAD_INPUT;
        } catch (Exception e) {
            err.println("eval: " + message(e));
            return BAD_INPUT;
        }
        // a session that was already running (an application embedding the job) stays running
        boolean ownSession = SparkSession.getDefaultSession().isEmpty();
        // spark-submit passes its master as a system property and brings the cluster's logging config
        if (ownSession && System.getProperty("spark.master") == null) {
            LocalLogging.apply();
        }
        SparkSession spark = SparkSessions.start(config);
        JobResult result;
        try {
            if (ownSession) {
                spark.sparkContext().setLogLevel("WARN");
            }
            result = job.execute(spark);
        } catch (Exception e) {
            err.println("eval: the job failed: " + message(rootCause(e)));
            err.flush();
            return FAILED;
        } finally {
            if (ownSession) {
                spark.stop();
            }
        }
        print(result, (System.nanoTime() - start) / 1e9);
        if (Boolean.TRUE.equals(result.regression())) {
            err.println("eval: regression against " + config.compare().baseline());
            err.flush();
            return REGRESSION;
        }
        return 0;
    }

    private void print(JobResult r, double seconds) {
        out.printf(Locale.ROOT, "%n%d prompts, %d generated now, %d samples in all%s%n", r.prompts(),
                r.generatedNow(), r.samples(), r.quarantined() > 0 ? ", " + r.quarantined()
                        + " input rows quarantined in " + r.run().errors() : "");
        if (r.facts() != null) {
            out.println();
            out.print(r.facts().format());
        }
        if (!r.metrics().isEmpty()) {
            out.println();
            out.print(MetricsTable.format(r.metrics()));
            RulerSummary.of(r.metrics()).ifPresent(summary -> out.print(System.lineSeparator() + summary.format()));
        }
        for (String note : r.notes()) {
            out.println("note: " + note);
        }
        if (r.comparison() != null) {
            out.printf(Locale.ROOT, "%nagainst the baseline (percentage points):%n");
            out.print(r.comparison().format());
        }
        out.printf(Locale.ROOT, "%nrun directory: %s%n", r.run().root());
        out.printf("  config:      %s%n", r.run().config());
        out.printf("  prompts:     %s%n", r.run().prompts());
        out.printf("  generations: %s%n", r.run().generations());
        if (Files.isDirectory(r.run().dataset())) {
            out.printf("  dataset:     %s (each generation beside its input row's columns)%n", r.run().dataset());
        }
        if (!r.metrics().isEmpty()) {
            out.printf("  scores:      %s%n", r.run().scores());
            out.printf("  metrics:     %s%n", r.run().metrics());
        }
        if (Files.isRegularFile(r.run().report())) {
            out.printf("  report:      %s%n", r.run().report());
        }
        out.printf(Locale.ROOT, "finished in %.1f s%n", seconds);
        out.flush();
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new EvalCommand()).execute(args));
    }
}
