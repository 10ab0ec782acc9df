/* SPDX-License-Identifier: MPL-2.0 */
/*
 * canary.c - the relay's periodic query to named (see canary.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canary.h"
#include "dnsq.h"
#include "log.h"

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"
};

void
canary_init(struct canary *k, const struct canary_conf *conf)
{
	memset(k, 0, sizeof(*k));
	k->conf = conf;
	k->fd = -1;
	snprintf(k->result, sizeof(k->result), "no canary answer yet");
}

static void
result(struct canary *k, int64_t now, int ok, const char *fmt, const char *s)
{
	char msg[96];

	snprintf(msg, sizeof(msg), fmt, s);
	if (k->have_result && k->ok && !ok)
		log_warnx("canary %s: %s", k->conf->qname, msg);
	else if (k->have_result && !k->ok && ok)
		log_info("canary %s: answered again (%s)", k->conf->qname, msg);
	k->have_result = 1;
	k->ok = ok;
	k->result_at = now;
	snprintf(k->result, sizeof(k->result), "%s", msg);
}

static void
send_query(struct canary *k, int64_t now)
{
	unsigned char	q[300];
	int		n;

	k->next_at = now + k->conf->interval_ms;
	if (k->fd < 0 && (k->fd = dnsq_socket(k->conf->server,
	    k->conf->source, k->conf->port)) < 0) {
		result(k, now, 0, "cannot open a socket to %s", k->conf->server);
		return;
	}
	k->id = (uint16_t)random();
	if ((n = dnsq_build(q, sizeof(q), k->id, k->conf->qname,
	    k->conf->qtype, k->conf->recursion)) < 0 ||
	    send(k->fd, q, (size_t)n, 0) != n) {
		/* ICMP port unreachable arrives here as ECONNREFUSED. */
		result(k, now, 0, "send failed: %s", strerror(errno));
		return;
	}
	k->waiting = 1;
	k->sent_at = now;
}

int
canary_poll_fd(struct canary *k, int64_t now)
{
	if (k->paused_at != 0)
		return (k->waiting ? k->fd : -1);
	if (k->waiting && now - k->sent_at >= k->conf->timeout_ms) {
		char ms[16];

		k->waiting = 0;
		snprintf(ms, sizeof(ms), "%u", k->conf->timeout_ms);
		result(k, now, 0, "no answer within %s ms", ms);
	}
	if (!k->waiting && now >= k->next_at)
		send_query(k, now);
	return (k->waiting ? k->fd : -1);
}

void
canary_read(struct canary *k, int64_t now)
{
	unsigned char	buf[1500];
	ssize_t		n;
	unsigned int	rcode;

	while ((n = recv(k->fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			k->waiting = 0;
			result(k, now, 0, "%s (named not listening?)",
			    strerror(errno));
			return;
		}
		/* Only the answer to our last question counts. */
		if (n < 12 || !k->waiting || (buf[2] & 0x80) == 0 ||
		    ((uint16_t)(buf[0] << 8 | buf[1])) != k->id)
			continue;
		k->waiting = 0;
		k->rtt_ms = now - k->sent_at;
		rcode = buf[3] & 0x0f;
		if (rcode == 0 || rcode == 3) {
			char ok[48];

			snprintf(ok, sizeof(ok), "%s in %lld ms", rcodes[rcode],
			    (long long)k->rtt_ms);
			result(k, now, 1, "%s", ok);
		} else
			result(k, now, 0, "answered %s",
			    rcode < 6 ? rcodes[rcode] : "an error");
		return;
	}
}

void
canary_close(struct canary *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->waiting = 0;
}

void
canary_renew(struct canary *k, const struct canary_conf *conf)
{
	struct canary old = *k;

	canary_close(k);
	canary_init(k, conf);
	k->renewed = 1;
	/* Removed: a canary added back later is a new one. */
	if (!conf->enabled)
		return;
	if (old.have_result) {
		k->had_before = 1;
		k->before_ok = old.ok;
		snprintf(k->before, sizeof(k->before), "%s", old.result);
	} else if (old.renewed && old.had_before) {
		k->had_before = 1;
		k->before_ok = old.before_ok;
		snprintf(k->before, sizeof(k->before), "%s", old.before);
	}
}

void
canary_pause(struct canary *k, int64_t now)
{
	if (k->paused_at == 0)
		k->paused_at = now;
}

void
canary_resume(struct canary *k, int64_t now)
{
	int64_t d = now - k->paused_at;

	if (k->paused_at == 0)
		return;
	k->paused_at = 0;
	k->sent_at += d;
	k->next_at += d;
	if (k->have_result)
		k->result_at += d;
}

int64_t
canary_next(const struct canary *k)
{
	if (k->paused_at != 0)
		return (INT64_MAX);
	if (k->waiting)
		return (k->sent_at + k->conf->timeout_ms);
	return (k->next_at);
}
