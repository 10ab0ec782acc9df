"""The relay's control socket as operators and scripts meet it:
who may connect and for how long, the commands, their JSON and exit
codes (doc/protocol.md section 3, doc/cli.md section 2)."""

import os
import socket
import subprocess
import time

import ahtest


def relay_only(stack, **kw):
    """A relay that the test plays ExaBGP for, with a real named."""
    named = ahtest.Named(stack, **kw).start()
    relay = ahtest.Relay(stack, named)
    proc = ahtest.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    return named, relay, proc


def test_silent_clients_do_not_lock_out_anycastctl(stack):
    """16 connections that never speak (the relay serves 16 at a time)
    must neither block anycastctl nor be kept forever."""
    named, relay, proc = relay_only(stack)
    silent = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(relay.control)
        silent.append(s)
    time.sleep(0.2)                     # let the relay accept them all
    r = relay.ctl("status")
    assert r.returncode == 0, r.stdout + r.stderr
    # Each silent client is dropped within a bounded time.
    for s in silent:
        s.settimeout(15)
        assert s.recv(1) == b"", "connection closed by the relay"
        s.close()
    assert proc.proc.alive()
