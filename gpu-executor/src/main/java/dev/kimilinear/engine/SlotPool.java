package dev.kimilinear.engine;

/**
 * The state slots, handed out one per running sequence, from the free slots by group
 * ({@link FreeIds}: an {@link ElasticBackend}'s replicas; one group otherwise).
 */
final class SlotPool {
    private final boolean[] used;
    private final FreeIds free;

    SlotPool(int slots) {
        this(new boolean[slots], 1);
    }

    /** A pool whose slot i is taken where used[i], in {@code groups} equal groups. */
    SlotPool(boolean[] used, int groups) {
        this.used = used.clone();
        this.free = new FreeIds(used.length, groups, s -> !used[s], "slot");
    }

    int capacity() {
        return used.length;
    }

    int free() {
        return free.free();
    }

    int free(int group) {
        return free.free(group);
    }

    int inUse() {
        return used.length - free.free();
    }

    /** Which slots are taken, by id, a copy. */
    boolean[] used() {
        return used.clone();
    }

    int take(int group) {
        int slot = free.pop(group);
        if (slot < 0) {
            throw new IllegalStateException("no free state slot" + (free.groups() > 1 ? " in group " + group : ""));
        }
        used[slot] = true;
        return slot;
    }

    void give(int slot) {
        if (!used[slot]) {
            throw new IllegalStateException("state slot " + slot + " given back twice");
        }
        used[slot] = false;
        free.push(slot);
    }
}
