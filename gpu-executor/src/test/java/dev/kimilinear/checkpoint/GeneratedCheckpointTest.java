package dev.kimilinear.checkpoint;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensors whose bytes are made on request, read in windows that are never kept. */
class GeneratedCheckpointTest {
    private static float value(String tensor, long index) {
        return (tensor.length() * 1000 + index) * 0.25f;
    }

    @Test
    void readsAcrossWindowsGiveTheMadeValues() {
        AtomicInteger calls = new AtomicInteger();
        TensorGenerator generator = (spec, byteOffset, dst) -> {
            calls.incrementAndGet();
            int size = spec.dtype().size();
            for (int at = 0; at < dst.remaining(); at += size) {
                float v = value(spec.name(), (byteOffset + at) / size);
                if (spec.dtype() == DType.F32) {
                    dst.putFloat(at, v);
                } else {
                    dst.putShort(at, HalfFloats.floatToBf16(v));
                }
            }
        };
        List<TensorSpec> specs = List.of(TensorSpec.of("w", DType.BF16, 10, 7), TensorSpec.of("bias", DType.F32, 5));
        try (Checkpoint c = Checkpoint.generated(Path.of("made"), specs, generator, 16)) {
            Tensor w = c.tensor("w");
            float[] all = w.toFloats();
            assertEquals(70, all.length);
            for (int i = 0; i < all.length; i++) {
                assertEquals(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(value("w", i))), all[i], "element " + i);
                assertEquals(all[i], w.getFloat(i), "getFloat " + i);
            }
            float[] middle = new float[20];
            w.readFloats(13, middle, 0, 20);
            for (int i = 0; i < 20; i++) {
                assertEquals(all[13 + i], middle[i]);
            }
            ByteBuffer whole = w.buffer();
            assertEquals(140, whole.remaining());
            assertArrayEquals(all, c.tensor("w").toFloats(), "the same bytes on every read");
            assertArrayEquals(new float[] {value("bias", 0), value("bias", 1), value("bias", 2), value("bias", 3),
                    value("bias", 4)}, c.tensor("bias").toFloats());
            int before = calls.get();
            w.toFloats();
            assertTrue(calls.get() > before, "bytes are made again, not kept");
            assertTrue(w.toString().contains("made"), w.toString());
        }
        assertThrows(CheckpointException.class, () -> Checkpoint.generated(Path.of("made"),
                List.of(TensorSpec.of("w", DType.BF16, 2), TensorSpec.of("w", DType.BF16, 2)), generator));
    }

    /**
     * Element reads keep the window read last; whole reads keep nothing, so that a model larger
     * than the heap streams through, each tensor read whole once.
     */
    @Test
    void wholeReadsKeepNoWindow() {
        AtomicInteger calls = new AtomicInteger();
        TensorGenerator generator = (spec, byteOffset, dst) -> {
            calls.incrementAndGet();
            for (int at = 0; at < dst.remaining(); at += 4) {
                dst.putFloat(at, value(spec.name(), (byteOffset + at) / 4));
            }
        };
        try (Checkpoint c = Checkpoint.generated(Path.of("made"), List.of(TensorSpec.of("b", DType.F32, 6)), generator,
                16)) {
            Tensor b = c.tensor("b");
            b.toFloats();
            assertEquals(2, calls.get(), "two windows made");
            b.getFloat(1);
            assertEquals(3, calls.get(), "the whole read left no window behind");
            b.getFloat(2);
            assertEquals(3, calls.get(), "the window read last serves the next element");
            float[] piece = new float[1];
            b.readFloats(4, piece, 0, 1);
            assertEquals(4, calls.get());
            b.readFloats(5, piece, 0, 1);
            assertEquals(4, calls.get(), "a piece of a window keeps it");
        }
    }
}
