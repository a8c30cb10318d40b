package dev.kimilinear.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Fp8E4m3Test {
    @Test
    void everyCodeHasItsValue() {
        assertEquals(0f, Fp8E4m3.decode((byte) 0x00));
        assertEquals(0x1p-9f, Fp8E4m3.decode((byte) 0x01), "smallest subnormal");
        assertEquals(0x1p-6f, Fp8E4m3.decode((byte) 0x08), "smallest normal");
        assertEquals(1f, Fp8E4m3.decode((byte) 0x38));
        assertEquals(448f, Fp8E4m3.decode((byte) 0x7E));
        assertEquals(-448f, Fp8E4m3.decode((byte) 0xFE));
        assertTrue(Float.isNaN(Fp8E4m3.decode((byte) 0x7F)) && Float.isNaN(Fp8E4m3.decode((byte) 0xFF)));
        for (int i = 0; i < 256; i++) {
            float v = Fp8E4m3.decode((byte) i);
            if (!Float.isNaN(v) && i != 0x80) {
                assertEquals((byte) i, Fp8E4m3.encode(v), "code " + i + " (" + v + ") encodes back to itself");
            }
        }
    }

    @Test
    void encodingRoundsToTheNearestTiesToEvenAndSaturates() {
        assertEquals((byte) 0x38, Fp8E4m3.encode(1.0625f), "1 + 1/16 is a tie: even mantissa 1.0");
        assertEquals((byte) 0x3A, Fp8E4m3.encode(1.1875f), "1.1875 is a tie between 1.125 and 1.25: even 1.25");
        assertEquals((byte) 0x7E, Fp8E4m3.encode(1e9f));
        assertEquals((byte) 0xFE, Fp8E4m3.encode(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0x7E, Fp8E4m3.encode(463.99f), "below the midpoint to 480 (not a value): 448");
        assertEquals((byte) 0x00, Fp8E4m3.encode(0x1p-11f), "a quarter of the smallest subnormal rounds to zero");
        assertEquals((byte) 0x08, Fp8E4m3.encode(0x1p-6f - 0x1p-12f), "just below 2^-6 rounds up to it");
        assertEquals(Fp8E4m3.NAN, Fp8E4m3.encode(Float.NaN));
        // nearest by brute force over the finite codes, ties to the even code
        Random random = new Random(3);
        for (int i = 0; i < 100_000; i++) {
            float x = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(24) - 12));
            byte got = Fp8E4m3.encode(x);
            double best = Double.MAX_VALUE;
            int bestCode = -1;
            for (int c = 0; c < 256; c++) {
                float v = Fp8E4m3.decode((byte) c);
                if (Float.isNaN(v) || (c == 0x80)) {
                    continue;
                }
                double d = Math.abs((double) v - x);
                if (d < best || (d == best && (c & 1) == 0)) {
                    best = d;
                    bestCode = c;
                }
            }
            assertEquals(Fp8E4m3.decode((byte) bestCode), Fp8E4m3.decode(got), 0f, "x = " + x);
        }
    }

    @Test
    void rowsAreScaledByTheirLargestMagnitude() {
        float[] w = {0f, 0f, 0f, 0f, 1f, -2f, 0.5f, 0.25f, 3e-3f, -7e-3f, 1e-4f, 5e-3f};
        Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(w, 3, 4);
        assertEquals(1f, q.scales()[0], "a row of zeros keeps scale 1");
        assertEquals(2f / 448f, q.scales()[1]);
        assertEquals((byte) 0xFE, q.codes()[5], "the largest magnitude maps to -448");
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                float x = w[r * 4 + c];
                assertEquals(x, q.value(r, c), Math.abs(x) / 16 + q.scales()[r] * 0x1p-10f, "row " + r + " col " + c);
            }
        }
    }
}
