# SPDX-License-Identifier: MPL-2.0
"""The fake upstream: a tiny recursive server on 127.0.0.1 that the
test or the lab breaks on purpose, as a resolver's forwarder.

It answers every A query with 203.0.113.1 and every AAAA query with
2001:db8::1 (TTL 0 by default, so every client query is a recursion),
other types with an empty NOERROR.  What it does instead:

  mode      answer (as above); silent: read and drop (the resolver
            times out); closed: ICMP port unreachable ("connection
            refused"), the port kept; refused / servfail: that RCODE
  broken    per domain, a mode other than 'answer' for the names at or
            under it, e.g. {"broken.example": "servfail"}
  cnames    per domain, its names are aliases: {"shop.example":
            "cdn.example"} answers x.shop.example with a CNAME to
            x.cdn.example (the resolver then asks for that)
  delay     answers that many seconds late

On loopback (tests, benchmarks) it runs in a thread of the test:
FakeUpstream, whose mode and broken the test sets.  In a fleet node's
namespace it runs as a process of its own (`python3 -m lab.upstream
--control PATH`), taking commands, one line each on the Unix socket
PATH, each answered with one line ("ok ..." or "error ..."):

  mode answer|silent|closed|refused|servfail
  fail DOMAIN     SERVFAIL for DOMAIN and names under it only ('-': none)
  delay MS        answer MS milliseconds late (0: at once)
  stats           counters

Written for speed rather than generality (a resolver under 1,000 qps of
client load asks it hundreds of times a second on a 2-core machine):
the query is parsed by hand, the answer is the query's header and
question plus one record that points back at the question's name.
"""

import argparse
import heapq
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time

RCODES = {"refused": 5, "servfail": 2}
MODES = ("answer", "silent", "closed", "refused", "servfail")
OPT_RR = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"   # EDNS0, 1232


def qname_end(msg):
    """Offset just past the question's name, or None if malformed."""
    i = 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0:
            return None
        i += n + 1
    return None


def qname_text(msg, end):
    labels, i = [], 12
    while i < end - 1:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += n + 1
    return ".".join(labels)


class Upstream:
    def __init__(self, port, ttl=0):
        self.port, self.ttl = port, ttl
        self.mode, self.delay = "answer", 0.0
        self.broken = {}
        self.cnames = {}
        self.counts = {"queries": 0, "answered": 0, "dropped": 0}
        self.pending = []               # (due, seq, data, peer)
        self.seq = 0
        self.sel = selectors.DefaultSelector()
        self.udp = self.held = None
        self.open_udp()

    def open_udp(self):
        if self.udp is not None:
            return
        # No SO_REUSEADDR: while closed, the port must stay ours alone.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if self.held is not None:
            self.held.close()
            self.held = None
        sock.bind(("127.0.0.1", self.port))
        sock.setblocking(False)
        self.udp = sock
        self.sel.register(self.udp, selectors.EVENT_READ, self.on_udp)

    def close_udp(self):
        """Refuse from now on, yet keep the port.  Given up, it was taken
        before the upstream came back (named opens a socket on a random
        port for each recursion) and reopening failed.  Connected to
        itself, the socket matches no one else's datagram, so the kernel
        answers "port unreachable" while the port stays bound."""
        if self.udp is None:
            return
        self.sel.unregister(self.udp)
        self.udp.connect(("127.0.0.1", self.port))
        self.held, self.udp = self.udp, None
        self.pending.clear()

    def release(self):
        """Give the port up for good."""
        self.close_udp()
        if self.held is not None:
            self.held.close()
            self.held = None

    def mode_for(self, q, end):
        """This query's mode: a broken domain's, or the server's."""
        if self.broken:
            name = qname_text(q, end)
            for domain, how in list(self.broken.items()):
                if name == domain or name.endswith("." + domain):
                    return how
        return self.mode

    def alias_of(self, q, end):
        """The wire name q's name is an alias of (its first label under
        the target domain), or None."""
        name = qname_text(q, end)
        for domain, to in list(self.cnames.items()):
            if name.endswith("." + domain):
                first = q[12:13 + q[12]]
                return first + b"".join(bytes((len(l),)) + l.encode()
                                        for l in to.split(".")) + b"\0"
        return None

    def answer(self, q):
        """The answer to q, or None to drop it."""
        end = qname_end(q)
        if len(q) < 12 or end is None or end + 4 > len(q) or q[2] & 0x80:
            return None
        mode = self.mode_for(q, end)
        if mode == "silent":
            self.counts["dropped"] += 1
            return None
        qtype = struct.unpack_from("!H", q, end)[0]
        edns = struct.unpack_from("!H", q, 10)[0] > 0
        rcode, rr = RCODES.get(mode, 0), b""
        target = self.alias_of(q, end) if self.cnames and rcode == 0 else None
        if target is not None:
            rr = struct.pack("!HHHIH", 0xC00C, 5, 1, self.ttl,
                             len(target)) + target
        elif rcode == 0 and qtype == 1:
            rr = struct.pack("!HHHIH", 0xC00C, 1, 1, self.ttl, 4) + \
                bytes((203, 0, 113, 1))
        elif rcode == 0 and qtype == 28:
            rr = struct.pack("!HHHIH", 0xC00C, 28, 1, self.ttl, 16) + \
                socket.inet_pton(socket.AF_INET6, "2001:db8::1")
        # QR, the query's opcode and RD, RA; the question, then rr.
        flags = 0x8080 | (struct.unpack_from("!H", q, 2)[0] & 0x7900) | rcode
        head = q[:2] + struct.pack("!HHHHH", flags, 1, 1 if rr else 0, 0,
                                   1 if edns else 0)
        return head + q[12:end + 4] + rr + (OPT_RR if edns else b"")

    def on_udp(self, sock):
        for _ in range(64):
            try:
                data, peer = sock.recvfrom(4096)
            except BlockingIOError:
                return
            self.counts["queries"] += 1
            r = self.answer(data)
            if r is None:
                continue
            if self.delay > 0:
                self.seq += 1
                heapq.heappush(self.pending,
                               (time.monotonic() + self.delay, self.seq, r, peer))
            else:
                self.send(r, peer)

    def send(self, r, peer):
        try:
            self.udp.sendto(r, peer)
            self.counts["answered"] += 1
        except OSError:
            pass

    def command(self, line):
        words = line.split()
        if not words:
            return "error empty command"
        cmd, args = words[0], words[1:]
        if cmd == "mode" and len(args) == 1 and args[0] in MODES:
            self.mode = args[0]
            if self.mode == "closed":
                self.close_udp()
            else:
                self.open_udp()
            return f"ok mode {self.mode}"
        if cmd == "fail" and len(args) == 1:
            domain = args[0].lower().rstrip(".")
            self.broken = {} if domain == "-" else {domain: "servfail"}
            return f"ok fail {self.failing()}"
        if cmd == "delay" and len(args) == 1 and args[0].isdigit():
            self.delay = int(args[0]) / 1000.0
            return f"ok delay {args[0]}"
        if cmd == "stats" and not args:
            return "ok " + " ".join(f"{k}={v}" for k, v in self.counts.items()) + \
                f" mode={self.mode} fail={self.failing()} delay={int(self.delay * 1000)}"
        return f"error unknown command: {line.strip()}"

    def failing(self):
        return ",".join(self.broken) or "-"

    def on_control(self, srv):
        conn, _ = srv.accept()
        conn.settimeout(2)
        try:
            line = conn.makefile("r").readline()
            conn.sendall((self.command(line) + "\n").encode())
        except OSError:
            pass
        finally:
            conn.close()

    def listen_control(self, path):
        """Take commands on the Unix socket path."""
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        srv.bind(path)
        srv.listen(8)
        self.sel.register(srv, selectors.EVENT_READ, self.on_control)

    def serve(self, going, tick=0.5):
        """Serve while going() says so, looking at least every tick s."""
        while going():
            timeout = tick
            if self.pending:
                timeout = max(0.0, min(timeout, self.pending[0][0] - time.monotonic()))
            for key, _ in self.sel.select(timeout):
                key.data(key.fileobj)
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                _, _, r, peer = heapq.heappop(self.pending)
                if self.udp is not None:
                    self.send(r, peer)


class FakeUpstream(Upstream):
    """The upstream in a thread of the test, on a free port (or the one
    given, to come back where it was); the test sets mode, broken and
    cnames.
    close() refuses ("connection refused" for the resolver) while the
    port stays this upstream's; reopen() answers on it again."""

    def __init__(self, port=None):
        from .proc import free_port
        super().__init__(port or free_port())
        self.start()

    def start(self):
        self.running = True
        self.thread = threading.Thread(target=self.serve,
                                       args=(lambda: self.running, 0.2), daemon=True)
        self.thread.start()

    def close(self):
        """Refuse, keeping the port for reopen()."""
        if self.running:
            self.running = False
            self.thread.join(2)
        self.close_udp()

    def reopen(self):
        """Answer again on the same port."""
        self.close()
        self.open_udp()
        self.start()

    def stop(self):
        self.close()
        self.release()


def command(control, line, what="upstream"):
    """One command to the upstream process listening on control; its
    reply, which must be "ok ..." (else RuntimeError)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(control))
        s.sendall(line.encode() + b"\n")
        reply = s.makefile("r").readline().strip()
    if not reply.startswith("ok"):
        raise RuntimeError(f"{what}: {line}: {reply}")
    return reply


def main():
    ap = argparse.ArgumentParser(description="A lab node's upstream: a tiny "
                                 "fake recursive server, broken on command.")
    ap.add_argument("--port", type=int, default=5300)
    ap.add_argument("--ttl", type=int, default=0)
    ap.add_argument("--control", required=True, help="Unix socket for commands")
    ap.add_argument("--max-seconds", type=float, default=6 * 3600,
                    help="exit after this long whatever happens (a bound)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    upstream = Upstream(args.port, args.ttl)
    upstream.listen_control(args.control)
    deadline = time.monotonic() + args.max_seconds
    upstream.serve(lambda: time.monotonic() < deadline)
    os.unlink(args.control)


if __name__ == "__main__":
    main()
