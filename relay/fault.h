/*
 * fault.h - the shared-fault rule: whose fault a failing check is, the
 * node's or the world's, from where in the name space its failures sit
 * while other names resolve.  A pure function of a service's window
 * (policy.h), like the rest of the judge's arithmetic, tested with it
 * in tests/unit/test_policy.c.
 */
#ifndef AH_FAULT_H
#define AH_FAULT_H

#include <stdint.h>

#include "ahwire.h"
#include "policy.h"

/*
 * Is a failing check this node's fault, or the world's?  The plugin
 * groups the names behind failures and recursions at two levels, by
 * registrable domain and by public suffix (ahwire.h).  At each level a
 * fault is external when its failures (SERVFAIL answers, failed and
 * unanswered recursions, or for latency the recursions overdue now)
 * sit in at most 'max_groups' groups that hold 'share' of them, and
 * the other groups resolve: of the recursions that finished there, at
 * least 'share' succeeded.  Each question has its own evidence, grown
 * back from the newest snapshot within the window: the failures until
 * there are FAULT_MIN_BAD of them (from the check's own span on), the
 * other groups until they have FAULT_MIN_ELSE outcomes, but not from
 * before the failures began (a pause of FAULT_PAUSE_MS ends them).  Not
 * enough there within the window, and yet something resolved: nobody
 * can tell yet (FAULT_UNSURE), and the check is not held against the
 * node.  Nothing resolved at all: every recursion of the node fails,
 * which is its own fault.  A fault is external when either level finds
 * it so; SERVFAIL answered from the node's own zones never is.
 * doc/fleet.md explains the rule and where it fails.
 */
#define FAULT_MIN_BAD	20
#define FAULT_MIN_ELSE	20
#define FAULT_PAUSE_MS	1000

struct fault_conf {
	unsigned int	max_groups;	/* 0: never excuse */
	double		share;
	int64_t		window_ms;	/* evidence grows to this */
	int64_t		grace_ms;	/* as for unanswered recursions */
	int		v2;		/* a protocol 2 plugin's groups */
};

enum fault_verdict {
	FAULT_EXTERNAL,		/* excused: not this node */
	FAULT_UNSURE,		/* too little evidence elsewhere to tell */
	FAULT_OFF,		/* max_groups 0 */
	FAULT_NO_DATA,		/* no failure seen in the groups */
	FAULT_SPREAD,		/* in more than max_groups groups */
	FAULT_NO_RESOLUTION,	/* other names do not resolve either */
	FAULT_OWN_ZONES		/* SERVFAIL from zones the node serves */
};

/* What one level of groups says. */
struct fault_level {
	enum fault_verdict verdict;
	unsigned int	ngroups;	/* groups holding 'held', or with
					   failures when spread */
	unsigned int	group[DOM_BUCKETS];	/* most failures first */
	double		held;		/* share of failures in ngroups */
	uint64_t	bad;		/* failures over 'span' */
	uint64_t	ok_else, bad_else;	/* elsewhere, over span_else */
	int64_t		span, span_else;
};

struct fault {
	enum fault_verdict verdict;
	enum ah_level	level;		/* the level that decided */
	unsigned int	nlevels;	/* 1 for a protocol 2 plugin */
	struct fault_level l[AH_LVL_COUNT];
};

void	fault_judge(const struct window *, const struct evidence *,
	    enum ev_kind, const struct fault_conf *, struct fault *);

#endif /* AH_FAULT_H */
