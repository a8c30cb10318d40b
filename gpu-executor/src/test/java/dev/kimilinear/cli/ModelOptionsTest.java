package dev.kimilinear.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --device and --devices: one GPU, or one per pipeline stage; bad input named by its option. */
class ModelOptionsTest {

    @Command(name = "probe")
    static final class Holder {
        @Mixin
        ModelOptions options;
    }

    private static ModelOptions parse(String... args) {
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.options;
    }

    @Test
    void oneDeviceByDefaultOrAsNamed() {
        assertArrayEquals(new int[] {0}, parse().devices());
        assertArrayEquals(new int[] {3}, parse("--device", "3").devices());
    }

    @Test
    void devicesListsOneGpuPerStageRepeatsAllowed() {
        assertArrayEquals(new int[] {0, 1}, parse("--devices", "0,1").devices());
        assertArrayEquals(new int[] {2, 2, 5}, parse("--devices", "2, 2,5").devices());
        assertArrayEquals(new int[] {4}, parse("--devices", "4").devices());
    }

    @Test
    void badListsAndBothOptionsAreRefusedByName() {
        for (String bad : new String[] {"", "0,", ",1", "0,,1", "a,b", "-1", "0;1", "1.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> parse("--devices", bad).devices(), bad);
            assertTrue(e.getMessage().startsWith("--devices: expected comma-separated GPU indices"), e.getMessage());
        }
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> parse("--device", "0", "--devices", "0,1").devices());
        assertTrue(both.getMessage().contains("--device and --devices"), both.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> parse("--device", "-2").devices());
        assertTrue(negative.getMessage().startsWith("--device:"), negative.getMessage());
    }

    @Test
    void severalDevicesNeedTheCudaBackend() {
        ModelOptions o = parse("--model", Path.of("..", "conf", "models").toString(), "--devices", "0,1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, o::open);
        assertTrue(e.getMessage().contains("only the cuda backend"), e.getMessage());
    }

    @Test
    void elasticReplicasNeedCudaAndSeveralDevicesAndTheLayoutIsNamed() {
        String dir = Path.of("..", "conf", "models").toString();
        for (String[] args : new String[][] {{"--model", dir, "--multi-gpu", "elastic"},
                {"--model", dir, "--multi-gpu", "elastic", "--devices", "0,1"},
                {"--model", dir, "--multi-gpu", "elastic", "--backend", "cuda"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(args).open());
            assertTrue(e.getMessage().startsWith("--multi-gpu elastic: replicas on GPUs need --backend cuda and"
                    + " --devices"), e.getMessage());
        }
        IllegalArgumentException ring = assertThrows(IllegalArgumentException.class,
                () -> parse("--model", dir, "--multi-gpu", "ring").open());
        assertTrue(ring.getMessage().equals("--multi-gpu: pipeline or elastic, not ring"), ring.getMessage());
    }
}
