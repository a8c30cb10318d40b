package dev.kimilinear.cuda;

import dev.kimilinear.engine.RowChoices;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Next-token choice from logits rows on the GPU (sampling.cu). */
public final class SamplingKernel {
    /** Bytes of one packed choice (sampling.cu's struct Choice). */
    static final int CHOICE_BYTES = 40;
    /** Threads of a choose_tokens block (sampling.cu's CHOOSE_THREADS). */
    private static final int CHOOSE_THREADS = 512;

    private SamplingKernel() {
    }

    /** out[r] = argmax of logits row r (lowest index on ties). */
    public static void argmax(CudaContext ctx, CUdeviceptr logits, long ldl, int rows, int vocab, CUdeviceptr out) {
        Launch.run(ctx, "argmax_rows", "rows=" + rows + " vocab=" + vocab, rows, 1, 1, 1024, 0, logits, ldl, vocab, out);
    }

    /**
     * Device and host room for one step's choices and answers; grows (rarely, between steps)
     * when a step asks for more choices or alternatives than it holds.
     */
    public static final class Room implements AutoCloseable {
        private final CudaContext ctx;
        private DeviceBuffer params;
        private DeviceBuffer answers;
        private ByteBuffer hostParams;
        private ByteBuffer hostAnswers;
        private int capacity;
        private int topCapacity;

        public Room(CudaContext ctx) {
            this.ctx = ctx;
        }

        void ensure(int choices, int top) {
            if (choices <= capacity && top <= topCapacity) {
                return;
            }
            close();
            capacity = Math.max(choices, Math.max(capacity, 256));
            topCapacity = Math.max(top, topCapacity);
            params = DeviceBuffer.allocate(ctx, (long) CHOICE_BYTES * capacity);
            answers = DeviceBuffer.allocate(ctx, answerBytes(capacity, topCapacity));
            hostParams = ByteBuffer.allocateDirect(CHOICE_BYTES * capacity).order(ByteOrder.nativeOrder());
            hostAnswers = ByteBuffer.allocateDirect((int) answerBytes(capacity, topCapacity))
                    .order(ByteOrder.nativeOrder());
        }

        @Override
        public void close() {
            if (params != null) {
                params.close();
                answers.close();
                params = null;
                answers = null;
            }
        }
    }

    /** Answers layout for c choices of t alternatives: tokens int[c], logprobs double[c], ids int[c*t], double[c*t]. */
    private static long answerBytes(int c, int t) {
        return offTopLogprobs(c, t) + 8L * c * t;
    }

    private static long offLogprobs(int c) {
        return align8(4L * c);
    }

    private static long offTopIds(int c) {
        return offLogprobs(c) + 8L * c;
    }

    private static long offTopLogprobs(int c, int t) {
        return align8(offTopIds(c) + 4L * c * t);
    }

    private static long align8(long v) {
        return (v + 7) & ~7L;
    }

    /** Copies the choices' parameters to the device; before the step whose logits they read, while the stream is idle. */
    public static void stage(CudaContext ctx, RowChoices choices, Room room) {
        int c = choices.count();
        if (c == 0) {
            return;
        }
        room.ensure(c, Math.max(1, choices.maxTop()));
        ByteBuffer p = room.hostParams;
        p.clear();
        for (int i = 0; i < c; i++) {
            p.putLong(choices.streamKey(i));
            p.putDouble(choices.temperature(i));
            p.putDouble(choices.topP(i));
            p.putInt(choices.row(i));
            p.putInt(choices.topK(i));
            p.putInt(choices.logprobs(i));
            p.putInt(choices.target(i));
        }
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemcpyHtoDAsync(room.params.ptr(), Pointer.to(p), (long) CHOICE_BYTES * c,
                ctx.rawStream()), "cuMemcpyHtoDAsync(choices)");
    }

    /**
     * Answers every choice {@link #stage staged} from the rows of {@code logits} ([rows, ldl]
     * fp32, {@code vocab} wide) as TokenChooser defines it, and copies the answers back: the
     * step's one synchronisation. Queued on the context's stream after whatever wrote the logits.
     */
    public static void choose(CudaContext ctx, CUdeviceptr logits, long ldl, int vocab, RowChoices choices, Room room) {
        int c = choices.count();
        if (c == 0) {
            return;
        }
        int top = Math.max(1, choices.maxTop());
        if (c > room.capacity || top > room.topCapacity) {
            throw new IllegalStateException("choose: " + c + " choices were not staged");
        }
        CUdeviceptr a = room.answers.ptr();
        CUdeviceptr tokens = a;
        CUdeviceptr logprobs = a.withByteOffset(offLogprobs(c));
        CUdeviceptr topIds = a.withByteOffset(offTopIds(c));
        CUdeviceptr topLogprobs = a.withByteOffset(offTopLogprobs(c, top));
        Launch.run(ctx, "choose_tokens", "choices=" + c + " vocab=" + vocab, c, 1, 1, CHOOSE_THREADS, 0, logits, ldl, vocab,
                choices.sampleVocab(), room.params.ptr(), top, tokens, logprobs, topIds, topLogprobs);
        long bytes = choices.maxTop() == 0 ? offTopIds(c) : answerBytes(c, top);
        ByteBuffer h = room.hostAnswers;
        CudaStatus.check(JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(h), a, bytes, ctx.rawStream()),
                "cuMemcpyDtoHAsync(choices' answers)");
        ctx.stream().synchronize();
        choices.prepareAnswers();
        int oLogprobs = (int) offLogprobs(c);
        int oTopIds = (int) offTopIds(c);
        int oTopLogprobs = (int) offTopLogprobs(c, top);
        for (int i = 0; i < c; i++) {
            choices.setToken(i, h.getInt(4 * i));
            choices.setLogprob(i, h.getDouble(oLogprobs + 8 * i));
            for (int r = 0; r < choices.topCount(i); r++) {
                choices.setTop(i, r, h.getInt(oTopIds + 4 * (i * top + r)),
                        h.getDouble(oTopLogprobs + 8 * (i * top + r)));
            }
        }
    }
}
