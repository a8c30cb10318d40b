package dev.kimilinear.data.ruler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.kimilinear.python.PythonRandom;

/**
 * Common words extraction (RULER {@code common_words_extraction.py}): a numbered list in which 10
 * words appear 30 times and all others 3 times (6 and 1 below 4k tokens); the answer is the 10.
 * One solved example of 40 words goes first. Every word is a single word of {@link CommonWordPool},
 * each at most once per list: the common tier while it can fill the length, else the whole pool;
 * a length beyond the whole pool is an error, never a list of made-up words.
 */
final class CommonWordsGenerator implements TaskGenerator {
    static final String TEMPLATE = "Below is a numbered list of words. In these words, some appear more often than "
            + "others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words "
            + "in the above list?";
    static final String ANSWER_PREFIX = " Answer: The top 10 words that appear most often in the list are:";
    static final int COMMON = 10;
    /** Beyond the pool the estimate is this large, so the fitter never asks for more words than there are. */
    private static final long BEYOND_POOL = Long.MAX_VALUE / 4;

    private final RulerTask task;
    private final long seed;
    private final PieceCounts pieces;

    CommonWordsGenerator(RulerTask task, long seed, PieceCounts pieces) {
        this.task = task;
        this.seed = seed;
        this.pieces = pieces;
    }

    @Override
    public RulerSample generate(int length, int index) {
        boolean short_ = length < 4096;
        int commonRepeats = short_ ? 6 : 30;
        int uncommonRepeats = short_ ? 1 : 3;
        String what = task.taskName() + "@" + length + " sample " + index;
        PythonRandom exampleRandom = SampleRandom.of(seed, task, length, index, SampleRandom.Stream.EXAMPLE);
        String example = example(exampleRandom, short_ ? 20 : 40, short_ ? 3 : 10, short_ ? 1 : 3);

        String lead = example + "\n";
        Framing framing = Framing.of(TEMPLATE + ANSWER_PREFIX, Map.of(), pieces).after(lead, pieces.once(lead));
        long budget = Framing.budget(length, task);
        long floor = Framing.floor(length, task);
        ListHaystack haystack = new ListHaystack(framing, words(CommonWordPool.COMMON, length, index, what),
                commonRepeats, uncommonRepeats, length, index);
        if (!haystack.canExceed(budget)) {
            // as RULER switches to its larger list when the first runs out: the whole sample from the whole pool
            haystack = new ListHaystack(framing, words(CommonWordPool.ALL, length, index, what), commonRepeats,
                    uncommonRepeats, length, index);
            if (haystack.estimate(haystack.words.capacity()) < floor) {
                throw new IllegalArgumentException(what + ": the common-words pool has " + CommonWordPool.ALL.size()
                        + " distinct words, too few to fill " + length + " tokens (a list of all of them comes to about "
                        + haystack.estimate(haystack.words.capacity()) + " of the " + floor + " needed)");
            }
        }
        LengthFitter.Fit fit = LengthFitter.fit(haystack, pieces.counter(), budget, floor, what);
        return new RulerSample(fit.text(), ANSWER_PREFIX, haystack.words.first(COMMON), fit.tokens(), fit.size());
    }

    private WordSequence words(List<String> pool, int length, int index, String what) {
        return new WordSequence(SampleRandom.of(seed, task, length, index, SampleRandom.Stream.CONTENT), pool, what);
    }

    /** The prompt as a function of how many distinct words its list has. */
    private final class ListHaystack implements Haystack {
        final WordSequence words;
        private final Framing framing;
        private final int commonRepeats;
        private final int uncommonRepeats;
        private final int length;
        private final int index;

        ListHaystack(Framing framing, WordSequence words, int commonRepeats, int uncommonRepeats, int length, int index) {
            this.framing = framing;
            this.words = words;
            this.commonRepeats = commonRepeats;
            this.uncommonRepeats = uncommonRepeats;
            this.length = length;
            this.index = index;
        }

        /** Whether a list of every word of the sequence would be over {@code budget}, so the fit lies within it. */
        boolean canExceed(long budget) {
            // each entry is a label and a word of at least one token apiece: a cheap bound spares costing every word
            if (2 * entries(words.capacity()) > budget) {
                return true;
            }
            return estimate(words.capacity()) > budget;
        }

        private long entries(long size) {
            return COMMON * (long) commonRepeats + (size - COMMON) * uncommonRepeats;
        }

        @Override
        public long minSize() {
            return COMMON + 1;
        }

        @Override
        public long estimate(long size) {
            if (size > words.capacity()) {
                return BEYOND_POOL;
            }
            return framing.tokens() + pieces.listNumbers(entries(size)) + words.cost(COMMON) * commonRepeats
                    + (words.cost(size) - words.cost(COMMON)) * uncommonRepeats;
        }

        @Override
        public String render(long size) {
            PythonRandom layout = SampleRandom.of(seed, task, length, index, SampleRandom.Stream.LAYOUT);
            return framing.wrap(numberedList(words.first((int) Math.min(size, Integer.MAX_VALUE)), commonRepeats,
                    uncommonRepeats, layout));
        }
    }

    /** A solved example: the list, the question, the answer prefix and the common words numbered. */
    private static String example(PythonRandom random, int size, int commonRepeats, int uncommonRepeats) {
        List<String> words = random.sample(CommonWordPool.COMMON, size);
        String list = numberedList(words, commonRepeats, uncommonRepeats, random);
        StringBuilder answer = new StringBuilder();
        for (int i = 0; i < COMMON; i++) {
            answer.append(i == 0 ? "" : " ").append(i + 1).append(". ").append(words.get(i));
        }
        return Template.fill(TEMPLATE + ANSWER_PREFIX, Map.of("context", list)) + " " + answer;
    }

    /** The first {@link #COMMON} words repeated {@code commonRepeats} times, the rest fewer, shuffled and numbered. */
    private static String numberedList(List<String> words, int commonRepeats, int uncommonRepeats, PythonRandom random) {
        List<String> entries = new ArrayList<>();
        for (int r = 0; r < commonRepeats; r++) {
            entries.addAll(words.subList(0, COMMON));
        }
        for (int r = 0; r < uncommonRepeats; r++) {
            entries.addAll(words.subList(COMMON, words.size()));
        }
        random.shuffle(entries);
        StringBuilder list = new StringBuilder(entries.size() * 12);
        for (int i = 0; i < entries.size(); i++) {
            list.append(i == 0 ? "" : " ").append(i + 1).append(". ").append(entries.get(i));
        }
        return list.toString();
    }

    /**
     * A sample's distinct words: one tier of the pool in a random order fixed by the sample. The
     * first n words never change with n, so the estimate grows with n.
     */
    private final class WordSequence {
        private final List<String> words;
        private final String what;
        private long[] costPrefix = new long[1];

        WordSequence(PythonRandom random, List<String> pool, String what) {
            this.words = new ArrayList<>(pool);
            random.shuffle(words);
            this.what = what;
        }

        int capacity() {
            return words.size();
        }

        List<String> first(int n) {
            if (n > words.size()) {
                throw new IllegalArgumentException(what + ": a common-words list of " + n + " distinct words is "
                        + "beyond the " + words.size() + " words of the pool");
            }
            return words.subList(0, n);
        }

        /** Tokens of the first n words, each with the space before it. */
        long cost(long n) {
            if (n >= costPrefix.length) {
                int from = costPrefix.length;
                int grown = (int) Math.min(Math.max(n + 1, costPrefix.length * 2L), capacity() + 1L);
                List<String> list = first(grown - 1);
                costPrefix = Arrays.copyOf(costPrefix, grown);
                for (int i = from; i < grown; i++) {
                    costPrefix[i] = costPrefix[i - 1] + pieces.cached(" " + list.get(i - 1));
                }
            }
            return costPrefix[(int) n];
        }
    }
}
