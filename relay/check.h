/* SPDX-License-Identifier: MPL-2.0 */
/*
 * check.h - the checks a service is judged by, as one table: each
 * check's name, unit and metric, whether a service has it, what in the
 * configuration changes its judgement, and how it judges.  The judge
 * (health.c), the control replies, reload.c and metrics.c all read it.
 *
 * A new check is a value of enum check_id, its row and its judge in
 * check.c, and its keys in parse.c.
 */
#ifndef AH_CHECK_H
#define AH_CHECK_H

#include <stdint.h>

struct canary;
struct fault_base;
struct fault_conf;
struct feed;
struct feed_view;
struct service_conf;
struct window;

enum check_id {
	CHK_SERVFAIL, CHK_RECFAIL, CHK_LATENCY, CHK_ZONES, CHK_CANARY,
	CHK_COUNT
};

/*
 * A check's latest figures, for 'show checks' and metrics; the words
 * are in why[].  'value' and 'limit' are in the check's unit: a ratio
 * (0..1), milliseconds, or a count of unhealthy zones.
 */
struct check_value {
	int		 have;
	double		 value;
	double		 limit;
	uint64_t	 samples;	/* what the value was taken over */
	int64_t		 span_ms;	/* ... and over how long; 0: now */
};

/* One check of one service: its last result, kept for low-traffic keep. */
struct check_state {
	int		 bad;
	int		 excused;	/* failed, but not this node's fault */
	int		 unusual;	/* ... the world's, or cannot tell */
	int64_t		 excuse_logged;	/* monotonic ms */
	int64_t		 world_at;	/* ... last excused as the world's */
	char		 why[320];	/* "": no result yet */
	int		 nodata;	/* why[] says too little traffic */
	struct check_value val;
	/* This evaluation: judged on evidence, or failing for lack of it. */
	int		 judged;
	int		 held;
	/* Recovery (policy.h): forgotten by a retry, not passed since. */
	int		 retried;
};

/* What a check judges by: a service and its view in the last snapshot. */
struct check_input {
	const struct service_conf *s;
	const struct feed	*feed;
	const struct feed_view	*view;
	const struct window	*win;		/* the service's counters */
	const struct canary	*canary;
	const struct fault_base	*base;		/* how it usually resolves */
	int64_t			 now;		/* monotonic ms */
	/*
	 * The judge's state: a check that a reload added and that has no
	 * result yet votes for it, so a reload moves no route by itself.
	 */
	int			 up;
};

struct check_def {
	const char	*name;		/* as in the configuration */
	const char	*unit;		/* of value and limit */
	const char	*metric;	/* its family, after the prefix */
	const char	*help;
	double		 scale;		/* from the unit to the metric's */
	int		(*enabled)(const struct service_conf *);
	/* Would it judge the same evidence differently under 'b'? */
	int		(*changed)(const struct service_conf *a,
			    const struct service_conf *b);
	/* One evaluation on a new snapshot, if enabled. */
	void		(*judge)(struct check_state *,
			    const struct check_input *);
};

extern const struct check_def checks[CHK_COUNT];

/* A result and its words; 'bad' or not, never excused. */
void	check_set(struct check_state *, int bad, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The shared-fault rule's settings for a service (fault.h). */
void	check_fault_conf(const struct service_conf *, const struct feed *,
	    const struct fault_base *, struct fault_conf *);
/* No result any more: named went away, or the check changed. */
void	check_forget(struct check_state *);

#endif /* AH_CHECK_H */
