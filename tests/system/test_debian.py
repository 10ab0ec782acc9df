# SPDX-License-Identifier: MPL-2.0
"""The Debian package, installed the way an operator would.

A fresh Debian root (tests/roots/root SUITE-node: Debian's bind9,
exabgp, bird2, apparmor and systemd, nothing else) is booted with
systemd-nspawn; the steps of doc/guide.md Part 1 that are marked
`<!-- node-test: ... -->` run in it as written, and Debian's own
named.service and exabgp.service run the plugin and the relay.  BIRD
(bird.service) is the router, on the node's loopback.

The container has a network namespace of its own (--private-network):
its addresses, BGP sessions and named's traffic never leave it.  Its
root is a throwaway overlay (--volatile=overlay).

Needs root and a built package: CI runs tests/roots/build-deb SUITE DIR
and sets AH_DEB_DIR=DIR (AH_NODE_SUITE=SUITE, default bookworm).

The upgrade test starts another node from the release before this
tree's (tests/roots/previous-release: its package, built and cached by
tests/roots/previous-deb, and its guide's steps), and installs this
tree's package over it while named and ExaBGP run (doc/guide.md, 1.10).
"""

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import lab

SUITE = os.environ.get("AH_NODE_SUITE", "bookworm")
DEB_DIR = os.environ.get("AH_DEB_DIR", "")
GUIDE = lab.SRCDIR / "doc" / "guide.md"
ROOTS = lab.SRCDIR / "tests" / "roots"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def skip_reason():
    if os.geteuid() != 0:
        return "needs root: debootstrap, systemd-nspawn"
    if shutil.which("systemd-nspawn") is None:
        return "needs systemd-nspawn (systemd-container)"
    if not DEB_DIR:
        return ("needs the .deb: tests/roots/build-deb SUITE DIR, then "
                "AH_DEB_DIR=DIR (CI does this)")
    return None

# The router's side, which the guide leaves to Part 2: its addresses and
# the node's link addresses (conf/exabgp.conf's) on loopback, and BIRD
# importing what the node announces.  No kernel protocol.
ROUTER_SETUP = """
ip address add 192.0.2.1/32 dev lo
ip address add 192.0.2.10/32 dev lo
ip address add 2001:db8::1/128 dev lo nodad
ip address add 2001:db8::10/128 dev lo nodad
useradd --create-home alice
useradd --create-home bob
systemctl restart bird
"""
# BIRD logs every route it learns or loses ('debug routes'): the
# upgrade test counts the withdrawals.
BIRD_CONF = """
log syslog all;
router id 192.0.2.1;
protocol device {
}
protocol bgp node4 {
	local 192.0.2.1 as 65000;
	neighbor 192.0.2.10 as 65053;
	multihop;
	passive on;
	debug { states, routes };
	ipv4 { import all; export none; };
}
protocol bgp node6 {
	local 2001:db8::1 as 65000;
	neighbor 2001:db8::10 as 65053;
	multihop;
	passive on;
	debug { states, routes };
	ipv6 { import all; export none; };
}
"""
PREFIXES = ("192.0.2.53/32", "2001:db8::53/128")
AA_LOCAL = "/etc/apparmor.d/local/usr.sbin.named"

STEP = re.compile(r"^<!-- node-test: (run|check|as \w+|write \S+) -->\n"
                  r"```[a-z]*\n(.*?)^```$", re.M | re.S)


def guide_steps(guide=GUIDE):
    steps = [(m.group(1), m.group(2)) for m in STEP.finditer(guide.read_text())]
    assert steps, f"no node-test steps in {guide}"
    return steps


class Node:
    """A Debian root booted by systemd-nspawn, and commands run in it."""

    def __init__(self, root, workdir, binds=()):
        """binds: (host directory, path in the node), read-only, besides
        AH_DEB_DIR at /srv/deb."""
        self.machine = f"ah-{uuid.uuid4().hex[:10]}"
        self.logfile = workdir / "nspawn.log"
        self.leader = None
        with open(self.logfile, "w") as log:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--boot",
                 f"--directory={root}", "--volatile=overlay",
                 "--private-network", f"--machine={self.machine}",
                 # No systemd on the host to register with.
                 "--register=no", "--keep-unit", "--console=passive",
                 f"--bind-ro={DEB_DIR}:/srv/deb",
                 *(f"--bind-ro={src}:{dst}" for src, dst in binds)],
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.leader = lab.wait_for(self._leader, 30, 0.05,
                                       "the container's init")
            lab.wait_for(self._booted, 90, 0.2, "systemd to boot")
        except BaseException:
            if self.leader is not None:
                # What the boot waits on (the console shows too little).
                r = self.sh("systemctl is-system-running || :; "
                            "systemctl list-jobs --no-pager || :; "
                            "systemctl --failed --no-pager", check=False)
                print(r.stdout, r.stderr, self.log(), sep="\n")
            # No caller holds this node yet to stop it.
            self.stop()
            raise

    def _leader(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited: {self.log()}")
        return lab.container_leader(self.proc.pid)

    def _booted(self):
        # 'offline': systemctl cannot reach systemd yet.
        r = self.sh("systemctl is-system-running", check=False)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def sh(self, script, user=None, check=True, input=None, timeout=120):
        """Runs a shell script in the node, as root, or as USER in a
        login shell of USER's (runuser -l): USER's groups, home and the
        PATH a login gives (no sbin), as an operator would type it."""
        argv = ["nsenter", f"--target={self.leader}", "--mount", "--uts",
                "--ipc", "--net", "--pid", "--",
                "/usr/bin/env", "-i", f"PATH={PATH}", "LANG=C.UTF-8",
                "DEBIAN_FRONTEND=noninteractive"]
        if user is None:
            argv += ["HOME=/root", "/bin/sh", "-ec", f"cd /root\n{script}"]
        else:
            argv += ["runuser", "-l", user, "-c", f"set -e\n{script}"]
        r = subprocess.run(argv, capture_output=True, text=True,
                           input=input, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(
                f"in the node{' as ' + user if user else ''}: {script!r} "
                f"exited {r.returncode}\nstdout: {r.stdout}\n"
                f"stderr: {r.stderr}")
        return r

    def write(self, path, text):
        q = shlex.quote(path)
        self.sh(f'mkdir -p "$(dirname {q})" && cat >{q}', input=text)

    def route(self, prefix):
        r = self.sh(f"birdc show route for {prefix} all", check=False)
        return prefix in r.stdout

    def changes(self, prefix):
        """What BIRD logged of the prefix since it started, oldest
        first: 'added', 'removed', 'updated' (new attributes), or
        'ignored' (an UPDATE that changed nothing): any UPDATE that
        reached it."""
        log = self.sh("journalctl --no-pager -o cat -u bird").stdout
        return [w for line in log.splitlines() if f" {prefix} " in line
                for w in ("added", "removed", "updated", "ignored")
                if f"> {w} " in line]

    def pid(self, unit):
        pid = self.sh(f"systemctl show --property MainPID --value {unit}"
                      ).stdout.strip()
        assert pid not in ("", "0"), f"{unit} is not running"
        return int(pid)

    def relay(self):
        """The relay's pid as it answers on its control socket."""
        r = self.sh("anycastctl status | sed -n 's/^relay:.*, pid //p'",
                    check=False)
        return int(r.stdout) if r.stdout.strip() else None

    def parent(self, pid):
        return int(self.sh(f"ps -o ppid= -p {pid}").stdout)

    def plugin_file(self, pid):
        """The plugin named (pid) has mapped, as /proc shows it: the
        file's path, '(deleted)' after if dpkg has replaced it."""
        r = self.sh(f"grep -m1 '/anycast-health\\.so' /proc/{pid}/maps")
        return r.stdout.split(None, 5)[5].strip()

    def log(self):
        return self.logfile.read_text()[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            # nspawn halts the container on the first SIGTERM.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Left behind when /run is not a tmpfs nspawn may clean itself.
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{self.machine}",
                      ignore_errors=True)


def node_root():
    if skip_reason():
        pytest.skip(skip_reason())
    if not list(Path(DEB_DIR).glob("anycast-health_*.deb")):
        pytest.fail(f"no anycast-health_*.deb in AH_DEB_DIR={DEB_DIR}")
    return subprocess.run([str(ROOTS / "root"), f"{SUITE}-node"],
                          capture_output=True, text=True, check=True,
                          timeout=1800).stdout.strip()


def booted(n, deb, guide):
    """The node as an operator sets it up: the package 'deb' (a path in
    the node) and the steps of 'guide'; the routes up at BIRD."""
    # Answers apt's questions as an operator at a terminal would.
    n.write("/etc/apt/apt.conf.d/90assume-yes",
            'APT::Get::Assume-Yes "true";\n')
    n.write("/etc/bird/bird.conf", BIRD_CONF)
    n.sh(ROUTER_SETUP)
    # bind9's own, which removing the package must leave as it was.
    n.aa_local = n.sh(f"cat {AA_LOCAL}").stdout
    n.sh(f"cp {deb} /root/")
    # 'check' and 'as USER' steps run in the tests below, once the
    # routes are up: the relay announces after 'rise' snapshots.
    for kind, body in guide_steps(guide):
        if kind == "run":
            n.sh(body)
        elif kind.startswith("write "):
            n.write(kind.split()[1], body)


@contextlib.contextmanager
def booting(root, workdir, binds=()):
    """A Node, stopped whatever happens; its services' journal printed
    if the tests using it fail."""
    n = Node(root, workdir, binds)
    try:
        yield n
    except BaseException:
        print(n.sh("journalctl --no-pager -n 80 -u named -u exabgp -u bird",
                   check=False).stdout)
        raise
    finally:
        n.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with booting(node_root(), tmp_path_factory.mktemp("node")) as n:
        booted(n, "/srv/deb/anycast-health_*.deb", GUIDE)
        yield n


def test_guide_has_the_steps():
    kinds = [k for k, _ in guide_steps()]
    assert "run" in kinds and "as alice" in kinds
    assert any(k.startswith("write /etc/bind/") for k in kinds)


def test_route_reaches_bird(node):
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 30, 0.2,
                     f"{p} at BIRD")


def test_sockets_have_the_documented_owners(node):
    step = next(b for k, b in guide_steps() if k == "check")
    r = lab.wait_for(
        lambda: (lambda r: r if r.returncode == 0 else None)(
            node.sh(step, check=False)),
        10, 0.2, "both sockets")
    assert r.stdout.split("\n")[:2] == [
        "bind:anycast-health 660 /run/named/anycast-health.sock",
        "exabgp:anycast-health 660 /run/anycast-health/relay.sock"]


def test_anycastctl_for_the_group_only(node):
    """The guide's step as alice types it, in her login shell: with a
    user's PATH (no sbin), so an anycastctl outside /usr/bin would be
    'command not found'."""
    step = next(b for k, b in guide_steps() if k == "as alice")
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 30, 0.2, f"{p} at BIRD")
    path = node.sh("echo $PATH", user="alice").stdout.strip()
    assert "sbin" not in path, path
    assert node.sh("command -v anycastctl", user="alice"
                   ).stdout.strip() == "/usr/bin/anycastctl"
    # alice, added to the group by the guide's step.
    r = lab.wait_for(
        lambda: (lambda r: r if r.returncode == 0 else None)(
            node.sh(step, user="alice", check=False)),
        10, 0.2, "anycastctl status to exit 0 for alice")
    assert re.search(r"^  192\.0\.2\.53/32 +announced", r.stdout, re.M)
    assert re.search(r"^feed: +up since", r.stdout, re.M)
    # bob is no member: refused at the socket's directory (status 4,
    # doc/cli.md 2.2).
    r = node.sh(step, user="bob", check=False)
    assert r.returncode == 4, (r.returncode, r.stdout, r.stderr)
    assert "permission denied" in r.stderr


def test_drained_survives_a_restart_of_exabgp(node):
    """The package's /var/lib/anycast-health takes the relay's state
    file: a drained node stays out when Debian's exabgp.service (and
    with it the relay) restarts."""
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 30, 0.2, f"{p} at BIRD")
    assert node.sh("stat -c '%U:%G %a' /var/lib/anycast-health"
                   ).stdout.strip() == "exabgp:anycast-health 750"
    r = node.sh("anycastctl drain --wait --timeout 20s")
    assert "DRAINED" in r.stdout, r.stdout
    assert not node.route(PREFIXES[0]) and not node.route(PREFIXES[1])
    r = node.sh("stat -c %U /var/lib/anycast-health/relay.state && "
                "cat /var/lib/anycast-health/relay.state")
    assert r.stdout.startswith("exabgp\n") and "drained service=dns" in r.stdout
    node.sh("systemctl restart exabgp")
    lab.wait_for(lambda: node.sh("anycastctl status", check=False
                                 ).returncode == 2, 30, 0.2,
                 "the new relay to answer")
    time.sleep(3)
    assert not node.route(PREFIXES[0]) and not node.route(PREFIXES[1])
    assert "DRAINED" in node.sh("anycastctl status", check=False).stdout
    node.sh("anycastctl undrain")
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 30, 0.2,
                     f"{p} back at BIRD after undrain")


def test_kill_9_of_named_withdraws(node):
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 30, 0.2, f"{p} at BIRD")
    pid = node.sh("systemctl show --property MainPID --value named"
                  ).stdout.strip()
    assert pid not in ("", "0")
    start = time.monotonic()
    node.sh(f"kill -9 {pid}")
    lab.wait_for(lambda: not node.route(PREFIXES[0]), 5, 0.02,
                 "the route to be withdrawn at BIRD")
    took = time.monotonic() - start
    print(f"kill -9 of named: withdrawn at BIRD after {took * 1000:.0f} ms")
    # systemd restarts named (Restart=on-failure); the route comes back.
    for p in PREFIXES:
        lab.wait_for(lambda p=p: node.route(p), 60, 0.2,
                     f"{p} back at BIRD after named's restart")
    assert node.sh("systemctl show --property MainPID --value named"
                   ).stdout.strip() != pid


def test_apparmor_profile_compiles_with_the_rule(node):
    # The guide's check ran (apparmor_parser --skip-kernel-load): here,
    # that the rule really is in named's compiled profile.
    r = node.sh("apparmor_parser --preprocess /etc/apparmor.d/usr.sbin.named")
    assert "/{,var/}run/named/anycast-health.sock rw," in r.stdout
    enabled = Path("/sys/module/apparmor/parameters/enabled")
    print("kernel AppArmor:", enabled.read_text().strip()
          if enabled.exists() else "not in this kernel (profile not loaded)")


def test_completion_and_documents_are_installed(node):
    """The bash completion works from where the package puts it, and
    every installed path a manual page cites is there."""
    r = node.sh("bash -c 'source /usr/share/bash-completion/completions/"
                "anycastctl; COMP_WORDS=(anycastctl drain \"\"); "
                "COMP_CWORD=2; _anycastctl; echo ${COMPREPLY[*]}'",
                user="alice")
    assert r.stdout.split() == ["--wait", "--timeout", "dns"], r.stdout
    cited = set()
    for page in (lab.SRCDIR / "man").iterdir():
        text = page.read_text()
        cited |= set(re.findall(
            r"^\.(?:It )?Pa (/usr/share/\S+?)(?: [,.;])?$", text, re.M))
        # "protocol.md.gz beside it": in the documentation directory.
        cited |= {f"/usr/share/doc/anycast-health/{n}" for n in
                  re.findall(r"^\.Pa ([\w.-]+\.gz)(?: [,.;])?$", text,
                             re.M)}
    cited.discard("/usr/share/doc/anycast-health/")
    assert len(cited) >= 7, cited
    for path in sorted(cited):
        assert node.sh(f"test -e {path}", check=False).returncode == 0, \
            f"{path}, cited by a manual page, is not installed"
    node.sh("test -f /usr/share/man/man1/anycastctl.1.gz")


def test_remove_takes_the_apparmor_line_back(node):
    node.sh("apt-get remove anycast-health")
    r = node.sh(f"cat {AA_LOCAL}")
    assert "anycast-health" not in r.stdout
    node.sh("apparmor_parser --skip-kernel-load --skip-cache "
            "/etc/apparmor.d/usr.sbin.named")
    assert node.sh("test -e /usr/sbin/anycast-relay", check=False
                   ).returncode != 0
    assert node.sh("test -e /usr/bin/anycastctl", check=False
                   ).returncode != 0


def test_purge_leaves_only_what_is_not_ours(node):
    """Purge takes the state and the runtime directory; named's local
    AppArmor file is bind9's (its profile includes it without 'if
    exists'), and stays exactly as it was before the package came."""
    node.sh("apt-get purge anycast-health")
    for path in ("/var/lib/anycast-health", "/run/anycast-health",
                 "/etc/apparmor.d/abstractions/anycast-health",
                 "/usr/share/anycast-health",
                 "/usr/share/bash-completion/completions/anycastctl"):
        assert node.sh(f"test -e {path}", check=False).returncode != 0, path
    assert node.sh(f"cat {AA_LOCAL}").stdout == node.aa_local
    node.sh("apparmor_parser --skip-kernel-load --skip-cache "
            "/etc/apparmor.d/usr.sbin.named")


# -- upgrading while named runs ---------------------------------------------

def previous_release():
    """(version, commit) of the release before this tree's."""
    line = next(l for l in (ROOTS / "previous-release").read_text()
                .splitlines() if l and not l.startswith("#"))
    version, commit = line.split()
    return version, commit


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A node set up with the previous release's package, by that
    release's guide, announcing."""
    root = node_root()
    r = subprocess.run([str(ROOTS / "previous-deb"), SUITE],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode == 77:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr[-3000:]
    debs = Path(r.stdout.strip())
    with booting(root, tmp_path_factory.mktemp("previous"),
                 binds=[(debs, "/srv/previous")]) as n:
        booted(n, "/srv/previous/anycast-health_*.deb", debs / "guide.md")
        for p in PREFIXES:
            lab.wait_for(lambda p=p: n.route(p), 30, 0.2, f"{p} at BIRD")
        yield n


def status(n, want=0):
    """anycastctl status, once it exits 'want' (the routes' truth may
    wait for ExaBGP's answer or its session)."""
    return lab.wait_for(
        lambda: (lambda r: r if r.returncode == want else None)(
            n.sh("anycastctl status", check=False)),
        20, 0.2, f"anycastctl status to exit {want}")


OLD_PLUGIN = "plugin:   protocol 2, older than this relay's 3"


# The first run builds the previous package (tests/roots/previous-deb).
@pytest.mark.timeout(1800)
def test_upgrade_while_named_runs(previous):
    """doc/guide.md 1.10: the package's postinst replaces the relay, its
    routes taken over; named keeps the old plugin, which the new relay
    reads, through 'rndc reconfig' too; 'systemctl restart named' loads
    the new one, and only that moves the route."""
    n = previous
    version = previous_release()[0]
    assert n.sh("anycast-relay --version").stdout.startswith(
        f"anycast-relay {version} ")
    relay, named = n.relay(), n.pid("named")
    exabgp = n.parent(relay)
    assert exabgp == n.pid("exabgp")
    plugin = n.plugin_file(named)
    assert not plugin.endswith("(deleted)")
    seen = {p: n.changes(p) for p in PREFIXES}

    r = n.sh("dpkg -i /srv/deb/anycast-health_*.deb")
    said = r.stdout + r.stderr
    print(said)
    m = re.search(rf"^anycast-health: relay {relay} \(anycast-relay "
                  rf"{re.escape(version)}\) replaced by (\d+) \(anycast-relay "
                  rf"[^)]+\), which took its routes over$", said, re.M)
    assert m, said
    new = int(m.group(1))
    assert f"anycast-health: named (pid {named}) still runs the plugin " \
           "of the version before" in said
    assert "'systemctl restart named' loads the new one ('rndc reconfig' " \
           "does not)" in said
    # The new relay, from the new binary, under the same ExaBGP.
    current = n.sh("anycast-relay --version").stdout.split()[1]
    assert current != version, "the package's version must go up"
    assert n.relay() == new and n.parent(new) == exabgp
    assert n.sh(f"readlink /proc/{new}/exe").stdout.strip() == \
        "/usr/sbin/anycast-relay"
    assert "taken over: relay" in n.sh(
        "journalctl --no-pager -o cat -u exabgp").stdout
    # named runs on, with the plugin file dpkg replaced.
    assert n.pid("named") == named
    assert n.plugin_file(named) == plugin + " (deleted)"
    st = status(n)
    assert OLD_PLUGIN in st.stdout, st.stdout
    # The previous plugin's hello has no version of its own.
    assert ", anycast-health older than " in st.stdout, st.stdout
    time.sleep(2)               # 20 snapshots judged by the new relay
    for p in PREFIXES:
        assert n.route(p)
        # Not even an UPDATE: ExaBGP had the route already.
        assert n.changes(p) == seen[p], f"{p} moved at BIRD"

    # rndc reconfig, rndc reload: the module is loaded already, and
    # stays.
    for command in ("rndc reconfig", "rndc reload"):
        n.sh(command)
        time.sleep(2)
        assert n.pid("named") == named
        assert n.plugin_file(named) == plugin + " (deleted)", command
        assert OLD_PLUGIN in status(n).stdout, command
        for p in PREFIXES:
            assert n.route(p)
            assert n.changes(p) == seen[p], f"{p} moved at BIRD"

    # Restarting named loads the new plugin; the route goes while named
    # is down and comes back after 'rise', as at any restart of named.
    t0 = time.monotonic()
    n.sh("systemctl restart named")
    for p in PREFIXES:
        lab.wait_for(lambda p=p: n.route(p) and n.changes(p) ==
                     seen[p] + ["removed", "added"], 30, 0.2,
                     f"{p} back after named")
    print(f"named restarted: {PREFIXES[0]} back at BIRD after "
          f"{time.monotonic() - t0:.1f} s")
    for p in PREFIXES:
        print(f"BIRD's log of {p}, from the old package's start: "
              f"{' '.join(n.changes(p))}")
    named = n.pid("named")
    assert n.plugin_file(named) == plugin
    st = status(n)
    assert "plugin:" not in st.stdout, st.stdout
    assert f", anycast-health {current}, " in st.stdout, st.stdout
    assert n.relay() == new


def test_downgrade_refused_loudly(previous):
    """The reverse: the previous relay cannot read this plugin's feed
    (protocol 3).  Started against it, it refuses, says so, and keeps
    the node withdrawn until named loads the previous plugin."""
    n = previous
    version = previous_release()[0]
    if n.plugin_file(n.pid("named")).endswith("(deleted)"):
        pytest.skip("needs test_upgrade_while_named_runs first")
    n.sh("dpkg -i /srv/previous/anycast-health_*.deb")
    n.sh("systemctl restart exabgp")
    lab.wait_for(lambda: "plugin feed /run/named/anycast-health.sock "
                 "closed: plugin speaks protocol 3, this relay 2: upgrade "
                 "the older of the two" in n.sh(
                     "journalctl --no-pager -o cat -u exabgp").stdout,
                 20, 0.2, "the previous relay to refuse the plugin")
    assert n.sh("anycast-relay --version").stdout.startswith(
        f"anycast-relay {version} ")
    time.sleep(2)
    for p in PREFIXES:
        assert not n.route(p), f"{p} announced by a relay that cannot read"
    st = status(n, want=2)
    assert re.search(r"^  192\.0\.2\.53/32 +withdrawn", st.stdout, re.M)
    assert "plugin speaks protocol 3, this relay 2" in st.stdout
    n.sh("systemctl restart named")
    for p in PREFIXES:
        lab.wait_for(lambda p=p: n.route(p), 30, 0.2,
                     f"{p} back once named runs the previous plugin")
