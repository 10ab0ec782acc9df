/* SPDX-License-Identifier: MPL-2.0 */
/*
 * drain.c - taking a service out on purpose without losing a query.
 *
 * RFC 8326's way: announce the routes with GRACEFUL_SHUTDOWN (and the
 * service's depref attributes), so that routers move traffic to the
 * other nodes while this one still answers, and withdraw only once the
 * traffic has moved: when the query rate named sees in the service's
 * view has stayed at or below a limit for the drain's 'hold'.  The
 * limit is a share of the rate before the drain or a floor in queries
 * a second, whichever is higher: the canary's own queries and clients
 * behind routers that ignore the community never stop.  At the
 * timeout the routes are withdrawn anyway.
 *
 * The plugin counts queries per view: while other services of the view
 * still bring it traffic, its rate cannot show this service's leaving,
 * and only the timeout ends the drain (drain_shared()); services of one
 * view drained together end on the rate.
 *
 * The relay runs the drain, so it goes on when anycastctl exits, and
 * remembers it in the state file, so that a restarted relay never
 * announces a drained service.  While drained a service is judged but
 * not moved; undrain starts its judge afresh, so it comes back only
 * after 'rise' good evaluations.  health.c does those parts: here is
 * the drain alone, from its start to its end.
 */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ahclock.h"
#include "drain.h"
#include "parse.h"
#include "policy.h"

static void
end(struct drain *d, enum drain_end how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
end(struct drain *d, enum drain_end how, const char *fmt, ...)
{
	va_list ap;

	d->state = DRAIN_DRAINED;
	d->end = how;
	d->ended = ah_real_ms();
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

/* "12.3 qps", or "unknown" before two snapshots. */
static const char *
qps(char *buf, size_t len, double rate)
{
	if (rate < 0)
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%.1f qps", rate);
	return (buf);
}

int
drain_start(struct drain *d, const struct service_conf *s,
    const struct window *win, enum route_mode mode, int64_t timeout_ms,
    const char *who, int64_t now)
{
	int64_t	span;
	char	before[32];

	if (d->state != DRAIN_NONE)
		return (0);
	memset(d, 0, sizeof(*d));
	d->state = DRAIN_DRAINING;
	d->since = ah_real_ms();
	d->started = now;
	d->timeout_ms = timeout_ms < 0 ? s->drain.timeout_ms :
	    (unsigned int)timeout_ms;
	d->deadline = now + d->timeout_ms;
	d->before = window_rate(win, SMP_QUERIES, now - s->window_ms, &span);
	d->rate = -1;
	d->limit = (double)s->drain.qps;
	if (d->before * s->drain.share > d->limit)
		d->limit = d->before * s->drain.share;
	snprintf(d->by, sizeof(d->by), "%s", who);

	if (s->watchdog[0] != '\0')
		end(d, DRAIN_WATCHDOG, "drain requested by %s: a watchdog "
		    "cannot carry GRACEFUL_SHUTDOWN, withdrawn at once", who);
	else if (mode == ROUTE_WITHDRAWN)
		end(d, DRAIN_NOT_ANNOUNCED, "drain requested by %s: not "
		    "announced, nothing to move", who);
	else if (d->timeout_ms == 0)
		end(d, DRAIN_TIMEOUT, "drain requested by %s with timeout 0: "
		    "withdrawn at once", who);
	else
		snprintf(d->why, sizeof(d->why), "drain requested by %s: %s "
		    "before; withdrawn at or below %.1f qps for %.1fs, or in "
		    "%us", who, qps(before, sizeof(before), d->before),
		    d->limit, s->drain.hold_ms / 1000.0, d->timeout_ms / 1000);
	return (1);
}

int
drain_undo(struct drain *d)
{
	if (d->state == DRAIN_NONE)
		return (0);
	memset(d, 0, sizeof(*d));
	return (1);
}

void
drain_restore(struct drain *d, int64_t since, const char *by,
    const char *why)
{
	memset(d, 0, sizeof(*d));
	d->state = DRAIN_DRAINED;
	d->end = DRAIN_RESTORED;
	d->since = d->ended = since;
	d->before = d->rate = -1;
	snprintf(d->by, sizeof(d->by), "%s", by);
	snprintf(d->why, sizeof(d->why), "%s", why);
}

void
drain_shared(struct drain *d, const char *view, const char *names, int start)
{
	size_t n = strlen(d->why);

	if (names[0] == '\0') {
		d->shared[0] = '\0';
		return;
	}
	snprintf(d->shared, sizeof(d->shared), "view %s is shared with %s",
	    view, names);
	if (start && d->state == DRAIN_DRAINING)
		snprintf(d->why + n, sizeof(d->why) - n, "; %s, still "
		    "announced: its query rate cannot show this service's "
		    "traffic leaving; withdrawn at the timeout (%us), or on the "
		    "rate once they drain too", d->shared, d->timeout_ms / 1000);
}

int
drain_expired(struct drain *d, int64_t now)
{
	char rate[32];

	if (d->state != DRAIN_DRAINING || now < d->deadline)
		return (0);
	if (d->shared[0] != '\0')
		end(d, DRAIN_TIMEOUT, "drain timeout %us: %s, whose traffic "
		    "its query rate (%s) includes: withdrawn anyway",
		    d->timeout_ms / 1000, d->shared,
		    qps(rate, sizeof(rate), d->rate));
	else
		end(d, DRAIN_TIMEOUT, "drain timeout %us: the query rate is "
		    "still %s, above %.1f qps: withdrawn anyway",
		    d->timeout_ms / 1000, qps(rate, sizeof(rate), d->rate),
		    d->limit);
	return (1);
}

int
drain_lost(struct drain *d, const char *why)
{
	if (d->state != DRAIN_DRAINING)
		return (0);
	end(d, DRAIN_HARD, "named went away while draining (%s): withdrawn",
	    why);
	return (1);
}

/*
 * Quiet: the rate since the drain began, over the last 'hold', at or
 * below the limit.  Called with each snapshot, the newest at 'now'.
 */
int
drain_quiet(struct drain *d, const struct service_conf *s,
    const struct window *win, int64_t now)
{
	int64_t	from, span;
	double	rate;
	char	before[32];

	if (d->state != DRAIN_DRAINING)
		return (0);
	from = now - s->drain.hold_ms;
	if (from < d->started)
		from = d->started;
	if ((rate = window_rate(win, SMP_QUERIES, from, &span)) < 0)
		return (0);
	d->rate = rate;
	if (now - d->started < (int64_t)s->drain.hold_ms || rate > d->limit ||
	    d->shared[0] != '\0')
		return (0);
	end(d, DRAIN_QUIET, "drained: %.1f qps over the last %.1fs, at or "
	    "below %.1f qps (%s before), after %.1fs", rate, span / 1000.0,
	    d->limit, qps(before, sizeof(before), d->before),
	    (now - d->started) / 1000.0);
	return (1);
}

int64_t
drain_deadline(const struct drain *d)
{
	return (d->state == DRAIN_DRAINING ? d->deadline : INT64_MAX);
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
