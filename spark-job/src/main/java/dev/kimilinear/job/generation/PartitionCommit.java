package dev.kimilinear.job.generation;

import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * The commit protocol of generation tasks. A task attempt writes its whole partition into a
 * staging file of its own (named by Spark's task attempt id, unique in the application: after a
 * lost executor, a resubmitted stage numbers its attempts from 0 again while the old stage's
 * attempts may still run), then renames it to the partition's one final name. Every attempt of
 * a partition has the same final name, so a retried or speculative attempt replaces the file
 * instead of adding rows; a failed attempt leaves only a staging file, which readers skip.
 * The directory must be one that every executor sees (local disk in local mode, a shared file
 * system on a cluster), where renames within a directory are atomic.
 */
public final class PartitionCommit {
    private PartitionCommit() {
    }

    /** The committed file of a partition of one generation pass. */
    public static Path target(Path generations, String pass, int partition) {
        return generations.resolve(String.format(Locale.ROOT, "part-%s-%05d.parquet", pass, partition));
    }

    public static Path commit(Path generations, Path staging, String pass, int partition, long taskAttemptId,
                              List<GenerationRecord> rows) throws IOException {
        Files.createDirectories(staging);
        Path staged = staging.resolve(String.format(Locale.ROOT, "part-%s-%05d.task-%d.parquet", pass, partition,
                taskAttemptId));
        RecordIo.writeGenerations(staged, RecordFormat.PARQUET, rows);
        Path target = target(generations, pass, partition);
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(generations + ": the file system cannot rename atomically; "
                    + "put output.dir on a local or shared POSIX file system", e);
        }
        return target;
    }
}
