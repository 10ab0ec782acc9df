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
	case ROUTE_KEPT:
		return ("kept");
	case ROUTE_DRAINING:
		return ("draining");
	default:
		return ("withdrawn");
	}
}

/*
 * A prefix's state says what is true of it: its route mode only where
 * ExaBGP accepted the command and (for an announcement) a session that
 * carries it is up; otherwise what stands in the way.
 */
const char *
prefix_state_name(enum route_mode m, enum held h)
{
	switch (h) {
	case HELD_WAITING:
		return ("waiting");
	case HELD_REJECTED:
		return ("rejected");
	case HELD_UNCARRIED:
		return ("session-down");
	case HELD_WITHDRAWN:
		return ("withdrawn");
	default:
		return (route_mode_name(m));
	}
}

const char *
ack_name(enum ack a)
{
	static const char *const names[] = {
		[ACK_WAITING] = "waiting", [ACK_ACCEPTED] = "accepted",
		[ACK_REJECTED] = "rejected"
	};

	return (names[a]);
}

const char *
drain_state_name(enum drain_state state)
{
	static const char *const names[] = {
		[DRAIN_NONE] = "none", [DRAIN_DRAINING] = "draining",
		[DRAIN_DRAINED] = "drained"
	};

	return (names[state]);
}

const char *
drain_end_name(enum drain_end how)
{
	static const char *const names[] = {
		[DRAIN_QUIET] = "quiet", [DRAIN_TIMEOUT] = "timeout",
		[DRAIN_NOT_ANNOUNCED] = "not-announced", [DRAIN_HARD] = "hard",
		[DRAIN_WATCHDOG] = "watchdog", [DRAIN_RESTORED] = "restored"
	};

	return (names[how]);
}

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
	switch (st->mode) {
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
