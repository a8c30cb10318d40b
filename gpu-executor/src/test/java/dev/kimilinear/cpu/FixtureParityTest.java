package dev.kimilinear.cpu;

import dev.kimilinear.engine.LogitsRecorder;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU forward against logits recorded with the reference implementation. */
class FixtureParityTest {
    static final Path FIXTURE = ParityFixture.DIR;

    static int[] inputIds;
    static float[] prefill;
    static float[] decode;
    static int[] generated;
    static CpuBackend backend;

    @BeforeAll
    static void load() {
        ParityFixture f = ParityFixture.load();
        inputIds = f.inputIds();
        prefill = f.prefill();
        decode = f.decode();
        generated = f.generated();
        backend = CpuBackend.load(FIXTURE);
    }

    static float maxAbs(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            assertTrue(Float.isFinite(a[i]), "non-finite logit at " + i);
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void prefillAndGreedyDecodeMatchTheReference() {
        LogitsRecorder.Recording rec = LogitsRecorder.record(backend, inputIds, generated.length, 4096);
        float prefillErr = maxAbs(rec.prefillLogits(), prefill);
        float decodeErr = maxAbs(rec.decodeLogits(), decode);
        assertTrue(prefillErr < 1e-4, "prefill logits max abs error " + prefillErr);
        assertTrue(decodeErr < 1e-4, "decode logits max abs error " + decodeErr);
        assertArrayEquals(generated, rec.generatedIds());
    }

    @Test
    void promptFedInChunksGivesTheSameLogits() {
        // 100 tokens in chunks of 37: chunk boundaries cut through KDA chunks and MLA pages
        LogitsRecorder.Recording rec = LogitsRecorder.record(backend, inputIds, 3, 37);
        assertTrue(maxAbs(rec.prefillLogits(), prefill) < 1e-4);
        assertArrayEquals(Arrays.copyOf(generated, 3), rec.generatedIds());
    }

    @Test
    void originalSpellingOfTheConfigGivesTheSameLogits(@TempDir Path dir) throws IOException {
        Files.copy(FIXTURE.resolve("config.original-spelling.json"), dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"),
                FIXTURE.resolve("model.safetensors").toAbsolutePath());
        CpuBackend other = CpuBackend.load(dir);
        LogitsRecorder.Recording rec = LogitsRecorder.record(other, Arrays.copyOf(inputIds, 20), 0, 4096);
        assertTrue(maxAbs(rec.prefillLogits(), Arrays.copyOf(prefill, 20 * 512)) < 1e-4);
    }

    @Test
    void sequencesOfDifferentLengthsBatchedEqualOneAtATime() {
        int vocab = backend.config().vocabSize();
        int[] lengths = {5, 71, 1, 30};
        int[][] prompts = new int[lengths.length][];
        int at = 0;
        for (int s = 0; s < lengths.length; s++) {
            prompts[s] = new int[lengths[s]];
            for (int i = 0; i < lengths[s]; i++) {
                prompts[s][i] = inputIds[(at++) % inputIds.length];
            }
        }
        // alone: the last-position logits of each prompt, then two greedy steps
        float[][] alone = new float[lengths.length][];
        for (int s = 0; s < lengths.length; s++) {
            alone[s] = LogitsRecorder.record(backend, prompts[s], 3, 4096).decodeLogits();
        }
        // together: one packed prefill step, then decode steps of all sequences at once
        int pageSize = backend.pageSize();
        int pagesEach = (71 + 3 + pageSize - 1) / pageSize;
        backend.reserve(lengths.length, lengths.length * pagesEach);
        int[][] tables = new int[lengths.length][pagesEach];
        int[] cu = new int[lengths.length + 1];
        int[] slots = new int[lengths.length];
        for (int s = 0; s < lengths.length; s++) {
            backend.resetSlot(s);
            slots[s] = s;
            for (int p = 0; p < pagesEach; p++) {
                tables[s][p] = p * lengths.length + (lengths.length - 1 - s); // interleaved pages
            }
            cu[s + 1] = cu[s] + lengths[s];
        }
        int[] tokens = new int[cu[lengths.length]];
        for (int s = 0; s < lengths.length; s++) {
            System.arraycopy(prompts[s], 0, tokens, cu[s], lengths[s]);
        }
        float[] logits = new float[lengths.length * vocab];
        backend.logits(new StepBatch(tokens, cu, slots, new int[lengths.length], tables, StepBatch.lastRows(cu)),
                logits);
        int[] ctx = lengths.clone();
        int[] step = new int[lengths.length];
        int[] unit = new int[lengths.length + 1];
        for (int s = 0; s <= lengths.length; s++) {
            unit[s] = s;
        }
        for (int i = 0; i < 3; i++) {
            for (int s = 0; s < lengths.length; s++) {
                float[] mine = Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab);
                float[] ref = Arrays.copyOfRange(alone[s], i * vocab, (i + 1) * vocab);
                assertTrue(maxAbs(mine, ref) < 1e-4, "sequence " + s + " step " + i);
                step[s] = CpuOps.argmax(mine, 0, vocab);
            }
            if (i < 2) {
                backend.logits(new StepBatch(step.clone(), unit, slots, ctx.clone(), tables,
                        StepBatch.lastRows(unit)), logits);
                for (int s = 0; s < lengths.length; s++) {
                    ctx[s]++;
                }
            }
        }
    }
}
