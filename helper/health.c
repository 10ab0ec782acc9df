/*
 * health.c - the verdict for a service, and what it means for its routes.
 *
 * Two kinds of trouble.  Hard: no live named behind the feed (socket
 * closed, snapshots stale, the view missing).  The route goes at once,
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

#include "log.h"
#include "relay.h"

void
health_init(struct service_state *st, const struct service_conf *s)
{
	struct judge_conf jc;

	memset(st, 0, sizeof(*st));
	jc = (struct judge_conf){ .rise = s->rise, .fall = s->fall,
	    .max_changes = s->max_changes, .period_ms = s->period_ms,
	    .hold_ms = s->hold_ms, .max_hold_ms = s->max_hold_ms };
	judge_init(&st->judge, &jc);
	window_reset(&st->win);
	if (s->canary.enabled)
		canary_init(&st->canary, &s->canary);
	st->mode = ROUTE_WITHDRAWN;
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

/* Hard trouble, or NULL when a live named publishes the view. */
static const struct feed_view *
live_view(const struct relay *r, const struct service_conf *s, int64_t now,
    char *why, size_t len)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	int64_t			 age;

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
		    "stale-after %u ms (named hung?)", (long long)age,
		    f->stale_ms);
		return (NULL);
	}
	if ((v = feed_view(f, s->view)) == NULL) {
		snprintf(why, len, "named publishes no view '%s'", s->view);
		return (NULL);
	}
	return (v);
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
	static const char *const le[LAT_BUCKETS] = {
		"rec_le_1", "rec_le_2", "rec_le_5", "rec_le_10", "rec_le_20",
		"rec_le_50", "rec_le_100", "rec_le_200", "rec_le_500",
		"rec_le_1000", "rec_le_2000", "rec_le_5000", "rec_le_inf"
	};
	size_t i;

	s->t = now;
	s->queries = counter(v, "queries");
	s->servfail = counter(v, "servfail");
	s->rec_started = counter(v, "rec_started");
	s->rec_success = counter(v, "rec_success");
	s->rec_failure = counter(v, "rec_failure");
	s->rec_timeout = counter(v, "rec_timeout");
	for (i = 0; i < LAT_BUCKETS; i++)
		s->lat[i] = counter(v, le[i]);
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
    enum check_id c, const char *what, uint64_t n, int64_t span)
{
	st->val[c].have = 0;
	st->val[c].samples = n;
	st->val[c].span_ms = span;
	if (s->low_traffic == LOW_CANARY || st->why[c][0] == '\0')
		set_check(st, c, 0, "%s: %llu in %llds, below min-queries %llu",
		    what, (unsigned long long)n, (long long)(span / 1000),
		    (unsigned long long)s->min_queries);
	/* else: LOW_KEEP leaves bad[c] and why[c] as they were. */
}

static void
check_ratios(struct service_state *st, const struct service_conf *s)
{
	const struct checks_conf	*k = &s->checks;
	struct sample			 d;
	int64_t				 span;
	uint64_t			 rec, done, unanswered;
	double				 ratio;

	if ((span = window_delta(&st->win, s->window_ms, &d)) < 0)
		return;		/* one sample: nothing to compare yet */

	if (k->servfail_max >= 0) {
		if (d.queries < s->min_queries)
			low_traffic(st, s, CHK_SERVFAIL, "queries", d.queries,
			    span);
		else {
			ratio = (double)d.servfail / (double)d.queries;
			set_value(st, CHK_SERVFAIL, ratio, k->servfail_max,
			    d.queries, span);
			set_check(st, CHK_SERVFAIL, ratio > k->servfail_max,
			    "SERVFAIL %.0f%% %s %.0f%% over %llds (%llu queries)",
			    ratio * 100, ratio > k->servfail_max ? ">" : "<=",
			    k->servfail_max * 100, (long long)(span / 1000),
			    (unsigned long long)d.queries);
		}
	}

	/*
	 * A silent upstream shows up as recursions started and never
	 * finished long before named's own timeout (10 s or more) turns
	 * them into failures: count those as failures too.
	 */
	done = d.rec_success + d.rec_failure + d.rec_timeout;
	unanswered = d.rec_started > done ? d.rec_started - done : 0;
	rec = done + unanswered;
	if (k->recfail_max >= 0) {
		if (rec < s->min_queries)
			low_traffic(st, s, CHK_RECFAIL, "recursions", rec, span);
		else {
			ratio = (double)(d.rec_failure + d.rec_timeout +
			    unanswered) / (double)rec;
			set_value(st, CHK_RECFAIL, ratio, k->recfail_max, rec,
			    span);
			set_check(st, CHK_RECFAIL, ratio > k->recfail_max,
			    "recursion failures %.0f%% %s %.0f%% over %llds "
			    "(%llu failed, %llu timed out, %llu unanswered of "
			    "%llu)", ratio * 100,
			    ratio > k->recfail_max ? ">" : "<=",
			    k->recfail_max * 100, (long long)(span / 1000),
			    (unsigned long long)d.rec_failure,
			    (unsigned long long)d.rec_timeout,
			    (unsigned long long)unanswered,
			    (unsigned long long)rec);
		}
	}

	if (k->latency_quantile > 0) {
		uint64_t answers = d.lat[LAT_BUCKETS - 1];
		int64_t q;

		if (answers < s->min_queries)
			low_traffic(st, s, CHK_LATENCY, "recursive answers",
			    answers, span);
		else {
			q = latency_quantile(&d, k->latency_quantile);
			/* -1: beyond the last bucket, over 5 s. */
			int bad = q < 0 || q > k->latency_max_ms;
			char qs[24];

			set_value(st, CHK_LATENCY, q < 0 ? INFINITY : (double)q,
			    (double)k->latency_max_ms, answers, span);
			if (q < 0)
				snprintf(qs, sizeof(qs), ">5000ms");
			else
				snprintf(qs, sizeof(qs), "<=%lldms",
				    (long long)q);
			set_check(st, CHK_LATENCY, bad,
			    "recursion p%.0f %s %s %lldms over %llds "
			    "(%llu answers)", k->latency_quantile * 100, qs,
			    bad ? ">" : "within", (long long)k->latency_max_ms,
			    (long long)(span / 1000),
			    (unsigned long long)answers);
		}
	}
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
		set_check(st, CHK_ZONES, 1, "zones: state %llds old, no queries "
		    "reach named (configure a canary)", (long long)(age / 1000));
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

	if (k->nzones == 0 && !k->all_zones)
		return;
	/* Listed zones stop at the first problem: at least one is bad. */
	set_value(st, CHK_ZONES, 1, 0, k->nzones, 0);
	/*
	 * The plugin reads zones on named's query threads once per
	 * interval, so without queries (or a canary) its view of them
	 * ages.  Old zone state proves nothing.
	 */
	limit = 3 * (int64_t)r->feed.interval_ms +
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
			set_check(st, CHK_ZONES, 1, "zone %s: state %llds old, "
			    "no queries reach named (configure a canary)", name,
			    z->checked ? (long long)(age / 1000) : -1LL);
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

static void
history_add(struct service_state *st, enum route_mode to, const char *why)
{
	struct transition *t = &st->history[st->transitions % HISTORY_LEN];

	t->at = real_ms();
	t->from = st->mode;
	t->to = to;
	snprintf(t->reason, sizeof(t->reason), "%s", why);
	st->transitions++;
}

/* The verdict and its reason: all failures, or all that was checked. */
static enum verdict
soft_verdict(struct service_state *st, char *why, size_t len)
{
	size_t	n = 0;
	int	c, bad = 0;

	why[0] = '\0';
	for (c = 0; c < CHK_COUNT; c++)
		bad |= st->bad[c];
	for (c = 0; c < CHK_COUNT; c++) {
		if (st->why[c][0] == '\0' || (bad && !st->bad[c]))
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
 * Degraded (depreferred) is for a node that was serving and got worse;
 * one that has not proven itself since start or since named came back
 * stays withdrawn.
 */
static enum route_mode
mode_for(const struct service_state *st, const struct service_conf *s)
{
	if (st->judge.up)
		return (ROUTE_ANNOUNCED);
	if (st->hard || !st->proven || s->when_down == DOWN_WITHDRAW)
		return (ROUTE_WITHDRAWN);
	return (ROUTE_DEGRADED);
}

int
health_judge(struct relay *r, size_t i, int64_t now, int snapshot)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	struct judge_conf		 jc = judge_conf(s);
	const struct feed_view		*v;
	struct sample			 smp;
	enum route_mode			 mode;
	enum verdict			 verdict;
	char				 why[sizeof(st->reason)];
	size_t				 j;

	if ((v = live_view(r, s, now, why, sizeof(why))) == NULL) {
		/*
		 * Hard: judge once on the change, not on every loop.  What
		 * was known of the old named no longer applies.
		 */
		window_reset(&st->win);
		memset(st->bad, 0, sizeof(st->bad));
		memset(st->why, 0, sizeof(st->why));
		memset(st->val, 0, sizeof(st->val));
		st->proven = 0;
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
		check_ratios(st, s);
		check_zones(st, r, s, v);
		check_canary(st, s, now);
		verdict = soft_verdict(st, why, sizeof(why));
		st->hard = 0;
	}
	(void)judge_step(&st->judge, &jc, now, verdict);
	if (st->judge.up)
		st->proven = 1;
	if (!st->judge.up && verdict == V_GOOD && judge_held(&st->judge, now))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; held down %llds more by flap damping",
		    (long long)(judge_held(&st->judge, now) / 1000 + 1));
	snprintf(st->reason, sizeof(st->reason), "%s", why);

	mode = mode_for(st, s);
	if (mode == st->mode)
		return (0);
	log_info("service %s %s: %s", s->name,
	    mode == ROUTE_ANNOUNCED ? "UP, announcing" :
	    mode == ROUTE_DEGRADED ? "DOWN, announcing depreferred" :
	    "DOWN, withdrawing", why);
	history_add(st, mode, why);
	st->mode = mode;
	st->since = real_ms();
	for (j = 0; j < s->nprefixes; j++)
		exabgp_route(&s->prefixes[j], mode, &s->depref);
	return (1);
}
