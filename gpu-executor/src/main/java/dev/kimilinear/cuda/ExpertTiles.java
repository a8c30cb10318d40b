package dev.kimilinear.cuda;

/**
 * The host's form of moe_plan, for benches and tests that route rows themselves: rows permuted
 * per expert (offsets [E + 1], an exclusive scan of the counts) and the tile list the grouped
 * products take, (expert, first row) per {@code tileRows} rows.
 */
record ExpertTiles(int[] offsets, int[] tiles) {

    static ExpertTiles plan(int[] counts, int tileRows) {
        int[] offsets = new int[counts.length + 1];
        int numTiles = 0;
        for (int e = 0; e < counts.length; e++) {
            offsets[e + 1] = offsets[e] + counts[e];
            numTiles += (counts[e] + tileRows - 1) / tileRows;
        }
        int[] tiles = new int[2 * numTiles];
        int t = 0;
        for (int e = 0; e < counts.length; e++) {
            for (int r = 0; r < counts[e]; r += tileRows) {
                tiles[t++] = e;
                tiles[t++] = r;
            }
        }
        return new ExpertTiles(offsets, tiles);
    }

    int numTiles() {
        return tiles.length / 2;
    }

    int rows() {
        return offsets[offsets.length - 1];
    }
}
