package dev.kimilinear.job;

import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigException;
import dev.kimilinear.job.config.JobConfigReader;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Executor JVMs launched by bin/kimi get the driver's class path; local-cluster needs a Spark home. */
class SparkSessionsTest {
    static JobConfig demo(String... overrides) {
        List<String> all = new java.util.ArrayList<>(List.of("spark.defaults=../conf/spark/local.conf"));
        all.addAll(List.of(overrides));
        return JobConfigReader.read(Path.of("../conf/jobs/demo.yaml"), all);
    }

    @Test
    void standaloneExecutorsStartOnTheDriversClassPathUnlessAJarTravels() {
        SparkConf standalone = SparkSessions.conf(demo("spark.master=spark://127.0.0.1:7077"));
        assertEquals(System.getProperty("java.class.path"), standalone.get("spark.executor.extraClassPath"));
        SparkConf local = SparkSessions.conf(demo());
        assertFalse(local.contains("spark.executor.extraClassPath"), "one JVM needs no executor class path");
        SparkConf submitted = SparkSessions.conf(demo("spark.master=spark://127.0.0.1:7077",
                "spark.conf.spark.jars=/opt/app.jar"));
        assertFalse(submitted.contains("spark.executor.extraClassPath"), "the application jar travels instead");
    }

    @Test
    void localClusterNamesWhatItsSparkHomeLacks(@TempDir Path dir) throws Exception {
        JobConfig job = demo("spark.master=local-cluster[2,1,1024]");
        JobConfigException none = assertThrows(JobConfigException.class,
                () -> SparkSessions.requireSparkHome(job, Map.of()));
        assertTrue(none.getMessage().contains("SPARK_HOME is not set") && none.getMessage().contains("bin/kimi"),
                none.getMessage());
        JobConfigException noJars = assertThrows(JobConfigException.class,
                () -> SparkSessions.requireSparkHome(job, Map.of("SPARK_HOME", dir.toString())));
        assertTrue(noJars.getMessage().contains("has no jars/ folder"), noJars.getMessage());
        Files.createDirectories(dir.resolve("jars"));
        JobConfigException noScala = assertThrows(JobConfigException.class,
                () -> SparkSessions.requireSparkHome(job, Map.of("SPARK_HOME", dir.toString())));
        assertTrue(noScala.getMessage().contains("SPARK_SCALA_VERSION"), noScala.getMessage());
        SparkSessions.requireSparkHome(job, Map.of("SPARK_HOME", dir.toString(), "SPARK_SCALA_VERSION", "2.12"));
    }
}
