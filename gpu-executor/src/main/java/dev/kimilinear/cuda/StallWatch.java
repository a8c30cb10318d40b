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
 * line says after how long. A hung kernel cannot be taken back from the host, so the wait is
 * left alone; but after {@code kimi.cuda.stallExitSeconds} (0 by default: never) the watch
 * reports once more and halts the JVM with status {@value #EXIT_STATUS}, so that a Spark
 * executor holding a hung device dies and its task runs elsewhere instead of holding the job.
 */
final class StallWatch {
    static final long LIMIT_SECONDS = Long.getLong("kimi.cuda.stallSeconds", 120);
    static final long EXIT_SECONDS = Long.getLong("kimi.cuda.stallExitSeconds", 0);
    /** EX_SOFTWARE: the process gave up on its device. */
    static final int EXIT_STATUS = 70;

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

    /** Runs {@code waitOnDevice}, reporting on stderr if it lasts longer than the limit (and halting past the exit limit). */
    static void run(String device, LaunchLog log, String waitingIn, Runnable waitOnDevice) {
        run(device, log, waitingIn, waitOnDevice, TimeUnit.SECONDS.toNanos(LIMIT_SECONDS),
                TimeUnit.SECONDS.toNanos(EXIT_SECONDS), System.err, () -> Runtime.getRuntime().halt(EXIT_STATUS));
    }

    /** @param reportNanos, exitNanos 0 or less: never; giveUp runs after the exit report */
    static void run(String device, LaunchLog log, String waitingIn, Runnable waitOnDevice, long reportNanos,
                    long exitNanos, PrintStream out, Runnable giveUp) {
        if (reportNanos <= 0 && exitNanos <= 0) {
            waitOnDevice.run();
            return;
        }
        long start = System.nanoTime();
        ScheduledFuture<?> report = reportNanos <= 0 ? null : TIMER.schedule(() -> out.print(report(device,
                waitingIn, log.recent(), System.nanoTime() - start)), reportNanos, TimeUnit.NANOSECONDS);
        ScheduledFuture<?> exit = exitNanos <= 0 ? null : TIMER.schedule(() -> {
            out.print(report(device, waitingIn, log.recent(), System.nanoTime() - start));
            out.printf(Locale.ROOT, "%s: giving up on the device after %.0f s (kimi.cuda.stallExitSeconds): exit %d%n",
                    device, (System.nanoTime() - start) / 1e9, EXIT_STATUS);
            out.flush();
            giveUp.run();
        }, exitNanos, TimeUnit.NANOSECONDS);
        try {
            waitOnDevice.run();
        } finally {
            boolean reported = report != null && !report.cancel(false);
            reported |= exit != null && !exit.cancel(false);
            if (reported) {
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
