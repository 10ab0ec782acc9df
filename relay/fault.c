/*
 * fault.c - the shared-fault rule (see fault.h), level by level.
 */
#include <config.h>

#include <string.h>

#include "fault.h"

/*
 * Per group of one level over base..now: 'bad' are the failures of the
 * check's kind (SERVFAIL answers, or failed and timed-out recursions)
 * plus the growth of the overdue recursions, or for latency the
 * recursions overdue now; 'ok' the recursions that succeeded.  A
 * protocol 2 plugin counted neither successes nor failed recursions
 * per group: its recursions finished without a SERVFAIL stand for the
 * successes, its SERVFAIL answers for every failure, as they did.
 */
static void
group_outcomes(const struct window *w, const struct fault_conf *c,
    enum ev_kind kind, enum ah_level lv, const struct sample *now,
    const struct sample *base, uint64_t *bad, uint64_t *ok)
{
	uint64_t	fail, done;
	int64_t		du, b0;
	unsigned int	b;

#define D(kd)	(now->c[SMP_G(lv, kd, b)] - base->c[SMP_G(lv, kd, b)])
	for (b = 0; b < DOM_BUCKETS; b++) {
		fail = D(AH_DOM_FAIL);
		done = D(AH_DOM_RDONE);
		ok[b] = c->v2 ? (done > fail ? done - fail : 0) : D(AH_DOM_ROK);
		if (kind == EV_ANSWERS) {
			bad[b] = window_overdue(w, now, c->grace_ms,
			    SMP_G(lv, AH_DOM_RSTART, b),
			    SMP_G(lv, AH_DOM_RDONE, b), 1);
			continue;
		}
		du = (int64_t)window_overdue(w, now, c->grace_ms,
		    SMP_G(lv, AH_DOM_RSTART, b), SMP_G(lv, AH_DOM_RDONE, b), 1) -
		    (int64_t)window_overdue(w, base, c->grace_ms,
		    SMP_G(lv, AH_DOM_RSTART, b), SMP_G(lv, AH_DOM_RDONE, b), 1);
		if (kind == EV_QUERIES || c->v2) {
			bad[b] = fail + (du > 0 ? (uint64_t)du : 0);
			continue;
		}
		/* As for the check: a late finish takes back its overdue. */
		b0 = (int64_t)D(AH_DOM_RBAD) + du;
		bad[b] = b0 > 0 ? (uint64_t)b0 : 0;
	}
#undef D
}

/* Sum of v[] over the groups not among the first 'held' of 'order'. */
static uint64_t
sum_else(const uint64_t *v, const unsigned int *order, unsigned int held)
{
	uint64_t	x = 0;
	unsigned int	i;

	for (i = held; i < DOM_BUCKETS; i++)
		x += v[order[i]];
	return (x);
}

/* May the evidence grow from k to k + 1 without leaving the window? */
static int
may_grow(const struct window *w, const struct fault_conf *c, unsigned int k)
{
	return (k + 1 < w->n &&
	    window_nth(w, 0)->t - window_nth(w, k + 1)->t <= c->window_ms);
}

/*
 * How far back (the age of a sample) the held groups have been
 * failing: back from the newest snapshot until they show no failure
 * for FAULT_PAUSE_MS, within the window.  Evidence that other names
 * resolve counts only from there on: names that resolved before the
 * fault say nothing about a node that has just lost its uplink.
 */
static unsigned int
fault_onset(const struct window *w, enum ev_kind kind,
    const struct fault_conf *c, enum ah_level lv, const struct fault_level *f)
{
	uint64_t	bad[DOM_BUCKETS], ok[DOM_BUCKETS];
	unsigned int	k, last = 1, i;
	uint64_t	held;

	for (k = 1; k < w->n; k++) {
		group_outcomes(w, c, kind, lv, window_nth(w, k - 1),
		    window_nth(w, k), bad, ok);
		for (held = 0, i = 0; i < f->ngroups; i++)
			held += bad[f->group[i]];
		if (held > 0)
			last = k;
		else if (window_nth(w, last)->t - window_nth(w, k)->t >
		    FAULT_PAUSE_MS)
			break;
		if (!may_grow(w, c, k))
			break;
	}
	return (last);
}

/*
 * One level.  Where are the failures: the check's own span, grown until
 * it holds FAULT_MIN_BAD of them.  Do the other groups resolve: their
 * own evidence, from the newest snapshot back until they have
 * FAULT_MIN_ELSE outcomes or the fault's onset, so that a node whose
 * other names are few (a random-subdomain attack outnumbering them, a
 * short min-queries) is judged on all the window holds of them since
 * the fault began, not on the failure's few snapshots.
 */
static void
level_judge(const struct window *w, const struct evidence *ev,
    enum ev_kind kind, const struct fault_conf *c, enum ah_level lv,
    struct fault_level *f)
{
	const struct sample	*now = window_nth(w, 0), *base;
	uint64_t		 bad[DOM_BUCKETS], ok[DOM_BUCKETS], acc;
	unsigned int		 k, i, j, onset;

	memset(f, 0, sizeof(*f));
	if ((k = window_age(w, ev->t0)) == 0 || k >= w->n)
		k = 1;
	for (;;) {
		base = window_nth(w, k);
		group_outcomes(w, c, kind, lv, now, base, bad, ok);
		for (f->bad = 0, i = 0; i < DOM_BUCKETS; i++)
			f->bad += bad[i];
		if (f->bad >= FAULT_MIN_BAD || !may_grow(w, c, k))
			break;
		k++;
	}
	f->span = now->t - base->t;
	if (f->bad == 0) {
		f->verdict = FAULT_NO_DATA;
		return;
	}
	/* Groups by failures, most first (insertion sort of 16). */
	for (i = 0; i < DOM_BUCKETS; i++) {
		for (j = i; j > 0 && bad[f->group[j - 1]] < bad[i]; j--)
			f->group[j] = f->group[j - 1];
		f->group[j] = i;
	}
	for (acc = 0, i = 0; i < DOM_BUCKETS; i++) {
		acc += bad[f->group[i]];
		if ((double)acc >= c->share * (double)f->bad)
			break;
	}
	f->ngroups = i + 1;
	f->held = (double)acc / (double)f->bad;
	if (f->ngroups > c->max_groups) {
		f->verdict = FAULT_SPREAD;
		for (f->ngroups = 0; f->ngroups < DOM_BUCKETS &&
		    bad[f->group[f->ngroups]] > 0; f->ngroups++)
			;
		return;
	}

	onset = fault_onset(w, kind, c, lv, f);
	for (k = 1;; k++) {
		base = window_nth(w, k);
		group_outcomes(w, c, kind, lv, now, base, bad, ok);
		f->ok_else = sum_else(ok, f->group, f->ngroups);
		f->bad_else = sum_else(bad, f->group, f->ngroups);
		if (f->ok_else + f->bad_else >= FAULT_MIN_ELSE || k >= onset ||
		    !may_grow(w, c, k))
			break;
	}
	f->span_else = now->t - base->t;
	if (f->ok_else + f->bad_else >= FAULT_MIN_ELSE)
		f->verdict = (double)f->ok_else >= c->share *
		    (double)(f->ok_else + f->bad_else) ? FAULT_EXTERNAL :
		    FAULT_NO_RESOLUTION;
	else
		f->verdict = f->ok_else > 0 ? FAULT_UNSURE :
		    FAULT_NO_RESOLUTION;
}

/* The verdicts of the levels, the node's fault last: the first wins. */
static const enum fault_verdict precedence[] = {
	FAULT_EXTERNAL, FAULT_UNSURE, FAULT_SPREAD, FAULT_NO_RESOLUTION,
	FAULT_NO_DATA
};

void
fault_judge(const struct window *w, const struct evidence *ev,
    enum ev_kind kind, const struct fault_conf *c, struct fault *f)
{
	unsigned int	lv, p;

	memset(f, 0, sizeof(*f));
	f->verdict = FAULT_OFF;
	if (c->max_groups == 0 || w->n < 2 || ev->span < 0)
		return;
	/* A zone this node serves answering SERVFAIL is this node's. */
	if (kind == EV_QUERIES && (double)ev->d.c[SMP_AUTH_SERVFAIL] >
	    (1.0 - c->share) * (double)ev->bad) {
		f->verdict = FAULT_OWN_ZONES;
		return;
	}
	f->nlevels = c->v2 ? 1 : AH_LVL_COUNT;
	for (lv = 0; lv < f->nlevels; lv++)
		level_judge(w, ev, kind, c, lv, &f->l[lv]);
	for (p = 0; p < sizeof(precedence) / sizeof(precedence[0]); p++)
		for (lv = 0; lv < f->nlevels; lv++)
			if (f->l[lv].verdict == precedence[p]) {
				f->verdict = precedence[p];
				f->level = lv;
				return;
			}
}
