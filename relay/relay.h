/* SPDX-License-Identifier: MPL-2.0 */
/*
 * relay.h - what anycast-relay knows of each service, and of itself:
 * the state the modules share.  Each module's own types and functions
 * are in its header.
 */
#ifndef AH_RELAY_H
#define AH_RELAY_H

#include <stdint.h>

#include "canary.h"
#include "check.h"
#include "drain.h"
#include "fault.h"
#include "feed.h"
#include "handover.h"
#include "lastgood.h"
#include "liveness.h"
#include "parse.h"
#include "policy.h"
#include "route.h"

#define RELAY_SERVICES_MAX	64

struct service_state {
	struct judge	 judge;
	struct window	 win;
	/* How its recursions usually end, in memory only (fault.h). */
	struct fault_base base;
	struct canary	 canary;
	struct liveness	 live;
	struct route	 route;
	int		 hard;		/* last verdict was V_DEAD */
	int		 resume;	/* hard trouble came while degraded */
	int		 paused;	/* by named's reconfig: not judged */
	/* Monotonic ms: routes taken over at start (handover.c); 0 after. */
	int64_t		 taken_at;
	char		 reason[400];	/* the last verdict, in words */
	struct check_state chk[CHK_COUNT];
	struct retry	 retry;		/* recovery (policy.h) */
	struct drain	 drain;
};

struct relay {
	struct relay_conf	*conf;
	struct feed		 feed;
	struct service_state	*svc;
	int64_t			 started;	/* realtime ms */
	/* The relay whose routes this one took over, and after what. */
	uint64_t		 taken_from;
	const char		*taken_after;	/* "crash", "restart" */
	/* Starts of relays under this ExaBGP, recent ones (handover.h). */
	int64_t			 spawns[SPAWNS_MAX];
	size_t			 nspawns;
	/* Why the state file was not written last time; "" if it was. */
	char			 state_error[300];
	/* Which configuration runs, and what the file said last. */
	struct lastgood		 lastgood;
};

#endif /* AH_RELAY_H */
