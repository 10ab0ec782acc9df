# SPDX-License-Identifier: MPL-2.0
"""The normal day: the fleet on the lab internet under its ordinary
traffic and the routine of running it (reconfigs, relay kills, an
ExaBGP restart), its route changes counted (goal: none).
"""

import csv
import signal
import time

from .logs import bird_routes, relay_events


def normal_day(lab, seconds, qps=1000, reconfig_every=180, relay_kill_every=420,
               exabgp_restart_at=None, log=print):
    """A normal day on the fleet: the lab internet's traffic at qps with
    its background failures for `seconds`, and the routine of operating
    it: `rndc reconfig` on every node every reconfig_every seconds; one
    node's relay killed (ExaBGP respawns it) every relay_kill_every
    seconds, each node in turn; one node's ExaBGP restarted at
    exabgp_restart_at seconds (None: two thirds through; 0: never).

    Returns the route changes at the router (goal: none), each with the
    last routine event before it and the relay's reason; the client's
    queries, losses and SERVFAILs, per minute and in all."""
    nodes = lab.nodes
    plan = []
    if reconfig_every:
        plan += [(t, "reconfig", None) for t in
                 range(reconfig_every, int(seconds) - 10, reconfig_every)]
    if relay_kill_every:
        plan += [(t, "relay-kill", nodes[i % len(nodes)]) for i, t in enumerate(
            range(relay_kill_every // 2, int(seconds) - 10, relay_kill_every))]
    if exabgp_restart_at is None:
        exabgp_restart_at = int(seconds * 2 / 3)
    if exabgp_restart_at:
        plan.append((exabgp_restart_at, "exabgp-restart", nodes[-1]))
    plan.sort(key=lambda p: p[0])

    tr = lab.traffic(qps=qps, seconds=seconds, name="normal-day")
    t_start = time.time()
    events = []
    for at, what, node in plan:
        time.sleep(max(0.0, t_start + at - time.time()))
        t = time.time()
        if what == "reconfig":
            for n in nodes:
                r = n.rndc("reconfig", timeout=60)
                if r.returncode != 0:
                    raise RuntimeError(f"{n.name}: rndc reconfig: "
                                       f"{r.stderr or r.stdout}")
        elif what == "relay-kill":
            node.signal_relay(signal.SIGKILL)
        else:
            node.exabgp.send_signal(signal.SIGTERM)
            node.exabgp.p.wait(30)
            node.start_exabgp()
        events.append((t, what, node.name if node else "all"))
        log(f"normal day +{t - t_start:.0f} s: {what} on {events[-1][2]}")
    summary = tr.wait(seconds + 120)
    t_end = time.time()

    changes = [e for e in bird_routes(lab.bird.text()) if t_start <= e[0] <= t_end]
    relay = {n.name: [e for e in relay_events(n.exabgp.text())
                      if t_start <= e[0] <= t_end] for n in nodes}
    out = []
    for t, node, family, what in changes:
        if family != 4:
            continue
        cause = next((e for e in reversed(events) if e[0] <= t), None)
        said = next((e for e in reversed(relay[node]) if e[0] <= t + 0.05
                     and e[1] in ("route", "start")), None)
        out.append({
            "at_s": round(t - t_start, 3), "node": node, "router": what,
            "after": None if cause is None else
            f"{cause[1]} on {cause[2]}, {t - cause[0]:.1f} s before",
            "relay": None if said is None else said[2]})

    minutes = {}
    lost = servfail = total = 0
    with open(tr.csv) as f:
        for q in csv.DictReader(f):
            m = int((float(q["sent"]) - t_start) // 60)
            c = minutes.setdefault(m, [0, 0, 0])
            c[0] += 1
            total += 1
            if q["rcode"] == "lost":
                c[1] += 1
                lost += 1
            elif q["rcode"] == "SERVFAIL":
                c[2] += 1
                servfail += 1
    return {
        "seconds": round(t_end - t_start, 1), "qps": summary["qps"],
        "events": [(round(t - t_start, 3), what, who) for t, what, who in events],
        "route_changes": len(out),
        "route_changes_v6": sum(1 for e in changes if e[2] == 6),
        "changes": out, "queries": total, "lost": lost, "servfail": servfail,
        "lost_share": lost / max(1, total), "servfail_share": servfail / max(1, total),
        "per_minute": [{"minute": m, "queries": c[0], "lost": c[1], "servfail": c[2]}
                       for m, c in sorted(minutes.items())],
        "nodes": summary["nodes"], "late_ms": summary["late_ms"],
        "relay_starts": {n: sum(1 for e in ev if e[1] == "start")
                         for n, ev in relay.items()},
    }
