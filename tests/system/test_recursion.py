# SPDX-License-Identifier: MPL-2.0
"""Recursion accounting (issue 8 item 4): the recursions named really
started, each one's outcome exactly once, and quota refusals apart."""

import socket
import time

import dns.message

import lab
from lab.feed import Subscriber


def counters(sub):
    return sub.snapshot()[0]["_default"]


def settled(sub, base, started):
    """Waits until 'started' recursions have all finished; returns the
    counters' growth since 'base'."""
    def done():
        v = counters(sub)
        d = {k: v[k] - base.get(k, 0) for k in v}
        fin = sum(d[f"rec_{k}"] for k in ("success", "failure", "timeout",
                                            "canceled"))
        return d if d["rec_started"] >= started and fin == d["rec_started"] else None
    return lab.wait_for(done, 20, interval=0, what="recursions to finish")


def test_retransmits_start_one_recursion(stack):
    """A client retransmitting the same query (same id, same port) while
    named recurses: named drops the duplicates, which start nothing."""
    upstream = lab.FakeUpstream()
    upstream.mode = "silent"
    stack.procs.append(upstream)
    named = lab.resolver(stack, upstream.port).start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    base = counters(sub)
    q = dns.message.make_query(f"dup-{time.monotonic_ns()}.test.", "A").to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(5):
            s.sendto(q, ("127.0.0.1", named.port))
            time.sleep(0.05)
        upstream.mode = "answer"
        s.settimeout(5)
        assert s.recv(4096)
    d = settled(sub, base, 1)
    assert d["rec_started"] == 1, d
    assert d["rec_success"] == 1, d
    assert d["dropped"] == 4, d


def test_quota_refusals_and_cancels_are_apart(stack):
    """recursive-clients 10 under 30 parallel recursions: those refused
    by the quota never started; those named cancelled (the soft quota
    kills the oldest) are counted once, as canceled, not as upstream
    failures; every started one finishes exactly once."""
    upstream = lab.FakeUpstream()
    upstream.mode = "silent"
    stack.procs.append(upstream)
    named = lab.resolver(stack, upstream.port)
    named.conf.write_text(named.conf.read_text().replace(
        "recursion yes;", "recursion yes;\n\trecursive-clients 10;"))
    named.start()
    sub = Subscriber(named.socket)
    assert sub.record()[0] == "hello"
    base = counters(sub)
    tag = time.monotonic_ns()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(30):
            q = dns.message.make_query(f"q{i}-{tag}.test.", "A")
            s.sendto(q.to_wire(), ("127.0.0.1", named.port))
        time.sleep(0.5)
        upstream.mode = "answer"
        d = settled(sub, base, 1)
    assert d["rec_quota"] > 0, d
    assert d["rec_canceled"] > 0, d
    assert d["rec_failure"] == 0 and d["rec_timeout"] == 0, d
    # Refused ones never started: started + refused covers the 30.
    assert d["rec_started"] + d["rec_quota"] == 30, d
