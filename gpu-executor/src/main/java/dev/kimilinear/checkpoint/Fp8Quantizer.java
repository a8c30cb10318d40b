package dev.kimilinear.checkpoint;

/**
 * Per-output-channel e4m3 quantisation of a [rows, cols] weight: each row's scale is its largest
 * magnitude over 448 (1 for a row of zeros), each element encoded from x / scale (one IEEE float
 * division, nearest e4m3, saturating). The CUDA backend's {@code quantize_rows_e4m3} computes
 * the same bytes and scales.
 */
public final class Fp8Quantizer {
    private Fp8Quantizer() {
    }

    /** An e4m3 matrix with its row scales. */
    public record Quantized(byte[] codes, float[] scales, int rows, int cols) {
        /** The value an element stands for: code x scale. */
        public float value(int row, int col) {
            return Fp8E4m3.decode(codes[row * cols + col]) * scales[row];
        }
    }

    public static float scale(float amax) {
        return amax > 0f ? amax / Fp8E4m3.MAX : 1f;
    }

    /** Quantises rows of float values (row-major). */
    public static Quantized quantize(float[] values, int rows, int cols) {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException("expected " + rows + " x " + cols + " values, got " + values.length);
        }
        byte[] codes = new byte[values.length];
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            float amax = 0f;
            for (int c = 0; c < cols; c++) {
                amax = Math.max(amax, Math.abs(values[r * cols + c]));
            }
            float scale = scale(amax);
            scales[r] = scale;
            for (int c = 0; c < cols; c++) {
                codes[r * cols + c] = Fp8E4m3.encode(values[r * cols + c] / scale);
            }
        }
        return new Quantized(codes, scales, rows, cols);
    }
}
