package dev.kimilinear.eval.humaneval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kimilinear.eval.metrics.ConfidenceIntervals;
import dev.kimilinear.eval.metrics.Grouping;
import dev.kimilinear.eval.metrics.Interval;
import dev.kimilinear.eval.metrics.PassAtK;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.References;
import dev.kimilinear.eval.scoring.ScoringInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * HumanEval: each sample's program runs in the {@link PythonSandbox}; a sample passes when the
 * program completes. Metrics: pass@k (the unbiased estimator, averaged over tasks) for k in
 * {1, 10, 100} up to the smallest number of samples any task has.
 */
public final class HumanEvalScorer implements BenchmarkScorer {

  public static final String BENCHMARK = "humaneval";
  static final int[] KS = {1, 10, 100};

  private final PythonSandbox sandbox;

  public HumanEvalScorer(PythonSandbox sandbox) {
    this.sandbox = sandbox;
  }

  @Override
  public String benchmark() {
    return BENCHMARK;
  }

  @Override
  public boolean needsPromptText() {
    return true;
  }

  /** The program for one sample, from the prompt, its reference and the generated text. */
  public static String program(ScoringInput in) {
    PromptRecord p = in.prompt();
    JsonNode ref = References.parse(p);
    String test = References.text(p, ref, "test");
    String entryPoint = References.text(p, ref, "entry_point");
    String prompt = References.optionalText(ref, "prompt");
    if (prompt == null) {
      prompt = p.prompt();
    }
    if (prompt == null) {
      throw new IllegalArgumentException("prompt " + p.id()
          + ": neither the record's 'prompt' nor the reference's 'prompt' holds the function stub");
    }
    String text = in.generation().text();
    String completion = p.isChat() ? HumanEvalProgram.codeOfChatReply(text) : text;
    return HumanEvalProgram.build(prompt, completion, test, entryPoint);
  }

  @Override
  public List<ScoreRecord> score(List<ScoringInput> inputs) {
    List<String> programs = inputs.stream().map(HumanEvalScorer::program).toList();
    ExecutorService pool = Executors.newFixedThreadPool(sandbox.config().parallelism(), r -> {
      Thread t = new Thread(r, "humaneval-sandbox");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<SandboxResult>> futures = new ArrayList<>();
      for (String program : programs) {
        futures.add(pool.submit(() -> sandbox.run(program)));
      }
      List<ScoreRecord> out = new ArrayList<>(inputs.size());
      for (int i = 0; i < inputs.size(); i++) {
        ScoringInput in = inputs.get(i);
        SandboxResult r;
        try {
          r = futures.get(i).get();
        } catch (ExecutionException e) {
          throw new IllegalStateException("sandbox failed on " + in.prompt().id() + " sample "
              + in.generation().sample() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while scoring HumanEval", e);
        }
        out.add(new ScoreRecord(in.prompt().id(), BENCHMARK, in.prompt().subset(), in.generation().sample(),
            null, r.passed(), r.passed() ? 1.0 : 0.0, r.passed() ? null : r.reason(),
            r.passed() ? null : r.stdoutTail(), r.passed() ? null : r.stderrTail()));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Override
  public List<MetricRecord> metrics(List<ScoreRecord> scores, Map<String, PromptRecord> promptsById) {
    Map<String, List<ScoreRecord>> groups = Grouping.allThenBySubset(scores);
    List<MetricRecord> out = new ArrayList<>();
    for (Map.Entry<String, List<ScoreRecord>> g : groups.entrySet()) {
      out.addAll(passAtK(g.getKey(), g.getValue()));
    }
    return out;
  }

  /** pass@k per task, averaged; the interval is over tasks. */
  static List<MetricRecord> passAtK(String subset, List<ScoreRecord> scores) {
    Map<String, List<ScoreRecord>> byTask = Grouping.by(scores, ScoreRecord::id);
    int minSamples = byTask.values().stream().mapToInt(List::size).min().orElse(0);
    List<MetricRecord> out = new ArrayList<>();
    for (int k : KS) {
      if (k > minSamples) {
        break;
      }
      double[] perTask = byTask.values().stream().mapToDouble(samples -> PassAtK.estimate(samples.size(),
          (int) samples.stream().filter(ScoreRecord::correct).count(), k)).toArray();
      double mean = java.util.Arrays.stream(perTask).average().orElse(Double.NaN);
      Interval ci = ConfidenceIntervals.ofMean(perTask);
      out.add(new MetricRecord(BENCHMARK, subset, "pass@" + k, mean, perTask.length, ci.low(), ci.high()));
    }
    return out;
  }
}
