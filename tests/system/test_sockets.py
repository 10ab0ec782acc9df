# SPDX-License-Identifier: MPL-2.0
"""The sockets must never hurt named or the relay (issue 8 items 8,
10, 11): no umask() in a multithreaded named, no spinning when out of
file descriptors, and no local user able to starve the relay of a
subscriber slot or cost named memory without end."""

import os
import socket
import subprocess
import time

import lab
from lab.feed import Subscriber


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def starve_fds(pid, path, extra=4):
    """Lower the process's descriptor limit to what it uses plus 'extra',
    then queue connections on 'path' until it can accept no more.
    Returns the client sockets (the caller keeps them open)."""
    used = len(os.listdir(f"/proc/{pid}/fd"))
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={used + extra}"],
                   check=True)
    socks = []
    for _ in range(extra + 8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except BlockingIOError:
            pass                                  # backlog full: enough
        socks.append(s)
    return socks


def test_no_umask_anywhere():
    """umask() changes the whole process, every thread of named: neither
    the plugin nor the relay may call it."""
    for binary in (lab.PLUGIN, lab.RELAY):
        out = subprocess.run(["nm", "-D", "--undefined-only", str(binary)],
                             capture_output=True, text=True, check=True).stdout
        assert " umask" not in out, binary


def test_socket_mode_and_stale_file(stack):
    named = lab.Named(stack)
    named.conf.write_text(named.conf.read_text().replace(
        'socket-mode "0660";', 'socket-mode "0600";'))
    open(named.socket, "w").close()               # not a socket: refused
    proc = stack.start("named-refused", [lab.NAMED, "-g", "-c",
                                         str(named.conf), "-n", "2"],
                       env=lab.named_sanitizer_env() if lab.SANITIZE else None)
    lab.wait_for(lambda: not proc.alive(), 20, what="named to refuse")
    assert "exists and is not a socket" in proc.text()
    os.unlink(named.socket)
    named.start()
    assert oct(os.stat(named.socket).st_mode & 0o777) == "0o600"
    # Nothing is left of the private directory it was made in.
    assert not [f for f in os.listdir(named.dir) if f.startswith(".ah")]


def cpu_while_starved(pid, path):
    """CPU seconds the process burns in 2 s with connections waiting on
    'path' that it has no descriptor to accept.  A loop spinning on the
    readable listener burns a whole core: ~2 s."""
    socks = starve_fds(pid, path)
    try:
        t0 = cpu_seconds(pid)
        time.sleep(2)
        return cpu_seconds(pid) - t0
    finally:
        for s in socks:
            s.close()


def test_plugin_rests_when_out_of_descriptors(stack):
    named = lab.Named(stack).start()
    used = cpu_while_starved(named.proc.pid, named.socket)
    assert used < 0.6, used
    assert named.query("www.example").rcode() == 0


def test_relay_control_rests_when_out_of_descriptors(stack):
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    used = cpu_while_starved(proc.proc.pid, relay.control)
    assert used < 0.6, used
    assert proc.proc.alive()


def silent_subscriber(path, uid):
    """A subscriber that never reads, from another user."""
    return subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import socket, sys, time\n"
         "s = socket.socket(socket.AF_UNIX)\n"
         "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
         f"s.connect({path!r})\n"
         "print('connected', flush=True)\n"
         "time.sleep(60)\n"],
        user=uid, stdout=subprocess.PIPE, start_new_session=True)


class _Kill:
    def __init__(self, procs):
        self.procs = procs

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait(5)


def test_one_user_cannot_take_every_slot(stack):
    """32 silent subscribers from one user: the relay, another user,
    still gets a slot; that user gets at most 8."""
    named = lab.Named(stack)
    # A directory the other user can reach (the test's own is 0700).
    shared = stack.public_dir("ah-sockets-")
    path = os.path.join(shared, "ah.sock")
    named.conf.write_text(named.conf.read_text().replace(
        'socket-mode "0660";', 'socket-mode "0666";').replace(
            named.socket, path))
    named.socket = path
    named.start()
    procs = [silent_subscriber(named.socket, "nobody") for _ in range(32)]
    stack.procs.append(_Kill(procs))
    for p in procs:
        assert p.stdout.readline() == b"connected\n"
    # The relay's user (root here) is served.
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    # A further connection as 'nobody' is told why it is refused.
    out = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import socket\n"
         "s = socket.socket(socket.AF_UNIX)\n"
         f"s.connect({named.socket!r})\n"
         "print(s.recv(200).decode())\n"],
        user="nobody", capture_output=True, text=True, timeout=10).stdout
    assert out.startswith("error msg=too-many-subscribers-for-this-user"), out


def test_subscriber_that_never_reads_is_dropped(stack):
    """Not only when its 4 MiB queue is full: after a bounded time."""
    named = lab.Named(stack, interval=50).start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(named.socket)
    stack.procs.append(_Kill([]))
    # ~3 KB every 50 ms fills the kernel's buffers within seconds; then
    # 5 s of no progress.  At 4 MiB it would take minutes.
    deadline = time.monotonic() + 40
    dropped = False
    time.sleep(12)
    s.settimeout(5)
    while time.monotonic() < deadline:
        try:
            data = s.recv(1 << 20)
        except ConnectionResetError:
            dropped = True
            break
        if not data:
            dropped = True
            break
    s.close()
    assert dropped, "still connected after 40 s"
