package dev.kimilinear.model;


/**
 * The decoder layers [from, to) one model holds on its device, and whether it also holds the
 * embedding (it starts from token ids) and the head (final norm and lm_head: it ends in logits).
 * A whole model is every layer with both; a pipeline stage is a contiguous slice.
 */
public record LayerRange(int from, int to, boolean embedding, boolean head) {

    public static LayerRange all(KimiLinearConfig cfg) {
        return new LayerRange(0, cfg.numLayers(), true, true);
    }

    public boolean contains(int layer) {
        return layer >= from && layer < to;
    }

    public int layers() {
        return to - from;
    }

    public void check(KimiLinearConfig cfg) {
        if (from < 0 || to > cfg.numLayers() || from >= to) {
            throw new IllegalArgumentException("layer range " + from + ".." + to + " outside the model's "
                    + cfg.numLayers() + " layers or empty");
        }
    }
}
