# SPDX-License-Identifier: MPL-2.0
"""The load generator: bounded DNS load at a fixed rate, every query's
answer matched and, where asked, recorded.

One engine (Run) serves two uses:

- Load, in a thread of a test or benchmark on loopback: 'qps' queries a
  second for 'seconds', each for names(i), from one UDP socket to a
  named on 127.0.0.1; the answers' RCODEs are counted as they come.

- The lab's clients (`python3 -m lab.load`, in the fleet's client
  namespace; Client starts it there): --count queries at --qps to the
  anycast addresses, spread over many UDP sockets (source ports), so
  that the router's multipath hash spreads them over the nodes as it
  would spread many real clients.  Every query asks for the server's
  NSID, so the answer says which node gave it.

The lab's mix (--mix, percentages) is of three kinds of names:

  auth       names in the nodes' own zones: www.example A, example SOA,
             ns1.example A, a fresh nxNNN.example A (NXDOMAIN), and
             www.sec.example A (the secondary zone)
  recursive  a fresh qNNN.dK.test A, K cycling over --domains domains:
             named asks its upstream for every one
  broken     a fresh qNNN.<--broken-domain> A: the domain a test can
             make fail upstream for every node at once

Output: a CSV with one row per query (--out):

  seq,sent,recv,rcode,node,family,kind,sock

SIGUSR1 ends the sending early (the queries not sent are left out of
the CSV); the answers to those sent are still waited for.

sent and recv are wall-clock (CLOCK_REALTIME) seconds, recv being the
kernel's receive timestamp (SO_TIMESTAMPNS), so that they compare with
`ip -ts monitor` and BIRD's log; recv and rcode are empty for queries
never answered before the end (--timeout after the last send); node is
the answer's NSID.  A JSON summary (--summary) gives the parameters and
how late the sends were against the schedule, which is this tool's
accuracy.
"""

import argparse
import csv
import json
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

# Linux's value; Python's socket module does not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
QUERY_FLAGS = 0x0100                        # RD
# OPT: root, type 41, UDP 1232, no flags, one option: NSID, empty.
OPT_NSID = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x00"
QTYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
AUTH_NAMES = [("www.example", 1), ("example", 6), ("ns1.example", 1),
              (None, 1), ("www.sec.example", 1)]
KINDS = ("auth", "recursive", "broken")


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        out += bytes((len(b),)) + b
    return out + b"\x00"


def query_wire(qid, name, qtype, nsid=True):
    """A query with RD; with nsid, EDNS asking for the server's NSID."""
    return struct.pack("!HHHHHH", qid, QUERY_FLAGS, 1, 0, 0, 1 if nsid else 0) + \
        wire_name(name) + struct.pack("!HH", qtype, 1) + (OPT_NSID if nsid else b"")


def nsid_of(msg):
    """The NSID of an answer: the OPT record is last and NSID its only
    option, so it ends the message.  Empty if there is none."""
    for n in range(1, 32):
        if len(msg) < n + 4 + 12:
            break
        if msg[-n - 4:-n - 2] == b"\x00\x03" and \
                struct.unpack_from("!H", msg, len(msg) - n - 2)[0] == n:
            return msg[-n:].decode("ascii", "replace")
    return ""


def open_sockets(family, n, ep, fds):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6,
                          socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("0.0.0.0" if family == 4 else "::", 0))
        s.setblocking(False)
        ep.register(s.fileno(), select.EPOLLIN)
        fds[s.fileno()] = (family, i, s)
        socks.append(s)
    return socks


class Run:
    """One bounded run: 'count' queries at 'qps', query seq being
    plan(seq) -> (name, qtype, kind, family), sent round robin over
    'sockets' UDP sockets per family to servers[family] (address, port).
    After the last send, answers are waited for 'timeout' seconds.

    While it runs, 'sent', 'answered' and 'rcodes' ({rcode: answers})
    count; with record, every query's times, rcode and NSID are kept
    for rows() and summary().  start_at: the wall-clock time of the
    first send; tick: the longest sleep between sends (the schedule's
    grain, traded against CPU)."""

    def __init__(self, plan, servers, count, qps, *, sockets=1, families=(4,),
                 timeout=2.0, nsid=False, start_at=0.0, record=True, tick=0.0005):
        self.plan, self.servers = plan, servers
        self.count, self.qps = count, qps
        self.sockets, self.families = sockets, families
        self.timeout, self.nsid, self.start_at = timeout, nsid, start_at
        self.record, self.tick = record, tick
        self.sent = self.answered = 0
        self.rcodes = {}
        self.started = None
        self.late = []
        self._sending = self._waiting = True

    def stop_sending(self):
        """End the run early: the answers still due are waited for."""
        self._sending = False

    def stop(self):
        """End the run now."""
        self._sending = self._waiting = False

    def run(self):
        ep = select.epoll()
        fds = {}
        socks = {f: open_sockets(f, self.sockets, ep, fds) for f in self.families}
        n = self.count
        if self.record:
            self.times = [0.0] * n
            self.recv = [None] * n
            self.rcode = [None] * n
            self.node = [""] * n
            self.meta = [None] * n
        outstanding = {}
        cmsg_space = socket.CMSG_SPACE(16)

        def drain(wait):
            for fd, _ in ep.poll(wait):
                family, i, s = fds[fd]
                while True:
                    try:
                        data, anc, _, _ = s.recvmsg(4096, cmsg_space)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:         # an ICMP error queued on the socket
                        continue
                    if len(data) < 12:
                        continue
                    seq = outstanding.pop((family, i, data[0] << 8 | data[1]), None)
                    if seq is None:
                        continue
                    rc = data[3] & 0x0F
                    self.answered += 1
                    self.rcodes[rc] = self.rcodes.get(rc, 0) + 1
                    if not self.record:
                        continue
                    t = None
                    for level, typ, cd in anc:
                        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                            sec, nsec = struct.unpack("qq", cd[:16])
                            t = sec + nsec / 1e9
                    self.recv[seq] = t if t is not None else time.time()
                    self.rcode[seq] = rc
                    self.node[seq] = nsid_of(data)

        try:
            if self.start_at:
                while time.time() < self.start_at and self._sending:
                    time.sleep(min(0.05, self.start_at - time.time()))
            start_wall = self.started = time.time()
            start = time.monotonic()
            interval = 1.0 / self.qps
            seq = 0
            while seq < n and self._sending:
                due = start + seq * interval
                now = time.monotonic()
                if now < due:
                    drain(0)
                    left = due - time.monotonic()
                    if left > 0:
                        time.sleep(min(left, self.tick))
                    continue
                name, qtype, kind, family = self.plan(seq)
                s = socks[family][seq % self.sockets]
                qid = (seq // self.sockets) & 0xFFFF
                wire = query_wire(qid, name, qtype, self.nsid)
                outstanding[(family, seq % self.sockets, qid)] = seq
                if self.record:
                    self.late.append(now - due)
                    self.times[seq] = start_wall + (time.monotonic() - start)
                    self.meta[seq] = (family, kind, seq % self.sockets)
                try:
                    s.sendto(wire, self.servers[family])
                except OSError:
                    pass
                seq += 1
                self.sent = seq
            end = time.monotonic() + self.timeout
            while outstanding and self._waiting and time.monotonic() < end:
                drain(0.01)
        finally:
            for s in fds.values():
                s[2].close()
            ep.close()
        return self

    def rows(self):
        """(seq, sent, recv, rcode, node, family, kind, sock) of every
        query sent (record=True)."""
        for i in range(self.sent):
            family, kind, sock = self.meta[i]
            yield (i, self.times[i], self.recv[i], self.rcode[i], self.node[i],
                   family, kind, sock)

    def write_csv(self, path):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["seq", "sent", "recv", "rcode", "node", "family", "kind", "sock"])
            for i, sent, recv, rcode, node, family, kind, sock in self.rows():
                w.writerow([i, f"{sent:.6f}", "" if recv is None else f"{recv:.6f}",
                            "" if rcode is None else rcode, node, family, kind, sock])

    def summary(self):
        late = sorted(self.late) or [0.0]
        return {
            "started": self.started,
            "queries": self.sent,
            "answered": self.answered,
            "send_lateness_ms": {
                "p50": 1000 * late[len(late) // 2],
                "p99": 1000 * late[min(len(late) - 1, int(len(late) * 0.99))],
                "max": 1000 * late[-1],
                "over_1ms": sum(1 for x in late if x > 0.001),
            },
        }


class Load:
    """Bounded client traffic on loopback: 'qps' queries a second for
    'seconds', each for names(i), over UDP from one socket to named on
    127.0.0.1 'port'; replies are read and their rcodes counted (sent,
    answered, rcodes, as they come).  Runs in a thread; stops by itself."""

    def __init__(self, port, names, qps, seconds, rdtype="A"):
        self.port, self.names, self.qps, self.seconds = port, names, qps, seconds
        if rdtype not in QTYPES:
            raise ValueError(f"rdtype {rdtype!r}: one of {', '.join(QTYPES)}")
        qtype = QTYPES[rdtype]
        self.engine = Run(lambda seq: (names(seq), qtype, "", 4),
                          {4: ("127.0.0.1", port)}, int(qps * seconds), qps,
                          record=False, tick=0.005)
        self.thread = threading.Thread(target=self.engine.run, daemon=True)
        self.thread.start()

    @property
    def sent(self):
        return self.engine.sent

    @property
    def answered(self):
        return self.engine.answered

    @property
    def rcodes(self):
        return self.engine.rcodes

    def wait(self, timeout=None):
        self.thread.join(timeout if timeout is not None else self.seconds + 10)

    def stop(self):
        self.engine.stop()
        self.thread.join(5)


# -- the lab's clients ----------------------------------------------------------

def parse_mix(text):
    mix = dict.fromkeys(KINDS, 0.0)
    for part in text.split(","):
        k, _, v = part.partition("=")
        if k not in mix or not v:
            raise SystemExit(f"--mix: '{part}': expected KIND=PERCENT with "
                             f"KIND one of {', '.join(KINDS)}")
        mix[k] = float(v)
    if sum(mix.values()) <= 0:
        raise SystemExit("--mix: all shares are zero")
    return mix


class Plan:
    """What query seq is: its name, type, kind and family.  Decided by
    a seeded generator, so a run can be repeated."""

    def __init__(self, args):
        self.rng = random.Random(args.seed)
        mix = parse_mix(args.mix)
        total = sum(mix.values())
        self.cum, acc = [], 0.0
        for k in KINDS:
            acc += mix[k] / total
            self.cum.append((acc, k))
        self.domains = args.domains
        self.broken = args.broken_domain.rstrip(".")
        self.v6 = args.v6_share / 100.0

    def __call__(self, seq):
        r = self.rng.random()
        kind = next((k for c, k in self.cum if r <= c), KINDS[-1])
        if kind == "auth":
            name, qtype = AUTH_NAMES[seq % len(AUTH_NAMES)]
            name = name or f"nx{seq}.example"
        elif kind == "recursive":
            name, qtype = f"q{seq}.d{seq % self.domains}.test", 1
        else:
            name, qtype = f"q{seq}.{self.broken}", 1
        family = 6 if self.rng.random() < self.v6 else 4
        return name, qtype, kind, family


class Client:
    """One run of this generator as the fleet's client, in the client
    namespace (`Lab.load()`): its CSV and summary in the lab's
    directory."""

    def __init__(self, lab, name, args):
        from .paths import module_argv, module_env
        self.lab = lab
        self.csv = lab.dir / f"{name}.csv"
        self.summary_path = lab.dir / f"{name}.json"
        argv = ["ip", "netns", "exec", lab.netns_name("client")]
        if lab.realtime:
            # The client stands for other machines: it must not be late
            # because named and friends share this machine's 2 cores.
            argv += ["chrt", "-f", "10"]
        argv += module_argv("load", "--out", self.csv, "--summary",
                            self.summary_path, *args)
        self.proc = lab.stack.start(name, [str(a) for a in argv], env=module_env())

    def wait(self, timeout):
        self.proc.p.wait(timeout)
        if self.proc.p.returncode != 0:
            raise RuntimeError(f"client failed:\n{self.proc.text()[-2000:]}")
        return self

    def stop_sending(self):
        """End the run early: the client stops sending, waits for the
        answers still due, and writes its records."""
        self.proc.send_signal(signal.SIGUSR1)

    def summary(self):
        return json.loads(self.summary_path.read_text())

    def alive(self):
        return self.proc.alive()


def main():
    ap = argparse.ArgumentParser(
        description="Bounded DNS load at a fixed rate; every query recorded.")
    ap.add_argument("--server4", default="192.0.2.53")
    ap.add_argument("--server6", default="2001:db8::53")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--v6-share", type=float, default=20.0,
                    help="percentage of queries sent over IPv6")
    ap.add_argument("--qps", type=float, default=1000.0)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--sockets", type=int, default=128,
                    help="UDP sockets (source ports) per address family")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="how long to wait for answers after the last send")
    ap.add_argument("--mix", default="auth=50,recursive=50",
                    help="percentages of auth, recursive, broken")
    ap.add_argument("--domains", type=int, default=100)
    ap.add_argument("--broken-domain", default="broken.test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-at", type=float, default=0.0,
                    help="wall-clock time to send the first query at")
    ap.add_argument("--out", required=True, help="CSV, one row per query")
    ap.add_argument("--summary", help="JSON summary")
    args = ap.parse_args()
    if args.qps <= 0 or args.count <= 0 or args.count > 10_000_000:
        ap.error("--qps must be positive and --count within 1..10000000")
    run = Run(Plan(args), {4: (args.server4, args.port), 6: (args.server6, args.port)},
              args.count, args.qps, sockets=args.sockets,
              families=(4, 6) if args.v6_share > 0 else (4,),
              timeout=args.timeout, nsid=True, start_at=args.start_at)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGUSR1, lambda *_: run.stop_sending())
    run.run()
    run.write_csv(args.out)
    summary = {"params": vars(args), **run.summary()}
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    print(json.dumps({k: summary[k] for k in ("queries", "answered", "send_lateness_ms")}))


if __name__ == "__main__":
    main()
