/* SPDX-License-Identifier: MPL-2.0 */
/*
 * drain.h - an operator's request to take a service out (anycastctl
 * drain), from the first depreferred announcement to drained.
 *
 * A drain stays drained, whatever the checks say, until undrained,
 * also across restarts of the relay (state.c).  These functions keep
 * the drain's own state and say when it ends; the judge (health.c)
 * moves the routes and saves the state file.
 */
#ifndef AH_DRAIN_H
#define AH_DRAIN_H

#include <stdint.h>

#include "route.h"

struct service_conf;
struct window;

enum drain_state { DRAIN_NONE, DRAIN_DRAINING, DRAIN_DRAINED };
/* Why a drain is drained. */
enum drain_end {
	DRAIN_QUIET,		/* the query rate fell below the limit */
	DRAIN_TIMEOUT,		/* withdrawn anyway at the timeout */
	DRAIN_NOT_ANNOUNCED,	/* nothing to drain: withdrawn already */
	DRAIN_HARD,		/* named went away while draining */
	DRAIN_WATCHDOG,		/* a watchdog cannot be depreferred */
	DRAIN_RESTORED		/* drained before this relay started */
};

struct drain {
	enum drain_state state;
	enum drain_end	 end;
	int64_t		 since;		/* realtime ms the drain was asked */
	int64_t		 started;	/* ... monotonic ms */
	int64_t		 deadline;	/* monotonic ms: withdrawn then */
	unsigned int	 timeout_ms;
	double		 before;	/* queries/s before it; -1: unknown */
	double		 rate;		/* over the last hold; -1: not yet */
	double		 limit;		/* quiet at or below this */
	int64_t		 ended;		/* realtime ms it was drained */
	char		 by[80];	/* who asked: "uid 0 (root)" */
	char		 why[400];	/* how it ended, in words */
	/*
	 * "view V is shared with A, B": other services of the view still
	 * bring it traffic, so its rate cannot show this one's leaving.
	 */
	char		 shared[200];
};

/*
 * A drain asked by 'who' of a service whose routes are in 'mode', with
 * the query history 'win'; timeout_ms < 0 is the service's
 * drain.timeout.  It is draining, or drained at once when nothing can
 * move (a watchdog, routes withdrawn already, timeout 0); why[] says
 * which.  Returns 0, changing nothing, if a drain is on already.
 */
int	drain_start(struct drain *, const struct service_conf *,
	    const struct window *win, enum route_mode mode,
	    int64_t timeout_ms, const char *who, int64_t now);
/* Undrained: 1, or 0 if there was no drain. */
int	drain_undo(struct drain *);
/*
 * Drained before this relay started, at 'since' (realtime ms), by
 * 'by': the state file says so.
 */
void	drain_restore(struct drain *, int64_t since, const char *by,
	    const char *why);
/*
 * The judge's questions about a draining service.  Each returns 1 when
 * the drain has just ended drained, and why[] says how: at its timeout,
 * named gone (why), or the query rate in 'win', the newest sample at
 * 'now', quiet for the drain's hold.
 */
int	drain_expired(struct drain *, int64_t now);
int	drain_lost(struct drain *, const char *why);
int	drain_quiet(struct drain *, const struct service_conf *,
	    const struct window *win, int64_t now);
/*
 * Other services of the view that still bring it traffic, by name
 * ("" for none): while there are any the rate cannot end the drain,
 * only its timeout can.  'start' says so in why[] (just started).
 */
void	drain_shared(struct drain *, const char *view, const char *names,
	    int start);
/* Monotonic ms of the drain's timeout, or INT64_MAX. */
int64_t	drain_deadline(const struct drain *);
const char *drain_state_name(enum drain_state);
const char *drain_end_name(enum drain_end);

#endif /* AH_DRAIN_H */
