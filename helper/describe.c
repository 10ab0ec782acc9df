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

const char *
route_mode_name(enum route_mode m)
{
	switch (m) {
	case ROUTE_ANNOUNCED:
		return ("announced");
	case ROUTE_DEGRADED:
		return ("depreferred");
	default:
		return ("withdrawn");
	}
}

/*
 * The route mode says what the router was told; the judge says where
 * the service is heading.  Between the two: rising (good evaluations
 * counting towards 'rise'), falling (bad ones towards 'fall'), held
 * (healthy, but flap damping keeps it down).
 */
const char *
service_state_name(const struct service_state *st, int64_t now)
{
	switch (st->mode) {
	case ROUTE_ANNOUNCED:
		return (st->judge.bad > 0 ? "falling" : "up");
	case ROUTE_DEGRADED:
		return (st->judge.good > 0 ? "rising" : "depreferred");
	default:
		if (judge_held(&st->judge, now) > 0)
			return ("held");
		return (st->judge.good > 0 && !st->hard ? "rising" : "down");
	}
}
