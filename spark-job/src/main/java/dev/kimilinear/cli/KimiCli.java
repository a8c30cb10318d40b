package dev.kimilinear.cli;

import dev.kimilinear.data.cli.DataCommand;
import dev.kimilinear.eval.cli.CompareCommand;
import dev.kimilinear.eval.cli.ScoreCommand;
import dev.kimilinear.eval.cli.TrendCommand;
import dev.kimilinear.tokenizer.KimiTokenizer;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kimi}: every module's commands under one name. */
@Command(name = "kimi", mixinStandardHelpOptions = true, version = "kimi 0.1.0",
        description = "Batch inference and evaluation of Kimi Linear models on Apache Spark.",
        subcommands = {
                EvalCommand.class,
                GenerateCommand.class,
                LogitsCommand.class,
                ModelCommand.class,
                TokenizerCommand.class,
                BenchCommand.class,
                ScoreCommand.class,
                CompareCommand.class,
                TrendCommand.class,
        })
public final class KimiCli implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new KimiCli());
        // RULER sizes its contexts with the model's tokenizer, which benchmarks-data does not depend on
        cli.addSubcommand(new DataCommand(dir -> KimiTokenizer.load(dir)::count));
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
