package dev.kimilinear.checkpoint;

/** Element types of the safetensors format, by their header names. */
public enum DType {
    BF16(2, "BF16"),
    F16(2, "F16"),
    F32(4, "F32"),
    F64(8, "F64"),
    /** e4m3 8-bit float ({@link Fp8E4m3}), as FP8 checkpoints store their linear weights. */
    F8_E4M3(1, "F8_E4M3"),
    I8(1, "I8"),
    U8(1, "U8"),
    I16(2, "I16"),
    I32(4, "I32"),
    I64(8, "I64"),
    BOOL(1, "BOOL");

    private final int size;
    private final String safetensorsName;

    DType(int size, String safetensorsName) {
        this.size = size;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The name used in a safetensors header ("BF16", "F32", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for the types a weight may be stored in: BF16, F16, F32. */
    public boolean isWeightFloat() {
        return this == BF16 || this == F16 || this == F32;
    }

    /** True for the types {@link Tensor#getFloat} can read: the weight floats, F64 and F8_E4M3. */
    public boolean isFloat() {
        return isWeightFloat() || this == F64 || this == F8_E4M3;
    }

    /** The names of the types {@link #isFloat} accepts, for error messages. */
    public static String floatNames() {
        return "BF16, F16, F32, F64 or F8_E4M3";
    }

    public boolean isInteger() {
        return this == I8 || this == U8 || this == I16 || this == I32 || this == I64;
    }

    /**
     * The type a safetensors header names, or {@link IllegalArgumentException} listing the
     * known names.
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype \"" + name + "\"; expected one of "
                + java.util.Arrays.toString(values()));
    }
}
