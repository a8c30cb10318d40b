package dev.kimilinear.data.ruler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.kimilinear.python.PythonRandom;

/**
 * Variable tracking (RULER {@code variable_tracking.py}): one chain {@code VAR A = 12345},
 * {@code VAR B = VAR A}, ... of 4 hops hidden line by line in noise; the answer is every variable
 * of the chain. A short solved example of the same kind goes first, then a blank line. As RULER
 * writes them: hop lines end in a space, values are 10000..99998.
 */
final class VariableTrackingGenerator implements TaskGenerator {
    static final String TEMPLATE = "Memorize and track the chain(s) of variable assignment hidden in the following "
            + "text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.";
    static final String ANSWER_PREFIX = " Answer: According to the chain(s) of variable assignment in the text above, "
            + "{num_v} variables are assigned the value {query}, they are: ";
    static final int HOPS = 4;
    /** The solved example is sized to this many tokens, as RULER sizes its own. */
    private static final long EXAMPLE_TOKENS = 500;

    private final RulerTask task;
    private final long seed;
    private final PieceCounts pieces;

    VariableTrackingGenerator(RulerTask task, long seed, PieceCounts pieces) {
        this.task = task;
        this.seed = seed;
        this.pieces = pieces;
    }

    /** A chain: its variable names in order and its lines, the first assigning the value. */
    private record Chain(List<String> variables, List<String> lines, String value) {
    }

    private static Chain chain(PythonRandom random, int nameLength) {
        Set<String> names = new HashSet<>();
        List<String> variables = new ArrayList<>();
        while (variables.size() < HOPS + 1) {
            StringBuilder name = new StringBuilder();
            for (int i = 0; i < nameLength; i++) {
                name.append((char) ('A' + random.randbelow(26)));
            }
            if (names.add(name.toString())) {
                variables.add(name.toString());
            }
        }
        // numpy's randint(10000, 99999) in RULER excludes its upper end
        String value = Long.toString(random.randint(10000, 99998));
        List<String> lines = new ArrayList<>();
        lines.add("VAR " + variables.get(0) + " = " + value);
        for (int j = 0; j < HOPS; j++) {
            // RULER writes each hop's line with a trailing space
            lines.add("VAR " + variables.get(j + 1) + " = VAR " + variables.get(j) + " ");
        }
        return new Chain(variables, lines, value);
    }

    @Override
    public RulerSample generate(int length, int index) {
        String example = example(length, index);
        Chain chain = chain(SampleRandom.of(seed, task, length, index, SampleRandom.Stream.CONTENT), 5);
        Map<String, String> fill = Map.of("query", chain.value(), "num_v", Integer.toString(HOPS + 1));
        // the solved example ends its line, then a blank line parts it from the task (RULER adds a newline)
        String solved = example + "\n";
        Framing framing = Framing.of(TEMPLATE + ANSWER_PREFIX, fill, pieces).after(solved, pieces.once(solved));
        Haystack haystack = new ChainHaystack(framing, chain, SampleRandom.of(seed, task, length, index,
                SampleRandom.Stream.LAYOUT));
        LengthFitter.Fit fit = LengthFitter.fit(haystack, pieces.counter(), Framing.budget(length, task),
                Framing.floor(length, task), task.taskName() + "@" + length + " sample " + index);
        return new RulerSample(fit.text(), Template.fill(ANSWER_PREFIX, fill), chain.variables(), fit.tokens(), fit.size());
    }

    /** The solved example: a chain of 3-letter names in a little noise, its answer, and a newline. */
    private String example(int length, int index) {
        PythonRandom random = SampleRandom.of(seed, task, length, index, SampleRandom.Stream.EXAMPLE);
        Chain chain = chain(random, 3);
        Map<String, String> fill = Map.of("query", chain.value(), "num_v", Integer.toString(HOPS + 1));
        Framing framing = Framing.of(TEMPLATE + ANSWER_PREFIX, fill, pieces);
        ChainHaystack haystack = new ChainHaystack(framing, chain, random);
        long size = haystack.minSize();
        while (haystack.estimate(size + 1) <= EXAMPLE_TOKENS) {
            size++;
        }
        return haystack.render(size) + " " + String.join(" ", chain.variables()) + "\n";
    }

    /** Noise lines with the chain's lines inserted in order at random places. */
    private final class ChainHaystack implements Haystack {
        private final Framing framing;
        private final Chain chain;
        private final int[] layoutKey;
        private final long chainCost;
        private final long noiseCost;

        ChainHaystack(Framing framing, Chain chain, PythonRandom layoutSeed) {
            this.framing = framing;
            this.chain = chain;
            this.layoutKey = new int[] {(int) layoutSeed.nextUint32(), (int) layoutSeed.nextUint32()};
            this.chainCost = chain.lines().stream().mapToLong(line -> pieces.cached(line + "\n")).sum();
            this.noiseCost = pieces.cached(NiahGenerator.NOISE + "\n");
        }

        @Override
        public long minSize() {
            return chain.lines().size();
        }

        @Override
        public long estimate(long size) {
            return framing.tokens() + chainCost + size * noiseCost;
        }

        @Override
        public String render(long size) {
            PythonRandom layout = new PythonRandom(layoutKey);
            List<String> lines = new ArrayList<>((int) size + chain.lines().size());
            for (long i = 0; i < size; i++) {
                lines.add(NiahGenerator.NOISE);
            }
            int[] positions = layout.sampleRange((int) size, chain.lines().size());
            Arrays.sort(positions);
            for (int j = 0; j < positions.length; j++) {
                lines.add(positions[j] + j, chain.lines().get(j));
            }
            return framing.wrap(String.join("\n", lines));
        }
    }
}
