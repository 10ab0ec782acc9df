# SPDX-License-Identifier: MPL-2.0
"""DNSSEC for the lab internet: keys, DS records, signing, a cache.

Zones are signed with BIND's dnssec-signzone (bind9-utils), ECDSA P-256
(algorithm 13): the root and the TLDs with a KSK and a ZSK, the other
zones with one combined key (a CSK, `-z`).  NSEC3 zones use no salt and
no extra iterations (RFC 9276), opt-out where the TLD says so.

Signatures are valid for less than a day around now, so that a node
whose clock is a day wrong, ahead or behind (libfaketime under its
named), fails validation as a real one would: time is cut into 6-hour
slots, and a zone signed in a slot is valid from an hour before the
slot to 18 hours after its start, that is from at least an hour before
now to at least 12 hours after (longer than a run's --max-seconds).

Signing is the slow part of bringing the internet up, so both keys and
signed zones are cached per machine (CACHE, or $AH_INTERNET_CACHE):

- keys, per zone, made once and never changed: a zone's key directory
  is made aside and renamed into place, so runs that race agree on the
  first one that lands;
- signed zones, by a hash of their text, keys and arguments (the
  slot's validity window among them), so at most once per slot; files
  two days old are removed.

Variants: 'good'; 'expired' (signatures that ended two days before the
slot, for the background's bogus domains and the fault switches), for
which dnssec-signzone's own verification is off (-P).  A 'ds-mismatch'
zone is signed well; its parent gets the DS of a key it does not
publish.
"""

import base64
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CACHE = Path(os.environ.get("AH_INTERNET_CACHE",
                            "/var/cache/anycast-health/internet"))
ALGORITHM = 13                          # ECDSAP256SHA256
SLOT = 6 * 3600
VARIANTS = {        # validity (from, to) in seconds from the slot's start
    "good": (-3600, 18 * 3600),
    "expired": (-12 * 86400, -2 * 86400),
}
NSEC3 = {"nsec3": ["-3", "-", "-H", "0"],
         "nsec3-optout": ["-3", "-", "-H", "0", "-A"]}


class Key:
    """One key: its file prefix (for dnssec-signzone), tag, flags and
    DNSKEY record."""

    def __init__(self, prefix):
        self.prefix = str(prefix)
        text = Path(self.prefix + ".key").read_text()
        rr = [ln for ln in text.splitlines() if ln and not ln.startswith(";")][-1]
        owner, _, _, flags, proto, alg, *key = rr.split()
        self.owner, self.flags = owner.lower(), int(flags)
        self.proto, self.alg = int(proto), int(alg)
        self.public = "".join(key)
        self.tag = int(self.prefix.rsplit("+", 1)[1])

    @property
    def dnskey(self):
        return f"{self.owner} 3600 IN DNSKEY {self.flags} {self.proto} {self.alg} {self.public}"

    def ds(self, ttl=3600):
        """The DS record (SHA-256) for this key."""
        rdata = struct.pack("!HBB", self.flags, self.proto, self.alg) + \
            base64.b64decode(self.public)
        digest = hashlib.sha256(wire(self.owner) + rdata).hexdigest().upper()
        return f"{self.owner} {ttl} IN DS {self.tag} {self.alg} 2 {digest}"


def wire(name):
    """A name in canonical wire form (lower case)."""
    out = b""
    for label in name.lower().rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def key_dir(zone, purpose="keys"):
    return CACHE / purpose / ("root" if zone == "." else zone.rstrip("."))


def keys(zone, split, purpose="keys"):
    """The zone's keys from the cache, made if missing: KSK and ZSK if
    split, else one CSK.  purpose 'ghost' is a second set, never
    published: the DS of a 'ds-mismatch' zone."""
    d = key_dir(zone, purpose)
    if not d.is_dir():
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=d.parent, prefix=".new-"))
        roles = (["-f", "KSK"], []) if split else (["-f", "KSK"],)
        for role in roles:
            subprocess.run(["dnssec-keygen", "-q", "-a", str(ALGORITHM), *role,
                            "-K", str(tmp), zone], check=True,
                           capture_output=True, text=True, timeout=60)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, d)
        except OSError:                 # another run made them first
            shutil.rmtree(tmp, ignore_errors=True)
    return sorted((Key(p.with_suffix("")) for p in d.glob("K*.key")),
                  key=lambda k: -k.flags)


def trust_anchor(root_keys):
    """named's trust-anchors clause for the lab root's KSK."""
    k = next(k for k in root_keys if k.flags == 257)
    return (f'trust-anchors {{\n\t. static-key {k.flags} {k.proto} {k.alg} '
            f'"{k.public}";\n}};\n')


def validity(variant, now=None):
    """dnssec-signzone's arguments for a variant's validity window."""
    slot = int(now if now is not None else time.time()) // SLOT * SLOT
    start, end = (time.strftime("%Y%m%d%H%M%S", time.gmtime(slot + t))
                  for t in VARIANTS[variant])
    return ["-s", start, "-e", end] + (["-P"] if variant != "good" else [])


def sign(name, text, zkeys, signing, variant, out):
    """Write the signed zone to `out`, from the cache when it holds it;
    return True if it had to be signed now."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown signing variant {variant!r}")
    split = any(k.flags == 256 for k in zkeys)
    args = ["-o", name, *NSEC3.get(signing, []), *([] if split else ["-z"]),
            *validity(variant)]
    h = hashlib.sha256("\n".join([text, *args, *(k.dnskey for k in zkeys)])
                       .encode()).hexdigest()
    cached = CACHE / "signed" / f"{h}.zone"
    out = Path(out)
    if cached.exists():
        shutil.copyfile(cached, out)
        return False
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".sign-") as tmp:
        src, dst = Path(tmp) / "zone", Path(tmp) / "signed"
        src.write_text(text + "\n" + "\n".join(k.dnskey for k in zkeys) + "\n")
        r = subprocess.run(["dnssec-signzone", "-q", *args, "-f", str(dst),
                            "-K", str(Path(zkeys[0].prefix).parent), str(src),
                            *(Path(k.prefix).name for k in zkeys)],
                           capture_output=True, text=True, timeout=120,
                           cwd=Path(zkeys[0].prefix).parent)
        if r.returncode != 0:
            raise RuntimeError(f"dnssec-signzone {name}: {r.stderr.strip()}")
        shutil.copyfile(dst, out)
        os.chmod(dst, 0o644)
        os.replace(dst, cached)
    return True


def sign_all(jobs, workers=None):
    """Sign many zones at once: jobs are sign()'s argument tuples.
    Returns (signed now, taken from the cache, seconds)."""
    t0 = time.monotonic()
    old = time.time() - 2 * 86400
    for f in (CACHE / "signed").glob("*.zone"):
        try:
            if f.stat().st_mtime < old:
                f.unlink()
        except FileNotFoundError:
            pass
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as ex:
        done = list(ex.map(lambda j: sign(*j), jobs))
    return sum(done), len(done) - sum(done), time.monotonic() - t0


def make_keys(zones, workers=None):
    """Keys for many zones at once: zones are keys()'s argument tuples;
    returns {(zone, purpose): [Key]}."""
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as ex:
        got = list(ex.map(lambda z: keys(*z), zones))
    return {(z[0], z[2] if len(z) > 2 else "keys"): k for z, k in zip(zones, got)}
