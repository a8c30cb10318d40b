package dev.kimilinear.engine;

/**
 * Free ids in equal groups (ids [g n, (g+1) n) are group g's), a stack per group: what the
 * slot and page pools hand out, lowest ids first.
 */
final class FreeIds {
    private final int perGroup;
    private final int[][] stack;
    private final int[] count;
    private int total;

    /** Every id of {@code capacity} free where {@code free} says so, in {@code groups} equal groups. */
    FreeIds(int capacity, int groups, java.util.function.IntPredicate free, String what) {
        if (groups < 1 || capacity % groups != 0) {
            throw new IllegalArgumentException(capacity + " " + what + "s do not split into " + groups
                    + " equal groups");
        }
        this.perGroup = capacity / groups;
        this.stack = new int[groups][perGroup];
        this.count = new int[groups];
        for (int id = capacity - 1; id >= 0; id--) {
            if (free.test(id)) {
                push(id);
            }
        }
    }

    int groups() {
        return stack.length;
    }

    int free() {
        return total;
    }

    int free(int group) {
        return count[group];
    }

    /** A free id of the group; -1 when it has none. */
    int pop(int group) {
        if (count[group] == 0) {
            return -1;
        }
        total--;
        return stack[group][--count[group]];
    }

    void push(int id) {
        int g = id / perGroup;
        stack[g][count[g]++] = id;
        total++;
    }
}
