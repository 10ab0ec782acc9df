/*
 * policy.h - the arithmetic of judging: sliding windows over
 * cumulative counters, hysteresis and flap damping.  Pure functions of
 * their inputs and a clock value passed in, so tests/unit/test_policy.c
 * can drive them without servers or time.
 */
#ifndef AH_POLICY_H
#define AH_POLICY_H

#include <stdint.h>

#define LAT_BUCKETS	13	/* as the plugin publishes: le_1 .. le_inf */
#define WINDOW_SAMPLES	1024

/* The counters a service is judged on, as cumulative values. */
struct sample {
	int64_t		t;		/* monotonic ms */
	uint64_t	queries;
	uint64_t	servfail;
	uint64_t	rec_started;
	uint64_t	rec_success;
	uint64_t	rec_failure;
	uint64_t	rec_timeout;
	uint64_t	lat[LAT_BUCKETS];	/* cumulative, le_1 .. le_inf */
};

struct window {
	struct sample	s[WINDOW_SAMPLES];
	unsigned int	head;		/* next slot to write */
	unsigned int	n;
};

void	window_reset(struct window *);
/*
 * Add a sample.  A counter that went backwards means named restarted
 * (or a new plugin instance): the history no longer applies.
 */
void	window_push(struct window *, const struct sample *);
/*
 * What happened over the last 'span_ms': the newest sample minus the
 * newest one at least span_ms older (or the oldest there is).  Returns
 * the span actually covered in ms, or -1 with fewer than two samples.
 */
int64_t	window_delta(const struct window *, int64_t span_ms, struct sample *);

/* Upper bound (ms) of the bucket holding quantile q (0..1); -1: +Inf. */
extern const int64_t lat_bounds[LAT_BUCKETS - 1];
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
/* While held: how long still, in ms; 0 if not held. */
int64_t	judge_held(const struct judge *, int64_t now);

#endif /* AH_POLICY_H */
