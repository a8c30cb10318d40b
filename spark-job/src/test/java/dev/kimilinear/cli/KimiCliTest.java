package dev.kimilinear.cli;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code bin/kimi --help} prints: every module's subcommand under one name. */
class KimiCliTest {
    private static final List<String> SUBCOMMANDS =
            List.of("logits", "generate", "model", "tokenizer", "bench", "data", "score", "compare", "trend", "eval");

    @Test
    void helpListsEverySubcommand() {
        CommandLine cli = KimiCli.commandLine();
        StringWriter text = new StringWriter();
        cli.setOut(new PrintWriter(text));
        assertEquals(0, cli.execute("--help"));
        String help = text.toString();
        int commands = help.indexOf("Commands:");
        assertTrue(commands >= 0, help);
        List<String> listed = new ArrayList<>();
        for (String line : help.substring(commands).lines().skip(1).toList()) {
            // a command's line starts two spaces in; its wrapped description is indented further
            if (line.startsWith("  ") && !line.startsWith("   ")) {
                listed.add(line.strip().split("\\s+")[0]);
            }
        }
        assertEquals(SUBCOMMANDS.stream().sorted().toList(), listed.stream().sorted().toList(), help);
    }

    @Test
    void evalAndCompareHelpSayWhatARegressionExitsWith() {
        CommandLine cli = KimiCli.commandLine();
        StringWriter text = new StringWriter();
        cli.setOut(new PrintWriter(text));
        assertEquals(0, cli.execute("eval", "--help"));
        assertTrue(text.toString().contains("3   a metric regressed against compare.baseline"), text.toString());
        text.getBuffer().setLength(0);
        assertEquals(0, cli.execute("compare", "--help"));
        assertTrue(text.toString().contains("--max-drop"), text.toString());
    }
}
