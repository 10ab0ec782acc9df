# SPDX-License-Identifier: MPL-2.0
"""The plugin's feed from either end, for tests: a Subscriber reads a
real plugin's socket as the relay does; a FakePlugin serves a socket to
a real relay, the test deciding every byte; ResolverCounters and feed()
drive a relay with synthetic counters through a FakePlugin.
"""

import collections
import os
import socket
import threading
import time

from .named import Named
from .proc import wait_for
from .relay import Relay, RelayUnderTest


class Subscriber:
    """A raw reader of the plugin socket, decoding with the protocol's
    rules.  It never writes: the plugin drops a subscriber that sends
    anything.

    Read it record by record (line, record, snapshot), or let discard()
    read and drop everything in a thread of its own, so that the plugin
    publishes as it does in production while nothing looks (benchmarks).
    wait: seconds to wait for the socket to accept (0: connect at once).
    """

    def __init__(self, path, wait=0):
        self.path = str(path)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if wait:
            wait_for(self._connect, wait, interval=0.05,
                     what=f"plugin socket {self.path}")
        else:
            self.s.connect(self.path)
        self.s.settimeout(5)
        self.buf = b""
        self.bytes = 0
        self.stopping = False
        self.thread = None

    def _connect(self):
        try:
            self.s.connect(self.path)
            return True
        except OSError:
            return False

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        assert len(raw) < 1024
        return raw.decode("ascii")

    def record(self):
        raw = self.line()
        if raw is None:
            return None
        typ, *fields = raw.split(" ")
        kv = dict(f.split("=", 1) for f in fields)
        return typ, kv

    def snapshot(self, records=None):
        """The next complete snapshot: {view name: outcome counters},
        tick fields.  Every record must belong to a view whose 'view'
        record came first in the snapshot.  With 'records', a list,
        every record is appended to it."""
        names, views, count = {}, {}, 0
        while True:
            rec = self.record()
            assert rec is not None, "socket closed"
            typ, kv = rec
            if records is not None:
                records.append(rec)
            if typ == "tick":
                assert int(kv["views"]) == len(views)
                assert int(kv["records"]) == count
                return views, kv
            if typ in ("hello", "bye"):
                continue
            count += 1
            if typ == "view":
                names[kv["id"]] = kv["name"]
                views[kv["name"]] = {}
                continue
            assert kv["view"] in names, (typ, kv, names)
            # Counters as the relay keys them: outcomes as they are,
            # recursion with rec_ in front.
            prefix = {"outcomes": "", "recursion": "rec_"}.get(typ)
            if prefix is not None:
                views[names[kv["view"]]].update(
                    {prefix + k: int(v) for k, v in kv.items()
                     if k not in ("view", "seq")})

    def discard(self):
        """Read and drop everything from now on, counting the bytes,
        until stop(); returns self."""
        self.s.settimeout(0.2)
        self.thread = threading.Thread(target=self._discard, daemon=True)
        self.thread.start()
        return self

    def _discard(self):
        while not self.stopping:
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            self.bytes += len(data)

    def stop(self):
        self.stopping = True
        if self.thread is not None:
            self.thread.join(2)
        self.s.close()


class FakePlugin:
    """A Unix socket server speaking (or mis-speaking) the plugin's side.

    The test decides every byte, to see what the relay does with it.
    """

    def __init__(self, path):
        self.path = str(path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.srv.settimeout(10)
        self.conn = None

    def accept(self, timeout=10):
        self.srv.settimeout(timeout)
        self.conn, _ = self.srv.accept()
        return self

    def send(self, data):
        self.conn.sendall(data if isinstance(data, bytes) else data.encode())

    proto = 3
    causes = True

    def hello(self, proto=3, pid=4242, interval=100, first=True):
        """hello and, as the plugin does, a first snapshot at once.
        counters() then speaks 'proto' (2: the previous plugin's groups),
        with the kinds 'rtmo' and 'rval' if 'causes'."""
        self.proto = proto
        self.send(f"hello proto={proto} named=9.18.test pid={pid} "
                  f"interval={interval} zone_interval=1000 started=0\n")
        if first:
            self.snapshot(0)

    probes = 0

    def snapshot(self, seq, views=("_default",), queries=0, probed=True):
        """One snapshot.  Unless probed is False, each view's 'probes'
        goes up, as when named answers the relay's liveness probes."""
        self.probes += probed
        for i, v in enumerate(views):
            self.send(f"view seq={seq} id={i} name={v}\n"
                      f"outcomes seq={seq} view={i} queries={queries} "
                      f"probes={self.probes} noerror={queries}\n")
        self.send(f"tick seq={seq} views={len(views)} records={2 * len(views)} "
                  f"time=0\n")

    def counters(self, seq, fields, rec, view="_default", domains=None,
                 suffixes=None):
        """One snapshot of one view: 'fields' for its outcomes record,
        'rec' for its recursion record (keys as the plugin sends them).
        The fleet sensor's counters may be given among 'fields' under
        the relay's keys (dom_fail_N .. dom_rval_N, sfx_fail_N ..
        sfx_rval_N): they go out as the 'domains' and 'suffixes' records
        of the protocol spoken (2: 'domains' of fail, rstart and rdone
        only; rtmo and rval only with 'causes'); 'domains' and 'suffixes'
        map a bucket to its sample name ('domain' and 'suffix' records)."""
        def kv(d):
            return "".join(f" {k}={v}" for k, v in d.items())
        outcomes = {k: v for k, v in fields.items()
                    if not k.startswith(("dom_", "sfx_"))}
        outcomes.setdefault("probes", self.probes)
        self.probes += 1
        lines = [f"view seq={seq} id=0 name={view}",
                 f"outcomes seq={seq} view=0{kv(outcomes)}",
                 f"recursion seq={seq} view=0{kv(rec)}"]
        kinds = ("fail", "rstart", "rdone", "rok", "rbad", "rtmo", "rval")
        levels = (("domains", "dom"), ("suffixes", "sfx"))
        if not self.causes:
            kinds = kinds[:5]
        if self.proto < 3:
            kinds, levels = kinds[:3], levels[:1]
        for typ, prefix in levels:
            for kind in kinds:
                b = {f"b{n}": fields.get(f"{prefix}_{kind}_{n}", 0)
                     for n in range(16)}
                lines.append(f"{typ} seq={seq} view=0 kind={kind}{kv(b)}")
        for typ, names in (("domain", domains), ("suffix", suffixes)):
            for bucket, name in (names or {}).items():
                lines.append(f"{typ} seq={seq} view=0 bucket={bucket} "
                             f"name={name}")
        self.send("".join(l + "\n" for l in lines) +
                  f"tick seq={seq} views=1 records={len(lines)} time=0\n")

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def stop(self):
        """As a Stack member: torn down with the test's processes."""
        self.shutdown()

    def shutdown(self):
        self.close()
        self.srv.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class ResolverCounters:
    """Cumulative counters of a resolver as the plugin publishes them,
    advanced one 100 ms snapshot at a time: 'healthy' queries that each
    recurse and resolve, spread over the 16 domain groups (and 4
    public-suffix groups: a domain group's number mod 4), and 'failing'
    queries answered SERVFAIL after a failed recursion, in the domain
    groups listed.  'silent' ones start a recursion there that does not
    end; 'cancelled' ones start one that named cancels at once (answered
    SERVFAIL: load); 'cached' ones are answered from the cache.  With
    'timed', the answers' latency histogram too: recursions answered
    within 20 ms, the 'late' of the healthy ones in a second (an answer
    lost and asked again); without, all beyond the last bound."""

    BOUNDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

    def __init__(self, timed=False):
        self.view = collections.Counter()
        self.rec = collections.Counter()
        self.n = 0
        self.timed = timed

    def group(self, kinds, b):
        for kind in kinds:
            self.view[f"dom_{kind}_{b}"] += 1
            self.view[f"sfx_{kind}_{b % 4}"] += 1

    def step(self, healthy, failing=0, groups=(5,), silent=0, cancelled=0,
             cached=0, late=0):
        self.view["queries"] += healthy + failing + silent + cancelled + cached
        self.view["noerror"] += healthy + cached
        self.view["servfail"] += failing + cancelled
        self.rec["started"] += healthy + failing + silent + cancelled
        self.rec["success"] += healthy
        self.rec["failure"] += failing
        self.rec["canceled"] += cancelled
        self.rec["le_inf"] += healthy + failing
        for b in self.BOUNDS if self.timed else ():
            self.rec[f"le_{b}"] += ((healthy - late + failing if b >= 20
                                     else 0) + (late if b >= 1000 else 0))
        for i in range(healthy):
            self.group(("rstart", "rdone", "rok"), (self.n + i) % 16)
        for i in range(cancelled):
            self.group(("rstart", "rdone"), (self.n + i) % 16)
        for i in range(failing):
            self.group(("fail", "rstart", "rdone", "rbad"),
                       groups[(self.n + i) % len(groups)])
        for i in range(silent):
            self.group(("rstart",), groups[(self.n + i) % len(groups)])
        self.n += healthy + failing + silent + cancelled


def fake_relay(stack, services, proto=3):
    """The relay under test on a FakePlugin's socket speaking 'proto';
    returns both."""
    named = Named(stack)                   # only for its socket path
    relay = Relay(stack, named, services=services)
    fake = FakePlugin(named.socket)
    stack.procs.append(fake)
    proc = RelayUnderTest(stack, relay)
    fake.accept()
    # The test sends snapshots by hand with pauses between its steps:
    # an interval of 1 s keeps stale-after (3 intervals) out of the way.
    fake.hello(interval=1000, proto=proto)
    return relay, fake, proc


def feed(fake, res, seq, n, *args, **kw):
    """n snapshots 100 ms apart, res (ResolverCounters) stepped by
    *args, **kw before each; returns the next seq."""
    for i in range(n):
        res.step(*args, **kw)
        fake.counters(seq + i, res.view, res.rec)
        time.sleep(0.1)
    return seq + n
