package dev.kimilinear.job.config;

import java.util.List;

/**
 * Failures injected into generation tasks, for checking retries, lost executors and resumption:
 * {@code afterCommit} partitions fail once, on their first attempt, after committing their
 * output; {@code always} partitions fail on every attempt before committing anything;
 * {@code hold} partitions stop in the middle, once: the first attempt to receive a sample writes
 * a marker into {@code holdDir} naming its JVM and then waits there (until its JVM is killed, the
 * task is killed, or a release file appears), so that a test can kill the executor or the driver
 * while a partition is known to be half done. Later attempts of that partition run through.
 */
public record FaultSpec(List<Integer> afterCommit, List<Integer> always, List<Integer> hold, String holdDir)
        implements java.io.Serializable {
    public static final FaultSpec NONE = new FaultSpec(List.of(), List.of(), List.of(), null);

    public FaultSpec {
        afterCommit = List.copyOf(afterCommit);
        always = List.copyOf(always);
        hold = List.copyOf(hold);
        if (!hold.isEmpty() && (holdDir == null || holdDir.isBlank())) {
            throw new IllegalArgumentException("faults.hold needs faults.hold_dir, where a held task says so");
        }
    }

    public boolean any() {
        return !afterCommit.isEmpty() || !always.isEmpty() || !hold.isEmpty();
    }
}
