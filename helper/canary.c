/*
 * canary.c - the relay's periodic query to named (see canary.h).
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canary.h"
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

static int
open_socket(const struct canary_conf *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, af;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, c->server,
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		af = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(c->port);
		len = sizeof(struct sockaddr_in);
	} else {
		af = AF_INET6;
		(void)inet_pton(AF_INET6, c->server,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr);
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(c->port);
		len = sizeof(struct sockaddr_in6);
	}
	ss.ss_family = (sa_family_t)af;
	if ((fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return (-1);
	if (c->source[0] != '\0') {
		struct sockaddr_storage	src;

		memset(&src, 0, sizeof(src));
		src.ss_family = (sa_family_t)af;
		if (af == AF_INET)
			(void)inet_pton(AF_INET, c->source,
			    &((struct sockaddr_in *)&src)->sin_addr);
		else
			(void)inet_pton(AF_INET6, c->source,
			    &((struct sockaddr_in6 *)&src)->sin6_addr);
		if (bind(fd, (struct sockaddr *)&src, len) < 0) {
			close(fd);
			return (-1);
		}
	}
	/* Connected: the kernel drops datagrams from anyone else. */
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* A query for conf->qname/qtype, class IN; returns its length or -1. */
static int
build_query(const struct canary_conf *c, uint16_t id, unsigned char *buf,
    size_t cap)
{
	const char	*l = c->qname;
	size_t		 n = 12, len;

	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = c->recursion ? 0x01 : 0x00;	/* RD */
	buf[5] = 1;				/* QDCOUNT */
	while (*l != '\0' && strcmp(l, ".") != 0) {
		len = strcspn(l, ".");
		if (len == 0 || len > 63 || n + len + 1 >= cap)
			return (-1);
		buf[n++] = (unsigned char)len;
		memcpy(buf + n, l, len);
		n += len;
		l += len;
		if (*l == '.')
			l++;
	}
	if (n + 5 > cap)
		return (-1);
	buf[n++] = 0;
	buf[n++] = c->qtype >> 8;
	buf[n++] = c->qtype & 0xff;
	buf[n++] = 0;
	buf[n++] = 1;				/* IN */
	return ((int)n);
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
	if (k->fd < 0 && (k->fd = open_socket(k->conf)) < 0) {
		result(k, now, 0, "cannot open a socket to %s", k->conf->server);
		return;
	}
	k->id = (uint16_t)random();
	if ((n = build_query(k->conf, k->id, q, sizeof(q))) < 0 ||
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

int64_t
canary_next(const struct canary *k)
{
	if (k->waiting)
		return (k->sent_at + k->conf->timeout_ms);
	return (k->next_at);
}
