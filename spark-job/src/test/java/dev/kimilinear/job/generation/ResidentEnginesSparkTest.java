package dev.kimilinear.job.generation;

import dev.kimilinear.job.config.EngineSpec;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.model.WeightPrecision;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Local mode offers tasks no GPU: the engines take the driver's, as found by its discovery
 * script (conf/spark/local-gpu.conf). The key is only built here; no engine is opened.
 */
class ResidentEnginesSparkTest {
    @Test
    void localTasksTakeTheDriversGpu(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("gpus.sh");
        Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\": \"gpu\", \"addresses\": [\"3\", \"5\"]}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        EngineSpec engine = new EngineSpec(64, 32, 2, 0, 256, 64);
        try (SparkSession spark = SparkSession.builder().master("local[1]").appName("resident-engines")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.resource.gpu.amount", "2")
                .config("spark.driver.resource.gpu.discoveryScript", script.toString())
                .getOrCreate()) {
            List<EngineKey> keys = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(List.of(ModelSpec.Backend.CUDA, ModelSpec.Backend.AUTO, ModelSpec.Backend.CPU), 3)
                    .map(backend -> ResidentEngines.keyForTask("/models/m", backend, WeightPrecision.FP8, engine))
                    .collect();
            assertEquals(new EngineKey("/models/m", ModelSpec.Backend.CUDA, List.of(3), WeightPrecision.FP8, engine),
                    keys.get(0));
            assertEquals(new EngineKey("/models/m", ModelSpec.Backend.CUDA, List.of(3), WeightPrecision.FP8, engine),
                    keys.get(1), "auto takes the driver's GPU");
            assertEquals(new EngineKey("/models/m", ModelSpec.Backend.CPU, List.of(), WeightPrecision.FP8, engine),
                    keys.get(2));
            // model.gpus_per_engine: one engine over the first that many GPUs, never more than there are
            List<EngineKey> two = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(List.of(2), 1)
                    .map(g -> ResidentEngines.keyForTask("/models/m", ModelSpec.Backend.CUDA, WeightPrecision.FP8, engine,
                            g))
                    .collect();
            assertEquals(List.of(3, 5), two.get(0).devices());
            org.apache.spark.SparkException tooMany = org.junit.jupiter.api.Assertions.assertThrows(
                    org.apache.spark.SparkException.class, () -> JavaSparkContext.fromSparkContext(spark.sparkContext())
                            .parallelize(List.of(3), 1)
                            .map(g -> ResidentEngines.keyForTask("/models/m", ModelSpec.Backend.CUDA,
                                    WeightPrecision.FP8, engine, g))
                            .collect());
            org.junit.jupiter.api.Assertions.assertTrue(tooMany.getMessage().contains("model.gpus_per_engine is 3"),
                    tooMany.getMessage());
        }
    }
}
