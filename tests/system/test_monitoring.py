# SPDX-License-Identifier: MPL-2.0
"""The Grafana dashboard and the Prometheus rules (issue 16 items 4 and
5; doc/monitoring.md): well formed, their PromQL valid and, on sample
fleets, right; every alert fires in a promtool test; and every metric,
label and state they name is one a running relay exports.

Grafana is not on the build machines (neither Debian nor PyPI here), so
the dashboard's structure is checked as Grafana reads it, and its
queries by promtool, Prometheus' own parser and evaluator."""

import json
import re
import shutil
import subprocess
from collections import namedtuple

import pytest
import yaml

import lab

DASHBOARD = lab.SRCDIR / "conf" / "grafana" / "anycast-health.json"
RULES = lab.SRCDIR / "conf" / "prometheus" / "anycast-health.rules.yml"
RULES_TEST = lab.SRCDIR / "tests" / "prometheus" / "anycast-health.rules.test.yml"

# Series Prometheus makes itself for each target, and the labels it
# puts on every series it scrapes.
PROMETHEUS_SERIES = {"up": {"job", "instance"}}
TARGET_LABELS = {"job", "instance"}


def promtool(*args, **kw):
    tool = shutil.which("promtool")
    assert tool, "promtool not found: install Debian's prometheus package"
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          timeout=120, **kw)


# --- PromQL, as far as names go ---------------------------------------

Selector = namedtuple("Selector", "name matchers")      # [(label, op, value)]

_TOKEN = re.compile(r"""
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<dur>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b)
  | (?P<num>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<var>\$\w+|\$\{\w+\})
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^=<>(){}\[\],@:])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.X | re.S)
# Words of PromQL that are not metric names: operators, and the
# aggregations, which may be followed by 'by (...)' before their '('.
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2",
             "start", "end", "sum", "min", "max", "avg", "group", "stddev",
             "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
# Grouping and matching clauses: the names in their parentheses are labels.
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def _tokens(expr):
    out = []
    for m in _TOKEN.finditer(expr):
        kind = m.lastgroup
        if kind == "space":
            continue
        assert kind != "other", f"unexpected {m.group()!r} in {expr!r}"
        out.append((kind, m.group()))
    return out


def _unquote(s):
    if s[0] == "`":
        return s[1:-1]
    return json.loads('"' + s[1:-1].replace("\\'", "'") + '"')


def selectors(expr):
    """The vector selectors of a PromQL expression (or of Grafana's
    label_values(SELECTOR, LABEL)): metric names with their label
    matchers.  Function names, grouping and matching labels, keywords,
    numbers, durations, ranges and strings are not metric names."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*", expr, re.S)
    if m:
        expr = m.group(1)
    toks, out, i = _tokens(expr), [], 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if text == "[":                         # a range or subquery
            while toks[i][1] != "]":
                i += 1
            i += 1
            continue
        if kind == "ident" and text.lower() in _KEYWORDS:
            if text == "offset":
                i += 1                          # its duration
            i += 1
            continue
        if kind == "ident" and text in _LABEL_LISTS:
            i += 1
            if i < len(toks) and toks[i][1] == "(":
                while toks[i][1] != ")":
                    i += 1
                i += 1
            continue
        if kind == "ident" and nxt == "(":      # a function
            i += 1
            continue
        if kind == "ident" or text == "{":
            name = text if kind == "ident" else None
            if kind == "ident":
                i += 1
            matchers = []
            if i < len(toks) and toks[i][1] == "{":
                i += 1
                while toks[i][1] != "}":
                    label, op, value = toks[i][1], toks[i + 1][1], toks[i + 2]
                    assert toks[i][0] == "ident" and op in ("=", "!=", "=~", "!~") \
                        and value[0] == "str", f"bad matcher in {expr!r}"
                    matchers.append((label, op, _unquote(value[1])))
                    i += 3
                    if toks[i][1] == ",":
                        i += 1
                i += 1
            for label, op, value in matchers:
                if label == "__name__" and op == "=":
                    name = value
            assert name, f"a selector without a metric name in {expr!r}"
            out.append(Selector(name, matchers))
            continue
        i += 1
    return out


def used_selectors(exprs, records):
    """The selectors of (where, expr) pairs, a recording rule's name
    replaced by the selectors of its expression: [(where, Selector)]."""
    out = []
    for where, expr in exprs:
        for sel in selectors(expr):
            if ":" in sel.name:
                assert sel.name in records, (
                    f"{where}: {sel.name} is not a recording rule of {RULES.name}")
                out += used_selectors([(f"{where} via {sel.name}",
                                        records[sel.name])], records)
            else:
                out.append((where, sel))
    return out


def test_selectors_are_read_carefully():
    cases = {
        'sum by (service, route) (rate(anycast_health_x_total{job="$job",a=~"b|c"}[$__rate_interval]))':
            [("anycast_health_x_total", [("job", "=", "$job"), ("a", "=~", "b|c")])],
        'histogram_quantile(0.95, sum by (le) (rate(h_bucket{x="on (y)"}[5m:1m])))':
            [("h_bucket", [("x", "=", "on (y)")])],
        'a * on (instance) group_left (reason, to) b offset 1h30m > bool 1e3':
            [("a", []), ("b", [])],
        'count without (x) (c) + sum(d) by (y) - topk(3, e)':
            [("c", []), ("d", []), ("e", [])],
        'max by (i) (s{state="up"} * 1\n  or s{state="x"} * 2) unless absent(up{job="j"})':
            [("s", [("state", "=", "up")]), ("s", [("state", "=", "x")]),
             ("up", [("job", "=", "j")])],
        'label_values(anycast_health_relay_info{job="$job"}, instance)':
            [("anycast_health_relay_info", [("job", "=", "$job")])],
        'label_replace(m, "named", "$1", "version", "(.*)") - time() + Inf':
            [("m", [])],
        '{__name__="n", q!~"r"} @ 100 + job:n:rate5m':
            [("n", [("__name__", "=", "n"), ("q", "!~", "r")]),
             ("job:n:rate5m", [])],
    }
    for expr, want in cases.items():
        got = [(s.name, s.matchers) for s in selectors(expr)]
        assert got == want, (expr, got)
    records = {"job:n:rate5m": "sum by (job) (rate(n_total[5m]))"}
    got = used_selectors([("x", "job:n:rate5m / on (job) m")], records)
    assert [s.name for _, s in got] == ["n_total", "m"]
    with pytest.raises(AssertionError, match="not a recording rule"):
        used_selectors([("x", "job:other:sum")], records)


# --- the dashboard ----------------------------------------------------

def dashboard():
    return json.loads(DASHBOARD.read_text())


def panels(d):
    """Every panel, those inside collapsed rows too, with its row's title."""
    row = None
    for p in d["panels"]:
        if p["type"] == "row":
            row = p["title"]
            for q in p.get("panels", []):
                yield row, q
        yield row, p


def dashboard_exprs(d):
    """(where, PromQL) of every query: panels, annotations, variables."""
    for row, p in panels(d):
        for t in p.get("targets", []):
            yield f"panel '{p['title']}' {t['refId']}", t["expr"]
    for a in d["annotations"]["list"]:
        if a.get("expr"):
            yield f"annotation '{a['name']}'", a["expr"]
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            yield f"variable {v['name']}", v["query"]["query"]


VARIABLES = {"job": "anycast-health", "instance": ".*", "service": ".*",
             "__rate_interval": "1m", "__interval": "1m"}


def as_prometheus(expr):
    """The query as Grafana sends it, for these variables."""
    return re.sub(r"\$(\w+)", lambda m: VARIABLES.get(m.group(1), m.group(0)), expr)


def test_dashboard_is_a_grafana_dashboard():
    d = dashboard()
    assert isinstance(d["schemaVersion"], int) and d["schemaVersion"] >= 36
    assert d["uid"] == "anycast-health" and d["title"]
    assert d["id"] is None, "an exported dashboard has no database id"
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    uid = {"type": "prometheus", "uid": "${datasource}"}
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"] == uid, v["name"]
            assert v["definition"] == v["query"]["query"], v["name"]
    node = variables["instance"]
    assert "instance)" in node["query"]["query"] and node["multi"] and node["includeAll"]
    ids, boxes = set(), []
    for row, p in panels(d):
        assert p["id"] not in ids, f"panel id {p['id']} twice"
        ids.add(p["id"])
        g = p["gridPos"]
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["x"] + g["w"] <= 24, p["title"]
        for other, o in boxes:
            assert (g["x"] >= o["x"] + o["w"] or o["x"] >= g["x"] + g["w"]
                    or g["y"] >= o["y"] + o["h"] or o["y"] >= g["y"] + g["h"]), \
                f"'{p['title']}' overlaps '{other}'"
        boxes.append((p["title"], g))
        if p["type"] == "row":
            continue
        assert p["title"] and p["description"], p["id"]
        assert p["datasource"] == uid, p["title"]
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(set(refs)) == len(refs), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == uid and t["expr"].strip(), p["title"]


def test_dashboard_shows_what_the_issue_asks():
    """Each thing issue 16 item 4 lists has a panel that shows it."""
    d = dashboard()
    metrics = {}
    for row, p in panels(d):
        for t in p.get("targets", []):
            for s in selectors(t["expr"]):
                metrics.setdefault(s.name, set()).add(p["type"])
    wanted = {
        "anycast_health_service_state": "state-timeline",        # state over time
        "anycast_health_service_cause": "state-timeline",        # ... and why
        "anycast_health_service_last_change_info": "table",      # the reason
        "anycast_health_service_transitions_total": "timeseries",  # route changes
        "anycast_health_servfail_ratio_threshold": "timeseries",  # value vs threshold
        "anycast_health_canary_rtt_seconds_threshold": "timeseries",
        "anycast_health_auth_responses_total": "timeseries",     # qps by source, rcode
        "anycast_health_zone_load_timestamp_seconds": "table",   # serial age
        "anycast_health_zone_serial": "table",
        "anycast_health_feed_snapshot_age_seconds": "timeseries",  # staleness
        "anycast_health_feed_stale_after_seconds": "timeseries",
        "anycast_health_liveness_probes_total": "timeseries",    # liveness
        "anycast_health_drain_start_timestamp_seconds": "table",  # drains
        "anycast_health_prefix_state": "state-timeline",         # prefixes' truth
        "anycast_health_config_last_load_ok": "state-timeline",  # item 2's file
        "anycast_health_service_route": "stat",                  # the fleet row
        "up": "stat",
    }
    for metric, kind in wanted.items():
        assert kind in metrics.get(metric, ()), (metric, kind)
    annotations = [a for a in d["annotations"]["list"] if a.get("expr")]
    assert any("last_change_info" in a["expr"] and "{{reason}}" in a["textFormat"]
               for a in annotations)


def test_dashboard_selects_by_job_and_node():
    """Every query of a relay metric is for the chosen job; outside the
    fleet row, for the chosen nodes too."""
    d = dashboard()
    for row, p in panels(d):
        for t in p.get("targets", []):
            for s in selectors(t["expr"]):
                m = {(k, op, v) for k, op, v in s.matchers}
                assert ("job", "=", "$job") in m, (p["title"], s)
                if not row.startswith("Fleet") and s.name != "up":
                    assert ("instance", "=~", "$instance") in m, (p["title"], s)


def test_state_codes_match_the_value_mappings():
    """A state timeline turns 'state="X"} * N' into N: its value mapping
    must call N X."""
    code = re.compile(r'\{[^{}]*\b\w+="([^"]+)"\} \* (\d+)')
    seen = 0
    for row, p in panels(dashboard()):
        if p["type"] != "state-timeline":
            continue
        names = {}
        for mp in p["fieldConfig"]["defaults"]["mappings"]:
            names.update({k: o["text"] for k, o in mp["options"].items()})
        for t in p["targets"]:
            for state, n in code.findall(t["expr"]):
                assert names.get(n) == state, (p["title"], n, state, names)
                seen += 1
    assert seen >= 20


def test_dashboard_queries_are_promql(tmp_path):
    """Each query, its variables given, through Prometheus' parser."""
    d = dashboard()
    rules = [{"record": f"dashboard:query_{i}:test", "expr": as_prometheus(e)}
             for i, (where, e) in enumerate(dashboard_exprs(d))
             if not where.startswith("variable")]
    rules += [{"record": "dashboard:variable:test",
               "expr": as_prometheus(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1",
                                            e, flags=re.S))}
              for where, e in dashboard_exprs(d) if where.startswith("variable")]
    f = tmp_path / "dashboard.rules.yml"
    f.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    r = promtool("check", "rules", str(f))
    assert r.returncode == 0, r.stdout + r.stderr


def panel_expr(d, title, ref="A"):
    for row, p in panels(d):
        if p["title"] == title:
            return as_prometheus(next(t for t in p["targets"] if t["refId"] == ref)["expr"])
    raise KeyError(title)


def test_fleet_row_counts_a_sample_fleet(tmp_path):
    """Five nodes: announced, depreferred, withdrawn (named gone),
    drained, and one whose relay does not answer.  The fleet row and
    the state timelines, evaluated by promtool, say so."""
    nodes = {"ns1": ("announced", "up", "none", "announced"),
             "ns2": ("depreferred", "depreferred", "checks", "depreferred"),
             "ns3": ("withdrawn", "down", "feed", "withdrawn"),
             "ns4": ("withdrawn", "drained", "drain", "withdrawn")}
    routes = ["announced", "depreferred", "kept", "draining", "withdrawn"]
    states = ["up", "falling", "rising", "depreferred", "kept", "held", "down",
              "draining", "drained"]
    causes = ["none", "checks", "damping", "feed", "view", "drain"]
    prefix = ["announced", "depreferred", "kept", "draining", "withdrawn",
              "waiting", "rejected", "session-down"]
    series = []

    def add(metric, node, label, names, now, extra=""):
        for name in names:
            series.append({"series": f'{metric}{{job="anycast-health",instance="{node}:9153",'
                                     f'service="dns"{extra},{label}="{name}"}}',
                           "values": f"{int(name == now)}x5"})
    for node, (route, state, cause, pstate) in nodes.items():
        add("anycast_health_service_route", node, "route", routes, route)
        add("anycast_health_service_state", node, "state", states, state)
        add("anycast_health_service_cause", node, "cause", causes, cause)
        add("anycast_health_prefix_state", node, "state", prefix, pstate,
            extra=',prefix="192.0.2.53/32"')
        series.append({"series": f'anycast_health_prefix_announced{{job="anycast-health",'
                                 f'instance="{node}:9153",service="dns",prefix="192.0.2.53/32"}}',
                       "values": f"{int(pstate in ('announced', 'depreferred'))}x5"})
        series.append({"series": f'up{{job="anycast-health",instance="{node}:9153"}}',
                       "values": "1x5"})
    series.append({"series": 'up{job="anycast-health",instance="ns5:9153"}', "values": "0x5"})
    d = dashboard()
    dns = '{service="dns"}'
    want = [(panel_expr(d, "Up"), [(dns, 1)]),
            (panel_expr(d, "Depreferred"), [(dns, 1)]),
            (panel_expr(d, "Withdrawn"), [(dns, 1)]),
            (panel_expr(d, "Drained"), [(dns, 1)]),
            (panel_expr(d, "Relays not answering"), [("{}", 1)]),
            (panel_expr(d, "Prefixes out nowhere"), [("{}", 0)]),
            (panel_expr(d, "Service state"),
             [(f'{{instance="{n}:9153",service="dns"}}', states_code)
              for n, states_code in (("ns1", 1), ("ns2", 4), ("ns3", 7), ("ns4", 9))]),
            (panel_expr(d, "Why"),
             [(f'{{instance="{n}:9153",service="dns"}}', c)
              for n, c in (("ns1", 1), ("ns2", 2), ("ns3", 4), ("ns4", 6))]),
            (panel_expr(d, "Prefix state"),
             [(f'{{instance="{n}:9153",prefix="192.0.2.53/32",service="dns"}}', c)
              for n, c in (("ns1", 1), ("ns2", 2), ("ns3", 5), ("ns4", 5))]),
            (panel_expr(d, "Drain"),
             [(f'{{instance="{n}:9153",service="dns"}}', c)
              for n, c in (("ns1", 0), ("ns2", 0), ("ns3", 0), ("ns4", 2))])]
    test = {"evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "promql_expr_test": [
            {"expr": e, "eval_time": "2m",
             "exp_samples": [{"labels": lab, "value": v} for lab, v in samples]}
            for e, samples in want]}]}
    f = tmp_path / "fleet.test.yml"
    f.write_text(yaml.safe_dump(test, sort_keys=False))
    r = promtool("test", "rules", str(f))
    assert r.returncode == 0, r.stdout + r.stderr


# --- the alerting rules -----------------------------------------------

def rules():
    return yaml.safe_load(RULES.read_text())


def rules_exprs(doc):
    for g in doc["groups"]:
        for r in g["rules"]:
            yield r.get("alert") or r["record"], r["expr"]


def records(doc):
    return {r["record"]: r["expr"] for g in doc["groups"] for r in g["rules"]
            if "record" in r}


def test_rules_pass_promtool():
    r = promtool("check", "rules", str(RULES))
    assert r.returncode == 0, r.stdout + r.stderr
    r = promtool("test", "rules", str(RULES_TEST))
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_fires_in_a_test_and_says_what_to_do():
    doc = rules()
    tests = yaml.safe_load(RULES_TEST.read_text())
    fired = {c["alertname"] for t in tests["tests"] for c in t.get("alert_rule_test", [])
             if c.get("exp_alerts")}
    quiet = {c["alertname"] for t in tests["tests"] for c in t.get("alert_rule_test", [])
             if not c.get("exp_alerts")}
    for g in doc["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            name = r["alert"]
            assert name in fired, f"{name} never fires in {RULES_TEST.name}"
            assert name in quiet, f"{name} is never shown quiet in {RULES_TEST.name}"
            assert r["labels"]["severity"] in ("critical", "warning"), name
            assert r["annotations"]["summary"] and len(r["annotations"]["description"]) > 150, name


# --- what a running relay exports -------------------------------------

def read_exposition(text):
    """{family: type} declared, and [(sample name, {label: value})]."""
    from lab.relay import parse_exposition
    families = {l.split()[2]: l.split()[3] for l in text.splitlines()
                if l.startswith("# TYPE ")}
    return families, [(name, dict(labels)) for name, labels in parse_exposition(text)]


def family_of(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base) == "histogram":
            return base
    return None


def check_selectors(used, families, samples):
    """Each selector names a family the relay declares; its label names
    are on the family's samples; a literal value it matches (or each of
    a|b|c) is one the samples have.  Returns the families used."""
    labels, values, found = {}, {}, set()
    for name, lab in samples:
        labels.setdefault(name, set()).update(lab)
        for k, v in lab.items():
            values.setdefault((name, k), set()).add(v)
    for where, sel in used:
        if sel.name in PROMETHEUS_SERIES:
            assert {k for k, _, _ in sel.matchers} <= PROMETHEUS_SERIES[sel.name], (where, sel)
            continue
        fam = family_of(sel.name, families)
        assert fam, f"{where}: the relay exports no {sel.name}"
        found.add(fam)
        assert sel.name in labels, f"{where}: {sel.name} has no sample to check it by"
        for k, op, v in sel.matchers:
            if k in TARGET_LABELS or k == "__name__":
                continue
            assert k in labels[sel.name], f"{where}: {sel.name} has no label {k}"
            if "$" in v or op not in ("=", "=~") or not re.fullmatch(r"[\w.:/-]+(\|[\w.:/-]+)*", v):
                continue
            for alt in v.split("|"):
                assert alt in values[(sel.name, k)], \
                    f"{where}: {sel.name} never has {k}=\"{alt}\" (it has {sorted(values[(sel.name, k)])})"
    return found


def node_with_everything(stack):
    """A resolver forwarding to a fake upstream and secondary for
    sec.example, its relay with the endpoint, and traffic enough for
    every check to have a value: every family gets samples."""
    upstream = lab.FakeUpstream()
    stack.procs.append(upstream)
    primary = lab.primary_of_sec(stack)
    named = lab.resolver(stack, upstream.port)
    text = named.conf.read_text().replace('zones { "example"; };',
                                          'zones { "example"; "sec.example"; };')
    named.conf.write_text(text + lab.secondary_of_sec(named, primary))
    named.start()
    lab.wait_for(lambda: named.query("www.sec.example").rcode() == 0, 10,
                    interval=0.1, what="the secondary's transfer")
    port = lab.free_port()
    relay = lab.Relay(stack, named, replacements=[lab.metrics_listen(port)])
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce", 10)
    load = lab.Load(named.port, lambda i: f"n{i}.test.", 200, 3)
    load.wait()
    return named, relay, proc, port


def scrape(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_dashboard_and_rules_use_what_a_relay_exports(stack):
    named, relay, proc, port = node_with_everything(stack)
    text = scrape(port)
    families, samples = read_exposition(text)
    assert set(families) == set(read_exposition(relay.ctl("metrics").stdout)[0])
    # Drained now, for the drain's own series.
    assert relay.ctl("drain", "dns").returncode == 0
    more = read_exposition(scrape(port))[1]
    d = dashboard()
    doc = rules()
    used = used_selectors(list(dashboard_exprs(d)), records(doc))
    used += used_selectors(list(rules_exprs(doc)), records(doc))
    found = check_selectors(used, families, samples + more)
    print(f"\n{len(used)} selectors of {len(found)} families checked against "
          f"{len(families)} families, {len(samples) + len(more)} samples")
    # Nothing the relay exports is left off but for a reason.
    assert set(NOT_SHOWN) <= set(families)
    assert set(families) - found - set(NOT_SHOWN) == set()
    # ... nor left out of doc/cli.md.
    assert set(families) - documented_metrics() == set()


def documented_metrics():
    """The metric names doc/cli.md section 2.5 lists ('..._x' stands for
    anycast_health_x; a check's '..._threshold' follows its name)."""
    text = (lab.SRCDIR / "doc" / "cli.md").read_text()
    text = text[text.index("### 2.5 Metrics"):]
    text = text[:text.find("\n## ") if "\n## " in text else len(text)]
    names = set(re.findall(r"`(anycast_health_\w+)`", text))
    names |= {f"anycast_health_{n}" for n in re.findall(r"`\.\.\._(\w+)`", text)}
    for line in text.splitlines():
        if "`..._threshold`" in line:
            names |= {f"{n}_threshold" for n in re.findall(r"`(anycast_health_\w+)`", line)}
    return names


# Families neither the dashboard nor the rules use, and why.
NOT_SHOWN = {
    "anycast_health_feed_snapshot_seq": "to match 'show counters', not a trend",
    "anycast_health_domain_group_total": "the fleet sensor's inner counts, "
                                         "48 series a view; the checks show their verdict",
    "anycast_health_zones_checked_timestamp_seconds": "a late zone walk fails the zones check, "
                                                       "which says so",
    "anycast_health_prefix_depreferred": "prefix_state says it",
    "anycast_health_prefix_rejected": "prefix_state says it",
    "anycast_health_relay_start_time_seconds": "a restart shows as route changes and in up",
}


# --- the metrics added for them ---------------------------------------

def metrics(relay):
    from lab.relay import parse_exposition
    return parse_exposition(relay.ctl("metrics").stdout)


def current(got, family, label, **match):
    """The value of 'label' on the family's sample that is 1, among
    those whose labels include 'match'; None if there is none."""
    ones = [dict(k[1])[label] for k, v in got.items()
            if k[0] == family and v == 1
            and all(dict(k[1]).get(a) == b for a, b in match.items())]
    assert len(ones) <= 1, (family, match, ones)
    return ones[0] if ones else None


def last_change(got):
    (lab,) = [dict(k[1]) for k in got if k[0] == "anycast_health_service_last_change_info"]
    return lab["from"], lab["to"], lab["reason"]


def test_metrics_say_where_a_service_is_and_why(stack):
    """Route, cause, each prefix's state and the last change with its
    reason, as a node goes up, loses named and is drained."""
    import time
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named)
    proc = lab.RelayUnderTest(stack, relay)
    assert proc.wait_command("announce route 2001:db8::53/128", 10)
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_prefix_state", "state", prefix="2001:db8::53/128") ==
        "announced" else None)(metrics(relay)), 5, what="both prefixes announced")
    assert current(got, "anycast_health_service_route", "route") == "announced"
    assert current(got, "anycast_health_service_cause", "cause") == "none"
    assert current(got, "anycast_health_prefix_state", "state",
                   prefix="192.0.2.53/32") == "announced"
    frm, to, why = last_change(got)
    assert (frm, to) == ("withdrawn", "announced") and "zone loaded" in why, why
    st = json.loads(relay.ctl("-j", "status").stdout)
    assert got[("anycast_health_feed_stale_after_seconds", ())] == \
        st["feed"]["stale_after_ms"] / 1000

    named.kill()
    assert proc.wait_command("withdraw route 192.0.2.53/32", 5)
    got = metrics(relay)
    assert current(got, "anycast_health_service_route", "route") == "withdrawn"
    assert current(got, "anycast_health_service_cause", "cause") == "feed"
    assert current(got, "anycast_health_prefix_state", "state",
                   prefix="192.0.2.53/32") == "withdrawn"
    frm, to, why = last_change(got)
    assert (frm, to) == ("announced", "withdrawn")
    assert why.startswith("no feed from named: named closed the socket"), why
    assert not [k for k in got if k[0] == "anycast_health_drain_start_timestamp_seconds"]

    named.start()
    assert proc.wait_command("announce route 192.0.2.53/32", 10)
    t0 = time.time()
    assert relay.ctl("drain", "dns").returncode == 0
    got = metrics(relay)
    assert current(got, "anycast_health_service_cause", "cause") == "drain"
    assert current(got, "anycast_health_service_route", "route") in ("draining", "withdrawn")
    since = got[("anycast_health_drain_start_timestamp_seconds", (("service", "dns"),))]
    assert t0 - 1 <= since <= time.time(), (t0, since)


def test_a_failing_check_is_the_cause(stack):
    """A zone the plugin does not report fails the zones check: cause
    'checks'."""
    named = lab.Named(stack).start()
    relay = lab.Relay(stack, named, replacements=[
        ("zones: [example]", "zones: [example, nosuch.example]")])
    lab.RelayUnderTest(stack, relay)
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_service_cause", "cause") == "checks" else None)(
            metrics(relay)), 10, what="cause checks")
    assert got[("anycast_health_check_failing",
                (("check", "zones"), ("service", "dns")))] == 1
    assert current(got, "anycast_health_service_route", "route") == "withdrawn"


def test_a_missing_view_is_the_cause_and_names_stay_utf8(stack):
    """A named that publishes another view: cause 'view'.  Its view's
    name is not UTF-8 (a Latin-1 e-acute), which Prometheus would refuse
    the whole scrape for: the label shows U+FFFD instead."""
    relay, fake, proc = lab.fake_relay(stack, lab.plain_service())
    fake.snapshot(1, views=("caf%E9", "caf%C3%A9"))
    got = lab.wait_for(lambda: (lambda g: g if current(
        g, "anycast_health_service_cause", "cause") == "view" else None)(
            metrics(relay)), 5, what="cause view")
    views = {dict(k[1])["view"] for k in got if k[0] == "anycast_health_queries_total"}
    assert views == {"caf\ufffd", "caf\u00e9"}, views
    exposition = json.loads(relay.ctl("-j", "metrics").stdout)["exposition"]
    assert 'view="caf\ufffd"' in exposition
