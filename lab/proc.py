# SPDX-License-Identifier: MPL-2.0
"""Processes and waiting: every process a test, benchmark or lab
starts is a Proc in a Stack, and is stopped by PID, whatever happens.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def wait_for(pred, timeout, interval=0.01, what="condition"):
    """Poll pred() until true; bounded by timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# Every port free_port() has named in this process.  It lets the port
# go before its server binds it, and the kernel names a free port again
# (dozens of times in a thousand calls): a test's relay and its named
# were given the same one, and its scrape reached named's rndc port.
_handed_out = set()


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 and ::1, and never
    named before by this process."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if port in _handed_out:
                continue
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t6:
                    t6.bind(("::1", port))
            except OSError:
                continue
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port")


def run(*argv, check=True, timeout=30):
    """A short command, its output captured; with check, a failure
    raises with its stderr."""
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))}: {r.stderr.strip()}")
    return r


def pid_alive(pid):
    """Whether a process pid exists (a zombie too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def container_leader(ppid):
    """The child of ppid in a pid namespace other than ours (the init of
    a container ppid started), or None while there is none.  nspawn's
    first child lives in our namespace for a few milliseconds before it
    forks the container's init and exits: a leader taken from it is gone
    at once, and every nsenter into it fails."""
    try:
        with open(f"/proc/{ppid}/task/{ppid}/children") as f:
            kids = f.read().split()
        ours = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    for pid in kids:
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") != ours:
                return int(pid)
        except OSError:
            continue
    return None


def proc_start_time(pid):
    """When pid started (clock ticks since boot), or None: with the pid,
    it names a process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class Proc:
    """A child process with its own process group and a log file."""

    def __init__(self, name, argv, workdir, env=None, stdin=None, stdout=None):
        self.name = name
        self.log = Path(workdir) / f"{name}.log"
        self.logf = open(self.log, "ab")
        self.p = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else self.logf,
            stderr=self.logf,
            start_new_session=True,
        )

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def text(self):
        return self.log.read_text(errors="replace")

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop the process and everything in its process group."""
        if self.p.returncode is not None:
            # Reaped already: its group id may belong to someone else now.
            self._close()
            return
        if self.alive():
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Children ExaBGP spawned share its group; make sure none survive.
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close()

    def _close(self):
        # Input still buffered for a process that is gone would raise
        # when the pipe is collected, as a warning in some later test.
        if self.p.stdin is not None:
            try:
                self.p.stdin.close()
            except BrokenPipeError:
                pass
        self.logf.close()


class Stack:
    """Everything one test starts; stop() ends it all, in reverse order.

    Besides Procs, anything with a stop() method may be appended to
    procs (a thread, a fake server, a directory to remove)."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.procs = []

    def start(self, *args, **kw):
        p = Proc(*args, workdir=self.dir, **kw)
        self.procs.append(p)
        return p

    def defer(self, fn, *args, **kw):
        """fn(*args, **kw) when the stack stops, in its turn (a socket
        to close, a directory to remove)."""
        self.procs.append(_Deferred(fn, args, kw))

    def public_dir(self, prefix):
        """A directory other users (nobody) can reach, as the test's own
        (pytest's tmp_path, 0700) is not; removed when the stack stops."""
        d = tempfile.mkdtemp(prefix=prefix)
        os.chmod(d, 0o755)
        self.defer(shutil.rmtree, d, ignore_errors=True)
        return d

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs.clear()


class _Deferred:
    def __init__(self, fn, args, kw):
        self.fn, self.args, self.kw = fn, args, kw

    def stop(self):
        self.fn(*self.args, **self.kw)


def start_daemon(stack, name, argv, ready, what, env=None):
    """Start a daemon; return once the file `ready` (its socket) exists,
    or fail with its output if it died first."""
    proc = stack.start(name, [str(a) for a in argv], env=env)
    wait_for(lambda: ready.exists() or not proc.alive(), 10, what=what)
    assert proc.alive(), proc.text()
    return proc
