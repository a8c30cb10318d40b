package dev.kimilinear.cuda;

/**
 * Where prefill-sized activations are quantised to e4m3 (one scale per row) for the e4m3
 * products on sm_90: one buffer for the whole model, as many rows as a forward step multiplies
 * at once (routed rows included) by the widest input of a weight that takes this path.
 */
final class ActivationCodes implements AutoCloseable {
    private final CudaContext ctx;
    private final int maxRows;
    private int maxCols;
    private DeviceBuffer codes;
    private DeviceBuffer scales;

    ActivationCodes(CudaContext ctx, int maxRows) {
        this.ctx = ctx;
        this.maxRows = maxRows;
    }

    /** Asks for rows of this many columns (before {@link #allocate}). */
    void reserve(int cols) {
        if (codes != null) {
            throw new IllegalStateException("the activation codes are already allocated");
        }
        maxCols = Math.max(maxCols, cols);
    }

    void allocate() {
        if (codes == null && maxCols > 0) {
            codes = DeviceBuffer.allocate(ctx, (long) maxRows * maxCols);
            scales = DeviceBuffer.allocate(ctx, 4L * maxRows);
        }
    }

    long bytes() {
        return maxCols == 0 ? 0 : (long) maxRows * maxCols + 4L * maxRows;
    }

    int maxRows() {
        return maxRows;
    }

    /** The codes of up to {@link #maxRows} rows of {@code cols} columns (row pitch cols). */
    jcuda.driver.CUdeviceptr codes(int rows, int cols) {
        if (codes == null) {
            throw new IllegalStateException("the activation codes are used before they are allocated");
        }
        if (rows > maxRows || cols > maxCols) {
            throw new CudaException("e4m3 activations of " + rows + " x " + cols + " exceed the " + maxRows + " x "
                    + maxCols + " planned");
        }
        return codes.ptr();
    }

    jcuda.driver.CUdeviceptr scales() {
        return scales.ptr();
    }

    @Override
    public void close() {
        if (codes != null) {
            codes.close();
            scales.close();
            codes = null;
            scales = null;
        }
    }
}
