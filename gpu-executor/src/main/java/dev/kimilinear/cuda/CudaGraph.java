package dev.kimilinear.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * A sequence of launches recorded once from the context's stream and replayed as one graph
 * launch: the host pays one launch instead of one per kernel. The recorded launches keep the
 * arguments they were given, so whatever changes between replays must live in device memory.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaContext ctx;
    private final String what;
    private final CUgraph graph = new CUgraph();
    private final CUgraphExec exec = new CUgraphExec();
    private boolean open = true;

    private CudaGraph(CudaContext ctx, String what) {
        this.ctx = ctx;
        this.what = what;
    }

    /**
     * Records {@code body}'s launches (nothing runs) and instantiates them. The body must only
     * queue work on the context's stream: no synchronisation, no copies to or from the host.
     * The context's sync check is off while recording.
     */
    public static CudaGraph capture(CudaContext ctx, String what, Runnable body) {
        ctx.bind();
        CudaGraph g = new CudaGraph(ctx, what);
        boolean sync = ctx.syncCheck();
        ctx.setSyncCheck(false);
        CudaStatus.check(JCudaDriver.cuStreamBeginCapture(ctx.rawStream(),
                CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture(" + what + ")");
        RuntimeException failure = null;
        ctx.setCapturing(true);
        try {
            body.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            ctx.setCapturing(false);
            ctx.setSyncCheck(sync);
            int rc = JCudaDriver.cuStreamEndCapture(ctx.rawStream(), g.graph);
            if (failure == null && rc != 0) {
                failure = new CudaException("cuStreamEndCapture(" + what + ") failed: "
                        + jcuda.driver.CUresult.stringFor(rc));
            }
        }
        if (failure != null) {
            JCudaDriver.cuGraphDestroy(g.graph);
            throw failure;
        }
        int rc = JCudaDriver.cuGraphInstantiate(g.exec, g.graph, 0);
        if (rc != 0) {
            JCudaDriver.cuGraphDestroy(g.graph);
            throw new CudaException("cuGraphInstantiate(" + what + ") failed: " + jcuda.driver.CUresult.stringFor(rc));
        }
        return g;
    }

    /** Queues one replay on the context's stream. */
    public void launch() {
        if (!open) {
            throw new IllegalStateException("graph already closed");
        }
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuGraphLaunch(exec, ctx.rawStream()), "cuGraphLaunch");
        ctx.launchLog().add("graph", what);
        if (ctx.syncCheck()) {
            ctx.synchronize();
        }
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            ctx.bind();
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(graph);
        }
    }
}
