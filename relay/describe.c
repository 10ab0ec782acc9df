/*
 * describe.c - the names the relay reports states and checks by, in
 * one place so 'anycastctl status', 'show' and the metrics agree.
 */
#include <config.h>

#include "relay.h"

/* As the checks are spelled in the configuration. */
const char *const check_names[CHK_COUNT] = {
	[CHK_SERVFAIL] = "servfail-ratio",
	[CHK_RECFAIL] = "recursion-failure-ratio",
	[CHK_LATENCY] = "recursion-latency",
	[CHK_ZONES] = "zones",
	[CHK_CANARY] = "canary",
};

/*
 * The route mode says what the router was told; the judge says where
 * the service is heading.  Between the two: rising (good evaluations
 * counting towards 'rise'), falling (bad ones towards 'fall'), held
 * (healthy, but flap damping keeps it down).  A drain overrides them
 * all; undrained while draining, it rises with the drain attributes.
 */
const char *
service_state_name(const struct service_state *st, int64_t now)
{
	if (st->drain.state != DRAIN_NONE)
		return (drain_state_name(st->drain.state));
	switch (st->route.mode) {
	case ROUTE_DRAINING:
		return ("rising");
	case ROUTE_ANNOUNCED:
		return (st->judge.bad > 0 ? "falling" : "up");
	case ROUTE_DEGRADED:
		return (st->judge.good > 0 ? "rising" : "depreferred");
	case ROUTE_KEPT:
		return (st->judge.good > 0 ? "rising" : "kept");
	default:
		if (judge_held(&st->judge, now) > 0)
			return ("held");
		return (st->judge.good > 0 && !st->hard ? "rising" : "down");
	}
}
