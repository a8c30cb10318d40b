package dev.kimilinear.eval.records;

/**
 * One metric of one run in a trend over runs. {@code verdict} is what {@code compare} says of the
 * metric against the same metric of the run before ({@code regressed}, {@code drop within noise},
 * {@code improved}, {@code unchanged}); null for the first run holding the metric.
 */
public record TrendRecord(
    String run,
    String runTime,
    String benchmark,
    String subset,
    String metric,
    double value,
    double ciLow,
    double ciHigh,
    long n,
    String verdict) {}
