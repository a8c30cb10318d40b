# Runs one untrusted Python program under limits and reports a verdict as one JSON line.
#
#   python3 -I -B sandbox_launcher.py CONFIG_JSON
#
# This process (the supervisor) stays outside the program's reach: it prepares the file system,
# forks the program's process, waits for it and prints the verdict. The program's process drops
# to the configured uid, takes its resource limits, and runs the program the way the official
# HumanEval harness does: exec() of the whole program in a fresh globals dict.
#
# The program's process holds no secret and cannot report success. When exec() returns, the
# harness stops the process (SIGSTOP); the supervisor, seeing the stop from outside, has the
# interpreter's C-level faulthandler dump the stopped thread's Python stack and counts the run as
# passed only when that stack is exactly the harness's own frames (no frame of the program below
# them) and the process is still the image this supervisor forked. Exiting early, writing to
# descriptors or stopping from inside the program's code all fail.
import ctypes
import faulthandler
import json
import os
import resource
import re
import signal
import sys
import time

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_NOATIME, MS_NODIRATIME = 32, 4096, 1024, 2048
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
ST_TO_MS = [(os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
            (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
            (os.ST_RELATIME, MS_RELATIME)]
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# the supervisor asks for the stack dump with this signal, sent to the main thread only
WITNESS_SIGNAL = signal.SIGUSR1
WITNESS_PATIENCE_SECONDS = 5
# where the program's process stands when the harness stops it: most recent call first
WITNESS_FRAMES = ("await_witness", "run_program", "main", "<module>")
STARTSTACK_FIELD = 28  # of /proc/PID/stat: inherited over fork, new after exec


class LauncherError(Exception):
    pass


def fail_launcher(message):
    sys.stderr.write("sandbox launcher error: " + message + "\n")
    sys.stderr.flush()
    os._exit(2)


def libc():
    return ctypes.CDLL(None, use_errno=True)


def mount(lib, source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()
    if lib.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s: %s" % (target, os.strerror(err)))


def mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            field = line.split()[4]
            # mountinfo escapes space, tab, newline and backslash as octal
            points.append(field.encode().decode("unicode_escape").encode("latin-1").decode())
    return points


def isolate_file_system(work, out, tmpfs_bytes, caller_mount_ns):
    """Everything read-only but the program's own tmpfs and the output directory."""
    # these mounts must only ever change a private copy of the caller's mount table
    if not caller_mount_ns or os.readlink("/proc/self/ns/mnt") == caller_mount_ns:
        raise LauncherError("refusing to change mounts outside a private mount namespace")
    lib = libc()
    mount(lib, None, "/", None, MS_REC | MS_PRIVATE)
    mount(lib, out, out, None, MS_BIND)
    mount(lib, "tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV,
          "size=%d,mode=0700" % tmpfs_bytes)
    skipped = []
    for point in mount_points():
        if point in (work, out) or point == "/proc" or point.startswith("/proc/"):
            continue
        try:
            st = os.statvfs(point)
        except OSError:
            continue
        if st.f_flag & os.ST_RDONLY:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for st_flag, ms_flag in ST_TO_MS:
            if st.f_flag & st_flag:
                flags |= ms_flag
        try:
            mount(lib, None, point, None, flags)
        except OSError:
            skipped.append(point)
    for point in ("/", "/tmp", "/dev/shm", "/var/tmp", os.path.dirname(out)):
        if os.path.exists(point) and not os.statvfs(point).f_flag & os.ST_RDONLY:
            raise LauncherError("could not make %s read-only" % point)
    return skipped


def outer_uid():
    """The uid this process has in the initial user namespace."""
    uid = os.getuid()
    with open("/proc/self/uid_map") as f:
        for line in f:
            inside, outside, count = (int(x) for x in line.split())
            if inside <= uid < inside + count:
                return outside + uid - inside
    return -1


def tasks_of_uid(uid):
    """Threads of uid visible here: RLIMIT_NPROC counts threads, not processes."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name) as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            pass
    return count


def block_sockets():
    """Best effort when no network namespace exists: no new sockets from Python code."""
    import _socket
    import socket

    def refuse(*args, **kwargs):
        raise PermissionError("network access is disabled in the sandbox")

    class NoSocket(_socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    socket.socket = NoSocket
    _socket.socket = NoSocket
    socket.create_connection = refuse
    socket.socketpair = refuse
    socket.fromfd = refuse
    _socket.socketpair = refuse


def official_guard():
    """The official harness's reliability guard: destructive functions disabled."""
    import builtins
    import faulthandler
    import shutil
    import subprocess

    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid",
                 "fork", "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink",
                 "fchmod", "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown",
                 "getcwd", "chdir"):
        setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def describe(exc):
    text = str(exc)
    name = type(exc).__name__
    return name + (": " + text if text else "")


def drop_capabilities(lib):
    """In a user namespace the process is root there: without capabilities it cannot remount,
    ptrace the supervisor or read its descriptors."""
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if lib.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset: " + os.strerror(ctypes.get_errno()))


def await_witness(stop, pid, stop_signal, exit_now):
    """The only place the harness reports success: stopped here, the supervisor reads this stack."""
    stop(pid, stop_signal)
    exit_now(0)


def run_program(cfg, source, report_fd, stdio):
    """In the forked child: limits, identity, then the program."""
    os.dup2(stdio[0], 0)
    os.dup2(stdio[1], 1)
    os.dup2(stdio[2], 2)
    os.closerange(3, report_fd)
    os.closerange(report_fd + 1, 65536)
    os.chdir(cfg["work"])
    limits = cfg["limits"]
    processes = limits["processes"]
    if cfg.get("uid") is None:
        # without a dedicated uid the process count is shared with the user's other processes
        processes += tasks_of_uid(outer_uid())
    settings = [
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1),
        (resource.RLIMIT_AS, limits["memory_bytes"], limits["memory_bytes"]),
        (resource.RLIMIT_FSIZE, limits["file_size_bytes"], limits["file_size_bytes"]),
        (resource.RLIMIT_NOFILE, limits["open_files"], limits["open_files"]),
        (resource.RLIMIT_NPROC, processes, processes),
    ]
    for which, soft, hard in settings:
        resource.setrlimit(which, (soft, hard))
    if cfg.get("uid") is not None:
        os.setgroups([])
        os.setgid(cfg["gid"])
        os.setuid(cfg["uid"])
    if outer_uid() == 0:
        # the kernel exempts root from RLIMIT_NPROC: never run a program as real root
        os.write(report_fd, b"launcher: refusing to run the program as root")
        os._exit(3)
    lib = libc()
    if lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os.write(report_fd, b"launcher: could not set no_new_privs")
        os._exit(3)
    drop_capabilities(lib)
    # inherited from the supervisor as 0; the supervisor must be able to read this process's stat
    lib.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    # C code, not the program's Python, answers the supervisor's question "where are you?"
    faulthandler.register(WITNESS_SIGNAL, file=report_fd, all_threads=False, chain=False)
    if cfg["block_sockets"]:
        block_sockets()
    # bound before the program runs, so that rebinding os or signal attributes changes nothing here
    stop, stop_signal, exit_now, write, me = os.kill, signal.SIGSTOP, os._exit, os.write, os.getpid()
    if cfg["official_guard"]:
        official_guard()
    try:
        code = compile(source, "program.py", "exec")
        exec(code, {})
    except BaseException as e:
        flush_output()
        if os.getpid() == me:
            try:
                write(report_fd, ("failed: " + describe(e))[:2000].encode("utf-8", "replace"))
            finally:
                exit_now(1)
        exit_now(1)
    flush_output()
    await_witness(stop, me, stop_signal, exit_now)


def stack_start(pid):
    """Field 28 of /proc/PID/stat; 0 when this process may not read it."""
    with open("/proc/%s/stat" % pid) as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[STARTSTACK_FIELD - 3])


def drain(fd):
    chunks = []
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def wait_for_exit(pid, seconds):
    deadline = time.monotonic() + seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(0.001)


def expected_dump():
    """The faulthandler dump of a process stopped in await_witness, as a pattern."""
    source = re.escape(main.__code__.co_filename)
    frames = "".join('  File "%s", line [0-9]+ in %s\n' % (source, re.escape(name))
                     for name in WITNESS_FRAMES)
    return re.compile(r"Stack \(most recent call first\):\n" + frames)


def witness(pid, read_end, own_stack_start):
    """The program's process stopped: confirm from outside that the harness stopped it after the
    program completed. Returns None when it did, else the reason it failed."""
    drain(read_end)  # written before the stop, by whatever ran: not evidence of anything
    try:
        same_image = stack_start(pid) == own_stack_start
    except (OSError, ValueError, IndexError):
        same_image = False
    lib = libc()
    tgkill = getattr(lib, "tgkill", None)
    if tgkill is None or tgkill(pid, pid, WITNESS_SIGNAL) != 0:
        os.kill(pid, WITNESS_SIGNAL)
    os.kill(pid, signal.SIGCONT)
    status = wait_for_exit(pid, WITNESS_PATIENCE_SECONDS)
    dump = drain(read_end).decode("utf-8", "replace")
    if not same_image:
        return "failed: the program's process was replaced (exec) before it stopped"
    if not expected_dump().fullmatch(dump):
        return "failed: the program stopped itself before completing"
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return "failed: the program's process did not finish after completing"
    return None


def main():
    cfg = json.loads(sys.argv[1])
    # the program's process, though of this uid, may not read this one's memory or descriptors
    libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    own_stack_start = stack_start("self")
    work, out = cfg["work"], cfg["out"]
    with open(os.path.join(out, "program.py"), encoding="utf-8") as f:
        source = f.read()
    if cfg["process_group"]:
        os.setsid()
    skipped = []
    try:
        if cfg["readonly_mounts"]:
            skipped = isolate_file_system(work, out, cfg["limits"]["work_bytes"],
                                          cfg.get("caller_mount_ns"))
        if cfg.get("uid") is not None:
            os.chown(work, cfg["uid"], cfg["gid"])
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        stdio = (os.open("/dev/null", os.O_RDONLY),
                 os.open(os.path.join(out, "stdout.txt"), flags, 0o600),
                 os.open(os.path.join(out, "stderr.txt"), flags, 0o600))
    except (OSError, LauncherError) as e:
        fail_launcher(describe(e))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            run_program(cfg, source, write_end, stdio)
        except BaseException as e:
            os.write(write_end, ("launcher: " + describe(e)).encode("utf-8", "replace"))
        os._exit(3)
    os.close(write_end)
    for fd in stdio:
        os.close(fd)
    _, status = os.waitpid(pid, os.WUNTRACED)
    verdict = {"skipped_mounts": skipped}
    if os.WIFSTOPPED(status):
        reason = witness(pid, read_end, own_stack_start)
        verdict.update(status="passed" if reason is None else "failed")
        if reason is not None:
            verdict.update(reason=reason)
    else:
        os.set_blocking(read_end, False)
        try:
            report = os.read(read_end, 4096)
        except BlockingIOError:
            report = b""
        if os.WIFSIGNALED(status):
            verdict.update(status="signal", signal=os.WTERMSIG(status))
        elif report.startswith(b"launcher: "):
            verdict.update(status="launcher_error", reason=report.decode("utf-8", "replace"))
        elif report.startswith(b"failed: "):
            verdict.update(status="failed", reason=report.decode("utf-8", "replace"))
        else:
            verdict.update(status="exited", code=os.WEXITSTATUS(status))
    sys.stdout.write(json.dumps(verdict) + "\n")
    sys.stdout.flush()
    if verdict["status"] == "launcher_error":
        sys.stderr.write("sandbox launcher error: " + verdict["reason"] + "\n")
        os._exit(2)
    if cfg["process_group"]:
        # whatever the program left running dies with this process group (this process included)
        os.killpg(0, signal.SIGKILL)
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
