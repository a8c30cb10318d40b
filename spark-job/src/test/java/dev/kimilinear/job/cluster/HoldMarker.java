package dev.kimilinear.job.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The marker a generation task held by faults.hold writes: which JVM holds which partition, and how far it got. */
record HoldMarker(long pid, String executorId, int partition, int attempt, int samplesDone, int samples) {

    static Path file(Path holdDir, int partition) {
        return holdDir.resolve("partition-" + partition + ".held");
    }

    static HoldMarker read(Path file) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return new HoldMarker(Long.parseLong(values.get("pid")), values.get("executor"),
                Integer.parseInt(values.get("partition")), Integer.parseInt(values.get("attempt")),
                Integer.parseInt(values.get("samples_done")), Integer.parseInt(values.get("samples")));
    }

    /** Waits until the marker appears; fails early, with the driver's log, if the driver exits first. */
    static HoldMarker await(Path holdDir, int partition, JavaProcess driver, long seconds)
            throws IOException, InterruptedException {
        Path file = file(holdDir, partition);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!Files.exists(file)) {
            if (!driver.isAlive()) {
                throw new AssertionError("the driver exited (status " + driver.process().exitValue()
                        + ") before partition " + partition + " was held\n" + driver.logTail(60));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("partition " + partition + " was not held within " + seconds + " s (no "
                        + file + ")\n" + driver.logTail(60));
            }
            Thread.sleep(100);
        }
        return read(file);
    }
}
