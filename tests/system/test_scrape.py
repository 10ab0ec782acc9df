# SPDX-License-Identifier: MPL-2.0
"""The metrics endpoint under hostile clients (issue 16 item 8): whoever
can reach it must not be able to blind the monitoring.  Clients that
connect and say nothing, or send a request one byte a second, may not
keep a scrape from being answered within a second, nor keep their
connections for long, nor touch the judge.

The hostile clients come from loopback addresses of their own
(127.0.1.x; all of 127.0.0.0/8 is the host's), or from the scraper's
own 127.0.0.1, and are bounded in number, connections and time."""

import os
import selectors
import socket
import time
import urllib.request

import lab

# A request that never ends: one header line after another.
SLOW_REQUEST = b"GET /metrics HTTP/1.1\r\nHost: relay\r\n" + b"X-Slow: 1\r\n" * 500


class Hostile:
    """'silent' clients that connect and say nothing, and 'slow' ones
    that send SLOW_REQUEST one byte a second, from 'sources' in turn.
    A client the relay drops connects again after 'pause' seconds if
    'again' is set.  One thread, one selector; stops by itself after
    'seconds', or after 'max_connects' connections; stop() closes
    every socket."""

    def __init__(self, port, silent, slow, sources, seconds, again=True,
                 pause=0.2, max_connects=100000):
        import threading
        self.port, self.sources, self.again = port, sources, again
        self.pause, self.max_connects = pause, max_connects
        self.kinds = ["silent"] * silent + ["slow"] * slow
        self.deadline = time.monotonic() + seconds
        self.sel = selectors.DefaultSelector()
        self.connects = 0
        self.dropped = 0
        self.lifetimes = []             # seconds each dropped one lasted
        self.stopping = False
        self.socks = {}                 # client index -> socket
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.connected = threading.Event()
        self.thread.start()

    def _connect(self, i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((self.sources[i % len(self.sources)], 0))
        s.connect_ex(("127.0.0.1", self.port))
        self.connects += 1
        self.socks[i] = s
        # [client, connected at, bytes sent, next byte due]
        self.sel.register(s, selectors.EVENT_READ,
                          [i, time.monotonic(), 0, time.monotonic()])

    def _drop(self, s, data, now):
        self.sel.unregister(s)
        s.close()
        self.socks.pop(data[0], None)
        self.dropped += 1
        self.lifetimes.append(now - data[1])
        return data[0]

    def _run(self):
        again = []                      # (due, client)
        for i in range(len(self.kinds)):
            self._connect(i)
        self.connected.set()
        while not self.stopping and time.monotonic() < self.deadline:
            now = time.monotonic()
            for key, _ in self.sel.select(timeout=0.05):
                try:
                    gone = key.fileobj.recv(4096) == b""
                except (ConnectionError, OSError):
                    gone = True
                if gone:
                    i = self._drop(key.fileobj, key.data, now)
                    if self.again:
                        again.append((now + self.pause, i))
            for key in list(self.sel.get_map().values()):
                data = key.data
                if (self.kinds[data[0]] != "slow" or data[3] > now
                        or data[2] >= len(SLOW_REQUEST)):
                    continue
                try:
                    key.fileobj.send(SLOW_REQUEST[data[2]:data[2] + 1])
                    data[2] += 1
                except (BlockingIOError, ConnectionError, OSError):
                    pass                # not connected yet, or dropped
                data[3] = now + 1.0
            while (again and again[0][0] <= now
                   and self.connects < self.max_connects):
                self._connect(again.pop(0)[1])
        self.close()

    def close(self):
        for s in list(self.socks.values()):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        self.socks.clear()

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.close()


def relay_with_endpoint(stack):
    port = lab.free_port()
    named, relay, proc = lab.relay_only(stack, wait=True,
                                        replacements=[lab.metrics_listen(port)])
    # Else a scrape reaches whatever holds the port, and fails as if
    # the relay had hung up on it.
    assert f"serving metrics on http://127.0.0.1:{port}/" in proc.proc.text()
    return named, relay, proc, port


def scrape(port, timeout=5):
    """Seconds a whole scrape took, from 127.0.0.1."""
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=timeout) as r:
        body = r.read()
    assert b"anycast_health_feed_up 1\n" in body
    return time.monotonic() - t0


def scrapes_during(hostile, port, n=5, gap=1.0):
    """n scrapes, 'gap' seconds apart, while the hostile clients hold on;
    returns their durations (a scrape that fails raises)."""
    took = []
    for _ in range(n):
        time.sleep(gap)
        took.append(scrape(port))
        assert hostile.thread.is_alive(), "the load ended before the scrape"
    return took


def logged_at(log, text):
    """Unix time of the first line of the relay's log containing text."""
    import datetime
    line = next(l for l in log.splitlines() if text in l)
    return datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def hostile(stack, port, **kw):
    h = Hostile(port, **kw)
    stack.procs.append(h)
    assert h.connected.wait(10)
    return h


def test_scrape_answered_while_many_addresses_hold_connections(stack):
    """100 silent and 100 slow clients from 200 addresses, each coming
    back when dropped: every scrape is answered within a second, the
    relay keeps a bounded number of descriptors, and kill -9 of named
    is still withdrawn at once."""
    named, relay, proc, port = relay_with_endpoint(stack)
    alone = scrape(port)
    base = fds(proc.proc.pid)
    sources = [f"127.0.1.{i}" for i in range(1, 201)]
    h = hostile(stack, port, silent=100, slow=100, sources=sources, seconds=30)
    took = scrapes_during(h, port)
    most = fds(proc.proc.pid)
    print(f"\nscrape alone {alone * 1000:.1f} ms; under 200 hostile clients "
          f"{', '.join(f'{t * 1000:.0f}' for t in took)} ms; "
          f"{h.connects} hostile connections, {h.dropped} dropped; "
          f"relay descriptors {base} -> {most}")
    assert max(took) < 1.0, took
    assert most <= base + 80, (base, most)
    # Thousands of connections closed, a few lines in the log.
    said = [l for l in proc.proc.text().splitlines() if "metrics endpoint" in l]
    assert 1 <= len(said) <= 4, said

    # Timed by the relay's own log, not by this busy process.
    t0 = time.time()
    named.kill()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 2)
    gone = logged_at(proc.proc.text(), "service dns DOWN, withdrawing") - t0
    print(f"kill -9 of named under the load: withdrawn {gone * 1000:.0f} ms "
          f"later, by the relay's log")
    assert gone < 0.2, gone
    h.stop()
    assert proc.proc.alive()


def test_scrape_answered_beside_clients_on_its_own_address(stack):
    """The measurement of issue 16: 200 clients on the scraper's own
    address, 100 silent and 100 slow."""
    named, relay, proc, port = relay_with_endpoint(stack)
    h = hostile(stack, port, silent=100, slow=100, sources=["127.0.0.1"],
                seconds=30, again=False)
    took = scrapes_during(h, port)
    print(f"\nscrapes beside 200 clients on 127.0.0.1: "
          f"{', '.join(f'{t * 1000:.0f}' for t in took)} ms")
    assert max(took) < 1.0, took
    h.stop()


def test_one_address_cannot_take_the_endpoint(stack):
    """200 clients from one other address, each coming back at once when
    dropped: they churn among themselves, scrapes go through."""
    named, relay, proc, port = relay_with_endpoint(stack)
    h = hostile(stack, port, silent=100, slow=100, sources=["127.0.1.1"],
                seconds=30, pause=0.01)
    took = scrapes_during(h, port)
    print(f"\nscrapes beside 200 clients on 127.0.1.1: "
          f"{', '.join(f'{t * 1000:.0f}' for t in took)} ms; "
          f"{h.connects} connections")
    assert max(took) < 1.0, took
    h.stop()


def scrape_late(port, delay, timeout=5):
    """A scrape from 127.0.0.1 that sends its request 'delay' seconds
    after it connected, as a scraper on a busy host may: the body, or
    b"" if the relay closed the connection first."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        time.sleep(delay)
        try:
            s.sendall(b"GET /metrics HTTP/1.0\r\nHost: relay\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return b""
        body = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            body += chunk
        return body


def test_a_scraper_answered_before_keeps_its_place(stack):
    """A scraper that takes 0.3 s to send its request, while strangers
    from 200 addresses come back the moment they are dropped (some 500
    connections a second here, each making room): by age alone its
    connection was the oldest waiting within milliseconds and closed
    (CI saw an ordinary scrape closed so, 6 ms after it connected, on
    a loaded machine).  An address answered before keeps its place."""
    named, relay, proc, port = relay_with_endpoint(stack)
    scrape(port)
    sources = [f"127.0.1.{i}" for i in range(1, 201)]
    h = hostile(stack, port, silent=100, slow=100, sources=sources, seconds=30)
    time.sleep(1.0)
    answered = 0
    for _ in range(5):
        body = scrape_late(port, 0.3)
        answered += b"anycast_health_feed_up 1\n" in body
        assert h.thread.is_alive(), "the load ended before the scrape"
    print(f"\nlate scrapes answered under 200 strangers: {answered} of 5; "
          f"{h.connects} hostile connections")
    assert answered == 5
    h.stop()


def test_a_request_must_arrive_within_seconds(stack):
    """Without any pressure, a client that says nothing and one that
    sends a byte a second are both closed within a few seconds: the
    deadline is for the whole request, not for each byte."""
    named, relay, proc, port = relay_with_endpoint(stack)
    h = hostile(stack, port, silent=1, slow=1, sources=["127.0.1.1"],
                seconds=15, again=False)
    lab.wait_for(lambda: h.dropped == 2, 8, interval=0.1,
                    what="both clients dropped by the relay")
    assert max(h.lifetimes) < 4.0, h.lifetimes
    assert scrape(port) < 1.0
    h.stop()
