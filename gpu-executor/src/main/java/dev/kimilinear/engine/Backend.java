package dev.kimilinear.engine;

import dev.kimilinear.model.KimiLinearConfig;

/**
 * One resident model on one device, as the batch engine sees it: fixed per-sequence state
 * slots (KDA conv and recurrent state) and a pool of fixed-size pages for the MLA latent
 * cache. The engine owns the bookkeeping (which slot and pages a sequence holds); the
 * backend owns the memory and the arithmetic.
 */
public interface Backend extends AutoCloseable {

    KimiLinearConfig config();

    /** "cpu", "cuda:0", ... */
    String name();

    /** Tokens per page of the latent cache. */
    int pageSize();

    /** Bytes one state slot takes (every KDA layer's conv and recurrent state). */
    long bytesPerSlot();

    /** Bytes one page takes (pageSize tokens of latent, every MLA layer). */
    long bytesPerPage();

    /** Bytes left for slots and pages once weights and workspace are resident. */
    long freeBytes();

    /** Most tokens one {@link #forward} call may carry (the workspace is sized for it). */
    int maxBatchTokens();

    /** Most logit rows one {@link #forward} call may ask for. */
    default int maxLogitRows() {
        return maxBatchTokens();
    }

    /** Most sequences one {@link #forward} call may carry, and so most slots worth reserving. */
    default int maxSequences() {
        return maxBatchTokens();
    }

    /** Allocates the slots and pages; called once, before any forward. */
    void reserve(int slots, int pages);

    /** Clears a slot for a new sequence (zero conv and recurrent state). */
    void resetSlot(int slot);

    /** Copies a slot's state into another (n samples continuing one prompt). */
    void copySlot(int from, int to);

    /** Copies whole pages of latent cache, every MLA layer (a shared prompt's last, partial page). */
    void copyPage(int from, int to);

    /**
     * Runs a batch's new tokens through the model: each sequence continues from its slot's
     * state and its cached context, and its new latent rows are written into its pages. Then
     * every choice of {@code choices} is answered from its logits row where the logits are
     * (tokens, and log-probabilities only as asked), as {@link TokenChooser} defines them; the
     * rows themselves stay with the backend.
     */
    void forward(StepBatch batch, RowChoices choices);

    /**
     * Runs a batch like {@link #forward} and copies out its logits rows: for tools that record
     * or compare logits, not for serving.
     *
     * @param logits [batch.logitRows().length, vocab], filled row by row
     */
    void logits(StepBatch batch, float[] logits);

    /**
     * Observes the residual stream and the routing inside every later forward (null: stop), for
     * debugging and measurement; a backend without one says so.
     */
    default void setProbe(LayerProbe probe) {
        throw new UnsupportedOperationException(name() + " takes no layer probe");
    }

    @Override
    void close();
}
