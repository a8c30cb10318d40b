package dev.kimilinear.job.cluster;

/** A generation task's line in an executor log: its partition, attempt, and prompts (started) or rows (committed). */
record PartitionEvent(int partition, int attempt, int count) {
}
