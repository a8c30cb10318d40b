package dev.kimilinear.job;

import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigException;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * The session of a job. Under spark-submit, what the submit set wins; the job's
 * {@code spark.conf} comes next, then its {@code spark.defaults} file; without any master
 * the job runs in local mode on every core.
 */
public final class SparkSessions {
    private SparkSessions() {
    }

    public static SparkConf conf(JobConfig config) {
        SparkConf conf = new SparkConf();
        if (config.spark().master() != null) {
            conf.setIfMissing("spark.master", config.spark().master());
        }
        for (Map.Entry<String, String> e : config.spark().conf().entrySet()) {
            conf.setIfMissing(e.getKey(), e.getValue());
        }
        if (config.spark().defaultsFile() != null) {
            try {
                int number = 0;
                for (String line : Files.readAllLines(config.spark().defaultsFile())) {
                    number++;
                    String trimmed = line.strip();
                    if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                        continue;
                    }
                    String[] kv = trimmed.split("\\s+|=", 2);
                    if (kv.length != 2 || kv[1].isBlank()) {
                        throw new JobConfigException(config.source(), List.of("spark.defaults: "
                                + config.spark().defaultsFile() + " line " + number + ": expected 'key value'"));
                    }
                    conf.setIfMissing(kv[0].strip(), kv[1].strip());
                }
            } catch (IOException e) {
                throw new JobConfigException(config.source(), List.of("spark.defaults: cannot read "
                        + config.spark().defaultsFile() + ": " + e.getMessage()));
            }
        }
        conf.setIfMissing("spark.master", "local[*]");
        String master = conf.get("spark.master");
        if (separateExecutors(master) && !conf.contains("spark.jars") && !conf.contains("spark.executor.extraClassPath")) {
            // launched by bin/kimi rather than spark-submit: no application jar travels to the
            // executors, so they start on this JVM's own class path (workers on this machine)
            conf.set("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        }
        if (master.startsWith("local-cluster")) {
            requireSparkHome(config, System.getenv());
        }
        conf.setIfMissing("spark.app.name", "kimi " + config.mode().name().toLowerCase(java.util.Locale.ROOT) + ": "
                + config.name());
        return conf;
    }

    /** Masters whose executors are JVMs of their own: local-cluster[...] and standalone spark://. */
    static boolean separateExecutors(String master) {
        return master.startsWith("local-cluster") || master.startsWith("spark://");
    }

    /**
     * local-cluster's workers launch executors from a Spark home: its jars/ and, when it is not a
     * build tree, a RELEASE file and SPARK_SCALA_VERSION. bin/kimi lays one out under
     * .cache/spark-home and sets both.
     */
    static void requireSparkHome(JobConfig config, Map<String, String> env) {
        String home = env.get("SPARK_HOME");
        String why = null;
        if (home == null || home.isBlank()) {
            why = "SPARK_HOME is not set";
        } else if (!Files.isDirectory(java.nio.file.Path.of(home, "jars"))) {
            why = "SPARK_HOME " + home + " has no jars/ folder";
        } else if (env.get("SPARK_SCALA_VERSION") == null
                && !Files.isDirectory(java.nio.file.Path.of(home, "launcher", "target"))) {
            why = "SPARK_SCALA_VERSION is not set and " + home + " is not a Spark build tree";
        }
        if (why != null) {
            throw new JobConfigException(config.source(), List.of("spark.master: local-cluster launches executor JVMs"
                    + " from a Spark home, but " + why + "; run through bin/kimi, which lays one out under"
                    + " .cache/spark-home, or point SPARK_HOME at a Spark distribution"));
        }
    }

    public static SparkSession start(JobConfig config) {
        return SparkSession.builder().config(conf(config)).getOrCreate();
    }
}
