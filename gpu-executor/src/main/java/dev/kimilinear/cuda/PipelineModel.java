package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.LayerProbe;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.LayerRange;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.StagePlan;
import dev.kimilinear.model.WeightPrecision;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One model held across several GPUs as pipeline stages: stage s is a {@link CudaModel} over a
 * contiguous range of layers on its device ({@link StagePlan}, balanced by weight bytes), stage
 * 0 with the embedding, the last with the head. A forward runs the stages in turn, copying the
 * residual stream [tokens, hidden] fp32 from each stage's device to the next; the last stage
 * answers the choices exactly as a one-GPU model does. Every stage holds the state slots and
 * latent pages of its own layers under the engine's slot ids and page tables, so the engine
 * sees one backend whose capacity is what every device can hold.
 *
 * <p>With {@link #setMicroBatches} (off by default until measured on several GPUs), a step of
 * at least 2 x {@link #MICRO_BATCH_MIN_TOKENS} tokens runs as micro-batches: stage s computes
 * part i while stage s + 1 computes part i - 1, the residual stream handed over by {@link
 * StageLink}s without stopping the host. Smaller steps (decode) run whole, one stage after
 * another: a decode step reads every weight once whatever its rows, so cutting it would read
 * each stage's weights once per part and gain nothing. Each stage captures its own decode graphs; the copies between stages stay outside
 * them. The same device may be named more than once (its stages then share its context and
 * stream).
 */
public final class PipelineModel implements Backend {
    private final KimiLinearConfig cfg;
    private final List<CudaModel> stages;
    private final StagePlan plan;
    private final int[] devices;
    private final List<StageLink> links = new ArrayList<>();
    private int microBatches;
    private int microBatchMinTokens = MICRO_BATCH_MIN_TOKENS;

    /**
     * Fewest tokens of a micro-batch: below it the expert products of a part re-read weights a
     * whole step would read once, for too few rows to be bound by the matrix rate.
     */
    public static final int MICRO_BATCH_MIN_TOKENS = 2048;

    public static PipelineModel load(Path modelDir, int[] devices, int pageSize, int maxBatchTokens, int maxSeqs,
                                     ActivationPrecision precision, WeightPrecision weights) {
        CudaAvailability.require();
        KimiLinearConfig cfg = KimiLinearConfig.load(modelDir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            return new PipelineModel(ModelWeights.bind(cfg, ckpt), devices, pageSize, maxBatchTokens, maxSeqs,
                    precision, true, weights);
        }
    }

    /**
     * @param devices one device index per stage, stage 0 first; repeats allowed
     * @see CudaModel#CudaModel(CudaContext, ModelWeights, int, int, int, ActivationPrecision, boolean, WeightPrecision)
     */
    public PipelineModel(ModelWeights w, int[] devices, int pageSize, int maxBatchTokens, int maxSeqs,
                         ActivationPrecision precision, boolean prefillAttention, WeightPrecision weightPrecision) {
        this.cfg = w.config();
        if (devices.length < 1 || devices.length > cfg.numLayers()) {
            throw new IllegalArgumentException("devices: " + devices.length + " given; a pipeline takes 1 to "
                    + cfg.numLayers() + " (one layer at least per stage)");
        }
        for (int d : devices) {
            if (d < 0) {
                throw new IllegalArgumentException("devices: index " + d + " is negative");
            }
        }
        this.devices = devices.clone();
        this.plan = StagePlan.of(w, devices.length);
        this.stages = new ArrayList<>();
        try {
            for (int s = 0; s < devices.length; s++) {
                stages.add(new CudaModel(CudaContext.forDevice(devices[s]), w, pageSize, maxBatchTokens, maxSeqs,
                        precision, prefillAttention, weightPrecision, plan.stages().get(s)));
            }
            int rows = Math.max(stages.get(0).maxBatchTokens(), stages.get(0).maxSequences());
            for (int s = 0; s + 1 < stages.size(); s++) {
                enablePeerAccess(stages.get(s).context(), stages.get(s + 1).context());
                links.add(new StageLink(stages.get(s), stages.get(s + 1), rows));
            }
            this.microBatches = 1;
        } catch (RuntimeException e) {
            closeStages(e);
            throw e;
        }
    }

    /** Lets the next stage's copy read this stage's memory directly, where the devices can. */
    private static void enablePeerAccess(CudaContext from, CudaContext to) {
        if (from == to) {
            return;
        }
        int[] can = {0};
        CudaStatus.check(JCudaDriver.cuDeviceCanAccessPeer(can, to.device().handle(), from.device().handle()),
                "cuDeviceCanAccessPeer");
        if (can[0] == 0) {
            return;   // cuMemcpyPeerAsync still works, staged through the host
        }
        to.bind();
        int r = JCudaDriver.cuCtxEnablePeerAccess(from.raw(), 0);
        if (r != CUresult.CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED) {
            CudaStatus.check(r, "cuCtxEnablePeerAccess(cuda:" + to.device().index() + " -> cuda:"
                    + from.device().index() + ")");
        }
    }

    StagePlan plan() {
        return plan;
    }

    List<CudaModel> stages() {
        return stages;
    }

    private CudaModel first() {
        return stages.get(0);
    }

    private CudaModel last() {
        return stages.get(stages.size() - 1);
    }

    @Override
    public KimiLinearConfig config() {
        return cfg;
    }

    @Override
    public String name() {
        return "cuda:" + java.util.Arrays.stream(devices).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Override
    public int pageSize() {
        return first().pageSize();
    }

    /** Every stage's share: a slot of the whole model, as on one GPU. */
    @Override
    public long bytesPerSlot() {
        return stages.stream().mapToLong(CudaModel::bytesPerSlot).sum();
    }

    @Override
    public long bytesPerPage() {
        return stages.stream().mapToLong(CudaModel::bytesPerPage).sum();
    }

    /**
     * A budget in whole-model bytes that fits every device: slots and pages cost each device only
     * its stages' share, so device d's free bytes F_d stretch by r_d = min(slot / slot_d, page /
     * page_d), and the least F_d r_d bounds S slot + P page for every device at once.
     */
    @Override
    public long freeBytes() {
        return freeBytes(perDevice(), bytesPerSlot(), bytesPerPage());
    }

    /** Per device: its stages' bytes per slot and per page, and its free bytes less their scratch slot and page. */
    record DeviceShare(long slotBytes, long pageBytes, long free) {
    }

    List<DeviceShare> perDevice() {
        Map<CudaContext, List<CudaModel>> byDevice = new LinkedHashMap<>();
        for (CudaModel s : stages) {
            byDevice.computeIfAbsent(s.context(), c -> new ArrayList<>()).add(s);
        }
        List<DeviceShare> out = new ArrayList<>();
        byDevice.forEach((ctx, ss) -> {
            long slot = ss.stream().mapToLong(CudaModel::bytesPerSlot).sum();
            long page = ss.stream().mapToLong(CudaModel::bytesPerPage).sum();
            long held = ss.stream().mapToLong(CudaModel::reservedBytes).sum();   // released by the next reserve
            out.add(new DeviceShare(slot, page, ctx.memoryInfo()[0] + held - slot - page));
        });
        return out;
    }

    static long freeBytes(List<DeviceShare> devices, long slotBytes, long pageBytes) {
        double budget = Double.POSITIVE_INFINITY;
        long leastFree = Long.MAX_VALUE;
        for (DeviceShare d : devices) {
            leastFree = Math.min(leastFree, d.free());
            double stretch = Math.min(d.slotBytes() == 0 ? Double.POSITIVE_INFINITY : slotBytes / (double) d.slotBytes(),
                    d.pageBytes() == 0 ? Double.POSITIVE_INFINITY : pageBytes / (double) d.pageBytes());
            if (!Double.isInfinite(stretch)) {   // a device holding no state bounds nothing
                budget = Math.min(budget, Math.max(0, d.free()) * stretch);
            }
        }
        return Double.isInfinite(budget) ? Math.max(0, leastFree) : (long) Math.floor(budget);
    }

    @Override
    public int maxBatchTokens() {
        return first().maxBatchTokens();
    }

    @Override
    public int maxLogitRows() {
        return last().maxLogitRows();
    }

    @Override
    public int maxSequences() {
        return first().maxSequences();
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
        MicroBatchPlan plan = stages.size() == 1 ? MicroBatchPlan.of(batch, choices, 1, 1)
                : MicroBatchPlan.of(batch, choices, microBatches, microBatchMinTokens);
        if (plan.size() > 1) {
            choices.prepareAnswers();
        }
        pipeline(plan, choices, null);
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        pipeline(MicroBatchPlan.of(batch, null, 1, 1), null, logits);
    }

    /**
     * Cuts steps of at least {@code parts} x {@code minTokens} tokens into {@code parts}
     * micro-batches (1, the default: never); one part per stage, of at least
     * {@link #MICRO_BATCH_MIN_TOKENS} tokens, is the form meant for several GPUs.
     */
    public void setMicroBatches(int parts, int minTokens) {
        if (parts < 1 || minTokens < 1) {
            throw new IllegalArgumentException("micro-batches: " + parts + " parts of at least " + minTokens
                    + " tokens; both must be at least 1");
        }
        microBatches = parts;
        microBatchMinTokens = minTokens;
    }

    /**
     * Runs the plan's parts through the stages as a wavefront: in round k stage s takes part
     * k - s, stages in order, so every hand-over is queued after the part it waits for. Only the
     * last stage's answers stop the host, while the earlier stages compute the next parts. Each
     * stage pads a decode batch alike (the same graph decision), so the rows a link carries are
     * the rows the next stage reads.
     */
    private void pipeline(MicroBatchPlan plan, RowChoices choices, float[] logits) {
        int parts = plan.size();
        int[] rows = new int[parts];
        for (int i = 0; i < parts; i++) {
            StepBatch part = plan.batch(i);
            rows[i] = first().runTokens(part);
            for (CudaModel s : stages) {
                if (s.runTokens(part) != rows[i]) {
                    throw new IllegalStateException("pipeline stages disagree on a decode step's padded size ("
                            + rows[i] + " and " + s.runTokens(part) + " rows): decode graphs and sync checks must be"
                            + " set alike on every stage's device");
                }
            }
        }
        int g = stages.size();
        for (int round = 0; round < parts + g - 1; round++) {
            for (int s = 0; s < g; s++) {
                int i = round - s;
                if (i < 0 || i >= parts) {
                    continue;
                }
                CudaModel stage = stages.get(s);
                StepBatch part = plan.batch(i);
                if (s > 0) {
                    links.get(s - 1).receive(rows[i]);
                }
                if (s + 1 < g) {
                    stage.run(part);
                    links.get(s).send(rows[i]);
                } else if (logits != null) {
                    stage.logits(part, logits);
                } else {
                    stage.forward(part, plan.choices(i));
                    plan.answer(i, choices);
                }
            }
        }
    }

    /** See {@link CudaModel#setDecodeGraphs}; set on every stage, so they pad alike. */
    public void setDecodeGraphs(boolean on) {
        stages.forEach(s -> s.setDecodeGraphs(on));
    }

    /** See {@link CudaModel#setProbe}: every stage reports its own layers (by their index in the model). */
    @Override
    public void setProbe(LayerProbe probe) {
        stages.forEach(s -> s.setProbe(probe));
    }

    /** See {@link CudaModel#setChooseOnHost}. */
    public void setChooseOnHost(boolean on) {
        last().setChooseOnHost(on);
    }

    public ActivationPrecision precision() {
        return first().precision();
    }

    /** Bytes of weights on every device together. */
    public long weightBytes() {
        return stages.stream().mapToLong(CudaModel::weightBytes).sum();
    }

    @Override
    public void close() {
        closeStages(null);
    }

    private void closeStages(RuntimeException pending) {
        List<Runnable> closing = new ArrayList<>();
        links.forEach(l -> closing.add(l::close));
        for (int i = stages.size() - 1; i >= 0; i--) {
            closing.add(stages.get(i)::close);
        }
        RuntimeException failure = pending;
        for (Runnable close : closing) {
            try {
                close.run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        links.clear();
        stages.clear();
        if (failure != null && pending == null) {
            throw failure;
        }
    }
}
