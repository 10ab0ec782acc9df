/*
 * policy.c - windows, quantiles, hysteresis, damping (see policy.h).
 */
#include <config.h>

#include <string.h>

#include "policy.h"

const int64_t lat_bounds[LAT_BUCKETS - 1] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000
};

void
window_reset(struct window *w)
{
	w->head = 0;
	w->n = 0;
}

static const struct sample *
nth_newest(const struct window *w, unsigned int k)
{
	return (&w->s[(w->head + WINDOW_SAMPLES - 1 - k) % WINDOW_SAMPLES]);
}

static int
went_back(const struct sample *old, const struct sample *s)
{
	size_t i;

	if (s->queries < old->queries || s->servfail < old->servfail ||
	    s->rec_started < old->rec_started ||
	    s->rec_success < old->rec_success ||
	    s->rec_failure < old->rec_failure ||
	    s->rec_timeout < old->rec_timeout)
		return (1);
	for (i = 0; i < LAT_BUCKETS; i++)
		if (s->lat[i] < old->lat[i])
			return (1);
	return (0);
}

void
window_push(struct window *w, const struct sample *s)
{
	if (w->n > 0 && went_back(nth_newest(w, 0), s))
		window_reset(w);
	w->s[w->head] = *s;
	w->head = (w->head + 1) % WINDOW_SAMPLES;
	if (w->n < WINDOW_SAMPLES)
		w->n++;
}

int64_t
window_delta(const struct window *w, int64_t span_ms, struct sample *d)
{
	const struct sample	*now, *base;
	unsigned int		 k;
	size_t			 i;

	if (w->n < 2)
		return (-1);
	now = nth_newest(w, 0);
	base = nth_newest(w, w->n - 1);
	for (k = 1; k < w->n; k++)
		if (now->t - nth_newest(w, k)->t >= span_ms) {
			base = nth_newest(w, k);
			break;
		}
	d->t = now->t - base->t;
	d->queries = now->queries - base->queries;
	d->servfail = now->servfail - base->servfail;
	d->rec_started = now->rec_started - base->rec_started;
	d->rec_success = now->rec_success - base->rec_success;
	d->rec_failure = now->rec_failure - base->rec_failure;
	d->rec_timeout = now->rec_timeout - base->rec_timeout;
	for (i = 0; i < LAT_BUCKETS; i++)
		d->lat[i] = now->lat[i] - base->lat[i];
	return (d->t);
}

int64_t
latency_quantile(const struct sample *d, double q)
{
	uint64_t	total = d->lat[LAT_BUCKETS - 1];
	double		want = q * (double)total;
	size_t		i;

	if (total == 0)
		return (0);
	for (i = 0; i < LAT_BUCKETS - 1; i++)
		if ((double)d->lat[i] >= want)
			return (lat_bounds[i]);
	return (-1);
}

void
judge_init(struct judge *j, const struct judge_conf *c)
{
	memset(j, 0, sizeof(*j));
	j->next_hold_ms = c->hold_ms;
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

int64_t
judge_held(const struct judge *j, int64_t now)
{
	return (j->held_until > now ? j->held_until - now : 0);
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
	if (j->good < c->rise || now < j->held_until)
		return (0);
	if (c->max_changes > 0) {
		/* A quiet period earns back the short hold. */
		if (changes_since(j, now - c->period_ms) == 0)
			j->next_hold_ms = c->hold_ms;
		/*
		 * Coming up would be one change too many for the period:
		 * hold the node down, longer each time it keeps flapping.
		 */
		if (changes_since(j, now - c->period_ms) + 1 > c->max_changes) {
			j->held_until = now + j->next_hold_ms;
			j->next_hold_ms *= 2;
			if (j->next_hold_ms > c->max_hold_ms)
				j->next_hold_ms = c->max_hold_ms;
			return (0);
		}
	}
	j->up = 1;
	record_change(j, now);
	return (1);
}
