package dev.kimilinear.job.run;

import java.nio.file.Path;

/**
 * The layout of a run: {@code config.yaml} (resolved config and fingerprints), {@code prompts/},
 * {@code generations/}, {@code dataset/} (generate jobs), {@code scores/}, {@code metrics/} (Parquet), {@code errors/}
 * (quarantined input rows), {@code report.html}.
 */
public record RunDirectory(Path root) {

    public RunDirectory {
        root = root.toAbsolutePath().normalize();
    }

    public Path config() {
        return root.resolve("config.yaml");
    }

    public Path prompts() {
        return root.resolve("prompts");
    }

    public Path generations() {
        return root.resolve("generations");
    }

    /** Task outputs before they are committed; Spark and our readers skip names starting with '_'. */
    public Path staging() {
        return generations().resolve("_staging");
    }

    /** A generate job's output: each generation beside its input row's own columns. */
    public Path dataset() {
        return root.resolve("dataset");
    }

    public Path scores() {
        return root.resolve("scores");
    }

    public Path metrics() {
        return root.resolve("metrics");
    }

    public Path errors() {
        return root.resolve("errors");
    }

    public Path report() {
        return root.resolve("report.html");
    }
}
