package dev.kimilinear.cuda;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Reports a wait on the device that outlasts a limit: a kernel that never finishes otherwise
 * leaves a job blocked in the driver with nothing in its log. After {@code kimi.cuda.stallSeconds}
 * (120 by default; 0 turns the watch off) the report names the device, what the host is waiting
 * in, and the context's last launches ({@link LaunchLog}); when the wait ends at last, a second
 * line says after how long. The wait itself is left alone: a hung kernel cannot be taken back
 * from the host, but it can be named.
 */
final class StallWatch {
    static final long LIMIT_SECONDS = Long.getLong("kimi.cuda.stallSeconds", 120);

    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private StallWatch() {
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "cuda-stall-watch");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** Runs {@code waitOnDevice}, reporting on stderr if it lasts longer than the limit. */
    static void run(String device, LaunchLog log, String waitingIn, Runnable waitOnDevice) {
        run(device, log, waitingIn, waitOnDevice, TimeUnit.SECONDS.toNanos(LIMIT_SECONDS), System.err);
    }

    static void run(String device, LaunchLog log, String waitingIn, Runnable waitOnDevice, long limitNanos,
                    PrintStream out) {
        if (limitNanos <= 0) {
            waitOnDevice.run();
            return;
        }
        long start = System.nanoTime();
        ScheduledFuture<?> report = TIMER.schedule(() -> out.print(report(device, waitingIn, log.recent(),
                System.nanoTime() - start)), limitNanos, TimeUnit.NANOSECONDS);
        try {
            waitOnDevice.run();
        } finally {
            if (!report.cancel(false)) {
                out.printf(Locale.ROOT, "%s: %s returned after %.1f s%n", device, waitingIn,
                        (System.nanoTime() - start) / 1e9);
            }
        }
    }

    static String report(String device, String waitingIn, List<String> recent, long waitedNanos) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: %s has waited %.0f s for the device; the last %d launches queued,"
                + " oldest first:%n", device, waitingIn, waitedNanos / 1e9, recent.size()));
        for (String r : recent) {
            s.append("  ").append(r).append(System.lineSeparator());
        }
        return s.toString();
    }
}
