package dev.kimilinear.checkpoint;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DTypeTest {

    @Test
    void parsesEverySafetensorsName() {
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromSafetensorsName(t.safetensorsName()));
        }
        assertEquals(2, DType.BF16.size());
        assertEquals(4, DType.I32.size());
        assertEquals(8, DType.F64.size());
        assertEquals(1, DType.BOOL.size());
        assertEquals(1, DType.F8_E4M3.size());
        assertEquals(DType.F8_E4M3, DType.fromSafetensorsName("F8_E4M3"));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DType.fromSafetensorsName("F8_E5M2"));
        assertTrue(e.getMessage().contains("F8_E5M2"));
        assertTrue(e.getMessage().contains("F8_E4M3"));
        assertTrue(e.getMessage().contains("BF16"));
    }
}
