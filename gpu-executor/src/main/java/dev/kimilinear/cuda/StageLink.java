package dev.kimilinear.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * The hand-over of the residual stream from one pipeline stage to the next without stopping
 * the host: the sender copies its rows into one of two inboxes on the receiver's device (queued
 * on the sender's stream, after its kernels) and records an event; the receiver's stream waits
 * for that event, moves the rows into its own residual stream and records that the inbox is
 * free. The sender waits for that before it fills the same inbox again, two parts later, so
 * a stage computes the next micro-batch while the next stage still reads the last one.
 */
final class StageLink implements AutoCloseable {
    private final CudaModel from;
    private final CudaModel to;
    private final DeviceBuffer[] inbox = new DeviceBuffer[2];
    private final CUevent[] filled = new CUevent[2];
    private final CUevent[] emptied = new CUevent[2];
    private final long capacity;
    private int sent;
    private int received;

    /** @param rows the most rows of the residual stream a step moves */
    StageLink(CudaModel from, CudaModel to, int rows) {
        this.from = from;
        this.to = to;
        this.capacity = (long) rows * from.hidden().pitchBytes();
        try {
            for (int i = 0; i < 2; i++) {
                inbox[i] = DeviceBuffer.allocate(to.context(), capacity);
                filled[i] = event(from.context());
                emptied[i] = event(to.context());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static CUevent event(CudaContext ctx) {
        ctx.bind();
        CUevent e = new CUevent();
        CudaStatus.check(JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        return e;
    }

    /** Queues the copy of the sender's first {@code rows} rows into the next inbox (sender's stream). */
    void send(int rows) {
        long bytes = bytes(rows);
        int i = sent++ & 1;
        CudaContext a = from.context();
        CudaContext b = to.context();
        a.bind();
        CudaStatus.check(waitOn(a, emptied[i]), "cuStreamWaitEvent(inbox free)");
        CudaModel.Hidden src = from.hidden();
        if (a == b) {
            CudaStatus.check(JCudaDriver.cuMemcpyDtoDAsync(inbox[i].ptr(), src.ptr(), bytes, a.rawStream()),
                    "cuMemcpyDtoDAsync(hidden states)");
        } else {
            CudaStatus.check(JCudaDriver.cuMemcpyPeerAsync(inbox[i].ptr(), b.raw(), src.ptr(), a.raw(), bytes,
                    a.rawStream()), "cuMemcpyPeerAsync(hidden states, cuda:" + a.device().index() + " -> cuda:"
                    + b.device().index() + ")");
        }
        CudaStatus.check(JCudaDriver.cuEventRecord(filled[i], a.rawStream()), "cuEventRecord(inbox filled)");
    }

    /** Queues, on the receiver's stream, the wait for the oldest inbox sent and the move of its rows into the receiver. */
    void receive(int rows) {
        long bytes = bytes(rows);
        int i = received++ & 1;
        if (received > sent) {
            throw new IllegalStateException("stage link: a receive with nothing sent");
        }
        CudaContext b = to.context();
        b.bind();
        CudaStatus.check(waitOn(b, filled[i]), "cuStreamWaitEvent(inbox filled)");
        CudaStatus.check(JCudaDriver.cuMemcpyDtoDAsync(to.hidden().ptr(), inbox[i].ptr(), bytes, b.rawStream()),
                "cuMemcpyDtoDAsync(inbox to residual stream)");
        CudaStatus.check(JCudaDriver.cuEventRecord(emptied[i], b.rawStream()), "cuEventRecord(inbox free)");
    }

    private long bytes(int rows) {
        long bytes = (long) rows * from.hidden().pitchBytes();
        if (bytes > capacity) {
            throw new IllegalArgumentException(rows + " rows of the residual stream; the link holds "
                    + capacity / from.hidden().pitchBytes());
        }
        return bytes;
    }

    @Override
    public void close() {
        for (int i = 0; i < 2; i++) {
            if (inbox[i] != null) {
                inbox[i].close();
            }
            destroy(from.context(), filled[i]);
            destroy(to.context(), emptied[i]);
        }
    }

    private static void destroy(CudaContext ctx, CUevent e) {
        if (e != null) {
            ctx.bind();
            JCudaDriver.cuEventDestroy(e);
        }
    }

    /** The context's stream waits for the event's last record (none yet: no wait), on any device. */
    private static int waitOn(CudaContext ctx, CUevent e) {
        return JCudaDriver.cuStreamWaitEvent(ctx.rawStream(), e, 0);
    }
}
