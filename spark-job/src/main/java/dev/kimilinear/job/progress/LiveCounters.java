package dev.kimilinear.job.progress;

import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.collection.Seq;
import scala.collection.JavaConverters;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Totals of named accumulators while a stage runs: what finished tasks added (the driver's
 * value) plus what running tasks report in their executors' heartbeats, which the driver's own
 * value only takes in when a task ends. Attach with {@code SparkContext.addSparkListener}.
 */
public final class LiveCounters extends SparkListener {
    private final Map<String, LongSupplier> byName = new HashMap<>();
    /** task id -> accumulator name -> the task's latest reported value */
    private final ConcurrentHashMap<Long, Map<String, Long>> running = new ConcurrentHashMap<>();

    /** Named accumulators (registered on the driver, so they have names). */
    public static LiveCounters of(List<LongAccumulator> accumulators) {
        Map<String, LongSupplier> committed = new HashMap<>();
        for (LongAccumulator a : accumulators) {
            String name = a.name().isDefined() ? a.name().get() : null;
            if (name == null || committed.putIfAbsent(name, a::value) != null) {
                throw new IllegalArgumentException("live counters need distinct names, got " + name);
            }
        }
        return new LiveCounters(committed);
    }

    /** @param committed each counter's name and its value on the driver */
    LiveCounters(Map<String, LongSupplier> committed) {
        byName.putAll(committed);
    }

    /** The committed total plus every running task's latest report. */
    public long value(LongAccumulator accumulator) {
        return value(accumulator.name().get());
    }

    long value(String name) {
        long total = byName.get(name).getAsLong();
        for (Map<String, Long> task : running.values()) {
            total += task.getOrDefault(name, 0L);
        }
        return total;
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        for (Tuple4<Object, Object, Object, Seq<AccumulableInfo>> t
                : JavaConverters.seqAsJavaListConverter(update.accumUpdates()).asJava()) {
            report((Long) t._1(), JavaConverters.seqAsJavaListConverter(t._4()).asJava());
        }
    }

    /** A running task's latest values (one heartbeat's worth). */
    void report(long taskId, List<AccumulableInfo> infos) {
        Map<String, Long> values = new HashMap<>();
        for (AccumulableInfo info : infos) {
            if (info.name().isDefined() && byName.containsKey(info.name().get()) && info.update().isDefined()
                    && info.update().get() instanceof Long v) {
                values.put(info.name().get(), v);
            }
        }
        if (!values.isEmpty()) {
            running.put(taskId, values);
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        // what a finished task added is in the driver's value now (or, if it failed, nowhere)
        running.remove(end.taskInfo().taskId());
    }

    void taskEnded(long taskId) {
        running.remove(taskId);
    }
}
