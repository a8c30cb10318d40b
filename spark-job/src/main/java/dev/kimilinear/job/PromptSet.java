package dev.kimilinear.job;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.kimilinear.data.record.ErrorRecord;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.job.config.BenchmarkSpec;
import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.prompts.BenchmarkPrompts;
import dev.kimilinear.job.run.Fingerprints;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The prompt records of an eval job, built on the driver from each benchmark's inputs, with the
 * rows the adapters rejected, the subsets that cannot run (metrics rows marked not run, with the
 * reason), and content hashes of the inputs and of the records.
 */
record PromptSet(List<PromptRecord> records, List<ErrorRecord> errors, List<MetricRecord> notRun,
                 Map<String, String> inputHashes, String fingerprint) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static PromptSet build(JobConfig config, dev.kimilinear.tokenizer.KimiTokenizer tokenizer) {
        List<PromptRecord> records = new ArrayList<>();
        List<ErrorRecord> errors = new ArrayList<>();
        List<MetricRecord> notRun = new ArrayList<>();
        Map<String, String> inputs = new TreeMap<>();
        Set<String> ids = new HashSet<>();
        for (BenchmarkSpec b : config.benchmarks()) {
            for (Path p : new Path[]{b.input(), b.validation(), b.prompts(), b.ruler() == null ? null : b.ruler().essay()}) {
                if (p != null) {
                    inputs.put(b.name() + ":" + p, Fingerprints.of(p));
                }
            }
            BenchmarkPrompts.Built result;
            try {
                result = BenchmarkPrompts.build(b, tokenizer::count, config.engine().maxModelLength());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("benchmarks." + b.name() + ": " + e.getMessage(), e);
            }
            errors.addAll(result.errors());
            notRun.addAll(result.notRun());
            for (PromptRecord r : result.records()) {
                if (!ids.add(r.id())) {
                    errors.add(new ErrorRecord(b.name(), records.size(), "prompt id " + r.id()
                            + " appears more than once; the first is kept"));
                    continue;
                }
                records.add(r);
            }
        }
        return new PromptSet(records, errors, notRun, inputs, fingerprint(records));
    }

    private static String fingerprint(List<PromptRecord> records) {
        MessageDigest digest = Fingerprints.sha256();
        List<PromptRecord> sorted = new ArrayList<>(records);
        sorted.sort(Comparator.comparing(PromptRecord::id));
        try {
            for (PromptRecord r : sorted) {
                digest.update(JSON.writeValueAsString(r).getBytes(StandardCharsets.UTF_8));
                digest.update((byte) '\n');
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot hash prompt records", e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
