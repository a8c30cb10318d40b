package dev.kimilinear.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How many K splits a Hopper product of few tiles takes (132 multiprocessors, as on the H100). */
class GemmSplitCountTest {
    private static final long ROOM = GemmKernel.SPLIT_K_SCRATCH_BYTES / 4;

    @Test
    void fewTilesSplitUntilOneWaveFillsTheMachine() {
        // o_proj of a 256-sequence step: 2 x 9 tiles, 64 stages: 4 splits fill one wave (8 would take two)
        assertEquals(4, GemmKernel.splitCount(18, 64, 132, 256L * 2304, ROOM));
        // 2 tiles, 36 stages: 9 splits of 4 stages
        assertEquals(9, GemmKernel.splitCount(2, 36, 132, 256L * 256, ROOM));
        // the dense MLP's down product (K = 9216): 144 stages; 6 splits of 24 are one wave (108
        // blocks), 8 of 18 would be two
        assertEquals(6, GemmKernel.splitCount(18, 144, 132, 256L * 2304, ROOM));
    }

    @Test
    void manyTilesShortKOrNoRoomStayWhole() {
        assertEquals(1, GemmKernel.splitCount(98, 36, 132, 256L * 12320, ROOM));   // 98 tiles: most of a wave already
        assertEquals(1, GemmKernel.splitCount(16, 2, 132, 256L * 4096, ROOM));     // K = 128: 2 stages
        assertEquals(1, GemmKernel.splitCount(18, 64, 132, 256L * 2304, 256L * 2304));   // room for one partial only
        // splits must divide the stages and keep 4 each: 7 stages cannot split
        assertEquals(1, GemmKernel.splitCount(4, 7, 132, 1000, ROOM));
    }
}
