/*
 * health.c - the verdict for a service.
 *
 * Fail closed: a service is up only on positive evidence, a complete
 * snapshot from a live named, recent enough, that contains the
 * service's view.  Everything else, including "we have not heard yet",
 * is down.
 */
#include <config.h>

#include <stdio.h>

#include "relay.h"

int
health_eval(const struct relay *r, const struct service_conf *s,
    int64_t now, char *why, size_t len)
{
	const struct feed	*f = &r->feed;
	int64_t			 age;

	if (f->state != FEED_UP) {
		snprintf(why, len, "no feed from named: %s", f->error);
		return (0);
	}
	if (f->last_tick == 0) {
		snprintf(why, len, "connected to named, no snapshot yet");
		return (0);
	}
	age = now - f->last_tick;
	if (age > (int64_t)r->conf->stale_ms) {
		snprintf(why, len, "last snapshot %lld ms ago, more than "
		    "stale-after %u ms (named hung?)", (long long)age,
		    r->conf->stale_ms);
		return (0);
	}
	if (feed_view(f, s->view) == NULL) {
		snprintf(why, len, "named publishes no view '%s'", s->view);
		return (0);
	}
	snprintf(why, len, "named %llu serves view '%s'",
	    (unsigned long long)f->named_pid, s->view);
	return (1);
}
