package dev.kimilinear.engine;

/**
 * The latent-cache pages: a reference count per page, since the samples of one prompt share
 * its full pages, and a free stack per group. Pages of group g are ids [g P, (g+1) P) (an
 * {@link ElasticBackend}'s replicas); one group when the backend has no such split.
 */
final class PagePool {
    private final int[] refs;
    private final int perGroup;
    private final int[][] free;
    private final int[] freeCount;
    private int totalFree;

    PagePool(int pages) {
        this(new int[pages], 1);
    }

    /** A pool whose page i is already held refs[i] times, in {@code groups} equal groups. */
    PagePool(int[] refs, int groups) {
        if (groups < 1 || refs.length % groups != 0) {
            throw new IllegalArgumentException(refs.length + " pages do not split into " + groups + " equal groups");
        }
        this.refs = refs.clone();
        this.perGroup = refs.length / groups;
        this.free = new int[groups][perGroup];
        this.freeCount = new int[groups];
        for (int p = refs.length - 1; p >= 0; p--) {   // lowest ids on top
            if (refs[p] < 0) {
                throw new IllegalArgumentException("page " + p + " held " + refs[p] + " times");
            }
            if (refs[p] == 0) {
                int g = p / perGroup;
                free[g][freeCount[g]++] = p;
                totalFree++;
            }
        }
    }

    int capacity() {
        return refs.length;
    }

    int groups() {
        return free.length;
    }

    int group(int page) {
        return page / perGroup;
    }

    int free() {
        return totalFree;
    }

    int free(int group) {
        return freeCount[group];
    }

    int inUse() {
        return refs.length - totalFree;
    }

    int refs(int page) {
        return refs[page];
    }

    /** The reference counts by page id, a copy. */
    int[] refs() {
        return refs.clone();
    }

    int allocate(int group) {
        if (freeCount[group] == 0) {
            throw new IllegalStateException("no free latent page" + (free.length > 1 ? " in group " + group : ""));
        }
        int page = free[group][--freeCount[group]];
        totalFree--;
        refs[page] = 1;
        return page;
    }

    void retain(int page) {
        refs[page]++;
    }

    void release(int page) {
        if (refs[page] <= 0) {
            throw new IllegalStateException("latent page " + page + " released more often than taken");
        }
        if (--refs[page] == 0) {
            int g = page / perGroup;
            free[g][freeCount[g]++] = page;
            totalFree++;
        }
    }
}
