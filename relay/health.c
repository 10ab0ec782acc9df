/* SPDX-License-Identifier: MPL-2.0 */
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

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ahclock.h"
#include "canary.h"
#include "check.h"
#include "drain.h"
#include "fault.h"
#include "feed.h"
#include "handover.h"
#include "health.h"
#include "liveness.h"
#include "log.h"
#include "policy.h"
#include "relay.h"
#include "route.h"
#include "state.h"

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

void
health_init(struct service_state *st, const struct service_conf *s)
{
	struct judge_conf	jc = judge_conf(s);
	struct retry_conf	rc = retry_conf(s);

	memset(st, 0, sizeof(*st));
	judge_init(&st->judge, &jc);
	retry_init(&st->retry, &rc);
	window_reset(&st->win);
	/* Also without a canary: its socket is then -1, never stdin's 0. */
	canary_init(&st->canary, &s->canary);
	liveness_init(&st->live, &s->liveness, &s->canary);
	st->route.mode = ROUTE_WITHDRAWN;
	st->hard = 1;
	snprintf(st->reason, sizeof(st->reason), "starting: no evidence yet");
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
 * A view that was live falls silent while named reconfigures (rndc
 * reconfig, reload): named pauses its worker threads to apply the new
 * configuration, for longer than stale-after with a large one (10,000
 * zones: 0.4 to 0.8 s here), while the plugin's own thread goes on
 * publishing and says when the reconfig began.  That is load, not a
 * fault, for up to reconfig-pause from its start.
 *
 * The start the plugin reports is the latest open of named.conf's file,
 * which anything may open (a config-management agent, a checkconf cron)
 * as often as it likes.  The reconfig that silenced the view began by
 * stale-after into the silence, else the silence was judged before it:
 * so no silence longer than stale-after and reconfig-pause together is
 * excused (live_view()), however recent the last open.
 */
static int
after_reconfig(const struct relay *r, const struct feed_view *v,
    const struct liveness *l, int64_t from, int64_t now)
{
	const struct feed *f = &r->feed;

	/* Refused probes: named does not listen there, paused or not. */
	if (l->refused_at != 0 && now - l->refused_at <= (int64_t)f->stale_ms)
		return (0);
	return (v->active_at != 0 && f->reconfig_at != 0 &&
	    f->reconfig_at >= from - (int64_t)r->conf->reconfig_pause_ms);
}

/*
 * Hard trouble, or NULL when a live named publishes the view: its
 * snapshots arrive, and its query path was seen working (the view's
 * 'queries' or 'probes' went up) within stale-after.  Silence counts
 * from the later of that evidence and the last restart of the probes,
 * so a relay that was itself not scheduled does not blame named.  NULL
 * with *paused set: silent, but in a reconfig's pause (after_reconfig()).
 */
static const struct feed_view *
live_view(const struct relay *r, const struct service_conf *s,
    const struct service_state *st, int64_t now, char *why, size_t len,
    int *paused)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	int64_t			 age, from;
	char			 limit[40];

	*paused = 0;
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
		if (!after_reconfig(r, v, &st->live, from, now)) {
			why_silent(f, v, &st->live, now, now - from, why, len);
			return (NULL);
		}
		if (r->conf->reconfig_pause_ms > 0 && now - from >
		    (int64_t)f->stale_ms + r->conf->reconfig_pause_ms) {
			say(why, len, "no query seen in view %s for %lld ms, "
			    "longer than stale-after %u ms and reconfig-pause "
			    "%u ms together, though named.conf was opened "
			    "%lld ms ago: named's query threads hung?",
			    v->name, (long long)(now - from), f->stale_ms,
			    r->conf->reconfig_pause_ms,
			    (long long)(now - f->reconfig_at));
			return (NULL);
		}
		*paused = now - f->reconfig_at <=
		    (int64_t)r->conf->reconfig_pause_ms;
		snprintf(limit, sizeof(limit), "reconfig-pause %u ms",
		    r->conf->reconfig_pause_ms);
		say(why, len, "named is reconfiguring%s%s: no query seen in "
		    "view %s for %lld ms, its reconfig began %lld ms ago%s%s",
		    *paused ? "" : " for longer than ", *paused ? "" : limit,
		    v->name, (long long)(now - from),
		    (long long)(now - f->reconfig_at),
		    *paused ? "; not judged for up to " : "",
		    *paused ? limit : "");
		return (NULL);
	}
	return (v);
}

/*
 * When live_view() next changes its mind unless something arrives:
 * monotonic ms after 'now', or INT64_MAX.  A deadline already past has
 * been judged (hard trouble): only news can change that verdict, a
 * snapshot or a query counted, and news wakes the relay by itself.
 * Waking for a past deadline would spin.
 */
int64_t
health_deadline(const struct relay *r, size_t i, int64_t now)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	int64_t			 t = INT64_MAX, d, from;

	if (f->state != FEED_UP || f->last_tick == 0)
		return (t);
	if ((d = f->last_tick + f->stale_ms + 1) > now)
		t = d;
	if ((v = feed_view(f, r->conf->services[i].view)) != NULL &&
	    v->active_at != 0) {
		from = v->active_at > r->svc[i].live.resumed ? v->active_at :
		    r->svc[i].live.resumed;
		if ((d = from + f->stale_ms + 1) > now && d < t)
			t = d;
		/* The longest silence a reconfig excuses, if one may. */
		if (f->reconfig_at != 0 && f->reconfig_at >= from -
		    (int64_t)r->conf->reconfig_pause_ms &&
		    (d = from + f->stale_ms + r->conf->reconfig_pause_ms +
		    1) > now && d < t)
			t = d;
	}
	/* The end of a reconfig's pause. */
	if (f->reconfig_at != 0 && (d = f->reconfig_at +
	    r->conf->reconfig_pause_ms + 1) > now && d < t)
		t = d;
	return (t);
}

/*
 * The key of each counter a sample holds, in the words of the wire
 * (ahwire.h) and the feed's prefixes (feed.h): queries, dropped,
 * servfail, auth_servfail, rec_quota, rec_started .. rec_canceled,
 * rec_le_1 .. rec_le_inf, dom_fail_0 .. dom_rval_15, sfx_fail_0 ..
 * sfx_rval_15.
 */
static void
sample_key(enum smp i, char *key, size_t len)
{
	static const enum ah_recursion rec[] = {
		[SMP_QUOTA] = AH_REC_QUOTA, [SMP_STARTED] = AH_REC_STARTED,
		[SMP_SUCCESS] = AH_REC_SUCCESS, [SMP_FAILURE] = AH_REC_FAILURE,
		[SMP_TIMEOUT] = AH_REC_TIMEOUT, [SMP_CANCELED] = AH_REC_CANCELED
	};
	unsigned int g = i - SMP_GROUPS;

	if (i == SMP_QUERIES)
		snprintf(key, len, "queries");
	else if (i == SMP_DROPPED)
		snprintf(key, len, "dropped");
	else if (i == SMP_SERVFAIL)
		snprintf(key, len, "%s", ah_rcode_names[AH_RC_SERVFAIL]);
	else if (i == SMP_AUTH_SERVFAIL)
		snprintf(key, len, "%s_%s", ah_source_names[AH_SRC_AUTH],
		    ah_rcode_names[AH_RC_SERVFAIL]);
	else if (i < SMP_LAT)
		snprintf(key, len, FEED_REC "%s", ah_recursion_names[rec[i]]);
	else if (i < SMP_GROUPS)
		feed_lat_key(i - SMP_LAT, key, len);
	else
		feed_dom_key(g / (AH_DOM_COUNT * DOM_BUCKETS),
		    g / DOM_BUCKETS % AH_DOM_COUNT, g % DOM_BUCKETS, key, len);
}

/*
 * Every counter the judge reads, cancelled recursions and dropped
 * queries included: leaving one out counts its queries as unanswered
 * (doc/protocol.md: started minus four outcomes is in flight).  What
 * the plugin does not publish (a protocol 2 plugin's rok, rbad and
 * suffixes, a protocol 3 plugin's rtmo and rval) reads 0; the judge
 * knows from the feed's version.
 */
static void
take_sample(const struct feed_view *v, int64_t now, struct sample *s)
{
	static char	key[SMP_COUNT][AH_NAME_MAX + 1];
	int		i;

	memset(s, 0, sizeof(*s));
	s->t = now;
	for (i = 0; i < SMP_COUNT; i++) {
		if (key[i][0] == '\0')
			sample_key(i, key[i], sizeof(key[i]));
		(void)feed_counter(v, key[i], &s->c[i]);
	}
}

static int
held(const struct service_state *st)
{
	int c;

	for (c = 0; c < CHK_COUNT; c++)
		if (st->chk[c].held)
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
	struct check_state	*cs;
	int			c, left = 0;
	char			old[sizeof(cs->why)];

	for (c = 0; c < CHK_COUNT; c++) {
		cs = &st->chk[c];
		if (cs->retried && cs->judged && !cs->bad)
			cs->retried = 0;
		left |= cs->retried;
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
		if (st->chk[c].bad && !st->chk[c].held)
			return;
	/* Down without a transition: back degraded after hard trouble. */
	if (st->retry.at == 0)
		retry_down(&st->retry, &rc, now);
	if (!retry_due(&st->retry, now))
		return;
	for (c = 0; c < CHK_COUNT; c++) {
		cs = &st->chk[c];
		if (!cs->held)
			continue;
		snprintf(old, sizeof(old), "%s", cs->why);
		check_set(cs, 0, "retrying (it was: %s)", old);
		cs->held = 0;
		cs->retried = 1;
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
 * What a healthy evaluation teaches of how the node usually resolves
 * (fault.h).  Only these, and only when every ratio and latency check
 * judged enough evidence (not a retry's or a fresh window's first
 * snapshots, which pass for want of it): a node's own fault must not
 * become its usual, or it would soon excuse itself; nor a fault of the
 * world's (excused as such), or its end would look like the node's.  A
 * check failing within the node's usual range teaches: leaving out its
 * worst moments would make the usual better than it is.
 */
static void
learn(struct service_state *st, const struct service_conf *s,
    const struct feed *f)
{
	struct fault_conf	fc;
	int			c;

	for (c = 0; c < CHK_COUNT; c++)
		if (st->chk[c].unusual || st->chk[c].retried ||
		    (c <= CHK_LATENCY && checks[c].enabled(s) &&
		    !st->chk[c].judged))
			return;
	/*
	 * Nor just after a step of named's clock that may fail validation:
	 * what it fails then is what fault_stepped() asks about, and a
	 * group with few usual recursions would learn its failures as its
	 * usual within a snapshot.
	 */
	if (f->stepped_at != 0 && f->last_tick - f->stepped_at <=
	    (int64_t)s->window_ms && (f->stepped_ms >= FAULT_STEP_MS ||
	    f->stepped_ms <= -FAULT_STEP_MS))
		return;
	check_fault_conf(s, f, NULL, &fc);
	fault_base_update(&st->base, &st->win, &fc);
}

/*
 * The verdict and its reason: all failures, then all excuses (the
 * reason has room for 400 characters and an excuse alone may take 300:
 * what moved the node must not be the part cut off), or all that was
 * checked.
 */
static enum verdict
soft_verdict(const struct service_state *st, char *why, size_t len)
{
	const struct check_state	*cs;
	size_t				 n = 0;
	int				 c, pass, bad = 0;

	why[0] = '\0';
	for (c = 0; c < CHK_COUNT; c++)
		bad |= st->chk[c].bad;
	/* Failing, then excused; with nothing failing, all in one pass. */
	for (pass = 0; pass < (bad ? 2 : 1); pass++)
		for (c = 0; c < CHK_COUNT; c++) {
			cs = &st->chk[c];
			if (cs->why[0] == '\0' || (bad && (pass == 0 ?
			    !cs->bad : cs->bad || !cs->excused)))
				continue;
			if (n < len)
				n += (size_t)snprintf(why + n, len - n, "%s%s",
				    n ? "; " : "", cs->why);
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

/*
 * The other services of service i's view that still bring it traffic:
 * routed in any way, and not draining themselves.  Their names, "" for
 * none.
 */
static void
sharers(const struct relay *r, size_t i, char *names, size_t len)
{
	const struct service_conf	*s = &r->conf->services[i], *o;
	size_t				 j, n = 0;

	names[0] = '\0';
	for (j = 0; j < r->conf->nservices && n < len; j++) {
		o = &r->conf->services[j];
		if (j == i || strcmp(o->view, s->view) != 0 ||
		    r->svc[j].route.mode == ROUTE_WITHDRAWN ||
		    r->svc[j].drain.state == DRAIN_DRAINING)
			continue;
		n += (size_t)snprintf(names + n, len - n, "%s%s",
		    n ? ", " : "", o->name);
	}
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
	struct check_input		 in;
	enum route_mode			 mode;
	enum verdict			 verdict;
	char				 why[sizeof(st->reason)];
	char				 names[160];
	int				 c, paused;

	/* A drain's timeout withdraws, whatever else is going on. */
	if (drain_expired(&st->drain, now))
		return (drained(r, i));
	v = live_view(r, s, st, now, why, sizeof(why), &paused);
	if (paused && !st->paused) {
		canary_pause(&st->canary, now);
		log_info("service %s: %s", s->name, why);
	} else if (!paused && st->paused) {
		canary_resume(&st->canary, now);
		if (v != NULL)
			log_info("service %s: named answers again after its "
			    "reconfig", s->name);
	}
	st->paused = paused;
	/* Load, not a fault: the route as it is, nothing judged. */
	if (paused) {
		snprintf(st->reason, sizeof(st->reason), "%s", why);
		return (0);
	}
	if (v == NULL) {
		/* Taken over: as the predecessor left it, until we know. */
		if (handover_waiting(r, i, now)) {
			snprintf(st->reason, sizeof(st->reason), "taken over "
			    "from the relay this one replaced; %s", why);
			return (0);
		}
		st->taken_at = 0;
		/*
		 * Hard: judge once on the change, not on every loop.  What
		 * was known of the old named no longer applies.
		 */
		window_reset(&st->win);
		/* Withdrawn already (held by damping, say): as it was. */
		if (!st->hard && st->route.mode != ROUTE_WITHDRAWN)
			st->resume = st->route.mode != ROUTE_ANNOUNCED;
		for (c = 0; c < CHK_COUNT; c++)
			check_forget(&st->chk[c]);
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
		st->taken_at = 0;
		if (!snapshot)
			return (0);
		take_sample(v, now, &smp);
		window_push(&st->win, &smp);
		in = (struct check_input){ .s = s, .feed = &r->feed, .view = v,
		    .win = &st->win, .canary = &st->canary, .base = &st->base,
		    .now = now, .up = st->judge.up };
		for (c = 0; c < CHK_COUNT; c++) {
			st->chk[c].judged = st->chk[c].held = 0;
			if (checks[c].enabled(s))
				checks[c].judge(&st->chk[c], &in);
		}
		recover(st, s, now);
		verdict = soft_verdict(st, why, sizeof(why));
		if (verdict == V_GOOD)
			learn(st, s, &r->feed);
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
	if (st->drain.state == DRAIN_DRAINING) {
		sharers(r, i, names, sizeof(names));
		drain_shared(&st->drain, s->view, names, 0);
	}
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
    int every, int64_t now)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	struct drain			*d = &st->drain;
	char				 names[160];

	if (!drain_start(d, s, &st->win, st->route.mode, timeout_ms, who, now))
		return;
	/* Drained together, the services of a view share nothing. */
	if (every)
		names[0] = '\0';
	else
		sharers(r, i, names, sizeof(names));
	drain_shared(d, s->view, names, 1);
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

int64_t
health_release(struct relay *r, size_t i, const char *who, int64_t now)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	struct judge_conf		 jc = judge_conf(s);
	int64_t				 left;

	if ((left = judge_release(&st->judge, &jc, now)) > 0)
		log_info("service %s released from flap damping by %s with "
		    "%llds of the hold left", s->name, who,
		    (long long)((left + 999) / 1000));
	return (left);
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
