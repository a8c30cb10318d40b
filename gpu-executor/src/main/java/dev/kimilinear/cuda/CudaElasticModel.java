package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticModel;
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
import java.util.function.IntConsumer;

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
public final class CudaElasticModel extends ElasticModel<CudaModel, PipelineModel> {
    /** Share of a GPU's free bytes the pooled layout's cache may take (the rest absorbs fragmentation). */
    private static final double FREE_SHARE = 0.9;

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
    private final long replicaWeightBytes;

    /**
     * Loads a replica on each device. The model owns {@code ckpt} from here on (its layouts are
     * built from it) and closes it with itself.
     */
    public static CudaElasticModel open(Checkpoint ckpt, KimiLinearConfig cfg, int[] devices, long cacheBytesPerRank,
                                        int pageSize, int maxBatchTokens, int maxSeqs, ActivationPrecision precision,
                                        WeightPrecision weightPrecision) {
        CudaAvailability.require();
        if (cacheBytesPerRank < 0) {
            throw new IllegalArgumentException("cache bytes per rank must be >= 0 (0: what the GPU has free), got "
                    + cacheBytesPerRank);
        }
        return new CudaElasticModel(ckpt, cfg, devices, cacheBytesPerRank, pageSize, maxBatchTokens, maxSeqs,
                precision, weightPrecision);
    }

    private CudaElasticModel(Checkpoint ckpt, KimiLinearConfig cfg, int[] devices, long cacheBytesPerRank,
                             int pageSize, int maxBatchTokens, int maxSeqs, ActivationPrecision precision,
                             WeightPrecision weightPrecision) {
        super(cfg, devices.length, null);
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
        this.replicaWeightBytes = replicas.get(0).weightBytes();
    }

    private List<CudaModel> buildReplicas() {
        List<CudaModel> out = new ArrayList<>();
        try {
            for (int d : devices) {
                out.add(new CudaModel(CudaContext.forDevice(d), weights, pageSize, maxBatchTokens, maxSeqs, precision,
                        true, weightPrecision));
            }
        } catch (RuntimeException e) {
            out.forEach(CudaModel::close);
            throw e;
        }
        return out;
    }

    @Override
    public String name() {
        return "cuda elastic over devices " + java.util.Arrays.toString(devices) + (pooled != null ? ", pooled" : "");
    }

    /**
     * The room for slots and pages: the pipeline's when pooled; else per rank, its cache bytes
     * (or its GPU's free bytes) within its share of what its GPU has free.
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

    /** Every replica's most sequences: the pipeline a relief builds takes them all in one step. */
    @Override
    public int maxSequences() {
        return pooled != null ? pooled.maxSequences() : ranks * replicas.get(0).maxSequences();
    }

    @Override
    protected int pool(boolean[] slotsHeld, boolean[] pagesHeld) {
        int slots = ranks * replicaSlots;
        int replicated = ranks * replicaPages;
        // what the held slots and pages hold, layer by layer, while the replicas still do
        Map<Integer, Map<Integer, byte[]>> slotState = new HashMap<>();
        Map<Integer, Map<Integer, byte[]>> pageState = new HashMap<>();
        for (int id = 0; id < slots; id++) {
            if (slotsHeld[id]) {
                slotState.put(id, layers(replicas.get(id / replicaSlots), id % replicaSlots, true));
            }
        }
        for (int id = 0; id < replicated; id++) {
            if (pagesHeld[id]) {
                pageState.put(id, layers(replicas.get(id / replicaPages), id % replicaPages, false));
            }
        }
        replicas.forEach(CudaModel::close);
        replicas = null;
        // the pipeline computes every replica's sequences in one step
        PipelineModel pipeline = new PipelineModel(weights, devices, pageSize, maxBatchTokens, ranks * maxSeqs,
                precision, true, weightPrecision);
        int pages = Math.max(replicated, pooledCapacity(pipeline, slots));
        int fits = realCapacity(pipeline, slots);
        if (fits < replicated) {
            pipeline.close();
            throw new IllegalStateException(name() + ": the pipeline's GPUs have room for " + fits
                    + " pages beside its weights, fewer than the " + replicated + " the replicas held");
        }
        pages = Math.min(pages, fits);
        pipeline.reserve(slots, pages);
        for (CudaModel stage : pipeline.stages()) {
            slotState.forEach((id, layers) -> setLayers(stage, id, layers, true));
            pageState.forEach((id, layers) -> setLayers(stage, id, layers, false));
        }
        pooled = pipeline;
        return pages;
    }

    /**
     * Pages the pooled layout's ranks hold beside their stages' weights and every slot's state:
     * each rank's bytes (a replica's weights plus its cache bytes; unbounded where none were set,
     * the GPUs' free bytes then bound it) less its stage's, the least of them.
     */
    private int pooledCapacity(PipelineModel pipeline, int slots) {
        if (cacheBytesPerRank == 0) {
            return Integer.MAX_VALUE / Math.max(1, pageSize);
        }
        long most = Long.MAX_VALUE;
        for (CudaModel stage : pipeline.stages()) {
            if (stage.bytesPerPage() > 0) {
                long left = replicaWeightBytes + cacheBytesPerRank - stage.weightBytes() - slots * stage.bytesPerSlot();
                most = Math.min(most, Math.max(0, left) / stage.bytesPerPage());
            }
        }
        return (int) Math.min(most, Integer.MAX_VALUE / Math.max(1, pageSize));
    }

    /** Pages every GPU has room for beside its stages' weights and every slot (a share of its free bytes). */
    private int realCapacity(PipelineModel pipeline, int slots) {
        long most = Long.MAX_VALUE;
        for (PipelineModel.DeviceShare d : pipeline.perDevice()) {
            if (d.pageBytes() > 0) {
                long room = (long) (d.free() * FREE_SHARE) - (long) slots * d.slotBytes();
                most = Math.min(most, Math.max(0, room) / d.pageBytes());
            }
        }
        return (int) Math.min(most, Integer.MAX_VALUE / Math.max(1, pageSize));
    }

    @Override
    protected void unpool(int[] slotMoves, int[] pageMoves) {
        Map<Integer, Map<Integer, byte[]>> slotState = pooledState(slotMoves, true);
        Map<Integer, Map<Integer, byte[]>> pageState = pooledState(pageMoves, false);
        pooled.close();
        pooled = null;
        List<CudaModel> back = buildReplicas();
        for (CudaModel m : back) {
            m.reserve(replicaSlots, replicaPages);
        }
        slotState.forEach((to, layers) -> setLayers(back.get(to / replicaSlots), to % replicaSlots, layers, true));
        pageState.forEach((to, layers) -> setLayers(back.get(to / replicaPages), to % replicaPages, layers, false));
        replicas = back;
    }

    /** What the pipeline's stages hold of every moved slot (kda) or page, by layer, keyed by where it moves. */
    private Map<Integer, Map<Integer, byte[]>> pooledState(int[] moves, boolean kda) {
        Map<Integer, Map<Integer, byte[]>> out = new HashMap<>();
        for (int id = 0; id < moves.length; id++) {
            if (moves[id] >= 0) {
                Map<Integer, byte[]> layers = new HashMap<>();
                for (CudaModel stage : pooled.stages()) {
                    layers.putAll(layers(stage, id, kda));
                }
                out.put(moves[id], layers);
            }
        }
        return out;
    }

    /** What {@code m} holds of a slot (kda: every KDA layer's state) or a page (every MLA layer's latent rows), by layer. */
    private Map<Integer, byte[]> layers(CudaModel m, int id, boolean kda) {
        Map<Integer, byte[]> out = new HashMap<>();
        LayerRange r = m.range();
        for (int l = r.from(); l < r.to(); l++) {
            if (cfg.isKda(l) == kda) {
                out.put(l, kda ? m.slotState(l, id) : m.pageState(l, id));
            }
        }
        return out;
    }

    /** Sets what {@link #layers} read into the layers {@code m} holds. */
    private static void setLayers(CudaModel m, int id, Map<Integer, byte[]> layers, boolean kda) {
        layers.forEach((l, bytes) -> {
            if (m.range().contains(l)) {
                if (kda) {
                    m.setSlotState(l, id, bytes);
                } else {
                    m.setPageState(l, id, bytes);
                }
            }
        });
    }

    /** Parts at once where the replicas' GPUs differ (each thread binds its replica's context), else in turn. */
    @Override
    protected void runParts(int n, IntConsumer work) {
        if (parallel == null || n < 2) {
            super.runParts(n, work);
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
        super.close();
        ckpt.close();
    }
}
