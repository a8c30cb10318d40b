package dev.kimilinear.job.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.job.config.BenchmarkSpec;
import dev.kimilinear.job.config.SamplingOverride;

import org.junit.jupiter.api.Test;

import java.util.List;

class BenchmarkPromptsTest {

    @Test
    void aRulerTaskWithoutItsInputFileBecomesANotRunRowAtEachLength() {
        BenchmarkSpec spec = new BenchmarkSpec(BenchmarkSpec.RULER, null, null, null, 0, 7L, 0, false, 1,
                new BenchmarkSpec.RulerSpec(List.of("niah_single_1", "niah_single_2", "qa_2"), List.of(512, 1024), 1, null),
                SamplingOverride.NONE, null);
        // whitespace words stand in for a model's tokens
        BenchmarkPrompts.Built built = BenchmarkPrompts.build(spec, text -> text.split("\\s+").length);
        assertEquals(2, built.records().size());
        assertEquals(List.of("niah_single_2@512", "niah_single_2@1024", "qa_2@512", "qa_2@1024"),
                built.notRun().stream().map(MetricRecord::subset).toList());
        MetricRecord essay = built.notRun().get(0);
        assertEquals("ruler", essay.benchmark());
        assertEquals("string_match_all", essay.metric());
        assertEquals("not run (no essay file: benchmarks.ruler.essay is not set)", essay.notRunText());
        MetricRecord hotpot = built.notRun().get(3);
        assertEquals("string_match_part", hotpot.metric());
        assertEquals("not run (no HotpotQA file: benchmarks.ruler.hotpotqa is not set)", hotpot.notRunText());
        // the run's errors say it too, in the job's words
        assertTrue(built.errors().stream().anyMatch(e -> e.reason()
                .equals("qa_2: not run, no HotpotQA file: benchmarks.ruler.hotpotqa is not set")), built.errors().toString());
    }
}
