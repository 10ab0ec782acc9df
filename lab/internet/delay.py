#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Added delay for the lab's internet, without netem.

This kernel has no netem qdisc and nftables has no `queue` statement
here, so the internet router delays packets in userspace: it routes the
packets to delay into a TUN device, and this program holds each one for
the delay of its source address before writing it back into the same
device, where the router receives it again and forwards it (its policy
routing sends what comes out of the device by the main table).  The
router decides which packets come here (`ip rule add from ADDR lookup
TABLE`, TABLE routing everything into the device); this program decides
how long each waits, by source address:

- a resolver node's uplink address: the node's queries to the internet
  (its uplink delay: the round trip grows by that much);
- an authoritative server's address: its answers (a slow domain).

Commands, one line each on stdin, each answered with one line on
stdout ("ok ..." or "error ..."); the first line out is "ready", once
the device exists:

  delay ADDR MS   hold packets from ADDR (IPv4 or IPv6) MS milliseconds;
                  0 ends it (packets still held leave on time)
  stats           counters: packets held, released, late (released
                  more than 2 ms after their time), the largest lateness

At the end of stdin (its owner gone, or detached) the delays stay as
they are.  Packets from an address without a delay (they arrive between the
router's rule going and this table being cleared) are written back at
once.  Packets of one delay value leave in the order they came.

Measured on the project's 2-core machine: see lab/README.md ("The
internet's delay").  Runs until SIGTERM or --max-seconds; held packets
are released (early) on exit rather than dropped.
"""

import argparse
import collections
import fcntl
import ipaddress
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
LATE = 0.002


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
                                           IFF_TUN | IFF_NO_PI))
    return fd


def source(pkt):
    """The packet's source address as bytes (4 or 16), or None."""
    v = pkt[0] >> 4 if pkt else 0
    if v == 4 and len(pkt) >= 20:
        return pkt[12:16]
    if v == 6 and len(pkt) >= 40:
        return pkt[8:24]
    return None


class Delay:
    def __init__(self, dev):
        self.fd = open_tun(dev)
        self.by_source = {}             # address bytes -> seconds
        self.held = {}                  # seconds -> deque of (due, pkt)
        self.counts = collections.Counter()
        self.worst = 0.0
        self.commands = b""
        os.set_blocking(0, False)
        self.ep = select.epoll()
        self.ep.register(self.fd, select.EPOLLIN)
        self.ep.register(0, select.EPOLLIN)
        self.say("ready")

    @staticmethod
    def say(line):
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass

    def command(self, line):
        words = line.split()
        if words[:1] == ["stats"] and len(words) == 1:
            c = self.counts
            return (f"ok held={c['held']} released={c['released']} "
                    f"passed={c['passed']} late={c['late']} "
                    f"worst_ms={self.worst * 1000:.1f} "
                    f"queued={sum(len(q) for q in self.held.values())}")
        if words[:1] == ["delay"] and len(words) == 3:
            try:
                addr = ipaddress.ip_address(words[1]).packed
                ms = int(words[2])
            except ValueError as e:
                return f"error {e}"
            if not 0 <= ms <= 60000:
                return "error delay must be 0..60000 ms"
            if ms:
                self.by_source[addr] = ms / 1000
            else:
                self.by_source.pop(addr, None)
            return f"ok {words[1]} {ms}"
        return f"error unknown command: {line.strip()!r}"

    def control(self):
        try:
            data = os.read(0, 4096)
        except BlockingIOError:
            return
        if not data:                    # end of stdin: keep going as is
            self.ep.unregister(0)
            return
        self.commands += data
        while b"\n" in self.commands:
            line, self.commands = self.commands.split(b"\n", 1)
            self.say(self.command(line.decode(errors="replace")))

    def receive(self, now):
        fd, by_source, held = self.fd, self.by_source, self.held
        while True:
            try:
                pkt = os.read(fd, 65536)
            except BlockingIOError:
                return
            d = by_source.get(source(pkt))
            if d is None:
                self.write(pkt)
                self.counts["passed"] += 1
                continue
            q = held.get(d)
            if q is None:
                q = held[d] = collections.deque()
            q.append((now + d, pkt))
            self.counts["held"] += 1

    def write(self, pkt):
        try:
            os.write(self.fd, pkt)
        except OSError:
            self.counts["write_errors"] += 1

    def release(self, now, everything=False):
        """Write back what is due; return the next due time or None."""
        nxt = None
        for q in self.held.values():
            while q and (everything or q[0][0] <= now):
                due, pkt = q.popleft()
                self.write(pkt)
                self.counts["released"] += 1
                late = now - due
                if late > LATE:
                    self.counts["late"] += 1
                if late > self.worst:
                    self.worst = late
            if q and (nxt is None or q[0][0] < nxt):
                nxt = q[0][0]
        return nxt

    def run(self, max_seconds):
        end = time.monotonic() + max_seconds
        nxt = None
        try:
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                timeout = end - now if nxt is None else max(0.0, nxt - now)
                events = self.ep.poll(timeout)
                now = time.monotonic()
                for fd, _ in events:
                    if fd == self.fd:
                        self.receive(now)
                    else:
                        self.control()
                nxt = self.release(time.monotonic())
        except Stop:
            pass
        self.release(time.monotonic(), everything=True)


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", required=True, help="TUN device to create")
    ap.add_argument("--max-seconds", type=float, default=4 * 3600)
    args = ap.parse_args()
    # Raised out of the wait, so that a stop is at once (an epoll wait
    # interrupted by a handler that returns is resumed).
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    Delay(args.dev).run(args.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
