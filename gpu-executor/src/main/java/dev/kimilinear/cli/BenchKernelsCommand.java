package dev.kimilinear.cli;

import dev.kimilinear.cuda.CudaAvailability;
import dev.kimilinear.cuda.CudaContext;
import dev.kimilinear.cuda.KernelBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code kimi bench kernels}: every CUDA kernel at Kimi-Linear-48B-A3B shapes against the measured ceilings. */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Time each CUDA kernel at Kimi-Linear-48B-A3B shapes: time, TFLOP/s or GB/s, % of the measured ceiling.")
public final class BenchKernelsCommand implements Callable<Integer> {
    @Option(names = "--device", description = "CUDA device index (default ${DEFAULT-VALUE})")
    int device = 0;

    @Option(names = "--reps", description = "timed repetitions per kernel; the median is printed (default ${DEFAULT-VALUE})")
    int reps = 20;

    @picocli.CommandLine.Parameters(paramLabel = "FAMILY", arity = "0..*", description = "only these families: gemm, "
            + "norms, kda, mla, mla-prefill, moe, fp8, sampling (default: all but mla-prefill and fp8)")
    java.util.List<String> families = java.util.List.of();

    @Override
    public Integer call() {
        CudaAvailability a = CudaAvailability.check();
        if (!a.available()) {
            System.err.println("bench kernels: " + a.reason());
            return 2;
        }
        try {
            KernelBench bench = new KernelBench(CudaContext.forDevice(device), System.out, reps);
            if (families.isEmpty()) {
                bench.runAll();
            } else {
                bench.run(families);
            }
            return 0;
        } catch (RuntimeException e) {
            System.err.println("bench kernels: " + e.getMessage());
            return 1;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
