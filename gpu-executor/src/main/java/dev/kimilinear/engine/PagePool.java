package dev.kimilinear.engine;

/**
 * The latent-cache pages: a reference count per page, since the samples of one prompt share
 * its full pages, and the free pages by group ({@link FreeIds}: an {@link ElasticBackend}'s
 * replicas; one group when the backend has no such split).
 */
final class PagePool {
    private final int[] refs;
    private final FreeIds free;

    PagePool(int pages) {
        this(new int[pages], 1);
    }

    /** A pool whose page i is already held refs[i] times, in {@code groups} equal groups. */
    PagePool(int[] refs, int groups) {
        for (int p = 0; p < refs.length; p++) {
            if (refs[p] < 0) {
                throw new IllegalArgumentException("page " + p + " held " + refs[p] + " times");
            }
        }
        this.refs = refs.clone();
        this.free = new FreeIds(refs.length, groups, p -> refs[p] == 0, "page");
    }

    int capacity() {
        return refs.length;
    }

    int groups() {
        return free.groups();
    }

    int free() {
        return free.free();
    }

    int free(int group) {
        return free.free(group);
    }

    int inUse() {
        return refs.length - free.free();
    }

    int refs(int page) {
        return refs[page];
    }

    /** The reference counts by page id, a copy. */
    int[] refs() {
        return refs.clone();
    }

    int allocate(int group) {
        int page = free.pop(group);
        if (page < 0) {
            throw new IllegalStateException("no free latent page" + (groups() > 1 ? " in group " + group : ""));
        }
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
            free.push(page);
        }
    }
}
