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

#include "ahclock.h"
#include "ahproto.h"
#include "exabgp.h"
#include "log.h"
#include "parse.h"

#define OUT_MAX		(256 * 1024)
#define SENT_RING	64
#define SESSIONS_MAX	16

/* One stdout and one stdin per process: module state, not a context. */
static struct {
	char		out[OUT_MAX];
	size_t		len;
	struct ah_lines	in;
	/* Commands awaiting an ack, so an 'error' can say which one. */
	char		sent[SENT_RING][1024];
	unsigned int	head, tail;
	uint64_t	commands;	/* queued since the start */
	/* For reports: each session's state, each prefix's last command. */
	struct bgp_session	 sessions[SESSIONS_MAX];
	size_t			 nsessions;
	struct sent_route	*routes;
	size_t			 nroutes, caproutes;
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
	x.commands++;
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
 * A route as ExaBGP keys it: the prefix and the neighbor it goes to; a
 * watchdog has its name for a prefix and no neighbor.
 */
static struct sent_route *
route_slot(const char *prefix, const char *neighbor, int create)
{
	struct sent_route	*r;
	size_t			 i;

	for (i = 0; i < x.nroutes; i++)
		if (strcmp(x.routes[i].prefix, prefix) == 0 &&
		    strcmp(x.routes[i].neighbor, neighbor) == 0)
			return (&x.routes[i]);
	if (!create)
		return (NULL);
	/* Doubling: one slot at a time copies the table for each prefix. */
	if (x.nroutes == x.caproutes) {
		i = x.caproutes ? x.caproutes * 2 : 16;
		if ((r = reallocarray(x.routes, i, sizeof(*r))) == NULL)
			return (NULL);
		x.routes = r;
		x.caproutes = i;
	}
	r = &x.routes[x.nroutes++];
	memset(r, 0, sizeof(*r));
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	snprintf(r->neighbor, sizeof(r->neighbor), "%s", neighbor);
	return (r);
}

static int
is_withdraw(const char *cmd)
{
	return (strstr(cmd, "withdraw ") != NULL);
}

/*
 * Queue 'cmd' for a route unless ExaBGP has it already: the same
 * command again, or a withdrawal of what is withdrawn (whatever its
 * next-hop said), would be an UPDATE for nothing, or a reload's churn.
 * The relay is ExaBGP's only source for its routes, so what it last
 * sent is what ExaBGP holds.
 */
static void
send_route(const char *prefix, const char *neighbor, const char *cmd)
{
	struct sent_route *r = route_slot(prefix, neighbor, 1);

	if (r != NULL && r->cmd[0] != '\0' && (strcmp(r->cmd, cmd) == 0 ||
	    (is_withdraw(r->cmd) && is_withdraw(cmd))))
		return;
	log_info("to exabgp: %s", cmd);
	queue(cmd);
	if (r == NULL)
		return;		/* out of memory: only the report suffers */
	snprintf(r->cmd, sizeof(r->cmd), "%s", cmd);
	r->at = ah_real_ms();
}

const struct sent_route *
exabgp_sent(const struct prefix_conf *p)
{
	return (route_slot(p->prefix, p->neighbor, 0));
}

void
exabgp_withdraw(const struct prefix_conf *p)
{
	char	cmd[1024];
	int	n = 0;

	if (p->neighbor[0] != '\0')
		n = append(cmd, sizeof(cmd), n, "neighbor %s ", p->neighbor);
	n = append(cmd, sizeof(cmd), n, "withdraw route %s next-hop %s",
	    p->prefix, p->next_hop);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		fatalx("route command for %s does not fit", p->prefix);
	send_route(p->prefix, p->neighbor, cmd);
	(void)exabgp_flush();
}

uint64_t
exabgp_commands(void)
{
	return (x.commands);
}

const struct bgp_session *
exabgp_sessions(size_t *n)
{
	*n = x.nsessions;
	return (x.sessions);
}

/*
 * What ExaBGP said in one line, decided without acting on it (the fuzz
 * target's entry point, tests/fuzz/fuzz_exabgp.c): an ack, 'shutdown',
 * or a session's state ("neighbor PEER up", "... down - REASON",
 * "... connected"), with the peer, state and reason in 's'.  Anything
 * else is not ours to judge.
 */
enum exabgp_said
exabgp_said(const char *line, size_t n, struct bgp_session *s)
{
	static const char *const states[] = { "up", "down", "connected" };
	char	buf[512], *peer, *state, *rest;
	size_t	i;

	if (n == 4 && memcmp(line, "done", 4) == 0)
		return (SAID_DONE);
	if (n == 5 && memcmp(line, "error", 5) == 0)
		return (SAID_ERROR);
	if (n >= 8 && memcmp(line, "shutdown", 8) == 0)
		return (SAID_SHUTDOWN);
	if (n <= 9 || memcmp(line, "neighbor ", 9) != 0 || n >= sizeof(buf))
		return (SAID_OTHER);
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (strtok_r(buf, " ", &rest) == NULL ||
	    (peer = strtok_r(NULL, " ", &rest)) == NULL ||
	    (state = strtok_r(NULL, " ", &rest)) == NULL)
		return (SAID_OTHER);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return (SAID_OTHER);
	memset(s, 0, sizeof(*s));
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->state, sizeof(s->state), "%s", state);
	/* "down - REASON" */
	if (strncmp(rest, "- ", 2) == 0)
		rest += 2;
	snprintf(s->reason, sizeof(s->reason), "%s", rest);
	return (SAID_NEIGHBOR);
}

/* A session's state as ExaBGP reported it, kept for 'status'. */
static void
on_neighbor(const struct bgp_session *said)
{
	struct bgp_session	*s;

	for (s = x.sessions; s < x.sessions + x.nsessions; s++)
		if (strcmp(s->peer, said->peer) == 0)
			break;
	if (s == x.sessions + x.nsessions) {
		if (x.nsessions == SESSIONS_MAX)
			return;
		x.nsessions++;
		snprintf(s->peer, sizeof(s->peer), "%s", said->peer);
	}
	if (strcmp(s->state, said->state) != 0) {
		log_info("BGP session %s %s%s%s", said->peer, said->state,
		    said->reason[0] != '\0' ? " - " : "", said->reason);
		s->since = ah_real_ms();
	}
	snprintf(s->state, sizeof(s->state), "%s", said->state);
	snprintf(s->reason, sizeof(s->reason), "%s", said->reason);
}

/* Adds 'c' unless the list has it: a community said twice is noise. */
static size_t
comm_add(const char **list, size_t n, const char *c)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], c) == 0)
			return (n);
	list[n] = c;
	return (n + 1);
}

/*
 * One route command.  A degraded route is announced again with the
 * depref attributes: ExaBGP replaces the route's attributes in place,
 * so the router sees one UPDATE, not a withdraw and an announce.  A
 * draining one is degraded with GRACEFUL_SHUTDOWN for certain: that is
 * what makes routers move its traffic (RFC 8326).
 */
static void
exabgp_route(const struct prefix_conf *p, enum route_mode mode,
    const struct depref_conf *d)
{
	const char	*comm[2 * AH_COMM_MAX + 1];
	char		 cmd[1024];
	size_t		 i, ncomm = 0;
	int		 n = 0, depref = mode == ROUTE_DEGRADED ||
			    mode == ROUTE_DRAINING;
	int64_t		 med = p->med;

	if (mode == ROUTE_WITHDRAWN) {
		exabgp_withdraw(p);
		return;
	}
	for (i = 0; i < p->ncommunities; i++)
		ncomm = comm_add(comm, ncomm, p->communities[i]);
	for (i = 0; depref && i < d->ncommunities; i++)
		ncomm = comm_add(comm, ncomm, d->communities[i]);
	if (mode == ROUTE_DRAINING)
		ncomm = comm_add(comm, ncomm, AH_GRACEFUL_SHUTDOWN);

	if (p->neighbor[0] != '\0')
		n = append(cmd, sizeof(cmd), n, "neighbor %s ", p->neighbor);
	n = append(cmd, sizeof(cmd), n, "announce route %s next-hop %s",
	    p->prefix, p->next_hop);
	if (depref && d->med >= 0)
		med = d->med;
	if (med >= 0)
		n = append(cmd, sizeof(cmd), n, " med %lld", (long long)med);
	if (depref && d->npath > 0) {
		n = append(cmd, sizeof(cmd), n, " as-path [");
		for (i = 0; i < d->npath; i++)
			n = append(cmd, sizeof(cmd), n, "%s%u", i ? " " : "",
			    d->path[i]);
		n = append(cmd, sizeof(cmd), n, "]");
	}
	if (ncomm > 0) {
		n = append(cmd, sizeof(cmd), n, " community [");
		for (i = 0; i < ncomm; i++)
			n = append(cmd, sizeof(cmd), n, "%s%s", i ? " " : "",
			    comm[i]);
		n = append(cmd, sizeof(cmd), n, "]");
	}
	if (n < 0 || (size_t)n >= sizeof(cmd))
		fatalx("route command for %s does not fit", p->prefix);
	send_route(p->prefix, p->neighbor, cmd);
}

/*
 * A watchdog (ExaBGP 4.x) announces or withdraws every route declared
 * with it in exabgp.conf, to every neighbor; it has no attributes to
 * change, so only withdrawn and not withdrawn differ.
 */
void
exabgp_service(const struct service_conf *s, enum route_mode mode)
{
	char	cmd[AH_NAME_LEN + 32], slot[AH_NAME_LEN + 16];
	size_t	i;

	if (s->watchdog[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "%s watchdog %s",
		    mode == ROUTE_WITHDRAWN ? "withdraw" : "announce",
		    s->watchdog);
		snprintf(slot, sizeof(slot), "watchdog %s", s->watchdog);
		send_route(slot, "", cmd);
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
on_ack(const char *line, size_t n, void *arg)
{
	const char		*cmd = x.head != x.tail ?
				    x.sent[x.head % SENT_RING] : "?";
	struct bgp_session	 said;

	(void)arg;
	switch (exabgp_said(line, n, &said)) {
	case SAID_ERROR:
		log_warnx("ExaBGP rejected: %s", cmd);
		/* FALLTHROUGH */
	case SAID_DONE:
		if (x.head != x.tail)
			x.head++;
		break;
	case SAID_SHUTDOWN:
		log_info("ExaBGP is shutting down");
		break;
	case SAID_NEIGHBOR:
		on_neighbor(&said);
		break;
	case SAID_OTHER:
		break;
	}
}

/*
 * Each complete line in 'in' to 'fn'.  ExaBGP's JSON events may be
 * longer than a line may be: such a line is skipped whole, its tail
 * (still to be read) included, never taken for a line of its own.
 */
void
exabgp_lines(struct ah_lines *in,
    void (*fn)(const char *, size_t, void *), void *arg)
{
	const char	*line;
	size_t		 n;
	int		 rc;

	/* What follows a skipped line may be here already: go on. */
	while ((rc = ah_lines_next(in, &line, &n)) != 0)
		if (rc < 0)
			ah_lines_discard(in);
		else
			fn(line, n, arg);
}

int
exabgp_read(void)
{
	size_t		 room;
	ssize_t		 r;
	char		*space;

	for (;;) {
		space = ah_lines_space(&x.in, &room);
		r = read(STDIN_FILENO, space, room);
		if (r < 0)
			return (errno == EAGAIN || errno == EINTR ? 0 : -1);
		if (r == 0)
			return (-1);
		ah_lines_fill(&x.in, (size_t)r);
		exabgp_lines(&x.in, on_ack, NULL);
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
