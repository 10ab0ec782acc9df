/* SPDX-License-Identifier: MPL-2.0 */
/*
 * check.c - the checks a service is judged by (see check.h): each
 * one's row in the table, and its judgement of one snapshot.
 *
 * A ratio or latency check judges the most recent span of the
 * service's counters that holds min-queries events (policy.c); with
 * less, low-traffic says whether it keeps its last result or passes.
 * A failing one then asks whether the failures are the world's fault
 * rather than this node's (shared_fault()).  Zones and the canary
 * judge what the plugin and the canary say now.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "canary.h"
#include "check.h"
#include "fault.h"
#include "feed.h"
#include "log.h"
#include "parse.h"
#include "policy.h"

static int	recfail_on(const struct service_conf *);

/* "0.3s" for the short spans evidence gives, "10s" for long ones. */
static const char *
span_text(char *buf, size_t len, int64_t ms)
{
	if (ms < 10000)
		snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
		    (long long)(ms % 1000 / 100));
	else
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	return (buf);
}

void
check_set(struct check_state *cs, int bad, const char *fmt, ...)
{
	va_list ap;

	cs->bad = bad;
	cs->excused = cs->unusual = cs->nodata = 0;
	va_start(ap, fmt);
	vsnprintf(cs->why, sizeof(cs->why), fmt, ap);
	va_end(ap);
}

/* The figures behind a check's words, for 'show checks' and metrics. */
static void
set_value(struct check_state *cs, double value, double limit,
    uint64_t samples, int64_t span_ms)
{
	cs->val = (struct check_value){ .have = 1, .value = value,
	    .limit = limit, .samples = samples, .span_ms = span_ms };
}

/*
 * Too little traffic to judge a ratio: keep that check's last result,
 * or (low-traffic: canary) pass it and let the canary speak.  With no
 * result to keep, the words say how little there is, now.
 */
static void
low_traffic(struct check_state *cs, const struct service_conf *s,
    const char *what, const struct evidence *ev)
{
	char span[32];

	cs->val.have = 0;
	cs->val.samples = ev->total;
	cs->val.span_ms = ev->span;
	if (s->low_traffic == LOW_CANARY || cs->why[0] == '\0' ||
	    cs->nodata) {
		check_set(cs, 0, "%s: %llu in %s, below min-queries %llu",
		    what, (unsigned long long)ev->total,
		    span_text(span, sizeof(span), ev->span),
		    (unsigned long long)s->min_queries);
		cs->nodata = 1;
	}
	/* else: LOW_KEEP leaves bad and why as they were ... */
	else if (cs->bad)
		cs->held = 1;	/* ... until a retry: recover() */
}

/* The evidence for a ratio or latency check, or 0 when there is none. */
static int
evidence(struct check_state *cs, const struct check_input *in,
    enum ev_kind kind, const char *what, struct evidence *ev)
{
	const struct service_conf	*s = in->s;
	struct ev_conf			 ec = { .window_ms = s->window_ms,
	    .min = s->min_queries, .grace_ms = s->checks.grace_ms };

	if (window_evidence(in->win, kind, &ec, ev) < 0)
		return (0);
	if (!ev->enough) {
		low_traffic(cs, s, what, ev);
		return (0);
	}
	cs->judged = 1;
	return (1);
}

/* Up to three groups of a level by name, "e.g. broken.example, group 7". */
static void
group_names(const struct feed_view *v, enum ah_level lv,
    const struct fault_level *f, char *buf, size_t len)
{
	const char	*name;
	size_t		 n = 0;
	unsigned int	 i;

	buf[0] = '\0';
	for (i = 0; i < f->ngroups && i < 3 && n < len; i++) {
		if ((name = feed_domain(v, lv, (int)f->group[i])) != NULL)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    i ? ", " : "", name);
		else
			n += (size_t)snprintf(buf + n, len - n, "%sgroup %u",
			    i ? ", " : "", f->group[i]);
	}
}

/* "1 domain group (e.g. broken.example)", "2 public-suffix groups (...)" */
static void
held_text(const struct feed_view *v, enum ah_level lv,
    const struct fault_level *f, char *buf, size_t len)
{
	char names[96];

	group_names(v, lv, f, names, sizeof(names));
	snprintf(buf, len, "%u %s group%s (e.g. %s)", f->ngroups,
	    ah_level_names[lv], f->ngroups == 1 ? "" : "s", names);
}

void
check_fault_conf(const struct service_conf *s, const struct feed *feed,
    const struct fault_base *base, struct fault_conf *fc)
{
	*fc = (struct fault_conf){ .max_groups = s->fault_groups,
	    .share = s->fault_share, .window_ms = s->window_ms,
	    .grace_ms = s->checks.grace_ms, .v2 = feed->proto < 3,
	    .causes = feed->causes, .base = base };
}

/*
 * "62% of 214 over 0.3s; usually 58%": how the other names resolve;
 * "62% of 214 over 0.3s, 80 more failed by their servers; usually 58%"
 * when what the servers gave is left out ("... or timed out", with
 * their timeouts).
 */
static void
resolving(const struct fault_level *f, char *buf, size_t len)
{
	uint64_t	n = f->ok_else + f->bad_else;
	char		span[32], srv[80] = "";

	if (f->srv_else > 0)
		snprintf(srv, sizeof(srv), ", %llu more failed by their "
		    "servers%s", (unsigned long long)f->srv_else,
		    f->servers == SRV_SILENT ? " or timed out" : "");
	snprintf(buf, len, "%.0f%% of %llu over %s%s; %s%.0f%%",
	    n ? 100.0 * (double)f->ok_else / (double)n : 0.0,
	    (unsigned long long)n, span_text(span, sizeof(span), f->span_else),
	    srv, f->fresh ? "no usual rate yet, taken as " : "usually ",
	    f->usual * 100);
}

/* "starts 3.1x its usual recursions": the load that excused a level. */
static void
load_text(const struct fault_level *f, char *buf, size_t len)
{
	if (f->load_r > 2 && f->load_r >= f->load_q)
		snprintf(buf, len, "starts %.1fx its usual recursions",
		    f->load_r);
	else if (f->load_q > 2)
		snprintf(buf, len, "takes %.1fx its usual queries", f->load_q);
	else
		snprintf(buf, len, "sheds recursions");
}

/*
 * Where one level's failures are, when it does not excuse them;
 * nothing for a level without failures.
 */
static size_t
not_excused(const struct feed_view *v, enum ah_level lv,
    const struct fault_level *f, char *buf, size_t len)
{
	char held[160];

	switch (f->verdict) {
	case FAULT_SPREAD:
	case FAULT_NO_RESOLUTION:
		if (f->ngroups == 1) {
			held_text(v, lv, f, held, sizeof(held));
			return ((size_t)snprintf(buf, len, "%s", held));
		}
		return ((size_t)snprintf(buf, len, "%u of %d %s groups",
		    f->ngroups, AH_DOM_BUCKETS, ah_level_names[lv]));
	default:
		buf[0] = '\0';
		return (0);
	}
}

/*
 * "answers slower than usual: 0 within 100ms over 0.6s, 18 usual";
 * "answers still slower ..." where the node is held down so (slow_hold()).
 */
static void
slow_text(const struct fault *f, int hold, char *buf, size_t len)
{
	char	span[32];

	snprintf(buf, len, "answers %sslower than usual: %llu within %ums "
	    "over %s, %.0f usual: this node", hold ? "still " : "",
	    (unsigned long long)f->slow_fast,
	    f->slow_ms, span_text(span, sizeof(span), f->slow_span),
	    f->slow_expected);
}

/*
 * "failures in 14 of 16 domain groups and 9 of 16 public-suffix groups;
 * names elsewhere resolve 53% of 36 over 0.9s; usually 89%: this node"
 */
static void
node_text(const struct feed_view *v, const struct fault *f, char *buf,
    size_t len)
{
	char		res[96];
	size_t		n;
	unsigned int	lv;

	resolving(&f->l[f->level], res, sizeof(res));
	n = (size_t)snprintf(buf, len, "failures in ");
	for (lv = 0; lv < f->nlevels && n < len; lv++) {
		if (lv > 0 && f->l[lv].verdict != FAULT_NO_DATA)
			n += (size_t)snprintf(buf + n, len - n, " and ");
		if (n < len)
			n += not_excused(v, lv, &f->l[lv], buf + n, len - n);
	}
	if (n < len && f->verdict == FAULT_SPREAD)
		snprintf(buf + n, len - n, ", overdue everywhere: this node");
	else if (n < len)
		snprintf(buf + n, len - n, "; names elsewhere resolve %s: "
		    "this node", res);
}

/*
 * Within the window of this check's last excuse as the world's: what
 * fails then is most likely that fault's, or its end's.
 */
static int
near_world(const struct check_state *cs, const struct check_input *in,
    const struct evidence *ev)
{
	return (cs->world_at != 0 &&
	    ev->t1 - cs->world_at < (int64_t)in->s->window_ms);
}

/*
 * Excused as the recursion check's question, under its own limit and on
 * its own groups ('since': why it is theirs), 1 if so.  Only where the
 * service has a recursion check: excused with none to judge them, a
 * node failing during a world outage would pass.  Excused, not learnt
 * from (learn()).
 */
static int
to_recursions(struct check_state *cs, const struct check_input *in,
    const char *since)
{
	size_t	n = strlen(cs->why);

	if (!recfail_on(in->s))
		return (0);
	cs->bad = 0;
	cs->excused = cs->unusual = 1;
	snprintf(cs->why + n, sizeof(cs->why) - n, ", but %s; failures are "
	    "the recursion check's to judge", since);
	return (1);
}

/*
 * Names elsewhere not resolving as usual within the window of this
 * check's last excuse as the world's: most likely that fault's, or its
 * end's.  For SERVFAILs and for latency that is the recursion check's
 * question, under its own limit and on its own groups: the SERVFAIL
 * check orders the groups by its own short span (0.2 s at 1,000
 * queries a second), where a bunch of the background's failures (a
 * broken domain's names, their A and AAAA) can push a group into the
 * few left out and .co.uk's into the rest, and the catalogue's bogus
 * .nl moved a node 7.9 s in (1 trial of 10) while the recursion check
 * excused .nl at the same moment.  At the same fault's end, late
 * answers with a few groups overdue moved a node for 0.3 s 1.45 s
 * after .nl was fixed (1 trial of 5), the recursion check within its
 * limit.  The latency check's own questions stay its own (slower than
 * usual, overdue everywhere, stopped), so only with answers not slower
 * than the usual learnt (without one, nothing says they are as fast).
 * Only where the service has a recursion check: a node failing during
 * a world outage is still found, stopped, slower than usual, its clock
 * stepped, or its recursions failing beyond their limit everywhere.
 * Excused, not learnt from; or slower than usual after all, this
 * node's in those words: 1 if the words are written.
 */
static int
recursions_to_judge(struct check_state *cs, const struct check_input *in,
    enum ev_kind kind, const struct evidence *ev,
    const struct fault_conf *fc)
{
	struct fault	f;
	char		span[32], since[128];
	size_t		n = strlen(cs->why);

	if (!recfail_on(in->s) || (kind != EV_ANSWERS && kind != EV_QUERIES))
		return (0);
	if (kind == EV_ANSWERS && fault_slow(in->win, ev, fc, &f)) {
		/* This node's, in the words that say why. */
		snprintf(cs->why + n, sizeof(cs->why) - n, "; ");
		slow_text(&f, fc->hold, cs->why + n + 2,
		    sizeof(cs->why) - n - 2);
		return (1);
	}
	if (kind == EV_ANSWERS && !f.slow_asked)
		return (0);
	snprintf(since, sizeof(since), "%s after an excuse as the world's%s",
	    span_text(span, sizeof(span), ev->t1 - cs->world_at),
	    kind == EV_ANSWERS ? ", and answers not slower than usual (an "
	    "outage's end)" : "");
	return (to_recursions(cs, in, since));
}

/*
 * A failing check may be no fault at all, or the world's rather than
 * this node's: a resolver's usual background of broken domains, or an
 * external domain or suffix that every node of the fleet sees fail at
 * once; moving traffic between them helps nobody (doc/fleet.md).  Says
 * whose fault it is after the check's text, and excuses it unless it
 * is this node's, or while nobody can tell yet.  'hold': the latency
 * check's (slow_hold()).
 */
static void
shared_fault(struct check_state *cs, const struct check_input *in,
    enum ev_kind kind, const struct evidence *ev, int hold)
{
	const struct service_conf	*s = in->s;
	struct fault_conf		 fc;
	const struct fault_level	*fl;
	struct fault			 f;
	char				*why = cs->why, held[168], span[32];
	char				 heldg[160];
	char				 other[256], res[96], load[64];
	size_t				 n = strlen(why), len = sizeof(cs->why);

	if (!cs->bad)
		return;
	check_fault_conf(s, in->feed, in->base, &fc);
	fc.hold = hold;
	fault_judge(in->win, ev, kind, &fc, &f);
	fl = &f.l[f.level];
	held_text(in->view, f.level, fl, heldg, sizeof(heldg));
	resolving(fl, res, sizeof(res));
	/*
	 * Down, and no usual learnt yet (the relay has just started, or
	 * the node went down before it learnt one): the rates of before
	 * the fault are all the evidence of "as usual", and a node that has
	 * lost its clients has little else.  Not excused: it comes back
	 * when its checks pass, or through a retry.
	 */
	if (!in->up && fl->fresh && (f.verdict == FAULT_USUAL ||
	    f.verdict == FAULT_EXTERNAL || f.verdict == FAULT_UNSURE)) {
		snprintf(why + n, len - n, "; no usual rate learnt yet, and "
		    "down: not excused");
		return;
	}
	switch (f.verdict) {
	case FAULT_USUAL:
		cs->bad = 0;
		cs->excused = 1;
		snprintf(why + n, len - n, ", but names resolve as usual (%s): "
		    "this node's usual failures, no fault", res);
		break;
	case FAULT_EXTERNAL:
	case FAULT_UNSURE:
		/* The world's, or too little to call it this node's. */
		cs->bad = 0;
		cs->excused = cs->unusual = 1;
		span_text(span, sizeof(span), fl->span_else);
		if (f.verdict == FAULT_EXTERNAL && fl->load) {
			load_text(fl, load, sizeof(load));
			snprintf(other, sizeof(other), "while named %s and "
			    "other names resolve %s: external fault and load, "
			    "not this node", load, res);
		} else if (f.verdict == FAULT_EXTERNAL)
			snprintf(other, sizeof(other), "while other names "
			    "resolve as usual (%s): external fault, not this "
			    "node", res);
		else
			snprintf(other, sizeof(other), "and only %llu "
			    "recursions finished elsewhere over %s: cannot "
			    "tell yet whose fault",
			    (unsigned long long)(fl->ok_else + fl->bad_else),
			    span);
		if (fl->ngroups == 0 && f.verdict == FAULT_EXTERNAL)
			snprintf(held, sizeof(held), "what their servers gave "
			    "(lame, refusing, failing%s)",
			    fl->servers == SRV_SILENT ?
			    ", unreachable or silent" : " or unreachable");
		else
			snprintf(held, sizeof(held), "in %s", heldg);
		snprintf(why + n, len - n, ", but %.0f%% of failures are %s "
		    "%s", fl->held * 100, held, other);
		if (f.verdict == FAULT_EXTERNAL)
			cs->world_at = ev->t1;
		/*
		 * No route changes, so no other line would tell: say it,
		 * at most once a minute per check.
		 */
		if (f.verdict == FAULT_EXTERNAL && (cs->excuse_logged == 0 ||
		    ev->t1 - cs->excuse_logged >= 60000)) {
			log_info("service %s: %s", s->name, why);
			cs->excuse_logged = ev->t1;
		}
		break;
	case FAULT_SPREAD:
	case FAULT_NO_RESOLUTION:
		if (f.stopped) {
			snprintf(why + n, len - n, "; recursions stopped "
			    "getting answers (%llu over %s, %.0f usual): this "
			    "node",
			    (unsigned long long)f.stop_ok,
			    span_text(span, sizeof(span), f.stop_span),
			    f.stop_expected);
			break;
		}
		if (f.slow) {
			snprintf(why + n, len - n, "; ");
			slow_text(&f, hold, why + n + 2, len - n - 2);
			break;
		}
		if (f.verdict == FAULT_NO_RESOLUTION &&
		    near_world(cs, in, ev) && recursions_to_judge(cs, in,
		    kind, ev, &fc))
			break;
		snprintf(why + n, len - n, "; ");
		n += 2;
		if (n < len)
			node_text(in->view, &f, why + n, len - n);
		break;
	case FAULT_OWN_ZONES:
		snprintf(why + n, len - n, "; SERVFAIL from zones this node "
		    "serves: this node");
		break;
	case FAULT_NO_DATA:
		/*
		 * Late answers, none overdue now, and not slower than the
		 * usual learnt (slow_everywhere()): an outage's end.  Asked
		 * here too whether names fail, its judge moved a node 2 s
		 * after the catalogue's .nl bogus was fixed, the recursion
		 * check within its limit.  Without a usual to be slower
		 * than (a plugin without groups, or none learnt yet), or
		 * without a recursion check: nothing to tell whose fault.
		 */
		if (kind == EV_ANSWERS && f.slow_asked && to_recursions(cs, in,
		    "none overdue now and answers not slower than usual (late "
		    "answers already in: an outage's end)"))
			break;
		snprintf(why + n, len - n, "; no failures in the plugin's "
		    "domain groups to tell whose fault");
		break;
	case FAULT_OFF:
		break;
	}
}

static void
judge_servfail(struct check_state *cs, const struct check_input *in)
{
	const struct checks_conf	*k = &in->s->checks;
	struct evidence			 ev;
	double				 ratio;
	char				 span[32], quota[64] = "";

	if (!evidence(cs, in, EV_QUERIES, "queries", &ev))
		return;
	if (ev.d.c[SMP_QUOTA] > 0)
		snprintf(quota, sizeof(quota), ", %llu recursive-clients drops "
		    "not counted", (unsigned long long)ev.d.c[SMP_QUOTA]);
	ratio = (double)ev.bad / (double)ev.total;
	set_value(cs, ratio, k->servfail_max, ev.total, ev.span);
	check_set(cs, ratio > k->servfail_max,
	    "SERVFAIL %.0f%% %s %.0f%% over %s (%llu queries%s)", ratio * 100,
	    ratio > k->servfail_max ? ">" : "<=", k->servfail_max * 100,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.total, quota);
	shared_fault(cs, in, EV_QUERIES, &ev, 0);
}

/*
 * Within the limit, and yet failing far beyond the usual everywhere: a
 * clock a day behind fails the fresh names it must validate (half the
 * recursions) while the cache answers the rest, and its ratio sits at
 * the operator's limit for seconds.  Only failures that finished (the
 * servers or validation said no), most of the check's, and at half its
 * limit or more: a pause of named (reconfig) or a provider's outage
 * leaves recursions unanswered, which fault_worse() would take for
 * failures everywhere too, and the limit keeps those for the operator.
 * Nor within the window of an excuse as the world's: the failures it
 * holds are that fault's, and at its end they spread (the catalogue's
 * .nl bogus, fixed: .nl resolved again while the domains hosted on its
 * servers, under every suffix, still failed, within the limit, and the
 * node moved 1.3-2.9 s later in 4 trials of 13).
 */
static void
worse_than_usual(struct check_state *cs, const struct check_input *in,
    const struct evidence *ev, double ratio)
{
	struct fault_conf	fc;
	struct fault		f;
	size_t			n;

	if (ratio < in->s->checks.recfail_max / 2 ||
	    ev->failed <= ev->timedout + ev->unanswered)
		return;
	if (near_world(cs, in, ev)) {
		/* Nor learnt from: learnt, they would be usual past it. */
		cs->unusual = 1;
		return;
	}
	check_fault_conf(in->s, in->feed, in->base, &fc);
	if (!fault_worse(in->win, ev, &fc, &f))
		return;
	cs->bad = 1;
	n = strlen(cs->why);
	snprintf(cs->why + n, sizeof(cs->why) - n, ", but far beyond the "
	    "usual: ");
	n = strlen(cs->why);
	node_text(in->view, &f, cs->why + n, sizeof(cs->why) - n);
}

/*
 * Validation failing in several domains just after named's clock
 * stepped an hour or more (fault.h): this node's, whatever the ratio
 * and the shared-fault rule say; 1 if so.
 */
static int
clock_stepped(struct check_state *cs, const struct check_input *in)
{
	const struct feed	*fd = in->feed;
	struct fault_conf	 fc;
	struct fault		 f;
	int64_t			 d = fd->stepped_ms;
	char			 by[32], ago[32], span[32];
	size_t			 n;

	if (fd->stepped_at == 0 || (d < FAULT_STEP_MS && d > -FAULT_STEP_MS))
		return (0);
	check_fault_conf(in->s, fd, in->base, &fc);
	if (!fault_stepped(in->win, &fc, fd->stepped_at, &f))
		return (0);
	cs->bad = 1;
	cs->excused = 0;
	n = strlen(cs->why);
	snprintf(cs->why + n, sizeof(cs->why) - n, "; named's clock stepped "
	    "%s by %s %s ago, and since then %llu recursions failed "
	    "validation in %u domain groups where %.1f were usual over %s: "
	    "this node", d > 0 ? "forward" : "back",
	    span_text(by, sizeof(by), d > 0 ? d : -d),
	    span_text(ago, sizeof(ago), in->now - fd->stepped_at),
	    (unsigned long long)f.step_bad, f.step_groups, f.step_expected,
	    span_text(span, sizeof(span), f.step_span));
	return (1);
}

/*
 * A silent upstream shows up as recursions started and never finished
 * long before named's own timeout (10 s or more) turns them into
 * failures: one still unanswered after 'unanswered-after' counts as a
 * failure (policy.c says exactly how).
 */
static void
judge_recfail(struct check_state *cs, const struct check_input *in)
{
	const struct checks_conf	*k = &in->s->checks;
	struct evidence			 ev;
	double				 ratio;
	char				 span[32];

	if (!evidence(cs, in, EV_RECURSIONS, "recursions", &ev))
		return;
	ratio = (double)ev.bad / (double)ev.total;
	set_value(cs, ratio, k->recfail_max, ev.total, ev.span);
	check_set(cs, ratio > k->recfail_max,
	    "recursion failures %.0f%% %s %.0f%% over %s (%llu failed, %llu "
	    "timed out, %llu unanswered after %lldms, of %llu)", ratio * 100,
	    ratio > k->recfail_max ? ">" : "<=", k->recfail_max * 100,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.failed, (unsigned long long)ev.timedout,
	    (unsigned long long)ev.unanswered, (long long)k->grace_ms,
	    (unsigned long long)ev.total);
	if (clock_stepped(cs, in))
		return;
	if (cs->bad) {
		shared_fault(cs, in, EV_RECURSIONS, &ev, 0);
		return;
	}
	worse_than_usual(cs, in, &ev, ratio);
}

/*
 * Failed as this node's at the last evaluation, and down since: slower
 * than usual holds it down more loosely than it took it down (fault.h).
 * A lossy uplink's fast answers hover about half the usual: judged as
 * strictly as on the way down, the catalogue's 30 % loss came back up
 * 0.2 s after going down and went down again 0.2 s later, in 2 trials
 * of 6, and flap damping then held it down for 90 s.
 */
static int
slow_hold(const struct check_state *cs, const struct check_input *in)
{
	return (!in->up && cs->bad);
}

static void
judge_latency(struct check_state *cs, const struct check_input *in)
{
	const struct checks_conf	*k = &in->s->checks;
	struct evidence			 ev;
	struct fault_conf		 fc;
	struct fault			 f;
	int64_t				 q;
	int				 bad, hold = slow_hold(cs, in);
	size_t				 n;
	char				 span[32], qs[24];

	if (!evidence(cs, in, EV_ANSWERS, "recursive answers", &ev))
		return;
	/* -1: beyond the last bucket, over 5 s. */
	q = latency_quantile(&ev.d, k->latency_quantile);
	bad = q < 0 || q > k->latency_max_ms;
	set_value(cs, q < 0 ? INFINITY : (double)q,
	    (double)k->latency_max_ms, ev.total, ev.span);
	if (q < 0)
		snprintf(qs, sizeof(qs), ">5000ms");
	else
		snprintf(qs, sizeof(qs), "<=%lldms", (long long)q);
	check_set(cs, bad, "recursion p%.0f %s %s %lldms over %s "
	    "(%llu answers)", k->latency_quantile * 100, qs,
	    bad ? ">" : "within", (long long)k->latency_max_ms,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.total);
	if (bad) {
		shared_fault(cs, in, EV_ANSWERS, &ev, hold);
		return;
	}
	/*
	 * Within the limit, and yet far slower than usual: a delay on
	 * every round trip keeps the quantile under a second and every
	 * answer late (fault.h).
	 */
	check_fault_conf(in->s, in->feed, in->base, &fc);
	fc.hold = hold;
	if (fault_slow(in->win, &ev, &fc, &f)) {
		n = strlen(cs->why);
		cs->bad = 1;
		snprintf(cs->why + n, sizeof(cs->why) - n, ", but ");
		n = strlen(cs->why);
		slow_text(&f, hold, cs->why + n, sizeof(cs->why) - n);
	}
}

/*
 * Zone state older than the limit.  The view is live (live_view():
 * queries or probes reach it), so each of them could have started a
 * walk: the walk itself is behind, not the traffic.  Its age is on the
 * relay's monotonic clock (feed.c, walked_at()): no step of either
 * machine's wall clock makes a walk late.
 */
static void
walk_late(struct check_state *cs, const struct check_input *in,
    const char *what, int64_t age)
{
	char ago[32];

	if (age < 0)
		snprintf(ago, sizeof(ago), "never walked");
	else
		snprintf(ago, sizeof(ago), "state %llds old",
		    (long long)(age / 1000));
	check_set(cs, 1, "%s: %s, although queries reach view %s: "
	    "the plugin's zone walk is late (zone-interval %llums)", what, ago,
	    in->s->view, (unsigned long long)in->feed->zone_interval_ms);
}

/*
 * checks.zones: all.  The plugin (all-zones yes) summarises every zone
 * of the view and details the first unhealthy ones.
 */
static void
judge_all_zones(struct check_state *cs, const struct check_input *in,
    int64_t limit)
{
	const struct service_conf	*s = in->s;
	const struct feed_view		*v = in->view;
	uint64_t			 watched, good;
	char				 names[100] = "";
	size_t				 i, n = 0;
	int64_t				 age;

	if (feed_counter(v, FEED_ZONES "watched", &watched) < 0 ||
	    feed_counter(v, FEED_ZONES "healthy", &good) < 0 ||
	    v->zones_walked == 0) {
		check_set(cs, 1, "zones: the plugin reports none in "
		    "view %s (set all-zones yes, and send it queries)",
		    s->view);
		return;
	}
	age = in->now - v->zones_walked;
	if (age > limit) {
		walk_late(cs, in, "zones", age);
		return;
	}
	set_value(cs, (double)(watched - good), 0, watched, 0);
	if (good == watched) {
		check_set(cs, 0, "all %llu zones loaded",
		    (unsigned long long)watched);
		return;
	}
	for (i = 0; i < in->feed->zones.n && n < sizeof(names); i++) {
		const struct feed_zone *z = &in->feed->zones.z[i];

		if (strcmp(z->view, s->view) != 0 ||
		    (z->found && z->loaded && !z->expired))
			continue;
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    n ? ", " : "", z->name);
	}
	check_set(cs, 1, "%llu of %llu zones unhealthy: %s",
	    (unsigned long long)(watched - good), (unsigned long long)watched,
	    names[0] ? names : "?");
}

static void
judge_zones(struct check_state *cs, const struct check_input *in)
{
	const struct service_conf	*s = in->s;
	const struct checks_conf	*k = &s->checks;
	const struct feed_zone		*z;
	/* Zone times are named's: judged by its clock (its last tick). */
	int64_t				 now_s = in->feed->last_tick_real / 1000;
	int64_t				 limit, age;
	size_t				 i;
	char				 what[AH_VIEW_LEN + 8];

	/* Listed zones stop at the first problem: at least one is bad. */
	set_value(cs, 1, 0, k->nzones, 0);
	/*
	 * A query of the view starts the plugin's zone walk, at most once
	 * per zone-interval, and the liveness probe sends one whenever
	 * clients do not.  Old zone state proves nothing.
	 */
	limit = 3 * (int64_t)in->feed->zone_interval_ms +
	    (s->canary.enabled ? s->canary.interval_ms : 0) + 1000;
	if (k->all_zones) {
		judge_all_zones(cs, in, limit);
		return;
	}
	for (i = 0; i < k->nzones; i++) {
		const char *name = k->zones[i];

		if ((z = feed_zone(in->feed, s->view, name)) == NULL) {
			check_set(cs, 1, "zone %s: not reported by "
			    "the plugin (list it in the plugin's zones)", name);
			return;
		}
		age = in->now - z->walked;
		if (z->checked == 0 || age > limit) {
			snprintf(what, sizeof(what), "zone %s", name);
			walk_late(cs, in, what, z->checked ? age : -1);
			return;
		}
		if (!z->found) {
			check_set(cs, 1, "zone %s: not in view %s",
			    name, s->view);
			return;
		}
		if (z->expired || (z->expire != 0 && now_s >= z->expire)) {
			check_set(cs, 1, "zone %s: expired %llds "
			    "ago", name, (long long)(now_s - z->expire));
			return;
		}
		if (!z->loaded) {
			check_set(cs, 1, "zone %s: not loaded", name);
			return;
		}
		if (k->serial_age_max_ms > 0 && z->loaded_at > 0 &&
		    (now_s - z->loaded_at) * 1000 > k->serial_age_max_ms) {
			check_set(cs, 1, "zone %s: serial %llu is "
			    "%llds old > %llds", name,
			    (unsigned long long)z->serial,
			    (long long)(now_s - z->loaded_at),
			    (long long)(k->serial_age_max_ms / 1000));
			return;
		}
	}
	set_value(cs, 0, 0, k->nzones, 0);
	check_set(cs, 0, "%zu zone%s loaded", k->nzones,
	    k->nzones == 1 ? "" : "s");
}

static void
judge_canary(struct check_state *cs, const struct check_input *in)
{
	const struct service_conf	*s = in->s;
	const struct canary		*c = in->canary;
	int64_t				 now = in->now;

	cs->val.have = 0;
	/*
	 * No answer yet fails closed at start-up.  After a reload changed
	 * the canary, the last one's result stands until the new one has
	 * its own, and a canary the reload added keeps the route as it is:
	 * a reload that promised to change nothing moves nothing.
	 */
	if (!c->have_result && c->renewed && c->had_before)
		check_set(cs, !c->before_ok, "canary %s: changed by a reload, "
		    "no answer yet; until then the last canary's: %s",
		    s->canary.qname, c->before);
	else if (!c->have_result && c->renewed)
		check_set(cs, !in->up, "canary %s: added by a reload, no "
		    "answer yet: the route stays as it is until then",
		    s->canary.qname);
	else if (!c->have_result)
		check_set(cs, 1, "canary: no answer yet");
	else if (now - c->result_at > 2 * (int64_t)s->canary.interval_ms +
	    (int64_t)s->canary.timeout_ms)
		check_set(cs, 1, "canary: no result for %lld ms",
		    (long long)(now - c->result_at));
	else {
		set_value(cs, c->ok ? (double)c->rtt_ms : INFINITY,
		    (double)s->canary.timeout_ms, 1, 0);
		check_set(cs, !c->ok, "canary %s: %s",
		    s->canary.qname, c->result);
	}
}


void
check_forget(struct check_state *cs)
{
	cs->bad = cs->excused = cs->unusual = cs->retried = cs->nodata = 0;
	cs->world_at = 0;
	cs->why[0] = '\0';
	memset(&cs->val, 0, sizeof(cs->val));
}

/* Which checks a service has: a check without a result still shows. */
static int
servfail_on(const struct service_conf *s)
{
	return (s->checks.servfail_max >= 0);
}

static int
recfail_on(const struct service_conf *s)
{
	return (s->checks.recfail_max >= 0);
}

static int
latency_on(const struct service_conf *s)
{
	return (s->checks.latency_quantile > 0);
}

static int
zones_on(const struct service_conf *s)
{
	return (s->checks.nzones > 0 || s->checks.all_zones);
}

static int
canary_on(const struct service_conf *s)
{
	return (s->canary.enabled);
}

/* What every ratio and latency check takes its span and excuse by. */
static int
evidence_changed(const struct service_conf *a, const struct service_conf *b)
{
	return (a->window_ms != b->window_ms ||
	    a->min_queries != b->min_queries ||
	    a->low_traffic != b->low_traffic ||
	    a->fault_groups != b->fault_groups ||
	    a->fault_share != b->fault_share);
}

static int
servfail_changed(const struct service_conf *a, const struct service_conf *b)
{
	return (evidence_changed(a, b) ||
	    a->checks.servfail_max != b->checks.servfail_max);
}

static int
recfail_changed(const struct service_conf *a, const struct service_conf *b)
{
	return (evidence_changed(a, b) ||
	    a->checks.recfail_max != b->checks.recfail_max ||
	    a->checks.grace_ms != b->checks.grace_ms);
}

static int
latency_changed(const struct service_conf *a, const struct service_conf *b)
{
	const struct checks_conf *x = &a->checks, *y = &b->checks;

	return (evidence_changed(a, b) ||
	    x->latency_quantile != y->latency_quantile ||
	    x->latency_max_ms != y->latency_max_ms ||
	    x->grace_ms != y->grace_ms);
}

static int
zones_changed(const struct service_conf *a, const struct service_conf *b)
{
	const struct checks_conf *x = &a->checks, *y = &b->checks;

	return (x->all_zones != y->all_zones || x->nzones != y->nzones ||
	    memcmp(x->zones, y->zones, sizeof(x->zones)) != 0 ||
	    x->serial_age_max_ms != y->serial_age_max_ms);
}

static int
canary_changed(const struct service_conf *a, const struct service_conf *b)
{
	return (memcmp(&a->canary, &b->canary, sizeof(a->canary)) != 0);
}

/*
 * In the order they are judged and reported.  Metrics are in base
 * units: ratios, seconds, zones.
 */
const struct check_def checks[CHK_COUNT] = {
	[CHK_SERVFAIL] = { "servfail-ratio", "ratio", "servfail_ratio",
	    "SERVFAIL responses among queries over the service's window.", 1,
	    servfail_on, servfail_changed, judge_servfail },
	[CHK_RECFAIL] = { "recursion-failure-ratio", "ratio",
	    "recursion_failure_ratio",
	    "Failed, timed-out and unanswered recursions over the window.", 1,
	    recfail_on, recfail_changed, judge_recfail },
	[CHK_LATENCY] = { "recursion-latency", "ms",
	    "recursion_latency_seconds",
	    "The configured quantile of recursion latency (bucket bound).",
	    0.001, latency_on, latency_changed, judge_latency },
	[CHK_ZONES] = { "zones", "zones", "unhealthy_zones",
	    "Zones of the service's zones check that are not healthy.", 1,
	    zones_on, zones_changed, judge_zones },
	[CHK_CANARY] = { "canary", "ms", "canary_rtt_seconds",
	    "The canary's last round trip; +Inf when it failed.", 0.001,
	    canary_on, canary_changed, judge_canary },
};
