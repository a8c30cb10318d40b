package dev.kimilinear.job.generation;

import dev.kimilinear.job.config.FaultSpec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** faults.hold: the first attempt of a held partition says where it waits and waits; later attempts run through. */
class PartitionHoldTest {

    @Test
    void theFirstAttemptWaitsUntilReleasedAndLaterOnesRunThrough(@TempDir Path dir) throws Exception {
        FaultSpec faults = new FaultSpec(List.of(), List.of(), List.of(3), dir.toString());
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> PartitionHold.atFirstSample(faults, 3, null, 1, 6));
        Path marker = dir.resolve("partition-3.held");
        for (int i = 0; i < 100 && !Files.exists(marker); i++) {
            Thread.sleep(50);
        }
        String text = Files.readString(marker);
        assertTrue(text.contains("pid=" + ProcessHandle.current().pid() + "\n"), text);
        assertTrue(text.contains("partition=3\n") && text.contains("samples_done=1\n") && text.contains("samples=6\n"),
                text);
        Thread.sleep(300);
        assertFalse(first.isDone(), "the held attempt waits");

        PartitionHold.atFirstSample(faults, 3, null, 1, 6);   // a retry: returns at once
        PartitionHold.atFirstSample(faults, 2, null, 1, 6);   // a partition not held

        Files.createFile(dir.resolve("partition-3.release"));
        first.get(10, TimeUnit.SECONDS);
        try (var files = Files.list(dir)) {
            assertEquals(List.of("partition-3.claimed", "partition-3.held", "partition-3.release"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
