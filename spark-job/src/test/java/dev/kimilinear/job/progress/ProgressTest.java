package dev.kimilinear.job.progress;

import org.apache.spark.scheduler.AccumulableInfo;
import org.junit.jupiter.api.Test;
import scala.Option;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line's text, its two console modes, and live totals from heartbeats. */
class ProgressTest {

    @Test
    void theLineSaysDoneTotalRateElapsedAndEta() {
        assertEquals("[generate] 30/120 prompts  1,000 output tokens/s  1:00 elapsed  ETA 3:00",
                ProgressLine.format("generate", "prompts", 30, 120, 60_000, 60));
        assertEquals("[generate] 0/8 prompts  0:05 elapsed  ETA --", ProgressLine.format("generate", "prompts", 0, 8, -1, 5));
        assertEquals("[score] 8/8 programs  1:02:03 elapsed  done",
                ProgressLine.format("score", "programs", 8, 8, -1, 3723));
    }

    @Test
    void plainOutputGetsWholeLinesAndATerminalOneRewrittenLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        AtomicLong done = new AtomicLong(3);
        try (ProgressLine p = ProgressLine.start(out, "generate", "prompts", 4, done::get, null, false)) {
            done.set(4);
        }
        String plain = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(plain.matches("\\[generate] 4/4 prompts  0:0\\d elapsed  done\\R"), plain);
        bytes.reset();
        try (ProgressLine p = ProgressLine.start(out, "generate", "prompts", 4, done::get, null, true)) {
            Thread.sleep(1300);   // one rewrite a second
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        String terminal = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(terminal.startsWith("\r[generate] 4/4") && terminal.endsWith("\033[K" + System.lineSeparator()),
                terminal);
        assertEquals(2, terminal.split("\r", -1).length - 1, "the rewrite and the last line: " + terminal);
    }

    static AccumulableInfo info(String name, long update) {
        return new AccumulableInfo(1L, Option.apply(name), Option.apply(update), Option.empty(), false, false,
                Option.empty());
    }

    @Test
    void liveTotalsAddRunningTasksLatestReportsToWhatIsCommitted() {
        AtomicLong committed = new AtomicLong(10);
        LiveCounters live = new LiveCounters(Map.of("prompts done (live)", committed::get));
        live.report(1, List.of(info("prompts done (live)", 3), info("other", 99)));
        live.report(2, List.of(info("prompts done (live)", 2)));
        live.report(1, List.of(info("prompts done (live)", 5)));   // a later heartbeat replaces the earlier one
        assertEquals(17, live.value("prompts done (live)"));
        committed.set(15);   // task 1 ended: its count moved into the driver's value
        live.taskEnded(1);
        assertEquals(17, live.value("prompts done (live)"));
        live.taskEnded(2);   // task 2 failed: its count is gone
        assertEquals(15, live.value("prompts done (live)"));
        live.report(3, List.of(info("other", 4)));
        assertFalse(live.value("prompts done (live)") != 15, "reports of other accumulators change nothing");
    }
}
