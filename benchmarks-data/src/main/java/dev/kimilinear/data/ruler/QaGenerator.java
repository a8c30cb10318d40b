package dev.kimilinear.data.ruler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.kimilinear.python.PythonRandom;

/**
 * Question answering (RULER {@code qa.py}): the documents holding the answer among distractor
 * documents, all shuffled and numbered "Document N:". Sample i asks question i (wrapping around).
 * The shuffle is RULER's: a generator seeded with the run's seed on every sample, so the layout
 * depends only on how many documents a sample holds.
 * The haystack is measured in words of documents in a fixed per-sample order (answer documents,
 * related ones, then the rest), so the last distractor may be cut short to reach the length.
 */
final class QaGenerator implements TaskGenerator {
    static final String TEMPLATE = "Answer the question based on the given documents. Only give me the answer and do "
            + "not output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question "
            + "based on the given documents. Only give me the answer and do not output any other words.\n\n"
            + "Question: {query}";
    static final String ANSWER_PREFIX = " Answer:";

    private final RulerTask task;
    private final long seed;
    private final PieceCounts pieces;
    private final QaDataset dataset;

    QaGenerator(RulerTask task, long seed, PieceCounts pieces, QaDataset dataset) {
        this.task = task;
        this.seed = seed;
        this.pieces = pieces;
        this.dataset = dataset;
    }

    @Override
    public RulerSample generate(int length, int index) {
        QaDataset.Question question = dataset.questions().get(index % dataset.questions().size());
        int[] order = order(question, SampleRandom.of(seed, task, length, index, SampleRandom.Stream.CONTENT));
        Framing framing = Framing.of(TEMPLATE + ANSWER_PREFIX, Map.of("query", question.query()), pieces);
        long separator = pieces.cached("\n\n");
        long[] wordPrefix = new long[order.length + 1];
        for (int i = 0; i < order.length; i++) {
            wordPrefix[i + 1] = wordPrefix[i] + dataset.documentWords(order[i]);
        }
        long[] costPrefix = new long[order.length + 1];
        int[] costed = {0};
        Haystack haystack = new Haystack() {
            /** Whole documents the first {@code size} words cover, counting repeated passes over the order. */
            private long wholeDocuments(long size) {
                long passes = size / wordPrefix[order.length];
                long rest = size % wordPrefix[order.length];
                int index = Arrays.binarySearch(wordPrefix, rest);
                int whole = index >= 0 ? index : -index - 2;
                while (whole + 1 <= order.length && wordPrefix[whole + 1] == rest) {
                    whole++;
                }
                return passes * order.length + whole;
            }

            private long cost(long documents) {
                long passes = documents / order.length;
                int rest = (int) (documents % order.length);
                int need = passes > 0 ? order.length : rest;
                for (; costed[0] < need; costed[0]++) {
                    costPrefix[costed[0] + 1] = costPrefix[costed[0]] + dataset.documentCost(order[costed[0]], pieces);
                }
                return passes * costPrefix[order.length] + costPrefix[rest];
            }

            @Override
            public long minSize() {
                return wordPrefix[question.gold().length];
            }

            @Override
            public long estimate(long size) {
                long whole = wholeDocuments(size);
                String partial = partial(size, whole);
                long documents = whole + (partial.isEmpty() ? 0 : 1);
                return framing.tokens() + cost(whole) + (partial.isEmpty() ? 0 : pieces.once(partial))
                        + pieces.documentHeaders(documents) + Math.max(0, documents - 1) * separator;
            }

            private String partial(long size, long whole) {
                long used = (whole / order.length) * wordPrefix[order.length] + wordPrefix[(int) (whole % order.length)];
                int words = (int) (size - used);
                if (words <= 0) {
                    return "";
                }
                String[] all = QaDataset.words(dataset.documents().get(order[(int) (whole % order.length)]));
                return String.join(" ", Arrays.asList(all).subList(0, words));
            }

            @Override
            public String render(long size) {
                long whole = wholeDocuments(size);
                List<String> documents = new ArrayList<>();
                for (long d = 0; d < whole; d++) {
                    documents.add(dataset.documents().get(order[(int) (d % order.length)]));
                }
                String partial = partial(size, whole);
                if (!partial.isEmpty()) {
                    documents.add(partial);
                }
                // as qa.py: random.Random(seed).shuffle on every call, so for a given number of
                // documents the gold one sits at the same place in every sample
                new PythonRandom(seed).shuffle(documents);
                StringBuilder context = new StringBuilder();
                for (int i = 0; i < documents.size(); i++) {
                    context.append(i == 0 ? "" : "\n\n").append("Document ").append(i + 1).append(":\n")
                            .append(documents.get(i));
                }
                return framing.wrap(context.toString());
            }
        };
        LengthFitter.Fit fit = LengthFitter.fit(haystack, pieces.counter(), Framing.budget(length, task),
                Framing.floor(length, task), task.taskName() + "@" + length + " sample " + index);
        return new RulerSample(fit.text(), ANSWER_PREFIX, question.answers(), fit.tokens(), fit.size());
    }

    /** Answer documents, then related ones shuffled, then all others shuffled. */
    private int[] order(QaDataset.Question question, PythonRandom random) {
        Set<Integer> placed = new HashSet<>();
        List<Integer> order = new ArrayList<>();
        for (int d : question.gold()) {
            if (placed.add(d)) {
                order.add(d);
            }
        }
        List<Integer> related = new ArrayList<>();
        for (int d : question.related()) {
            if (placed.add(d)) {
                related.add(d);
            }
        }
        random.shuffle(related);
        order.addAll(related);
        List<Integer> others = new ArrayList<>();
        for (int d = 0; d < dataset.documents().size(); d++) {
            if (!placed.contains(d)) {
                others.add(d);
            }
        }
        random.shuffle(others);
        order.addAll(others);
        return order.stream().mapToInt(Integer::intValue).toArray();
    }
}
