/*
 * exabgp.c - the relay's two pipes to ExaBGP.
 *
 * stdout carries commands.  It is non-blocking with a queue, so a slow
 * ExaBGP never stalls the relay's reaction to named.  stdin carries
 * ExaBGP's acks ('done'/'error') and 'shutdown'.  ExaBGP writes acks
 * with a blocking write: if we stopped reading, ExaBGP itself would
 * freeze, so stdin is drained on every loop, whatever else happens.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahproto.h"
#include "log.h"
#include "relay.h"

#define OUT_MAX		(256 * 1024)
#define SENT_RING	64

/* One stdout and one stdin per process: module state, not a context. */
static struct {
	char		out[OUT_MAX];
	size_t		len;
	struct ah_lines	in;
	/* Commands awaiting an ack, so an 'error' can say which one. */
	char		sent[SENT_RING][1024];
	unsigned int	head, tail;
} x;

void
exabgp_init(void)
{
	(void)fcntl(STDOUT_FILENO, F_SETFL,
	    fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
	(void)fcntl(STDIN_FILENO, F_SETFL,
	    fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	ah_lines_init(&x.in);
}

static void
queue(const char *cmd)
{
	size_t n = strlen(cmd);

	if (x.len + n + 1 > OUT_MAX)
		fatalx("ExaBGP has not read %d bytes of commands; "
		    "it is hung, giving up", OUT_MAX);
	memcpy(x.out + x.len, cmd, n);
	x.out[x.len + n] = '\n';
	x.len += n + 1;
	snprintf(x.sent[x.tail % SENT_RING], sizeof(x.sent[0]), "%s", cmd);
	x.tail++;
	if (x.tail - x.head > SENT_RING)
		x.head = x.tail - SENT_RING;
}

static int
append(char *cmd, size_t cap, int n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
append(char *cmd, size_t cap, int n, const char *fmt, ...)
{
	va_list	ap;
	int	k;

	if (n < 0 || (size_t)n >= cap)
		return (n);
	va_start(ap, fmt);
	k = vsnprintf(cmd + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	return (k < 0 ? -1 : n + k);
}

/*
 * One route command.  A degraded route is announced again with the
 * depref attributes: ExaBGP replaces the route's attributes in place,
 * so the router sees one UPDATE, not a withdraw and an announce.
 */
static void
exabgp_route(const struct prefix_conf *p, enum route_mode mode,
    const struct depref_conf *d)
{
	char	cmd[1024];
	size_t	i;
	int	n = 0;
	int64_t	med = p->med;

	if (p->neighbor[0] != '\0')
		n = append(cmd, sizeof(cmd), n, "neighbor %s ", p->neighbor);
	n = append(cmd, sizeof(cmd), n, "%s route %s next-hop %s",
	    mode == ROUTE_WITHDRAWN ? "withdraw" : "announce", p->prefix,
	    p->next_hop);
	if (mode != ROUTE_WITHDRAWN) {
		if (mode == ROUTE_DEGRADED && d->med >= 0)
			med = d->med;
		if (med >= 0)
			n = append(cmd, sizeof(cmd), n, " med %lld",
			    (long long)med);
		if (mode == ROUTE_DEGRADED && d->npath > 0) {
			n = append(cmd, sizeof(cmd), n, " as-path [");
			for (i = 0; i < d->npath; i++)
				n = append(cmd, sizeof(cmd), n, "%s%u",
				    i ? " " : "", d->path[i]);
			n = append(cmd, sizeof(cmd), n, "]");
		}
		if (p->ncommunities > 0 ||
		    (mode == ROUTE_DEGRADED && d->ncommunities > 0)) {
			n = append(cmd, sizeof(cmd), n, " community [");
			for (i = 0; i < p->ncommunities; i++)
				n = append(cmd, sizeof(cmd), n, "%s%s",
				    i ? " " : "", p->communities[i]);
			for (i = 0; mode == ROUTE_DEGRADED &&
			    i < d->ncommunities; i++)
				n = append(cmd, sizeof(cmd), n, "%s%s",
				    i || p->ncommunities ? " " : "",
				    d->communities[i]);
			n = append(cmd, sizeof(cmd), n, "]");
		}
	}
	if (n < 0 || (size_t)n >= sizeof(cmd))
		fatalx("route command for %s does not fit", p->prefix);
	log_info("to exabgp: %s", cmd);
	queue(cmd);
}

/*
 * A watchdog (ExaBGP 4.x) announces or withdraws every route declared
 * with it in exabgp.conf, to every neighbor; it has no attributes to
 * change, so only withdrawn and not withdrawn differ.
 */
void
exabgp_service(const struct service_conf *s, enum route_mode mode)
{
	char	cmd[AH_NAME_LEN + 32];
	size_t	i;

	if (s->watchdog[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "%s watchdog %s",
		    mode == ROUTE_WITHDRAWN ? "withdraw" : "announce",
		    s->watchdog);
		log_info("to exabgp: %s", cmd);
		queue(cmd);
	}
	for (i = 0; i < s->nprefixes; i++)
		exabgp_route(&s->prefixes[i],
		    mode == ROUTE_KEPT ? ROUTE_ANNOUNCED : mode, &s->depref);
	(void)exabgp_flush();
}

int
exabgp_want_write(void)
{
	return (x.len > 0);
}

int
exabgp_flush(void)
{
	while (x.len > 0) {
		ssize_t n = write(STDOUT_FILENO, x.out, x.len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			return (-1);
		}
		memmove(x.out, x.out + n, x.len - (size_t)n);
		x.len -= (size_t)n;
	}
	return (0);
}

static void
on_ack(const char *line, size_t n)
{
	const char *cmd = x.head != x.tail ? x.sent[x.head % SENT_RING] : "?";

	if (n == 4 && memcmp(line, "done", 4) == 0) {
		if (x.head != x.tail)
			x.head++;
	} else if (n == 5 && memcmp(line, "error", 5) == 0) {
		log_warnx("ExaBGP rejected: %s", cmd);
		if (x.head != x.tail)
			x.head++;
	} else if (n >= 8 && memcmp(line, "shutdown", 8) == 0) {
		log_info("ExaBGP is shutting down");
	}
	/* Anything else (neighbor events, if enabled) is not ours to judge. */
}

int
exabgp_read(void)
{
	const char	*line;
	size_t		 room, n;
	ssize_t		 r;
	char		*space;
	int		 rc;

	for (;;) {
		space = ah_lines_space(&x.in, &room);
		r = read(STDIN_FILENO, space, room);
		if (r < 0)
			return (errno == EAGAIN || errno == EINTR ? 0 : -1);
		if (r == 0)
			return (-1);
		ah_lines_fill(&x.in, (size_t)r);
		while ((rc = ah_lines_next(&x.in, &line, &n)) == 1)
			on_ack(line, n);
		if (rc < 0)	/* a huge JSON event: not ours, skip it */
			ah_lines_init(&x.in);
	}
}

void
exabgp_drain(int timeout_ms)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };

	while (x.len > 0 && poll(&pfd, 1, timeout_ms) > 0)
		if (exabgp_flush() < 0)
			break;
}
