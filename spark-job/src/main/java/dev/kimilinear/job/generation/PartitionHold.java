package dev.kimilinear.job.generation;

import dev.kimilinear.job.config.FaultSpec;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;

/**
 * The {@code faults.hold} injection: the first attempt of a held partition to receive a sample
 * claims the hold (one claim file per partition, created atomically, so a retry on any executor
 * runs through), writes {@code partition-P.held} with its JVM's pid and executor id, and waits
 * with the partition half done. It stops waiting when the task is killed, when
 * {@code partition-P.release} appears, or after {@link #LONGEST}, so a forgotten hold cannot
 * keep a job forever.
 */
final class PartitionHold {
    static final Duration LONGEST = Duration.ofMinutes(10);

    private PartitionHold() {
    }

    static void atFirstSample(FaultSpec faults, int partition, TaskContext task, int samplesDone, int samples) {
        if (!faults.hold().contains(partition)) {
            return;
        }
        Path dir = Path.of(faults.holdDir());
        try {
            Files.createDirectories(dir);
            try {
                Files.createFile(dir.resolve(name(partition, "claimed")));
            } catch (FileAlreadyExistsException e) {
                return;   // an earlier attempt was held; this one runs through
            }
            String executor = SparkEnv.get() == null ? "none" : SparkEnv.get().executorId();
            String marker = String.format(Locale.ROOT, "pid=%d%nexecutor=%s%npartition=%d%nattempt=%d%nsamples_done=%d%n"
                            + "samples=%d%n", ProcessHandle.current().pid(), executor, partition,
                    task == null ? 0 : task.attemptNumber(), samplesDone, samples);
            Path tmp = Files.createTempFile(dir, ".held-", ".tmp");
            Files.writeString(tmp, marker);
            Files.move(tmp, dir.resolve(name(partition, "held")), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("faults.hold: cannot write the marker of partition " + partition + " in "
                    + dir + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + LONGEST.toNanos();
        Path release = dir.resolve(name(partition, "release"));
        while (System.nanoTime() < deadline && !Files.exists(release)) {
            if (task != null && task.isInterrupted()) {
                throw new IllegalStateException("generation task killed while held (faults.hold)");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("generation task interrupted while held (faults.hold)", e);
            }
        }
    }

    static String name(int partition, String what) {
        return String.format(Locale.ROOT, "partition-%d.%s", partition, what);
    }
}
