package dev.kimilinear.data.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** cwe lists: single pool words only, each distinct word once per list, and a clear error past the pool. */
class CommonWordsGeneratorTest {
    private static final Set<String> COMMON = new HashSet<>(CommonWordPool.COMMON);
    private static final Set<String> ALL = new HashSet<>(CommonWordPool.ALL);

    private static RulerGenerator generator(TokenCounter counter, int length, long seed) {
        return new RulerGenerator(counter, new RulerGenerator.Options(List.of(length), 1, List.of(RulerTask.CWE), seed,
                null, null, null, 1));
    }

    /** How often each word appears in the sample's own list (after the solved example). */
    private static Map<String, Integer> counts(RulerSample sample) {
        String prompt = sample.prompt();
        String main = prompt.substring(prompt.lastIndexOf("Below is a numbered list"));
        String list = main.substring(main.indexOf('\n') + 1, main.indexOf("\nQuestion:"));
        Map<String, Integer> counts = new HashMap<>();
        String[] entries = list.split(" ");
        for (int i = 0; i < entries.length; i += 2) {
            assertEquals((i / 2 + 1) + ".", entries[i], "list entry number");
            counts.merge(entries[i + 1], 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void aShortListUsesCommonWordsThirtyAndThreeTimes() {
        RulerSample sample = generator(TestCounters.WORDS, 8192, 3).sample(RulerTask.CWE, 8192, 0);
        Map<String, Integer> counts = counts(sample);
        assertTrue(COMMON.containsAll(counts.keySet()), "only common-tier words at 8k");
        assertEquals(sample.haystackSize(), counts.size(), "one distinct word per haystack unit");
        for (Map.Entry<String, Integer> entry : counts.entrySet()) {
            int expected = sample.outputs().contains(entry.getKey()) ? 30 : 3;
            assertEquals(expected, entry.getValue(), entry.getKey());
        }
        assertEquals(10, new HashSet<>(sample.outputs()).size());
    }

    /** At 512k one-token words the common tier runs out: the whole sample comes from the whole pool, still single words. */
    @Test
    void aLongListIsSingleDistinctWordsFromTheWholePool() {
        int length = 512 * 1024;
        RulerSample sample = generator(TestCounters.WORDS, length, 5).sample(RulerTask.CWE, length, 0);
        Map<String, Integer> counts = counts(sample);
        assertTrue(counts.size() > CommonWordPool.COMMON.size(), "more words than the common tier: " + counts.size());
        for (Map.Entry<String, Integer> entry : counts.entrySet()) {
            assertTrue(ALL.contains(entry.getKey()), "not a pool word: " + entry.getKey());
            assertTrue(entry.getValue() == 3 || sample.outputs().contains(entry.getKey()), entry.getKey() + " appears "
                    + entry.getValue() + " times");
        }
        assertTrue(sample.prompt().chars().noneMatch(c -> c == '-'), "no compound anywhere in the prompt");
        assertTrue(sample.outputs().stream().allMatch(ALL::contains));
    }

    @Test
    void theSameSeedGivesTheSameSampleAndAnotherSeedAnother() {
        RulerSample first = generator(TestCounters.BYTES, 16384, 9).sample(RulerTask.CWE, 16384, 2);
        RulerSample again = generator(TestCounters.BYTES, 16384, 9).sample(RulerTask.CWE, 16384, 2);
        RulerSample other = generator(TestCounters.BYTES, 16384, 10).sample(RulerTask.CWE, 16384, 2);
        assertEquals(first, again);
        assertTrue(!first.prompt().equals(other.prompt()));
    }

    @Test
    void aLengthBeyondThePoolFailsNamingTaskLengthAndPoolSize() {
        int length = 1 << 20;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> generator(TestCounters.WORDS, length, 1).sample(RulerTask.CWE, length, 0));
        assertTrue(e.getMessage().startsWith("cwe@1048576 sample 0: ")
                && e.getMessage().contains(CommonWordPool.ALL.size() + " distinct words"), e.getMessage());
    }
}
