package dev.kimilinear.cli;

import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.model.ConfigException;
import dev.kimilinear.model.Fp8CheckpointConverter;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.RandomCheckpoint;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code model init}: writes a random-weight checkpoint of any Kimi Linear config;
 * {@code model quantize}: writes the FP8 checkpoint of a bf16 one.
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Model checkpoint tools.")
public final class ModelCommand implements Callable<Integer> {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?I?B?)?",
            Pattern.CASE_INSENSITIVE);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Write config.json, generation_config.json and random BF16 safetensors "
                    + "(reference-like initialisation) for CONFIG into DIR.")
    int init(
            @Option(names = "--config", paramLabel = "CONFIG.json", required = true,
                    description = "model config in either spelling (transformers or original release)")
            Path config,
            @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                    description = "random seed; the same config and seed give the same bytes (default: ${DEFAULT-VALUE})")
            long seed,
            @Option(names = "--out", paramLabel = "DIR", required = true,
                    description = "new or empty directory to write the checkpoint into")
            Path out,
            @Option(names = "--max-shard-size", paramLabel = "SIZE", defaultValue = "5GB",
                    description = "largest safetensors shard, e.g. 500MB, 5GB (default: ${DEFAULT-VALUE})")
            String maxShardSize) {
        try {
            long maxShardBytes = parseSize(maxShardSize);
            KimiLinearConfig parsed = KimiLinearConfig.load(config);
            long start = System.nanoTime();
            RandomCheckpoint.Result result = RandomCheckpoint.write(parsed, seed, out, maxShardBytes);
            double seconds = (System.nanoTime() - start) / 1e9;
            spec.commandLine().getOut().printf(Locale.ROOT,
                    "wrote %,d parameters (%.1f MB in %d files) to %s in %.1f s%n",
                    result.parameters(), result.bytes() / 1e6, result.files().size(), out, seconds);
            return 0;
        } catch (ConfigException | CheckpointException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("model init: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("model init: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return 1;
        }
    }

    @Command(name = "quantize", mixinStandardHelpOptions = true,
            description = {"Write the FP8 checkpoint of the bf16 checkpoint IN into OUT, in the compressed-tensors "
                    + "layout: each linear layer's weight as F8_E4M3 [out, in] with one F32 scale per output channel "
                    + "(<name>.weight_scale [out, 1]); embeddings, norms, routers, lm_head, convolutions, A_log and "
                    + "dt_bias stay as they are. config.json gains its quantization_config; the tokenizer files and "
                    + "generation_config.json are copied.",
                    "The result loads with --weights fp8 by default; --weights bf16 widens it back."})
    int quantize(
            @Option(names = "--in", paramLabel = "DIR", required = true,
                    description = "bf16 model directory (config.json and safetensors)")
            Path in,
            @Option(names = "--out", paramLabel = "DIR", required = true,
                    description = "new or empty directory to write the FP8 checkpoint into")
            Path out,
            @Option(names = "--max-shard-size", paramLabel = "SIZE", defaultValue = "5GB",
                    description = "largest safetensors shard, e.g. 500MB, 5GB (default: ${DEFAULT-VALUE})")
            String maxShardSize) {
        try {
            long maxShardBytes = parseSize(maxShardSize);
            long start = System.nanoTime();
            Fp8CheckpointConverter.Result result = Fp8CheckpointConverter.convert(in, out, maxShardBytes);
            double seconds = (System.nanoTime() - start) / 1e9;
            spec.commandLine().getOut().printf(Locale.ROOT,
                    "wrote %,d parameters (%d linear weights in FP8; %.1f MB in %d files) to %s in %.1f s%n",
                    result.parameters(), result.quantized(), result.bytes() / 1e6, result.files().size(), out, seconds);
            return 0;
        } catch (ConfigException | CheckpointException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("model quantize: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("model quantize: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return 1;
        }
    }

    /** "500MB", "5GB", "1.5GiB", "4096" (bytes). */
    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--max-shard-size " + text + ": expected a size such as 500MB or 5GB");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
        boolean binary = unit.contains("I");
        double base = binary ? 1024 : 1000;
        int power = unit.isEmpty() || unit.equals("B") ? 0 : "KMGT".indexOf(unit.charAt(0)) + 1;
        long bytes = (long) (value * Math.pow(base, power));
        if (bytes <= 0) {
            throw new IllegalArgumentException("--max-shard-size " + text + ": expected a positive size");
        }
        return bytes;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ModelCommand()).execute(args));
    }
}
