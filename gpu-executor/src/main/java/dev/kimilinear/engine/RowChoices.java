package dev.kimilinear.engine;

import java.util.Arrays;

/**
 * What one step asks of its logits rows, and the backend's answers. Each choice names the row
 * it reads and how to pick a token there: greedy, or a draw at a temperature from the top-k
 * tokens cut to the top-p nucleus, keyed into the {@link RandomStream} by seed, sample and
 * position. It may ask for log-probabilities (the chosen token's, and the top n), and a scored
 * continuation names the token whose log-probability it wants. A row may carry several choices
 * (the n samples of one prompt). Only tokens below {@link #sampleVocab()} are ever chosen or
 * listed; log-probabilities are normalised over the whole vocabulary.
 *
 * <p>One table is reused step after step by the engine thread; the backend fills the answers.
 */
public final class RowChoices {
    /** Most alternatives a choice may ask for. */
    public static final int MAX_TOP = 20;

    private int count;
    private int sampleVocab;
    private int maxTop;
    private int[] row = new int[16];
    private double[] temperature = new double[16];
    private int[] topK = new int[16];
    private double[] topP = new double[16];
    private long[] seed = new long[16];
    private int[] sample = new int[16];
    private int[] position = new int[16];
    private int[] logprobs = new int[16];
    private int[] target = new int[16];
    // answers
    private int[] token = new int[16];
    private double[] logprob = new double[16];
    private int[] topIds = new int[0];
    private double[] topLogprobs = new double[0];

    /** @param sampleVocab tokens that may be chosen (ids 0 .. sampleVocab-1), e.g. the tokenizer's */
    public RowChoices(int sampleVocab) {
        if (sampleVocab < 1) {
            throw new IllegalArgumentException("sampleVocab must be at least 1, got " + sampleVocab);
        }
        this.sampleVocab = sampleVocab;
    }

    public int count() {
        return count;
    }

    public int sampleVocab() {
        return sampleVocab;
    }

    /** The largest number of alternatives any choice of this table asks for. */
    public int maxTop() {
        return maxTop;
    }

    /** Forgets every choice (the arrays are kept). */
    public void clear() {
        count = 0;
        maxTop = 0;
    }

    /**
     * A token for sample {@code sample} at output {@code pos} of a request, from logits row {@code row}.
     *
     * @return the choice's index
     */
    public int add(int logitRow, SamplingParams p, int sampleIndex, int pos) {
        int i = next(logitRow);
        temperature[i] = p.temperature();
        topK[i] = p.topK();
        topP[i] = p.topP();
        seed[i] = p.seed();
        sample[i] = sampleIndex;
        position[i] = pos;
        logprobs[i] = Math.min(p.logprobs(), MAX_TOP);
        target[i] = -1;
        maxTop = Math.max(maxTop, topCount(i));
        return i;
    }

    /** The greedy token of row {@code row} and the log-probability of {@code next}, a scored continuation's token. */
    public int addScore(int logitRow, int next) {
        int i = next(logitRow);
        temperature[i] = 0;
        topK[i] = 0;
        topP[i] = 1;
        seed[i] = 0;
        sample[i] = 0;
        position[i] = 0;
        logprobs[i] = -1;
        target[i] = next;
        return i;
    }

    private int next(int logitRow) {
        if (logitRow < 0) {
            throw new IllegalArgumentException("logits row " + logitRow + " is negative");
        }
        if (count == row.length) {
            int n = count * 2;
            row = Arrays.copyOf(row, n);
            temperature = Arrays.copyOf(temperature, n);
            topK = Arrays.copyOf(topK, n);
            topP = Arrays.copyOf(topP, n);
            seed = Arrays.copyOf(seed, n);
            sample = Arrays.copyOf(sample, n);
            position = Arrays.copyOf(position, n);
            logprobs = Arrays.copyOf(logprobs, n);
            target = Arrays.copyOf(target, n);
            token = Arrays.copyOf(token, n);
            logprob = Arrays.copyOf(logprob, n);
        }
        row[count] = logitRow;
        return count++;
    }

    /** Adds choice i of {@code src} as it is asked, reading logits row {@code logitRow} here. */
    public int addLike(RowChoices src, int i, int logitRow) {
        int j = next(logitRow);
        temperature[j] = src.temperature[i];
        topK[j] = src.topK[i];
        topP[j] = src.topP[i];
        seed[j] = src.seed[i];
        sample[j] = src.sample[i];
        position[j] = src.position[i];
        logprobs[j] = src.logprobs[i];
        target[j] = src.target[i];
        maxTop = Math.max(maxTop, topCount(j));
        return j;
    }

    /** Takes the answer of {@code src}'s choice i as this table's choice j (both asked alike; answers prepared). */
    public void copyAnswer(int j, RowChoices src, int i) {
        token[j] = src.token[i];
        logprob[j] = src.logprob[i];
        for (int r = 0; r < topCount(j); r++) {
            setTop(j, r, src.topId(i, r), src.topLogprob(i, r));
        }
    }

    /**
     * This table's choices split among {@code parts} sub-steps: the step's logits row j went to
     * part {@code partOf[j]} (-1: to none) as its row {@code localRow[j]}. Each part's table asks
     * what the choices reading its rows ask; {@link Split#answer} brings its answers back.
     */
    public Split split(int[] partOf, int[] localRow, int parts) {
        RowChoices[] tables = new RowChoices[parts];
        int[][] origin = new int[parts][count];
        for (int p = 0; p < parts; p++) {
            tables[p] = new RowChoices(sampleVocab);
        }
        for (int c = 0; c < count; c++) {
            int j = row[c];
            if (j >= partOf.length) {
                throw new IllegalArgumentException("choice " + c + " reads logits row " + j
                        + " of a step that computes " + partOf.length);
            }
            int p = partOf[j];
            if (p >= 0) {
                origin[p][tables[p].addLike(this, c, localRow[j])] = c;
            }
        }
        for (int p = 0; p < parts; p++) {
            origin[p] = Arrays.copyOf(origin[p], tables[p].count());
        }
        return new Split(tables, origin);
    }

    /** @param tables each part's choices; origin the step's choice of each of them */
    public record Split(RowChoices[] tables, int[][] origin) {

        /** Copies part p's answers into the step's table (answers prepared there). */
        public void answer(int p, RowChoices step) {
            for (int k = 0; k < tables[p].count(); k++) {
                step.copyAnswer(origin[p][k], tables[p], k);
            }
        }
    }

    // ------------------------------------------------------------------ the questions

    public int row(int i) {
        return row[i];
    }

    /** 0: greedy. */
    public double temperature(int i) {
        return temperature[i];
    }

    /** 0: no cut by rank. */
    public int topK(int i) {
        return topK[i];
    }

    public double topP(int i) {
        return topP[i];
    }

    public long seed(int i) {
        return seed[i];
    }

    public int sample(int i) {
        return sample[i];
    }

    public int position(int i) {
        return position[i];
    }

    /** -1: none; 0: the chosen token's; k: also the top k. */
    public int logprobs(int i) {
        return logprobs[i];
    }

    /** The token a scored continuation has at this row, or -1. */
    public int target(int i) {
        return target[i];
    }

    /** Whether the answer needs the row's log-normaliser. */
    public boolean wantsLogprob(int i) {
        return logprobs[i] >= 0 || target[i] >= 0;
    }

    /** Alternatives the answer lists: the top logprobs(i), at most the tokens that may be chosen. */
    public int topCount(int i) {
        return Math.max(0, Math.min(logprobs[i], sampleVocab));
    }

    /** The key of this choice's draw in the random stream. */
    public long streamKey(int i) {
        return RandomStream.key(seed[i], sample[i], position[i]);
    }

    // ------------------------------------------------------------------ the answers

    /** Sizes the alternatives' storage for this table's choices; backends call it before filling them. */
    public void prepareAnswers() {
        int n = count * maxTop;
        if (topIds.length < n) {
            topIds = new int[n];
            topLogprobs = new double[n];
        }
    }

    public void setToken(int i, int id) {
        token[i] = id;
    }

    public void setLogprob(int i, double lp) {
        logprob[i] = lp;
    }

    public void setTop(int i, int rank, int id, double lp) {
        topIds[i * maxTop + rank] = id;
        topLogprobs[i * maxTop + rank] = lp;
    }

    /** The chosen token (for a scored continuation: the row's greedy token). */
    public int token(int i) {
        return token[i];
    }

    /** The log-probability of the target when there is one, else of the chosen token; NaN when not asked for. */
    public double logprob(int i) {
        return logprob[i];
    }

    public int topId(int i, int rank) {
        return topIds[i * maxTop + rank];
    }

    public double topLogprob(int i, int rank) {
        return topLogprobs[i * maxTop + rank];
    }
}
