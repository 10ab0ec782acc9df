# SPDX-License-Identifier: MPL-2.0
"""Scale: 10,000 watched zones in 8 views, 200 prefixes.

named serves 10,000 generated zones split over 8 views (matched by
client address), each view with the plugin and 'all-zones yes'; the
relay judges 8 services ('zones: all', a canary per view from its own
loopback source address) with 25 prefixes each, the benchmark playing
ExaBGP.  --views, --zones and --interval change the setup (the 200
prefixes are spread over the views); --views 64 is the most views the
plugin publishes.  Measured in the same run, alternating:

  A  named without the plugin, the relay running (its canaries are the
     same queries; its feed stays down)
  B  named with the plugin, a subscriber (the relay) reading everything

Reported: named CPU per second in A and B (the difference is the
plugin's cost, as a share of one core; goal <= 1 %), the publisher
thread's own CPU, named RSS in both and its growth over the B phase
(goal: none), what the plugin's own mappings (code, data and the
counter shards) hold resident, relay CPU and RSS and its CPU per
snapshot, snapshot size and the time to publish one.  Medians over
rounds; one command:

    /usr/bin/python3 -m bench.scale [--rounds 3] [--seconds 60]
    /usr/bin/python3 -m bench.scale --soak 600      # memory over 10 minutes
    /usr/bin/python3 -m bench.scale --views 64 --zones 640 --interval 100
"""

import argparse
import os
import socket
import sys
import tempfile
import time

import lab
from lab.paths import check_build

from . import benchlib
from .benchlib import fmt, median

# Defaults; main() sets them from the command line.
ZONES = 10000
VIEWS = 8
PREFIXES = 200
PREFIXES_PER_VIEW = PREFIXES // VIEWS
INTERVAL_MS = 1000

ZONE_FILE = """$TTL 300
@	SOA	ns1 hostmaster 1 3600 600 86400 300
	NS	ns1
ns1	A	192.0.2.53
www	A	198.51.100.80
"""


def source(v):
    return f"127.0.0.{10 + v}"


def named_conf(named, plugin):
    """The example named.conf with its zone replaced by 8 views of
    generated zones; the plugin block is the example's, all-zones."""
    head, block, _ = named.sections()
    block = block.replace('zones { "example"; };', "all-zones yes;")
    per_view = ZONES // VIEWS
    out = [head]
    for v in range(VIEWS):
        out.append(f'view "v{v}" {{\n\tmatch-clients {{ {source(v)}; }};\n')
        if plugin:
            out.append("\t" + block + "\n")
        for i in range(v * per_view, (v + 1) * per_view):
            out.append(f'\tzone "z{i}.bench" {{ type primary; file "{named.dir}/db.gen"; }};\n')
        out.append("};\n")
    return "".join(out)


def relay_services(named):
    out = []
    n = 0
    for v in range(VIEWS):
        out.append(f"""
  - name: v{v}
    view: v{v}
    checks:
      zones: all
    canary:
      server: 127.0.0.1
      source: {source(v)}
      port: {named.port}
      name: z{v * (ZONES // VIEWS)}.bench
      type: SOA
      interval: 1s
      timeout: 500ms
    prefixes:
""")
        for _ in range(PREFIXES_PER_VIEW):
            out.append(f"      - prefix: 198.18.{n // 256}.{n % 256}/32\n")
            n += 1
    return "".join(out)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def plugin_rss_kb(pid):
    """Resident KiB of the plugin's own mappings: its file's (code,
    data) and the anonymous one right after them (its .bss: the counter
    shards and the publisher's state).  Its heap allocations are
    named's heap, in the RSS difference only."""
    total, end, after = 0, None, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                path = head[5] if len(head) > 5 else ""
                mine = path.endswith("anycast-health.so")
                after = mine or (not path and lo == end)
                end = hi if mine else (hi if after else None)
            elif head[0] == "Rss:" and after:
                total += int(head[1])
    return total


def thread_ns(pid, name):
    """On-CPU nanoseconds of the thread called 'name' (schedstat)."""
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                return int(f.read().split()[0])
        except (OSError, ValueError):
            continue
    return None


def snapshot_bytes(path):
    """Size of one periodic snapshot and the time from its first byte
    to its tick, read as a subscriber."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    buf = b""
    # Skip the hello and the snapshot sent on connect.
    while buf.count(b"\ntick ") < 1:
        buf += s.recv(1 << 20)
    buf = buf[buf.index(b"\ntick "):]
    buf = buf[buf.index(b"\n", 1) + 1:]
    start = None
    size = len(buf)
    while b"\ntick " not in b"\n" + buf:
        data = s.recv(1 << 20)
        if start is None:
            start = time.monotonic()
        buf += data
    end = time.monotonic()
    s.close()
    snap = (b"\n" + buf).split(b"\ntick ", 1)[0]
    tick = buf[len(snap):].split(b"\n", 1)[0]
    return len(snap) + len(tick) + 1, (end - start) if start and size == 0 else None


def phase(stack, plugin, seconds, soak_samples=None):
    named = lab.Named(stack, name="named-plugin" if plugin else "named-plain",
                      interval=INTERVAL_MS)
    (named.dir / "db.gen").write_text(ZONE_FILE)
    named.conf.write_text(named_conf(named, plugin))
    t0 = time.monotonic()
    named.start()
    loaded = time.monotonic() - t0
    relay = lab.Relay(stack, named, name=f"relay-{int(plugin)}",
                      services=relay_services(named),
                      replacements=[("\nplugin:\n", "\nplugin:\n  stale-after: 3s\n")])
    rproc = lab.RelayUnderTest(stack, relay, name=f"relay-proc-{int(plugin)}")
    if plugin:
        lab.wait_for(lambda: sum("announce" in c for c in rproc.commands)
                     >= VIEWS * PREFIXES_PER_VIEW, 60, interval=0.1,
                     what="every prefix announced")
    else:
        time.sleep(3)
    pid, rpid = named.proc.pid, rproc.proc.pid
    # schedstat: nanoseconds, where /proc's ticks (10 ms) are too coarse.
    cpu = benchlib.cpu_ns_schedstat
    c0, r0, p0 = cpu(pid), cpu(rpid), thread_ns(pid, "ah-publisher")
    rss0 = rss_kb(pid)
    samples = []
    w0 = time.monotonic()
    end = w0 + seconds
    while time.monotonic() < end:
        time.sleep(min(10, max(0.1, end - time.monotonic())))
        samples.append((time.monotonic() - w0, rss_kb(pid)))
    wall = time.monotonic() - w0
    c1, r1, p1 = cpu(pid), cpu(rpid), thread_ns(pid, "ah-publisher")
    out = {
        "plugin": plugin,
        "startup_s": loaded,
        "named_cpu_pct": 100.0 * (c1 - c0) / 1e9 / wall,
        "named_rss_kb": rss_kb(pid),
        "named_rss_start_kb": rss0,
        "rss_samples": samples,
        "relay_cpu_pct": 100.0 * (r1 - r0) / 1e9 / wall,
        "relay_rss_kb": rss_kb(rpid),
    }
    if plugin:
        out["plugin_rss_kb"] = plugin_rss_kb(pid)
    if plugin:
        out["publisher_cpu_pct"] = 100.0 * (p1 - p0) / 1e9 / wall
        size, _ = snapshot_bytes(named.socket)
        out["snapshot_bytes"] = size
        out["publish_ms_per_snapshot"] = (out["publisher_cpu_pct"] / 100.0) * INTERVAL_MS
        out["relay_ms_per_snapshot"] = (out["relay_cpu_pct"] / 100.0) * INTERVAL_MS
        out["announced"] = sum("announce" in c for c in rproc.commands)
    stack.stop()
    return out


def run_phase(work, name, plugin, seconds):
    """One phase in its own directory, everything stopped afterwards."""
    d = os.path.join(work, name)
    os.mkdir(d)
    stack = lab.Stack(d)
    try:
        return phase(stack, plugin, seconds)
    finally:
        stack.stop()
        benchlib.kill_leftovers(work)


def growth_kb_per_min(samples):
    """Least-squares slope of RSS over time, after the first sample."""
    pts = [(t, r) for t, r in samples[1:] if r is not None]
    if len(pts) < 2:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 60.0 * sum((t - mt) * (r - mr) for t, r in pts) / den if den else None


def rounds_summary(A, B, cost):
    return {
        "named_cpu_pct_plain": median([a["named_cpu_pct"] for a in A]),
        "named_cpu_pct_plugin": median([b["named_cpu_pct"] for b in B]),
        "plugin_cpu_pct_of_core": median(cost),
        "publisher_cpu_pct": median([b["publisher_cpu_pct"] for b in B]),
        "named_rss_mib_plain": median([a["named_rss_kb"] for a in A]) / 1024,
        "named_rss_mib_plugin": median([b["named_rss_kb"] for b in B]) / 1024,
        "named_rss_delta_mib": median([b["named_rss_kb"] - a["named_rss_kb"]
                                       for a, b in zip(A, B)]) / 1024,
        "plugin_rss_kib": median([b["plugin_rss_kb"] for b in B]),
        "relay_ms_per_snapshot": median([b["relay_ms_per_snapshot"] for b in B]),
        "relay_cpu_pct": median([b["relay_cpu_pct"] for b in B]),
        "relay_rss_mib": median([b["relay_rss_kb"] for b in B]) / 1024,
        "snapshot_bytes": median([b["snapshot_bytes"] for b in B]),
        "publish_ms_per_snapshot": median([b["publish_ms_per_snapshot"] for b in B]),
        "rss_growth_kb_per_min": median([growth_kb_per_min(b["rss_samples"]) for b in B]),
        "rss_growth_kb_per_min_plain": median([growth_kb_per_min(a["rss_samples"]) for a in A]),
    }


def rounds_rows(summary):
    return [
        ["named CPU, no plugin (% of a core)", fmt(summary["named_cpu_pct_plain"], ".2f"), ""],
        ["named CPU, plugin (% of a core)", fmt(summary["named_cpu_pct_plugin"], ".2f"), ""],
        ["plugin cost (% of a core, median of pairs)", fmt(summary["plugin_cpu_pct_of_core"], ".2f"), "<= 1.00"],
        ["  of which publisher thread", fmt(summary["publisher_cpu_pct"], ".2f"), ""],
        ["named RSS no plugin / plugin (MiB)",
         f"{summary['named_rss_mib_plain']:.1f} / {summary['named_rss_mib_plugin']:.1f}", ""],
        ["named RSS, plugin - no plugin (MiB, median of pairs)",
         fmt(summary["named_rss_delta_mib"], ".2f"), "<= 1.00"],
        ["  the plugin's own mappings, resident (KiB)",
         fmt(summary["plugin_rss_kib"], ".0f"), ""],
        ["named RSS growth, no plugin / plugin (KiB/min)",
         f"{fmt(summary['rss_growth_kb_per_min_plain'], '.1f')} / "
         f"{fmt(summary['rss_growth_kb_per_min'], '.1f')}", "~0"],
        ["relay CPU (% of a core) / RSS (MiB)",
         f"{summary['relay_cpu_pct']:.2f} / {summary['relay_rss_mib']:.1f}", ""],
        ["relay CPU per snapshot (ms)", fmt(summary["relay_ms_per_snapshot"], ".3f"), ""],
        ["snapshot size (bytes)", fmt(summary["snapshot_bytes"], ".0f"), ""],
        ["publisher CPU per snapshot (ms)", fmt(summary["publish_ms_per_snapshot"], ".2f"), ""],
    ]


def main():
    global ZONES, VIEWS, PREFIXES_PER_VIEW, INTERVAL_MS
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--soak", type=int, default=0,
                    help="seconds of one long plugin phase for memory growth")
    ap.add_argument("--views", type=int, default=VIEWS,
                    help=f"views, each with the plugin (default {VIEWS}, at most 64)")
    ap.add_argument("--zones", type=int, default=ZONES,
                    help=f"zones over all views (default {ZONES})")
    ap.add_argument("--interval", type=int, default=INTERVAL_MS,
                    help=f"the plugin's interval, ms (default {INTERVAL_MS})")
    ap.add_argument("--out")
    args = ap.parse_args()
    if not 1 <= args.views <= 64 or args.zones < args.views:
        ap.error("--views must be 1..64, with at least one zone each")
    ZONES, VIEWS, INTERVAL_MS = args.zones, args.views, args.interval
    PREFIXES_PER_VIEW = max(1, PREFIXES // VIEWS)
    check_build()
    results = {"A": [], "B": [], "soak": None, "soak_plain": None}
    with tempfile.TemporaryDirectory(prefix="ah-scale-") as work:
        for r in range(args.rounds):
            for plugin in (False, True):
                res = run_phase(work, f"r{r}{int(plugin)}", plugin, args.seconds)
                results["B" if plugin else "A"].append(res)
                print(f"round {r + 1} {'B plugin' if plugin else 'A plain '}: "
                      f"named {res['named_cpu_pct']:.2f}% CPU, "
                      f"RSS {res['named_rss_kb'] / 1024:.0f} MiB", flush=True)
        if args.soak:
            # Both, so named's own settling is not taken for the plugin's.
            for plugin in (False, True):
                res = run_phase(work, f"soak{int(plugin)}", plugin, args.soak)
                results["soak" if plugin else "soak_plain"] = res
                print(f"soak {'plugin' if plugin else 'plain '}: RSS "
                      f"{res['rss_samples'][0][1] / 1024:.1f} -> "
                      f"{res['rss_samples'][-1][1] / 1024:.1f} MiB, "
                      f"{fmt(growth_kb_per_min(res['rss_samples']), '.1f')} KiB/min",
                      flush=True)

    A, B = results["A"], results["B"]
    cost = [b["named_cpu_pct"] - a["named_cpu_pct"] for a, b in zip(A, B)]
    summary = {
        "zones": ZONES, "views": VIEWS, "prefixes": VIEWS * PREFIXES_PER_VIEW,
        "interval_ms": INTERVAL_MS, "rounds": args.rounds, "seconds": args.seconds,
    }
    rows = []
    if A and B:
        summary.update(rounds_summary(A, B, cost))
        rows = rounds_rows(summary)
    if results["soak"]:
        summary["soak_seconds"] = args.soak
        summary["soak_rss_growth_kb_per_min"] = growth_kb_per_min(results["soak"]["rss_samples"])
        summary["soak_plain_rss_growth_kb_per_min"] = \
            growth_kb_per_min(results["soak_plain"]["rss_samples"])
        summary["soak_rss_first_last_kb"] = [results["soak"]["rss_samples"][0][1],
                                             results["soak"]["rss_samples"][-1][1]]
    if results["soak"]:
        rows.append([f"soak {args.soak}s RSS growth, no plugin / plugin (KiB/min)",
                     f"{fmt(summary['soak_plain_rss_growth_kb_per_min'], '.1f')} / "
                     f"{fmt(summary['soak_rss_growth_kb_per_min'], '.1f')}", "~0"])
    print()
    print(benchlib.table([f"scale: {ZONES:,} zones, {VIEWS} views, "
                          f"{VIEWS * PREFIXES_PER_VIEW} prefixes, interval "
                          f"{INTERVAL_MS} ms", "value", "goal"], rows))
    path = benchlib.save("scale", {"env": benchlib.environment(), "summary": summary,
                                   "runs": results}, args.out)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    sys.exit(main())
