/* SPDX-License-Identifier: MPL-2.0 */
/*
 * route.c - moving a service's routes (see route.h).
 */
#include <config.h>

#include <stdio.h>

#include "ahclock.h"
#include "exabgp.h"
#include "log.h"
#include "parse.h"
#include "route.h"

static struct {
	void	(*fn)(void *);
	void	*arg;
} on_change;

void
route_on_change(void (*fn)(void *), void *arg)
{
	on_change.fn = fn;
	on_change.arg = arg;
}

static void
history_add(struct route *rt, enum route_mode to, const char *why)
{
	struct transition *t = &rt->history[rt->transitions % HISTORY_LEN];

	t->at = ah_real_ms();
	t->from = rt->mode;
	t->to = to;
	snprintf(t->reason, sizeof(t->reason), "%s", why);
	rt->transitions++;
}

int
route_set(struct route *rt, const struct service_conf *s,
    enum route_mode mode, const char *what, const char *why)
{
	if (mode == rt->mode)
		return (0);
	log_info("service %s %s: %s", s->name, what, why);
	history_add(rt, mode, why);
	rt->mode = mode;
	rt->since = ah_real_ms();
	/*
	 * The successor's note before ExaBGP's command: dying in between,
	 * the relay leaves a note ahead of ExaBGP, which the successor
	 * makes true by sending the note's modes again (handover.c).
	 */
	if (on_change.fn != NULL)
		on_change.fn(on_change.arg);
	/* Announced and kept are the same commands: exabgp.c sends once. */
	exabgp_service(s, mode);
	return (1);
}

const char *
route_mode_name(enum route_mode m)
{
	static const char *const names[] = {
		[ROUTE_WITHDRAWN] = "withdrawn", [ROUTE_ANNOUNCED] = "announced",
		[ROUTE_DEGRADED] = "depreferred", [ROUTE_KEPT] = "kept",
		[ROUTE_DRAINING] = "draining"
	};

	return (names[m]);
}

/*
 * A prefix's state says what is true of it: its route mode only where
 * ExaBGP accepted the command and (for an announcement) a session that
 * carries it is up; otherwise what stands in the way.
 */
const char *
prefix_state_name(enum route_mode m, enum held h)
{
	static const char *const names[] = {
		[HELD_WAITING] = "waiting", [HELD_REJECTED] = "rejected",
		[HELD_WITHDRAWN] = "withdrawn", [HELD_UNCARRIED] = "session-down"
	};

	return (h == HELD_ANNOUNCED ? route_mode_name(m) : names[h]);
}
