/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fault.c - the shared-fault rule (see fault.h), level by level.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "fault.h"

/*
 * Per group of one level over base..now (returns their sum): 'bad' are
 * the failures of the
 * check's kind (SERVFAIL answers, or failed and timed-out recursions)
 * plus the growth of the overdue recursions, or for latency the
 * recursions overdue now; 'ok' the recursions that succeeded.  A
 * protocol 2 plugin counted neither successes nor failed recursions
 * per group: its recursions finished without a SERVFAIL stand for the
 * successes, its SERVFAIL answers for every failure, as they did.
 */
static uint64_t
group_outcomes(const struct window *w, const struct fault_conf *c,
    enum ev_kind kind, enum ah_level lv, const struct sample *now,
    const struct sample *base, uint64_t *bad, uint64_t *ok)
{
	uint64_t	fail, done, all = 0;
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
	for (b = 0; b < DOM_BUCKETS; b++)
		all += bad[b];
	return (all);
}

/*
 * The recursions of group b that finished failing over base..now: the
 * failures of group_outcomes() without the overdue ones.
 */
static uint64_t
finished_bad(const struct fault_conf *c, enum ah_level lv,
    const struct sample *now, const struct sample *base, unsigned int b)
{
	enum ah_dom	kd = c->v2 ? AH_DOM_FAIL : AH_DOM_RBAD;

	return (now->c[SMP_G(lv, kd, b)] - base->c[SMP_G(lv, kd, b)]);
}

/*
 * Per group over base..now, the recursions that failed by what the
 * servers gave (neither a timeout nor validation: lame, refusing,
 * failing, or none left to ask), which no node resolves better; with
 * causes SRV_SILENT, their timeouts too (fault.h, step 3); zero
 * without causes (a plugin that does not count them, 'rtmo' and
 * 'rval', or a pass that counts every failure).
 */
static void
servers_failed(int causes, enum ah_level lv, const struct sample *now,
    const struct sample *base, uint64_t *srv)
{
	uint64_t	bad, own;
	unsigned int	b;

#define D(kd)	(now->c[SMP_G(lv, kd, b)] - base->c[SMP_G(lv, kd, b)])
	for (b = 0; b < DOM_BUCKETS; b++) {
		if (!causes) {
			srv[b] = 0;
			continue;
		}
		bad = D(AH_DOM_RBAD);
		own = D(AH_DOM_RVAL) + (causes == SRV_SILENT ? 0 :
		    D(AH_DOM_RTMO));
		srv[b] = bad > own ? bad - own : 0;
	}
#undef D
}

/* Of a level's failures 'bad' over base..now, those servers_failed(). */
static uint64_t
level_srv(int causes, enum ah_level lv, const struct sample *now,
    const struct sample *base, const uint64_t *bad)
{
	uint64_t	srv[DOM_BUCKETS], n = 0;
	unsigned int	g;

	servers_failed(causes, lv, now, base, srv);
	for (g = 0; g < DOM_BUCKETS; g++)
		n += srv[g] < bad[g] ? srv[g] : bad[g];
	return (n);
}

/* The usual failures of group g that servers_failed() leaves out. */
static double
usual_srv(const struct fault_base *b, int causes, enum ah_level lv,
    unsigned int g)
{
	return (!causes ? 0 : b->srv[lv][g] + (causes == SRV_SILENT ?
	    b->tmo[lv][g] : 0));
}

/* May the evidence grow from k to k + 1 without leaving the window? */
static int
may_grow(const struct window *w, const struct fault_conf *c, unsigned int k)
{
	return (k + 1 < w->n &&
	    window_nth(w, 0)->t - window_nth(w, k + 1)->t <= c->window_ms);
}

/*
 * The chance that a node whose recursions succeed with probability p
 * has at most k successes among n: the binomial's lower tail.
 */
static double
lower_tail(uint64_t k, uint64_t n, double p)
{
	double		lp = log(p), lq = log1p(-p), c = lgamma((double)n + 1);
	double		s = 0;
	uint64_t	i;

	for (i = 0; i <= k && i <= n; i++)
		s += exp(c - lgamma((double)i + 1) -
		    lgamma((double)(n - i) + 1) + (double)i * lp +
		    (double)(n - i) * lq);
	return (s);
}

/*
 * The usual success rate of the recursions just seen in the groups
 * 'rest' (a bit mask), weighted by how many each had; each group's
 * own rate drawn towards its level's by a few outcomes' worth, as a
 * group may have had few; with 'causes', the servers' failures left
 * out, as they are from the rate it is held against.  -1 without a
 * baseline.
 */
static double
usual_rate(const struct fault_conf *c, enum ah_level lv, unsigned int rest,
    const uint64_t *ok, const uint64_t *bad, int causes)
{
	const struct fault_base	*b = c->base;
	double			 aok = 0, an = 0, all, x = 0, nn = 0, m;
	unsigned int		 g;

	if (b == NULL || fault_base_count(b) < FAULT_BASE_MIN)
		return (-1);
	for (g = 0; g < DOM_BUCKETS; g++) {
		aok += b->ok[lv][g];
		an += b->n[lv][g] - usual_srv(b, causes, lv, g);
	}
	all = an > 0 ? aok / an : 0;
	for (g = 0; g < DOM_BUCKETS; g++) {
		if (!(rest & (1u << g)))
			continue;
		m = (double)(ok[g] + bad[g]);
		x += m * (b->ok[lv][g] + 20 * all) /
		    (b->n[lv][g] - usual_srv(b, causes, lv, g) + 20);
		nn += m;
	}
	return (nn > 0 ? x / nn : all);
}

/* Far enough below the usual rate that it is not chance? */
static int
below_usual(const struct fault_conf *c, uint64_t ok, uint64_t n, double usual)
{
	if (usual < 0.01)
		usual = 0.01;
	if (usual > 0.99)
		usual = 0.99;
	return ((double)ok < c->share * usual * (double)n &&
	    lower_tail(ok, n, usual) < FAULT_P);
}

/*
 * Has named shed recursions (recursive-clients) anywhere in the window?
 * Load, for every rule: the snapshots between an attack's waves of
 * cancels, or a second after the last, are no calmer.
 */
static int
shedding(const struct window *w)
{
	const struct sample	*now = window_nth(w, 0);
	const struct sample	*base = window_nth(w, w->n - 1);

	return (now->c[SMP_QUOTA] + now->c[SMP_CANCELED] >
	    base->c[SMP_QUOTA] + base->c[SMP_CANCELED]);
}

/*
 * Over base..now, the queries (SMP_QUERIES) or the recursions started
 * (SMP_STARTED) a second, as a multiple of the node's usual (its
 * baseline's); 0 without a baseline.
 */
static double
load_over(const struct fault_conf *c, const struct sample *now,
    const struct sample *base, enum smp what)
{
	const struct fault_base	*b = c->base;
	double			 secs = (double)(now->t - base->t) / 1000;
	double			 usual;

	if (b == NULL || fault_base_count(b) < FAULT_BASE_MIN ||
	    b->secs <= 0 || secs <= 0)
		return (0);
	if ((usual = what == SMP_QUERIES ? b->queries : b->started) <= 0)
		return (0);
	return ((double)(now->c[what] - base->c[what]) /
	    (usual / b->secs * secs));
}

/*
 * Is the node under load anywhere in the window: shedding recursions,
 * or twice its usual queries or recursions started over a span from
 * 'grace_ms' back on (an attack's first second, diluted over the
 * longer spans, is load too; its fresh names are recursions all, its
 * queries may not double)?  The most of each multiple in xq and xr.
 */
static int
under_load(const struct window *w, const struct fault_conf *c, double *xq,
    double *xr)
{
	const struct sample	*now = window_nth(w, 0), *base;
	unsigned int		 k;
	double			 m;

	*xq = *xr = 0;
	for (k = 1; k < w->n; k++) {
		base = window_nth(w, k);
		if (now->t - base->t < c->grace_ms)
			continue;
		if ((m = load_over(c, now, base, SMP_QUERIES)) > *xq)
			*xq = m;
		if ((m = load_over(c, now, base, SMP_STARTED)) > *xr)
			*xr = m;
	}
	return (*xq > 2 || *xr > 2 || shedding(w));
}

/* One candidate: the groups left out, and what the others showed. */
struct cand {
	unsigned int	rest;		/* groups asked, a bit mask */
	int		tested, failed;
	int		load;		/* far below, but under load */
	uint64_t	ok, n;		/* the span reported */
	uint64_t	srv;		/* ... the servers' failures left out */
	double		usual;
	int64_t		span;
};

/*
 * 'n' far beyond the 'usual' over the same span: FAULT_CONC_LIFT times
 * it, and FAULT_MIN_BAD more (a world's fault, not the background).
 */
static int
far_beyond(double n, double usual)
{
	return (n > FAULT_CONC_LIFT * usual + FAULT_MIN_BAD);
}

/*
 * Servers failing far beyond their usual over the window, all but its
 * newest 'skip_ms' (level lv): FAULT_CONC_LIFT times what the servers
 * usually give, and FAULT_MIN_BAD more.  A dead TLD, for a minute:
 * named marks its servers unreachable and fails their names at once,
 * then tries them again, and the names waiting on them, in every group,
 * time out together 10 s later; such timeouts are the servers' too
 * (fault.h, step 3).  With 'silent', timeouts far beyond their usual
 * as well: the waves themselves.  Needs a usual (the caller's).
 */
static int
servers_failing(const struct window *w, const struct fault_conf *c,
    enum ah_level lv, int64_t skip_ms, int silent)
{
	const struct fault_base	*b = c->base;
	const struct sample	*now = window_nth(w, 0), *top, *base;
	uint64_t		 srv[DOM_BUCKETS], n = 0, tmo = 0;
	unsigned int		 k, t, g;
	double			 usual = 0, utmo = 0, secs;

	if ((k = window_age(w, now->t - c->window_ms)) >= w->n)
		k = w->n - 1;
	t = skip_ms > 0 ? window_age(w, now->t - skip_ms) : 0;
	if (k <= t || t >= w->n || b->secs <= 0)
		return (0);
	base = window_nth(w, k);
	top = window_nth(w, t);
	servers_failed(SRV_GAVE, lv, top, base, srv);
	for (g = 0; g < DOM_BUCKETS; g++) {
		n += srv[g];
		usual += b->srv[lv][g];
		tmo += top->c[SMP_G(lv, AH_DOM_RTMO, g)] -
		    base->c[SMP_G(lv, AH_DOM_RTMO, g)];
		utmo += b->tmo[lv][g];
	}
	secs = (double)(top->t - base->t) / 1000 / b->secs;
	return (far_beyond((double)n, usual * secs) &&
	    (!silent || far_beyond((double)tmo, utmo * secs)));
}

/*
 * Do the other names resolve as usual, leaving out the first h of
 * f->group, for each h from 'hmin' to 'hmax'?  Every span from
 * FAULT_MIN_ELSE outcomes on to FAULT_MIN_RES is asked (struct cand);
 * from h = 'pmin' on (the failures concentrated in those groups), on
 * the finished recursions alone.  With 'causes', what their servers
 * failed is left out of the others' recursions, as it is from their
 * usual rate (a node whose route is gone is 'stopped', fault_judge()).
 */
static void
resolve_as_usual(const struct window *w, const struct fault_conf *c,
    enum ah_level lv, const struct fault_level *f, unsigned int hmin,
    unsigned int hmax, unsigned int pmin, int load, int causes,
    struct cand *cd)
{
	const struct sample	*now = window_nth(w, 0), *base;
	uint64_t		 bad[DOM_BUCKETS], ok[DOM_BUCKETS], o, n, fin;
	uint64_t		 srv[DOM_BUCKETS], own[DOM_BUCKETS], sv, fb;
	unsigned int		 k, h, g;
	double			 u;

	for (h = hmin; h <= hmax; h++) {
		memset(&cd[h], 0, sizeof(cd[h]));
		cd[h].rest = (1u << DOM_BUCKETS) - 1;
		for (g = 0; g < h; g++)
			cd[h].rest &= ~(1u << f->group[g]);
	}
	for (k = 1;; k++) {
		base = window_nth(w, k);
		group_outcomes(w, c, EV_RECURSIONS, lv, now, base, bad, ok);
		servers_failed(causes, lv, now, base, srv);
		for (g = 0; g < DOM_BUCKETS; g++)
			own[g] = bad[g] > srv[g] ? bad[g] - srv[g] : 0;
		for (h = hmin; h <= hmax; h++) {
			for (o = n = fin = sv = 0, g = 0; g < DOM_BUCKETS; g++)
				if (cd[h].rest & (1u << g)) {
					o += ok[g];
					n += ok[g] + own[g];
					sv += bad[g] - own[g];
					fb = finished_bad(c, lv, now, base, g);
					fin += ok[g] + (fb > srv[g] ?
					    fb - srv[g] : 0);
				}
			if (cd[h].failed)
				continue;
			if ((u = usual_rate(c, lv, cd[h].rest, ok, own,
			    causes)) < 0)
				u = FAULT_FRESH_OK;
			cd[h].ok = o;
			cd[h].n = n;
			cd[h].srv = sv;
			cd[h].usual = u;
			cd[h].span = now->t - base->t;
			if (h < pmin && n < FAULT_MIN_ELSE)
				continue;
			if (h >= pmin) {
				/*
				 * Beside concentrated failures: finished ones,
				 * over seconds (a dead TLD's dependents time
				 * out together, named's 10 s after they began).
				 */
				cd[h].n = n = fin;
				if (n < FAULT_MIN_ELSE || (cd[h].span <
				    FAULT_CONC_MS && may_grow(w, c, k)))
					continue;
			}
			cd[h].tested = 1;
			/*
			 * Concentrated failures under load (an attack on one
			 * domain): named busy with them fails some others
			 * too, and moving the node moves its load; not so
			 * many that under FAULT_LOAD_SHARE of their usual
			 * resolve (its uplink gone under the attack: next to
			 * none; starved, 47 % of the usual was seen,
			 * fault.h).  Any
			 * shortfall of 'share' so, beyond chance or not: a
			 * named starving the others of answers leaves too
			 * few to tell chance from the node, and the load is
			 * known.
			 */
			if (h >= pmin && load &&
			    (double)o < c->share * u * (double)n &&
			    (double)o >= FAULT_LOAD_SHARE * u * (double)n)
				cd[h].load = 1;
			else if (below_usual(c, o, n, u))
				cd[h].failed = 1;
		}
		if ((cd[hmax].n >= FAULT_MIN_RES && (hmax < pmin ||
		    cd[hmax].span >= FAULT_CONC_MS)) || !may_grow(w, c, k))
			break;
	}
}

/*
 * A candidate passes on positive evidence: tested, never far below the
 * usual rate, and at least 'share' of it on its longest span.  Neither
 * that nor far below: cannot tell.
 */
static int
as_usual(const struct fault_conf *c, const struct cand *cd)
{
	return (cd->tested && !cd->failed && (cd->load ||
	    (double)cd->ok >= c->share * cd->usual * (double)cd->n));
}

/*
 * The first candidate that passes: concentrated failures are named
 * first, those groups left out ('first'), then more of them; then
 * fewer, down to none (the usual).  NULL: none passes.
 */
static struct cand *
pick_cand(const struct fault_conf *c, struct cand *cd, unsigned int hmin,
    unsigned int first, unsigned int hmax)
{
	unsigned int	i;

	for (i = first; i <= hmax; i++)
		if (as_usual(c, &cd[i]))
			return (&cd[i]);
	for (i = hmin; i < first; i++)
		if (as_usual(c, &cd[i]))
			return (&cd[i]);
	return (NULL);
}

/*
 * Where a level's failures of the kind are usually to be expected, per
 * group, from the baseline: the recursions each group starts, or for
 * latency where recursions usually go unanswered (the background's slow
 * domains are overdue every day; a lossy uplink's retries are overdue
 * where they never are; FAULT_CONC_FLOOR of the starts besides, for a
 * node that usually has none).  All zero before there is a baseline (the
 * window's own starts would be the fault's: an attack's names are most
 * of its victim's group, whose failures then looked no worse than the
 * rest's, and a relay respawned under recursive-clients exhausted moved
 * its node), and for a protocol 2 plugin, which counted no starts per
 * group.
 */
static void
usual_weights(const struct fault_conf *c, enum ev_kind kind,
    enum ah_level lv, double *wt)
{
	const struct fault_base	*b = c->base;
	int			 base = b != NULL &&
				    fault_base_count(b) >= FAULT_BASE_MIN;
	unsigned int		 g;

	for (g = 0; g < DOM_BUCKETS; g++)
		wt[g] = !base ? 0 : kind == EV_ANSWERS ?
		    b->n[lv][g] - b->ok[lv][g] + FAULT_CONC_FLOOR *
		    b->st[lv][g] : b->st[lv][g];
}

/* The chance of at most k events where lambda were expected. */
static double
poisson_tail(uint64_t k, double lambda)
{
	double		term = exp(-lambda), s = 0;
	uint64_t	i;

	for (i = 0; i <= k; i++) {
		s += term;
		term *= lambda / (double)(i + 1);
	}
	return (s);
}

/*
 * The chance of at least k events where lambda were expected, summed
 * term by term in logarithms: exp(-lambda) is 0 past 745.
 */
static double
poisson_upper(uint64_t k, double lambda)
{
	double		t, s = 0;
	uint64_t	i;

	if (k == 0 || (double)k <= lambda)
		return (1);	/* not in the upper tail: no evidence */
	if (lambda <= 0)
		return (0);
	for (i = k; i < k + 100000; i++) {
		t = exp(-lambda + (double)i * log(lambda) -
		    lgamma((double)i + 1));
		s += t;
		if (t <= s * 1e-12)
			break;
	}
	return (s);
}

/*
 * The groups of level 'lv' gone silent over base..now (a bit mask):
 * recursions started and none back, while the others' finish at their
 * rate, beyond chance (FAULT_SILENT_P).  Their servers silent, or the
 * path to them; not the node's uplink, which would silence every group
 * alike.
 */
static unsigned int
silent(const struct sample *now, const struct sample *base,
    enum ah_level lv)
{
	uint64_t	st[DOM_BUCKETS], done[DOM_BUCKETS], st_all = 0;
	uint64_t	done_all = 0;
	unsigned int	g, mask = 0;
	double		rest;

	for (g = 0; g < DOM_BUCKETS; g++) {
		st[g] = now->c[SMP_G(lv, AH_DOM_RSTART, g)] -
		    base->c[SMP_G(lv, AH_DOM_RSTART, g)];
		done[g] = now->c[SMP_G(lv, AH_DOM_RDONE, g)] -
		    base->c[SMP_G(lv, AH_DOM_RDONE, g)];
		st_all += st[g];
		done_all += done[g];
	}
	for (g = 0; g < DOM_BUCKETS; g++) {
		if (st[g] == 0 || st[g] >= st_all || done_all < done[g])
			continue;
		rest = (double)(done_all - done[g]) /
		    (double)(st_all - st[g]);
		if (poisson_tail(done[g], rest * (double)st[g]) <
		    FAULT_SILENT_P)
			mask |= 1u << g;
	}
	return (mask);
}

/*
 * Failures spread, but beside groups gone silent over base..now: those
 * first in f->group, and how many (0: none, or more than 'hmax').  A
 * dead TLD's names, flushed and started again at five times their
 * rate, hold most of the failures, and the names of domains whose
 * servers are named under it wait with them in every other group, so
 * the failures looked spread, and the rest, its waiting names counted
 * as failures on short spans, did not resolve: the catalogue's dead
 * .nl moved the node ("names elsewhere resolve 36% of 22 over 0.4s").
 * Left out as concentrated failures are: the rest judged on what
 * finished, over seconds.
 */
static unsigned int
silent_first(const struct sample *now, const struct sample *base,
    enum ah_level lv, unsigned int failing, unsigned int hmax,
    struct fault_level *f)
{
	unsigned int	mask = silent(now, base, lv), i, n = 0, tmp;

	for (i = 0; i < failing; i++) {
		if (!(mask & (1u << f->group[i])))
			continue;
		if (n == hmax)
			return (0);
		tmp = f->group[i];
		memmove(&f->group[n + 1], &f->group[n],
		    (i - n) * sizeof(f->group[0]));
		f->group[n++] = tmp;
	}
	return (n);
}

/*
 * Could chance have put 'in' of 'n' failures in some 'h' of the groups
 * that usually start 'q' of the recursions, were the node failing
 * everywhere alike?  The groups are the ones failing most, picked
 * after the fact, so the chance for one choice of h groups is taken
 * C(DOM_BUCKETS, h) times.  No weight in them (an attack's new names),
 * or all of it: nothing to compare with, not chance.
 */
static int
beyond_chance(double in, double n, double q, unsigned int h)
{
	double	lc;

	if (q <= 0 || q >= 1)
		return (1);
	lc = lgamma(DOM_BUCKETS + 1) - lgamma(h + 1) -
	    lgamma(DOM_BUCKETS - h + 1);
	return (log(lower_tail((uint64_t)(n - in), (uint64_t)n, 1 - q)) +
	    lc < log(FAULT_CONC_P));
}

/*
 * The groups with failures first, those failing most beyond their
 * share of where they are usually expected ('wt') first among them
 * (insertion sort of 16): how many have any, and how many of the first
 * hold the failures concentrated ('conc'; DOM_BUCKETS + 1: nowhere
 * within 'max_groups').  Concentrated: at least FAULT_CONC_HELD of them, at
 * FAULT_CONC_LIFT times the rate of the rest or more, and with them
 * the next groups failing as far beyond the rest.  A node failing
 * everywhere fails most in its largest groups (.com, one resolver's
 * half): by count alone those hold most failures, and a clock behind
 * or a lossy uplink passed for a fault of .com.  A dead TLD's
 * dependents fail in the large groups too, less than the TLD: by
 * count, .com came before the TLD's second group, and the failures
 * looked spread.  And with 'chance', beyond chance (beyond_chance()):
 * 20 failures of a node failing everywhere fall unevenly, and a clock
 * behind passed for three broken domains, the rest judged over seconds
 * from before it stepped; not for overdue recursions, whose weights
 * are no share of the failures.  Without weights (no baseline yet, a
 * protocol 2 plugin), by count: the fewest groups holding 'share' of
 * the failures.  f->bad: their sum.
 */
static void
order(const struct fault_conf *c, const uint64_t *bad, const double *wt,
    int chance, struct fault_level *f, unsigned int *failing,
    unsigned int *conc)
{
	double		ex[DOM_BUCKETS], all = 0, rate, in = 0, win = 0;
	double		out = 0, wout = 0;
	unsigned int	i, j, g;

	for (f->bad = 0, i = 0; i < DOM_BUCKETS; i++) {
		f->bad += bad[i];
		all += wt[i];
	}
	rate = all > 0 ? (double)f->bad / all : 0;
	for (i = 0; i < DOM_BUCKETS; i++)
		ex[i] = (double)bad[i] - rate * wt[i];
#define BEFORE(a, b)	(bad[a] > 0 && (bad[b] == 0 || ex[a] > ex[b]))
	for (i = 0; i < DOM_BUCKETS; i++) {
		for (j = i; j > 0 && BEFORE(i, f->group[j - 1]); j--)
			f->group[j] = f->group[j - 1];
		f->group[j] = i;
	}
#undef BEFORE
	for (*failing = 0; *failing < DOM_BUCKETS &&
	    bad[f->group[*failing]] > 0; (*failing)++)
		;
	*conc = DOM_BUCKETS + 1;
	for (i = 0; i < *failing; i++) {
		g = f->group[i];
		in += (double)bad[g];
		win += wt[g];
		out = (double)f->bad - in;
		wout = all - win;
		if (all <= 0) {
			if (in >= c->share * (double)f->bad) {
				*conc = i + 1;
				break;
			}
			continue;
		}
		if (i >= c->max_groups)
			break;
		if (in >= FAULT_CONC_HELD * (double)f->bad && (out <= 0 ||
		    wout <= 0 || in * wout >= FAULT_CONC_LIFT * out * win) &&
		    (!chance || beyond_chance(in, (double)f->bad, win / all,
		    i + 1))) {
			*conc = i + 1;
			break;
		}
	}
	/* And the next groups failing as far beyond the rest, as many. */
	for (i = *conc; i < *failing && i < c->max_groups && all > 0; i++) {
		g = f->group[i];
		if (out > 0 && wout > 0 && (double)bad[g] * wout <
		    FAULT_CONC_LIFT * out * wt[g])
			break;
		out -= (double)bad[g];
		wout -= wt[g];
		*conc = i + 1;
	}
}

/*
 * One level.  Where are the failures: the check's own span, grown until
 * it holds FAULT_MIN_BAD of them, the groups ordered by them.  Then
 * whether the others resolve as usual (resolve_as_usual()).
 */
static void
level_judge(const struct window *w, const struct evidence *ev,
    enum ev_kind kind, const struct fault_conf *c, enum ah_level lv,
    struct fault_level *f)
{
	const struct sample	*now = window_nth(w, 0), *base;
	uint64_t		 bad[DOM_BUCKETS], ok[DOM_BUCKETS], acc;
	double			 wt[DOM_BUCKETS];
	struct cand		 cd[DOM_BUCKETS + 1], cs[DOM_BUCKETS + 1];
	struct cand		*pick;
	unsigned int		 k, i, failing, conc, first, hmin = 0;
	unsigned int		 hmax, pmin;
	double			 xq, xr;
	int			 load, servers = 0;

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
	f->srv = level_srv(c->causes, lv, now, base, bad);
	usual_weights(c, kind, lv, wt);
	order(c, bad, wt, kind != EV_ANSWERS, f, &failing, &conc);
	f->failing = failing;
	if (kind == EV_ANSWERS && conc > c->max_groups &&
	    (i = silent_first(now, base, lv, failing, c->max_groups, f)) > 0)
		conc = i;
	/*
	 * Overdue everywhere is a slow node, not a slow domain; unless
	 * named shed recursions in the window (recursive-clients full,
	 * every name waiting for a slot): load, as for slower() and
	 * 'stopped', and whether the rest resolves is asked below.
	 */
	if (kind == EV_ANSWERS && conc > c->max_groups && !shedding(w)) {
		f->verdict = FAULT_SPREAD;
		f->ngroups = failing;
		return;
	}
	/*
	 * Slow somewhere: whether the rest resolves is the recursions'
	 * question, their failures left out as for the recursion check
	 * (a broken TLD's names fail in other groups than a slow one's).
	 */
	if (kind == EV_ANSWERS)
		hmin = conc;
	if (kind == EV_ANSWERS &&
	    group_outcomes(w, c, EV_RECURSIONS, lv, now, base, bad, ok) > 0) {
		usual_weights(c, EV_RECURSIONS, lv, wt);
		order(c, bad, wt, 1, f, &failing, &conc);
		f->failing = failing;
		hmin = 0;
	}
	hmax = failing < c->max_groups ? failing : c->max_groups;
	if (conc > hmax && (i = silent_first(now, base, lv, failing, hmax,
	    f)) > 0)
		conc = i;
	f->spread = conc > hmax;

	/* Pending is no failure on short spans only beside concentration. */
	load = under_load(w, c, &xq, &xr);
	pmin = conc <= hmax ? conc : DOM_BUCKETS + 1;
	first = conc <= hmax ? conc : hmin;
	resolve_as_usual(w, c, lv, f, hmin, hmax, pmin, load, 0, cd);
	pick = pick_cand(c, cd, hmin, first, hmax);
	/*
	 * Not as usual, every failure counted: do the names whose servers
	 * answered resolve as usual?  A dead TLD's servers, marked
	 * unreachable once named gives up on them (10 s on), fail at once
	 * every name they serve, in every group (doc/fleet.md, section 6),
	 * as a provider's failing servers do; a node's clock or trust
	 * anchor fails validation, its uplink times out, and its route
	 * gone leaves it hearing nothing ('stopped').  Asked once a usual
	 * is known: its share of the servers' failures too.  Then, beside
	 * servers failing far beyond their usual, with the timeouts left
	 * out as well (servers_failing()).
	 */
	if (pick == NULL && cd[hmax].tested && c->causes && c->base != NULL &&
	    fault_base_count(c->base) >= FAULT_BASE_MIN) {
		resolve_as_usual(w, c, lv, f, hmin, hmax, pmin, load, SRV_GAVE,
		    cs);
		if ((pick = pick_cand(c, cs, hmin, first, hmax)) != NULL)
			servers = SRV_GAVE;
		else if (servers_failing(w, c, lv, 0, 0)) {
			resolve_as_usual(w, c, lv, f, hmin, hmax, pmin, load,
			    SRV_SILENT, cs);
			if ((pick = pick_cand(c, cs, hmin, first, hmax)) !=
			    NULL)
				servers = SRV_SILENT;
		}
	}
	if (pick != NULL && servers) {
		f->verdict = FAULT_EXTERNAL;
		f->ngroups = (unsigned int)(pick - cs);
		f->servers = servers;
		f->srv = level_srv(servers, lv, now, base, bad);
	} else if (pick != NULL) {
		f->verdict = pick == &cd[0] ? FAULT_USUAL : FAULT_EXTERNAL;
		f->ngroups = (unsigned int)(pick - cd);
	} else {
		/* The most the rule may leave out, and still not as usual. */
		pick = &cd[hmax];
		f->verdict = pick->tested || pick->ok == 0 ?
		    FAULT_NO_RESOLUTION : FAULT_UNSURE;
		f->ngroups = failing;
		if (f->verdict == FAULT_UNSURE) {
			pick = &cd[first];
			f->ngroups = first;
		}
	}
	for (acc = 0, i = 0; i < f->ngroups && i < DOM_BUCKETS; i++)
		acc += bad[f->group[i]];
	if (f->ngroups == 0 && f->verdict == FAULT_EXTERNAL)
		acc = f->srv;
	f->held = (double)acc / (double)f->bad;
	f->ok_else = pick->ok;
	f->bad_else = pick->n - pick->ok;
	f->srv_else = pick->srv;
	f->usual = pick->usual;
	f->fresh = usual_rate(c, lv, 0, ok, bad, 0) < 0;
	f->span_else = pick->span;
	if ((f->load = pick->load)) {
		f->load_q = xq;
		f->load_r = xr;
	}
}

/*
 * k where lambda were expected: under 'share' of it, and so few that a
 * node as usual would fall there once in 1/p at most?
 */
static int
too_few(uint64_t k, double lambda, double share, double p)
{
	return ((double)k < share * lambda && poisson_tail(k, lambda) < p);
}

/*
 * Too few of the n asked, each usually one with probability q: the
 * binomial's lower tail, on counts taken in lots of FAULT_SLOW_LOT,
 * for recursions are not independent (names wait on one another's
 * servers, and a slow domain's come together: the lab's normal traffic
 * spread its fast answers 2.2 times as widely as independent ones
 * would).  Where nearly every recursion is fast, a Poisson count
 * (too_few(), as if any number could have come) hides a shortfall the
 * starts make plain: the catalogue's 30 % loss, 16 fast answers in 0.5
 * s where 27 were usual, of 29 started, each usually 94 % fast.  So
 * tight a test may take a smaller shortfall (FAULT_SLOW_OF of the
 * usual, where too_few() takes FAULT_SLOW_SHARE; not lifted when held
 * down): that loss gave 60 % of the usual for its first 0.8 s, until
 * named's first retries (and the clients' own) came in, and 40 % only
 * after.  Not beside a fault of the world's, whose waves of waiting
 * names only a collapse outweighs (slow_share()).
 */
static int
too_few_of(uint64_t k, double n, double q, double share, double p)
{
	if (q <= 0 || q >= 1 || n < 1 || (double)k >= share * n * q)
		return (0);
	return (lower_tail(k / FAULT_SLOW_LOT,
	    (uint64_t)(n / FAULT_SLOW_LOT), q) < p);
}

/* So many expected that too_few() could have said so: grow no more. */
static int
telling(double lambda)
{
	return (lambda >= 4 * -log(FAULT_P));
}

/*
 * Has the node stopped hearing back from the internet?  Its recursions
 * that ended with an answer (a success, or a failure the servers or
 * validation gave: not a timeout) over the newest spans, against their
 * usual rate a second, scaled down when it starts fewer recursions than
 * usual (its clients left), never up (an attack's are not expected to
 * end); 1 at the first span that says so.  A broken TLD still answers,
 * bogus; an uplink gone does not.
 */
/*
 * Recursions that ended with an answer heard, at s: successes and
 * failures; from a plugin that counts the causes, successes and
 * validation's failures only, since what the servers gave includes
 * servers named could not reach (a node whose route is gone hears
 * nothing, and fails every name at once).
 */
static uint64_t
heard(const struct fault_conf *c, const struct sample *s)
{
	uint64_t	n = s->c[SMP_SUCCESS];
	unsigned int	g;

	if (!c->causes)
		return (n + s->c[SMP_FAILURE]);
	for (g = 0; g < DOM_BUCKETS; g++)
		n += s->c[SMP_G(AH_LVL_DOMAIN, AH_DOM_RVAL, g)];
	return (n);
}

static int
stopped(const struct window *w, const struct fault_conf *c, int64_t min_ms,
    struct fault *f)
{
	const struct fault_base	*b = c->base;
	const struct sample	*now = window_nth(w, 0), *base;
	double			 okrate, strate, secs, lambda;
	uint64_t		 ok, st;
	unsigned int		 k;

	if (b != NULL && fault_base_count(b) >= FAULT_BASE_MIN &&
	    b->secs > 0) {
		okrate = b->answered / b->secs;
		strate = b->started / b->secs;
	} else {
		/* No usual yet: the window's own past stands for it. */
		if ((k = window_age(w, now->t - c->window_ms)) >= w->n)
			k = w->n - 1;
		base = window_nth(w, k);
		if ((secs = (double)(now->t - base->t) / 1000) <= 0)
			return (0);
		okrate = (double)(heard(c, now) - heard(c, base)) / secs;
		strate = (double)(now->c[SMP_STARTED] -
		    base->c[SMP_STARTED]) / secs;
	}
	/*
	 * recursive-clients full (an attack's silent names fill it)
	 * anywhere in the window: load, not a node that cannot resolve.
	 * Not only over the span judged: named that shed recursions until
	 * a second ago, still busy with the victim's names, answered 1 in
	 * 0.5 s (the catalogue's attack).
	 */
	if (shedding(w))
		return (0);
	for (k = 1; k < w->n; k++) {
		base = window_nth(w, k);
		secs = (double)(now->t - base->t) / 1000;
		ok = heard(c, now) - heard(c, base);
		st = now->c[SMP_STARTED] - base->c[SMP_STARTED];
		/*
		 * Not on less than unanswered-after: a named busy with an
		 * attack may answer nothing for 200 ms (measured), and a
		 * silent uplink shows as failures no sooner anyway.
		 */
		if (now->t - base->t < c->grace_ms) {
			if (!may_grow(w, c, k))
				break;
			continue;
		}
		/*
		 * Twice the usual recursions: a flood or an attack, whose
		 * names may stall named's answers for all (measured, the
		 * catalogue's attack: 1 answer in 0.6 s): load.
		 */
		if ((double)st > 2 * strate * secs)
			return (0);
		/* Fewer clients, fewer successes to expect; more, no more. */
		lambda = okrate * secs;
		if ((double)st < strate * secs)
			lambda *= (double)st / (strate * secs);
		/* Too few on less than 'min_ms' (fault_judge()): grow. */
		if (too_few(ok, lambda, FAULT_STOPPED, FAULT_P)) {
			if (now->t - base->t < min_ms) {
				if (!may_grow(w, c, k))
					break;
				continue;
			}
			f->stop_ok = ok;
			f->stop_expected = lambda;
			f->stop_span = now->t - base->t;
			return (1);
		}
		if (telling(lambda) || !may_grow(w, c, k))
			break;
	}
	return (0);
}

/* The verdicts of the levels, the node's fault last: the first wins. */
static const enum fault_verdict precedence[] = {
	FAULT_USUAL, FAULT_EXTERNAL, FAULT_UNSURE, FAULT_SPREAD,
	FAULT_NO_RESOLUTION, FAULT_NO_DATA
};
#define NPRECEDENCE	(sizeof(precedence) / sizeof(precedence[0]))

/*
 * The level that decides among the first 'np' verdicts of precedence:
 * the first verdict wins, and of two levels excusing, the one that
 * names where the failures are before the one that excuses them as
 * the servers'.  -1: no level has one of those.
 */
static int
deciding(const struct fault_level *l, unsigned int nlevels, size_t np)
{
	size_t		p;
	unsigned int	lv;

	for (p = 0; p < 2 * np; p++)
		for (lv = 0; lv < nlevels; lv++)
			if (l[lv].verdict == precedence[p / 2] &&
			    (l[lv].servers != 0) == (int)(p % 2))
				return ((int)lv);
	return (-1);
}

/*
 * Slow answers, and no recursion overdue now in any group (a slow
 * name's, or an outage's tail), or overdue in a few groups of a level
 * whose rest fails there (a broken TLD's names are in every domain
 * group): no fault of the node, unless it does not resolve as
 * usual.  Whether it does is the recursion check's question, with its
 * failures left out as that check leaves them (a shared fault, one
 * broken domain, beside an outage's tail is the world's, not a reason
 * to move); without failures, judged on the domain level, every group.
 */
static void
slow_but_usual(const struct window *w, const struct evidence *ev,
    const struct fault_conf *c, struct fault *f)
{
	struct fault_level	*l = &f->l[AH_LVL_DOMAIN], rl[AH_LVL_COUNT];
	struct cand		 cd[1];
	uint64_t		 none[DOM_BUCKETS] = { 0 };
	unsigned int		 lv, g;
	int			 d;

	level_judge(w, ev, EV_RECURSIONS, c, AH_LVL_DOMAIN, &rl[AH_LVL_DOMAIN]);
	if (rl[AH_LVL_DOMAIN].verdict != FAULT_NO_DATA) {
		for (lv = AH_LVL_DOMAIN + 1; lv < f->nlevels; lv++)
			level_judge(w, ev, EV_RECURSIONS, c, lv, &rl[lv]);
		if ((d = deciding(rl, f->nlevels, 2)) >= 0) {
			f->l[d] = rl[d];
			f->verdict = rl[d].verdict;
			f->level = (enum ah_level)d;
		}
		return;
	}
	for (g = 0; g < DOM_BUCKETS; g++)
		l->group[g] = g;
	resolve_as_usual(w, c, AH_LVL_DOMAIN, l, 0, 0, DOM_BUCKETS + 1, 0, 0,
	    cd);
	if (!as_usual(c, &cd[0]))
		return;
	l->verdict = f->verdict = FAULT_USUAL;
	f->level = AH_LVL_DOMAIN;
	l->ok_else = cd[0].ok;
	l->bad_else = cd[0].n - cd[0].ok;
	l->usual = cd[0].usual;
	l->fresh = usual_rate(c, AH_LVL_DOMAIN, 0, none, none, 0) < 0;
	l->span_else = cd[0].span;
}

/*
 * The recursions answered within the bound that a node answering as
 * fast as usual would have given over base..now: the usual number per
 * recursion started, times those started in each group, each group's
 * capped a little above its usual rate (a surge of one group's names
 * brings no fast answers; fewer clients bring fewer; capped at the
 * usual itself, ordinary ups and downs counted only downwards and the
 * usual read 5-15 % low).  Every group, the least of the levels: the fast
 * answers counted are the whole node's, and a group left out that
 * answers as fast as ever counts on one side only.  Leaving out the
 * groups the overdue were concentrated in left out .com's half of the
 * recursions under the catalogue's 30 % loss (the background's slow
 * domains held the usual overdue, so the loss's looked concentrated
 * where the node resolves most), and the row was decided in 1.7 s: 25
 * fast answers in a second where 65 were usual, 42 without those
 * groups.  A slow domain or the CDN is a small share of the
 * recursions and leaves most of the fast answers; an attack's victim
 * starts more than twice the usual and is load (slower()).  A group
 * from which nothing comes back while the others' recursions finish
 * (silent()) gives no answer, fast or late, and is left out: a dead
 * TLD's names, flushed from the cache at its start, started at twice
 * their usual rate and more, and the cap let .nl's count 14 fast
 * answers where 6 were usual and none came; the catalogue's dead .nl
 * moved the node in 0.7 s ("17 within 100ms over 0.5s, 46 usual").
 */
static double
fast_expected(const struct fault_conf *c, const struct fault *f,
    const struct sample *now, const struct sample *base, double per,
    double secs)
{
	const struct fault_base	*b = c->base;
	double			 e, best = -1, st, mu, cap;
	unsigned int		 lv, g, mask;

	for (lv = 0; lv < f->nlevels; lv++) {
		mask = silent(now, base, lv);
		for (e = 0, g = 0; g < DOM_BUCKETS; g++) {
			if (mask & (1u << g))
				continue;
			st = (double)(now->c[SMP_G(lv, AH_DOM_RSTART, g)] -
			    base->c[SMP_G(lv, AH_DOM_RSTART, g)]);
			mu = b->st[lv][g] / b->secs * secs;
			cap = mu + 3 * sqrt(mu) + 1;
			e += st < cap ? st : cap;
		}
		e *= per;
		if (best < 0 || e < best)
			best = e;
	}
	return (best < 0 ? 0 : best);
}

/*
 * Slower than usual (fault.h)?  Recursions answered within the bound
 * over the newest spans, against what the usual would have given
 * (fast_expected()), as for 'stopped': a count, not a share of the
 * answers, for an outage's end brings its late answers all at once,
 * beside the usual fast ones.
 */
static int
slower(const struct window *w, const struct fault_conf *c, double share,
    int64_t min_ms, struct fault *f)
{
	const struct fault_base	*b = c->base;
	const struct sample	*now = window_nth(w, 0), *base;
	double			 tot, per, secs, lambda, p = FAULT_P, tell = 1;
	double			 of;
	uint64_t		 fast;
	unsigned int		 i, j, k;

	/* Counted against the starts, not beside a fault of the world's. */
	of = share < FAULT_SLOW_SHARE ? 0 : FAULT_SLOW_OF;
	/*
	 * Held down: stays slow under more, on twice the evidence; against
	 * the starts, under as much (lifted, any shortfall over a window
	 * was beyond chance, and a cache refilling after an outage held it).
	 */
	if (c->hold) {
		share *= FAULT_HOLD_LIFT;
		p = FAULT_HOLD_P;
		tell = 2;
	}
	if (b == NULL || fault_base_count(b) < FAULT_BASE_MIN ||
	    b->secs <= 0 || b->started <= 0 ||
	    (tot = b->lat[LAT_BUCKETS - 1]) < FAULT_BASE_MIN)
		return (0);
	for (i = 0; i < LAT_BUCKETS - 2 && b->lat[i] < 0.5 * tot; i++)
		;
	for (j = 0; j < LAT_BUCKETS - 2 && ah_lat_bounds[j] < FAULT_SLOW_MS;
	    j++)
		;
	if (i + 2 > j)
		j = i + 2;
	/* A node that usually answers in a second or more: not so. */
	if (j >= LAT_BUCKETS - 2 || ah_lat_bounds[j] > FAULT_SLOW_MAX_MS)
		return (0);
	f->slow_asked = 1;
	per = b->lat[j] / b->started;
	/* Shedding load anywhere in the window: load, not a slow node. */
	if (shedding(w))
		return (0);
	for (k = 1; k < w->n; k++) {
		base = window_nth(w, k);
		secs = (double)(now->t - base->t) / 1000;
		/*
		 * Load: twice the usual queries, or recursions (an attack's
		 * fresh names, which stall named's answers for all: the
		 * catalogue's attack, 0.5 of the usual fast answers).
		 */
		if (load_over(c, now, base, SMP_QUERIES) > 2 ||
		    load_over(c, now, base, SMP_STARTED) > 2)
			return (0);
		/* No answer is due before a round trip or two: grow. */
		if (now->t - base->t < c->grace_ms) {
			if (!may_grow(w, c, k))
				break;
			continue;
		}
		fast = now->c[SMP_LAT + j] - base->c[SMP_LAT + j];
		lambda = fast_expected(c, f, now, base, per, secs);
		if (too_few(fast, lambda, share, p) ||
		    too_few_of(fast, lambda / per, per, of, p)) {
			/* Too few on less than 'min_ms', as for 'stopped'. */
			if (now->t - base->t < min_ms) {
				if (!may_grow(w, c, k))
					break;
				continue;
			}
			f->slow = 1;
			f->slow_ms = ah_lat_bounds[j];
			f->slow_fast = fast;
			f->slow_expected = lambda;
			f->slow_span = now->t - base->t;
			return (1);
		}
		if (telling(lambda / tell) || !may_grow(w, c, k))
			break;
	}
	return (0);
}

/*
 * Does level lv excuse a fault of the world's far beyond the usual:
 * recursions failed in its excused groups over its span FAULT_CONC_LIFT
 * times what they usually fail and FAULT_MIN_BAD more, as a dead TLD's
 * are, or failing beside servers failing far beyond their usual
 * (SRV_SILENT)?  Not the background's broken domains, whose failures
 * are their usual.  Counted as the recursion check counts failures,
 * over the level's span, for any level: a latency level's own are the
 * recursions overdue now, not a count over a span.
 */
static int
world_fault(const struct window *w, const struct fault_conf *c,
    const struct fault *f, int lv)
{
	const struct fault_base		*b = c->base;
	const struct fault_level	*l;
	const struct sample		*now = window_nth(w, 0), *base;
	uint64_t			 bad[DOM_BUCKETS], ok[DOM_BUCKETS];
	double				 usual = 0, held = 0;
	unsigned int			 g, i, k;

	if (lv < 0 || (l = &f->l[lv])->verdict != FAULT_EXTERNAL ||
	    b == NULL || fault_base_count(b) < FAULT_BASE_MIN || b->secs <= 0)
		return (0);
	if (l->servers == SRV_SILENT)
		return (1);
	if (l->ngroups == 0 || (k = window_age(w, now->t - l->span)) == 0 ||
	    k >= w->n)
		return (0);
	base = window_nth(w, k);
	group_outcomes(w, c, EV_RECURSIONS, (enum ah_level)lv, now, base,
	    bad, ok);
	for (i = 0; i < l->ngroups && i < DOM_BUCKETS; i++) {
		g = l->group[i];
		usual += b->n[lv][g] - b->ok[lv][g];
		held += (double)bad[g];
	}
	usual *= (double)(now->t - base->t) / 1000 / b->secs;
	return (far_beyond(held, usual));
}

/*
 * The share of the usual fast answers under which a node is slow
 * (fault.h): less beside a fault of the world's far beyond the usual.
 */
static double
slow_share(const struct window *w, const struct fault_conf *c,
    const struct fault *f, int lv)
{
	return (world_fault(w, c, f, lv) ? FAULT_SLOW_COLLAPSE :
	    FAULT_SLOW_SHARE);
}

/*
 * Answers far slower than usual outweigh an excuse of the failures'
 * places: names resolve, but late, everywhere (fault.h).
 */
static void
slow_everywhere(const struct window *w, const struct fault_conf *c,
    int64_t min_ms, struct fault *f)
{
	switch (f->verdict) {
	case FAULT_USUAL:
	case FAULT_EXTERNAL:
	case FAULT_UNSURE:
	case FAULT_NO_DATA:
		if (slower(w, c, slow_share(w, c, f, f->verdict ==
		    FAULT_EXTERNAL ? (int)f->level : -1), min_ms, f))
			f->verdict = FAULT_SPREAD;
		break;
	default:
		break;
	}
}

/* Every level of groups the plugin gives (one for a protocol 2 one). */
static void
judge_levels(const struct window *w, const struct evidence *ev,
    enum ev_kind kind, const struct fault_conf *c, struct fault *f)
{
	unsigned int	lv;

	f->nlevels = c->v2 ? 1 : AH_LVL_COUNT;
	for (lv = 0; lv < f->nlevels; lv++)
		level_judge(w, ev, kind, c, lv, &f->l[lv]);
}

/*
 * f cleared to FAULT_OFF; whether there is anything to judge: the rule
 * on, two snapshots, evidence with a span.
 */
static int
judgeable(const struct window *w, const struct evidence *ev,
    const struct fault_conf *c, struct fault *f)
{
	memset(f, 0, sizeof(*f));
	f->verdict = FAULT_OFF;
	return (c->max_groups > 0 && w->n >= 2 && ev->span >= 0);
}

/*
 * The shortest span on which 'stopped' and the slow rule may say so:
 * FAULT_BESIDE_MS beside a fault of the world's far beyond the usual (a
 * level excusing one, world_fault(), or servers that failed, and
 * timeouts, far beyond their usual before the newest FAULT_BESIDE_MS),
 * else any.  A TLD dead for a minute, its waiting names timing out a
 * hundred a second: named answered one recursion in 0.5 s where 38
 * were usual, 45 s in; 8 s in, two in 0.6 s where 43 were (its waiting
 * names had taken the place of others, and a fifth of the usual
 * succeeded); 52 s in, one within 100 ms in 0.5 s where 17 were.  A
 * node whose route has just gone fails every name the servers' way,
 * but only since, and resolves nothing as usual.
 */
static int64_t
beside_world(const struct window *w, const struct fault_conf *c,
    const struct fault *f)
{
	unsigned int	lv;

	for (lv = 0; lv < f->nlevels; lv++)
		if (world_fault(w, c, f, (int)lv))
			return (FAULT_BESIDE_MS);
	return (c->causes && c->base != NULL &&
	    fault_base_count(c->base) >= FAULT_BASE_MIN &&
	    servers_failing(w, c, AH_LVL_DOMAIN, FAULT_BESIDE_MS, 1) ?
	    FAULT_BESIDE_MS : 0);
}

void
fault_judge(const struct window *w, const struct evidence *ev,
    enum ev_kind kind, const struct fault_conf *c, struct fault *f)
{
	int64_t	beside;
	int	d;

	if (!judgeable(w, ev, c, f))
		return;
	/* A zone this node serves answering SERVFAIL is this node's. */
	if (kind == EV_QUERIES && (double)ev->d.c[SMP_AUTH_SERVFAIL] >
	    (1.0 - c->share) * (double)ev->bad) {
		f->verdict = FAULT_OWN_ZONES;
		return;
	}
	judge_levels(w, ev, kind, c, f);
	beside = beside_world(w, c, f);
	if (stopped(w, c, beside, f)) {
		f->stopped = 1;
		f->verdict = FAULT_NO_RESOLUTION;
		f->level = AH_LVL_DOMAIN;
		return;
	}
	if ((d = deciding(f->l, f->nlevels, NPRECEDENCE)) < 0)
		return;
	f->verdict = f->l[d].verdict;
	f->level = (enum ah_level)d;
	/*
	 * Overdue in a few groups of one level (a large group's quick
	 * answers hide them from the other's: overdue is a count), or in
	 * none: whether the rest resolves is the recursions' question, at
	 * every level; so too where a level excused them as the servers'.
	 */
	if ((f->verdict == FAULT_NO_DATA ||
	    f->verdict == FAULT_NO_RESOLUTION || f->l[d].servers) &&
	    kind == EV_ANSWERS)
		slow_but_usual(w, ev, c, f);
	if (kind == EV_ANSWERS)
		slow_everywhere(w, c, beside, f);
}

int
fault_slow(const struct window *w, const struct evidence *ev,
    const struct fault_conf *c, struct fault *f)
{
	int	d;

	if (!judgeable(w, ev, c, f))
		return (0);
	judge_levels(w, ev, EV_ANSWERS, c, f);
	d = deciding(f->l, f->nlevels, NPRECEDENCE);
	if (!slower(w, c, slow_share(w, c, f, d), beside_world(w, c, f), f))
		return (0);
	f->verdict = FAULT_SPREAD;
	return (1);
}

int
fault_worse(const struct window *w, const struct evidence *ev,
    const struct fault_conf *c, struct fault *f)
{
	struct fault_conf	all = *c;
	unsigned int		lv;
	double			xq, xr;

	/*
	 * Not under load: an attack's victim keeps named busy, and the
	 * other names fail more before its own recursions are overdue.
	 */
	if (!judgeable(w, ev, c, f) || under_load(w, c, &xq, &xr))
		return (0);
	/*
	 * Every failure counted: within the limit, failing far beyond
	 * the usual everywhere is a clock or trust anchor gone wrong,
	 * whose validation failures fail some names the servers' way too
	 * (ISC_R_FAILURE half again its usual, a clock a day behind).
	 */
	all.causes = 0;
	judge_levels(w, ev, EV_RECURSIONS, &all, f);
	for (lv = 0; lv < f->nlevels; lv++)
		if (f->l[lv].verdict != FAULT_NO_RESOLUTION || !f->l[lv].spread)
			return (0);
	f->verdict = FAULT_NO_RESOLUTION;
	f->level = AH_LVL_DOMAIN;
	return (1);
}

int
fault_stepped(const struct window *w, const struct fault_conf *c,
    int64_t since, struct fault *f)
{
	const struct fault_base	*b = c->base;
	const struct sample	*now, *base;
	uint64_t		 bad, done, n = 0;
	double			 u, usual = 0;
	unsigned int		 k, g, groups = 0;

	memset(f, 0, sizeof(*f));
	f->verdict = FAULT_OFF;
	/* Only a usual learnt says what validation usually fails. */
	if (!c->causes || c->v2 || b == NULL ||
	    fault_base_count(b) < FAULT_BASE_MIN || w->n < 2 || since <= 0)
		return (0);
	now = window_nth(w, 0);
	/*
	 * From the snapshot before the one that showed the step: named's
	 * clock may have stepped any time after that one.
	 */
	if (now->t - since > c->window_ms ||
	    (k = window_age(w, since - 1)) == 0 || k >= w->n)
		return (0);
	base = window_nth(w, k);
	for (g = 0; g < DOM_BUCKETS; g++) {
#define D(kd)	(now->c[SMP_G(AH_LVL_DOMAIN, kd, g)] - \
		    base->c[SMP_G(AH_LVL_DOMAIN, kd, g)])
		bad = D(AH_DOM_RVAL);
		done = D(AH_DOM_RDONE);
#undef D
		/*
		 * The group's usual share of its recursions, of those that
		 * ended since: a forward step expires the cache, and the
		 * recursions surge, its bogus domains' with them.
		 */
		u = b->n[AH_LVL_DOMAIN][g] > 0 ? b->val[AH_LVL_DOMAIN][g] /
		    b->n[AH_LVL_DOMAIN][g] * (double)done : 0;
		n += bad;
		usual += u;
		/* Beyond what the group's background of bogus domains fails. */
		if (bad >= 2 && (double)bad >= FAULT_CONC_LIFT * u)
			groups++;
	}
	f->step_bad = n;
	f->step_expected = usual;
	f->step_groups = groups;
	f->step_span = now->t - base->t;
	if (n < FAULT_STEP_BAD || groups < FAULT_STEP_GROUPS ||
	    poisson_upper(n, usual) >= FAULT_STEP_P)
		return (0);
	f->stepped = 1;
	f->verdict = FAULT_NO_RESOLUTION;
	f->level = AH_LVL_DOMAIN;
	return (1);
}

double
fault_base_count(const struct fault_base *b)
{
	double		n = 0;
	unsigned int	g;

	for (g = 0; g < DOM_BUCKETS; g++)
		n += b->n[AH_LVL_DOMAIN][g];
	return (n);
}

void
fault_base_update(struct fault_base *b, const struct window *w,
    const struct fault_conf *c)
{
	const struct sample	*now, *prev;
	uint64_t		 bad[DOM_BUCKETS], ok[DOM_BUCKETS];
	uint64_t		 srv[DOM_BUCKETS], tmo;
	unsigned int		 lv, g;
	double			 keep;
	int			 shed;

	if (w->n < 2)
		return;
	now = window_nth(w, 0);
	prev = window_nth(w, 1);
	if (now->t <= b->t)
		return;
	keep = b->t == 0 ? 0 : exp(-(double)(now->t - b->t) /
	    FAULT_BASE_TAU_MS);
	/*
	 * Shedding load within the window (recursive-clients full), as
	 * slower() asks: its answers are late and its starts an attack's,
	 * not how fast the node usually is; the snapshots between its
	 * cancels are no better.
	 */
	shed = shedding(w);
	for (lv = 0; lv < (c->v2 ? 1u : (unsigned int)AH_LVL_COUNT); lv++) {
		group_outcomes(w, c, EV_RECURSIONS, lv, now, prev, bad, ok);
		servers_failed(c->causes, lv, now, prev, srv);
		for (g = 0; g < DOM_BUCKETS; g++) {
			b->st[lv][g] = b->st[lv][g] * keep + (shed ? 0 :
			    (double)(now->c[SMP_G(lv, AH_DOM_RSTART, g)] -
			    prev->c[SMP_G(lv, AH_DOM_RSTART, g)]));
			b->ok[lv][g] = b->ok[lv][g] * keep + (double)ok[g];
			b->n[lv][g] = b->n[lv][g] * keep +
			    (double)(ok[g] + bad[g]);
			b->srv[lv][g] = b->srv[lv][g] * keep +
			    (double)(srv[g] < bad[g] ? srv[g] : bad[g]);
			tmo = c->causes ? now->c[SMP_G(lv, AH_DOM_RTMO, g)] -
			    prev->c[SMP_G(lv, AH_DOM_RTMO, g)] : 0;
			/* With the servers' at most all of bad. */
			srv[g] = srv[g] < bad[g] ? srv[g] : bad[g];
			b->tmo[lv][g] = b->tmo[lv][g] * keep +
			    (double)(tmo < bad[g] - srv[g] ? tmo :
			    bad[g] - srv[g]);
			b->val[lv][g] = b->val[lv][g] * keep +
			    (double)(c->causes ?
			    now->c[SMP_G(lv, AH_DOM_RVAL, g)] -
			    prev->c[SMP_G(lv, AH_DOM_RVAL, g)] : 0);
		}
	}
	b->answered = b->answered * keep + (double)(heard(c, now) -
	    heard(c, prev));
	b->started = b->started * keep + (double)(now->c[SMP_STARTED] -
	    prev->c[SMP_STARTED]);
	for (g = 0; g < LAT_BUCKETS; g++)
		b->lat[g] = b->lat[g] * keep + (shed ? 0 :
		    (double)(now->c[SMP_LAT + g] - prev->c[SMP_LAT + g]));
	b->queries = b->queries * keep + (double)(now->c[SMP_QUERIES] -
	    prev->c[SMP_QUERIES]);
	b->secs = b->secs * keep + (double)(now->t - prev->t) / 1000;
	b->t = now->t;
}
