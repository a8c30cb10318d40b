package dev.kimilinear.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Fp8TensorTest {
    private static final int ROWS = 5;
    private static final int COLS = 7;

    @TempDir
    Path dir;

    private static float[] values(long seed) {
        Random random = new Random(seed);
        float[] v = new float[ROWS * COLS];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * (1 + i / COLS);
        }
        return v;
    }

    private Path write(Fp8Quantizer.Quantized q) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        tensors.put("w.weight", TensorData.f8e4m3Codes(q.codes(), ROWS, COLS));
        tensors.put("w.weight_scale", TensorData.f32(q.scales(), ROWS, 1));
        tensors.put("bf16_scale", TensorData.bf16(new float[] {1, 2, 4, 8, 16}, ROWS));
        tensors.put("ids", TensorData.i32(new int[] {1, 2}, 2));
        Path file = dir.resolve("fp8.safetensors");
        SafetensorsWriter.write(file, tensors);
        return file;
    }

    @Test
    void codesReadBackAsBytesAndDecodeWithoutAScale() {
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(values(1), ROWS, COLS);
        try (Checkpoint c = Checkpoint.open(write(q))) {
            Tensor w = c.tensor("w.weight");
            assertEquals(DType.F8_E4M3, w.dtype());
            assertEquals(ROWS * COLS, w.byteSize());
            assertNull(w.scale());
            ByteBuffer bytes = w.buffer();
            byte[] raw = new byte[bytes.remaining()];
            bytes.get(raw);
            assertArrayEquals(q.codes(), raw, "the bytes are the codes, for a device upload");
            float[] decoded = w.toFloats();
            for (int i = 0; i < decoded.length; i++) {
                assertEquals(Fp8E4m3.decode(q.codes()[i]), decoded[i]);
                assertEquals(decoded[i], w.getFloat(i));
            }
        }
    }

    @Test
    void aScaledWeightReadsAsCodeTimesTheScaleOfItsRow() {
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(values(2), ROWS, COLS);
        try (Checkpoint c = Checkpoint.open(write(q))) {
            Tensor scale = c.tensor("w.weight_scale");
            Tensor w = c.tensor("w.weight").withScale(scale);
            assertSame(scale, w.scale());
            float[] all = w.toFloats();
            for (int r = 0; r < ROWS; r++) {
                for (int k = 0; k < COLS; k++) {
                    assertEquals(q.value(r, k), all[r * COLS + k], "row " + r + " col " + k);
                    assertEquals(q.value(r, k), w.getFloat(r * COLS + k));
                }
            }
            // a piece that starts and ends inside rows
            float[] piece = new float[COLS + 3];
            w.readFloats(COLS - 2, piece, 0, piece.length);
            for (int i = 0; i < piece.length; i++) {
                assertEquals(all[COLS - 2 + i], piece[i]);
            }
            ByteBuffer bytes = w.buffer();
            assertEquals(q.codes()[3], bytes.get(3), "the bytes stay the codes");
            Tensor bf16Scaled = c.tensor("w.weight").withScale(c.tensor("bf16_scale"));
            assertEquals(Fp8E4m3.decode(q.codes()[4 * COLS]) * 16f, bf16Scaled.getFloat(4 * COLS), "a [rows] BF16 scale");
        }
    }

    @Test
    void aScaleMustFitItsWeight() {
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(values(3), ROWS, COLS);
        try (Checkpoint c = Checkpoint.open(write(q))) {
            CheckpointException wrongType = assertThrows(CheckpointException.class,
                    () -> c.tensor("w.weight").withScale(c.tensor("ids")));
            assertTrue(wrongType.getMessage().contains("ids") && wrongType.getMessage().contains("F32, BF16 or F16"),
                    wrongType.getMessage());
            CheckpointException notFp8 = assertThrows(CheckpointException.class,
                    () -> c.tensor("w.weight_scale").withScale(c.tensor("bf16_scale")));
            assertTrue(notFp8.getMessage().contains("F8_E4M3"), notFp8.getMessage());
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        tensors.put("w.weight", TensorData.f8e4m3Codes(q.codes(), ROWS, COLS));
        tensors.put("w.weight_scale", TensorData.f32(new float[] {1, 2, 3}, 3));
        Path file = dir.resolve("short-scale.safetensors");
        SafetensorsWriter.write(file, tensors);
        try (Checkpoint c = Checkpoint.open(file)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> c.tensor("w.weight").withScale(c.tensor("w.weight_scale")));
            assertTrue(e.getMessage().contains("[5, 1] or [5]"), e.getMessage());
        }
    }

    @Test
    void readsOfOtherTypesNameTheTypesRead() {
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(values(4), ROWS, COLS);
        try (Checkpoint c = Checkpoint.open(write(q))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("ids").toFloats());
            assertTrue(e.getMessage().contains("BF16, F16, F32, F64 or F8_E4M3"), e.getMessage());
        }
    }

    @Test
    void writerEncodesFloatsAndTakesBytesOnlyForOneByteTypes() {
        float[] v = {0.1f, -3f, 500f, 1.0625f};
        List<TensorSpec> specs = List.of(TensorSpec.of("f8", DType.F8_E4M3, 4), TensorSpec.of("f32", DType.F32, 1));
        Path file = dir.resolve("encoded.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.open(file, specs, Map.of())) {
            w.writeFloats("f8", v, 0, v.length);
            assertThrows(IllegalArgumentException.class, () -> w.writeBytes("f32", new byte[4], 0, 1));
            w.writeFloats("f32", new float[] {1}, 0, 1);
            w.commit();
        }
        try (Checkpoint c = Checkpoint.open(file)) {
            float[] read = c.tensor("f8").toFloats();
            for (int i = 0; i < v.length; i++) {
                assertEquals(Fp8E4m3.decode(Fp8E4m3.encode(v[i])), read[i]);
            }
            assertEquals(448f, read[2], "saturated");
        }
    }
}
