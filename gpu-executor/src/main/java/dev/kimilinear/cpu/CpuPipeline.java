package dev.kimilinear.cpu;

import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;

import java.util.List;

/**
 * CPU backends over consecutive layer ranges run as one model: each stage's residual stream
 * feeds the next, the last answers. The reference of a pipeline's arithmetic (the same as one
 * whole {@link CpuBackend}'s) and the pooled layout of {@link CpuElasticModel}.
 */
final class CpuPipeline implements Backend {
    private final List<CpuBackend> stages;

    CpuPipeline(List<CpuBackend> stages) {
        if (stages.isEmpty() || !stages.get(0).range().embedding() || !stages.get(stages.size() - 1).range().head()) {
            throw new IllegalArgumentException("a pipeline runs from the embedding to the head");
        }
        for (int s = 1; s < stages.size(); s++) {
            if (stages.get(s).range().from() != stages.get(s - 1).range().to()) {
                throw new IllegalArgumentException("stage " + s + " does not start where stage " + (s - 1) + " ends");
            }
        }
        this.stages = List.copyOf(stages);
    }

    List<CpuBackend> stages() {
        return stages;
    }

    @Override
    public KimiLinearConfig config() {
        return stages.get(0).config();
    }

    @Override
    public String name() {
        return "cpu pipeline of " + stages.size();
    }

    @Override
    public int pageSize() {
        return stages.get(0).pageSize();
    }

    @Override
    public long bytesPerSlot() {
        return stages.stream().mapToLong(CpuBackend::bytesPerSlot).sum();
    }

    @Override
    public long bytesPerPage() {
        return stages.stream().mapToLong(CpuBackend::bytesPerPage).sum();
    }

    /** The least any stage has (each holds its own layers' share of every slot and page). */
    @Override
    public long freeBytes() {
        return stages.stream().mapToLong(CpuBackend::freeBytes).min().orElse(0);
    }

    @Override
    public int maxBatchTokens() {
        return stages.get(0).maxBatchTokens();
    }

    @Override
    public void reserve(int slots, int pages) {
        stages.forEach(s -> s.reserve(slots, pages));
    }

    @Override
    public void resetSlot(int slot) {
        stages.forEach(s -> s.resetSlot(slot));
    }

    @Override
    public void copySlot(int from, int to) {
        stages.forEach(s -> s.copySlot(from, to));
    }

    @Override
    public void copyPage(int from, int to) {
        stages.forEach(s -> s.copyPage(from, to));
    }

    @Override
    public void forward(StepBatch batch, RowChoices choices) {
        stages.get(stages.size() - 1).forwardFrom(batch, hidden(batch), choices);
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        stages.get(stages.size() - 1).logitsFrom(batch, hidden(batch), logits);
    }

    /** The residual stream after every stage but the last (null with one stage). */
    private float[] hidden(StepBatch batch) {
        float[] x = null;
        for (int s = 0; s + 1 < stages.size(); s++) {
            x = stages.get(s).hiddenAfter(batch, x);
        }
        return x;
    }

    @Override
    public void close() {
        stages.forEach(CpuBackend::close);
    }
}
