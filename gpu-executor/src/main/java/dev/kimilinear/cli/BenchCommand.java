package dev.kimilinear.cli;

import picocli.CommandLine.Command;

/** {@code kimi bench ...}: benchmarks, each a subcommand. */
@Command(name = "bench", description = "Benchmarks.", mixinStandardHelpOptions = true,
        subcommands = {BenchKernelsCommand.class, EngineBenchCommand.class, CpuBenchCommand.class,
                ReliefBenchCommand.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}
