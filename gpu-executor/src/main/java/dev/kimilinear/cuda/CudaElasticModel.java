package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticBackend;
import dev.kimilinear.engine.ReplicaParts;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.LayerRange;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.WeightPrecision;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * KunServe-style memory relief on GPUs ({@link ElasticBackend}): one rank per device index
 * given (an index may repeat: ranks then share that GPU), serving as data-parallel replicas,
 * each a whole {@link CudaModel}; {@linkplain #relieve pooled}, one {@link PipelineModel} over the
 * same devices, each holding one stage's layers, with the cache grown by the bytes the other
 * layers' copies held. Every held slot and page keeps its id and contents across both moves.
 *
 * <p>The state crosses through host memory: the layout it leaves is freed before the one it
 * enters is built (the GPU has no room for both), and the entering layout loads its weights
 * from the checkpoint this model keeps open. Each rank may use {@code cacheBytesPerRank} for
 * slots and pages beside a whole model's weights (0: what its GPU has free), the pooled layout
 * the same rank bytes less its stage's weights, within what each GPU has free. Replicas on
 * different GPUs compute their parts of a step at once; on one GPU, one after another.
 */
public final class CudaElasticModel implements ElasticBackend {
    /** Share of a GPU's free bytes the pooled layout's cache may take (the rest absorbs fragmentation). */
    private static final double FREE_SHARE = 0.9;

    private final KimiLinearConfig cfg;
    private final Checkpoint ckpt;
    private final ModelWeights weights;
    private final int[] devices;
    private final long cacheBytesPerRank;
    private final int pageSize;
    private final int maxBatchTokens;
    private final int maxSeqs;
    private final ActivationPrecision precision;
    private final WeightPrecision weightPrecision;
    private final ExecutorService parallel;

    private CudaModel[] replicas;
    private PipelineModel pooled;
    private long replicaWeightBytes;
    private int replicaSlots;
    private int replicaPages;
    private int pooledPages;
    private boolean reliefAllowed = true;

    /**
     * Loads a replica on each device. The model owns {@code ckpt} from here on (its layouts are
     * built from it) and closes it with itself.
     */
    public static CudaElasticModel open(Checkpoint ckpt, KimiLinearConfig cfg, int[] devices, long cacheBytesPerRank,
                                        int pageSize, int maxBatchTokens, int maxSeqs, ActivationPrecision precision,
                                        WeightPrecision weightPrecision) {
        CudaAvailability.require();
        return new CudaElasticModel(ckpt, cfg, devices, cacheBytesPerRank, pageSize, maxBatchTokens, maxSeqs,
                precision, weightPrecision);
    }

    private CudaElasticModel(Checkpoint ckpt, KimiLinearConfig cfg, int[] devices, long cacheBytesPerRank,
                             int pageSize, int maxBatchTokens, int maxSeqs, ActivationPrecision precision,
                             WeightPrecision weightPrecision) {
        if (devices.length < 2 || devices.length > cfg.numLayers()) {
            throw new IllegalArgumentException("elastic model over " + devices.length + " ranks: expected 2 to "
                    + cfg.numLayers() + " (a stage holds a layer at least)");
        }
        if (cacheBytesPerRank < 0) {
            throw new IllegalArgumentException("cache bytes per rank must be >= 0 (0: what the GPU has free), got "
                    + cacheBytesPerRank);
        }
        this.cfg = cfg;
        this.ckpt = ckpt;
        this.weights = ModelWeights.bind(cfg, ckpt);
        this.devices = devices.clone();
        this.cacheBytesPerRank = cacheBytesPerRank;
        this.pageSize = pageSize;
        this.maxBatchTokens = maxBatchTokens;
        this.maxSeqs = maxSeqs;
        this.precision = precision;
        this.weightPrecision = weightPrecision;
        Set<Integer> distinct = new HashSet<>();
        for (int d : devices) {
            distinct.add(d);
        }
        // one thread per replica only where no two share a GPU (a shared stream would interleave them)
        this.parallel = distinct.size() == devices.length ? Executors.newFixedThreadPool(devices.length, r -> {
            Thread t = new Thread(r, "kimi-replica");
            t.setDaemon(true);
            return t;
        }) : null;
        this.replicas = buildReplicas();
        this.replicaWeightBytes = replicas[0].weightBytes();
    }

    private CudaModel[] buildReplicas() {
        CudaModel[] out = new CudaModel[devices.length];
        try {
            for (int r = 0; r < devices.length; r++) {
                out[r] = new CudaModel(CudaContext.forDevice(devices[r]), weights, pageSize, maxBatchTokens, maxSeqs,
                        precision, true, weightPrecision);
            }
        } catch (RuntimeException e) {
            for (CudaModel m : out) {
                if (m != null) {
                    m.close();
                }
            }
            throw e;
        }
        return out;
    }

    /** Whether {@link #relieve} may pool the replicas (on by default); off, the engine preempts as over plain replicas. */
    public void setReliefAllowed(boolean allowed) {
        reliefAllowed = allowed;
    }

    @Override
    public boolean reliefAllowed() {
        return reliefAllowed;
    }

    @Override
    public KimiLinearConfig config() {
        return cfg;
    }

    @Override
    public String name() {
        return "cuda elastic over devices " + java.util.Arrays.toString(devices) + (pooled != null ? ", pooled" : "");
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public long bytesPerSlot() {
        return first().bytesPerSlot();
    }

    @Override
    public long bytesPerPage() {
        return first().bytesPerPage();
    }

    private dev.kimilinear.engine.Backend first() {
        return pooled != null ? pooled : replicas[0];
    }

    /**
     * The replicas' room for slots and pages: per rank, its cache bytes (or its GPU's free bytes),
     * within what each GPU has free for the ranks it holds.
     */
    @Override
    public long freeBytes() {
        if (pooled != null) {
            return pooled.freeBytes();
        }
        Map<CudaContext, Integer> ranksOn = new HashMap<>();
        Map<CudaContext, Long> freeOn = new HashMap<>();
        for (CudaModel m : replicas) {
            ranksOn.merge(m.context(), 1, Integer::sum);
            freeOn.merge(m.context(), m.freeBytes(), (a, b) -> a);   // the GPU's, counted once
        }
        long total = 0;
        for (CudaModel m : replicas) {
            long share = freeOn.get(m.context()) / ranksOn.get(m.context());
            total += cacheBytesPerRank > 0 ? Math.min(cacheBytesPerRank, share) : share;
        }
        return total;
    }

    @Override
    public int maxBatchTokens() {
        return first().maxBatchTokens();
    }

    @Override
    public int maxLogitRows() {
        return first().maxLogitRows();
    }

    @Override
    public int maxSequences() {
        return first().maxSequences();
    }

    @Override
    public void reserve(int slots, int pages) {
        int g = devices.length;
        if (slots < g || pages < g) {
            throw new IllegalArgumentException(slots + " slots and " + pages + " pages cannot be shared by " + g
                    + " replicas (one of each at least)");
        }
        if (pooled != null) {
            throw new IllegalStateException(name() + ": reserve comes before any relief");
        }
        replicaSlots = slots / g;
        replicaPages = pages / g;
        for (CudaModel m : replicas) {
            m.reserve(replicaSlots, replicaPages);
        }
    }

    @Override
    public int replicas() {
        return devices.length;
    }

    @Override
    public int replicaSlots() {
        return replicaSlots;
    }

    @Override
    public int replicaPages() {
        return replicaPages;
    }

    @Override
    public int groups() {
        return pooled != null ? 1 : devices.length;
    }

    @Override
    public int slotsPerGroup() {
        return pooled != null ? devices.length * replicaSlots : replicaSlots;
    }

    @Override
    public int pagesPerGroup() {
        return pooled != null ? pooledPages : replicaPages;
    }

    // ------------------------------------------------------------------ relief and restore

    @Override
    public int relieve(boolean[] slotsHeld, boolean[] pagesHeld) {
        if (pooled != null || !reliefAllowed) {
            return -1;
        }
        int g = devices.length;
        int slots = g * replicaSlots;
        int replicated = g * replicaPages;
        // what the held slots and pages hold, layer by layer, while the replicas still do
        Map<Integer, Map<Integer, byte[]>> slotState = new HashMap<>();
        Map<Integer, Map<Integer, byte[]>> pageState = new HashMap<>();
        for (int id = 0; id < slots; id++) {
            if (slotsHeld[id]) {
                slotState.put(id, slotLayers(replicas[id / replicaSlots], id % replicaSlots));
            }
        }
        for (int id = 0; id < replicated; id++) {
            if (pagesHeld[id]) {
                pageState.put(id, pageLayers(replicas[id / replicaPages], id % replicaPages));
            }
        }
        long rankWeights = replicaWeightBytes;
        for (CudaModel m : replicas) {
            m.close();
        }
        replicas = null;
        pooled = new PipelineModel(weights, devices, pageSize, maxBatchTokens, maxSeqs, precision, true,
                weightPrecision);
        pooledPages = Math.max(replicated, pooledCapacity(slots, rankWeights));
        int fits = realCapacity(slots);
        if (fits < replicated) {
            throw new IllegalStateException(name() + ": the pipeline's GPUs have room for " + fits
                    + " pages beside its weights, fewer than the " + replicated + " the replicas held");
        }
        pooledPages = Math.min(pooledPages, fits);
        pooled.reserve(slots, pooledPages);
        for (Map.Entry<Integer, Map<Integer, byte[]>> e : slotState.entrySet()) {
            for (CudaModel stage : pooled.stages()) {
                setSlotLayers(stage, e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<Integer, Map<Integer, byte[]>> e : pageState.entrySet()) {
            for (CudaModel stage : pooled.stages()) {
                setPageLayers(stage, e.getKey(), e.getValue());
            }
        }
        return pooledPages;
    }

    /**
     * Pages the pooled layout's ranks hold beside their stages' weights and every slot's state:
     * each rank's bytes (a replica's weights plus its cache bytes; unbounded where none were set,
     * the GPUs' free bytes then bound it) less its stage's, the least of them.
     */
    private int pooledCapacity(int slots, long rankWeights) {
        if (cacheBytesPerRank == 0) {
            return Integer.MAX_VALUE / Math.max(1, pageSize);
        }
        long most = Long.MAX_VALUE;
        for (CudaModel stage : pooled.stages()) {
            if (stage.bytesPerPage() > 0) {
                long left = rankWeights + cacheBytesPerRank - stage.weightBytes() - slots * stage.bytesPerSlot();
                most = Math.min(most, Math.max(0, left) / stage.bytesPerPage());
            }
        }
        return (int) Math.min(most, Integer.MAX_VALUE / Math.max(1, pageSize));
    }

    /** Pages every GPU has room for beside its stages' weights and every slot (a share of its free bytes). */
    private int realCapacity(int slots) {
        long most = Long.MAX_VALUE;
        for (PipelineModel.DeviceShare d : pooled.perDevice()) {
            if (d.pageBytes() == 0) {
                continue;
            }
            long room = (long) (d.free() * FREE_SHARE) - (long) slots * d.slotBytes();
            most = Math.min(most, Math.max(0, room) / d.pageBytes());
        }
        return (int) Math.min(most, Integer.MAX_VALUE / Math.max(1, pageSize));
    }

    @Override
    public void restore(int[] slotMoves, int[] pageMoves) {
        if (pooled == null) {
            throw new IllegalStateException(name() + ": restore needs the pooled layout");
        }
        int g = devices.length;
        Map<Integer, Map<Integer, byte[]>> slotState = new HashMap<>();
        Map<Integer, Map<Integer, byte[]>> pageState = new HashMap<>();
        for (int id = 0; id < slotMoves.length; id++) {
            if (slotMoves[id] >= 0) {
                Map<Integer, byte[]> layers = new HashMap<>();
                for (CudaModel stage : pooled.stages()) {
                    layers.putAll(slotLayers(stage, id));
                }
                slotState.put(check(slotMoves[id], g * replicaSlots, "slot"), layers);
            }
        }
        for (int id = 0; id < pageMoves.length; id++) {
            if (pageMoves[id] >= 0) {
                Map<Integer, byte[]> layers = new HashMap<>();
                for (CudaModel stage : pooled.stages()) {
                    layers.putAll(pageLayers(stage, id));
                }
                pageState.put(check(pageMoves[id], g * replicaPages, "page"), layers);
            }
        }
        pooled.close();
        pooled = null;
        replicas = buildReplicas();
        for (CudaModel m : replicas) {
            m.reserve(replicaSlots, replicaPages);
        }
        slotState.forEach((to, layers) -> setSlotLayers(replicas[to / replicaSlots], to % replicaSlots, layers));
        pageState.forEach((to, layers) -> setPageLayers(replicas[to / replicaPages], to % replicaPages, layers));
    }

    private static int check(int id, int capacity, String what) {
        if (id >= capacity) {
            throw new IllegalArgumentException(what + " " + id + " outside the replicas' " + capacity);
        }
        return id;
    }

    /** The KDA state of every layer {@code m} holds in a slot, by layer. */
    private Map<Integer, byte[]> slotLayers(CudaModel m, int slot) {
        Map<Integer, byte[]> out = new HashMap<>();
        LayerRange r = m.range();
        for (int l = r.from(); l < r.to(); l++) {
            if (cfg.isKda(l)) {
                out.put(l, m.slotState(l, slot));
            }
        }
        return out;
    }

    private Map<Integer, byte[]> pageLayers(CudaModel m, int page) {
        Map<Integer, byte[]> out = new HashMap<>();
        LayerRange r = m.range();
        for (int l = r.from(); l < r.to(); l++) {
            if (!cfg.isKda(l)) {
                out.put(l, m.pageState(l, page));
            }
        }
        return out;
    }

    private void setSlotLayers(CudaModel m, int slot, Map<Integer, byte[]> layers) {
        layers.forEach((l, bytes) -> {
            if (m.range().contains(l)) {
                m.setSlotState(l, slot, bytes);
            }
        });
    }

    private void setPageLayers(CudaModel m, int page, Map<Integer, byte[]> layers) {
        layers.forEach((l, bytes) -> {
            if (m.range().contains(l)) {
                m.setPageState(l, page, bytes);
            }
        });
    }

    // ------------------------------------------------------------------ state and forwards

    @Override
    public void resetSlot(int slot) {
        if (pooled != null) {
            pooled.resetSlot(slot);
        } else {
            replicas[slot / replicaSlots].resetSlot(slot % replicaSlots);
        }
    }

    @Override
    public void copySlot(int from, int to) {
        if (pooled != null) {
            pooled.copySlot(from, to);
        } else {
            sameReplica(from, to, replicaSlots, "slot").copySlot(from % replicaSlots, to % replicaSlots);
        }
    }

    @Override
    public void copyPage(int from, int to) {
        if (pooled != null) {
            pooled.copyPage(from, to);
        } else {
            sameReplica(from, to, replicaPages, "page").copyPage(from % replicaPages, to % replicaPages);
        }
    }

    private CudaModel sameReplica(int a, int b, int per, String what) {
        if (a / per != b / per) {
            throw new IllegalArgumentException(what + "s " + a + " and " + b + " belong to different replicas");
        }
        return replicas[a / per];
    }

    @Override
    public void forward(StepBatch batch, RowChoices choices) {
        if (pooled != null) {
            pooled.forward(batch, choices);
            return;
        }
        choices.prepareAnswers();
        List<ReplicaParts.Part> parts = ReplicaParts.of(batch, choices, devices.length, replicaSlots, replicaPages);
        runParts(parts.size(), i -> replicas[parts.get(i).replica()].forward(parts.get(i).batch(),
                parts.get(i).choices()));
        for (ReplicaParts.Part p : parts) {
            p.answer(choices);
        }
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        if (pooled != null) {
            pooled.logits(batch, logits);
            return;
        }
        int vocab = cfg.vocabSize();
        List<ReplicaParts.Part> parts = ReplicaParts.of(batch, null, devices.length, replicaSlots, replicaPages);
        float[][] rows = new float[parts.size()][];
        runParts(parts.size(), i -> {
            ReplicaParts.Part p = parts.get(i);
            rows[i] = new float[p.rowOrigin().length * vocab];
            replicas[p.replica()].logits(p.batch(), rows[i]);
        });
        for (int i = 0; i < parts.size(); i++) {
            parts.get(i).placeRows(rows[i], logits, vocab);
        }
    }

    /** Parts 0 .. n-1 each on its replica: at once where the replicas' GPUs differ, else in turn. */
    private void runParts(int n, java.util.function.IntConsumer work) {
        if (parallel == null || n < 2) {
            for (int i = 0; i < n; i++) {
                work.accept(i);
            }
            return;
        }
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int part = i;
            running.add(parallel.submit(() -> work.accept(part)));
        }
        RuntimeException failure = null;
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (failure == null) {
                    failure = c instanceof RuntimeException re ? re : new CudaException("replica forward failed: " + c);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = new CudaException("interrupted while the replicas computed");
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        if (parallel != null) {
            parallel.shutdownNow();
        }
        if (replicas != null) {
            for (CudaModel m : replicas) {
                m.close();
            }
            replicas = null;
        }
        if (pooled != null) {
            pooled.close();
            pooled = null;
        }
        ckpt.close();
    }
}
