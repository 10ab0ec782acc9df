# SPDX-License-Identifier: MPL-2.0
"""The lab's own helpers, where a mistake of theirs shows up as a
failure of something else."""

import signal
import subprocess

import lab


def test_free_port_never_hands_out_a_port_twice():
    """free_port() lets the port go before the server binds it, so two
    calls could name the same one: the kernel hands out a free port
    again, dozens of times in 1,000 calls.  A test that gave its relay
    a metrics port and then started named, whose rndc port came out the
    same, scraped named's control channel, which hangs up on HTTP
    ("Remote end closed connection without response"), and failed."""
    ports = [lab.free_port() for _ in range(1000)]
    assert len(set(ports)) == len(ports)


def test_container_leader_is_in_another_pid_namespace(tmp_path):
    """systemd-nspawn forks an outer child in the host's pid namespace,
    which forks the container's init in a new one and exits (about 8 ms
    here).  Taking nspawn's first child as the container's init caught
    the outer child once in a clean-clone CI run: every nsenter into it
    then failed, and the node "did not boot" in 90 s."""
    stack = lab.Stack(tmp_path)
    try:
        # The outer child's shape: a child in our own pid namespace.
        outer = stack.start("outer", ["sh", "-c", "sleep 30 & wait"])
        lab.wait_for(lambda: subprocess.run(
            ["pgrep", "-P", str(outer.pid)], capture_output=True).stdout,
            5, 0.01, "the same-namespace child")
        assert lab.container_leader(outer.pid) is None
        # The container's: a child in a pid namespace of its own.
        # unshare waits out SIGTERM; --kill-child ends sleep with it.
        inner = stack.start("inner", ["unshare", "--pid", "--fork",
                                      "--kill-child", "sleep", "30"])
        leader = lab.wait_for(lambda: lab.container_leader(inner.pid), 5,
                              0.01, "the new namespace's init")
        assert subprocess.run(["ps", "-o", "comm=", "-p", str(leader)],
                              capture_output=True, text=True
                              ).stdout.strip() == "sleep"
        inner.stop(signal.SIGKILL)
    finally:
        stack.stop()


def test_a_closed_upstream_refuses_yet_keeps_its_port():
    """The upstream's "closed" mode gave its port up, and reopening
    bound it again: a clean-clone CI run failed there with "Address
    already in use", the port taken in between by one of the sockets
    named (or the test's own queries) opens on a random port for each
    recursion.  Closed now refuses while the port stays the
    upstream's."""
    import socket

    import dns.message
    import dns.query

    up = lab.FakeUpstream()
    try:
        up.close()
        # Anyone else's socket: named's query source port, say.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            try:
                other.bind(("127.0.0.1", up.port))
                taken = True
            except OSError:
                taken = False
        assert not taken, "the closed upstream's port was free to take"
        q = dns.message.make_query("www.example.", "A")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(2)
            c.connect(("127.0.0.1", up.port))
            c.send(q.to_wire())
            refused = False
            try:
                c.recv(512)
            except ConnectionRefusedError:
                refused = True
            assert refused, "a query to the closed upstream was not refused"
        up.reopen()
        r = dns.query.udp(q, "127.0.0.1", port=up.port, timeout=2)
        assert r.answer and r.answer[0][0].address == "203.0.113.1"
    finally:
        up.stop()
