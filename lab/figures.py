# SPDX-License-Identifier: MPL-2.0
"""From the lab's records to figures: what clients saw, what the router did.

Inputs are the client's CSV (lab/load.py: one row per query, with
wall-clock send and kernel receive times and the answering node's NSID)
and the router's `ip -ts -o monitor route` log.  Both use the wall
clock, so they compare directly.

Definitions (doc'd in lab/README.md, used by tests and bench/fleet.py):

- a query is **lost** when no answer came within `deadline` seconds of
  its sending (default 1 s: a client would have retried or given up);
  a late answer is counted lost too;
- a **loss episode** is a run of lost queries whose send times are no
  further apart than `split` seconds; the **longest client-visible gap**
  is the longest episode, from the first to the last lost query's
  sending, plus one send interval;
- a socket (source port) of the client **belongs** to the node that
  answered its last query before a moment t: the router's hash keeps a
  flow on one node while the set of next hops is unchanged, so the
  queries of "the other nodes' clients" are those of sockets that
  belonged to other nodes just before the fault.
"""

import csv
import datetime
import re
from collections import namedtuple

Query = namedtuple("Query", "seq sent recv rcode node family kind sock")
Change = namedtuple("Change", "time family nodes")   # nodes: frozenset of devs

ANYCAST = {"192.0.2.53": 4, "2001:db8::53": 6}
_TS = re.compile(r"^\[(\S+)\]\s+(.*)$")


def read_queries(path):
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out.append(Query(int(r["seq"]), float(r["sent"]),
                             float(r["recv"]) if r["recv"] else None,
                             int(r["rcode"]) if r["rcode"] else None,
                             r["node"], int(r["family"]), r["kind"], int(r["sock"])))
    return out


def route_changes(log_text):
    """The router's kernel routes for the anycast addresses over time:
    one Change per monitor line, with the set of next-hop devices (each
    named after its node) after that change."""
    out = []
    for line in log_text.splitlines():
        m = _TS.match(line)
        if not m:
            continue
        words = m.group(2).split()
        deleted = words and words[0] == "Deleted"
        if deleted:
            words = words[1:]
        if not words or words[0] not in ANYCAST:
            continue
        t = datetime.datetime.fromisoformat(m.group(1)).timestamp()
        nodes = frozenset() if deleted else frozenset(re.findall(r"\bdev (\S+)", m.group(2)))
        out.append(Change(t, ANYCAST[words[0]], nodes))
    return out


def nodes_at(changes, family, t):
    """The next hops of 'family' at time t (empty before any route)."""
    cur = frozenset()
    for c in changes:
        if c.family == family and c.time <= t:
            cur = c.nodes
    return cur


def first_change(changes, family, t, pred):
    """Time of the first change of 'family' after t whose next hops satisfy
    pred, or None."""
    for c in changes:
        if c.family == family and c.time >= t and pred(c.nodes):
            return c.time
    return None


def changes_between(changes, t0, t1):
    return [c for c in changes if t0 <= c.time <= t1]


def lost(q, deadline):
    return q.recv is None or q.recv - q.sent > deadline


def episodes(queries, deadline, split):
    """Loss episodes: lists of lost queries, by send time."""
    out, cur = [], []
    for q in sorted((q for q in queries if lost(q, deadline)), key=lambda q: q.sent):
        if cur and q.sent - cur[-1].sent > split:
            out.append(cur)
            cur = []
        cur.append(q)
    if cur:
        out.append(cur)
    return out


def owners(queries, t):
    """(family, sock) -> the node that answered that socket's last query
    sent before t."""
    own = {}
    for q in sorted(queries, key=lambda q: q.sent):
        if q.sent >= t:
            break
        if q.node:
            own[(q.family, q.sock)] = q.node
    return own


def phase(queries, t0, t1, node, own, deadline, split, interval):
    """Figures for queries sent in [t0, t1)."""
    qs = [q for q in queries if t0 <= q.sent < t1]
    eps = episodes(qs, deadline, split)
    longest = max(eps, key=lambda e: e[-1].sent - e[0].sent, default=None)
    others_lost = sum(1 for q in qs if lost(q, deadline)
                      and own.get((q.family, q.sock), node) != node)
    return {
        "queries": len(qs),
        "lost": sum(1 for q in qs if lost(q, deadline)),
        "lost_others": others_lost,
        "gap_ms": None if longest is None else
        1000 * (longest[-1].sent - longest[0].sent + interval),
        "gap_start_s": None if longest is None else longest[0].sent - t0,
        "servfail": sum(1 for q in qs if q.rcode == 2),
    }


def others_throughout(queries, node, t0, t1, bin_s=0.1):
    """The fewest answers from nodes other than 'node' in any bin_s slice
    of [t0, t1): above 0 means the others answered throughout."""
    if t1 <= t0:
        return None
    nbins = max(1, int((t1 - t0) / bin_s))
    counts = [0] * nbins
    for q in queries:
        if t0 <= q.sent < t0 + nbins * bin_s and q.node and q.node != node:
            counts[int((q.sent - t0) / bin_s)] += 1
    return min(counts)


def timeline(queries, t0, t1, nodes, deadline, bin_s=0.01):
    """Per bin of send time in [t0, t1): answers by each node, and lost.
    Rows of (seconds from t0, {node: n}, lost)."""
    nbins = max(1, int(round((t1 - t0) / bin_s)))
    rows = [[0] * (len(nodes) + 1) for _ in range(nbins)]
    idx = {n: i for i, n in enumerate(nodes)}
    for q in queries:
        b = int((q.sent - t0) / bin_s)
        if not 0 <= b < nbins:
            continue
        if lost(q, deadline):
            rows[b][-1] += 1
        elif q.node in idx:
            rows[b][idx[q.node]] += 1
    return [(round(i * bin_s, 6), dict(zip(nodes, r[:-1])), r[-1])
            for i, r in enumerate(rows)]
