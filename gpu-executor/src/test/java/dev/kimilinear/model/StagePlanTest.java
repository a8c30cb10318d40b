package dev.kimilinear.model;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pipeline stages balanced by weight bytes: exact against every contiguous split, edges, errors. */
class StagePlanTest {
    static final Path RELEASED = Path.of("..", "conf", "models", "kimi-linear-48b-a3b.json");

    @Test
    void theReleasedModelSplitsOverTwoFourAndEightDevicesAsEvenlyAsAnySplitCan() {
        KimiLinearConfig cfg = KimiLinearConfig.load(RELEASED);
        try (Checkpoint ckpt = RandomCheckpoint.open(cfg, 1)) {
            ModelWeights w = ModelWeights.bind(cfg, ckpt);
            long[] layers = new long[cfg.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = StagePlan.layerBytes(w.layers().get(l));
            }
            long embed = w.embedTokens().byteSize();
            long head = w.finalNorm().byteSize() + w.lmHead().byteSize();
            long total = java.util.Arrays.stream(layers).sum() + embed + head;
            assertTrue(total > 90e9 && total < 110e9, "the released model's bf16 bytes: " + total);
            for (int g : new int[] {2, 4, 8}) {
                StagePlan plan = StagePlan.of(w, g);
                System.out.printf("%d stages: %s, GB %s%n", g, plan.stages().stream()
                        .map(r -> r.from() + ".." + r.to()).toList(), plan.stageBytes().stream()
                        .map(b -> String.format("%.1f", b / 1e9)).toList());
                checkShape(plan, cfg.numLayers(), g);
                assertEquals(total, plan.stageBytes().stream().mapToLong(Long::longValue).sum(), "bytes of " + g);
                assertEquals(bruteForceLargest(layers, embed, head, g), plan.largestStage(), "largest of " + g);
                // more even than equal layer counts, which ignore the dense first layer and the embedding
                assertTrue(plan.largestStage() <= equalCountsLargest(layers, embed, head, g), "vs equal counts, " + g);
            }
        }
    }

    @Test
    void theEmbeddingWeighsOnTheFirstStageAndTheHeadOnTheLast() {
        long[] layers = {10, 10, 10, 10};
        assertEquals(List.of(new LayerRange(0, 1, true, false), new LayerRange(1, 4, false, true)),
                StagePlan.balance(layers, 20, 0, 2).stages());
        assertEquals(List.of(new LayerRange(0, 3, true, false), new LayerRange(3, 4, false, true)),
                StagePlan.balance(layers, 0, 20, 2).stages());
        assertEquals(List.of(30L, 30L), StagePlan.balance(layers, 0, 20, 2).stageBytes());
    }

    @Test
    void oneStageHoldsEverythingAndAsManyStagesAsLayersHoldOneEach() {
        long[] layers = {5, 1, 7};
        assertEquals(List.of(new LayerRange(0, 3, true, true)), StagePlan.balance(layers, 2, 3, 1).stages());
        assertEquals(List.of(18L), StagePlan.balance(layers, 2, 3, 1).stageBytes());
        assertEquals(List.of(new LayerRange(0, 1, true, false), new LayerRange(1, 2, false, false),
                new LayerRange(2, 3, false, true)), StagePlan.balance(layers, 2, 3, 3).stages());
        // a huge layer still leaves every other stage a layer
        StagePlan skewed = StagePlan.balance(new long[] {1000, 1, 1, 1}, 0, 0, 3);
        checkShape(skewed, 4, 3);
        assertEquals(1000, skewed.largestStage());
    }

    @Test
    void randomLayerSizesMatchTheBestContiguousSplit() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + rnd.nextInt(9);
            long[] layers = new long[n];
            for (int l = 0; l < n; l++) {
                layers[l] = rnd.nextInt(100);
            }
            long embed = rnd.nextInt(150);
            long head = rnd.nextInt(150);
            int g = 1 + rnd.nextInt(n);
            StagePlan plan = StagePlan.balance(layers, embed, head, g);
            checkShape(plan, n, g);
            assertEquals(bruteForceLargest(layers, embed, head, g), plan.largestStage(),
                    "trial " + trial + ": " + java.util.Arrays.toString(layers) + " embed " + embed + " head " + head
                            + " over " + g);
        }
    }

    @Test
    void stageCountsOutsideOneToTheLayersAreRefusedByName() {
        long[] layers = {1, 2, 3, 4};
        for (int g : new int[] {0, -1, 5}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StagePlan.balance(layers, 0, 0, g));
            assertTrue(e.getMessage().contains(g + " stages over 4 layers"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> StagePlan.balance(new long[] {1, -2}, 0, 0, 1));
    }

    private static void checkShape(StagePlan plan, int layers, int stages) {
        assertEquals(stages, plan.stages().size());
        int at = 0;
        for (int s = 0; s < stages; s++) {
            LayerRange r = plan.stages().get(s);
            assertEquals(at, r.from(), "stage " + s + " starts where the last ended");
            assertTrue(r.to() > r.from(), "stage " + s + " holds a layer");
            assertEquals(s == 0, r.embedding(), "embedding on stage " + s);
            assertEquals(s == stages - 1, r.head(), "head on stage " + s);
            at = r.to();
        }
        assertEquals(layers, at);
    }

    /** The smallest largest stage over every way to cut the layers into g contiguous runs. */
    private static long bruteForceLargest(long[] layers, long embed, long head, int g) {
        return search(layers, embed, head, g, 0, 0, 0);
    }

    private static long search(long[] layers, long embed, long head, int g, int stage, int start, long worst) {
        int n = layers.length;
        long best = Long.MAX_VALUE;
        long load = stage == 0 ? embed : 0;
        int lastEnd = stage == g - 1 ? n : n - (g - 1 - stage);
        for (int end = start + 1; end <= lastEnd; end++) {
            load += layers[end - 1];
            if (stage == g - 1 && end < n) {
                continue;
            }
            long w = Math.max(worst, load + (stage == g - 1 ? head : 0));
            if (w >= best) {
                if (stage != g - 1) {
                    break;   // loads only grow from here
                }
                continue;
            }
            best = Math.min(best, stage == g - 1 ? w : search(layers, embed, head, g, stage + 1, end, w));
        }
        return best;
    }

    private static long equalCountsLargest(long[] layers, long embed, long head, int g) {
        long worst = 0;
        for (int s = 0; s < g; s++) {
            long load = (s == 0 ? embed : 0) + (s == g - 1 ? head : 0);
            for (int l = s * layers.length / g; l < (s + 1) * layers.length / g; l++) {
                load += layers[l];
            }
            worst = Math.max(worst, load);
        }
        return worst;
    }
}
