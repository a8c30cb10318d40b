package dev.kimilinear.job.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stage's progress on the console while it runs: on a terminal one line rewritten in place
 * every second, otherwise a plain line every 30 seconds (logs stay readable); a last line when
 * the stage ends. "[generate] 37/120 prompts  1,234 output tokens/s  0:42 elapsed  ETA 1:10".
 */
public final class ProgressLine implements AutoCloseable {
    private final PrintStream out;
    private final String stage;
    private final String unit;
    private final long total;
    private final LongSupplier done;
    private final LongSupplier tokens;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService timer;

    private ProgressLine(PrintStream out, String stage, String unit, long total, LongSupplier done, LongSupplier tokens,
                         boolean terminal) {
        this.out = out;
        this.stage = stage;
        this.unit = unit;
        this.total = total;
        this.done = done;
        this.tokens = tokens;
        this.terminal = terminal;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kimi-progress");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts printing.
     *
     * @param tokens output tokens so far, for the rate (null: no rate)
     * @param terminal true rewrites one line in place; false prints plain lines
     */
    public static ProgressLine start(PrintStream out, String stage, String unit, long total, LongSupplier done,
                                     LongSupplier tokens, boolean terminal) {
        ProgressLine p = new ProgressLine(out, stage, unit, total, done, tokens, terminal);
        long period = terminal ? 1 : 30;
        p.timer.scheduleAtFixedRate(p::print, period, period, TimeUnit.SECONDS);
        return p;
    }

    private void print() {
        String line = format(stage, unit, Math.min(done.getAsLong(), total), total,
                tokens == null ? -1 : tokens.getAsLong(), (System.nanoTime() - start) / 1e9);
        synchronized (out) {
            if (terminal) {
                out.print("\r" + line + "\033[K");
            } else {
                out.println(line);
            }
            out.flush();
        }
    }

    /** The stage's last line (on a terminal it ends the rewritten one). */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        print();
        if (terminal) {
            out.println();
        }
    }

    /** One progress line; tokens -1 leaves the rate out. */
    public static String format(String stage, String unit, long done, long total, long tokens, double seconds) {
        StringBuilder b = new StringBuilder();
        b.append('[').append(stage).append("] ").append(String.format(Locale.ROOT, "%,d/%,d %s", done, total, unit));
        if (tokens >= 0) {
            b.append(String.format(Locale.ROOT, "  %,.0f output tokens/s", seconds > 0 ? tokens / seconds : 0.0));
        }
        b.append("  ").append(clock(seconds)).append(" elapsed");
        if (done >= total) {
            b.append("  done");
        } else if (done > 0) {
            b.append("  ETA ").append(clock(seconds * (total - done) / done));
        } else {
            b.append("  ETA --");
        }
        return b.toString();
    }

    /** h:mm:ss, or m:ss under an hour. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
