/* SPDX-License-Identifier: MPL-2.0 */
/*
 * route.h - where a service's routes stand, and how they got there.
 *
 * The one place a service's routes move: the commands to ExaBGP, the
 * log line and the history that 'anycastctl show history' reads.  The
 * judge (health.c) decides the mode; this carries it out.
 */
#ifndef AH_ROUTE_H
#define AH_ROUTE_H

#include <stdint.h>

#include "exabgp.h"

struct service_conf;

/* One route change of a service, for 'show history'. */
#define HISTORY_LEN	32

struct transition {
	int64_t		 at;		/* realtime ms */
	enum route_mode	 from, to;
	char		 reason[200];
};

struct route {
	enum route_mode	 mode;
	int64_t		 since;		/* realtime ms of the last change */
	/* The last HISTORY_LEN changes, oldest overwritten first. */
	struct transition history[HISTORY_LEN];
	uint64_t	 transitions;	/* since start; history holds the last */
};

/*
 * Put the service's routes in 'mode' at once: the commands, the log
 * line ("service NAME WHAT: WHY"), the history.  Returns 1 if it
 * changed, 0 if the routes were in 'mode' already.
 */
int	route_set(struct route *, const struct service_conf *,
	    enum route_mode, const char *what, const char *why);
/*
 * 'fn(arg)' on every change route_set() makes, the new mode in place,
 * before ExaBGP is told (handover.c keeps its note so); NULL: none.
 */
void	route_on_change(void (*fn)(void *), void *arg);
/* As replies and metrics name it: announced, depreferred, ... */
const char *route_mode_name(enum route_mode);
/* A prefix's state: its route mode only where ExaBGP holds it so. */
const char *prefix_state_name(enum route_mode, enum held);

#endif /* AH_ROUTE_H */
