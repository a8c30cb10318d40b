package dev.kimilinear.job;

import org.apache.spark.SparkConf;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.resource.ResourceUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU cluster properties as Spark reads them (the RAPIDS plugin's jar is too large to run
 * here), and the discovery script's output in the format Spark parses.
 */
class SparkGpuConfTest {
    static final Path CONF = Path.of("../conf/spark/rapids-gpu.conf");
    static final Path SCRIPT = Path.of("../conf/spark/getGpusResources.sh");

    static Map<String, String> properties() throws Exception {
        Map<String, String> p = new LinkedHashMap<>();
        for (String line : Files.readAllLines(CONF)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] kv = t.split("\\s+", 2);
            assertEquals(2, kv.length, CONF + ": '" + t + "' is not 'key value'");
            p.put(kv[0], kv[1]);
        }
        return p;
    }

    @Test
    void oneGpuPerExecutorSharedByAllItsTasksAndASmallRapidsPool() throws Exception {
        Map<String, String> p = properties();
        SparkConf conf = new SparkConf(false);
        p.forEach(conf::set);
        var requests = scala.collection.JavaConverters.seqAsJavaListConverter(
                ResourceUtils.parseAllResourceRequests(conf, "spark.executor")).asJava();
        assertEquals(1, requests.size(), "executor resources: " + requests);
        assertEquals("gpu", requests.get(0).id().resourceName());
        assertEquals(1, requests.get(0).amount());
        assertTrue(requests.get(0).discoveryScript().get().endsWith("getGpusResources.sh"));
        double perTask = Double.parseDouble(p.get("spark.task.resource.gpu.amount"));
        int slots = Integer.parseInt(p.get("spark.executor.cores")) / Integer.parseInt(p.get("spark.task.cpus"));
        assertEquals(1.0, perTask * slots, 1e-9, "the executor's tasks together hold exactly its one GPU");
        assertTrue(p.get("spark.plugins").contains("com.nvidia.spark.SQLPlugin"));
        assertTrue(Double.parseDouble(p.get("spark.rapids.memory.gpu.maxAllocFraction")) <= 0.15,
                "RAPIDS leaves the model its GPU memory");
        assertEquals("false", p.get("spark.speculation"), "no second copy of a generation task");
    }

    @Test
    void theDiscoveryScriptPrintsWhatSparkParses(@TempDir Path dir) throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT));
        Path smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '0\\n 1\\n2\\n'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
        pb.environment().put("PATH", dir + ":" + System.getenv("PATH"));
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, proc.waitFor(), out);
        ResourceInformation info = ResourceInformation.parseJson(out);
        assertEquals("gpu", info.name());
        assertArrayEquals(new String[] {"0", "1", "2"}, info.addresses(), out);
        assertEquals(List.of("0", "1", "2"), List.of(info.addresses()));
    }
}
