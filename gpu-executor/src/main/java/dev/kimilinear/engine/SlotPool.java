package dev.kimilinear.engine;

/**
 * The state slots, handed out one per running sequence, from a free stack per group: slots of
 * group g are ids [g S, (g+1) S) (an {@link ElasticBackend}'s replicas), one group otherwise.
 */
final class SlotPool {
    private final boolean[] used;
    private final int perGroup;
    private final int[][] free;
    private final int[] freeCount;
    private int totalFree;

    SlotPool(int slots) {
        this(new boolean[slots], 1);
    }

    /** A pool whose slot i is taken where used[i], in {@code groups} equal groups. */
    SlotPool(boolean[] used, int groups) {
        if (groups < 1 || used.length % groups != 0) {
            throw new IllegalArgumentException(used.length + " slots do not split into " + groups + " equal groups");
        }
        this.used = used.clone();
        this.perGroup = used.length / groups;
        this.free = new int[groups][perGroup];
        this.freeCount = new int[groups];
        for (int s = used.length - 1; s >= 0; s--) {
            if (!used[s]) {
                int g = s / perGroup;
                free[g][freeCount[g]++] = s;
                totalFree++;
            }
        }
    }

    int capacity() {
        return used.length;
    }

    int free() {
        return totalFree;
    }

    int free(int group) {
        return freeCount[group];
    }

    int inUse() {
        return used.length - totalFree;
    }

    /** Which slots are taken, by id, a copy. */
    boolean[] used() {
        return used.clone();
    }

    int take(int group) {
        if (freeCount[group] == 0) {
            throw new IllegalStateException("no free state slot" + (free.length > 1 ? " in group " + group : ""));
        }
        int slot = free[group][--freeCount[group]];
        totalFree--;
        used[slot] = true;
        return slot;
    }

    void give(int slot) {
        if (!used[slot]) {
            throw new IllegalStateException("state slot " + slot + " given back twice");
        }
        used[slot] = false;
        int g = slot / perGroup;
        free[g][freeCount[g]++] = slot;
        totalFree++;
    }
}
