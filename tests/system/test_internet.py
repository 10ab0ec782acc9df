# SPDX-License-Identifier: MPL-2.0
"""The lab internet (lab/internet/): real name servers in network
namespaces, DNSSEC, uplink faults and resolver-like client traffic.

One internet with two standalone resolver nodes (Debian's named,
recursing from the lab root, validating with its trust anchor) serves
the whole module; each fault test switches its fault on, checks the
effect with names no earlier test asked for (a resolver's cache would
hide the fault), switches it off and checks that it is gone.  The
namespaces are checked to be gone at the end, also after a failure.
"""

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest

import lab
from lab import internet

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the lab internet needs root (it creates network namespaces); CI runs as root")


def namespaces(run_id=""):
    """`ip netns list`, the names of one lab run only if run_id is given
    (other labs may come and go on a shared machine meanwhile)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(ns for ns in (line.split()[0] for line in out.splitlines())
                  if ns.startswith(f"ahlab-{run_id}"))


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = internet.Internet(seed=1, resolvers=2, log=print,
                          save_to=tmp_path_factory.mktemp("internet"))
    assert namespaces(n.id) == []
    t0 = time.monotonic()
    try:
        n.up()
        n.up_seconds = time.monotonic() - t0
        assert len(namespaces(n.id)) == 1 + 5 + 2
        yield n
    finally:
        n.down()
        assert namespaces(n.id) == []


class Answer:
    def __init__(self, text, seconds):
        self.text, self.seconds = text, seconds
        self.status = self.flags = None
        self.records = []
        for line in text.splitlines():
            if "status: " in line:
                self.status = line.split("status: ")[1].split(",")[0]
            elif line.startswith(";; flags:"):
                self.flags = line.split(";")[2].split(":")[1].split()
            elif line and not line.startswith(";"):
                self.records.append(line.split())

    @property
    def ad(self):
        return "ad" in (self.flags or [])

    def __repr__(self):
        return f"<{self.status} {self.flags} {self.seconds:.2f}s {self.records}>"


def ask(net, qname, *args, node=0, time_limit=3):
    """dig against a resolver node; 'status' None when no answer came
    within time_limit seconds."""
    t0 = time.monotonic()
    out = net.resolvers[node].dig(f"+time={time_limit}", qname, *args,
                                  timeout=time_limit + 5)
    return Answer(out, time.monotonic() - t0)


def until(pred, timeout, interval=0.2):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(interval)


USED = set()


def fresh(net, *tags, tld=None):
    """A domain with these tags that no test has asked about yet."""
    for z in net.world.domains(*tags):
        if z.name in USED or z.broken or "dedicated" in z.tags:
            continue
        if tld and not z.name.endswith(f".{tld}."):
            continue
        USED.add(z.name)
        return z.name
    raise LookupError(f"no fresh domain tagged {tags} under {tld}")


# -- resolution ---------------------------------------------------------------


def test_up_quickly_and_signing_reported(net):
    assert net.up_seconds < 60, net.up_seconds
    s = net.signing
    print(f"up in {net.up_seconds:.1f} s; signed {s['signed']} zones now, "
          f"{s['cached']} from the cache, in {s['seconds']:.1f} s")
    assert s["signed"] + s["cached"] >= 50


def test_resolves_iteratively_from_the_lab_root(net):
    """No forwarders: the node's named starts from the hints file, and
    a name under a new TLD, a new domain and a name in the provider's
    zones make it ask the root, the registry and the provider."""
    conf = (net.resolvers[0].dir / "named.conf").read_text()
    assert "forward" not in conf and 'type hint;' in conf
    before = net.counters()
    a = ask(net, "www.popular.com")
    assert a.status == "NOERROR" and a.ad, a
    assert ask(net, "no-such-tld-here").status == "NXDOMAIN"
    assert ask(net, f"www.{fresh(net, 'provider', tld='org')}").status == "NOERROR"
    after = net.counters()
    for op in ("root", "registry", "dnsprov", "hosting"):
        assert after[f"to {op}"] > before[f"to {op}"], (op, before, after)
    assert after["from n1"] > before["from n1"]


def test_both_nodes_resolve_and_name_themselves(net):
    for i, r in enumerate(net.resolvers):
        a = ask(net, "popular.com", "MX", "+nsid", node=i)
        assert a.status == "NOERROR" and a.ad, a
        assert 'NSID: ' in a.text and f'("{r.name}")' in a.text, a.text


def test_attach_a_node_of_another_run(net, tmp_path):
    """A node made elsewhere (as the fleet's are: the anycast address on
    lo) gets an uplink, and a named.conf of its own with the options
    attach() gives and an include of its statements resolves."""
    ns = f"ahlab-{net.id}x-node"
    d = Path(f"/tmp/{ns}")
    named = None
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        d.mkdir()
        shutil.chown(d, "bind", "bind")
        subprocess.run(["ip", "-n", ns, "-batch", "-"], check=True, text=True,
                       input="link set lo up\naddr add 192.0.2.53/32 dev lo\n")
        cfg = net.attach(ns, 9)
        (d / "named.conf").write_text(f"""options {{
	directory "{d}";
	pid-file "{d}/named.pid";
	{lab.lock_file_statement(d / "named.lock")}
	session-keyfile "{d}/session.key";
	listen-on {{ 192.0.2.53; }};
	listen-on-v6 {{ none; }};
	allow-recursion {{ any; }};
{cfg.options}}};
include "{cfg.include}";
""")
        named = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/sbin/named", "-g",
                                  "-u", "bind", "-c", str(d / "named.conf")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dig = ["ip", "netns", "exec", ns, "dig", "@192.0.2.53", "+time=2",
               "+tries=1", "www.popular.com"]
        out = until(lambda: "status: NOERROR" in (o := subprocess.run(
            dig, capture_output=True, text=True).stdout) and o, 15)
        assert out and " ad" in out.split(";; flags:")[1].split(";")[0], out
        assert cfg.uplink.v4 == "192.0.2.201"
    finally:
        if named is not None:
            named.terminate()
            named.wait(10)
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(d, ignore_errors=True)


def test_cname_into_the_cdn(net):
    name = fresh(net, "cdn-customer")
    a = ask(net, f"www.{name}")
    assert a.status == "NOERROR", a
    types = [r[3] for r in a.records]
    assert types[:2] == ["CNAME", "CNAME"] and "A" in types, a
    assert a.records[0][4].endswith(".cdnkey.net.")
    assert a.records[1][4].endswith(".cdnedge.net.")
    assert int(a.records[2][1]) <= 20          # the edge's short TTL


def test_validation(net):
    """Signed: AD.  Unsigned: answered, no AD.  Expired signatures and a
    DS that matches no key: SERVFAIL, and with +cd the data."""
    signed = fresh(net, "provider")
    while not net.world.zones[signed].signing:
        signed = fresh(net, "provider")
    a = ask(net, f"www.{signed}")
    assert a.status == "NOERROR" and a.ad, a
    unsigned = next(z.name for z in net.world.domains()
                    if not z.signing and not z.broken and z.name not in USED)
    USED.add(unsigned)
    a = ask(net, unsigned)
    assert a.status == "NOERROR" and not a.ad, a
    for kind in ("expired", "ds-mismatch"):
        bad = net.world.pick(kind)
        a = ask(net, bad)
        assert a.status == "SERVFAIL", (kind, a)
        a = ask(net, bad, "+cd")
        assert a.status == "NOERROR" and a.records, (kind, a)


def test_signatures_valid_less_than_a_day_around_now(net):
    """A node whose clock is a day wrong, either way, must fail to
    validate (issue 13's catalogue): every signature's window is under
    a day and holds now."""
    a = ask(net, ".", "SOA", "+dnssec")
    sig = next(r for r in a.records if r[3] == "RRSIG")
    expire, incept = (time.mktime(time.strptime(x, "%Y%m%d%H%M%S")) - time.timezone
                      for x in sig[8:10])
    now = time.time()
    assert now - 86400 < incept < now - 600, sig
    assert now + 3600 < expire < now + 86400, sig
    assert expire - incept < 86400, sig


def test_broken_background(net):
    """Lame (REFUSED by the server named), gone (nothing listens) and
    unloadable (the server has it, broken: SERVFAIL) domains fail; a
    slow one answers, late."""
    w = net.world
    for kind in ("lame", "gone", "unloadable"):
        a = ask(net, f"www.{w.pick(kind)}")
        assert a.status == "SERVFAIL", (kind, a)
    z = w.zones[w.pick("unloadable")]
    out = subprocess.run(["ip", "netns", "exec", net.resolvers[0].netns, "dig",
                          f"@{z.ns[0].v4}", "+norec", "+time=2", z.name, "SOA"],
                         capture_output=True, text=True).stdout
    assert "status: SERVFAIL" in out, out
    z = w.zones[w.pick("lame")]
    out = subprocess.run(["ip", "netns", "exec", net.resolvers[0].netns, "dig",
                          f"@{z.ns[0].v4}", "+norec", "+time=2", z.name, "SOA"],
                         capture_output=True, text=True).stdout
    assert "status: REFUSED" in out, out
    a = ask(net, f"mail.{w.pick('slow')}")
    assert a.status == "NOERROR" and a.seconds >= net.slow_ms / 1000, a


# -- world-side faults -----------------------------------------------------------


def test_domain_dead(net):
    assert ask(net, "alive1.victim.com").status == "NXDOMAIN"
    net.domain_dead("victim.com.")
    try:
        a = ask(net, "dead1.victim.com", time_limit=2)
        assert a.status is None, a          # named is still trying (10 s)
        assert net.counters()["dead"] > 0
    finally:
        net.domain_dead("victim.com.", False)
    assert until(lambda: ask(net, "alive2.victim.com").status == "NXDOMAIN", 10)


def test_domain_slow(net):
    """Answers 2 s late: BIND 9.18 never waits that long for one server
    (its retries go every 0.8 s for the first rounds) and gives up at
    its 10 s limit, so the client sees nothing; 500 ms late answers
    arrive."""
    net.domain_slow("victim.com.", 500)
    try:
        a = ask(net, "slow1.victim.com")
        assert a.status == "NXDOMAIN" and a.seconds >= 0.5, a
        net.domain_slow("victim.com.", 2000)
        a = ask(net, "slow2.victim.com", time_limit=3)
        assert a.status is None, a
    finally:
        net.domain_slow("victim.com.", 0)
    a = until(lambda: ask(net, "fast1.victim.com"), 12)
    assert a.status == "NXDOMAIN" and a.seconds < 0.5, a


def test_domain_bogus(net):
    name = net.world.pick("bogus-target")
    a = ask(net, f"www.{name}")
    assert a.status == "NOERROR" and a.ad, a
    net.domain_bogus(name)
    try:
        assert ask(net, f"bogus1.{name}").status == "SERVFAIL"
        assert ask(net, f"mail.{name}").status == "SERVFAIL"
        assert ask(net, f"mail.{name}", "+cd").status == "NOERROR"
    finally:
        net.domain_bogus(name, False)
    a = until(lambda: ask(net, f"good1.{name}", "AAAA"), 10)
    assert a.status == "NXDOMAIN" and a.ad, a


def test_tld_dead(net):
    before, after = fresh(net, tld="nl"), fresh(net, tld="nl")
    net.tld_dead("nl")
    try:
        a = ask(net, before, time_limit=2)
        assert a.status is None, a
    finally:
        net.tld_dead("nl", False)
    a = until(lambda: ask(net, after).status == "NOERROR", 10)
    assert a


def test_tld_bogus(net):
    """The TLD's signatures expired: a delegation fetched from it now is
    bogus, signed child or not (the proof of no DS is bogus too)."""
    names = [fresh(net, tld="de") for _ in range(2)]
    # With the TLD's DNSKEY validated before, only what is fetched
    # during the fault is bogus.  (Fetched during it, the DNSKEY itself
    # would stay in BIND's bad cache for about 30 s after the fault.)
    assert ask(net, "de", "SOA").status == "NOERROR"
    t0 = time.monotonic()
    net.tld_bogus("de")
    print(f"de re-signed and reloaded in {time.monotonic() - t0:.2f} s")
    try:
        assert ask(net, names[0]).status == "SERVFAIL"
    finally:
        net.tld_bogus("de", False)
    assert until(lambda: ask(net, names[1]).status == "NOERROR", 10)


def test_provider_dead(net):
    names = [fresh(net, "provider") for _ in range(2)]
    net.provider_dead()
    try:
        assert ask(net, f"www.{names[0]}", time_limit=2).status is None
        # Other domains still resolve.
        assert ask(net, f"mail.{fresh(net, tld='org')}").status == "NOERROR"
    finally:
        net.provider_dead(False)
    assert until(lambda: ask(net, f"www.{names[1]}").status == "NOERROR", 10)


def test_cdn_dead(net):
    names = [fresh(net, "cdn-customer") for _ in range(2)]
    net.cdn_dead()
    try:
        a = ask(net, f"www.{names[0]}", time_limit=2)
        assert a.status is None, a
        assert ask(net, f"mail.{names[0]}").status == "NOERROR"
    finally:
        net.cdn_dead(False)
    assert until(lambda: ask(net, f"www.{names[1]}").status == "NOERROR", 10)


def test_switches_are_quick(net):
    """Every switch but re-signing takes well under a second."""
    for on, off in ((lambda: net.uplink_loss(2, 10), lambda: net.uplink_loss(2, 0)),
                    (lambda: net.uplink_delay(2, 100), lambda: net.uplink_delay(2, 0)),
                    (lambda: net.provider_dead(), lambda: net.provider_dead(False)),
                    (lambda: net.domain_slow("victim.com.", 100),
                     lambda: net.domain_slow("victim.com.", 0))):
        for f in (on, off):
            t0 = time.monotonic()
            f()
            assert time.monotonic() - t0 < 1.0


# -- uplink faults ---------------------------------------------------------------


def probe(net, node, count, timeout=2.0, qps=500):
    """Queries from the node itself straight to victim.com's server, one
    try each: how many came back, and their round trips."""
    r = net.resolvers[node - 1]
    server = net.world.zones["victim.com."].ns[0].v4
    run = net.traffic(r.netns, [server], qps=qps, seconds=count / qps,
                      count=count, timeout=timeout, attempts=1, v6_share=0)
    s = run.wait(60)
    rtts = [float(x["recv"]) - float(x["sent"]) for x in run.rows() if x["recv"]]
    return s, rtts


def test_uplink_loss(net):
    """30 % of packets dropped each way: a query and its answer both
    get through 0.7 x 0.7 = 49 % of the time."""
    net.uplink_loss(1, 30)
    try:
        s, _ = probe(net, 1, 2000)
        c = net.counters()
    finally:
        net.uplink_loss(1, 0)
    share = s["answered"] / s["queries"]
    print(f"30 % loss: {share:.1%} of 2000 round trips; dropped {c['loss n1']}")
    assert 0.43 < share < 0.55, s
    # Of the 2000 queries ~600 and of the ~1400 answers ~420 dropped.
    assert 850 < c["loss n1"] < 1200, c
    s, _ = probe(net, 1, 500)
    assert s["answered"] == s["queries"], s


def test_uplink_delay(net):
    s, base = probe(net, 1, 300)
    net.uplink_delay(1, 300)
    try:
        s2, slow = probe(net, 1, 1000)
    finally:
        net.uplink_delay(1, 0)
    added = statistics.median(slow) - statistics.median(base)
    print(f"300 ms delay: median RTT {statistics.median(base) * 1000:.1f} -> "
          f"{statistics.median(slow) * 1000:.1f} ms, p99 "
          f"{sorted(slow)[int(len(slow) * 0.99)] * 1000:.1f} ms; "
          f"{net.delay_cmd('stats')}")
    assert s2["answered"] == s2["queries"], s2
    assert 0.295 < added < 0.32, added
    _, after = probe(net, 1, 300)
    assert statistics.median(after) < 0.05


def test_uplink_down_and_client_retries(net):
    """Node 1 cut off: its clients' uncached lookups time out, are sent
    again once (glibc-like, scaled to 0.5 s x 2) and are lost; node 2
    still resolves."""
    net.uplink_down(1)
    try:
        run = net.traffic(net.resolvers[0].netns, ["127.0.0.1"], qps=100,
                          seconds=2, timeout=0.5, attempts=2)
        s = run.wait(30)
        rows = run.rows()
        a = ask(net, f"www.{fresh(net, 'provider')}", node=1)
        assert a.status == "NOERROR", a
    finally:
        net.uplink_down(1, False)
    lost = [x for x in rows if x["rcode"] == "lost"]
    assert lost and all(x["tries"] == "2" for x in lost), s
    assert s["lost"] > s["queries"] * 0.3, s
    assert until(lambda: ask(net, f"www.{fresh(net, 'provider')}").status == "NOERROR", 10)


# -- traffic -----------------------------------------------------------------------


def test_traffic_rate_and_mix(net):
    """1,000 queries/s for 8 s against node 2: the rate is reached, and
    the rcode and type shares are the population's."""
    run = net.traffic(net.resolvers[1].netns, ["127.0.0.1", "::1"], qps=1000,
                      seconds=8)
    s = run.wait(60)
    rc, types = net.expected_mix()
    got = {k: 100 * v / s["queries"] for k, v in s["rcodes"].items()}
    print(f"traffic: {s['qps']} q/s, rcodes {got}, expected {rc}; late {s['late_ms']}")
    assert s["qps"] >= 950, s
    assert s["nodes"] == {"r2": s["answered"]}, s["nodes"]
    assert s["lost"] <= s["queries"] * 0.01, s
    assert abs(got.get("NXDOMAIN", 0) - rc["NXDOMAIN"]) < 2.5, (got, rc)
    assert abs(got.get("SERVFAIL", 0) - rc["SERVFAIL"]) < 1.5, (got, rc)
    for t, share in types.items():
        n = sum(s["types"].get(t, {}).values())
        assert abs(100 * n / s["queries"] - share) < 2.0, (t, n, share)


def test_attack_traffic(net):
    """A random-subdomain attack at 3 x the normal rate: fresh names
    under the victim, answered NXDOMAIN by its servers."""
    run = net.traffic(net.resolvers[1].netns, ["127.0.0.1"], qps=150, seconds=4,
                      attack=3)
    s = run.wait(60)
    attack = sum(s["kinds"]["attack"].values())
    normal = s["queries"] - attack
    print(f"attack: {attack} attack queries beside {normal} normal ones")
    assert 2.5 < attack / normal < 3.5, s
    assert s["kinds"]["attack"].get("NXDOMAIN", 0) > attack * 0.95, s


def test_traffic_stopped_as_it_starts(net):
    """A run told to stop the moment it starts (the catalogue's last
    stretch, stopped by its teardown) stops sending and ends with its
    summary; SIGUSR1 before its handler killed it ("traffic failed")."""
    for _ in range(3):
        run = net.traffic(net.resolvers[1].netns, ["127.0.0.1"], qps=100,
                          seconds=60)
        run.stop_sending()
        s = run.wait(30)
        assert s["queries"] < 100 * 10, s


# -- cleanup -------------------------------------------------------------------------


def test_failed_start_leaves_nothing(monkeypatch):
    """A start that fails half way removes what it made."""
    n = internet.Internet(seed=1)

    def broken(op):
        raise RuntimeError("injected")
    monkeypatch.setattr(n, "_start_knot", broken)
    with pytest.raises(RuntimeError, match="injected"):
        with n:
            pass
    assert namespaces(n.id) == []
    assert not n.dir.exists()


def test_fleet_cleanup_spares_a_live_internet(net):
    """lab/netns.py's cleanup of crashed labs sees this internet's record
    and leaves it alone while its owner lives."""
    assert net.id not in internet.internet.cleanup(detached=False, log=print)
    assert net.router in namespaces()
