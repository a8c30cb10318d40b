package dev.kimilinear.model;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * conf/models/kimi-linear-48b-a3b.json: the released model's shapes in the transformers
 * spelling, its MLA layers where the release's full_attn_layers (1-indexed 4, 8, ..., 24, 27)
 * put them, and 48B parameters of which about 3B are active per token.
 */
class ReleasedConfigTest {
    static final Path CONFIG = Path.of("..", "conf", "models", "kimi-linear-48b-a3b.json");

    @Test
    void hasTheReleasedLayoutAndSize() {
        KimiLinearConfig c = KimiLinearConfig.load(CONFIG);
        assertEquals(27, c.numLayers());
        List<Integer> mla = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            if (!c.isKda(l)) {
                mla.add(l);
            }
        }
        assertEquals(List.of(3, 7, 11, 15, 19, 23, 26), mla);
        long total = 0;
        long experts = 0;
        for (RandomCheckpoint.Planned p : RandomCheckpoint.plan(c)) {
            long n = 1;
            for (long d : p.spec().shape()) {
                n *= d;
            }
            total += n;
            if (p.spec().name().contains(".experts.")) {
                experts += n;
            }
        }
        long perExpert = experts / (26L * 256);
        long active = total - experts + 26L * 8 * perExpert;
        System.out.printf("kimi-linear-48b-a3b: %,d parameters, %,d in routed experts, %,d active per token%n", total,
                experts, active);
        assertTrue(total > 48.0e9 && total < 50.0e9, "total parameters " + total);
        assertTrue(active > 2.5e9 && active < 3.5e9, "active parameters " + active);
    }
}
