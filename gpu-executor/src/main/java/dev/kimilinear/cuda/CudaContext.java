package dev.kimilinear.cuda;

import jcuda.driver.CUcontext;
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
    }

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

    CUstream rawStream() {
        return stream.raw();
    }

    CUcontext raw() {
        return context;
    }
}
