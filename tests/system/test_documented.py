# SPDX-License-Identifier: MPL-2.0
"""Behaviours doc/cli.md and doc/config.md promise that no other test
checked (issue 8's audit): ExaBGP's error acks, the relay's patience
when ExaBGP stops reading, the 64-service limit, a control socket already in use,
the log's escaping, the canary's failure and timeout, low-traffic:
canary, max-serial-age, recursion-latency end to end.
"""

import json
import re
import subprocess
import time

import lab
from lab.feed import ResolverCounters, fake_relay, feed

FIRST_WITHDRAW = "neighbor 127.0.0.1 withdraw route 192.0.2.53/32 next-hop self"


def services(n, prefixes=1):
    """n services of 'prefixes' documentation /48s each, all different."""
    out = []
    for i in range(n):
        out.append(f"  - name: s{i}\n    prefixes:\n")
        for j in range(prefixes):
            out.append(f"      - prefix: 2001:db8:{i * prefixes + j:x}::/48\n")
    return "".join(out)


def exabgp_says(stack, text):
    """The relay, without named, told 'text' by ExaBGP once it has sent
    its first command, then 'shutdown'; returns it when that is logged."""
    named = lab.Named(stack)
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay, ack=False)
    assert proc.next_command(5) == FIRST_WITHDRAW
    proc.proc.p.stdin.write(text + b"shutdown\n")
    proc.proc.p.stdin.flush()
    lab.wait_for(lambda: "ExaBGP is shutting down" in proc.proc.text(), 5,
                 what="shutdown logged")
    return proc


def test_exabgp_acks_error_and_shutdown(stack):
    """cli.md 1.2: 'error' answers the oldest command and logs it, as an
    error, 'shutdown' is logged, anything else is ignored."""
    proc = exabgp_says(stack, b"error\nneighbor 127.0.0.1 up\n")
    log = proc.proc.text()
    assert f"error: ExaBGP rejected: {FIRST_WITHDRAW}" in log
    assert log.count("ExaBGP rejected") == 1, "only the command acked 'error'"
    assert proc.proc.alive(), "an unknown line is not fatal"


def test_log_shows_control_bytes_from_exabgp(stack):
    """cli.md 1.5: what ExaBGP says (a BGP session's reason) reaches the
    log with its control bytes made visible, so it can neither forge a
    log line nor drive the reader's terminal."""
    proc = exabgp_says(
        stack, b"neighbor 127.0.0.1 down - x\rfatal: forged\x1b[2J\\\xc3\n")
    raw = proc.proc.log.read_bytes()
    line = next(l for l in raw.split(b"\n") if b"BGP session 127.0.0.1" in l)
    assert line.endswith(
        b"info: BGP session 127.0.0.1 down - x\\rfatal: forged\\x1b[2J\\\\\\xc3"), line
    assert b"\r" not in raw and b"\x1b" not in raw


def test_exabgp_not_reading_commands_costs_nothing(stack, tmp_path):
    """cli.md 1.2 (issue 13 defect 6): while ExaBGP reads nothing, the
    relay keeps each route's latest command, not a queue of them: it
    lives on (it used to give up past 256 KiB, which 10,000 prefixes
    exceeded at start), says that ExaBGP is stalled, and when ExaBGP
    reads again each route's latest state goes out, changes undone in
    the meantime never written."""
    import threading
    n = 10000
    done = threading.Event()
    named = lab.Named(stack)                  # only for its socket path
    relay = lab.Relay(stack, named, services=services(1, n))
    fake = lab.FakePlugin(named.socket)
    stack.procs.append(fake)
    err = tmp_path / "relay.err"
    with open(err, "wb") as errf:
        p = subprocess.Popen([str(lab.RELAY), str(relay.path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=errf)
    try:
        fake.accept()
        fake.hello(interval=1000)
        seq = 1

        def snapshots(k):
            nonlocal seq
            for _ in range(k):
                fake.snapshot(seq)
                seq += 1
                time.sleep(0.5)

        snapshots(3)                              # up: 10,000 announces
        fake.close()                              # named gone: withdraws
        fake.accept()
        fake.hello(interval=1000)

        def healthy():                            # up again, and kept up
            while not done.is_set():
                snapshots(1)
        threading.Thread(target=healthy, daemon=True).start()
        time.sleep(6)
        assert p.poll() is None, err.read_text()[-2000:]
        assert ("warning: ExaBGP has taken none of the relay's commands "
                "for 5 s") in err.read_text()

        lines = []

        def reader():
            for raw in p.stdout:
                lines.append(raw.decode().rstrip("\n"))
                p.stdin.write(b"done\n")
                p.stdin.flush()
        threading.Thread(target=reader, daemon=True).start()
        lab.wait_for(lambda: "ExaBGP reads the relay's commands again"
                     in err.read_text(), 10, what="ExaBGP reading again")
        last = {}

        def settled():
            k = len(lines)
            time.sleep(1)
            return k == len(lines)
        lab.wait_for(settled, 30, what="the relay has said everything")
        lines = [c for c in lines if " route " in c]   # not questions
        for c in lines:
            last[c.split(" route ")[1].split()[0]] = c
    finally:
        done.set()
        p.kill()
        p.wait(5)
    assert len(last) == n
    assert all(c.startswith("announce route ") for c in last.values())
    # What had reached the pipe before ExaBGP stalled, then one each.
    assert len(lines) < 1.5 * n, len(lines)
    print(f"\n{n} prefixes, ExaBGP stalled through announce, withdraw, "
          f"announce: {len(lines)} commands when it read again")


def test_more_than_64_services(stack, tmp_path):
    """config.md: 1 to 64 services; the relay says so after loading."""
    conf = tmp_path / "many.yaml"
    conf.write_text("services:\n" + services(65))
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert r.stderr.strip() == f"{conf}: more than 64 services"
    conf.write_text("services:\n" + services(64))
    r = subprocess.run([str(lab.RELAY), "--check", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr


def test_control_socket_in_use(stack):
    """A second relay on the same control socket leaves it to the first,
    says so, and runs on without one."""
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    first = lab.RelayUnderTest(stack, relay, name="first")
    assert first.wait_command("announce", 5)
    second = lab.RelayUnderTest(stack, relay, name="second")
    assert second.wait_command("announce", 5), "the second judges all the same"
    assert (f"control socket: socket {relay.control} is in use by another process"
            in second.proc.text())
    r = relay.ctl("-j", "status")
    assert r.returncode == 0 and json.loads(r.stdout)["relay"]["pid"] == first.proc.pid


def logged(proc, text):
    """The relay logs its reason just after the command: wait for it."""
    lab.wait_for(lambda: text in proc.proc.text(), 2, what=text)


def canary_service(port):
    return lab.plain_service(rise=1) + f"""    window: 1s
    low-traffic: canary
    checks:
      servfail-ratio: 20%
    canary:
      server: 127.0.0.1
      port: {port}
      name: www.example
      type: A
      interval: 200ms
      timeout: 100ms
"""


def test_canary_failure_timeout_and_low_traffic_canary(stack):
    """config.md 1.5.2 and 1.5.3: with low-traffic: canary, a ratio check
    below min-queries passes however bad its few queries, and the canary
    judges; a canary answered SERVFAIL fails, one not answered within
    its timeout fails; each says so and moves the route."""
    up = lab.FakeUpstream()                    # the canary's 'named'
    stack.procs.append(up)
    relay, fake, proc = fake_relay(stack, canary_service(up.port))
    res = ResolverCounters()
    normal = ("neighbor 127.0.0.1 announce route 192.0.2.53/32 next-hop "
              "self med 100 community [65000:53]")

    def last():
        cmds = [c for c in proc.commands if "192.0.2.53/32" in c]
        return cmds[-1] if cmds else ""

    def until(pred, what, healthy, failing):
        nonlocal seq
        deadline = time.monotonic() + 5
        while not pred():
            assert time.monotonic() < deadline, (what, proc.proc.text()[-2000:])
            seq = feed(fake, res, seq, 1, healthy, failing, groups=range(16))

    seq = 1
    # Every one of its few queries fails (40 a second, min-queries 100
    # in a 1 s window): the check passes, the canary's NOERROR decides.
    until(lambda: last() == normal, "up on the canary", 0, 4)
    seq = feed(fake, res, seq, 5, 0, 4, groups=range(16))
    status = relay.ctl("status").stdout
    assert "below min-queries 100" in status and "canary www.example: NOERROR" in status, status

    up.mode = "servfail"
    until(lambda: "65535:0" in last(), "depreferred: SERVFAIL", 0, 4)
    logged(proc, "canary www.example: answered SERVFAIL")

    up.mode = "answer"
    until(lambda: last() == normal, "back up", 0, 4)

    up.mode = "silent"
    until(lambda: "65535:0" in last(), "depreferred: timeout", 0, 4)
    logged(proc, "canary www.example: no answer within 100 ms")


def test_max_serial_age_fails_an_old_zone(stack):
    """config.md 1.5.2, zones rule 6: with max-serial-age, a zone last
    loaded longer ago than that fails, and the reason names its serial
    and age; a fresh load passes."""
    svc = lab.plain_service(rise=1) + """    checks:
      zones: [example]
      max-serial-age: 1h
"""
    relay, fake, proc = fake_relay(stack, svc)

    def snapshots(loaded_at, n):
        for seq in range(snapshots.seq, snapshots.seq + n):
            fake.probes += 1
            fake.send(f"view seq={seq} id=0 name=_default\n"
                      f"outcomes seq={seq} view=0 queries=0 probes={fake.probes}\n"
                      f"zone seq={seq} view=0 name=example found=1 loaded=1 "
                      f"serial=7 loaded_at={loaded_at} "
                      f"checked={int(time.time() * 1000)}\n"
                      f"tick seq={seq} views=1 records=3 time=0\n")
            time.sleep(0.1)
        snapshots.seq += n
    snapshots.seq = 1

    now = int(time.time())
    snapshots(now - 60, 5)
    assert proc.wait_command("announce route 192.0.2.53/32", 2)
    snapshots(now - 7200, 5)
    lab.wait_for(lambda: "65535:0" in proc.commands[-1], 3,
                 what="depreferred for an old serial")
    # Its age is counted when judged: 7200 s, or 7201 if a second ticked.
    lab.wait_for(lambda: re.search(r"zone example: serial 7 is 720[01]s "
                                   r"old > 3600s", proc.proc.text()), 2,
                 what="the reason")


def test_recursion_latency_end_to_end(stack):
    """config.md 1.5.2: recursion-latency judges the quantile of the
    plugin's cumulative histogram over the span: answers within 100 ms
    pass, answers after up to 5 s fail with the bucket named."""
    svc = lab.plain_service(rise=1) + """    checks:
      recursion-latency:
        quantile: 95%
        max: 1s
"""
    relay, fake, proc = fake_relay(stack, svc)
    buckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    rec = {f"le_{b}": 0 for b in buckets}
    rec.update(le_inf=0, started=0, success=0)
    seq = 1

    def answers(n, slowest, until, what):
        """n answers a snapshot, each within 'slowest' ms, until..."""
        nonlocal seq
        deadline = time.monotonic() + 5
        while not until():
            assert time.monotonic() < deadline, (what, proc.proc.text()[-1500:])
            for b in buckets:
                rec[f"le_{b}"] += n if b >= slowest else 0
            for k in ("le_inf", "started", "success"):
                rec[k] += n
            fake.counters(seq, {"queries": n, "noerror": n}, rec)
            seq += 1
            time.sleep(0.1)

    def last():
        return [c for c in proc.commands if "192.0.2.53/32" in c][-1]

    answers(50, 100, lambda: "announce" in last() and "65535:0" not in last(),
            "up on fast answers")
    answers(50, 5000, lambda: "65535:0" in last(), "depreferred when slow")
    logged(proc, "recursion p95 <=5000ms > 1000ms over ")
    answers(50, 100, lambda: "65535:0" not in last(), "back when fast again")
