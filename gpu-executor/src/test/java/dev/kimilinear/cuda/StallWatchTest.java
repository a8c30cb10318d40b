package dev.kimilinear.cuda;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StallWatchTest {

    @Test
    void theLogKeepsTheLastLaunchesOldestFirst() {
        LaunchLog log = new LaunchLog();
        for (int i = 0; i < LaunchLog.SIZE + 5; i++) {
            log.add("k" + i, i % 2 == 0 ? "T=" + i : "");
        }
        List<String> recent = log.recent();
        assertEquals(LaunchLog.SIZE, recent.size());
        assertEquals("k5", recent.get(0));
        assertEquals("k6 [T=6]", recent.get(1));
        assertEquals("k" + (LaunchLog.SIZE + 4) + " [T=" + (LaunchLog.SIZE + 4) + "]", recent.get(LaunchLog.SIZE - 1));
        assertEquals(LaunchLog.SIZE + 5, log.count());
    }

    @Test
    void aWaitPastTheLimitIsReportedWithTheLastLaunchesAndItsEnd() {
        LaunchLog log = new LaunchLog();
        log.add("moe_plan", "T=8 E=256");
        log.add("graph", "decode step N=64 pages<=32");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        StallWatch.run("cuda:0", log, "cuStreamSynchronize", () -> sleep(300), TimeUnit.MILLISECONDS.toNanos(50), 0,
                out, () -> { });
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("cuda:0: cuStreamSynchronize has waited 0 s for the device; the last 2 launches"),
                text);
        assertTrue(text.contains("  moe_plan [T=8 E=256]\n  graph [decode step N=64 pages<=32]\n"), text);
        assertTrue(text.contains("cuda:0: cuStreamSynchronize returned after 0."), text);
    }

    @Test
    void aWaitWithinTheLimitSaysNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int[] ran = {0};
        StallWatch.run("cuda:0", new LaunchLog(), "cuStreamSynchronize", () -> ran[0]++,
                TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(60), out, () -> ran[0] += 100);
        StallWatch.run("cuda:0", new LaunchLog(), "cuStreamSynchronize", () -> ran[0]++, 0, 0, out, () -> { });
        assertEquals(2, ran[0]);
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aWaitPastTheExitLimitGivesUpAfterItsReport() {
        LaunchLog log = new LaunchLog();
        log.add("gemm90_grouped_swiglu", "grouped swiglu N=1024 K=2304 maxTiles=320");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        java.util.concurrent.atomic.AtomicInteger gaveUp = new java.util.concurrent.atomic.AtomicInteger();
        StallWatch.run("cuda:1", log, "cuStreamSynchronize", () -> sleep(300), 0, TimeUnit.MILLISECONDS.toNanos(50),
                out, gaveUp::incrementAndGet);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(1, gaveUp.get());
        assertTrue(text.contains("  gemm90_grouped_swiglu [grouped swiglu N=1024 K=2304 maxTiles=320]\n"), text);
        assertTrue(text.contains("cuda:1: giving up on the device after 0 s (kimi.cuda.stallExitSeconds): exit 70"),
                text);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
