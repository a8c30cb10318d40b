package dev.kimilinear.job.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code spark-submit --deploy-mode client APP_JAR eval JOB.yaml} against a standalone master:
 * org.apache.spark.deploy.SparkSubmit in a JVM of its own (the driver), started from the Spark
 * home as the spark-submit script would start it.
 */
final class SubmittedDriver {
    private static final Pattern APP_ID = Pattern.compile("app ID (app-\\S+)");

    private SubmittedDriver() {
    }

    /** Settings of the test's submits: small executors, one core each, both registered before the first job. */
    static Map<String, String> conf() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.executor.cores", "1");
        conf.put("spark.cores.max", "2");
        conf.put("spark.executor.memory", "512m");
        // two cores for every JVM of the test: no parallel collector threads fighting the engine
        conf.put("spark.executor.extraJavaOptions", "-XX:+UseSerialGC");
        conf.put("spark.driver.host", "127.0.0.1");
        conf.put("spark.driver.bindAddress", "127.0.0.1");
        conf.put("spark.ui.enabled", "false");
        conf.put("spark.ui.showConsoleProgress", "false");
        conf.put("spark.sql.shuffle.partitions", "2");
        // generation tasks are long next to moving a partition's prompts: take any free executor at once
        conf.put("spark.locality.wait", "0s");
        conf.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        conf.put("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s");
        return conf;
    }

    static JavaProcess start(String name, SparkHome home, StandaloneCluster cluster, Path appJar, Path job,
                             List<String> sets, Path dir) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", cluster.url(), "--deploy-mode", "client",
                "--class", "dev.kimilinear.cli.KimiCli", "--name", "kimi " + name));
        conf().forEach((k, v) -> args.addAll(List.of("--conf", k + "=" + v)));
        args.addAll(List.of(appJar.toString(), "eval", job.toString()));
        for (String set : sets) {
            args.addAll(List.of("--set", set));
        }
        return JavaProcess.start("driver " + name, home, List.of("-Xmx1g", "-XX:+UseSerialGC"), dir, dir.resolve(name + "-driver.log"),
                "org.apache.spark.deploy.SparkSubmit", args);
    }

    /** The application id the master gave the driver, from the driver's log. */
    static String applicationId(JavaProcess driver) {
        Matcher m = APP_ID.matcher(driver.logText());
        if (!m.find()) {
            throw new AssertionError("no application id in the driver's log\n" + driver.logTail(60));
        }
        return m.group(1);
    }
}
