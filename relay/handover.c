/*
 * handover.c - taking over the routes of the relay this one replaces.
 *
 * ExaBGP keeps a dead process's routes and respawns it without a word
 * about them, so a relay starts by withdrawing everything it owns
 * (main.c), and a crash costs a route flap.  A relay replaced on
 * purpose, by 'anycastctl restart' (which the package runs after an
 * upgrade), had no reason to withdraw: anycastctl leaves a note beside
 * the control socket, the predecessor's own status taken just before
 * it was stopped, and the successor takes over the routes the note
 * says were out instead of withdrawing them:
 *
 *	handover version=1 from=905 exabgp=880 at=1741961201220 by=uid%200
 *	relay pid=905 version=0.1.0 proto=2 started=... config=...
 *	service name=dns view=_default state=up route=announced ...
 *
 * (doc/cli.md, 2.6).  The note is believed only from the ExaBGP that
 * respawned this relay (exabgp= is our parent), only within
 * HANDOVER_FRESH_MS of being written, only from root or our own user,
 * and only once: it is removed when read.  A service taken over keeps
 * its mode, re-sent to ExaBGP so that its answers speak for this
 * relay; the judge is left where the predecessor had it (up, or down
 * and depreferred).  While this relay's feed comes up it has no
 * verdict of its own, and the routes stay as they are
 * (handover_waiting()); that lasts as long as the plugin takes to say
 * hello and show the view alive, and never longer than FEED_HELLO_MS
 * and stale-after, what any relay gives a plugin connection and a
 * silent feed.  named found gone, or a plugin this relay cannot read,
 * withdraws at once.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "drain.h"
#include "feed.h"
#include "handover.h"
#include "log.h"
#include "relay.h"
#include "route.h"
#include "state.h"

#define HANDOVER_MAX	(64 * 1024)

/* The modes a predecessor may hand over: the route is out. */
static const enum route_mode handed[] = {
	ROUTE_ANNOUNCED, ROUTE_DEGRADED, ROUTE_KEPT
};

/* The mode a 'route' field names, or ROUTE_WITHDRAWN for any other. */
static enum route_mode
handed_mode(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(handed) / sizeof(handed[0]); i++)
		if (strcmp(route_mode_name(handed[i]), name) == 0)
			return (handed[i]);
	return (ROUTE_WITHDRAWN);
}

/* The first record: ours, fresh, and for the ExaBGP that started us. */
static int
check_header(const struct ah_msg *m, uint64_t *from, char *why, size_t len)
{
	uint64_t	version, exabgp, at;
	int64_t		age;

	if (strcmp(m->type, "handover") != 0 ||
	    ah_get_u64(m, "version", &version) < 0 ||
	    version != HANDOVER_VERSION ||
	    ah_get_u64(m, "from", from) < 0 ||
	    ah_get_u64(m, "exabgp", &exabgp) < 0 ||
	    ah_get_u64(m, "at", &at) < 0) {
		snprintf(why, len, "not 'handover version=%d' with from, "
		    "exabgp and at", HANDOVER_VERSION);
		return (-1);
	}
	if (exabgp != (uint64_t)getppid()) {
		snprintf(why, len, "written for the relay of ExaBGP pid %llu, "
		    "not of this relay's parent, pid %ld",
		    (unsigned long long)exabgp, (long)getppid());
		return (-1);
	}
	age = ah_real_ms() - (int64_t)at;
	if (age < -HANDOVER_FRESH_MS || age > HANDOVER_FRESH_MS) {
		snprintf(why, len, "written %lld ms ago, not within %d ms",
		    (long long)age, HANDOVER_FRESH_MS);
		return (-1);
	}
	return (0);
}

/*
 * What the note says of each configured service: its route mode in
 * 'modes', since when in 'since' (realtime ms, 0 if it does not say);
 * the predecessor's pid in 'from'.  -1 and why if it is not to be
 * believed.
 */
static int
parse_note(const struct relay *r, char *buf, enum route_mode *modes,
    int64_t *since, uint64_t *from, char *why, size_t len)
{
	const char	*err, *name, *route;
	struct ah_msg	 m;
	char		*line, *next;
	uint64_t	 t;
	size_t		 i;
	int		 lineno = 0;

	for (line = buf; *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL) {
			snprintf(why, len, "line %d is cut short", lineno);
			return (-1);
		}
		*next++ = '\0';
		if (ah_decode(&m, line, (size_t)(next - 1 - line), &err) < 0) {
			snprintf(why, len, "line %d: %s", lineno, err);
			return (-1);
		}
		if (lineno == 1) {
			if (check_header(&m, from, why, len) < 0)
				return (-1);
			continue;
		}
		/* The rest of the predecessor's status is for people. */
		if (strcmp(m.type, "service") != 0)
			continue;
		if ((name = ah_get(&m, "name")) == NULL ||
		    (route = ah_get(&m, "route")) == NULL) {
			snprintf(why, len, "line %d: a service without name "
			    "or route", lineno);
			return (-1);
		}
		if ((i = state_service_index(r, name)) == r->conf->nservices)
			continue;
		modes[i] = handed_mode(route);
		if (ah_get_u64(&m, "since", &t) == 0)
			since[i] = (int64_t)t;
	}
	if (lineno == 0) {
		snprintf(why, len, "empty");
		return (-1);
	}
	return (0);
}

/*
 * Service i goes on in 'mode', as its predecessor left it, and since
 * when it says ('since', realtime ms; 0 if it does not).
 */
static void
take_over(struct relay *r, size_t i, enum route_mode mode, int64_t since,
    uint64_t from, int64_t now)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	char				 why[120];

	st->hard = 0;
	st->judge.up = mode == ROUTE_ANNOUNCED;
	st->taken_at = now;
	snprintf(why, sizeof(why), "relay %llu had it %s when it was "
	    "replaced (anycastctl restart)", (unsigned long long)from,
	    route_mode_name(mode));
	snprintf(st->reason, sizeof(st->reason), "taken over: %s; no "
	    "verdict of this relay yet", why);
	(void)route_set(&st->route, s, mode, "taken over", why);
	if (since > 0 && since <= st->route.since)
		st->route.since = since;
}

void
handover_read(struct relay *r, int64_t now)
{
	static char	 buf[HANDOVER_MAX + 1];
	enum route_mode	 modes[RELAY_SERVICES_MAX] = { 0 };
	int64_t		 since[RELAY_SERVICES_MAX] = { 0 };
	char		 path[sizeof(r->conf->control_socket) +
			    sizeof(HANDOVER_SUFFIX)], why[200];
	struct stat	 sb;
	uint64_t	 from = 0;
	ssize_t		 n;
	size_t		 i, taken = 0;
	int		 fd;

	snprintf(path, sizeof(path), "%s%s", r->conf->control_socket,
	    HANDOVER_SUFFIX);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			log_warn("handover note %s", path);
		return;
	}
	/* Once: whatever it says, the next start must not read it. */
	if (unlink(path) < 0)
		log_warn("handover note %s: unlink", path);
	if (fstat(fd, &sb) < 0 || (n = state_read(fd, buf, sizeof(buf))) < 0) {
		log_warn("handover note %s", path);
		close(fd);
		return;
	}
	close(fd);
	/* Only anycastctl run by root, or by our user, may say so. */
	if (!S_ISREG(sb.st_mode) || (sb.st_uid != 0 &&
	    sb.st_uid != geteuid())) {
		log_warnx("handover note %s: not a file of root or of uid %ld: "
		    "nothing taken over", path, (long)geteuid());
		return;
	}
	if (n > HANDOVER_MAX) {
		log_warnx("handover note %s: larger than %d KiB: nothing "
		    "taken over", path, HANDOVER_MAX / 1024);
		return;
	}
	buf[n] = '\0';
	if (parse_note(r, buf, modes, since, &from, why, sizeof(why)) < 0) {
		log_warnx("handover note %s: %s: nothing taken over", path,
		    why);
		return;
	}
	for (i = 0; i < r->conf->nservices; i++) {
		/* A drain the state file keeps outranks the note. */
		if (modes[i] == ROUTE_WITHDRAWN ||
		    r->svc[i].drain.state != DRAIN_NONE)
			continue;
		take_over(r, i, modes[i], since[i], from, now);
		taken++;
	}
	log_info("replacing relay %llu: %zu of %zu services taken over with "
	    "their routes, the others start withdrawn",
	    (unsigned long long)from, taken, r->conf->nservices);
}

int
handover_waiting(const struct relay *r, size_t i, int64_t now)
{
	const struct service_state	*st = &r->svc[i];
	const struct feed		*f = &r->feed;
	const struct feed_view		*v;

	if (st->taken_at == 0 ||
	    now - st->taken_at > FEED_HELLO_MS + (int64_t)f->stale_ms)
		return (0);
	/* feed.c gives up on a hello after FEED_HELLO_MS. */
	if (f->state == FEED_HELLO)
		return (1);
	if (f->state != FEED_UP)
		return (0);
	if (f->last_tick == 0)
		return (1);
	if (now - f->last_tick > (int64_t)f->stale_ms)
		return (0);
	/* Seen alive once its probes or queries move (feed.c). */
	v = feed_view(f, r->conf->services[i].view);
	return (v != NULL && v->active_at == 0);
}
