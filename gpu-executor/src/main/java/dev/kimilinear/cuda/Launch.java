package dev.kimilinear.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * Launches one kernel on the context's stream. Every launch's status is checked, and with
 * the context's sync check on, the kernel's completion too; a failure names the kernel and
 * the shapes it was given.
 */
public final class Launch {
    private Launch() {
    }

    /**
     * @param shapes what the kernel was asked to do, for error messages ("M=.. N=.. K=..")
     * @param args   CUdeviceptr, DeviceBuffer, Integer, Long or Float, in the kernel's order
     */
    public static void run(CudaContext ctx, String kernel, String shapes, int gx, int gy, int gz, int block,
                           int smem, Object... args) {
        if (gx == 0 || gy == 0 || gz == 0) {
            return;
        }
        if (gx < 0 || gy < 0 || gz < 0 || gy > 65535 || gz > 65535) {
            throw new CudaException(kernel + " [" + shapes + "]: grid " + gx + "x" + gy + "x" + gz + " out of range");
        }
        ctx.bind();
        CUfunction f = ctx.module().function(kernel);
        ctx.module().ensureDynamicSmem(kernel, f, smem);
        NativePointerObject[] ptrs = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof CUdeviceptr p) {
                ptrs[i] = Pointer.to(p);
            } else if (a instanceof DeviceBuffer b) {
                ptrs[i] = Pointer.to(b.ptr());
            } else if (a instanceof Integer v) {
                ptrs[i] = Pointer.to(new int[] {v});
            } else if (a instanceof Long v) {
                ptrs[i] = Pointer.to(new long[] {v});
            } else if (a instanceof Float v) {
                ptrs[i] = Pointer.to(new float[] {v});
            } else {
                throw new IllegalArgumentException(kernel + ": argument " + i + " has unsupported type "
                        + (a == null ? "null" : a.getClass().getName()));
            }
        }
        KernelProfile profile = ctx.profile();
        jcuda.driver.CUevent start = null;
        if (profile != null) {
            start = profile.event();
            JCudaDriver.cuEventRecord(start, ctx.rawStream());
        }
        int rc = JCudaDriver.cuLaunchKernel(f, gx, gy, gz, block, 1, 1, smem, ctx.rawStream(), Pointer.to(ptrs), null);
        if (!ctx.capturing()) {
            ctx.launchLog().add(kernel, shapes);
        }
        if (profile != null && rc == 0) {
            jcuda.driver.CUevent end = profile.event();
            JCudaDriver.cuEventRecord(end, ctx.rawStream());
            profile.mark(kernel + " [" + shapes + "]", start, end);
        }
        if (rc != 0) {
            throw new CudaException("launch of " + kernel + " [" + shapes + "] grid " + gx + "x" + gy + "x" + gz
                    + " block " + block + " smem " + smem + " failed: " + jcuda.driver.CUresult.stringFor(rc));
        }
        if (ctx.syncCheck()) {
            int s = JCudaDriver.cuStreamSynchronize(ctx.rawStream());
            if (s != 0) {
                throw new CudaException("kernel " + kernel + " [" + shapes + "] failed: " + jcuda.driver.CUresult.stringFor(s));
            }
        }
    }

    static int ceilDiv(long a, long b) {
        long v = (a + b - 1) / b;
        if (v > Integer.MAX_VALUE) {
            throw new CudaException("grid of " + v + " blocks is too large");
        }
        return (int) v;
    }
}
