package dev.kimilinear.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Time per kernel launch, by CUDA events around each launch of a context while it is attached
 * ({@link CudaContext#setProfile}): the share of a step each kernel and shape takes. The events
 * cost a few microseconds a launch, so steps run slower while profiled; the shares are what it
 * is for. Copies and memsets between launches are not counted.
 */
public final class KernelProfile {
    private record Mark(String key, CUevent start, CUevent end) {
    }

    private final List<Mark> pending = new ArrayList<>();
    private final List<CUevent> pool = new ArrayList<>();
    private final Map<String, double[]> totals = new LinkedHashMap<>();   // key -> {ms, launches}

    CUevent event() {
        if (!pool.isEmpty()) {
            return pool.remove(pool.size() - 1);
        }
        CUevent e = new CUevent();
        CudaStatus.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
        return e;
    }

    void mark(String key, CUevent start, CUevent end) {
        pending.add(new Mark(key, start, end));
    }

    /** Waits for the recorded launches and adds their times (call after the profiled work, on its context). */
    public void collect(CudaContext ctx) {
        ctx.synchronize();
        float[] ms = {0};
        for (Mark m : pending) {
            CudaStatus.check(JCudaDriver.cuEventElapsedTime(ms, m.start, m.end), "cuEventElapsedTime");
            double[] t = totals.computeIfAbsent(m.key, k -> new double[2]);
            t[0] += ms[0];
            t[1]++;
            pool.add(m.start);
            pool.add(m.end);
        }
        pending.clear();
    }

    /** Forgets what was collected. */
    public void reset() {
        totals.clear();
    }

    /** Kernels by time, per {@code per} units of work (steps), with their shares of the sum. */
    public void print(PrintStream out, int per) {
        double sum = 0;
        for (double[] t : totals.values()) {
            sum += t[0];
        }
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(totals.entrySet());
        rows.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
        out.printf(Locale.ROOT, "%-60s %10s %8s %7s%n", "kernel [shape]", "ms/step", "launches", "share");
        for (Map.Entry<String, double[]> r : rows) {
            out.printf(Locale.ROOT, "%-60s %10.3f %8.1f %6.1f%%%n", r.getKey(), r.getValue()[0] / per,
                    r.getValue()[1] / per, 100 * r.getValue()[0] / sum);
        }
        out.printf(Locale.ROOT, "%-60s %10.3f%n", "sum of kernels", sum / per);
    }
}
