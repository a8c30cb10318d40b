package dev.kimilinear.engine;

/**
 * How the engine divides its memory budget: fixed state slots (one per running sequence) and
 * pages of the latent cache (pageSize tokens each, shared out on demand).
 *
 * @param budgetBytes    what slots and pages may take
 * @param sequences      state slots: the most sequences running at once
 * @param pages          latent-cache pages
 * @param maxModelLength longest prompt plus output a request may have
 */
public record MemoryPlan(long budgetBytes, long bytesPerSlot, long bytesPerPage, int pageSize, int sequences,
                         int pages, int maxModelLength, int maxBatchTokens) {

    /** Bytes the slots and pages take once reserved. */
    public long reservedBytes() {
        return sequences * bytesPerSlot + pages * bytesPerPage;
    }

    /** Tokens the whole latent cache holds. */
    public long tokenCapacity() {
        return (long) pages * pageSize;
    }

    /**
     * Null when one sequence of {@code tokens} fits the latent cache, else why not (the pages it
     * needs and the bytes they take beside what the budget holds).
     */
    public String whyNot(long tokens) {
        if (tokens > maxModelLength) {
            return "a sequence of " + tokens + " tokens exceeds the plan's max length " + maxModelLength
                    + " (the model's own limit, or the engine's max_model_length when lower)";
        }
        int need = pagesFor(tokens);
        if (need <= pages) {
            return null;
        }
        return String.format(java.util.Locale.ROOT,
                "a sequence of %d tokens needs %d latent pages (%.2f GB); the memory budget of %.2f GB holds %d"
                        + " (%d tokens)", tokens, need, need * (double) bytesPerPage / 1e9, budgetBytes / 1e9, pages,
                tokenCapacity());
    }

    /** Pages a sequence of this many cached tokens needs. */
    public int pagesFor(long tokens) {
        return (int) ((tokens + pageSize - 1) / pageSize);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%d sequences x %.2f MB state + %d pages x %d tokens x %.3f MB latent = %.1f MB of %.1f MB budget;"
                        + " max length %d, max batch tokens %d",
                sequences, bytesPerSlot / 1e6, pages, pageSize, bytesPerPage / 1e6, reservedBytes() / 1e6,
                budgetBytes / 1e6, maxModelLength, maxBatchTokens);
    }
}
