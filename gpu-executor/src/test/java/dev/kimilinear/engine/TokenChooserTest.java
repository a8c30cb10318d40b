package dev.kimilinear.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host's definition of token choice: distributions, cuts, the random stream, log-probabilities. */
class TokenChooserTest {

    static SamplingParams params(double temperature, double topP, int topK, long seed, int logprobs) {
        return TestModels.sampled(1, temperature, topP, topK, seed, 1, logprobs);
    }

    /** Each choice's token after answering a table over one row. */
    static int[] tokens(float[] row, RowChoices c) {
        new TokenChooser(row.length).chooseAll(row, row.length, c);
        int[] out = new int[c.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = c.token(i);
        }
        return out;
    }

    @Test
    void aRowOfNanChoosesNoToken() {
        float[] row = {Float.NaN, Float.NaN, Float.NaN};
        RowChoices c = new RowChoices(3);
        c.add(0, params(0, 1, 0, 0, 2), 0, 0);
        c.add(0, params(0.8, 0.9, 0, 4, -1), 0, 0);
        assertArrayEquals(new int[] {-1, -1}, tokens(row, c));
        assertTrue(Double.isNaN(c.logprob(0)));
        assertEquals(-1, TokenChooser.argmax(row, 0, 3));
        assertEquals(1, TokenChooser.argmax(new float[] {Float.NaN, 2, Float.NaN}, 0, 3), "NaN never wins");
    }

    @Test
    void drawsFollowTheTemperatureScaledDistributionCutByTopKAndTopP() {
        // weights 1 : 2 : 4 : 8
        float[] logits = {0, (float) Math.log(2), (float) Math.log(4), (float) Math.log(8)};
        int draws = 20000;
        RowChoices all = new RowChoices(4);
        RowChoices nucleus = new RowChoices(4);
        RowChoices hot = new RowChoices(4);
        RowChoices top3 = new RowChoices(4);
        for (int i = 0; i < draws; i++) {
            all.add(0, params(1, 1, 0, 1, -1), 0, i);
            nucleus.add(0, params(1, 0.6, 0, 1, -1), 0, i);   // 8/15 < 0.6: keeps 8 and 4
            hot.add(0, params(0.5, 1, 0, 2, -1), 0, i);        // squares the weights: 1 : 4 : 16 : 64
            top3.add(0, params(1, 1, 3, 3, -1), 0, i);
        }
        int[][] counts = new int[4][4];
        RowChoices[] tables = {all, nucleus, hot, top3};
        for (int t = 0; t < 4; t++) {
            for (int token : tokens(logits, tables[t])) {
                counts[t][token]++;
            }
        }
        double[][] expected = {{1, 2, 4, 8}, {0, 0, 4, 8}, {1, 4, 16, 64}, {0, 2, 4, 8}};
        for (int t = 0; t < 4; t++) {
            double sum = 0;
            for (double e : expected[t]) {
                sum += e;
            }
            for (int token = 0; token < 4; token++) {
                double want = draws * expected[t][token] / sum;
                assertEquals(want, counts[t][token], 5 * Math.sqrt(want + 1) + 1, "table " + t + " token " + token);
            }
        }
    }

    @Test
    void greedyTakesTheFirstMaximumAndNeverNaN() {
        float[] logits = {1, Float.NaN, 3, 3, -2};
        RowChoices c = new RowChoices(5);
        c.add(0, SamplingParams.greedy(1), 0, 0);
        c.add(0, params(1.0, 1, 1, 7, -1), 0, 0);   // top-k 1 is greedy
        assertArrayEquals(new int[] {2, 2}, tokens(logits, c));
        RowChoices drawn = new RowChoices(5);
        for (int i = 0; i < 500; i++) {
            drawn.add(0, params(5.0, 1, 0, 9, -1), 0, i);
        }
        for (int token : tokens(logits, drawn)) {
            assertNotEquals(1, token, "a NaN logit was drawn");
        }
    }

    @Test
    void aDrawDependsOnlyOnSeedSampleAndPosition() {
        Random rnd = new Random(4);
        float[] row = new float[2000];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) rnd.nextGaussian() * 2;
        }
        float[] twoRows = new float[2 * row.length];
        System.arraycopy(row, 0, twoRows, row.length, row.length);
        SamplingParams p = params(0.8, 0.9, 40, 1234, -1);
        RowChoices alone = new RowChoices(row.length);
        alone.add(0, p, 3, 17);
        RowChoices crowded = new RowChoices(row.length);
        crowded.add(0, params(1.3, 1, 0, 5, -1), 0, 0);
        crowded.add(1, p, 3, 17);   // the same row, second in the table and in the batch
        new TokenChooser(row.length).chooseAll(twoRows, row.length, crowded);
        assertEquals(tokens(row, alone)[0], crowded.token(1));
        // other samples, positions and seeds draw differently
        int same = 0;
        for (int i = 0; i < 200; i++) {
            RowChoices a = new RowChoices(row.length);
            a.add(0, p, 0, i);
            a.add(0, p, 1, i);
            a.add(0, p.withSeed(99), 0, i);
            int[] t = tokens(row, a);
            same += (t[0] == t[1] ? 1 : 0) + (t[0] == t[2] ? 1 : 0);
        }
        assertTrue(same < 150, same + " of 400 draws agreed across samples and seeds");
    }

    @Test
    void theThresholdedDrawAgreesWithSortingTheWholeRow() {
        Random rnd = new Random(11);
        int vocab = 3000;
        int sampleVocab = 2900;
        double[] temperatures = {0.2, 0.7, 1.0, 1.8};
        double[] topPs = {1, 0.95, 0.5, 0.05};
        int[] topKs = {0, 2, 50, 2950};
        for (int trial = 0; trial < 64; trial++) {
            float[] row = new float[vocab];
            double scale = trial % 2 == 0 ? 1 : 6;   // flat and peaked rows
            for (int i = 0; i < vocab; i++) {
                row[i] = (float) (rnd.nextGaussian() * scale);
            }
            SamplingParams p = params(temperatures[trial % 4], topPs[(trial / 4) % 4], topKs[(trial / 16) % 4], trial,
                    -1);
            RowChoices c = new RowChoices(sampleVocab);
            for (int pos = 0; pos < 8; pos++) {
                c.add(0, p, 0, pos);
            }
            int[] got = tokens(row, c);
            for (int pos = 0; pos < 8; pos++) {
                assertEquals(sorted(row, sampleVocab, p, RandomStream.key(p.seed(), 0, pos)), got[pos],
                        "trial " + trial + " position " + pos + " " + p);
            }
        }
    }

    /** The definition read literally: sort the row, cut by rank, cut by mass, Gumbel-max over what is kept. */
    static int sorted(float[] row, int n, SamplingParams p, long key) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(i);
        }
        ids.sort(Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparingInt(i -> i));
        int k = p.topK() == 0 || p.topK() >= n ? n : p.topK();
        List<Integer> kept = new ArrayList<>(ids.subList(0, k));
        float max = row[ids.get(0)];
        long mass = 0;
        for (int i : kept) {
            mass += TokenChooser.massUnits(row[i], max, p.temperature());
        }
        if (p.topP() < 1) {
            long before = 0;
            int r = 0;
            while (r < kept.size() && before < TokenChooser.nucleusTarget(p.topP(), mass)) {
                before += TokenChooser.massUnits(row[kept.get(r)], max, p.temperature());
                r++;
            }
            kept = kept.subList(0, r);
        }
        int best = -1;
        double bestScore = 0;
        for (int i : kept) {
            double s = (double) row[i] / p.temperature() + RandomStream.gumbel(key, i);
            if (best < 0 || s > bestScore || (s == bestScore && i < best)) {
                best = i;
                bestScore = s;
            }
        }
        return best;
    }

    @Test
    void logprobsAreTheWholeVocabularysLogSoftmaxAndTheTopListIsRanked() {
        float[] logits = {2, 5, 5, 1, 4, 9};   // the last id may not be chosen or listed
        RowChoices c = new RowChoices(5);
        c.add(0, params(0, 1, 0, 0, 3), 0, 0);
        c.addScore(0, 3);
        c.add(0, params(0, 1, 0, 0, 20), 0, 0);
        new TokenChooser(6).chooseAll(logits, 6, c);
        double logZ = Math.log(Math.exp(2) + 2 * Math.exp(5) + Math.exp(1) + Math.exp(4) + Math.exp(9));
        assertEquals(1, c.token(0), "the first of the tied maxima below the sample vocabulary");
        assertEquals(5 - logZ, c.logprob(0), 1e-12);
        assertEquals(3, c.topCount(0));
        int[] order = {1, 2, 4};
        for (int r = 0; r < 3; r++) {
            assertEquals(order[r], c.topId(0, r));
            assertEquals(logits[order[r]] - logZ, c.topLogprob(0, r), 1e-12);
        }
        assertEquals(1, c.token(1), "a scored row answers its greedy token");
        assertEquals(1 - logZ, c.logprob(1), 1e-12, "and the target's log-probability");
        assertEquals(5, c.topCount(2), "at most the tokens that may be chosen");
        assertEquals(3, c.topId(2, 4));
        RowChoices none = new RowChoices(5);
        none.add(0, params(0, 1, 0, 0, -1), 0, 0);
        new TokenChooser(6).chooseAll(logits, 6, none);
        assertTrue(Double.isNaN(none.logprob(0)), "no log-probability unless asked");
    }

    @Test
    void theStreamIsUniformAndKeyedByEveryPart() {
        long key = RandomStream.key(42, 0, 0);
        double sum = 0;
        for (int t = 0; t < 100000; t++) {
            double u = RandomStream.uniform(key, t);
            assertTrue(u > 0 && u < 1);
            sum += u;
        }
        assertEquals(0.5, sum / 100000, 0.005);
        assertNotEquals(RandomStream.key(42, 0, 1), RandomStream.key(42, 1, 0));
        assertNotEquals(RandomStream.key(42, 0, 0), RandomStream.key(43, 0, 0));
    }
}
