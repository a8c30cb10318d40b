package dev.kimilinear.eval.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Opens pages in headless Chromium: the DOM after scripts ran, the console log, and a screenshot. */
final class HeadlessChromium {

  static final Path BINARY = Path.of("/usr/bin/chromium");

  record Page(String dom, String log) {

    /** Console lines that report a script error. */
    List<String> scriptErrors() {
      return log.lines().filter(l -> l.contains("Uncaught") || (l.contains("CONSOLE") && l.contains("rror"))).toList();
    }
  }

  private final Path work;

  HeadlessChromium(Path work) {
    this.work = work;
  }

  static void assumeInstalled() {
    Assumptions.assumeTrue(Files.isExecutable(BINARY), "chromium is not installed");
  }

  /** The DOM once scripts ran (and a 2 s virtual-time budget passed), with the console log. */
  Page open(Path file, String fragment) throws Exception {
    String name = file.getFileName().toString();
    Path log = work.resolve(name + ".log");
    Path dom = work.resolve(name + ".dom.html");
    run(log, dom, "--dump-dom", "--virtual-time-budget=2000", "--enable-logging=stderr", "--v=0",
        url(file, fragment));
    return new Page(Files.readString(dom, StandardCharsets.UTF_8), Files.readString(log, StandardCharsets.UTF_8));
  }

  void screenshot(Path file, String fragment, Path png, int width, int height) throws Exception {
    Files.createDirectories(png.toAbsolutePath().getParent());
    run(work.resolve(png.getFileName() + ".log"), null, "--screenshot=" + png.toAbsolutePath(),
        "--window-size=" + width + "," + height, "--virtual-time-budget=2000", url(file, fragment));
  }

  private static String url(Path file, String fragment) {
    return file.toUri() + (fragment == null ? "" : "#" + fragment);
  }

  private void run(Path log, Path stdout, String... args) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(work, "profile");
    List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + profile));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
    pb.redirectOutput(stdout == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(stdout.toFile()));
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s: " + Files.readString(log));
    }
    if (p.exitValue() != 0) {
      throw new AssertionError("chromium exited with " + p.exitValue() + ": " + Files.readString(log));
    }
  }
}
