package dev.kimilinear.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPlanTest {

    @Test
    void saysWhyASequenceDoesNotFitBeforeARunStarts() {
        // 1M tokens of one MLA layer's latent rows (576 bf16) in 64-token pages: 16384 pages of 73.7 KB
        MemoryPlan plan = new MemoryPlan(1_000_000_000L, 1_000_000, 73_728, 64, 1, 10_000, 1 << 21, 8192);
        assertNull(plan.whyNot(640_000));
        String why = plan.whyNot(1 << 20);
        assertTrue(why.contains("1048576 tokens needs 16384 latent pages (1.21 GB)"), why);
        assertTrue(why.contains("holds 10000 (640000 tokens)"), why);
        assertEquals(16384, plan.pagesFor(1 << 20));
        // past the model's length the plan says so, whatever the pages
        MemoryPlan capped = new MemoryPlan(60_000_000_000L, 1_000_000, 73_728, 64, 1, 16384, 1 << 20, 8192);
        assertNull(capped.whyNot(1 << 20));
        String longer = capped.whyNot((1 << 20) + 16);
        assertTrue(longer.contains("1048592 tokens exceeds the plan's max length 1048576"), longer);
    }
}
