package dev.kimilinear.checkpoint;

/**
 * The e4m3 8-bit float (OCP "E4M3FN": 4 exponent bits of bias 7, 3 mantissa bits, no infinity,
 * one NaN code per sign, largest finite 448), as safetensors' F8_E4M3 and Hopper's FP8 take it.
 */
public final class Fp8E4m3 {
    /** The largest finite value. */
    public static final float MAX = 448f;
    /** The code of NaN (positive sign). */
    public static final byte NAN = 0x7F;
    private static final float[] DECODED = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            DECODED[i] = decodeSlow((byte) i);
        }
    }

    private Fp8E4m3() {
    }

    /** The value of a code. */
    public static float decode(byte code) {
        return DECODED[code & 0xFF];
    }

    private static float decodeSlow(byte code) {
        int bits = code & 0xFF;
        float sign = (bits & 0x80) != 0 ? -1f : 1f;
        int e = (bits >> 3) & 0xF;
        int m = bits & 0x7;
        if (e == 0xF && m == 0x7) {
            return Float.NaN;
        }
        if (e == 0) {
            return sign * m * 0x1p-9f;
        }
        return sign * (8 + m) * Math.scalb(1f, e - 7 - 3);
    }

    /**
     * The nearest code to x, ties to the even mantissa, saturating: beyond ±448 gives ±448
     * (CUDA's {@code __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3)}); NaN gives NaN.
     */
    public static byte encode(float x) {
        if (Float.isNaN(x)) {
            return NAN;
        }
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x80 : 0;
        float a = Math.abs(x);
        int code;
        if (a >= MAX) {
            code = 0x7E;                                // saturated, infinities included
        } else if (a < 0x1p-6f) {
            code = (int) Math.rint(a * 0x1p9);          // subnormals; 8 rounds up into the smallest normal
        } else {
            int e = Math.getExponent(a);
            double scaled = Math.rint(a * Math.scalb(1.0, 3 - e));   // in [8, 16], exact before rounding
            code = ((e + 7) << 3) + (int) scaled - 8;
        }
        return (byte) (sign | Math.min(code, 0x7E));
    }
}
