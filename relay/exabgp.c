/* SPDX-License-Identifier: MPL-2.0 */
/*
 * exabgp.c - the relay's two pipes to ExaBGP.
 *
 * stdout carries commands.  It is non-blocking, so a slow ExaBGP never
 * stalls the relay's reaction to named.  What waits for ExaBGP is not a
 * queue of commands but the latest command of each route: a route that
 * changes again before ExaBGP has read the first change is written
 * once, as it is now, and one that changes back not at all.  So any
 * number of prefixes may change at once, however slowly ExaBGP reads,
 * and the relay holds at most one command per route.  stdin carries
 * ExaBGP's answers ('done'/'error'), 'shutdown', session changes, and
 * the answer to 'show neighbor extensive' (sessions.c).  ExaBGP writes
 * with a blocking write: if we stopped reading, ExaBGP itself would
 * freeze, so stdin is drained on every loop, whatever else happens.
 *
 * An answer does not say which command it answers.  ExaBGP 4.2 runs
 * route commands and 'show neighbor' in turn from one queue and
 * answers each as it finishes it, so answers are matched to commands
 * in the order they were sent.  Commands ExaBGP answers at once
 * ('version', '#', an unknown one) would jump that queue: the relay
 * sends none of them.  Each route keeps ExaBGP's answer to its last
 * command, and a route is out there only when ExaBGP accepted it and a
 * session that carries it is up.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "exabgp.h"
#include "log.h"
#include "parse.h"

/* Commands written ahead of ExaBGP's reading: a pipe's worth. */
#define OUT_MAX		(64 * 1024)
/* ... less room always kept for the neighbor question. */
#define QUESTION_ROOM	64
/* ExaBGP taking nothing this long while commands wait is logged. */
#define STALL_MS	5000
/* Commands awaiting an answer that are remembered one by one. */
#define PENDING_MAX	4096
/* How often ExaBGP is asked which neighbors it has, and their state. */
#define ASK_EVERY_MS	10000
/* A command unanswered for longer than this is worth a word. */
#define SLOW_MS		2000
/* What a pending command is, when not a route's. */
#define QUESTION	((size_t)-1)	/* 'show neighbor extensive' */
#define NONE		((size_t)-1)	/* the end of a list of routes */

struct pending {
	uint64_t	 seq;
	size_t		 route;		/* in x.routes, or QUESTION */
};

/*
 * A route: 'pub.cmd' is the last command written for it, 'want' the
 * latest asked for and not written yet (NULL: none).  While it waits
 * it is in the list from x.wait_head, in the order it first changed.
 */
struct slot {
	struct sent_route	 pub;
	char			*want;
	int			 waiting;
	int			 resend;	/* 'want' even if unchanged */
	size_t			 next;		/* in the waiting list */
	size_t			 hnext;		/* in its hash chain */
};

/* One stdout and one stdin per process: module state, not a context. */
static struct {
	char		 out[OUT_MAX];
	size_t		 len;
	struct ah_lines	 in;
	/* Commands awaiting an answer, oldest first. */
	struct pending	 pending[PENDING_MAX];
	uint64_t	 head, tail;
	uint64_t	 lost;		/* answers due to ones forgotten */
	uint64_t	 seq;		/* commands sent, questions included */
	uint64_t	 commands;	/* route commands since the start */
	uint64_t	 rejected;
	int64_t		 asked;		/* monotonic ms; 0: not yet */
	int		 asking;	/* a question awaits its answer */
	int		 ask_again;	/* ... and another is due after it */
	/* Each route's last command, and ExaBGP's answer to it. */
	struct slot	*routes;
	size_t		 nroutes, caproutes;
	size_t		*hash;		/* heads of chains, or NONE */
	size_t		 nhash;
	size_t		 wait_head, wait_tail, nwaiting;
	/* Monotonic ms ExaBGP last took bytes, or had none to take. */
	int64_t		 progress;
	int		 stalled;	/* ... and that was logged */
} x = { .wait_head = NONE, .wait_tail = NONE };

void
exabgp_init(void)
{
	(void)fcntl(STDOUT_FILENO, F_SETFL,
	    fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
	(void)fcntl(STDIN_FILENO, F_SETFL,
	    fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	ah_lines_init(&x.in);
	x.progress = ah_mono_ms();
}

/*
 * Writes 'cmd' ahead, to be answered in turn; the caller made room.
 * Should ExaBGP leave more than PENDING_MAX unanswered (it is hung, or
 * its api.ack is off), the oldest are forgotten but counted, so later
 * answers still find their own command.
 */
static void
queue(const char *cmd, size_t route)
{
	struct pending	*p;
	size_t		 n = strlen(cmd);

	memcpy(x.out + x.len, cmd, n);
	x.out[x.len + n] = '\n';
	x.len += n + 1;
	if (x.tail - x.head == PENDING_MAX) {
		if (x.pending[x.head % PENDING_MAX].route == QUESTION)
			x.asking = 0;
		x.head++;
		x.lost++;
	}
	p = &x.pending[x.tail++ % PENDING_MAX];
	p->seq = ++x.seq;
	p->route = route;
	if (route < x.nroutes) {
		x.routes[route].pub.seq = p->seq;
		x.routes[route].pub.ack = ACK_WAITING;
	}
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

static size_t
route_hash(const char *prefix, const char *neighbor)
{
	size_t		 h = 2166136261u;	/* FNV-1a */
	const char	*p;

	for (p = prefix; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (p = neighbor; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (h);
}

/*
 * The index of the routes, rebuilt as their table doubles: a service of
 * 10,000 prefixes looks each of them up on every change.
 */
static int
rehash(size_t n)
{
	size_t	*h, i, b;

	if ((h = reallocarray(NULL, n, sizeof(*h))) == NULL)
		return (-1);
	for (i = 0; i < n; i++)
		h[i] = NONE;
	for (i = 0; i < x.nroutes; i++) {
		b = route_hash(x.routes[i].pub.prefix,
		    x.routes[i].pub.neighbor) % n;
		x.routes[i].hnext = h[b];
		h[b] = i;
	}
	free(x.hash);
	x.hash = h;
	x.nhash = n;
	return (0);
}

/*
 * A route as ExaBGP keys it: the prefix and the neighbor it goes to; a
 * watchdog has its name for a prefix and no neighbor.
 */
static struct slot *
route_slot(const char *prefix, const char *neighbor, int create)
{
	struct slot	*r;
	size_t		 i, b;

	if (x.nhash > 0) {
		b = route_hash(prefix, neighbor) % x.nhash;
		for (i = x.hash[b]; i != NONE; i = x.routes[i].hnext)
			if (strcmp(x.routes[i].pub.prefix, prefix) == 0 &&
			    strcmp(x.routes[i].pub.neighbor, neighbor) == 0)
				return (&x.routes[i]);
	}
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
	if (x.nroutes + 1 > x.nhash && rehash(2 * x.caproutes) < 0)
		return (NULL);
	r = &x.routes[x.nroutes];
	memset(r, 0, sizeof(*r));
	snprintf(r->pub.prefix, sizeof(r->pub.prefix), "%s", prefix);
	snprintf(r->pub.neighbor, sizeof(r->pub.neighbor), "%s", neighbor);
	b = route_hash(prefix, neighbor) % x.nhash;
	r->hnext = x.hash[b];
	x.hash[b] = x.nroutes++;
	return (r);
}

static int
is_withdraw(const char *cmd)
{
	return (strstr(cmd, "withdraw ") != NULL);
}

/*
 * Whether 'b' would change what ExaBGP holds after 'a' ("": nothing
 * written yet): the same command again, or a withdrawal of what is
 * withdrawn (whatever its next-hop said), would be an UPDATE for
 * nothing, or a reload's churn.  The relay is ExaBGP's only source for
 * its routes, so what it last wrote is what ExaBGP holds, or rejected:
 * the same again would be rejected again.
 */
static int
differs(const char *a, const char *b)
{
	return (a[0] == '\0' || (strcmp(a, b) != 0 &&
	    !(is_withdraw(a) && is_withdraw(b))));
}

/* Into the waiting list, unless there already. */
static void
wait_for_room(struct slot *r)
{
	size_t i = (size_t)(r - x.routes);

	if (r->waiting)
		return;
	r->waiting = 1;
	r->next = NONE;
	if (x.wait_tail == NONE)
		x.wait_head = i;
	else
		x.routes[x.wait_tail].next = i;
	x.wait_tail = i;
	x.nwaiting++;
}

/*
 * Asks for 'cmd' on a route: it waits for room ahead of ExaBGP's
 * reading as its latest command, unless it would change nothing.
 */
static void
send_route(const char *prefix, const char *neighbor, unsigned int family,
    const char *cmd)
{
	struct slot	*r = route_slot(prefix, neighbor, 1);
	char		*want;

	if (r == NULL)
		fatalx("out of memory for the route of %s", prefix);
	if (!differs(r->want != NULL ? r->want : r->pub.cmd, cmd))
		return;
	if ((want = strdup(cmd)) == NULL)
		fatalx("out of memory for the command of %s", prefix);
	free(r->want);
	r->want = want;
	r->pub.family = family;
	x.commands++;
	wait_for_room(r);
}

/*
 * Waiting routes written ahead, oldest change first, as far as there is
 * room; a route changed back to what ExaBGP holds is not written.
 */
static void
fill(void)
{
	struct slot	*r;

	while (x.wait_head != NONE) {
		r = &x.routes[x.wait_head];
		if (r->resend || differs(r->pub.cmd, r->want)) {
			if (x.len + strlen(r->want) + 1 + QUESTION_ROOM >
			    sizeof(x.out))
				return;
			log_info("to exabgp: %s", r->want);
			snprintf(r->pub.cmd, sizeof(r->pub.cmd), "%s",
			    r->want);
			r->pub.at = ah_real_ms();
			r->pub.stranger = 0;
			queue(r->want, (size_t)(r - x.routes));
		}
		free(r->want);
		r->want = NULL;
		r->resend = 0;
		r->waiting = 0;
		x.wait_head = r->next;
		if (x.wait_head == NONE)
			x.wait_tail = NONE;
		x.nwaiting--;
	}
}

static unsigned int
family_of(const struct prefix_conf *p)
{
	return (p->family == AF_INET6 ? FAM_IPV6 : FAM_IPV4);
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
	send_route(p->prefix, p->neighbor, family_of(p), cmd);
	(void)exabgp_flush();
}

uint64_t
exabgp_commands(void)
{
	return (x.commands);
}

uint64_t
exabgp_rejected(void)
{
	return (x.rejected);
}

uint64_t
exabgp_waiting(void)
{
	return (x.tail - x.head + x.lost + x.nwaiting);
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
	char		 cmd[1024], path[AH_PATH_TEXT];
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
		sessions_path_text(d->path, d->npath, path, sizeof(path));
		n = append(cmd, sizeof(cmd), n, " as-path %s", path);
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
	send_route(p->prefix, p->neighbor, family_of(p), cmd);
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
		send_route(slot, "", 0, cmd);
	}
	for (i = 0; i < s->nprefixes; i++)
		exabgp_route(&s->prefixes[i],
		    mode == ROUTE_KEPT ? ROUTE_ANNOUNCED : mode, &s->depref);
	(void)exabgp_flush();
}

/*
 * Whether there is anything for ExaBGP; says once when ExaBGP has taken
 * nothing for STALL_MS while commands wait, and when it reads again.
 */
int
exabgp_want_write(int64_t now)
{
	if (x.len == 0 && x.nwaiting == 0) {
		x.progress = now;
		return (0);
	}
	if (!x.stalled && now - x.progress > STALL_MS) {
		x.stalled = 1;
		log_warnx("ExaBGP has taken none of the relay's commands for "
		    "%d s (%zu routes wait): it is busy or hung; each route's "
		    "latest command goes out when it reads", STALL_MS / 1000,
		    x.nwaiting + (x.len > 0));
	}
	return (1);
}

int
exabgp_flush(void)
{
	fill();
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
		x.progress = ah_mono_ms();
		if (x.stalled) {
			x.stalled = 0;
			log_info("ExaBGP reads the relay's commands again");
		}
		fill();
	}
	return (0);
}

static void
ask(void)
{
	if (x.asking) {
		x.ask_again = 1;
		return;
	}
	x.asking = 1;
	x.asked = ah_mono_ms();
	queue("show neighbor extensive", QUESTION);
}

void
exabgp_tick(int64_t now)
{
	if (x.asked == 0 || now - x.asked >= ASK_EVERY_MS) {
		ask();
		(void)exabgp_flush();
	}
}

/*
 * ExaBGP has answered which neighbors it has.  A route it rejected
 * can now say why; one rejected for a neighbor it has now (its
 * configuration was reloaded) is sent again.
 */
static void
answered(int complete)
{
	struct slot		*s;
	struct sent_route	*r;
	int			 has;

	sessions_answered(complete);
	x.asking = 0;
	for (s = x.routes; complete && s < x.routes + x.nroutes; s++) {
		r = &s->pub;
		if (r->ack != ACK_REJECTED || r->neighbor[0] == '\0')
			continue;
		if ((has = sessions_has(r->neighbor)) == 0)
			r->stranger = 1;
		else if (has == 1 && r->stranger && !s->waiting) {
			log_info("ExaBGP has neighbor %s now: sending again: "
			    "%s", r->neighbor, r->cmd);
			r->stranger = 0;
			if ((s->want = strdup(r->cmd)) == NULL)
				fatalx("out of memory for the command of %s",
				    r->prefix);
			s->resend = 1;
			x.commands++;
			wait_for_room(s);
		}
	}
	if (x.ask_again) {
		x.ask_again = 0;
		ask();
	}
}

/* 'done' or 'error': the answer to the oldest command not answered. */
static void
answer(int accepted)
{
	static int		 unanswerable;
	const struct pending	*p;
	struct sent_route	*r = NULL;
	char			 names[256];

	if (x.lost > 0) {
		x.lost--;
		if (!accepted) {
			x.rejected++;
			log_errx("ExaBGP rejected a command sent too long ago "
			    "to say which");
		}
		return;
	}
	if (x.head == x.tail) {
		log_warnx("ExaBGP answered '%s' with no command to answer",
		    accepted ? "done" : "error");
		return;
	}
	p = &x.pending[x.head++ % PENDING_MAX];
	if (p->route == QUESTION) {
		if (!accepted && !unanswerable++)
			log_warnx("ExaBGP rejected 'show neighbor extensive': "
			    "sessions are known only as they change");
		answered(accepted);
		return;
	}
	if (!accepted)
		x.rejected++;
	if (p->route < x.nroutes && x.routes[p->route].pub.seq == p->seq)
		r = &x.routes[p->route].pub;
	if (r != NULL) {
		r->ack = accepted ? ACK_ACCEPTED : ACK_REJECTED;
		r->acked = ah_real_ms();
		r->stranger = !accepted && r->neighbor[0] != '\0' &&
		    sessions_has(r->neighbor) == 0;
	}
	if (accepted)
		return;
	if (r == NULL && p->route < x.nroutes)
		log_errx("ExaBGP rejected an earlier command for %s",
		    x.routes[p->route].pub.prefix);
	else if (r == NULL)
		log_errx("ExaBGP rejected a command");
	else if (r->stranger) {
		sessions_names(names, sizeof(names));
		log_errx("ExaBGP rejected: %s: it has no neighbor %s (its "
		    "neighbors: %s)", r->cmd, r->neighbor, names);
	} else
		log_errx("ExaBGP rejected: %s", r->cmd);
}

/* The question's answer is being read when it is the oldest pending. */
static int
answering(void)
{
	return (x.lost == 0 && x.head != x.tail &&
	    x.pending[x.head % PENDING_MAX].route == QUESTION);
}

static void
heard(const char *line, size_t n, void *arg)
{
	struct said		said;
	enum exabgp_said	kind;

	(void)arg;
	switch ((kind = exabgp_said(line, n, &said))) {
	case SAID_DONE:
	case SAID_ERROR:
		answer(kind == SAID_DONE);
		break;
	case SAID_SHUTDOWN:
		log_info("ExaBGP is shutting down");
		break;
	case SAID_NEIGHBOR:
		sessions_event(&said);
		/* What its OPENs agreed comes with the answer. */
		if (strcmp(said.state, "up") == 0)
			ask();
		break;
	case SAID_PEER:
	case SAID_PEER_STATE:
	case SAID_PEER_UP:
	case SAID_PEER_AS:
	case SAID_PEER_FAMILY:
		if (answering())
			sessions_answer(kind, &said);
		break;
	case SAID_OTHER:
		break;
	}
}

/*
 * The as-path of an announcement the relay wrote (exabgp_route()):
 * how many AS numbers, up to 'max'.
 */
static size_t
sent_path(const char *cmd, uint32_t *path, size_t max)
{
	const char	*p = strstr(cmd, " as-path [");
	char		*end;
	size_t		 n = 0;

	if (p == NULL)
		return (0);
	for (p += 10; n < max && *p >= '0' && *p <= '9'; p = end) {
		path[n++] = (uint32_t)strtoul(p, &end, 10);
		if (*end == ' ')
			end++;
	}
	return (n);
}

static void
held(const struct slot *s, struct route_held *h)
{
	const struct sent_route	*r = s != NULL ? &s->pub : NULL;
	char			 names[256];
	uint32_t		 path[AH_PATH_LEN];
	size_t			 npath;
	int64_t			 since;

	memset(h, 0, sizeof(*h));
	if ((h->sent = r) == NULL || r->cmd[0] == '\0' || s->waiting) {
		h->sent = r != NULL && r->cmd[0] != '\0' ? r : NULL;
		h->held = HELD_WAITING;
		snprintf(h->why, sizeof(h->why), "%s", h->sent == NULL ?
		    "not sent to ExaBGP yet" : "a newer command waits for "
		    "ExaBGP to read");
		return;
	}
	switch (r->ack) {
	case ACK_WAITING:
		h->held = HELD_WAITING;
		h->since = r->at;
		if (ah_real_ms() - r->at < SLOW_MS)
			snprintf(h->why, sizeof(h->why), "sent, waiting for "
			    "ExaBGP");
		else
			snprintf(h->why, sizeof(h->why), "sent, waiting for "
			    "ExaBGP for %llds (is it hung, or is its "
			    "exabgp.api.ack off?)",
			    (long long)((ah_real_ms() - r->at) / 1000));
		break;
	case ACK_REJECTED:
		h->held = HELD_REJECTED;
		h->since = r->acked;
		sessions_names(names, sizeof(names));
		if (r->stranger)
			snprintf(h->why, sizeof(h->why), "rejected by ExaBGP: "
			    "it has no neighbor %s (its neighbors: %s)",
			    r->neighbor, names);
		else
			snprintf(h->why, sizeof(h->why), "rejected by ExaBGP: "
			    "its log says why");
		break;
	case ACK_ACCEPTED:
		h->since = r->acked;
		if (is_withdraw(r->cmd)) {
			h->held = HELD_WITHDRAWN;
			break;
		}
		npath = sent_path(r->cmd, path, AH_PATH_LEN);
		h->held = sessions_carry(r->neighbor, r->family, path, npath,
		    &since, h->why, sizeof(h->why)) ? HELD_ANNOUNCED :
		    HELD_UNCARRIED;
		if (since > h->since)
			h->since = since;
		break;
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

void
exabgp_prefix_held(const struct prefix_conf *p, struct route_held *h)
{
	held(route_slot(p->prefix, p->neighbor, 0), h);
}

void
exabgp_watchdog_held(const char *name, struct route_held *h)
{
	char slot[AH_NAME_LEN + 16];

	snprintf(slot, sizeof(slot), "watchdog %s", name);
	held(route_slot(slot, "", 0), h);
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
		exabgp_lines(&x.in, heard, NULL);
	}
}

void
exabgp_drain(int timeout_ms)
{
	struct pollfd	pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	int64_t		end = ah_mono_ms() + timeout_ms, left;

	if (exabgp_flush() < 0)
		return;
	while ((x.len > 0 || x.nwaiting > 0) &&
	    (left = end - ah_mono_ms()) > 0 && poll(&pfd, 1, (int)left) > 0)
		if (exabgp_flush() < 0)
			break;
}
