package dev.kimilinear.data.mmlupro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.input.ParsedRows;
import dev.kimilinear.data.mmlupro.MmluProFixtures.Q;
import dev.kimilinear.data.record.AdapterResult;
import dev.kimilinear.data.record.ErrorRecord;
import dev.kimilinear.data.record.PromptJson;
import dev.kimilinear.data.record.PromptRecord;

class MmluProAdapterTest {
    private static final String COT = "A: Let's think step by step. One plus one is two. The answer is (B).";

    @TempDir
    Path dir;

    private static List<Q> validation() {
        List<Q> rows = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            rows.add(new Q(100 + i, "Example " + i + "?", List.of("x" + i, "y" + i), 1,
                    "A: Let's think step by step. Worked " + i + ". The answer is (B).", "math"));
        }
        rows.add(new Q(200, "Law example?", List.of("p", "q", "r"), 2, "A: Let's think step by step. Law. The answer is (C).", "law"));
        return rows;
    }

    private static List<Q> test() {
        return List.of(
                new Q(1, "What is 2+2?", List.of("4", "5"), 0, "", "math"),
                new Q(2, "Is this law?", List.of("yes", "no", "maybe", "n/a"), 3, "", "law"),
                new Q(3, "What is 3+3?", List.of("5", "6", "7"), 1, "", "math"));
    }

    @Test
    void officialPromptLayoutIsExact() {
        MmluProQuestion example = new MmluProQuestion(9, "What is 1+1?", List.of("1", "2", "3"), "B", 1, COT, "math", "s");
        MmluProQuestion question = new MmluProQuestion(10, "What is 2+2?", List.of("4", "5"), "A", 0, "", "math", "s");

        String expected = "The following are multiple choice questions (with answers) about math. Think step by step "
                + "and then finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n\n\n\n"
                + "Question:\nWhat is 1+1?\nOptions:\nA. 1\nB. 2\nC. 3\n"
                + "Answer: Let's think step by step. One plus one is two. The answer is (B).\n\n"
                + "Question:\nWhat is 2+2?\nOptions:\nA. 4\nB. 5\n"
                + "Answer: Let's think step by step.";
        assertEquals(expected, MmluProPrompt.build(question, List.of(example)));
    }

    @Test
    void zeroShotPromptIsTheHeaderAndTheQuestion() {
        MmluProQuestion question = new MmluProQuestion(10, "Q?", List.of("a"), "A", 0, null, "law", null);
        assertEquals("The following are multiple choice questions (with answers) about law. Think step by step and then "
                + "finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n\n\n\n"
                + "Question:\nQ?\nOptions:\nA. a\nAnswer: Let's think step by step.", MmluProPrompt.build(question, List.of()));
    }

    /**
     * evaluate_from_local.py's rules, written out by hand: the header then four newlines
     * (initial_prompt.txt ends in three, the script adds one), "N/A" options dropped before
     * lettering in examples and question alike, and worked examples dropped from the end while
     * the prompt is not shorter than the model's length minus 2048.
     */
    @Test
    void officialPreprocessingAndLengthRule() throws IOException {
        List<Q> val = List.of(
                new Q(101, "E1?", List.of("x", "N/A", "y"), 1, "A: Let's think step by step. One. The answer is (B).", "math"),
                new Q(102, "E2?", List.of("p", "q"), 0, "A: Let's think step by step. Two. The answer is (A).", "math"));
        List<Q> tst = List.of(new Q(1, "T?", List.of("4", "5", "N/A", "N/A"), 1, "", "math"));
        Path v = MmluProFixtures.jsonList(dir.resolve("v.json"), val);
        Path t = MmluProFixtures.jsonList(dir.resolve("t.json"), tst);
        String header = "The following are multiple choice questions (with answers) about math. Think step by step and "
                + "then finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n\n\n\n";
        String e1 = "Question:\nE1?\nOptions:\nA. x\nB. y\nAnswer: Let's think step by step. One. The answer is (B).\n\n";
        String e2 = "Question:\nE2?\nOptions:\nA. p\nB. q\nAnswer: Let's think step by step. Two. The answer is (A).\n\n";
        String q = "Question:\nT?\nOptions:\nA. 4\nB. 5\nAnswer: Let's think step by step.";

        AdapterResult all = MmluProAdapter.adapt(t, v, new MmluProAdapter.Options(5, List.of(), null, null, false));
        assertEquals(header + e1 + e2 + q, all.records().get(0).prompt());
        JsonNode reference = PromptJson.MAPPER.readTree(all.records().get(0).reference());
        assertEquals(2, reference.get("num_options").asInt());

        // a counter of characters: the budget fits the prompt with one example, not with two
        dev.kimilinear.data.ruler.TokenCounter chars = String::length;
        int oneFits = (header + e1 + q).length() + 1;
        AdapterResult cut = MmluProAdapter.adapt(t, v, new MmluProAdapter.Options(5, List.of(), null, null, false,
                new MmluProAdapter.PromptBudget(chars, oneFits)));
        assertEquals(header + e1 + q, cut.records().get(0).prompt());
        assertEquals(1, PromptJson.MAPPER.readTree(cut.records().get(0).reference()).get("shots").asInt());
        // at exactly the prompt's length it is too long (the official test is length < budget)
        AdapterResult none = MmluProAdapter.adapt(t, v, new MmluProAdapter.Options(5, List.of(), null, null, false,
                new MmluProAdapter.PromptBudget(chars, (header + e1 + q).length())));
        assertEquals(header + q, none.records().get(0).prompt());
        assertEquals(8192 - 2048, MmluProAdapter.PromptBudget.forModel(chars, 8192).maxPromptTokens());
    }

    @ParameterizedTest
    @ValueSource(strings = {"element", "item"})
    void fiveShotPromptsUseTheFirstFiveValidationExamplesOfTheCategory(String elementName) throws IOException {
        Path val = MmluProFixtures.parquet(dir.resolve("validation.parquet"), elementName, validation());
        Path tst = MmluProFixtures.parquet(dir.resolve("test.parquet"), elementName, test());

        AdapterResult result = MmluProAdapter.adapt(tst, val, new MmluProAdapter.Options(5, List.of(), null, null, false));

        assertEquals(List.of(), result.errors());
        assertEquals(List.of("mmlu-pro/math/1", "mmlu-pro/law/2", "mmlu-pro/math/3"),
                result.records().stream().map(PromptRecord::id).toList());
        PromptRecord first = result.records().get(0);
        String prompt = first.prompt();
        assertTrue(first.messages().isEmpty());
        for (int i = 1; i <= 5; i++) {
            assertTrue(prompt.contains("Question:\nExample " + i + "?\nOptions:\nA. x" + i + "\nB. y" + i
                    + "\nAnswer: Let's think step by step. Worked " + i + ". The answer is (B).\n\n"), "example " + i);
        }
        assertTrue(prompt.indexOf("Example 1?") < prompt.indexOf("Example 5?"));
        assertTrue(!prompt.contains("Example 6?") && !prompt.contains("Law example"));
        assertTrue(prompt.endsWith("Question:\nWhat is 2+2?\nOptions:\nA. 4\nB. 5\nAnswer: Let's think step by step."));
        assertEquals(2048, first.sampling().maxTokens());
        assertEquals(List.of("Question:"), first.sampling().stop());

        JsonNode reference = PromptJson.MAPPER.readTree(result.records().get(1).reference());
        assertEquals("D", reference.get("answer").asText());
        assertEquals(3, reference.get("answer_index").asInt());
        assertEquals(4, reference.get("num_options").asInt());
        assertEquals(1, reference.get("shots").asInt());
    }

    @Test
    void fiveShotsWithoutTheValidationSplitIsAClearError() throws IOException {
        Path tst = MmluProFixtures.jsonList(dir.resolve("test.json"), test());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(5, List.of(), null, null, false)));
        assertTrue(e.getMessage().contains("--validation"), e.getMessage());

        AdapterResult zeroShot = MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of(), null, null, true));
        assertEquals(3, zeroShot.records().size());
        assertEquals(1, zeroShot.records().get(0).messages().size());
        assertTrue(zeroShot.records().get(0).messages().get(0).content().startsWith("The following are"));
    }

    @Test
    void malformedParquetRowsBecomeErrorsAndTheRestLoads() throws IOException {
        List<Q> rows = new ArrayList<>(test());
        rows.add(new Q(4L, "Out of range?", List.of("a", "b"), "C", 2L, "", "math", null));
        rows.add(new Q(5L, "No options?", List.of(), "A", 0L, "", "math", null));
        rows.add(new Q(6L, null, List.of("a"), "A", 0L, "", "math", new byte[] {'b', 'a', 'd', (byte) 0xC3, '('}));
        rows.add(new Q(7L, "No index?", List.of("a"), "A", null, "", "math", null));
        rows.add(new Q(8L, "Wrong letter?", List.of("a", "b"), "C", 1L, "", "math", null));
        Path tst = MmluProFixtures.parquet(dir.resolve("test.parquet"), "element", rows);

        ParsedRows<MmluProQuestion> parsed = MmluProReader.read(tst);

        assertEquals(3, parsed.rows().size());
        Map<Long, String> reasons = parsed.errors().stream()
                .collect(Collectors.toMap(ErrorRecord::row, ErrorRecord::reason, (a, b) -> a, TreeMap::new));
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L), List.copyOf(reasons.keySet()));
        assertTrue(reasons.get(4L).contains("answer_index 2 is out of range"), reasons.get(4L));
        assertTrue(reasons.get(5L).contains("empty list"), reasons.get(5L));
        assertTrue(reasons.get(6L).contains("bad encoding"), reasons.get(6L));
        assertTrue(reasons.get(7L).contains("answer_index is missing"), reasons.get(7L));
        assertTrue(reasons.get(8L).contains("answer 'C' is out of range for 2 options"), reasons.get(8L));
        parsed.errors().forEach(e -> assertEquals(tst.toString(), e.source()));
    }

    @Test
    void malformedJsonElementsBecomeErrorsAndTheRestLoads() throws IOException {
        String good = PromptJson.write(MmluProFixtures.json(test().get(0)));
        String missingCategory = PromptJson.write(MmluProFixtures.json(new Q(2L, "Q?", List.of("a"), "A", 0L, "", null, null)));
        byte[] badBytes = "{\"question_id\": 3, \"question\": \"bad \u0000\"}".replace("\u0000", "#").getBytes(StandardCharsets.UTF_8);
        badBytes[badBytes.length - 3] = (byte) 0xFF;
        Path file = dir.resolve("test.json");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(("[" + good + ",\n" + missingCategory + ",\n").getBytes(StandardCharsets.UTF_8));
            out.write(badBytes);
            out.write(",\n{\"question_id\": 4, \"question\": }\n, 17]".getBytes(StandardCharsets.UTF_8));
        }

        ParsedRows<MmluProQuestion> parsed = MmluProReader.read(file);

        assertEquals(List.of(1L), parsed.rows().stream().map(ParsedRows.Row::number).toList());
        List<String> reasons = parsed.errors().stream().map(e -> e.row() + ": " + e.reason()).toList();
        assertEquals(4, reasons.size(), reasons.toString());
        assertTrue(reasons.get(0).startsWith("2: field category"), reasons.toString());
        assertTrue(reasons.get(1).startsWith("3: bad encoding"), reasons.toString());
        assertTrue(reasons.get(2).startsWith("4: not valid JSON"), reasons.toString());
        assertTrue(reasons.get(3).startsWith("5: expected a question object"), reasons.toString());
    }

    @Test
    void aZipHoldingTheJsonListIsReadDirectly() throws IOException {
        byte[] json = Files.readAllBytes(MmluProFixtures.jsonList(dir.resolve("t.json"), test()));
        Path zip = dir.resolve("outputs.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("model_outputs.json"));
            out.write(json);
            out.closeEntry();
        }
        assertEquals(MmluProReader.read(dir.resolve("t.json")).values(), MmluProReader.read(zip).values());
    }

    @Test
    void categoriesAndLimitsFilterTheQuestions() throws IOException {
        Path tst = MmluProFixtures.jsonList(dir.resolve("test.json"), test());

        AdapterResult math = MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of("math"), null, null, false));
        assertEquals(List.of("mmlu-pro/math/1", "mmlu-pro/math/3"), math.records().stream().map(PromptRecord::id).toList());

        AdapterResult firstTwo = MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of(), 2, null, false));
        assertEquals(List.of("mmlu-pro/math/1", "mmlu-pro/law/2"), firstTwo.records().stream().map(PromptRecord::id).toList());

        AdapterResult seeded = MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of(), 2, 7L, false));
        assertEquals(seeded, MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of(), 2, 7L, false)));
        assertEquals(2, seeded.records().size());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmluProAdapter.adapt(tst, null, new MmluProAdapter.Options(0, List.of("astrology"), null, null, false)));
        assertTrue(e.getMessage().contains("astrology") && e.getMessage().contains("known: law, math"), e.getMessage());
    }

    @Test
    void wrongOrMissingFilesAreClearErrors() throws IOException {
        Path csv = Files.writeString(dir.resolve("mmlu.csv"), "question,options\nq,a\n");
        InputException wrong = assertThrows(InputException.class, () -> MmluProReader.read(csv));
        assertTrue(wrong.getMessage().contains("mmlu.csv") && wrong.getMessage().contains("expected MMLU-Pro"),
                wrong.getMessage());
        InputException missing = assertThrows(InputException.class, () -> MmluProReader.read(dir.resolve("absent.parquet")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }

    @Test
    void theRealTestSplitLoadsCompletely() {
        Path zip = Path.of("../../shared/benchmarks/mmlu-pro/model_outputs_Meta-Llama-3_1-8B-Instruct_5shots.zip")
                .toAbsolutePath().normalize();
        assumeTrue(Files.exists(zip), "real MMLU-Pro file not present");

        AdapterResult result = MmluProAdapter.adapt(zip, null, new MmluProAdapter.Options(0, List.of(), null, null, false));

        assertEquals(List.of(), result.errors());
        assertEquals(12032, result.records().size());
        Map<String, Long> perCategory = result.records().stream()
                .collect(Collectors.groupingBy(PromptRecord::subset, TreeMap::new, Collectors.counting()));
        assertEquals(14, perCategory.size());
        assertEquals(1351L, perCategory.get("math"));
        assertEquals(381L, perCategory.get("history"));
        assertEquals(410L, perCategory.get("computer science"));
        assertEquals(12032, result.records().stream().map(PromptRecord::id).distinct().count());
        assertNotEquals(result.records().get(0).prompt(), result.records().get(1).prompt());
    }
}
