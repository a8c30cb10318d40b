package dev.kimilinear.job.generation;

import java.io.Serializable;

/**
 * What one generation task did: {@code device} names the engine it fed (backend and GPU);
 * {@code engineLoadNanos} is the time it spent creating its JVM's
 * resident engine (loading the model), 0 when the engine was already resident.
 */
public record PartitionSummary(int partition, int prompts, int samples, long promptTokens, long outputTokens,
                               int failedSamples, String file, String device, long engineLoadNanos)
        implements Serializable {
}
