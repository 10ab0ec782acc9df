# SPDX-License-Identifier: MPL-2.0
"""The Catalogue: runs rows (rows.py) on a fleet on the lab internet,
each from a quiet fleet, with the client's traffic going on throughout
and the recovery checked; score.py scores each.
"""

import json
import re
import threading
import time

import yaml

from ..proc import wait_for
from .actions import Actions
from .rows import TARGET, VICTIM
from .logs import bird_routes, relay_events
from .score import score

# named's resolver-query-timeout (10 s, its default and least): how long
# a recursion may wait before it ends, timed out.
RESOLVER_TIMEOUT = 10.0
SEGMENT_S = 3600            # the longest stretch of the client's traffic


class Catalogue(Actions):
    """Runs rows on a fleet on the lab internet (Lab(internet=True))."""

    def __init__(self, lab, qps=1000, pre=3.0, quiet=5.0, post=2.0,
                 holds=None, recovery_timeout=150, attempts=3, log=print):
        if lab.internet is None:
            raise ValueError("the catalogue needs Lab(internet=True)")
        self.lab, self.net = lab, lab.internet
        self.qps, self.pre, self.quiet, self.post = qps, pre, quiet, post
        self.holds = {"this": 8.0, "world": 15.0, "load": 15.0}
        self.holds.update(holds or {})
        self.recovery_timeout = recovery_timeout
        self.log = log
        self.background = None
        self._threads, self._stop = [], threading.Event()
        self._procs = []
        self._runs = 0
        self.attempts = attempts
        self.wrong_anchor = None
        self._seg, self._idle, self._segments = None, [], 0
        self._relay_kills = {}
        # (node, SIGTERM sent, new ExaBGP started): the BGP session's own
        # route changes are read from these (score.session_changes).
        self.exabgp_restarts = []
        # When the last fault ended (time.time()), or None.
        self.fault_ended = None

    # -- state of the fleet -------------------------------------------------

    def status(self, node):
        r = node.ctl("-j", "status")
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def announced(self, node):
        """Every prefix of every service announced normally."""
        st = self.status(node)
        if not st:
            return False
        states = [p.get("state") for s in st.get("services", [])
                  for p in s.get("prefixes", [])]
        return bool(states) and all(s == "announced" for s in states)

    def normal(self):
        everyone = {n.name for n in self.lab.nodes}
        return (all(self.lab.nexthops(f) == everyone for f in (4, 6))
                and all(self.announced(n) for n in self.lab.nodes))

    def routes(self, t0=None, t1=None):
        out = bird_routes(self.lab.bird.text())
        return [e for e in out if (t0 is None or e[0] >= t0)
                and (t1 is None or e[0] <= t1)]

    def wait_normal(self, timeout):
        """Until every node is announced normally and the router has
        seen no change for `quiet` seconds; seconds waited, or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.normal():
                last = max((e[0] for e in self.routes()), default=0)
                if time.time() - last >= self.quiet:
                    return time.monotonic() - t0
            time.sleep(0.25)
        return None

    def recover_hard(self):
        """Nodes not back in time, one at a time so that the fleet is
        never emptied: its damping hold ended (`anycastctl release`, as
        an operator would once the fault is over), and if that is not
        enough its relay restarted (ExaBGP respawns it with no history),
        then its named too.  What was done, or None."""
        done = []
        for n in self.lab.nodes:
            if not n.exabgp.alive():
                self.log(f"{n.name}: ExaBGP is gone; starting it")
                n.start_exabgp()
                done.append(f"ExaBGP started again on {n.name}")
            if self.announced(n):
                continue
            # Why it is still out, in the relay's words: a flap-damping
            # hold (rows back to back: four changes in a minute) is the
            # damping doing its job; a retry still pending is the judge's.
            why = self.waiting_for(n)
            # Each step gentler than the next: (what, do it, seconds to
            # wait for the node to be announced).
            steps = (("its damping hold released", lambda: n.ctl("release"), 10),
                     ("its relay restarted", lambda: self.kill_relay(n), 20),
                     ("its named restarted",
                      lambda: n.restart_named(wait=True), 30))
            for what, act, wait in steps:
                self.log(f"{n.name} not back: {what}")
                act()
                try:
                    wait_for(lambda: self.announced(n), wait, interval=0.25,
                             what=f"{n.name} announced, {what}")
                    break
                except TimeoutError:
                    pass
            done.append(f"{what} on {n.name}" + (f" ({why})" if why else ""))
        return "forced: " + ", ".join(done) if done else None

    def damping(self, node):
        """(max-changes, period in seconds) of the flap damping node's
        relay was given (its rendered YAML), or None without it."""
        conf = yaml.safe_load((node.dir / "relay.yaml").read_text())
        svc = (conf.get("services") or [{}])[0]
        d = svc.get("damping")
        if not d:
            return None
        # 'keep' announces a node that is down as one that is up: the
        # router's log would show none of its changes.
        if svc.get("when-down") == "keep":
            raise ValueError(f"{node.name}: when-down: keep; its route "
                             "changes are not in the router's log")
        period = d.get("period", "60s")
        units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
        m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", str(period))
        if m is None:
            raise ValueError(f"{node.name}: damping period {period!r}: not "
                             "understood")
        most = str(d["max-changes"])
        if not most.isdigit():
            raise ValueError(f"{node.name}: damping max-changes {most!r}: "
                             "not understood")
        return int(most, 10), int(m.group(1)) * units[m.group(2)]

    def damping_room(self, node, changes):
        """Wait until node's route may change `changes` times without its
        flap damping holding it: this node's rows move it down and back,
        and with 4 changes a minute the third row within a minute, or a
        second one soon after the relay's first announcement (a change
        too), would end held down, the damping doing its job, not the
        row's recovery failing.  The node's changes are read from the
        router's log (an ExaBGP restart's own count too: waiting longer
        is safe).  Seconds waited; 0.0 when there was room."""
        d = self.damping(node)
        if d is None:
            return 0.0
        most, period = d
        if changes > most:
            raise ValueError(f"{node.name}: a row of {changes} route changes "
                             f"cannot fit damping's {most} a period")
        t0 = time.monotonic()
        now = time.time()
        past = sorted(e[0] for e in self.routes(now - period, now)
                      if e[1] == node.name and e[2] == 4)
        # The oldest changes that leave no room must age out of the
        # period (a second more: the relay's clock is its own).
        over = len(past) - (most - changes)
        if over <= 0:
            return 0.0
        until = past[over - 1] + period + 1.0
        self.log(f"{node.name}: {len(past)} route changes in the last "
                 f"{period:.0f} s; waiting {until - now:.1f} s for room "
                 f"for {changes} more (flap damping: {most} a period)")
        time.sleep(max(0.0, until - time.time()))
        return time.monotonic() - t0

    def waiting_for(self, node):
        """What keeps node's services out, from its relay's status:
        'held by flap damping', 'waiting for its retry', or None."""
        st = self.status(node) or {}
        svcs = st.get("services", [])
        reasons = " ".join(s.get("reason") or "" for s in svcs)
        held = max((s.get("held_ms") or 0 for s in svcs), default=0)
        if held > 0 or "flap damping" in reasons:
            return f"held by flap damping, {held / 1000:.0f} s more"
        if "retry in" in reasons:
            return "waiting for its retry"
        return None

    def wait_log(self, proc, mark, text, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            tail = proc.text()[mark:]
            i = tail.find(text)
            if i >= 0:
                start = tail.rfind("\n", 0, i) + 1
                return tail[start:tail.find("\n", i)]
            time.sleep(0.05)
        raise TimeoutError(f"{proc.name}: no '{text}' within {timeout} s")

    # -- actions on the nodes ------------------------------------------------

    # -- the client's traffic ------------------------------------------------

    def _segment(self, name, qps=None):
        """The client's traffic goes on without a break, in stretches: a
        new one starts (a run of lab/internet/traffic.py of its own, so
        its records can be read once it ends) and the current one stops
        sending; returns the one that stopped (None the first time).
        Finished stretches between rows are deleted."""
        self._segments += 1
        new = self.lab.traffic(qps=qps or self.qps, seconds=SEGMENT_S,
                               name=f"catalogue-{self._segments}-{name}")
        old, self._seg = self._seg, new
        if old is not None:
            old.stop_sending()
        for run_ in [r for r in self._idle if not r.proc.alive()]:
            self._idle.remove(run_)
            for path in (run_.csv, run_.summary_path):
                path.unlink(missing_ok=True)
        return old

    def _idle_segment(self):
        """Between rows: the client's usual traffic; the stretch that
        ended is returned (the row's)."""
        old = self._segment("between")
        self._idle.append(self._seg)
        return old

    def close(self):
        """The client's traffic stopped (the lab's teardown would too)."""
        if self._seg is not None:
            self._seg.stop_sending()
            self._seg.wait(60)
            self._seg = None

    def warm_up(self, seconds=20):
        """Traffic into cold caches, then the background the rows are
        measured against: the share of queries lost and SERVFAIL with no
        fault in the second half (caches warm), and how many routes
        moved (reported: a cold start is not a row).  The client's
        traffic then goes on, between the rows too."""
        if self.wait_normal(60) is None:
            raise RuntimeError("the fleet is not announced normally before the "
                               "warm-up")
        t0 = time.time()
        self._segment("warm-up")
        time.sleep(seconds)
        tr = self._idle_segment()
        s = tr.wait(60)
        moved = [e for e in self.routes(t0, time.time()) if e[2] == 4]
        half = t0 + seconds / 2      # the second half: caches warm
        qs = [q for q in tr.rows() if float(q["sent"]) >= half]
        lost = sum(1 for q in qs if q["rcode"] == "lost")
        sf = sum(1 for q in qs if q["rcode"] == "SERVFAIL")
        self.background = {
            "seconds": seconds, "qps": s["qps"], "queries": len(qs),
            "lost_share": lost / max(1, len(qs)),
            "servfail_share": sf / max(1, len(qs)),
            "route_changes": len(moved), "nodes": s["nodes"],
            "relay": {n.name: [(round(e[0] - t0, 3), e[1], e[2])
                               for e in relay_events(n.exabgp.text())
                               if e[0] >= t0 and e[1] == "route"]
                      for n in self.lab.nodes}}
        self.log(f"warm-up: {s['qps']} q/s, background (warm half): lost "
                 f"{100 * self.background['lost_share']:.2f} %, SERVFAIL "
                 f"{100 * self.background['servfail_share']:.2f} %, route "
                 f"changes {len(moved)}, answers by node {s['nodes']}")
        return self.background

    def run(self, row, trial=1):
        """Run one row; its result (a dict, see score())."""
        self._runs += 1
        hold = row.hold or self.holds[row.expect]
        res = {"id": row.id, "trial": trial, "fault": row.fault,
               "where": row.where, "expect": row.expect,
               "cannot_tell": row.cannot_tell, "hold_s": hold}
        try:
            self.settle(row, res, "before the row")
            # Room before the set-up too, so that it is not held in
            # place for a minute (a wrong trust anchor), and after it,
            # for what it moved itself (named restarted under the clock
            # shim), and before each attempt again (a void one moved
            # the node down and back).
            self.room(row, res, "before the row")
            if row.setup:
                row.setup(self)
                self.settle(row, res, "after the row's set-up")
            for attempt in range(1, self.attempts + 1):
                self.room(row, res, f"before attempt {attempt}")
                res.update(self._run(row, hold))
                res["attempts"] = attempt
                # A route that moved before the fault was switched on
                # makes the row void: run it again.
                if res["before_fault_changes"] == 0:
                    break
                self.log(f"{row.id}: a route moved before the fault"
                         + ("; again" if attempt < self.attempts else ""))
                self.settle(row, res, "after a void attempt")
        finally:
            self._stop_all()
            if row.teardown:
                row.teardown(self)
        return res

    def room(self, row, res, when):
        """For this node's rows, room in the node's flap damping for the
        row's two changes (damping_room()); the fleet settled again after
        a wait, and the seconds waited added up in res."""
        if row.expect != "this":
            return
        waited = self.damping_room(self.lab.node(TARGET), 2)
        if waited > 0:
            res["damping_wait_s"] = round(res.get("damping_wait_s", 0.0) +
                                          waited, 1)
            self.settle(row, res, f"after waiting for damping's room {when}")

    def settle(self, row, res, when):
        """Wait for a quiet fleet, forcing it back if it takes too long
        (what was forced goes into the row's result); a fleet whose
        routes keep moving even so is noted, and the row goes on (its
        routes moving before the fault then void it)."""
        if self.wait_normal(self.recovery_timeout) is not None:
            return
        res.setdefault("forced", []).append(
            f"{when}: {self.recover_hard() or 'routes kept moving'}")
        if self.wait_normal(self.recovery_timeout) is None:
            res.setdefault("unsettled", []).append(when)
            self.log(f"{row.id}: the fleet is not quiet {when}")

    def _run(self, row, hold):
        # Not within named's resolver timeout of the last fault's end: its
        # recursions still waiting then end (time out) in this row's first
        # seconds.  Back to back 17 s apart, a bogus .nl moved a node in 4
        # of 14 trials (3 of them 1.1-1.4 s in), as the last trial's
        # waiting names timed out; never as a first trial.
        if self.fault_ended is not None:
            time.sleep(max(0.0, self.fault_ended + RESOLVER_TIMEOUT -
                           time.time()))
        normal_qps = self.qps / (1 + row.attack) if row.attack else self.qps
        self._segment(row.id, normal_qps)
        t_start = time.time()
        attack = None
        on = False
        names = ()
        try:
            time.sleep(self.pre)
            t_switch = time.time()
            on = True
            t0 = row.inject(self) or t_switch
            if row.flush:
                names = row.flush(self) if callable(row.flush) else row.flush
                self.flush(names)
            t_flushed = time.time()
            if row.attack:
                # A second client: the attack alone (its normal part, 1
                # query a second, is noise).
                attack = self.lab.traffic(
                    qps=1, seconds=hold, attack=row.attack * normal_qps,
                    victim=VICTIM, name=f"catalogue-{self._segments}-{row.id}-attack")
            samples = self._hold(row, t0, hold)
            t1 = time.time()
            on = False
            self.fault_ended = time.time()
            row.recover(self)
            if names:
                self.flush(names)
            if attack is not None:
                attack.stop_sending()
            back = self.wait_normal(self.recovery_timeout)
            recovery = "clean"
            if back is None:
                recovery = self.recover_hard() or "not quiet: routes kept moving"
                back = self.wait_normal(self.recovery_timeout)
                if back is None:
                    recovery = "failed: " + recovery
            t_back = time.time() - (self.quiet if back is not None else 0)
            time.sleep(self.post)
        finally:
            if on:
                self.fault_ended = time.time()
                try:
                    row.recover(self)
                except Exception as e:      # the first error is the one to see
                    self.log(f"{row.id}: recovery after an error failed: {e}")
            if attack is not None:
                attack.stop_sending()
            tr = self._idle_segment()
        tr.wait(60)
        if attack is not None:
            attack.wait(60)
        t_end = time.time()
        return score(self, row, tr, attack, t_start, t0, t_switch, t_flushed, t1,
                          t_back, t_end, recovery, samples)

    def _hold(self, row, t0, hold):
        """Hold the fault until t0 + hold; half way, the restarts the row
        asks for; the relays' status sampled half way and a second
        before the end."""
        samples = {}
        end, mid = t0 + hold, t0 + hold / 2
        pending = row.during
        for when in (mid, end - 1.0):
            while time.time() < when:
                time.sleep(min(0.1, max(0.0, when - time.time())))
            if pending and time.time() >= mid:
                if pending == "relay":
                    self.restart_relays()
                else:
                    self.restart_exabgp(self.lab.node(TARGET))
                pending = None
            samples[f"{when - t0:.1f}"] = {n.name: self.checks(n)
                                            for n in self.lab.nodes}
        time.sleep(max(0.0, end - time.time()))
        return samples

    def _stop_all(self):
        if self._threads:
            self.stop_storm()
        if self._procs:
            self.stop_saturation()

    def checks(self, node):
        """The failing or excused checks in node's status, and the
        service's reason."""
        st = self.status(node)
        if not st:
            return {"status": "no answer from the relay"}
        out = {}
        for s in st.get("services", []):
            out[s["name"]] = {
                "state": s.get("state"), "reason": s.get("reason"),
                "checks": [f"{c['name']}: {c['state']}: {c['text']}"
                           for c in s.get("checks", []) if c["state"] != "ok"]}
        return out

    # -- scoring ------------------------------------------------------------
