# SPDX-License-Identifier: MPL-2.0
"""Scoring a row against the verdict it deserves, from the router's
changes, the relays' words and the client's records; the rows' trials
folded into the Markdown table.
"""

import statistics

from .. import figures
from .logs import relay_events
from .rows import DECIDE_S, TARGET, VERDICTS


def score(cat, row, tr, attack, t_start, t0, t_switch, t_flushed, t1, t_back,
          t_end, recovery, samples):
    """One trial of a row scored: a dict (pass, why, the figures, what
    the relay said and did, per node)."""
    lab = cat.lab
    names = [n.name for n in lab.nodes]
    # A fault whose start is named's word for it (the zone's "expired")
    # may be acted on before named logs it: the row is read from the
    # switch or the start, whichever came first.
    t_from = min(t0, t_switch)
    before = cat.routes(t_start, t_from)
    moves = cat.routes(t_from - 0.001, t_end)
    changes = [e for e in moves if e[2] == 4]
    own = session_changes(changes, [r for r in getattr(cat, "exabgp_restarts", [])
                                    if t_from <= r[1] <= t_end])
    per_node = {n: [e for e in changes if e[1] == n and e not in own]
                for n in names}
    relay = {}
    for n in lab.nodes:
        ev = [e for e in relay_events(n.exabgp.text())
              if t_from - 0.5 <= e[0] <= t_end]
        relay[n.name] = [(round(e[0] - t0, 3), e[1], e[2]) for e in ev]
    kernel = figures.route_changes(lab.monitor.text())
    emptied = [(round(c.time - t0, 3), c.family) for c in kernel
               if t_from <= c.time <= t_end and not c.nodes]
    qs = tr.rows()
    window = [q for q in qs if t_from <= float(q["sent"]) <= t_end]
    lost = sum(1 for q in window if q["rcode"] == "lost")
    servfail = sum(1 for q in window if q["rcode"] == "SERVFAIL")
    gaps = answered_gaps(window, t_from, t_end)
    bg = cat.background["lost_share"] * len(window) if cat.background else None

    target = f"ns{TARGET}"
    first = per_node[target][0][0] if per_node[target] else None
    decide = None if first is None else first - t0
    others = [n for n in names if n != target and per_node[n]]
    moved = [n for n in names if per_node[n]]
    alike = bool(moved) and len(moved) == len(names)
    harmless = (not emptied and not gaps and (not moved or alike))
    if row.expect == "this":
        # The verdict: the node moved while the fault lasted, no other
        # node did; the row passes if it also moved within the goal.
        verdict = decide is not None and decide <= t1 - t0 and not others
        ok = verdict and decide <= DECIDE_S
        why = ("did not move" if decide is None else
               "moved in %.0f ms" % (1000 * decide) if decide >= 0 else
               "moved %.0f ms before named logged the fault" % (-1000 * decide))
        if decide is not None and decide > DECIDE_S:
            why += f" (goal: within {DECIDE_S:.0f} s)"
        if others:
            why += f"; also moved: {', '.join(others)}"
    else:
        ok = not moved
        why = "no route moved" if ok else f"moved: {', '.join(moved)}"
        if not ok and row.cannot_tell and harmless:
            ok = True
            why += " (every node alike, never emptied: harmless)"
        verdict = ok
    if own:
        why += (f"; {len(own)} route changes the BGP session's own (ExaBGP "
                f"stopped: the router drops a closed session's routes, and "
                f"adds them when the new one announces), not a verdict")
    if recovery.startswith("failed"):
        ok = verdict = False
        why += "; not recovered"
    void = len([e for e in before if e[2] == 4])
    if void:
        ok = verdict = False
        why = (f"void: {void} route changes before the fault (the fleet "
               f"was not quiet); then " + why)
    return {
        "pass": ok, "verdict_right": verdict, "why": why, "t0": t0, "t0_note": (
            None if abs(t0 - t_switch) < 0.01 else
            f"fault start {t0 - t_switch:+.2f} s from the switch"),
        "flush_s": round(t_flushed - t_switch, 2),
        "decide_ms": None if decide is None else round(1000 * decide, 1),
        "route_changes": len(changes),
        "session_changes": len(own),
        "route_changes_v6": sum(1 for e in moves if e[2] == 6),
        "before_fault_changes": len([e for e in before if e[2] == 4]),
        "moves": {n: [(round(e[0] - t0, 3), e[3]) for e in per_node[n]]
                  for n in names},
        "kinds": {n: route_kinds(relay[n]) for n in names},
        "relay": relay, "samples": samples,
        "emptied": emptied, "answer_gaps_s": gaps,
        "queries": len(window), "lost": lost, "servfail": servfail,
        "lost_background": None if bg is None else round(bg, 1),
        "attack": attack.summary() if attack is not None else None,
        "traffic": {k: tr.summary()[k] for k in ("qps", "nodes", "late_ms")},
        "recovery": recovery,
        "recovered_s": round(t_back - t1, 2),
        "seconds": round(t_end - t_start, 1),
    }


SESSION_S = 3.0     # a new ExaBGP's session up and its routes announced


def session_changes(changes, restarts):
    """The route changes an ExaBGP restart makes by itself: the node's
    routes removed at the router when the stopped ExaBGP's session
    closed, and as many added back once the new one's relay announced
    them (within SESSION_S of its start).  BGP's, whatever the relay
    judged; anything else the node did in that time stays a move."""
    own = []
    for node, t_term, t_up in restarts:
        mine = [e for e in changes
                if e[1] == node and t_term - 0.05 <= e[0] <= t_up + SESSION_S]
        removed = [e for e in mine if e[3] == "removed"]
        if not removed:
            continue
        added = [e for e in mine if e[3] == "added" and e[0] > removed[0][0]]
        own += removed + added[:len(removed)]
    return own


def route_kinds(events):
    """The relay's route changes, in order, as short words."""
    out = []
    for _, kind, text in events:
        if kind == "start":
            out.append("restarted")
        elif kind == "route":
            what = text.split(":", 1)[0]
            out.append("depreferred" if "depreferred" in what else
                       "withdrawn" if "withdraw" in what else
                       "announced" if what.startswith("UP") else what.lower())
    return out


def answered_gaps(queries, t0, t1):
    """Whole seconds of [t0, t1) in which queries were sent and none of
    them was answered: the anycast address not answering at all."""
    bins = {}
    for q in queries:
        b = int(float(q["sent"]) - t0)
        got = q["rcode"] != "lost"
        bins[b] = bins.get(b, False) or got
    return [b for b, got in sorted(bins.items()) if not got and b < int(t1 - t0)]


# -- the table ---------------------------------------------------------------

def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(results):
    """Trials of each row folded into one: pass only if every trial
    passed; figures as medians (each trial kept)."""
    out = []
    for rid in dict.fromkeys(r["id"] for r in results):
        trials = [r for r in results if r["id"] == rid]
        first = trials[0]
        out.append({
            "id": rid, "fault": first["fault"], "where": first["where"],
            "expect": first["expect"], "cannot_tell": first["cannot_tell"],
            "trials": len(trials),
            "pass": all(t["pass"] for t in trials),
            "passed": sum(1 for t in trials if t["pass"]),
            "why": [t["why"] for t in trials],
            "decide_ms": [t["decide_ms"] for t in trials],
            "lost": [t["lost"] for t in trials],
            "lost_background": [t["lost_background"] for t in trials],
            "route_changes": [t["route_changes"] for t in trials],
            "session_changes": [t.get("session_changes", 0) for t in trials],
            "kinds": first["kinds"], "reason": reason(first),
            "recovery": [t["recovery"] for t in trials],
        })
    return out


def reason(result):
    """The relay's own words for the row: its first route change's
    reason, else its first excuse, else what its status showed failing
    or excused during the fault, per node."""
    out = {}
    for node, events in result["relay"].items():
        text = next((f"{e[2]}" for e in events if e[1] == "route"), None) or \
            next((f"excused: {e[2]}" for e in events if e[1] == "excused"), None)
        if text is None:
            for sample in result["samples"].values():
                svc = sample.get(node, {})
                for s in svc.values() if isinstance(svc, dict) else ():
                    if isinstance(s, dict) and s.get("checks"):
                        text = "; ".join(s["checks"])
                        break
                if text:
                    break
        out[node] = text
    return out


def _fmt_list(xs, spec=".0f"):
    vals = [x for x in xs if x is not None]
    if not vals:
        return "-"
    med = _median(vals)
    s = format(med, spec)
    if len(xs) > 1:
        s += " (" + ", ".join("-" if x is None else format(x, spec) for x in xs) + ")"
    return s


def verdict_text(row):
    """What moved, per node, in the relay's words for it: each kind of
    route change with its count, in order of first appearance."""
    parts = []
    for node, kinds in row["kinds"].items():
        counts = {}
        for k in kinds:
            counts[k] = counts.get(k, 0) + 1
        text = ", ".join(k if c == 1 else f"{k} {c}x" for k, c in counts.items())
        parts.append(f"{node}: {text or 'unmoved'}")
    return "; ".join(parts)


def markdown(results):
    """The catalogue as a Markdown table, one row per fault, then the
    relay's reasons."""
    rows = summarize(results)
    head = ("| fault | where | expected verdict | the relay's verdict | "
            "time to decide (ms) | queries lost (background) | route changes "
            "| right |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
    lines = []
    for r in rows:
        expect = VERDICTS[r["expect"]]
        if r["cannot_tell"]:
            expect += " (the inside view cannot tell: harmless suffices)"
        bg = _median(r["lost_background"])
        lost = _fmt_list(r["lost"]) + (f" ({bg:.0f})" if bg is not None else "")
        right = "yes" if r["pass"] else "**no**"
        if r["trials"] > 1:
            right += f" ({r['passed']}/{r['trials']})"
        right += ": " + r["why"][0]
        changes = _fmt_list(r["route_changes"])
        if any(r["session_changes"]):
            changes += f" ({_fmt_list(r['session_changes'])} the session's own)"
        lines.append(f"| {r['fault']} | {r['where']} | {expect} | "
                     f"{verdict_text(r)} | {_fmt_list(r['decide_ms'])} | {lost} | "
                     f"{changes} | {right} |")
    notes = ["", "The relay's reasons (first trial; its first route change, "
             "else its excuse, else what its status showed):", ""]
    for r in rows:
        for node, text in r["reason"].items():
            if text:
                notes.append(f"- {r['id']}, {node}: {text}")
    return head + "\n".join(lines) + "\n" + "\n".join(notes) + "\n"
