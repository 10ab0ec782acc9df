# SPDX-License-Identifier: MPL-2.0
"""The plugin's groups of names on real named (issue 13, defect 4 and
the public suffix levels): failures and recursions counted under the
registrable domain and public suffix of the name being resolved when
they happened, by Debian's public suffix list."""

import socket
import subprocess
import time

import dns.message
import dns.rcode

import lab
from lab.feed import Subscriber

KINDS = ("fail", "rstart", "rdone", "rok", "rbad", "rtmo", "rval")
LEVELS = {"domains": "dom", "suffixes": "sfx"}
SAMPLES = {"domain": "dom", "suffix": "sfx"}


def bucket(name):
    """The plugin's bucket of a domain or suffix: FNV-1a mod 16."""
    h = 2166136261
    for c in name.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h % 16


class Groups:
    """A subscriber that keeps the groups' counters and sample names."""

    def __init__(self, path):
        self.sub = Subscriber(path)
        assert self.sub.record()[0] == "hello"
        self.samples = {"dom": {}, "sfx": {}}

    def snapshot(self):
        counts = {}
        while True:
            typ, kv = self.sub.record()
            if typ == "tick":
                return counts
            if typ in LEVELS and kv["kind"] in KINDS:
                for b in range(16):
                    counts[(LEVELS[typ], kv["kind"], b)] = int(kv[f"b{b}"])
            elif typ in SAMPLES:
                self.samples[SAMPLES[typ]][int(kv["bucket"])] = kv["name"]


def ask(named, names, timeout=10):
    """One A query each, in parallel; their rcodes."""
    got = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        for i, n in enumerate(names):
            s.sendto(dns.message.make_query(n, "A", id=i).to_wire(),
                     ("127.0.0.1", named.port))
        while len(got) < len(names):
            r = dns.message.from_wire(s.recv(4096))
            got[names[r.id]] = r.rcode()
    return got


def grown(groups, base, want):
    """Waits until every counter in 'want' has grown by its amount;
    returns the growth of all of them."""
    def done():
        c = groups.snapshot()
        d = {k: c[k] - base[k] for k in c}
        return d if all(d[k] >= n for k, n in want.items()) else None
    return lab.wait_for(done, 10, interval=0, what="the groups to count")


def resolver(stack):
    upstream = lab.FakeUpstream()
    stack.procs.append(upstream)
    named = lab.resolver(stack, upstream.port).start()
    return upstream, named


def test_cname_failure_counts_under_the_target(stack):
    """A customer's alias that named follows into a dead CDN: the alias
    resolved (its recursion succeeded), the CDN's did not.  The SERVFAIL
    answer and the failed recursion are the CDN's, under its registrable
    domain and suffix, not the customer's, so a CDN reached from many
    customers is one group that fails, not every group."""
    upstream, named = resolver(stack)
    upstream.cnames = {"shop.example.co.uk": "edge.cdn-edge.net"}
    upstream.broken = {"cdn-edge.net": "servfail"}
    alias, target = bucket("example.co.uk"), bucket("cdn-edge.net")
    uk, net = bucket("co.uk"), bucket("net")
    assert alias != target and uk != net
    groups = Groups(named.socket)
    base = groups.snapshot()
    tag = time.monotonic_ns()
    names = [f"w{i}-{tag}.shop.example.co.uk" for i in range(10)]
    assert set(ask(named, names).values()) == {dns.rcode.SERVFAIL}
    d = grown(groups, base, {("dom", "fail", target): 10,
                             ("dom", "rbad", target): 10,
                             ("dom", "rok", alias): 10})
    # The failures: all the target's, at both levels.
    assert d[("dom", "fail", target)] == 10, d
    assert d[("dom", "fail", alias)] == 0, d
    assert d[("sfx", "fail", net)] == 10 and d[("sfx", "fail", uk)] == 0, d
    # Each name resolved once as the alias, and failed once as the target.
    assert d[("dom", "rstart", alias)] == d[("dom", "rok", alias)] == 10, d
    assert d[("dom", "rbad", alias)] == 0, d
    assert d[("dom", "rstart", target)] == d[("dom", "rbad", target)] == 10, d
    assert d[("dom", "rok", target)] == 0, d
    assert d[("sfx", "rok", uk)] == 10 and d[("sfx", "rbad", net)] == 10, d
    assert groups.samples["dom"].get(target) == "cdn-edge.net", groups.samples
    assert groups.samples["sfx"].get(net) == "net", groups.samples


def test_failures_are_counted_by_cause(stack, tmp_path):
    """What the servers gave (here SERVFAIL), a timeout, and validation
    are told apart in each group: a node resolves the first no better
    than any other, while its clock, trust anchor or uplink give the
    other two (doc/fleet.md, section 4).  named validates one domain
    under a trust anchor that the unsigned upstream cannot meet; the
    silent domain's recursions end at named's resolver-query-timeout
    (10 s, its least)."""
    upstream = lab.FakeUpstream()
    stack.procs.append(upstream)
    named = lab.resolver(stack, upstream.port)
    key = subprocess.run(
        ["dnssec-keygen", "-q", "-K", str(tmp_path), "-a",
         "ECDSAP256SHA256", "-f", "KSK", "signed.test"],
        capture_output=True, text=True, check=True, timeout=30).stdout
    line = next(l for l in (tmp_path / f"{key.strip()}.key").read_text()
                .splitlines() if " DNSKEY " in l)
    flags, proto, alg, *data = line.split(" DNSKEY ", 1)[1].split()
    named.conf.write_text(named.conf.read_text().replace(
        "dnssec-validation no;", "dnssec-validation yes;").replace(
        "options {", f"""trust-anchors {{ "signed.test." static-key {flags} \
{proto} {alg} "{''.join(data)}"; }};
options {{""", 1))
    named.start()
    upstream.broken = {"refusing.net": "servfail", "dead.org": "silent"}
    groups = Groups(named.socket)
    base = groups.snapshot()
    tag = time.monotonic_ns()
    asked = {d: [f"w{i}-{tag}.{d}" for i in range(5)]
             for d in ("refusing.net", "dead.org", "signed.test")}
    got = ask(named, sum(asked.values(), []), timeout=20)
    assert set(got.values()) == {dns.rcode.SERVFAIL}, got
    b = {d: bucket(d) for d in asked}
    assert len(set(b.values())) == 3, b
    d = grown(groups, base, {("dom", "rbad", b[x]): 5 for x in asked})
    assert d[("dom", "rtmo", b["dead.org"])] == 5, d
    assert d[("dom", "rval", b["dead.org"])] == 0, d
    assert d[("dom", "rval", b["signed.test"])] == 5, d
    assert d[("dom", "rtmo", b["signed.test"])] == 0, d
    assert d[("dom", "rtmo", b["refusing.net"])] == 0, d
    assert d[("dom", "rval", b["refusing.net"])] == 0, d


def test_groups_follow_the_public_suffix_list(stack):
    """Registrable domains by the list's ICANN section (co.uk is one
    suffix, blogspot.com's customers are blogspot.com), its exceptions
    (city.kawasaki.jp under *.kawasaki.jp), a TLD the list does not
    know is its own suffix, and a long name is grouped by its tail."""
    upstream, named = resolver(stack)
    cases = {  # a failing name: (its domain, its suffix)
        "a.b.shop.example.co.uk": ("example.co.uk", "co.uk"),
        "x.blogspot.com": ("blogspot.com", "com"),
        "q.d3.test": ("d3.test", "test"),
        "a.b.c.d.e.f.g.h.i.j.shop.ac.uk": ("shop.ac.uk", "ac.uk"),
        "www.city.kawasaki.jp": ("city.kawasaki.jp", "kawasaki.jp"),
    }
    assert len({bucket(d) for d, _ in cases.values()}) == len(cases)
    assert len({bucket(s) for _, s in cases.values()}) == len(cases)
    upstream.broken = {n: "servfail" for n in cases}
    groups = Groups(named.socket)
    base = groups.snapshot()
    tag = time.monotonic_ns()
    names = [f"n{tag}.{n}" for n in cases]
    assert set(ask(named, names).values()) == {dns.rcode.SERVFAIL}
    grown(groups, base, {("dom", "fail", bucket(d)): 1
                         for d, _ in cases.values()})
    for name, (domain, suffix) in cases.items():
        assert groups.samples["dom"].get(bucket(domain)) == domain, \
            (name, groups.samples)
        assert groups.samples["sfx"].get(bucket(suffix)) == suffix, \
            (name, groups.samples)


def test_views_share_one_public_suffix_list(stack):
    """Issue 14, memory with many views: named registers one plugin
    instance per view, and each read the list for itself (56 KiB each,
    3.5 MiB for 64 views).  The list is read once for every view, and a
    reconfig reads it again only if the file changed."""
    named = lab.Named(stack)
    body, plugin, zone = named.sections()
    for v in range(4):
        body += f"""
view "v{v}" {{
    match-clients {{ {"127.0.0.1" if v == 0 else "127.0.0." + str(10 + v)}; }};
    {plugin}
    {zone if v == 0 else ""}
}};
"""
    named.conf.write_text(body)
    named.start()
    read = "public suffix list read"
    assert named.proc.text().count(read) == 1, named.proc.text()
    for _ in range(2):
        r = named.rndc("reconfig")
        assert r.returncode == 0, r.stderr
    lab.wait_for(lambda: named.proc.text().count("publishing on") == 12, 10,
                 what="the instances of two reconfigs registered")
    assert named.proc.text().count(read) == 1, named.proc.text()
    # The views still count by the list: the groups answer as before.
    assert Subscriber(named.socket).record()[0] == "hello"
