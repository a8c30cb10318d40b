package dev.kimilinear.eval.humaneval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs untrusted Python programs, each in a child python3 under the strongest isolation this
 * machine permits (detected once, at start, by running a probe program through each candidate):
 * network, pid and mount namespaces where {@code unshare} is allowed, a dedicated unprivileged
 * uid per parallel slot when running as root (the kernel exempts root from the process limit),
 * resource limits, a read-only file system outside a private size-limited tmpfs, a scrubbed
 * environment, and all of a sample's processes killed when it ends. No secret reaches the
 * program's process: a program passes only when the launcher, from outside that process, sees it
 * stopped by the harness after the program completed (see sandbox_launcher.py).
 */
public final class PythonSandbox implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper STRICT_JSON = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final String LAUNCHER_RESOURCE = "sandbox_launcher.py";
  private static final int TAIL_BYTES = 4096;
  /**
   * Checks a candidate isolation without sending anything off this machine: the program must
   * see no network interface but loopback, and must not reach a listener the scorer opens on
   * the host's loopback (%d).
   */
  private static final String PROBE = """
      import decimal, fractions, heapq, json, socket
      assert json.loads("[1]") == [1]
      try:
          names = [name for _, name in socket.if_nameindex() if name != "lo"]
      except OSError:
          names = []
      if names:
          raise SystemExit("network interfaces visible: " + ", ".join(names))
      try:
          socket.create_connection(("127.0.0.1", %d), timeout=1).close()
      except OSError:
          pass
      else:
          raise SystemExit("the host's loopback is reachable")
      """;

  /** The launcher changes mounts only in a namespace other than this one. */
  private static final String CALLER_MOUNT_NAMESPACE = callerMountNamespace();

  private final SandboxConfig config;
  private final Path baseDir;
  private final Path launcher;
  private final Isolation isolation;
  private final BlockingQueue<Integer> slots;
  private final AtomicLong counter = new AtomicLong();

  private PythonSandbox(SandboxConfig config, Path baseDir, Path launcher, Isolation isolation) {
    this.config = config;
    this.baseDir = baseDir;
    this.launcher = launcher;
    this.isolation = isolation;
    this.slots = new ArrayBlockingQueue<>(config.parallelism());
    for (int i = 0; i < config.parallelism(); i++) {
      slots.add(i);
    }
  }

  /**
   * Finds python3 and the isolation that works here.
   *
   * @throws SandboxUnavailableException when python3 is missing or no isolation works
   */
  public static PythonSandbox start(SandboxConfig config) {
    List<String> pythons = pythonCandidates(config.python());
    Path base;
    Path launcher;
    try {
      base = Files.createTempDirectory("kimi-sandbox-");
      // others may traverse (the dedicated uids reach their work dir) but not list
      Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
      launcher = base.resolve(LAUNCHER_RESOURCE);
      try (InputStream in = PythonSandbox.class.getResourceAsStream(LAUNCHER_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("resource " + LAUNCHER_RESOURCE + " is missing from the build");
        }
        Files.copy(in, launcher);
      }
      Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (IOException e) {
      throw new SandboxUnavailableException("cannot prepare the sandbox directory: " + e.getMessage());
    }
    List<String> tried = new ArrayList<>();
    try (java.net.ServerSocket hostListener =
             new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String probeProgram = String.format(java.util.Locale.ROOT, PROBE, hostListener.getLocalPort());
      for (Isolation candidate : isolationCandidates(pythons)) {
        PythonSandbox sandbox = new PythonSandbox(config, base, launcher, candidate);
        try {
          SandboxResult probe = sandbox.run(probeProgram, Duration.ofSeconds(20), false);
          if (probe.passed()) {
            return sandbox;
          }
          tried.add(candidate.describe() + " -> " + probe.reason());
        } catch (RuntimeException e) {
          tried.add(candidate.describe() + " -> " + e.getMessage());
        }
      }
    } catch (IOException e) {
      deleteTree(base);
      throw new SandboxUnavailableException("cannot open a loopback listener to probe isolation: " + e.getMessage());
    }
    deleteTree(base);
    throw new SandboxUnavailableException("no sandbox isolation works on this machine; tried:\n  "
        + String.join("\n  ", tried));
  }

  public Isolation isolation() {
    return isolation;
  }

  public SandboxConfig config() {
    return config;
  }

  /** Runs a program with the configured limits and guard; safe to call from several threads. */
  public SandboxResult run(String program) {
    return run(program, config.limits().wallTimeout(), config.officialGuard());
  }

  private SandboxResult run(String program, Duration timeout, boolean guard) {
    int slot;
    try {
      slot = slots.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a sandbox slot", e);
    }
    Path sampleDir = baseDir.resolve("sample-" + counter.incrementAndGet());
    try {
      return runInSlot(program, timeout, guard, slot, sampleDir);
    } catch (IOException e) {
      throw new IllegalStateException("sandbox I/O failed in " + sampleDir + ": " + e.getMessage(), e);
    } finally {
      deleteTree(sampleDir);
      slots.add(slot);
    }
  }

  private SandboxResult runInSlot(String program, Duration timeout, boolean guard, int slot, Path sampleDir)
      throws IOException {
    Path out = Files.createDirectories(sampleDir.resolve("out"));
    Path work = Files.createDirectories(sampleDir.resolve("work"));
    Files.setPosixFilePermissions(sampleDir, PosixFilePermissions.fromString("rwx--x--x"));
    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwx--x--x"));
    Files.writeString(out.resolve("program.py"), program, StandardCharsets.UTF_8);
    Path launcherErr = sampleDir.resolve("launcher.err");

    Integer uid = isolation.dedicatedUids() ? config.firstUid() + slot : null;
    SandboxLimits limits = config.limits();
    ObjectNode cfg = JSON.createObjectNode();
    cfg.put("work", work.toString());
    cfg.put("out", out.toString());
    if (uid != null) {
      cfg.put("uid", uid);
      cfg.put("gid", uid);
    }
    ObjectNode l = cfg.putObject("limits");
    l.put("cpu_seconds", limits.cpuSeconds());
    l.put("memory_bytes", limits.memoryBytes());
    l.put("file_size_bytes", limits.fileSizeBytes());
    l.put("open_files", limits.openFiles());
    l.put("processes", limits.processes());
    l.put("work_bytes", limits.workDirBytes());
    cfg.put("readonly_mounts", isolation.readOnlyFileSystem());
    cfg.put("caller_mount_ns", CALLER_MOUNT_NAMESPACE);
    cfg.put("block_sockets", isolation.blocksSocketsInProcess());
    cfg.put("official_guard", guard);
    cfg.put("process_group", isolation.killsProcessGroup());

    List<String> command = new ArrayList<>(isolation.prefix());
    command.addAll(List.of(isolation.python(), "-I", "-B", launcher.toString(), cfg.toString()));
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(sampleDir.toFile())
        .redirectError(launcherErr.toFile());
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    env.put("HOME", work.toString());
    env.put("TMPDIR", work.toString());
    env.put("LANG", "C.UTF-8");
    env.put("LC_ALL", "C.UTF-8");

    long started = System.nanoTime();
    Process process = pb.start();
    // nothing secret goes to the launcher: it judges the program from outside its process
    process.getOutputStream().close();
    boolean finished;
    try {
      finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a sandboxed program ran", e);
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    if (!finished) {
      kill(process);
    }
    String verdictLine = finished ? readAvailable(process.getInputStream()).strip() : "";
    if (isolation.killsProcessGroup()) {
      killGroup(process);
    }
    if (uid != null) {
      killProcessesOf(uid, Duration.ofSeconds(5));
    }
    String stdout = tail(out.resolve("stdout.txt"));
    String stderr = tail(out.resolve("stderr.txt"));
    if (!finished) {
      return new SandboxResult(SandboxResult.Status.TIMED_OUT,
          "timed out after " + timeout.toMillis() / 1000.0 + " s", stdout, stderr, millis);
    }
    return verdict(verdictLine, process.exitValue(), tail(launcherErr), stdout, stderr, millis);
  }

  private static SandboxResult verdict(String line, int exit, String launcherErr, String stdout,
      String stderr, long millis) {
    if (line.isEmpty() || launcherErr.contains("sandbox launcher error:")) {
      if (launcherErr.contains("sandbox launcher error:")) {
        throw new IllegalStateException(launcherErr.strip());
      }
      return failed("failed: the sandbox gave no verdict (exit status " + exit + ")", stdout, stderr, millis);
    }
    // the launcher writes exactly one JSON object: anything else means someone else wrote too
    if (line.lines().count() != 1) {
      return failed("failed: the sandbox verdict channel held more than one line", stdout, stderr, millis);
    }
    JsonNode v;
    try {
      v = STRICT_JSON.readTree(line);
    } catch (IOException e) {
      return failed("failed: unreadable sandbox verdict", stdout, stderr, millis);
    }
    String status = v.path("status").asText();
    return switch (status) {
      case "passed" -> new SandboxResult(SandboxResult.Status.PASSED, null, stdout, stderr, millis);
      case "failed" -> failed(v.path("reason").asText(), stdout, stderr, millis);
      case "signal" -> failed(signalReason(v.path("signal").asInt()), stdout, stderr, millis);
      case "exited" -> failed("failed: program exited with status " + v.path("code").asInt()
          + " before completing", stdout, stderr, millis);
      default -> throw new IllegalStateException("sandbox verdict not understood: " + line);
    };
  }

  private static SandboxResult failed(String reason, String stdout, String stderr, long millis) {
    return new SandboxResult(SandboxResult.Status.FAILED, reason, stdout, stderr, millis);
  }

  static String signalReason(int signal) {
    return switch (signal) {
      case 9 -> "failed: killed (SIGKILL: hard cpu limit or out of memory)";
      case 24 -> "failed: cpu time limit exceeded (SIGXCPU)";
      case 25 -> "failed: file size limit exceeded (SIGXFSZ)";
      case 11 -> "failed: crashed (SIGSEGV)";
      case 6 -> "failed: aborted (SIGABRT)";
      default -> "failed: killed by signal " + signal;
    };
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Without a pid namespace: the supervisor's process group holds the program's processes. */
  private static void killGroup(Process process) {
    try {
      Process k = new ProcessBuilder("kill", "-KILL", "--", "-" + process.pid())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      k.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      // no kill command: fall back to the descendants Java can see
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.descendants().forEach(ProcessHandle::destroyForcibly);
  }

  /**
   * Whatever still runs as a slot's dedicated uid is killed and awaited: namespaces die
   * asynchronously, and a program without a pid namespace may have left its process group; the
   * slot's next program must not find them counted against its process limit.
   */
  private static void killProcessesOf(int uid, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      List<Long> pids = processesOf(uid);
      if (pids.isEmpty() || System.nanoTime() > deadline) {
        return;
      }
      pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Processes whose real uid is {@code uid} (read from status: /proc/PID may be root-owned). */
  private static List<Long> processesOf(int uid) {
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
        try {
          for (String line : Files.readAllLines(p.resolve("status"), StandardCharsets.ISO_8859_1)) {
            if (line.startsWith("Uid:")) {
              if (Integer.parseInt(line.split("\\s+")[1]) == uid) {
                pids.add(Long.parseLong(p.getFileName().toString()));
              }
              break;
            }
          }
        } catch (IOException | RuntimeException e) {
          // the process ended while we looked
        }
      });
    } catch (IOException e) {
      return pids;
    }
    return pids;
  }

  private static String readAvailable(InputStream in) throws IOException {
    int n = Math.min(in.available(), 1 << 16);
    return new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }

  private static String tail(Path file) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long length = f.length();
      long start = Math.max(0, length - TAIL_BYTES);
      byte[] bytes = new byte[(int) (length - start)];
      f.seek(start);
      f.readFully(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  static List<String> pythonCandidates(Path configured) {
    Set<String> out = new LinkedHashSet<>();
    if (configured != null) {
      if (!Files.isExecutable(configured)) {
        throw new SandboxUnavailableException("python interpreter " + configured
            + " does not exist or is not executable; HumanEval programs need python3");
      }
      out.add(resolveExecutable(configured.toString()));
      return List.copyOf(out);
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "python3"))) {
        out.add(resolveExecutable(Path.of(dir, "python3").toString()));
        break;
      }
    }
    // a system interpreter, readable by any uid, for when the first one lives in a private home
    for (String system : List.of("/usr/bin/python3", "/usr/local/bin/python3")) {
      if (Files.isExecutable(Path.of(system))) {
        out.add(system);
      }
    }
    out.remove(null);
    if (out.isEmpty()) {
      throw new SandboxUnavailableException("python3 was not found on PATH (" + path
          + "); HumanEval programs need a Python 3 interpreter: install one or pass --python PATH");
    }
    return List.copyOf(out);
  }

  /** The interpreter behind a launcher script (pyenv shims need the caller's environment). */
  private static String resolveExecutable(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import sys; print(sys.executable)")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 && out.startsWith("/")) {
        return out;
      }
      throw new SandboxUnavailableException(python + " does not run: " + out);
    } catch (IOException e) {
      throw new SandboxUnavailableException(python + " does not run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxUnavailableException("interrupted while checking " + python);
    }
  }

  private static List<Isolation> isolationCandidates(List<String> pythons) {
    boolean root = isRoot();
    List<String> rootNamespaces = List.of("unshare", "--net", "--pid", "--mount", "--fork",
        "--kill-child", "--mount-proc");
    List<String> userNamespaces = List.of("unshare", "--user", "--map-root-user", "--net", "--pid",
        "--mount", "--fork", "--kill-child", "--mount-proc");
    List<String> userNetwork = List.of("unshare", "--user", "--map-root-user", "--net");
    // the strongest isolation first, with whichever interpreter can run under it
    List<Isolation> out = new ArrayList<>();
    if (root) {
      pythons.forEach(py -> out.add(new Isolation(rootNamespaces, true, true, true, true, py)));
      pythons.forEach(py -> out.add(new Isolation(List.of(), false, false, false, true, py)));
    } else {
      pythons.forEach(py -> out.add(new Isolation(userNamespaces, true, true, true, false, py)));
      pythons.forEach(py -> out.add(new Isolation(userNetwork, true, false, false, false, py)));
      pythons.forEach(py -> out.add(new Isolation(List.of(), false, false, false, false, py)));
    }
    return out;
  }

  private static String callerMountNamespace() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return "";
    }
  }

  private static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // a leftover temporary directory is not worth failing a score over
    }
  }

  @Override
  public void close() {
    deleteTree(baseDir);
  }
}
