#!/usr/bin/python3
"""The lab's clients: bounded DNS load at a fixed rate, every query recorded.

Runs in the lab's client namespace.  Sends --count queries at --qps to
the anycast addresses, spread over many UDP sockets (source ports), so
that the router's multipath hash spreads them over the nodes as it
would spread many real clients.  Every query asks for the server's
NSID, so the answer says which node gave it.

The mix (--mix, percentages) is of three kinds of names:

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
import time

# Linux's value; Python's socket module does not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
QUERY_FLAGS = 0x0100                        # RD
# OPT: root, type 41, UDP 1232, no flags, one option: NSID, empty.
OPT_NSID = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x00"
AUTH_NAMES = [("www.example", 1), ("example", 6), ("ns1.example", 1),
              (None, 1), ("www.sec.example", 1)]
KINDS = ("auth", "recursive", "broken")
stop_sending = False


def on_usr1(signum, frame):
    global stop_sending
    stop_sending = True


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        out += bytes((len(b),)) + b
    return out + b"\x00"


def query_wire(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, QUERY_FLAGS, 1, 0, 0, 1) + \
        wire_name(name) + struct.pack("!HH", qtype, 1) + OPT_NSID


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


def run(args):
    plan = Plan(args)
    ep = select.epoll()
    fds = {}
    socks = {4: open_sockets(4, args.sockets, ep, fds),
             6: open_sockets(6, args.sockets, ep, fds) if args.v6_share > 0 else []}
    server = {4: (args.server4, args.port), 6: (args.server6, args.port)}
    n = args.count
    sent = [0.0] * n
    recv = [None] * n
    rcode = [None] * n
    node = [""] * n
    meta = [None] * n
    late = []
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
                t = None
                for level, typ, cd in anc:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", cd[:16])
                        t = sec + nsec / 1e9
                recv[seq] = t if t is not None else time.time()
                rcode[seq] = data[3] & 0x0F
                node[seq] = nsid_of(data)

    if args.start_at:
        while time.time() < args.start_at:
            time.sleep(min(0.05, args.start_at - time.time()))
    start_wall = time.time()
    start = time.monotonic()
    interval = 1.0 / args.qps
    seq = 0
    while seq < n and not stop_sending:
        due = start + seq * interval
        now = time.monotonic()
        if now < due:
            drain(0)
            left = due - time.monotonic()
            if left > 0:
                time.sleep(min(left, 0.0005))
            continue
        name, qtype, kind, family = plan(seq)
        s = socks[family][seq % args.sockets]
        qid = (seq // args.sockets) & 0xFFFF
        wire = query_wire(qid, name, qtype)
        late.append(now - due)
        outstanding[(family, seq % args.sockets, qid)] = seq
        sent[seq] = start_wall + (time.monotonic() - start)
        meta[seq] = (family, kind, seq % args.sockets)
        try:
            s.sendto(wire, server[family])
        except OSError:
            pass
        seq += 1
    end = time.monotonic() + args.timeout
    while outstanding and time.monotonic() < end:
        drain(0.01)

    n = seq
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seq", "sent", "recv", "rcode", "node", "family", "kind", "sock"])
        for i in range(n):
            family, kind, sock = meta[i]
            w.writerow([i, f"{sent[i]:.6f}",
                        "" if recv[i] is None else f"{recv[i]:.6f}",
                        "" if rcode[i] is None else rcode[i], node[i],
                        family, kind, sock])
    late.sort()
    late = late or [0.0]
    summary = {
        "params": vars(args),
        "started": start_wall,
        "queries": n,
        "answered": sum(1 for r in recv if r is not None),
        "send_lateness_ms": {
            "p50": 1000 * late[len(late) // 2],
            "p99": 1000 * late[min(len(late) - 1, int(len(late) * 0.99))],
            "max": 1000 * late[-1],
            "over_1ms": sum(1 for x in late if x > 0.001),
        },
    }
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    return summary


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
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGUSR1, on_usr1)
    s = run(args)
    print(json.dumps({k: s[k] for k in ("queries", "answered", "send_lateness_ms")}))


if __name__ == "__main__":
    main()
