# SPDX-License-Identifier: MPL-2.0
"""The lab internet's contents: who serves what, generated from a seed.

Pure data, no processes: `World(seed, domains)` decides every name
server, every zone and its records, which zones are signed and how
badly, and the query population the traffic generator draws from.  The
same seed always gives the same world, so a test or a catalogue run can
name what it breaks ("victim.com", "the provider") and get it again.

Operators (each one Knot process in a network namespace of its own):

  root      the root zone and root-servers.net (a., b.root-servers.net)
  registry  the TLDs (com, net, org, nl, de, uk with co.uk and org.uk,
            test, arpa), nic.TLD, and the reverse zones (ns1,
            ns2.rir.net)
  dnsprov   a DNS provider: ns1-4.dnsprov.net serve `provider_share` of
            the domains
  cdn       a CDN: customers' www names are CNAMEs to NAME.cdnkey.net,
            which are CNAMEs to edge names in cdnedge.net (TTL 20)
  hosting   eight hosters (ns1, ns2.hostK.TLD) serving most other
            domains, a slow hoster, and the dedicated servers of
            popular.com and victim.com

The background of broken domains (shares of `domains`, rounded up):
lame (delegated to a hoster that does not serve them: REFUSED), gone
(delegated to an address nothing answers: ICMP port unreachable),
unloadable (configured on a hoster, zone file broken: SERVFAIL),
expired (RRSIGs expired), ds-mismatch (the parent's DS matches no key),
slow (on the slow hoster, whose answers the internet router delays).
Their popularity ranks are placed so that together they draw
`servfail_share` of the lookups (1.1.1.1's published baseline, 3 %).

Addresses: documentation space only (lab/README.md, "The internet"):
servers 192.0.2.130-191 and 2001:db8:e::130-191 (the same digits),
the internet router 192.0.2.129, node I's uplink 192.0.2.(192+I).
"""

import ipaddress
import random
from dataclasses import dataclass, field

V4, V6 = "192.0.2.", "2001:db8:e::"
ROUTER4, ROUTER6 = V4 + "129", V6 + "129"
NETS = ("192.0.2.128/25", "2001:db8:e::/48")
FIRST_SERVER, LAST_SERVER = 130, 191
MAX_NODES = 62                          # uplinks 192.0.2.193..254

# Each TLD's signing, and the share of the domains registered under it.
# Registrations are under the TLDs and, as in .uk, under second-level
# public suffixes (co.uk, org.uk), which the judge's grouping by
# registrable domain (libpsl) must see through.
TLD_SIGNING = {"com": "nsec3-optout", "net": "nsec3-optout", "org": "nsec",
               "nl": "nsec3", "de": "nsec3", "uk": "nsec3-optout",
               "co.uk": "nsec3-optout", "org.uk": "nsec3-optout",
               "test": None, "arpa": "nsec"}
REGISTRATIONS = {"com": 40, "net": 10, "org": 10, "nl": 10, "de": 12,
                 "co.uk": 7, "org.uk": 3, "test": 8}
# Share of each TLD's domains that are signed (for .nl, most are).
SIGNED_SHARE = {"com": 10, "net": 10, "org": 15, "nl": 60, "de": 20,
                "co.uk": 10, "org.uk": 10, "test": 0}
OPERATORS = ("root", "registry", "dnsprov", "cdn", "hosting")
BROKEN = {          # kind: share of the domains in %, expected rcode
    "lame": (2, "SERVFAIL"),
    "gone": (1, "SERVFAIL"),
    "unloadable": (1, "SERVFAIL"),
    "expired": (1, "SERVFAIL"),
    "ds-mismatch": (1, "SERVFAIL"),
    "slow": (2, "NOERROR"),
}
HOSTERS = 8
ZIPF = 0.9
TTL, NEG_TTL, EDGE_TTL = 300, 300, 20

# What clients ask about a name, by the name's role: (qtype, weight),
# 'addr' being a getaddrinfo() lookup, A and AAAA in parallel.
ASKS = {
    "www": (("addr", 85), ("HTTPS", 15)),
    "apex": (("addr", 50), ("MX", 20), ("TXT", 15), ("NS", 5),
             ("HTTPS", 10)),
    "mail": (("addr", 100),),
    "_dmarc": (("TXT", 100),),
    "api": (("addr", 100),),
}
# A domain's names and their share of the domain's lookups.
HOST_SHARE = (("www", 55), ("apex", 25), ("mail", 10), ("api", 4),
              ("_dmarc", 6))
# Lookups that end in NXDOMAIN, beside the broken domains' failures, as
# shares of all lookups (lab/README.md: where the figures come from).
NX_SHARE = {"typo-host": 1.5, "typo-domain": 1.0, "probe": 2.0}
PTR_SHARE = 6.0                         # half of them find no PTR


@dataclass(frozen=True)
class Host:
    """One name server address: its name and both addresses."""
    name: str
    v4: str
    v6: str


@dataclass
class Zone:
    name: str                       # absolute, "." for the root
    operator: str | None            # whose Knot serves it (None: nobody)
    ns: list                        # Hosts of its NS set
    records: list = field(default_factory=list)     # zone-file lines
    signing: str | None = None      # nsec, nsec3, nsec3-optout
    broken: str | None = None       # a BROKEN kind
    tags: set = field(default_factory=set)
    rank: int = 0                   # popularity (1 = most), domains only
    api: bool = False               # has api.NAME (else NXDOMAIN)
    web: tuple = ()                 # its web server's addresses (data)


@dataclass(frozen=True)
class Ask:
    """One entry of the query population: a name (a template: '{r}' is
    replaced by a fresh random label), the type asked ('addr': A and
    AAAA in parallel), its share of the lookups in per cent, what kind
    of name it is, and the answer a healthy resolver gives."""
    qname: str
    qtype: str
    weight: float
    kind: str
    expect: str


def absname(*labels):
    return ".".join(x.strip(".") for x in labels if x not in ("", ".")) + "."


def ptr4(addr):
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa."


def ptr6(addr):
    return ipaddress.ip_address(addr).reverse_pointer + "."


class World:
    """Everything the lab internet serves, from `seed`."""

    def __init__(self, seed=1, domains=400, provider_share=40, cdn_share=10,
                 servfail_share=3.0):
        if not 50 <= domains <= 5000:
            raise ValueError("domains must be 50..5000")
        if not 0 <= provider_share <= 100 or not 0 <= cdn_share <= 100:
            raise ValueError("provider_share and cdn_share are per cent")
        self.seed, self.ndomains = seed, domains
        self.provider_share, self.cdn_share = provider_share, cdn_share
        self.servfail_share = servfail_share
        self.rng = random.Random(seed)
        self.hosts = {}                 # operator -> [Host]
        self.zones = {}                 # name -> Zone
        self._next = FIRST_SERVER
        self._web = 0
        self._labels = set()
        self._infrastructure()
        self._domains()
        self._fill()

    # -- addresses and names ---------------------------------------------

    def _host(self, operator, name):
        if self._next > LAST_SERVER:
            raise RuntimeError("out of server addresses (192.0.2.130-191)")
        h = Host(name, f"{V4}{self._next}", f"{V6}{self._next}")
        self._next += 1
        self.hosts.setdefault(operator, []).append(h)
        return h

    def _web_addr(self):
        """A web server's addresses: data only, nothing is there."""
        self._web += 1
        n = self._web
        return f"203.0.113.{10 + n % 190}", f"2001:db8:e:80::{n:x}"

    def _label(self):
        syll = ("ba", "ko", "ri", "te", "mu", "sa", "lo", "ne", "vi", "da",
                "pe", "zu", "ka", "fo", "mi", "ta", "ge", "ro", "nu", "xi")
        while True:
            s = "".join(self.rng.choice(syll)
                        for _ in range(self.rng.choice((2, 3, 3, 4))))
            if s not in self._labels:
                self._labels.add(s)
                return s

    def _zone(self, name, operator, ns, **kw):
        z = Zone(name, operator, ns, **kw)
        self.zones[name] = z
        return z

    # -- who serves what -----------------------------------------------------

    def _infrastructure(self):
        root = [self._host("root", f"{x}.root-servers.net.") for x in "ab"]
        self._zone(".", "root", root, signing="nsec", tags={"root"})
        self._zone("root-servers.net.", "root", root, tags={"infra"})
        self.tld_hosts = {}
        for tld in ("com", "net", "org", "nl", "de", "uk", "test", "arpa"):
            ns = [self._host("registry", f"{x}.nic.{tld}.") for x in "ab"]
            self.tld_hosts[tld] = ns
            self._zone(absname(tld), "registry", ns,
                       signing=TLD_SIGNING[tld], tags={"tld"})
            self._zone(absname("nic", tld), "registry", ns, tags={"infra"})
        for sld in ("co.uk", "org.uk"):
            self.tld_hosts[sld] = self.tld_hosts["uk"]
            self._zone(absname(sld), "registry", self.tld_hosts["uk"],
                       signing=TLD_SIGNING[sld], tags={"tld"})
        rir = [self._host("registry", f"ns{i}.rir.net.") for i in (1, 2)]
        self._zone("rir.net.", "registry", rir, signing="nsec", tags={"infra"})
        for rev in ("2.0.192.in-addr.arpa.", "113.0.203.in-addr.arpa.",
                    "e.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."):
            self._zone(rev, "registry", rir, signing="nsec", tags={"reverse"})
        self.provider = [self._host("dnsprov", f"ns{i}.dnsprov.net.")
                         for i in (1, 2, 3, 4)]
        self._zone("dnsprov.net.", "dnsprov", self.provider, signing="nsec",
                   tags={"infra"})
        cdn = [self._host("cdn", f"ns{i}.cdnedge.net.") for i in (1, 2)]
        self._zone("cdnedge.net.", "cdn", cdn, tags={"infra"})
        self._zone("cdnkey.net.", "cdn", cdn, tags={"infra"})
        self.hosters = []
        for k in range(1, HOSTERS + 1):
            hz = absname(f"host{k}", ("com", "net", "de", "nl")[k % 4])
            hs = [self._host("hosting", f"ns{i}.{hz}") for i in (1, 2)]
            self._zone(hz, "hosting", hs, tags={"infra"})
            self.hosters.append(hs)
        self.slow_hosts = [self._host("hosting", f"ns{i}.slowhost.net.")
                           for i in (1, 2)]
        self._zone("slowhost.net.", "hosting", self.slow_hosts, tags={"infra"})
        # An address on the hosting namespace that nothing listens on:
        # oldhost.net and the "gone" domains are delegated to it.
        self.gone_host = self._host("hosting", "ns1.oldhost.net.")
        self._zone("oldhost.net.", None, [self.gone_host], tags={"infra"})

    def _domains(self):
        rng, n = self.rng, self.ndomains
        special = {1: "popular.com.", 40: "victim.com."}
        kind_at = {r: k for k, rs in self._broken_ranks().items() for r in rs}
        registrations = [t for t, share in REGISTRATIONS.items()
                         for _ in range(share)]
        signed_tlds = [t for t in registrations if TLD_SIGNING[t]]
        for rank in range(1, n + 1):
            kind = kind_at.get(rank)
            if rank in special:
                name = special[rank]
            else:
                # A bogus signature needs a signed parent to be bogus.
                tlds = signed_tlds if kind in ("expired", "ds-mismatch") \
                    else registrations
                name = absname(self._label(), rng.choice(tlds))
            self._domain(name, rank, kind)
        target = [z for z in self.domains("provider")
                  if z.signing and not z.broken and "dedicated" not in z.tags]
        target[0].tags.add("bogus-target")

    def _broken_ranks(self):
        """Popularity ranks for the broken domains, such that the ones
        that fail (SERVFAIL) together draw servfail_share % of the
        domains' lookups: their ranks are spread evenly from a start rank
        to the last one, the start found by bisection.  The slow ones
        get random ranks among the rest."""
        n, rng = self.ndomains, self.rng
        counts = {k: max(1, -(-n * pct // 100)) for k, (pct, _) in BROKEN.items()}
        failing = [k for k in counts if BROKEN[k][1] == "SERVFAIL"]
        nfail = sum(counts[k] for k in failing)
        weight = [0.0] + [1 / r ** ZIPF for r in range(1, n + 1)]
        taken = {1, 40}

        def spread(start):
            step = (n - start) / max(1, nfail - 1)
            out = []
            for i in range(nfail):
                r = min(n, round(start + i * step))
                while r in taken or r in out:
                    r = r + 1 if r < n else 2
                out.append(r)
            return out

        lo, hi = 2, n - nfail
        target = self.servfail_share / 100 * sum(weight)
        while lo < hi:
            mid = (lo + hi) // 2
            if sum(weight[r] for r in spread(mid)) > target:
                lo = mid + 1
            else:
                hi = mid
        fail = spread(lo)
        rng.shuffle(fail)
        out = {}
        for k in failing:
            out[k], fail = fail[:counts[k]], fail[counts[k]:]
        used = taken.union(*out.values())
        out["slow"] = rng.sample([r for r in range(2, n + 1) if r not in used],
                                 counts["slow"])
        return out

    def _domain(self, name, rank, kind):
        rng = self.rng
        tld = name.split(".", 1)[1].rstrip(".")
        signing = "nsec" if rng.randrange(100) < SIGNED_SHARE[tld] else None
        operator, tags = "hosting", set()
        if rank == 1 or name == "victim.com.":
            label = name.split(".")[0]
            ns = [self._host("hosting", f"ns{i}.{name}") for i in (1, 2)]
            tags |= {label, "dedicated"}
            signing = "nsec" if rank == 1 else None
        elif kind == "slow":
            ns = self.slow_hosts
        elif kind == "gone":
            ns, operator = [self.gone_host], None
        elif rng.randrange(100) < self.provider_share:
            ns, operator = self.provider, "dnsprov"
            tags.add("provider")
        else:
            ns = rng.choice(self.hosters)
        if kind == "lame":
            operator = None
        if kind in ("expired", "ds-mismatch"):
            signing = "nsec"
        if kind is None and "dedicated" not in tags \
                and rng.randrange(100) < self.cdn_share:
            tags.add("cdn-customer")
        if kind:
            tags.add(kind)
        self._zone(name, operator, ns, signing=signing, broken=kind, tags=tags,
                   rank=rank, api=rng.randrange(100) < 30)

    # -- records -------------------------------------------------------------

    def _fill(self):
        """Every zone's records: SOA and NS, the address records of the
        name servers named inside it, the delegations to its children
        with glue (dnssec.py adds their DS), then the data."""
        for z in self.zones.values():
            tld = "tld" in z.tags
            neg = 86400 if z.name == "." else 900 if tld else NEG_TTL
            rname = "hostmaster." + (z.name if z.name != "." else "root-servers.net.")
            z.records = [f"{z.name} {TTL} IN SOA {z.ns[0].name} {rname} "
                         f"2026120401 7200 1800 1209600 {neg}"]
            nsttl = 518400 if z.name == "." else 86400 if tld else 3600
            z.records += [f"{z.name} {nsttl} IN NS {h.name}" for h in z.ns]
        for hosts in self.hosts.values():
            for h in hosts:
                self.zone_of(h.name).records += [f"{h.name} {TTL} IN A {h.v4}",
                                                 f"{h.name} {TTL} IN AAAA {h.v6}"]
        root = self.zones["."]
        for h in root.ns:                   # the root's glue, as the real one
            root.records += [f"{h.name} 518400 IN A {h.v4}",
                             f"{h.name} 518400 IN AAAA {h.v6}"]
        for z in sorted(self.zones.values(), key=lambda z: z.name):
            if z.name != ".":
                self._delegate(z)
        for z in self.domains():
            self._content(z)
        self._cdn()
        self._reverse()

    def zone_of(self, name):
        """The zone whose data holds `name` (the deepest zone above it)."""
        n = name
        while n not in self.zones:
            n = n.split(".", 1)[1] or "."
        return self.zones[n]

    def parent(self, z):
        return self.zone_of(z.name.split(".", 1)[1] or ".")

    def _delegate(self, z):
        parent = self.parent(z)
        ttl = 86400 if parent.name == "." else 3600
        parent.records += [f"{z.name} {ttl} IN NS {h.name}" for h in z.ns]
        for h in z.ns:
            if h.name.endswith("." + z.name):       # in-bailiwick: glue
                parent.records += [f"{h.name} {ttl} IN A {h.v4}",
                                   f"{h.name} {ttl} IN AAAA {h.v6}"]

    def _content(self, z):
        a4, a6 = z.web = self._web_addr()
        n = z.name
        z.records += [f"{n} {TTL} IN A {a4}", f"{n} {TTL} IN AAAA {a6}",
                      f"{n} {TTL} IN MX 10 mail.{n}",
                      f'{n} {TTL} IN TXT "v=spf1 mx -all"',
                      f"mail.{n} {TTL} IN A {a4}", f"mail.{n} {TTL} IN AAAA {a6}",
                      f'_dmarc.{n} {TTL} IN TXT "v=DMARC1; p=none"']
        if "cdn-customer" in z.tags:
            z.records.append(f"www.{n} {TTL} IN CNAME {self.cdn_alias(z)}")
        else:
            z.records += [f"www.{n} {TTL} IN A {a4}", f"www.{n} {TTL} IN AAAA {a6}",
                          f'www.{n} {TTL} IN HTTPS 1 . alpn="h2,h3"']
        if z.api:
            z.records.append(f"api.{n} {TTL} IN A {a4}")

    @staticmethod
    def cdn_alias(z):
        """The CDN's name a customer's www is a CNAME to."""
        return z.name.rstrip(".").replace(".", "-") + ".cdnkey.net."

    def _cdn(self):
        key, edge = self.zones["cdnkey.net."], self.zones["cdnedge.net."]
        for i, z in enumerate(self.domains("cdn-customer")):
            e = f"e{i + 1}.b.cdnedge.net."
            key.records.append(f"{self.cdn_alias(z)} {TTL} IN CNAME {e}")
            edge.records += [f"{e} {EDGE_TTL} IN A 203.0.113.{200 + i % 50}",
                             f"{e} {EDGE_TTL} IN AAAA 2001:db8:e:cd::{i + 1:x}"]

    def _reverse(self):
        v4 = self.zones["2.0.192.in-addr.arpa."]
        v6 = self.zones["e.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."]
        web = self.zones["113.0.203.in-addr.arpa."]
        for hosts in self.hosts.values():
            for h in hosts:
                v4.records.append(f"{ptr4(h.v4)} {TTL} IN PTR {h.name}")
                v6.records.append(f"{ptr6(h.v6)} {TTL} IN PTR {h.name}")
        seen = set()
        for z in self.domains():
            if z.web[0] not in seen:
                seen.add(z.web[0])
                web.records.append(f"{ptr4(z.web[0])} {TTL} IN PTR www.{z.name}")

    # -- questions -----------------------------------------------------------

    def domains(self, *tags):
        """The ordinary domains, most popular first, with every tag given."""
        return sorted((z for z in self.zones.values()
                       if z.rank and all(t in z.tags for t in tags)),
                      key=lambda z: z.rank)

    def pick(self, *tags):
        """The most popular domain with every tag given."""
        ds = self.domains(*tags)
        if not ds:
            raise KeyError(f"no domain tagged {', '.join(tags)}")
        return ds[0].name

    def population(self):
        """The query population: Asks whose weights sum to 100 (per cent
        of lookups).  Domains by Zipf popularity over their ranks; each
        domain's names and types by HOST_SHARE and ASKS; beside them the
        NXDOMAIN lookups of NX_SHARE and the PTR lookups."""
        doms = self.domains()
        zipf = {z.name: 1 / z.rank ** ZIPF for z in doms}
        total = sum(zipf.values())
        budget = 100.0 - sum(NX_SHARE.values()) - PTR_SHARE
        asks = []
        for z in doms:
            share = budget * zipf[z.name] / total
            expect = BROKEN[z.broken][1] if z.broken else "NOERROR"
            kind = z.broken or ("cdn" if "cdn-customer" in z.tags else "ok")
            for host, hshare in HOST_SHARE:
                qname = z.name if host == "apex" else f"{host}.{z.name}"
                k, e = kind, expect
                if host == "api" and not z.api and e == "NOERROR":
                    k, e = "nx", "NXDOMAIN"
                for qtype, tshare in ASKS[host]:
                    asks.append(Ask(qname, qtype, share * hshare * tshare / 1e4, k, e))
        healthy = [z for z in doms if not z.broken][:200]
        hw = sum(zipf[z.name] for z in healthy)
        for z in healthy:
            asks.append(Ask(f"{{r}}.{z.name}", "addr",
                            NX_SHARE["typo-host"] * zipf[z.name] / hw,
                            "nx", "NXDOMAIN"))
        for t in REGISTRATIONS:
            asks.append(Ask(f"{{r}}.{t}.", "addr",
                            NX_SHARE["typo-domain"] / len(REGISTRATIONS),
                            "nx", "NXDOMAIN"))
        asks.append(Ask("{r}.", "A", NX_SHARE["probe"], "nx", "NXDOMAIN"))
        found = [r.split()[0] for zn in ("2.0.192.in-addr.arpa.",
                                         "113.0.203.in-addr.arpa.")
                 for r in self.zones[zn].records if " PTR " in r]
        for p in found:
            asks.append(Ask(p, "PTR", PTR_SHARE / 2 / len(found), "ptr", "NOERROR"))
        # Reverse names of addresses no one named: NXDOMAIN.
        missing = [f"{i}.2.0.192.in-addr.arpa." for i in range(2, 102)]
        for p in missing:
            asks.append(Ask(p, "PTR", PTR_SHARE / 2 / len(missing), "nx", "NXDOMAIN"))
        return asks

    @staticmethod
    def attack(victim="victim.com."):
        """A random-subdomain attack's question: a fresh name under the
        victim each time, which its servers answer NXDOMAIN."""
        return Ask(f"{{r}}.{victim}", "A", 100.0, "attack", "NXDOMAIN")
