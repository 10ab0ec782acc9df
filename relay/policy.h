/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy.h - the arithmetic of judging: sliding windows over
 * cumulative counters, hysteresis and flap damping.  Pure functions of
 * their inputs and a clock value passed in, so tests/unit/test_policy.c
 * can drive them without servers or time.
 */
#ifndef AH_POLICY_H
#define AH_POLICY_H

#include <stdint.h>

#include "ahwire.h"

#define LAT_BUCKETS	AH_LAT_BUCKETS	/* le_1 .. le_inf */
#define DOM_BUCKETS	AH_DOM_BUCKETS
#define WINDOW_SAMPLES	1024

/*
 * The counters a service is judged on, cumulative, as one array so that
 * differences and resets are one loop, not one line per counter.  The
 * finished recursions (SMP_SUCCESS .. SMP_CANCELED) are in a row, and
 * so are the fleet sensor's groups: level, kind, group (SMP_G()).
 */
enum smp {
	SMP_QUERIES, SMP_DROPPED, SMP_SERVFAIL, SMP_AUTH_SERVFAIL, SMP_QUOTA,
	SMP_STARTED, SMP_SUCCESS, SMP_FAILURE, SMP_TIMEOUT, SMP_CANCELED,
	SMP_LAT,				/* le_1 .. le_inf */
	SMP_GROUPS = SMP_LAT + LAT_BUCKETS,
	SMP_COUNT = SMP_GROUPS + AH_LVL_COUNT * AH_DOM_COUNT * DOM_BUCKETS
};
#define SMP_FINISHED	4		/* SMP_SUCCESS .. SMP_CANCELED */
#define SMP_G(level, kind, group)					\
	(SMP_GROUPS + ((level) * AH_DOM_COUNT + (kind)) * DOM_BUCKETS +	\
	(group))

struct sample {
	int64_t		t;		/* monotonic ms */
	uint64_t	c[SMP_COUNT];
};

struct window {
	struct sample	s[WINDOW_SAMPLES];
	unsigned int	head;		/* next slot to write */
	unsigned int	n;
};

void	window_reset(struct window *);
/* The sample 'k' snapshots before the newest (k < w->n). */
const struct sample *window_nth(const struct window *, unsigned int k);
/* The age (k) of the newest sample taken at or before 't'; w->n if none. */
unsigned int window_age(const struct window *, int64_t t);
/*
 * Add a sample.  A counter that went backwards means named restarted
 * (or a new plugin instance): the history no longer applies.
 */
void	window_push(struct window *, const struct sample *);
/*
 * Evidence for one check: the most recent span that holds at least
 * 'min' events, never shorter than one snapshot delta and never longer
 * than 'window_ms' (unless one delta is).  At 1,000 queries a second
 * one 100 ms snapshot is enough; at 5 a second the whole window is not.
 */
enum ev_kind {
	EV_QUERIES,	/* SERVFAIL answers among answers */
	EV_RECURSIONS,	/* failed or unanswered among recursions */
	EV_ANSWERS	/* recursive answers, for the latency quantile */
};

struct ev_conf {
	int64_t		window_ms;
	uint64_t	min;
	int64_t		grace_ms;	/* a recursion older is unanswered */
};

struct evidence {
	int64_t		span;		/* ms; -1: fewer than two samples */
	int64_t		t0, t1;		/* the span's ends, sample times */
	int		enough;		/* total >= min */
	uint64_t	total;		/* answers, recursions or answers */
	uint64_t	bad;		/* SERVFAIL, or failed recursions */
	uint64_t	failed, timedout, unanswered;	/* recursions */
	uint64_t	load;		/* not counted: quota, cancelled,
					   dropped */
	struct sample	d;		/* newest minus base */
};

int64_t	window_evidence(const struct window *, enum ev_kind,
	    const struct ev_conf *, struct evidence *);
/*
 * Counter 'c' per second from the oldest sample taken at or after
 * 'since' to the newest, the span in *span (ms); -1 without two such
 * samples.
 */
double	window_rate(const struct window *, enum smp c, int64_t since,
	    int64_t *span);
/*
 * Recursions started at least 'grace_ms' before sample 'at' and not
 * finished by then, net of younger ones already finished:
 * started(at - grace) - done(at), at least 0, where done is the sum of
 * 'ndone' counters from 'done'.  0 when the history does not reach
 * back that far.  Young recursions in flight are never counted, and a
 * slow tail hides behind the fast majority: it takes finishes falling
 * behind starts for longer than the grace.
 */
uint64_t window_overdue(const struct window *, const struct sample *at,
	    int64_t grace_ms, enum smp started, enum smp done,
	    unsigned int ndone);

/* Upper bound (ms) of the bucket holding quantile q (0..1); -1: +Inf. */
int64_t	latency_quantile(const struct sample *delta, double q);

/* Hysteresis and damping. */
struct judge_conf {
	unsigned int	rise;		/* good evaluations to come up */
	unsigned int	fall;		/* bad evaluations to go down */
	unsigned int	max_changes;	/* 0: no damping */
	int64_t		period_ms;	/* ... per this period */
	int64_t		hold_ms;	/* first hold when exceeded */
	int64_t		max_hold_ms;	/* holds double up to this */
};

#define JUDGE_CHANGES_MAX 64

struct judge {
	int		up;
	unsigned int	good, bad;	/* consecutive evaluations */
	int64_t		changes[JUDGE_CHANGES_MAX];	/* times of changes */
	unsigned int	nchanges;
	int64_t		held_until;	/* no coming up before this */
	int64_t		next_hold_ms;
};

enum verdict { V_GOOD, V_BAD, V_DEAD };	/* DEAD: down at once, no 'fall' */

void	judge_init(struct judge *, const struct judge_conf *);
/*
 * One evaluation at time 'now'.  Returns 1 if the judge changed its
 * mind (j->up is the new state), 0 otherwise.  Going down is never
 * delayed by damping: only coming back up is held.
 */
int	judge_step(struct judge *, const struct judge_conf *, int64_t now,
	    enum verdict);
/*
 * A node that stays down may still have its route come back (depreferred
 * after hard trouble): 1 if damping allows it now, counted as a change;
 * 0 if held.
 */
int	judge_resume(struct judge *, const struct judge_conf *, int64_t now);
/* While held: how long still, in ms; 0 if not held. */
int64_t	judge_held(const struct judge *, int64_t now);
/*
 * Down, with no evaluation counted towards rise or fall; the damping
 * history stays (a drain or undrain is no excuse to flap).
 */
void	judge_restart(struct judge *);
/*
 * An operator ends a hold (anycastctl release): the changes counted so
 * far are forgotten and the next hold starts from the first again, so
 * the node comes back at its next good evaluation.  Returns the hold
 * that was left, 0 if it was not held.
 */
int64_t	judge_release(struct judge *, const struct judge_conf *, int64_t now);

/*
 * Recovery.  A node down for soft trouble loses its clients to the
 * other nodes, so a failing ratio check soon has nothing to judge and
 * would keep its failure forever.  Such a failure is retried: 'first'
 * after the node went down, its results are forgotten and real traffic
 * tests the node again.  A retry fails when the node goes down again
 * before its retried checks passed on fresh evidence; each failed
 * retry doubles the wait, up to 'max', so a lasting fault costs a few
 * seconds of clients an hour, not a flap a minute.  A retry that
 * passes brings the wait back to 'first'.  Pure, like the rest.
 */
struct retry_conf {
	int64_t		first_ms;
	int64_t		max_ms;
};

struct retry {
	int64_t		wait_ms;	/* before the next retry */
	int64_t		at;		/* monotonic ms it is due; 0: none */
	int		trying;		/* retried, not yet passed */
};

void	retry_init(struct retry *, const struct retry_conf *);
/* The node went down for soft trouble at 'now'. */
void	retry_down(struct retry *, const struct retry_conf *, int64_t now);
/* The node came up, or hard trouble ended the soft one: none due. */
void	retry_cancel(struct retry *);
int	retry_due(const struct retry *, int64_t now);
/* A retry is made: what was failing is forgotten. */
void	retry_start(struct retry *);
/* The retried checks passed on fresh evidence. */
void	retry_passed(struct retry *, const struct retry_conf *);

#endif /* AH_POLICY_H */
