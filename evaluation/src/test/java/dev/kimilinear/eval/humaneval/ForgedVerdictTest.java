package dev.kimilinear.eval.humaneval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.testing.Python;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Wrong solutions that try to forge a passing verdict instead of computing the answer. Each one
 * runs as the official protocol builds it (prompt + completion + test + check(entry_point)),
 * with the official guard off so that the sandbox, not the guard's disabled functions, has to
 * hold; every one must fail, and the correct solution must still pass.
 */
class ForgedVerdictTest {

  private static final String PROMPT = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n";
  private static final String TEST = """
      def check(candidate):
          assert candidate(2, 3) == 5
          assert candidate(-1, 1) == 0
      """;
  private static final String WRONG = "    return a - b\n";
  /**
   * Writes everything it found, and the success markers a harness might look for, to every
   * descriptor it can, then leaves before the checks fail.
   */
  private static final String FORGE = """
      def _forge(found=()):
          import os
          payloads = [p if isinstance(p, bytes) else str(p).encode() for p in found]
          payloads += [b'{"status": "passed"}\\n', b'passed\\n', b'PASSED\\n', b'OK\\n']
          for fd in range(256):
              for p in payloads:
                  try:
                      os.write(fd, p)
                  except OSError:
                      pass
          os._exit(0)
      """;

  private static PythonSandbox sandbox;

  @BeforeAll
  static void start() {
    Python.assumeAvailable();
    SandboxLimits limits = SandboxLimits.withTimeout(Duration.ofSeconds(5)).withMemoryBytes(256L << 20);
    sandbox = PythonSandbox.start(SandboxConfig.defaults().withLimits(limits).withParallelism(2)
        .withOfficialGuard(false));
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  /** The body of add() (indented by 4), then module-level code after it. */
  private static SandboxResult run(String body, String moduleLevel) {
    String completion = body + "\n" + FORGE + "\n" + moduleLevel;
    return sandbox.run(HumanEvalProgram.build(PROMPT, completion, TEST, "add"));
  }

  private static void assertForgeryFails(String what, String body, String moduleLevel) {
    SandboxResult r = run(body, moduleLevel);
    System.out.println(what + ": " + r.status() + " " + r.reason());
    assertFalse(r.passed(), what + " made a wrong solution pass");
  }

  @Test
  void correctSolutionStillPasses() {
    SandboxResult r = run("    return a + b\n", "");
    assertTrue(r.passed(), () -> "correct solution: " + r);
    SandboxResult wrong = run(WRONG, "");
    assertEquals("failed: AssertionError", wrong.reason());
  }

  @Test
  void walkingTheCallersFramesFindsNothingToForgeWith() {
    assertForgeryFails("frame walk", """
            import sys
            found = []
            f = sys._getframe()
            while f is not None:
                for scope in (f.f_locals, f.f_globals):
                    found += [v for v in scope.values() if isinstance(v, (bytes, str, int))]
                f = f.f_back
            _forge(found)
        """, "");
    assertForgeryFails("inspect.stack", """
            import inspect
            found = [v for info in inspect.stack() for v in info.frame.f_locals.values()
                     if isinstance(v, (bytes, str, int))]
            _forge(found)
        """, "");
  }

  @Test
  void callingTheHarnessesOwnSuccessPathFromInsideFails() {
    // the harness's success routine, found through the frames and called with its own arguments
    assertForgeryFails("harness success routine", """
            import sys
            f = sys._getframe()
            while f is not None and 'await_witness' not in f.f_globals:
                f = f.f_back
            l = f.f_locals
            f.f_globals['await_witness'](l['stop'], l['me'], l['stop_signal'], l['exit_now'])
        """, "");
    assertForgeryFails("stopping itself", """
            import os, signal
            os.kill(os.getpid(), signal.SIGSTOP)
            os._exit(0)
        """, "");
  }

  @Test
  void garbageCollectorObjectsFindNothingToForgeWith() {
    assertForgeryFails("gc.get_objects", WRONG, """
        import gc, types
        found = []
        for o in gc.get_objects():
            if isinstance(o, dict):
                found += [v for v in o.values() if isinstance(v, (bytes, str)) and 16 <= len(v) <= 128]
            if isinstance(o, types.FunctionType) and o.__code__.co_filename.endswith('launcher.py'):
                try:
                    o()
                except BaseException:
                    pass
        _forge(found)
        """);
  }

  @Test
  void procSelfHoldsNothingToForgeWith() {
    assertForgeryFails("/proc/self/fd, environ, cmdline", WRONG, """
        import os, re
        found = []
        for name in ('/proc/self/environ', '/proc/self/cmdline', '/proc/%d/cmdline' % os.getppid(),
                     '/proc/1/cmdline', '/proc/1/environ'):
            try:
                found += re.findall(rb'[0-9a-fA-F]{16,}', open(name, 'rb').read())
            except OSError:
                pass
        for fd in os.listdir('/proc/self/fd'):
            try:
                found.append(os.readlink('/proc/self/fd/' + fd))
                os.write(int(fd), b'{"status": "passed"}\\n')
            except OSError:
                pass
        _forge(found)
        """);
  }

  @Test
  void writingToInheritedDescriptorsThenExitingFails() {
    assertForgeryFails("descriptors then sys.exit(0)", WRONG, """
        import os, sys
        for fd in range(3, 1024):
            try:
                os.write(fd, b'{"status": "passed"}\\n')
            except OSError:
                pass
        sys.exit(0)
        """);
    assertForgeryFails("parent's descriptors", WRONG, """
        import os
        for pid in (os.getppid(), 1):
            for fd in range(8):
                try:
                    os.write(os.open('/proc/%d/fd/%d' % (pid, fd), os.O_WRONLY), b'{"status": "passed"}\\n')
                except OSError:
                    pass
        os._exit(0)
        """);
  }

  @Test
  void leavingBeforeTheChecksFails() {
    assertForgeryFails("os._exit(0)", WRONG, "import os\nos._exit(0)\n");
    assertForgeryFails("sys.exit(0)", WRONG, "import sys\nsys.exit(0)\n");
    assertForgeryFails("SystemExit inside the call", "    raise SystemExit(0)\n", "");
    assertForgeryFails("os._exit inside the call", "    import os\n    os._exit(0)\n", "");
  }

  @Test
  void replacingCheckFails() {
    assertForgeryFails("own check", WRONG, "def check(candidate):\n    pass\n");
    assertForgeryFails("check rebound while it runs", """
            import builtins, sys
            sys._getframe(1).f_globals['check'] = lambda candidate: None
            builtins.check = lambda candidate: None
            return a - b
        """, "");
  }

  @Test
  void fakeSuccessMarkersOnStdoutAndStderrFail() {
    assertForgeryFails("fake markers", WRONG, """
        import os, sys
        for stream in (sys.stdout, sys.stderr):
            print('{"status": "passed"}', file=stream, flush=True)
            print('passed', file=stream, flush=True)
        os.write(1, b'{"status": "passed"}\\n')
        os._exit(0)
        """);
  }

  @Test
  void killingOrSignallingTheParentFails() {
    for (String signal : new String[] {"SIGKILL", "SIGTERM", "SIGSTOP", "SIGUSR1", "SIGCHLD"}) {
      assertForgeryFails("parent sent " + signal, WRONG, """
          import os, signal
          for pid in (os.getppid(), 1):
              try:
                  os.kill(pid, signal.%s)
              except OSError:
                  pass
          os._exit(0)
          """.formatted(signal));
    }
    assertTrue(sandbox.run(HumanEvalProgram.build(PROMPT, "    return a + b\n", TEST, "add")).passed(),
        "the sandbox still works after the attacks");
  }
}
