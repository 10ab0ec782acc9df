/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy.c - windows, quantiles, hysteresis, damping (see policy.h).
 */
#include <config.h>

#include <string.h>

#include "policy.h"

void
window_reset(struct window *w)
{
	w->head = 0;
	w->n = 0;
}

const struct sample *
window_nth(const struct window *w, unsigned int k)
{
	return (&w->s[(w->head + WINDOW_SAMPLES - 1 - k) % WINDOW_SAMPLES]);
}

static int
went_back(const struct sample *old, const struct sample *s)
{
	size_t i;

	for (i = 0; i < SMP_COUNT; i++)
		if (s->c[i] < old->c[i])
			return (1);
	return (0);
}

void
window_push(struct window *w, const struct sample *s)
{
	if (w->n > 0 && went_back(window_nth(w, 0), s))
		window_reset(w);
	w->s[w->head] = *s;
	w->head = (w->head + 1) % WINDOW_SAMPLES;
	if (w->n < WINDOW_SAMPLES)
		w->n++;
}

static void
delta(const struct sample *now, const struct sample *base, struct sample *d)
{
	size_t i;

	d->t = now->t - base->t;
	for (i = 0; i < SMP_COUNT; i++)
		d->c[i] = now->c[i] - base->c[i];
}

unsigned int
window_age(const struct window *w, int64_t t)
{
	unsigned int lo = 0, hi = w->n, mid;

	/* Ages 0..n-1 run back in time: find the first one <= t. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (window_nth(w, mid)->t <= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (lo);
}

static const struct sample *
at_or_before(const struct window *w, int64_t t)
{
	unsigned int k = window_age(w, t);

	return (k < w->n ? window_nth(w, k) : NULL);
}

double
window_rate(const struct window *w, enum smp c, int64_t since, int64_t *span)
{
	const struct sample	*now, *base;
	unsigned int		 k = window_age(w, since - 1);

	/* Ages below k are the samples taken at or after 'since'. */
	*span = 0;
	if (k < 2)
		return (-1);
	now = window_nth(w, 0);
	base = window_nth(w, k - 1);
	/* Snapshots read in one go share a time. */
	if ((*span = now->t - base->t) <= 0)
		return (-1);
	return ((double)(now->c[c] - base->c[c]) * 1000 / (double)*span);
}

static uint64_t
sum(const struct sample *s, enum smp first, unsigned int n)
{
	uint64_t	v = 0;
	unsigned int	i;

	for (i = 0; i < n; i++)
		v += s->c[first + i];
	return (v);
}

uint64_t
window_overdue(const struct window *w, const struct sample *at,
    int64_t grace_ms, enum smp started, enum smp done, unsigned int ndone)
{
	const struct sample	*old;
	uint64_t		 st, dn;

	if ((old = at_or_before(w, at->t - grace_ms)) == NULL)
		return (0);
	st = old->c[started];
	dn = sum(at, done, ndone);
	return (st > dn ? st - dn : 0);
}

/*
 * Recursions over a span: each is counted once, when it finishes or
 * when it becomes overdue, whichever comes first.  One that finishes
 * after it was counted overdue leaves the overdue level as it joins the
 * finished, so a silent upstream's late timeouts are not counted twice,
 * and a late success takes back its failure.  A cancelled recursion
 * (named's recursive-clients quota dropped it, or a reload) is
 * finished, so never overdue, and neither a success nor a failure: it
 * is in no ratio, and one counted overdue before its cancel is taken
 * back like a late success's failure.
 */
/* How much the overdue recursions grew over base..now (may shrink). */
static int64_t
overdue_change(const struct window *w, const struct ev_conf *c,
    const struct sample *now, const struct sample *base)
{
	return ((int64_t)window_overdue(w, now, c->grace_ms, SMP_STARTED,
	    SMP_SUCCESS, SMP_FINISHED) - (int64_t)window_overdue(w, base,
	    c->grace_ms, SMP_STARTED, SMP_SUCCESS, SMP_FINISHED));
}

static void
recursions(const struct window *w, const struct ev_conf *c,
    const struct sample *now, const struct sample *base, struct evidence *ev)
{
	int64_t	done, bad, du;

	done = (int64_t)sum(&ev->d, SMP_SUCCESS, SMP_FINISHED - 1);
	bad = (int64_t)(ev->d.c[SMP_FAILURE] + ev->d.c[SMP_TIMEOUT]);
	du = overdue_change(w, c, now, base);
	ev->failed = ev->d.c[SMP_FAILURE];
	ev->timedout = ev->d.c[SMP_TIMEOUT];
	ev->unanswered = du > 0 ? (uint64_t)du : 0;
	ev->load = ev->d.c[SMP_CANCELED];
	done += du;
	bad += du;
	ev->total = done > 0 ? (uint64_t)done : 0;
	ev->bad = bad < 0 ? 0 : (uint64_t)bad > ev->total ? ev->total :
	    (uint64_t)bad;
}

/*
 * Recursive answers for the latency quantile.  Recursions that finish
 * after they were counted unanswered (the overdue count shrinks) were
 * judged already, by the recursion check: leave them out, from the
 * slowest buckets that can hold them (above the grace), or a node that
 * recovered from a silent upstream is taken down again by the late
 * answers of the outage.  A steadily slow upstream keeps its overdue
 * count level and its slow answers.
 */
static void
answers(const struct window *w, const struct ev_conf *c,
    const struct sample *now, const struct sample *base, struct evidence *ev)
{
	uint64_t	*lat = ev->d.c + SMP_LAT, in, take, late;
	int64_t		 du = overdue_change(w, c, now, base);
	int		 i, j;

	/* Cancelled ones shrink the overdue count too, but are in no bucket. */
	du += (int64_t)ev->d.c[SMP_CANCELED];
	late = du < 0 ? (uint64_t)-du : 0;
	for (i = LAT_BUCKETS - 1; i >= 0 && late > 0; i--) {
		if (i < LAT_BUCKETS - 1 &&
		    (int64_t)ah_lat_bounds[i] <= c->grace_ms)
			break;
		in = lat[i] - (i > 0 ? lat[i - 1] : 0);
		take = in < late ? in : late;
		for (j = i; j < LAT_BUCKETS; j++)
			lat[j] -= take;
		late -= take;
	}
	ev->total = lat[LAT_BUCKETS - 1];
	ev->bad = 0;
}

/*
 * SERVFAIL answers among answers.  Load is neither: named's
 * recursive-clients quota refusing a recursion, or cancelling one
 * (each answered SERVFAIL), and queries it dropped without an answer
 * (rate limits, clients-per-query, retransmits).  A saturated node or
 * one under attack sheds load; it is not broken, and what it drops
 * does not water down what it answers.
 */
static void
answered(struct evidence *ev)
{
	const uint64_t	*d = ev->d.c;
	uint64_t	 shed = d[SMP_QUOTA] + d[SMP_CANCELED];
	uint64_t	 out = shed + d[SMP_DROPPED];

	ev->load = out;
	ev->bad = d[SMP_SERVFAIL] > shed ? d[SMP_SERVFAIL] - shed : 0;
	ev->total = d[SMP_QUERIES] > out ? d[SMP_QUERIES] - out : 0;
	if (ev->total < ev->bad)
		ev->total = ev->bad;
}

static void
evidence_at(const struct window *w, enum ev_kind kind,
    const struct ev_conf *c, unsigned int k, struct evidence *ev)
{
	const struct sample	*now = window_nth(w, 0), *base = window_nth(w, k);

	delta(now, base, &ev->d);
	ev->span = ev->d.t;
	ev->t0 = base->t;
	ev->t1 = now->t;
	switch (kind) {
	case EV_QUERIES:
		answered(ev);
		break;
	case EV_RECURSIONS:
		recursions(w, c, now, base, ev);
		break;
	case EV_ANSWERS:
		answers(w, c, now, base, ev);
		break;
	}
}

int64_t
window_evidence(const struct window *w, enum ev_kind kind,
    const struct ev_conf *c, struct evidence *ev)
{
	unsigned int k;

	memset(ev, 0, sizeof(*ev));
	ev->span = -1;
	if (w->n < 2)
		return (-1);
	/* Back from the newest delta until there is enough, or the window. */
	for (k = 1; k < w->n; k++) {
		evidence_at(w, kind, c, k, ev);
		if (ev->total >= c->min)
			break;
		if (k + 1 < w->n &&
		    ev->t1 - window_nth(w, k + 1)->t > c->window_ms)
			break;
	}
	ev->enough = ev->total >= c->min;
	return (ev->span);
}

int64_t
latency_quantile(const struct sample *d, double q)
{
	const uint64_t	*lat = d->c + SMP_LAT;
	uint64_t	 total = lat[LAT_BUCKETS - 1];
	double		 want = q * (double)total;
	size_t		 i;

	if (total == 0)
		return (0);
	for (i = 0; i < LAT_BUCKETS - 1; i++)
		if ((double)lat[i] >= want)
			return ((int64_t)ah_lat_bounds[i]);
	return (-1);
}

void
judge_init(struct judge *j, const struct judge_conf *c)
{
	memset(j, 0, sizeof(*j));
	j->next_hold_ms = c->hold_ms;
}

void
judge_restart(struct judge *j)
{
	j->up = 0;
	j->good = j->bad = 0;
}

static unsigned int
changes_since(const struct judge *j, int64_t since)
{
	unsigned int i, n = 0;

	for (i = 0; i < j->nchanges; i++)
		if (j->changes[i] > since)
			n++;
	return (n);
}

static void
record_change(struct judge *j, int64_t now)
{
	if (j->nchanges == JUDGE_CHANGES_MAX) {
		memmove(j->changes, j->changes + 1,
		    (JUDGE_CHANGES_MAX - 1) * sizeof(j->changes[0]));
		j->nchanges--;
	}
	j->changes[j->nchanges++] = now;
}

/*
 * A route about to come back: allowed, and counted as a change, unless
 * that would be one change too many for the period; then the node is
 * held, longer each time it keeps flapping.
 */
static int
may_return(struct judge *j, const struct judge_conf *c, int64_t now)
{
	if (now < j->held_until)
		return (0);
	if (c->max_changes > 0) {
		/* A quiet period earns back the short hold. */
		if (changes_since(j, now - c->period_ms) == 0)
			j->next_hold_ms = c->hold_ms;
		if (changes_since(j, now - c->period_ms) + 1 > c->max_changes) {
			j->held_until = now + j->next_hold_ms;
			j->next_hold_ms *= 2;
			if (j->next_hold_ms > c->max_hold_ms)
				j->next_hold_ms = c->max_hold_ms;
			return (0);
		}
	}
	record_change(j, now);
	return (1);
}

int64_t
judge_held(const struct judge *j, int64_t now)
{
	return (j->held_until > now ? j->held_until - now : 0);
}

int64_t
judge_release(struct judge *j, const struct judge_conf *c, int64_t now)
{
	int64_t left = judge_held(j, now);

	if (left == 0)
		return (0);
	j->held_until = 0;
	j->nchanges = 0;
	j->next_hold_ms = c->hold_ms;
	return (left);
}

int
judge_step(struct judge *j, const struct judge_conf *c, int64_t now,
    enum verdict v)
{
	if (v == V_GOOD) {
		j->good++;
		j->bad = 0;
	} else {
		j->bad++;
		j->good = 0;
	}

	if (j->up) {
		if (v == V_DEAD || j->bad >= c->fall) {
			j->up = 0;
			record_change(j, now);
			return (1);
		}
		return (0);
	}
	if (j->good < c->rise || !may_return(j, c, now))
		return (0);
	j->up = 1;
	return (1);
}

int
judge_resume(struct judge *j, const struct judge_conf *c, int64_t now)
{
	return (may_return(j, c, now));
}

void
retry_init(struct retry *r, const struct retry_conf *c)
{
	memset(r, 0, sizeof(*r));
	r->wait_ms = c->first_ms;
}

void
retry_down(struct retry *r, const struct retry_conf *c, int64_t now)
{
	if (r->trying) {
		r->wait_ms *= 2;
		if (r->wait_ms > c->max_ms)
			r->wait_ms = c->max_ms;
		r->trying = 0;
	}
	r->at = now + r->wait_ms;
}

void
retry_cancel(struct retry *r)
{
	r->at = 0;
}

int
retry_due(const struct retry *r, int64_t now)
{
	return (r->at != 0 && now >= r->at);
}

void
retry_start(struct retry *r)
{
	r->at = 0;
	r->trying = 1;
}

void
retry_passed(struct retry *r, const struct retry_conf *c)
{
	r->trying = 0;
	r->wait_ms = c->first_ms;
}
