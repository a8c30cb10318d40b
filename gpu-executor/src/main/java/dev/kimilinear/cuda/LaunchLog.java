package dev.kimilinear.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The last launches queued on a context (kernels and graph replays, with the shapes they were
 * given), kept so that a wait on the device that never ends can say what the device was given
 * last ({@link StallWatch}). Recording keeps references to strings the launch built anyway.
 */
final class LaunchLog {
    static final int SIZE = 32;

    private final String[] what = new String[SIZE];
    private final String[] shapes = new String[SIZE];
    private long count;

    synchronized void add(String kernel, String shape) {
        int i = (int) (count % SIZE);
        what[i] = kernel;
        shapes[i] = shape;
        count++;
    }

    /** Launches recorded so far, all time. */
    synchronized long count() {
        return count;
    }

    /** The last launches, oldest first, as "kernel [shapes]" (at most {@link #SIZE}). */
    synchronized List<String> recent() {
        int n = (int) Math.min(count, SIZE);
        List<String> out = new ArrayList<>(n);
        for (long k = count - n; k < count; k++) {
            int i = (int) (k % SIZE);
            out.add(shapes[i] == null || shapes[i].isEmpty() ? what[i] : what[i] + " [" + shapes[i] + "]");
        }
        return out;
    }
}
