# SPDX-License-Identifier: MPL-2.0
"""The relays' checks, traced while the catalogue runs: every node's
`anycastctl show checks` every 0.1 s, as JSON lines, and the margins
the excuses kept.

A relay logs a route change and the first excuse of a fault, not every
evaluation, so a wrong verdict that comes once in forty trials leaves
one line that says what moved the node and nothing of how close the
other trials came.  The trace says it: each excuse that kept a node in
service says how well the other names resolved against the usual
("other names resolve 64% of 271 over 8.0s; usually 80%"), and the
lowest of those ratios, with load and without, is how far that node
was from moving (the shared-fault rule's 'share', 80 % by default,
doc/fleet.md section 1).

    with ChecksTrace(lab, "trace.jsonl"):
        ...                             # rows
    margins(read("trace.jsonl"))        # the closest calls, per node
"""

import json
import re
import subprocess
import threading
import time

# What an excuse says of the other names (relay/check.c, resolving()
# and shared_fault()): "resolve as usual (75% of 205 over 6.3s; usually
# 76%)", under load "resolve 53% of 130 over 10s; usually 65%", beside
# servers failing "... over 2.0s, 230 more failed by their servers;
# usually 93%".  Before a usual is learnt it says "no usual rate yet,
# taken as 30%": counted apart ('fresh'), not a margin.
_ELSE = re.compile(r"resolve (?:as usual \()?(\d+)% of (\d+) over "
                   r"([\d.]+)s(?:, \d+ more failed by their servers"
                   r"(?: or timed out)?)?; usually (\d+)%")
_FRESH = re.compile(r"; no usual rate yet, taken as")
# ... and the load beside it (check.c, load_text()).
_LOAD = re.compile(r"named (?:starts [\d.]+x its usual recursions|takes "
                   r"[\d.]+x its usual queries|sheds recursions)")


class ChecksTrace:
    """Polls every node's relay (show checks) in a thread, from start()
    (or `with`) until stop() or max_s, appending a JSON line to 'path'
    for each poll: time, node, state, route, the consecutive bad
    evaluations, and each check (name, state, text).  Polls whose checks
    are all ok are counted, not written."""

    def __init__(self, lab, path, interval=0.1, max_s=4 * 3600, log=print):
        self.lab, self.path = lab, path
        self.interval, self.max_s = interval, max_s
        self.log = log
        self.polls = self.written = 0
        self.error = None       # what ended the trace early, if anything
        self._stop = threading.Event()
        self._thread = None
        self._out = None

    def start(self):
        # Opened here, not in the thread: a path that cannot be written
        # is the caller's error at once, not a trace silently empty.
        # A new file each run: margins() reads all of it.
        self._out = open(self.path, "w")
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="checks-trace")
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _poll(self, node):
        # A relay restarting (a row's own doing) answers nothing for a
        # moment: that poll is skipped, not an error.
        try:
            r = node.ctl("-j", "show", "checks", timeout=2)
            services = json.loads(r.stdout).get("services")
        except (subprocess.TimeoutExpired, ValueError, AttributeError):
            return []
        return services if isinstance(services, list) else []

    def _record(self, node, s):
        checks = [(c["name"], c["state"], c.get("text", ""))
                  for c in s.get("checks", [])]
        if s.get("bad") or any(c[1] != "ok" for c in checks):
            self._out.write(json.dumps({
                "t": round(time.time(), 3), "node": node.name,
                "service": s.get("name"), "state": s.get("state"),
                "route": s.get("route"), "bad": s.get("bad", 0),
                "checks": checks}) + "\n")
            self.written += 1

    def _run(self):
        end = time.monotonic() + self.max_s
        try:
            while not self._stop.is_set() and time.monotonic() < end:
                for node in self.lab.nodes:
                    for s in self._poll(node):
                        self.polls += 1
                        self._record(node, s)
                self._out.flush()
                self._stop.wait(self.interval)
        except Exception as e:      # said, not lost with the thread
            self.error = f"{type(e).__name__}: {e}"
            self.log(f"checks trace stopped: {self.error}")


def read(path):
    """A trace's records, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def margins(records, since=None, until=None, lowest=3):
    """Per node, over the records from 'since' to 'until' (time.time()):
    polls with an excuse, the lowest ratios of the other names'
    resolution to the usual that an excuse kept (with load and without:
    under load the rule asks less, FAULT_LOAD_SHARE), and the polls that
    caught a bad evaluation while the route was announced (a near miss
    on a healthy node: 'fall' bad evaluations in a row move it), and
    the excuses said before a usual was learnt ('fresh').  Counts are of
    polls, 0.1 s apart; an excuse polled twice gives its ratio once."""
    out = {}
    for r in records:
        if (since is not None and r["t"] < since) or \
                (until is not None and r["t"] > until):
            continue
        m = out.setdefault(r["node"], {"excused": 0, "load": [],
                                       "no_load": [], "bad_announced": 0,
                                       "fresh": 0})
        if r.get("bad") and r.get("route") == "announced":
            m["bad_announced"] += 1
        excused = False
        for name, state, text in r["checks"]:
            if state != "excused":
                continue
            excused = True
            if _FRESH.search(text):
                m["fresh"] += 1
                continue
            g = _ELSE.search(text)
            if g is None:
                continue
            share, n, _, usual = (float(x) for x in g.groups())
            if usual <= 0:
                continue
            m["load" if _LOAD.search(text) else "no_load"].append(
                {"ratio": round(share / usual, 3), "n": int(n),
                 "t": r["t"], "check": name, "text": text})
        m["excused"] += excused
    for m in out.values():
        for k in ("load", "no_load"):
            seen, kept = set(), []
            for e in sorted(m[k], key=lambda e: e["ratio"]):
                if e["text"] not in seen and len(kept) < lowest:
                    seen.add(e["text"])
                    kept.append(e)
            m[k] = kept
    return out
