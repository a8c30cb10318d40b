package dev.kimilinear.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/** A stream of queued device work. */
public final class CudaStream {
    private final CUstream stream = new CUstream();
    private final CudaContext ctx;

    CudaStream(CudaContext ctx) {
        this.ctx = ctx;
        CudaStatus.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
    }

    /** Waits for the queued work; a wait past {@link StallWatch}'s limit is reported with the last launches. */
    public void synchronize() {
        StallWatch.run("cuda:" + ctx.device().index(), ctx.launchLog(), "cuStreamSynchronize",
                () -> CudaStatus.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize"));
    }

    CUstream raw() {
        return stream;
    }
}
