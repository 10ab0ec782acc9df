#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Client traffic like a resolver's, against the lab internet's nodes.

Runs inside a network namespace (the fleet's client, or a standalone
resolver's) and sends lookups to the given resolver addresses, drawn
from a query population written by the internet (World.population():
Zipf-like popularity over thousands of names, several query types, the
NXDOMAIN lookups and the broken domains' SERVFAILs):

- lookups arrive as a Poisson process at --qps queries per second; an
  'addr' lookup is getaddrinfo()'s A and AAAA, sent in parallel on one
  socket, as glibc does;
- each lookup has its own socket from a pool (a stub on a host: its
  source port is kept while it runs), at least --sockets of them per
  family, taken in turn, so that a router's multipath hash spreads the
  lookups as it spreads many clients; a random ID per query, the RD and
  AD bits and an EDNS NSID request, so that every answer names the node
  that gave it;
- a query unanswered after --timeout is sent again, the same bytes on
  the same socket (glibc's retry: BIND drops the repeat while the first
  is still recursing), up to --attempts sends; glibc's 5 s x 2 become
  1 s x 2 by default, so that a bounded run ends;
- with --attack-victim, a random-subdomain attack runs beside the
  normal traffic: a fresh name under the victim per query, at
  --attack-multiple times the normal rate, from the same kind of stubs.

Bounded: sending stops after --seconds or --count queries, whichever
comes first (or at SIGUSR1); the run ends once every lookup has its
answer or has given up, and in any case after --max-seconds.

Output: one CSV row per query (--out):
  seq,lookup,kind,qname,qtype,sent,tries,recv,rcode,ad,node,family,expect
sent/recv are wall-clock times (recv empty and rcode 'lost' when no
answer came); tries is how many times it was sent; node is the answer's
NSID.  And a JSON summary (--summary): counts by rcode, kind and type,
the rate achieved, and how late the sends were.

Standard library only, so it runs by path under any python3.
"""

import argparse
import bisect
import collections
import heapq
import json
import random
import resource
import select
import signal
import socket
import struct
import sys
import time

READY = "traffic: sending"              # on stderr, once SIGUSR1 is handled
QTYPES = {"A": 1, "NS": 2, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "HTTPS": 65}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
# EDNS0 OPT: UDP size 1232, NSID option (code 3) empty.
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x00"
FLAGS = 0x0120                          # RD, AD


def question(qname, qtype):
    """A query's bytes after the ID."""
    wire = b"".join(bytes([len(x)]) + x.encode()
                    for x in qname.rstrip(".").split(".") if x) + b"\0"
    return (struct.pack("!HHHHH", FLAGS, 1, 0, 0, 1) + wire +
            struct.pack("!HH", QTYPES[qtype], 1) + OPT)


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n >= 0xC0:
            return i + 2
        i += n + 1


def nsid(msg):
    """The NSID in an answer's OPT record, or ''."""
    try:
        qd, an, ns, ar = struct.unpack_from("!HHHH", msg, 4)
        i = 12
        for _ in range(qd):
            i = skip_name(msg, i) + 4
        for k in range(an + ns + ar):
            i = skip_name(msg, i)
            rtype, _, _, rdlen = struct.unpack_from("!HHIH", msg, i)
            i += 10
            if rtype == 41 and k >= an + ns:
                end, j = i + rdlen, i
                while j + 4 <= end:
                    code, olen = struct.unpack_from("!HH", msg, j)
                    if code == 3:
                        return msg[j + 4:j + 4 + olen].decode("ascii", "replace")
                    j += 4 + olen
            i += rdlen
    except (IndexError, struct.error):
        pass
    return ""


class Population:
    """Draws lookups: (qname, qtypes, kind, expect)."""

    def __init__(self, asks, rng):
        self.rng = rng
        self.cum, self.asks = [], []
        s = queries = 0.0
        for qname, qtype, weight, kind, expect in asks:
            types = ("A", "AAAA") if qtype == "addr" else (qtype,)
            s += weight
            queries += weight * len(types)
            self.cum.append(s)
            self.asks.append((qname, types, kind, expect))
        self.total = s
        # Queries per lookup, to turn a query rate into a lookup rate.
        self.per_lookup = queries / s

    def draw(self):
        a = self.asks[bisect.bisect_left(self.cum, self.rng.random() * self.total)]
        if "{r}" in a[0]:
            label = "".join(self.rng.choices(ALNUM, k=self.rng.randint(7, 15)))
            return (a[0].replace("{r}", label),) + a[1:]
        return a


class Lookup:
    __slots__ = ("seq", "sock", "family", "dst", "queries", "kind", "expect",
                 "left")


class Query:
    __slots__ = ("seq", "qid", "qname", "qtype", "wire", "sent", "tries",
                 "recv", "rcode", "ad", "node")


class Traffic:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        with open(args.population) as f:
            self.pop = Population(json.load(f)["asks"], self.rng)
        self.attack = None
        if args.attack_victim:
            self.attack = Population([["{r}." + args.attack_victim.rstrip(".") + ".",
                                       args.attack_type, 1, "attack",
                                       args.attack_expect]], self.rng)
        self.servers = {4: [], 6: []}
        for s in args.server:
            host, _, port = s.rpartition("@") if "@" in s else (s, "", "53")
            fam = 6 if ":" in host else 4
            self.servers[fam].append((host, int(port)))
        if not self.servers[4] and not self.servers[6]:
            raise SystemExit("traffic: no --server")
        self.free = {4: collections.deque(), 6: collections.deque()}
        self.made = {4: 0, 6: 0}
        self.socks = {}                 # fd -> socket
        self.inflight = {}              # (fd, qid) -> (Lookup, Query)
        self.timers = []                # (deadline, seq, Lookup)
        self.ep = select.epoll()
        self.qseq = self.lseq = 0
        self.counts = collections.Counter()
        self.by_kind = collections.defaultdict(collections.Counter)
        self.by_type = collections.defaultdict(collections.Counter)
        self.by_node = collections.Counter()
        self.late = []
        self.wires = {}
        self.out = open(args.out, "w", buffering=1 << 20)
        self.out.write("seq,lookup,kind,qname,qtype,sent,tries,recv,rcode,ad,"
                       "node,family,expect\n")
        self.stop = False

    # -- sockets ---------------------------------------------------------

    def socket(self, fam):
        # The oldest free one, once the pool has its --sockets: each
        # source port (a flow, for a router's hash) gets its share.
        if self.free[fam] and self.made[fam] >= self.args.sockets:
            return self.free[fam].popleft()
        if len(self.socks) >= self.args.max_sockets:
            return self.free[fam].popleft() if self.free[fam] else None
        self.made[fam] += 1
        s = socket.socket(socket.AF_INET6 if fam == 6 else socket.AF_INET,
                          socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("::" if fam == 6 else "0.0.0.0", 0))
        self.socks[s.fileno()] = s
        self.ep.register(s.fileno(), select.EPOLLIN)
        return s

    # -- sending ---------------------------------------------------------

    def start(self, draw, now, wall):
        qname, types, kind, expect = draw()
        fam = 6 if self.servers[6] and (not self.servers[4] or
                                        self.rng.random() * 100 < self.args.v6_share) else 4
        s = self.socket(fam)
        if s is None:
            self.counts["no-socket"] += 1
            return 0
        lk = Lookup()
        self.lseq += 1
        lk.seq, lk.sock, lk.family, lk.kind, lk.expect = self.lseq, s, fam, kind, expect
        dst = lk.dst = self.rng.choice(self.servers[fam])
        lk.queries = []
        for qtype in types:
            q = Query()
            self.qseq += 1
            q.seq, q.qname, q.qtype = self.qseq, qname, qtype
            body = self.wires.get((qname, qtype))
            if body is None:
                body = question(qname, qtype)
                if "{r}" not in qname and len(self.wires) < 200000:
                    self.wires[(qname, qtype)] = body
            while True:
                q.qid = self.rng.getrandbits(16)
                if (s.fileno(), q.qid) not in self.inflight:
                    break
            q.wire = struct.pack("!H", q.qid) + body
            q.sent, q.tries, q.recv, q.rcode, q.ad, q.node = wall, 1, None, "lost", 0, ""
            self.inflight[(s.fileno(), q.qid)] = (lk, q)
            lk.queries.append(q)
            self.send(s, q, dst)
        lk.left = len(lk.queries)
        heapq.heappush(self.timers, (now + self.args.timeout, lk.seq, lk))
        return len(types)

    def send(self, s, q, dst):
        try:
            s.sendto(q.wire, dst)
        except OSError as e:
            self.counts[f"send-error-{e.errno}"] += 1

    # -- receiving -------------------------------------------------------

    def receive(self, fd, wall):
        s = self.socks[fd]
        while True:
            try:
                msg = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:        # ICMP errors surface here
                self.counts[f"recv-error-{e.errno}"] += 1
                continue
            if len(msg) < 12:
                continue
            hit = self.inflight.pop((fd, (msg[0] << 8) | msg[1]), None)
            if hit is None:
                self.counts["stray"] += 1
                continue
            lk, q = hit
            q.recv = wall
            q.rcode = RCODES.get(msg[3] & 0xF, str(msg[3] & 0xF))
            q.ad = 1 if msg[3] & 0x20 else 0
            q.node = nsid(msg)
            lk.left -= 1
            if lk.left == 0:
                self.finish(lk)

    def expire(self, now):
        while self.timers and self.timers[0][0] <= now:
            _, _, lk = heapq.heappop(self.timers)
            if lk.left == 0:
                continue
            again = False
            for q in lk.queries:
                if q.recv is None and q.tries < self.args.attempts:
                    q.tries += 1
                    self.send(lk.sock, q, lk.dst)
                    again = True
            if again:
                heapq.heappush(self.timers, (now + self.args.timeout, lk.seq, lk))
            else:
                for q in lk.queries:
                    if q.recv is None:
                        self.inflight.pop((lk.sock.fileno(), q.qid), None)
                self.finish(lk)

    def finish(self, lk):
        lk.left = 0
        self.free[lk.family].append(lk.sock)
        w = self.out.write
        for q in lk.queries:
            self.counts[q.rcode] += 1
            self.by_kind[lk.kind][q.rcode] += 1
            self.by_type[q.qtype][q.rcode] += 1
            if q.node:
                self.by_node[q.node] += 1
            self.counts["retried"] += q.tries > 1
            recv = "" if q.recv is None else f"{q.recv:.6f}"
            w(f"{q.seq},{lk.seq},{lk.kind},{q.qname},{q.qtype},{q.sent:.6f},"
              f"{q.tries},{recv},{q.rcode},{q.ad},{q.node},{lk.family},"
              f"{lk.expect}\n")

    # -- the loop --------------------------------------------------------

    def run(self):
        a = self.args
        mono0, wall0 = time.monotonic(), time.time()
        send_end = mono0 + a.seconds
        hard_end = mono0 + a.max_seconds
        rate = a.qps / self.pop.per_lookup          # lookups per second
        streams = [[self.pop.draw, rate, mono0]]
        if self.attack:
            streams.append([self.attack.draw, a.qps * a.attack_multiple, mono0])
        for st in streams:
            st[2] = mono0 + self.rng.expovariate(st[1])
        sent = 0
        last_send = mono0
        while True:
            now = time.monotonic()
            if now >= hard_end:
                self.counts["cut-at-max-seconds"] += 1
                break
            sending = not self.stop and now < send_end and sent < a.count
            if sending:
                for st in streams:
                    while st[2] <= now and sent < a.count:
                        self.late.append(now - st[2])
                        sent += self.start(st[0], now, wall0 + (now - mono0))
                        last_send = now
                        st[2] += self.rng.expovariate(st[1])
            elif not self.inflight:
                break
            nxt = min(st[2] for st in streams) if sending else hard_end
            if self.timers:
                nxt = min(nxt, self.timers[0][0])
            timeout = max(0.0, nxt - time.monotonic())
            try:
                events = self.ep.poll(min(timeout, 0.05))
            except InterruptedError:
                events = []
            now = time.monotonic()
            wall = wall0 + (now - mono0)
            for fd, _ in events:
                self.receive(fd, wall)
            self.expire(now)
        # Whatever is still in flight at a hard stop is lost.
        for _, _, lk in list(self.timers):
            if lk.left:
                self.finish(lk)
        self.out.close()
        return sent, last_send - mono0

    def summary(self, sent, duration):
        late = sorted(self.late) or [0.0]

        def pct(p):
            return round(late[min(len(late) - 1, int(len(late) * p))] * 1000, 3)

        answered = sum(v for k, v in self.counts.items() if k in RCODES.values())
        return {
            "queries": sent, "lookups": self.lseq,
            "seconds": round(duration, 3),
            "qps": round(sent / duration, 1) if duration > 0 else 0,
            "answered": answered, "lost": self.counts["lost"],
            "rcodes": {k: v for k, v in self.counts.items()
                       if k in RCODES.values() or k == "lost"},
            "kinds": {k: dict(v) for k, v in self.by_kind.items()},
            "types": {k: dict(v) for k, v in self.by_type.items()},
            "nodes": dict(self.by_node),
            "retried": self.counts["retried"],
            "other": {k: v for k, v in self.counts.items()
                      if k not in RCODES.values() and k not in ("lost", "retried")},
            "late_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
            "sockets": len(self.socks),
        }


def main():
    ap = argparse.ArgumentParser(description="Resolver-like client traffic.")
    ap.add_argument("--population", required=True, help="JSON from the internet")
    ap.add_argument("--server", action="append", default=[],
                    help="resolver address[@port], repeatable")
    ap.add_argument("--qps", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--count", type=int, default=10 ** 9)
    ap.add_argument("--max-seconds", type=float, default=None)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--attempts", type=int, default=2)
    ap.add_argument("--v6-share", type=float, default=20)
    ap.add_argument("--attack-victim")
    ap.add_argument("--attack-multiple", type=float, default=3)
    ap.add_argument("--attack-type", default="A")
    ap.add_argument("--attack-expect", default="NXDOMAIN")
    ap.add_argument("--sockets", type=int, default=128,
                    help="source ports per family used in turn, at least")
    ap.add_argument("--max-sockets", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--summary", required=True)
    a = ap.parse_args()
    if a.qps <= 0 or a.seconds <= 0 or a.timeout <= 0 or a.attempts < 1:
        ap.error("qps, seconds and timeout must be positive, attempts >= 1")
    if a.max_seconds is None:
        a.max_seconds = a.seconds + a.timeout * a.attempts + 5
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.max_sockets + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    t = Traffic(a)
    signal.signal(signal.SIGUSR1, lambda *_: setattr(t, "stop", True))
    signal.signal(signal.SIGTERM, lambda *_: setattr(t, "stop", True))
    # TrafficRun.stop_sending() waits for this: SIGUSR1 before the
    # handler would kill the run, and its records with it.
    print(READY, file=sys.stderr, flush=True)
    sent, duration = t.run()
    with open(a.summary, "w") as f:
        json.dump(t.summary(sent, duration), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
