/*
 * health.c - the verdict for a service, and what it means for its routes.
 *
 * Two kinds of trouble.  Hard: no live named behind the feed (socket
 * closed, snapshots stale, the view missing, or no query seen in the
 * view: see live_view()).  The route goes at once,
 * whatever 'fall' says, and is withdrawn even where degraded routes are
 * configured: nobody should be sent to a dead server.  Soft: named runs
 * but serves badly (SERVFAIL ratio, recursion failures or latency,
 * zones not loaded or expired, the canary failing).  Soft trouble goes
 * through hysteresis and damping, and the service is withdrawn or
 * depreferred as configured.
 *
 * Fail closed: a service starts down and comes up only on evidence.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ahclock.h"
#include "canary.h"
#include "check.h"
#include "drain.h"
#include "feed.h"
#include "health.h"
#include "liveness.h"
#include "log.h"
#include "policy.h"
#include "relay.h"
#include "route.h"
#include "state.h"

void
health_init(struct service_state *st, const struct service_conf *s)
{
	struct judge_conf jc;

	memset(st, 0, sizeof(*st));
	jc = (struct judge_conf){ .rise = s->rise, .fall = s->fall,
	    .max_changes = s->max_changes, .period_ms = s->period_ms,
	    .hold_ms = s->hold_ms, .max_hold_ms = s->max_hold_ms };
	judge_init(&st->judge, &jc);
	retry_init(&st->retry, &(struct retry_conf){ .first_ms = s->retry_ms,
	    .max_ms = s->max_retry_ms });
	window_reset(&st->win);
	/* Also without a canary: its socket is then -1, never stdin's 0. */
	canary_init(&st->canary, &s->canary);
	liveness_init(&st->live, &s->liveness, &s->canary);
	st->route.mode = ROUTE_WITHDRAWN;
	st->hard = 1;
	snprintf(st->reason, sizeof(st->reason), "starting: no evidence yet");
}

static struct judge_conf
judge_conf(const struct service_conf *s)
{
	return ((struct judge_conf){ .rise = s->rise, .fall = s->fall,
	    .max_changes = s->max_changes, .period_ms = s->period_ms,
	    .hold_ms = s->hold_ms, .max_hold_ms = s->max_hold_ms });
}

static struct retry_conf
retry_conf(const struct service_conf *s)
{
	return ((struct retry_conf){ .first_ms = s->retry_ms,
	    .max_ms = s->max_retry_ms });
}

/* A reason may be cut short by very long view names; that is fine. */
static void
say(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/*
 * Why a silent view is silent, in words: the probe's own diagnostics
 * first, then whether its probes land in another view.
 */
static void
why_silent(const struct feed *f, const struct feed_view *v,
    const struct liveness *l, int64_t now, int64_t silent, char *why,
    size_t len)
{
	size_t i;

	if (l->refused_at != 0 && now - l->refused_at <= (int64_t)f->stale_ms) {
		say(why, len, "no query seen in view %s for %lld ms, and "
		    "liveness probes to %s are refused: named does not listen "
		    "there", v->name, (long long)silent, l->target);
		return;
	}
	for (i = 0; i < f->nviews; i++)
		if (&f->views[i] != v && f->views[i].probed_at > v->active_at &&
		    now - f->views[i].probed_at <= (int64_t)f->stale_ms) {
			say(why, len, "liveness probes from %s land in "
			    "view %s, not %s: give the service a liveness "
			    "source that view %s matches",
			    l->source[0] ? l->source : "the default address",
			    f->views[i].name, v->name, v->name);
			return;
		}
	if (v->active_at == 0)
		say(why, len, "no query seen in view %s yet (liveness "
		    "probes to %s%s%s)", v->name, l->target,
		    l->error[0] ? ": " : "", l->error);
	else
		say(why, len, "no query seen in view %s for %lld ms "
		    "(stale-after %u ms), snapshots still arriving: named's "
		    "query threads hung?", v->name, (long long)silent,
		    f->stale_ms);
}

/*
 * Hard trouble, or NULL when a live named publishes the view: its
 * snapshots arrive, and its query path was seen working (the view's
 * 'queries' or 'probes' went up) within stale-after.  Silence counts
 * from the later of that evidence and the last restart of the probes,
 * so a relay that was itself not scheduled does not blame named.
 */
static const struct feed_view *
live_view(const struct relay *r, const struct service_conf *s,
    const struct service_state *st, int64_t now, char *why, size_t len)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	int64_t			 age, from;

	if (f->state != FEED_UP) {
		snprintf(why, len, "no feed from named: %s", f->error);
		return (NULL);
	}
	if (f->last_tick == 0) {
		snprintf(why, len, "connected to named, no snapshot yet");
		return (NULL);
	}
	age = now - f->last_tick;
	if (age > (int64_t)f->stale_ms) {
		snprintf(why, len, "last snapshot %lld ms ago, more than "
		    "stale-after %u ms (named hung or stopped?)",
		    (long long)age, f->stale_ms);
		return (NULL);
	}
	if ((v = feed_view(f, s->view)) == NULL) {
		snprintf(why, len, "named publishes no view '%s'", s->view);
		return (NULL);
	}
	from = v->active_at > st->live.resumed ? v->active_at :
	    st->live.resumed;
	if (v->active_at == 0 || now - from > (int64_t)f->stale_ms) {
		why_silent(f, v, &st->live, now, now - from, why, len);
		return (NULL);
	}
	return (v);
}

/*
 * When live_view() next changes its mind unless something arrives:
 * monotonic ms, or INT64_MAX.
 */
int64_t
health_deadline(const struct relay *r, size_t i)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	int64_t			 t = INT64_MAX, from;

	if (f->state != FEED_UP || f->last_tick == 0)
		return (t);
	t = f->last_tick + f->stale_ms + 1;
	if ((v = feed_view(f, r->conf->services[i].view)) != NULL &&
	    v->active_at != 0) {
		from = v->active_at > r->svc[i].live.resumed ? v->active_at :
		    r->svc[i].live.resumed;
		if (from + f->stale_ms + 1 < t)
			t = from + f->stale_ms + 1;
	}
	return (t);
}

static uint64_t
counter(const struct feed_view *v, const char *key)
{
	uint64_t x = 0;

	(void)feed_counter(v, key, &x);
	return (x);
}

static void
take_sample(const struct feed_view *v, int64_t now, struct sample *s)
{
	static const struct {
		const char	*key;
		enum smp	 i;
	} keys[] = {
		{ "queries", SMP_QUERIES }, { "servfail", SMP_SERVFAIL },
		{ "auth_servfail", SMP_AUTH_SERVFAIL }, { "rec_quota", SMP_QUOTA },
		{ "rec_started", SMP_STARTED }, { "rec_success", SMP_SUCCESS },
		{ "rec_failure", SMP_FAILURE }, { "rec_timeout", SMP_TIMEOUT },
		{ "rec_le_1", SMP_LAT }, { "rec_le_2", SMP_LAT + 1 },
		{ "rec_le_5", SMP_LAT + 2 }, { "rec_le_10", SMP_LAT + 3 },
		{ "rec_le_20", SMP_LAT + 4 }, { "rec_le_50", SMP_LAT + 5 },
		{ "rec_le_100", SMP_LAT + 6 }, { "rec_le_200", SMP_LAT + 7 },
		{ "rec_le_500", SMP_LAT + 8 }, { "rec_le_1000", SMP_LAT + 9 },
		{ "rec_le_2000", SMP_LAT + 10 }, { "rec_le_5000", SMP_LAT + 11 },
		{ "rec_le_inf", SMP_LAT + 12 }
	};
	static const struct {
		const char	*fmt;
		enum smp	 i;
	} doms[] = {
		{ "dom_fail_%d", SMP_DOM_FAIL }, { "dom_rstart_%d", SMP_DOM_RSTART },
		{ "dom_rdone_%d", SMP_DOM_RDONE }
	};
	char	key[AH_NAME_MAX + 1];
	size_t	i;
	int	b;

	memset(s, 0, sizeof(*s));
	s->t = now;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		s->c[keys[i].i] = counter(v, keys[i].key);
	/* A plugin without domain groups leaves them 0: nothing excused. */
	for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++)
		for (b = 0; b < DOM_BUCKETS; b++) {
			snprintf(key, sizeof(key), doms[i].fmt, b);
			s->c[doms[i].i + b] = counter(v, key);
		}
}

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

static void
set_check(struct service_state *st, enum check_id c, int bad,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
set_check(struct service_state *st, enum check_id c, int bad,
    const char *fmt, ...)
{
	va_list ap;

	st->bad[c] = bad;
	st->excused[c] = 0;
	va_start(ap, fmt);
	vsnprintf(st->why[c], sizeof(st->why[c]), fmt, ap);
	va_end(ap);
}

/* The figures behind a check's words, for 'show checks' and metrics. */
static void
set_value(struct service_state *st, enum check_id c, double value,
    double limit, uint64_t samples, int64_t span_ms)
{
	st->val[c] = (struct check_value){ .have = 1, .value = value,
	    .limit = limit, .samples = samples, .span_ms = span_ms };
}

/*
 * Too little traffic to judge a ratio: keep that check's last result,
 * or (low-traffic: canary) pass it and let the canary speak.
 */
static void
low_traffic(struct service_state *st, const struct service_conf *s,
    enum check_id c, const char *what, const struct evidence *ev)
{
	char span[32];

	st->val[c].have = 0;
	st->val[c].samples = ev->total;
	st->val[c].span_ms = ev->span;
	if (s->low_traffic == LOW_CANARY || st->why[c][0] == '\0')
		set_check(st, c, 0, "%s: %llu in %s, below min-queries %llu",
		    what, (unsigned long long)ev->total,
		    span_text(span, sizeof(span), ev->span),
		    (unsigned long long)s->min_queries);
	/* else: LOW_KEEP leaves bad[c] and why[c] as they were ... */
	else if (st->bad[c])
		st->held[c] = 1;	/* ... until a retry: recover() */
}

/* The evidence for check 'c', or 0 when there is none to judge. */
static int
evidence(struct service_state *st, const struct service_conf *s,
    const struct ev_conf *ec, enum check_id c, enum ev_kind kind,
    const char *what, struct evidence *ev)
{
	if (window_evidence(&st->win, kind, ec, ev) < 0)
		return (0);
	if (!ev->enough) {
		low_traffic(st, s, c, what, ev);
		return (0);
	}
	st->judged[c] = 1;
	return (1);
}

/* Up to three groups by name, "e.g. broken.example, group 7". */
static void
group_names(const struct feed_view *v, const struct fault *f, char *buf,
    size_t len)
{
	const char	*name;
	size_t		 n = 0;
	unsigned int	 i;

	buf[0] = '\0';
	for (i = 0; i < f->ngroups && i < 3 && n < len; i++) {
		if ((name = feed_domain(v, (int)f->group[i])) != NULL)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    i ? ", " : "", name);
		else
			n += (size_t)snprintf(buf + n, len - n, "%sgroup %u",
			    i ? ", " : "", f->group[i]);
	}
}

/*
 * A failing check may be the world's fault rather than this node's:
 * every node of the fleet sees an external domain fail at once, and
 * moving traffic between them helps nobody (doc/fleet.md).  Says whose
 * fault it is after the check's text, and excuses it when external.
 */
static void
shared_fault(struct service_state *st, const struct service_conf *s,
    const struct feed_view *v, enum check_id c, enum ev_kind kind,
    const struct evidence *ev)
{
	struct fault_conf	 fc = { .max_groups = s->fault_groups,
	    .share = s->fault_share, .window_ms = s->window_ms,
	    .min = s->min_queries, .grace_ms = s->checks.grace_ms };
	struct fault		 f;
	char			*why = st->why[c], names[96];
	size_t			 n = strlen(why), len = sizeof(st->why[c]);

	if (!st->bad[c])
		return;
	fault_judge(&st->win, ev, kind, &fc, &f);
	group_names(v, &f, names, sizeof(names));
	switch (f.verdict) {
	case FAULT_EXTERNAL:
		st->bad[c] = 0;
		st->excused[c] = 1;
		snprintf(why + n, len - n, ", but %.0f%% of failures are in %u "
		    "domain group%s (e.g. %s) while other names resolve: "
		    "external fault, not this node", f.held * 100, f.ngroups,
		    f.ngroups == 1 ? "" : "s", names);
		/*
		 * No route changes, so no other line would tell: say it,
		 * at most once a minute per check.
		 */
		if (st->excuse_logged[c] == 0 ||
		    ev->t1 - st->excuse_logged[c] >= 60000) {
			log_info("service %s: %s", s->name, why);
			st->excuse_logged[c] = ev->t1;
		}
		break;
	case FAULT_SPREAD:
		snprintf(why + n, len - n, "; failures in %u of %d domain "
		    "groups: this node", f.ngroups, DOM_BUCKETS);
		break;
	case FAULT_NO_RESOLUTION:
		snprintf(why + n, len - n, "; failures in %u domain group%s "
		    "(e.g. %s), but only %llu recursions resolved elsewhere: "
		    "this node", f.ngroups, f.ngroups == 1 ? "" : "s", names,
		    (unsigned long long)f.ok_else);
		break;
	case FAULT_OWN_ZONES:
		snprintf(why + n, len - n, "; SERVFAIL from zones this node "
		    "serves: this node");
		break;
	case FAULT_NO_DATA:
		snprintf(why + n, len - n, "; no failures in the plugin's "
		    "domain groups to tell whose fault");
		break;
	case FAULT_OFF:
		break;
	}
}

static void
check_servfail(struct service_state *st, const struct service_conf *s,
    const struct feed_view *v, const struct ev_conf *ec)
{
	const struct checks_conf	*k = &s->checks;
	struct evidence			 ev;
	double				 ratio;
	char				 span[32], quota[64] = "";

	if (k->servfail_max < 0 ||
	    !evidence(st, s, ec, CHK_SERVFAIL, EV_QUERIES, "queries", &ev))
		return;
	if (ev.d.c[SMP_QUOTA] > 0)
		snprintf(quota, sizeof(quota), ", %llu recursive-clients drops "
		    "not counted", (unsigned long long)ev.d.c[SMP_QUOTA]);
	ratio = (double)ev.bad / (double)ev.total;
	set_value(st, CHK_SERVFAIL, ratio, k->servfail_max, ev.total, ev.span);
	set_check(st, CHK_SERVFAIL, ratio > k->servfail_max,
	    "SERVFAIL %.0f%% %s %.0f%% over %s (%llu queries%s)", ratio * 100,
	    ratio > k->servfail_max ? ">" : "<=", k->servfail_max * 100,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.total, quota);
	shared_fault(st, s, v, CHK_SERVFAIL, EV_QUERIES, &ev);
}

/*
 * A silent upstream shows up as recursions started and never finished
 * long before named's own timeout (10 s or more) turns them into
 * failures: one still unanswered after 'unanswered-after' counts as a
 * failure (policy.c says exactly how).
 */
static void
check_recfail(struct service_state *st, const struct service_conf *s,
    const struct feed_view *v, const struct ev_conf *ec)
{
	const struct checks_conf	*k = &s->checks;
	struct evidence			 ev;
	double				 ratio;
	char				 span[32];

	if (k->recfail_max < 0 || !evidence(st, s, ec, CHK_RECFAIL,
	    EV_RECURSIONS, "recursions", &ev))
		return;
	ratio = (double)ev.bad / (double)ev.total;
	set_value(st, CHK_RECFAIL, ratio, k->recfail_max, ev.total, ev.span);
	set_check(st, CHK_RECFAIL, ratio > k->recfail_max,
	    "recursion failures %.0f%% %s %.0f%% over %s (%llu failed, %llu "
	    "timed out, %llu unanswered after %lldms, of %llu)", ratio * 100,
	    ratio > k->recfail_max ? ">" : "<=", k->recfail_max * 100,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.failed, (unsigned long long)ev.timedout,
	    (unsigned long long)ev.unanswered, (long long)k->grace_ms,
	    (unsigned long long)ev.total);
	shared_fault(st, s, v, CHK_RECFAIL, EV_RECURSIONS, &ev);
}

static void
check_latency(struct service_state *st, const struct service_conf *s,
    const struct feed_view *v, const struct ev_conf *ec)
{
	const struct checks_conf	*k = &s->checks;
	struct evidence			 ev;
	int64_t				 q;
	int				 bad;
	char				 span[32], qs[24];

	if (k->latency_quantile <= 0 || !evidence(st, s, ec, CHK_LATENCY,
	    EV_ANSWERS, "recursive answers", &ev))
		return;
	/* -1: beyond the last bucket, over 5 s. */
	q = latency_quantile(&ev.d, k->latency_quantile);
	bad = q < 0 || q > k->latency_max_ms;
	set_value(st, CHK_LATENCY, q < 0 ? INFINITY : (double)q,
	    (double)k->latency_max_ms, ev.total, ev.span);
	if (q < 0)
		snprintf(qs, sizeof(qs), ">5000ms");
	else
		snprintf(qs, sizeof(qs), "<=%lldms", (long long)q);
	set_check(st, CHK_LATENCY, bad, "recursion p%.0f %s %s %lldms over %s "
	    "(%llu answers)", k->latency_quantile * 100, qs,
	    bad ? ">" : "within", (long long)k->latency_max_ms,
	    span_text(span, sizeof(span), ev.span),
	    (unsigned long long)ev.total);
	shared_fault(st, s, v, CHK_LATENCY, EV_ANSWERS, &ev);
}

static void
check_ratios(struct service_state *st, const struct service_conf *s,
    const struct feed_view *v)
{
	struct ev_conf ec = { .window_ms = s->window_ms,
	    .min = s->min_queries, .grace_ms = s->checks.grace_ms };

	check_servfail(st, s, v, &ec);
	check_recfail(st, s, v, &ec);
	check_latency(st, s, v, &ec);
}

/*
 * Zone state older than the limit.  The view is live (live_view():
 * queries or probes reach it), so each of them could have started a
 * walk: the walk itself is behind, not the traffic.
 */
static void
walk_late(struct service_state *st, const struct relay *r,
    const struct service_conf *s, const char *what, int64_t age)
{
	char ago[32];

	if (age < 0)
		snprintf(ago, sizeof(ago), "never walked");
	else
		snprintf(ago, sizeof(ago), "state %llds old",
		    (long long)(age / 1000));
	set_check(st, CHK_ZONES, 1, "%s: %s, although queries reach view %s: "
	    "the plugin's zone walk is late (zone-interval %llums)", what, ago,
	    s->view, (unsigned long long)r->feed.zone_interval_ms);
}

/*
 * checks.zones: all.  The plugin (all-zones yes) summarises every zone
 * of the view and details the first unhealthy ones.
 */
static void
check_all_zones(struct service_state *st, const struct relay *r,
    const struct service_conf *s, const struct feed_view *v, int64_t limit)
{
	uint64_t	watched, good, checked;
	char		names[100] = "";
	size_t		i, n = 0;
	int64_t		age;

	if (feed_counter(v, "zones_watched", &watched) < 0 ||
	    feed_counter(v, "zones_healthy", &good) < 0 ||
	    feed_counter(v, "zones_checked", &checked) < 0) {
		set_check(st, CHK_ZONES, 1, "zones: the plugin reports none in "
		    "view %s (set all-zones yes, and send it queries)",
		    s->view);
		return;
	}
	age = (int64_t)time(NULL) * 1000 - (int64_t)checked;
	if (age > limit) {
		walk_late(st, r, s, "zones", age);
		return;
	}
	set_value(st, CHK_ZONES, (double)(watched - good), 0, watched, 0);
	if (good == watched) {
		set_check(st, CHK_ZONES, 0, "all %llu zones loaded",
		    (unsigned long long)watched);
		return;
	}
	for (i = 0; i < r->feed.zones.n && n < sizeof(names); i++) {
		const struct feed_zone *z = &r->feed.zones.z[i];

		if (strcmp(z->view, s->view) != 0 ||
		    (z->found && z->loaded && !z->expired))
			continue;
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    n ? ", " : "", z->name);
	}
	set_check(st, CHK_ZONES, 1, "%llu of %llu zones unhealthy: %s",
	    (unsigned long long)(watched - good), (unsigned long long)watched,
	    names[0] ? names : "?");
}

static void
check_zones(struct service_state *st, const struct relay *r,
    const struct service_conf *s, const struct feed_view *v)
{
	const struct checks_conf	*k = &s->checks;
	const struct feed_zone		*z;
	int64_t				 now_s = (int64_t)time(NULL);
	int64_t				 limit, age;
	size_t				 i;
	char				 what[AH_VIEW_LEN + 8];

	if (k->nzones == 0 && !k->all_zones)
		return;
	/* Listed zones stop at the first problem: at least one is bad. */
	set_value(st, CHK_ZONES, 1, 0, k->nzones, 0);
	/*
	 * A query of the view starts the plugin's zone walk, at most once
	 * per zone-interval, and the liveness probe sends one whenever
	 * clients do not.  Old zone state proves nothing.
	 */
	limit = 3 * (int64_t)r->feed.zone_interval_ms +
	    (s->canary.enabled ? s->canary.interval_ms : 0) + 1000;
	if (k->all_zones) {
		check_all_zones(st, r, s, v, limit);
		return;
	}
	for (i = 0; i < k->nzones; i++) {
		const char *name = k->zones[i];

		if ((z = feed_zone(&r->feed, s->view, name)) == NULL) {
			set_check(st, CHK_ZONES, 1, "zone %s: not reported by "
			    "the plugin (list it in the plugin's zones)", name);
			return;
		}
		age = now_s * 1000 - z->checked;
		if (z->checked == 0 || age > limit) {
			snprintf(what, sizeof(what), "zone %s", name);
			walk_late(st, r, s, what, z->checked ? age : -1);
			return;
		}
		if (!z->found) {
			set_check(st, CHK_ZONES, 1, "zone %s: not in view %s",
			    name, s->view);
			return;
		}
		if (z->expired || (z->expire != 0 && now_s >= z->expire)) {
			set_check(st, CHK_ZONES, 1, "zone %s: expired %llds "
			    "ago", name, (long long)(now_s - z->expire));
			return;
		}
		if (!z->loaded) {
			set_check(st, CHK_ZONES, 1, "zone %s: not loaded", name);
			return;
		}
		if (k->serial_age_max_ms > 0 && z->loaded_at > 0 &&
		    (now_s - z->loaded_at) * 1000 > k->serial_age_max_ms) {
			set_check(st, CHK_ZONES, 1, "zone %s: serial %llu is "
			    "%llds old > %llds", name,
			    (unsigned long long)z->serial,
			    (long long)(now_s - z->loaded_at),
			    (long long)(k->serial_age_max_ms / 1000));
			return;
		}
	}
	set_value(st, CHK_ZONES, 0, 0, k->nzones, 0);
	set_check(st, CHK_ZONES, 0, "%zu zone%s loaded", k->nzones,
	    k->nzones == 1 ? "" : "s");
}

static void
check_canary(struct service_state *st, const struct service_conf *s,
    int64_t now)
{
	const struct canary *c = &st->canary;

	if (!s->canary.enabled)
		return;
	st->val[CHK_CANARY].have = 0;
	if (!c->have_result)
		set_check(st, CHK_CANARY, 1, "canary: no answer yet");
	else if (now - c->result_at > 2 * (int64_t)s->canary.interval_ms +
	    (int64_t)s->canary.timeout_ms)
		set_check(st, CHK_CANARY, 1, "canary: no result for %lld ms",
		    (long long)(now - c->result_at));
	else {
		set_value(st, CHK_CANARY, c->ok ? (double)c->rtt_ms : INFINITY,
		    (double)s->canary.timeout_ms, 1, 0);
		set_check(st, CHK_CANARY, !c->ok, "canary %s: %s",
		    s->canary.qname, c->result);
	}
}

static int
held(const struct service_state *st)
{
	int c;

	for (c = 0; c < CHK_COUNT; c++)
		if (st->held[c])
			return (1);
	return (0);
}

/*
 * Recovery (policy.h, struct retry).  A node down for soft trouble has
 * lost its clients to the other nodes, so its failing ratio checks are
 * held for want of evidence, and would be forever.  Once the retry is
 * due, and no other check fails (on traffic, zones or canary), the held
 * results and the counter history are forgotten: the checks pass, the
 * node rises, and real clients judge it again.  The retry has passed
 * once every check it forgot has passed on fresh evidence.
 */
static void
recover(struct service_state *st, const struct service_conf *s, int64_t now)
{
	struct retry_conf	rc = retry_conf(s);
	int			c, left = 0;
	char			old[sizeof(st->why[0])];

	for (c = 0; c < CHK_COUNT; c++) {
		if (st->retried[c] && st->judged[c] && !st->bad[c])
			st->retried[c] = 0;
		left |= st->retried[c];
	}
	if (st->retry.trying && !left)
		retry_passed(&st->retry, &rc);
	/* Drained: its judge does not move, undrain starts it over. */
	if (!held(st) || st->judge.up || st->drain.state != DRAIN_NONE)
		return;
	/*
	 * A check failing on what it sees now (traffic, zones, the
	 * canary): a retry would prove nothing.
	 */
	for (c = 0; c < CHK_COUNT; c++)
		if (st->bad[c] && !st->held[c])
			return;
	/* Down without a transition: back degraded after hard trouble. */
	if (st->retry.at == 0)
		retry_down(&st->retry, &rc, now);
	if (!retry_due(&st->retry, now))
		return;
	for (c = 0; c < CHK_COUNT; c++) {
		if (!st->held[c])
			continue;
		snprintf(old, sizeof(old), "%s", st->why[c]);
		set_check(st, c, 0, "retrying (it was: %s)", old);
		st->held[c] = 0;
		st->retried[c] = 1;
	}
	log_info("service %s: no client traffic to judge by: retrying after "
	    "%llds (if it fails again, the next retry waits %llds)", s->name,
	    (long long)(st->retry.wait_ms / 1000),
	    (long long)((st->retry.wait_ms * 2 > rc.max_ms ? rc.max_ms :
	    st->retry.wait_ms * 2) / 1000));
	window_reset(&st->win);
	retry_start(&st->retry);
}

/*
 * The verdict and its reason: all failures and all excuses, or all
 * that was checked.
 */
static enum verdict
soft_verdict(struct service_state *st, char *why, size_t len)
{
	size_t	n = 0;
	int	c, bad = 0;

	why[0] = '\0';
	for (c = 0; c < CHK_COUNT; c++)
		bad |= st->bad[c];
	for (c = 0; c < CHK_COUNT; c++) {
		if (st->why[c][0] == '\0' ||
		    (bad && !st->bad[c] && !st->excused[c]))
			continue;
		if (n < len)
			n += (size_t)snprintf(why + n, len - n, "%s%s",
			    n ? "; " : "", st->why[c]);
	}
	if (n == 0)
		snprintf(why, len, "named serves the view");
	return (bad ? V_BAD : V_GOOD);
}

/*
 * Soft trouble is graded, not a withdrawal: the route stays announced,
 * depreferred (or kept), so a fault every node shares leaves every node
 * equally depreferred and the fleet still serving (doc/fleet.md).  A
 * node is degraded when its judge goes down for failing checks, and
 * stays so until it rises.  Hard trouble withdraws; when it ends, a
 * node that was degraded and is still in trouble comes back degraded
 * (within damping), so a fleet whose every named restarted during a
 * world-wide outage does not stay empty.  Any other node comes back
 * only through 'rise': never on the start-up of named, when the canary
 * is refused and zones are not yet walked, and never as a way in.
 */
static enum route_mode
mode_for(struct service_state *st, const struct service_conf *s,
    const struct judge_conf *jc, enum verdict verdict, int64_t now)
{
	enum route_mode soft = s->when_down == DOWN_KEEP ? ROUTE_KEPT :
	    ROUTE_DEGRADED;

	if (st->drain.state == DRAIN_DRAINED)
		return (ROUTE_WITHDRAWN);
	if (st->drain.state == DRAIN_DRAINING)
		return (ROUTE_DRAINING);
	if (st->judge.up)
		return (ROUTE_ANNOUNCED);
	if (st->hard)
		return (ROUTE_WITHDRAWN);
	/* Undrained while draining: the drain attributes until 'rise'. */
	if (st->route.mode == ROUTE_DRAINING)
		return (verdict == V_GOOD ? ROUTE_DRAINING : ROUTE_WITHDRAWN);
	if (s->when_down == DOWN_WITHDRAW)
		return (ROUTE_WITHDRAWN);
	/* Serving, as it was (or as a reload's new when-down has it). */
	if (st->route.mode != ROUTE_WITHDRAWN)
		return (soft);
	if (st->resume && verdict == V_BAD && judge_resume(&st->judge, jc, now))
		return (soft);
	return (ROUTE_WITHDRAWN);
}

/* A drain ended drained: saved, then withdrawn. */
static int
drained(struct relay *r, size_t i)
{
	struct service_state *st = &r->svc[i];

	(void)state_save(r);
	return (route_set(&st->route, &r->conf->services[i], ROUTE_WITHDRAWN,
	    "DRAINED, withdrawing", st->drain.why));
}

int
health_judge(struct relay *r, size_t i, int64_t now, int snapshot)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	struct judge_conf		 jc = judge_conf(s);
	struct retry_conf		 rc = retry_conf(s);
	const struct feed_view		*v;
	struct sample			 smp;
	enum route_mode			 mode;
	enum verdict			 verdict;
	char				 why[sizeof(st->reason)];

	/* A drain's timeout withdraws, whatever else is going on. */
	if (drain_expired(&st->drain, now))
		return (drained(r, i));
	if ((v = live_view(r, s, st, now, why, sizeof(why))) == NULL) {
		/*
		 * Hard: judge once on the change, not on every loop.  What
		 * was known of the old named no longer applies.
		 */
		window_reset(&st->win);
		/* Withdrawn already (held by damping, say): as it was. */
		if (!st->hard && st->route.mode != ROUTE_WITHDRAWN)
			st->resume = st->route.mode != ROUTE_ANNOUNCED;
		memset(st->bad, 0, sizeof(st->bad));
		memset(st->excused, 0, sizeof(st->excused));
		memset(st->why, 0, sizeof(st->why));
		memset(st->val, 0, sizeof(st->val));
		memset(st->retried, 0, sizeof(st->retried));
		retry_cancel(&st->retry);
		if (drain_lost(&st->drain, why))
			return (drained(r, i));
		if (st->hard && !st->judge.up) {
			snprintf(st->reason, sizeof(st->reason), "%s", why);
			return (0);
		}
		verdict = V_DEAD;
		st->hard = 1;
	} else {
		if (!snapshot)
			return (0);
		take_sample(v, now, &smp);
		window_push(&st->win, &smp);
		memset(st->judged, 0, sizeof(st->judged));
		memset(st->held, 0, sizeof(st->held));
		check_ratios(st, s, v);
		check_zones(st, r, s, v);
		check_canary(st, s, now);
		recover(st, s, now);
		verdict = soft_verdict(st, why, sizeof(why));
		st->hard = 0;
	}
	/* A drained service is judged but not moved: undrain starts over. */
	if (st->drain.state == DRAIN_NONE &&
	    judge_step(&st->judge, &jc, now, verdict) && verdict == V_BAD)
		retry_down(&st->retry, &rc, now);
	if (st->judge.up) {
		st->resume = 0;
		retry_cancel(&st->retry);
	}
	if (held(st) && st->retry.at > now)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; no client traffic to judge by: retry in %llds",
		    (long long)((st->retry.at - now + 999) / 1000));
	if (!st->judge.up && (verdict == V_GOOD || st->resume) &&
	    judge_held(&st->judge, now))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; held down %llds more by flap damping",
		    (long long)(judge_held(&st->judge, now) / 1000 + 1));
	snprintf(st->reason, sizeof(st->reason), "%s", why);
	if (verdict != V_DEAD && drain_quiet(&st->drain, s, &st->win, now))
		return (drained(r, i));

	mode = mode_for(st, s, &jc, verdict, now);
	return (route_set(&st->route, s, mode,
	    mode == ROUTE_ANNOUNCED ? "UP, announcing" :
	    mode == ROUTE_DEGRADED ? "DOWN, announcing depreferred" :
	    mode == ROUTE_KEPT ? "DOWN, keeping the route (when-down keep)" :
	    mode == ROUTE_DRAINING ? "DRAINING, announcing with "
	    "GRACEFUL_SHUTDOWN" : "DOWN, withdrawing", why));
}

void
health_drain(struct relay *r, size_t i, int64_t timeout_ms, const char *who,
    int64_t now)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	struct drain			*d = &st->drain;

	if (!drain_start(d, s, &st->win, st->route.mode, timeout_ms, who, now))
		return;
	/* Whatever the judge thought, undrain starts it over. */
	judge_restart(&st->judge);
	st->resume = 0;
	if (d->state == DRAIN_DRAINED) {
		if (!route_set(&st->route, s, ROUTE_WITHDRAWN,
		    "DRAINED, withdrawing", d->why))
			log_info("service %s DRAINED: %s", s->name, d->why);
	} else if (!route_set(&st->route, s, ROUTE_DRAINING, "DRAINING, "
	    "announcing with GRACEFUL_SHUTDOWN", d->why))
		log_info("service %s DRAINING: %s", s->name, d->why);
	(void)state_save(r);
}

int
health_undrain(struct relay *r, size_t i, const char *who)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];

	if (!drain_undo(&st->drain))
		return (0);
	judge_restart(&st->judge);
	log_info("service %s undrained by %s: judged again, announced after "
	    "%u good evaluations (rise)", s->name, who, s->rise);
	(void)state_save(r);
	return (1);
}

const char *const health_state_names[HEALTH_STATES] = {
	[HEALTH_UP] = "up", [HEALTH_FALLING] = "falling",
	[HEALTH_DEPREFERRED] = "depreferred", [HEALTH_KEPT] = "kept",
	[HEALTH_RISING] = "rising", [HEALTH_HELD] = "held",
	[HEALTH_DOWN] = "down", [HEALTH_DRAINING] = "draining",
	[HEALTH_DRAINED] = "drained"
};

/*
 * Between the route mode and the judge: rising (good evaluations
 * counting towards 'rise'), falling (bad ones towards 'fall'), held
 * (healthy, but flap damping keeps it down).  A drain overrides them
 * all; undrained while draining, it rises with the drain attributes.
 */
enum health_state
health_state(const struct service_state *st, int64_t now)
{
	if (st->drain.state != DRAIN_NONE)
		return (st->drain.state == DRAIN_DRAINING ? HEALTH_DRAINING :
		    HEALTH_DRAINED);
	switch (st->route.mode) {
	case ROUTE_DRAINING:
		return (HEALTH_RISING);
	case ROUTE_ANNOUNCED:
		return (st->judge.bad > 0 ? HEALTH_FALLING : HEALTH_UP);
	case ROUTE_DEGRADED:
		return (st->judge.good > 0 ? HEALTH_RISING :
		    HEALTH_DEPREFERRED);
	case ROUTE_KEPT:
		return (st->judge.good > 0 ? HEALTH_RISING : HEALTH_KEPT);
	default:
		if (judge_held(&st->judge, now) > 0)
			return (HEALTH_HELD);
		return (st->judge.good > 0 && !st->hard ? HEALTH_RISING :
		    HEALTH_DOWN);
	}
}
