package dev.kimilinear.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * The one context of a device (its primary context), with the kernel module loaded once and
 * the stream everything is queued on. Shared by every user of the device in this JVM.
 */
public final class CudaContext {
    private static final Map<Integer, CudaContext> BY_DEVICE = new HashMap<>();

    private final CudaDevice device;
    private final CUcontext context;
    private final CudaStream stream;
    private final KernelModule module;
    private volatile boolean syncCheck = Boolean.getBoolean("kimi.cuda.syncCheck");
    private volatile KernelProfile profile;
    private DeviceBuffer gemmScratch;
    /** Two tensor maps per block of a Hopper product (one block per multiprocessor), built by the blocks. */
    private final DeviceBuffer tensorMaps;
    private volatile boolean tensorCopies = Boolean.getBoolean("kimi.cuda.tmaLoads");
    private final LaunchLog launchLog = new LaunchLog();
    private volatile boolean capturing;

    private CudaContext(CudaDevice device) {
        this.device = device;
        this.context = new CUcontext();
        CudaStatus.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device.handle()),
                "cuDevicePrimaryCtxRetain(" + device.index() + ")");
        bind();
        this.stream = new CudaStream(this);
        this.module = KernelModule.load(this);
        this.tensorMaps = DeviceBuffer.allocate(this, (long) TENSOR_MAP_BYTES_PER_BLOCK * device.multiprocessors());
    }

    /** Bytes of tensor maps one block of a Hopper product builds (two maps of 128 bytes). */
    static final int TENSOR_MAP_BYTES_PER_BLOCK = 256;

    /** The context of device {@code index}, created on first use. */
    public static synchronized CudaContext forDevice(int index) {
        return BY_DEVICE.computeIfAbsent(index, i -> new CudaContext(CudaDevice.open(i)));
    }

    /** Makes this context current on the calling thread (cheap; every entry point calls it). */
    public void bind() {
        CudaStatus.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(cuda:" + device.index() + ")");
    }

    public CudaDevice device() {
        return device;
    }

    public CudaStream stream() {
        return stream;
    }

    public KernelModule module() {
        return module;
    }

    /**
     * When on, every launch waits for its kernel and checks the result, so an asynchronous
     * fault names the kernel that caused it (tests turn it on; off for speed).
     */
    public void setSyncCheck(boolean on) {
        syncCheck = on;
    }

    public boolean syncCheck() {
        return syncCheck;
    }

    /** Times every launch into {@code p} from now on (null: stop). Not while a graph is being captured. */
    public void setProfile(KernelProfile p) {
        profile = p;
    }

    KernelProfile profile() {
        return profile;
    }

    /** The last launches queued on this context's stream (not those a graph records: they run as its replays). */
    LaunchLog launchLog() {
        return launchLog;
    }

    /** Whether a {@link CudaGraph} is recording this context's stream (launches then queue nothing). */
    boolean capturing() {
        return capturing;
    }

    void setCapturing(boolean on) {
        capturing = on;
    }

    public void synchronize() {
        bind();
        stream.synchronize();
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        bind();
        long[] free = {0};
        long[] total = {0};
        CudaStatus.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    /**
     * The scratch of the K-split products ({@link GemmKernel#SPLIT_K_SCRATCH_BYTES}), allocated on
     * the first call: models call it as they load, before any graph records a product that uses
     * it. Every user of the context queues on its one stream, so one scratch serves them all.
     */
    public synchronized DeviceBuffer gemmScratch() {
        if (gemmScratch == null) {
            gemmScratch = DeviceBuffer.allocate(this, GemmKernel.SPLIT_K_SCRATCH_BYTES);
        }
        return gemmScratch;
    }

    /** The K-split scratch if a model has asked for it, else null (the products then run unsplit). */
    synchronized DeviceBuffer gemmScratchIfAny() {
        return gemmScratch;
    }

    /**
     * Whether the Hopper products load their stages by tensor copies (TMA, through maps each block
     * builds on the device) instead of 16-byte cp.async by a warpgroup. The sums are the same bit
     * for bit either way. Off by default ({@code -Dkimi.cuda.tmaLoads=true} turns it on) until
     * measured faster.
     */
    public void setTensorCopies(boolean on) {
        tensorCopies = on;
    }

    public boolean tensorCopies() {
        return tensorCopies;
    }

    /** Runs {@code work} with tensor copies on or off, then puts the setting back. */
    public void withTensorCopies(boolean on, Runnable work) {
        boolean was = tensorCopies;
        tensorCopies = on;
        try {
            work.run();
        } finally {
            tensorCopies = was;
        }
    }

    /** The address a kernel reads as "no tensor maps": it then loads by cp.async. */
    static final CUdeviceptr NO_TENSOR_MAPS = new CUdeviceptr();

    /**
     * Where a Hopper product of {@code grid} blocks builds its tensor maps, or a null address (the
     * kernel then loads by cp.async) where tensor copies are off or the grid has more blocks
     * than maps were set aside for.
     */
    CUdeviceptr tensorMapsFor(int grid) {
        return tensorCopies && grid <= device.multiprocessors() ? tensorMaps.ptr() : NO_TENSOR_MAPS;
    }

    /** The maps' room itself, whether or not the products use it (the tensor-copy probe's). */
    CUdeviceptr tensorMapRoom() {
        return tensorMaps.ptr();
    }

    CUstream rawStream() {
        return stream.raw();
    }

    CUcontext raw() {
        return context;
    }
}
