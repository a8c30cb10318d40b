package dev.kimilinear.data.ruler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.record.OutputFormat;
import dev.kimilinear.data.record.PromptJson;
import dev.kimilinear.data.record.PromptOutput;
import dev.kimilinear.data.record.PromptReader;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.data.record.PromptSink;

class RulerGeneratorTest {
    @TempDir
    static Path inputs;

    @TempDir
    Path out;

    private static Path essay;
    private static Path squad;
    private static Path hotpotqa;

    @BeforeAll
    static void writeInputs() throws IOException {
        essay = RulerFixtures.essay(inputs);
        squad = RulerFixtures.squad(inputs);
        hotpotqa = RulerFixtures.hotpotqa(inputs);
    }

    private static RulerGenerator generator(TokenCounter counter, List<Integer> lengths, int samples, long seed,
                                            List<RulerTask> tasks, int threads) {
        return new RulerGenerator(counter, new RulerGenerator.Options(lengths, samples, tasks, seed, essay, squad,
                hotpotqa, threads));
    }

    @ParameterizedTest
    @EnumSource(RulerTask.class)
    void samplesFitTheirLengthAndHoldTheirAnswers(RulerTask task) {
        RulerGenerator generator = generator(TestCounters.WORDS, List.of(4096, 16384), 3, 11, List.of(task), 1);
        for (int length : List.of(4096, 16384)) {
            for (int index = 0; index < 3; index++) {
                RulerSample sample = generator.sample(task, length, index);
                assertFits(task, length, sample, TestCounters.WORDS);
                assertRecoverable(task, sample);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RulerTask.class)
    void samplesFitUnderOtherTokenizers(RulerTask task) {
        for (TokenCounter counter : List.of(TestCounters.BYTES, TestCounters.TRIGRAMS)) {
            RulerGenerator generator = generator(counter, List.of(32768), 1, 3, List.of(task), 1);
            RulerSample sample = generator.sample(task, 32768, 0);
            assertFits(task, 32768, sample, counter);
            assertRecoverable(task, sample);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RulerTask.class, names = {"NIAH_SINGLE_1", "NIAH_SINGLE_2", "NIAH_MULTIKEY_2", "NIAH_MULTIKEY_3",
            "VT", "CWE", "FWE", "QA_2"})
    void millionTokenSamplesFitToo(RulerTask task) {
        int length = 1 << 20;
        RulerGenerator generator = generator(TestCounters.BYTES, List.of(length), 1, 5, List.of(task), 1);
        RulerSample sample = generator.sample(task, length, 0);
        assertFits(task, length, sample, TestCounters.BYTES);
        assertRecoverable(task, sample);
    }

    @Test
    void theSameSeedGivesTheSameBytesWhateverTheThreads() throws IOException {
        List<RulerTask> tasks = List.of(RulerTask.values());
        byte[] first = write(generator(TestCounters.WORDS, List.of(4096), 3, 7, tasks, 1), out.resolve("a"));
        byte[] second = write(generator(TestCounters.WORDS, List.of(4096), 3, 7, tasks, 3), out.resolve("b"));
        byte[] other = write(generator(TestCounters.WORDS, List.of(4096), 3, 8, tasks, 2), out.resolve("c"));

        assertArrayEquals(first, second);
        assertFalse(Arrays.equals(first, other));
        List<PromptRecord> records = PromptReader.read(out.resolve("a").resolve("prompts.jsonl"));
        assertEquals(13 * 3, records.size());
        assertEquals("ruler/niah_single_1@4096/0", records.get(0).id());
        assertEquals("vt@4096", records.get(8 * 3).subset());
        JsonNode reference = PromptJson.MAPPER.readTree(records.get(0).reference());
        assertEquals(128, records.get(0).sampling().maxTokens());
        assertEquals("string_match_all", reference.get("metric").asText());
        assertEquals("string_match_part", PromptJson.MAPPER.readTree(records.get(12 * 3).reference()).get("metric").asText());
        assertTrue(records.get(0).prompt().endsWith(reference.get("answer_prefix").asText()));
        assertEquals(TestCounters.WORDS.count(records.get(0).prompt()), reference.get("input_tokens").asInt());
    }

    @Test
    void differentSamplesDiffer() {
        RulerGenerator generator = generator(TestCounters.WORDS, List.of(4096), 2, 7, List.of(RulerTask.values()), 1);
        for (RulerTask task : RulerTask.values()) {
            assertFalse(generator.sample(task, 4096, 0).prompt().equals(generator.sample(task, 4096, 1).prompt()), task.taskName());
        }
    }

    @Test
    void singleNeedlePromptsUseTheSingularWording() {
        RulerSample sample = generator(TestCounters.WORDS, List.of(4096), 1, 1, List.of(RulerTask.NIAH_SINGLE_1), 1)
                .sample(RulerTask.NIAH_SINGLE_1, 4096, 0);
        assertTrue(sample.prompt().startsWith("A special magic number is hidden within the following text. Make sure to "
                + "memorize it. I will quiz you about the number afterwards.\nThe grass is green."), sample.prompt().substring(0, 200));
        assertTrue(sample.prompt().contains("\nWhat is the special magic number for "));
        assertTrue(sample.answerPrefix().startsWith(" The special magic number for ")
                && sample.answerPrefix().endsWith(" mentioned in the provided text is"), sample.answerPrefix());
        assertTrue(sample.outputs().get(0).matches("\\d{7}"));

        RulerSample multi = generator(TestCounters.WORDS, List.of(4096), 1, 1, List.of(RulerTask.NIAH_MULTIQUERY), 1)
                .sample(RulerTask.NIAH_MULTIQUERY, 4096, 0);
        assertTrue(multi.prompt().startsWith("Some special magic numbers are hidden"));
        assertEquals(4, multi.outputs().size());
        assertTrue(multi.answerPrefix().matches(" The special magic numbers for \\S+, \\S+, \\S+, and \\S+ mentioned in the provided text are"),
                multi.answerPrefix());
    }

    @Test
    void tasksWithoutTheirInputsAreSkippedWithAMessage() throws IOException {
        RulerGenerator generator = new RulerGenerator(TestCounters.WORDS, new RulerGenerator.Options(List.of(4096), 1,
                List.of(RulerTask.values()), 0, null, null, null, 1));
        List<String> skipped = generator.skipped();
        assertEquals(7, skipped.size(), skipped.toString());
        assertTrue(skipped.contains("niah_single_2: skipped, needs essay text (--essay FILE)"), skipped.toString());
        assertTrue(skipped.contains("qa_1: skipped, needs the SQuAD v2 dev JSON (--squad FILE)"), skipped.toString());
        assertTrue(skipped.contains("qa_2: skipped, needs the HotpotQA dev JSON (--hotpotqa FILE)"), skipped.toString());
        assertEquals(List.of(RulerTask.NIAH_SINGLE_2, RulerTask.NIAH_SINGLE_3, RulerTask.NIAH_MULTIKEY_1,
                        RulerTask.NIAH_MULTIVALUE, RulerTask.NIAH_MULTIQUERY, RulerTask.QA_1, RulerTask.QA_2),
                generator.skips().stream().map(RulerGenerator.Skip::task).toList());
        assertTrue(generator.skips().contains(new RulerGenerator.Skip(RulerTask.QA_1, RulerTask.Source.SQUAD)));
        assertTrue(generator.skips().contains(new RulerGenerator.Skip(RulerTask.NIAH_SINGLE_3, RulerTask.Source.ESSAY)));
        try (PromptSink sink = PromptOutput.open(out, OutputFormat.JSONL)) {
            assertEquals(6, generator.write(sink, line -> { }).written());
        }
    }

    @Test
    void aNamedInputThatIsMissingOrWrongIsAnError() throws IOException {
        InputException missing = assertThrows(InputException.class, () -> new RulerGenerator(TestCounters.WORDS,
                new RulerGenerator.Options(List.of(4096), 1, List.of(RulerTask.QA_1), 0, null, inputs.resolve("none.json"),
                        null, 1)));
        assertTrue(missing.getMessage().contains("none.json"), missing.getMessage());
        InputException wrongShape = assertThrows(InputException.class, () -> new RulerGenerator(TestCounters.WORDS,
                new RulerGenerator.Options(List.of(4096), 1, List.of(RulerTask.QA_1), 0, null, hotpotqa, null, 1)));
        assertTrue(wrongShape.getMessage().contains("not SQuAD JSON"), wrongShape.getMessage());
    }

    /** vt as RULER's template writes it: hop lines with a trailing space, a blank line after the solved example. */
    @Test
    void variableTrackingLinesAsTheOfficialTemplate() {
        RulerGenerator generator = generator(TestCounters.WORDS, List.of(4096), 1, 5, List.of(RulerTask.VT), 1);
        RulerSample sample = generator.sample(RulerTask.VT, 4096, 0);
        String prompt = sample.prompt();
        java.util.regex.Matcher hop = java.util.regex.Pattern.compile("(?m)^VAR [A-Z]{5} = VAR [A-Z]{5}(.?)$")
                .matcher(prompt);
        int hops = 0;
        while (hop.find()) {
            assertEquals(" ", hop.group(1), "hop line ends in a space");
            hops++;
        }
        assertEquals(4, hops);
        int task = prompt.lastIndexOf("Memorize and track");
        assertTrue(task > 0 && prompt.startsWith("\n\n", task - 2) && !prompt.startsWith("\n\n\n", task - 3),
                "one blank line between the solved example and the task");
        java.util.regex.Matcher value = java.util.regex.Pattern.compile("(?m)^VAR [A-Z]{5} = (\\d+)$").matcher(prompt);
        assertTrue(value.find());
        long v = Long.parseLong(value.group(1));
        assertTrue(v >= 10000 && v <= 99998, "value " + v);
    }

    /** qa shuffles its documents as qa.py does: random.Random(seed).shuffle, the same for every sample. */
    @Test
    void qaDocumentsShuffleWithTheRunSeedOnEveryCall() {
        long seed = 42;
        RulerGenerator generator = generator(TestCounters.WORDS, List.of(4096), 1, seed, List.of(RulerTask.QA_1), 1);
        RulerSample sample = generator.sample(RulerTask.QA_1, 4096, 0);
        String[] parts = sample.prompt().split("\n\nDocument \\d+:\n|Document 1:\n");
        List<String> documents = new ArrayList<>(java.util.Arrays.asList(parts).subList(1, parts.length));
        String lastWithTail = documents.get(documents.size() - 1);
        documents.set(documents.size() - 1, lastWithTail.substring(0, lastWithTail.indexOf("\n\nAnswer the question")));
        List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            slots.add(i);
        }
        new dev.kimilinear.python.PythonRandom(seed).shuffle(slots);
        // the gold document, first before the shuffle, lands where the seeded shuffle puts item 0
        assertEquals("The Amazon carries more water than any other river. Its basin covers seven million square "
                + "kilometres.", documents.get(slots.indexOf(0)));
        // undoing the seeded shuffle gives the documents in their planned order: one pass over the
        // distinct documents, repeated (the last may be cut short)
        List<String> planned = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            planned.add(documents.get(slots.indexOf(i)));
        }
        int distinct = new java.util.HashSet<>(planned).size() - 1;
        assertTrue(planned.size() > 2 * distinct, "several passes over the documents: " + planned.size());
        for (int i = distinct; i < planned.size() - 1; i++) {
            assertEquals(planned.get(i % distinct), planned.get(i), "planned document " + i);
        }
    }

    /** A sentence of any length stays whole: needles never land inside one. */
    @Test
    void longSentencesAreNeverCut() {
        String longSentence = "Then " + String.join(" ", java.util.Collections.nCopies(300, "word")) + " end.";
        Essay essay = new Essay("Short one. " + longSentence + " Another short one.", "t");
        List<String> sentences = essay.sentences(essay.wordCount());
        assertEquals(List.of("Short one.", longSentence, "Another short one."), sentences);
    }

    /** RULER's own PaulGrahamEssays.json ({"text": ...}) reads as the same essay as its text. */
    @Test
    void theOfficialEssaysJsonIsReadThroughItsTextField() throws IOException {
        String text = Files.readString(essay);
        Path json = inputs.resolve("PaulGrahamEssays.json");
        Files.writeString(json, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                java.util.Map.of("text", text)));
        List<RulerTask> tasks = List.of(RulerTask.NIAH_SINGLE_2, RulerTask.NIAH_MULTIVALUE);
        RulerGenerator fromText = generator(TestCounters.WORDS, List.of(4096), 2, 3, tasks, 1);
        RulerGenerator fromJson = new RulerGenerator(TestCounters.WORDS, new RulerGenerator.Options(List.of(4096), 2,
                tasks, 3, json, squad, hotpotqa, 1));
        for (RulerTask task : tasks) {
            RulerSample a = fromText.sample(task, 4096, 1);
            RulerSample b = fromJson.sample(task, 4096, 1);
            assertEquals(a, b, task.toString());
            assertTrue(!b.toString().contains("{\"text\"") && !b.toString().contains("\\n"), task.toString());
        }
        Path wrong = inputs.resolve("essays-wrong.json");
        Files.writeString(wrong, "{\"essays\": \"x\"}");
        InputException e = assertThrows(InputException.class, () -> new RulerGenerator(TestCounters.WORDS,
                new RulerGenerator.Options(List.of(4096), 1, List.of(RulerTask.NIAH_SINGLE_2), 0, wrong, null, null, 1)));
        assertTrue(e.getMessage().contains("field 'text'") && e.getMessage().contains("fields [essays]"),
                e.getMessage());
    }

    @Test
    void aLengthTooShortForTheFixedTextIsAClearError() {
        RulerGenerator generator = generator(TestCounters.BYTES, List.of(512), 1, 0, List.of(RulerTask.CWE), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> generator.sample(RulerTask.CWE, 512, 0));
        assertTrue(e.getMessage().startsWith("cwe@512 sample 0"), e.getMessage());
    }

    private static byte[] write(RulerGenerator generator, Path dir) throws IOException {
        try (PromptSink sink = PromptOutput.open(dir, OutputFormat.JSONL)) {
            generator.write(sink, line -> { });
            return Files.readAllBytes(sink.commit());
        }
    }

    private static void assertFits(RulerTask task, int length, RulerSample sample, TokenCounter counter) {
        int tokens = counter.count(sample.prompt());
        assertEquals(tokens, sample.inputTokens(), "recorded input tokens are the prompt's real count");
        long total = tokens + task.tokensToGenerate();
        assertTrue(total <= length, task.taskName() + "@" + length + ": " + total + " tokens is over the length");
        assertTrue(total >= Math.ceil(length * 0.98), task.taskName() + "@" + length + ": " + total + " tokens is more than 2% short");
        assertTrue(sample.prompt().endsWith(sample.answerPrefix()));
    }

    private static void assertRecoverable(RulerTask task, RulerSample sample) {
        if (task.family() == RulerTask.Family.QA) {
            String context = sample.prompt().substring(0, sample.prompt().lastIndexOf("Question:"));
            assertTrue(sample.outputs().stream().anyMatch(context::contains), "an answer is in the documents");
            return;
        }
        assertEquals(new HashSet<>(sample.outputs()), RulerAnswers.solve(task, sample.prompt()), task.taskName());
    }
}
