/* SPDX-License-Identifier: MPL-2.0 */
/*
 * liveness.c - the relay's liveness probe (see liveness.h).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ahproto.h"
#include "dnsq.h"
#include "liveness.h"
#include "log.h"

void
liveness_init(struct liveness *l, const struct liveness_conf *lc,
    const struct canary_conf *cc)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	/* A canary already knows how to reach the service's view. */
	if (!lc->set && cc->enabled) {
		snprintf(l->server, sizeof(l->server), "%s", cc->server);
		snprintf(l->source, sizeof(l->source), "%s", cc->source);
		l->port = cc->port;
	} else {
		snprintf(l->server, sizeof(l->server), "%s", lc->server);
		snprintf(l->source, sizeof(l->source), "%s", lc->source);
		l->port = lc->port;
	}
	snprintf(l->target, sizeof(l->target), "%s#%u", l->server, l->port);
}

static void
note_error(struct liveness *l, int64_t now, int err)
{
	if (err == ECONNREFUSED)
		l->refused_at = now;
	snprintf(l->error, sizeof(l->error), "%s", strerror(err));
}

static void
send_probe(struct liveness *l, int64_t now)
{
	unsigned char	q[64];
	int		n;

	if (l->fd < 0 &&
	    (l->fd = dnsq_socket(l->server, l->source, l->port)) < 0) {
		note_error(l, now, errno);
		return;
	}
	n = dnsq_build(q, sizeof(q), (uint16_t)random(), AH_PROBE_QNAME,
	    AH_PROBE_QTYPE, 0);
	if (n > 0 && send(l->fd, q, (size_t)n, 0) < 0 && errno != EAGAIN)
		note_error(l, now, errno);
}

int
liveness_poll_fd(struct liveness *l, int64_t now, unsigned int interval_ms)
{
	if (now < l->next_at)
		return (l->fd);
	if (l->last_sent == 0 || now - l->last_sent > 2 * (int64_t)interval_ms)
		l->resumed = now;
	send_probe(l, now);
	l->last_sent = now;
	l->next_at = now + interval_ms;
	return (l->fd);
}

void
liveness_read(struct liveness *l, int64_t now)
{
	unsigned char	buf[512];
	int		i;

	/* Answers prove nothing the plugin does not count: discard them. */
	for (i = 0; i < 64; i++) {
		if (recv(l->fd, buf, sizeof(buf), 0) >= 0)
			continue;
		if (errno != EAGAIN && errno != EINTR)
			note_error(l, now, errno);
		return;
	}
}

int64_t
liveness_next(const struct liveness *l)
{
	return (l->next_at);
}

void
liveness_close(struct liveness *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
