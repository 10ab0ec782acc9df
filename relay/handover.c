/* SPDX-License-Identifier: MPL-2.0 */
/*
 * handover.c - taking over the routes of the relay this one replaces.
 *
 * ExaBGP keeps a dead process's routes and respawns it without a word
 * about them.  A relay that knew nothing of them would have to start
 * by withdrawing everything it owns, and announce again on fresh
 * evidence: a crash, an OOM kill or a careless kill -9 of a healthy
 * node's relay would cost a route flap.  So a relay keeps a note of its
 * routes beside the control socket, and its successor takes over the
 * routes the note says were out instead of withdrawing them.  Two
 * notes, of one format:
 *
 *	handover version=1 from=905 exabgp=880 at=1741961201220 by=uid%200
 *	relay pid=905 version=0.1.0 proto=2 started=... config=...
 *	service name=dns view=_default state=up route=announced ...
 *
 * is written (SOCKET.handover) by 'anycastctl restart', which the
 * package runs after an upgrade: the predecessor's own status, taken
 * just before it was stopped, so any version of the relay can be
 * replaced so.  It is believed only within HANDOVER_FRESH_MS of being
 * written, and once: it is removed when read.  If it is there at all,
 * it decides.
 *
 *	handover version=1 from=905 exabgp=880 exabgp_started=1234 at=...
 *	    by=relay
 *	service name=dns view=_default route=announced since=...
 *
 * is the relay's own (SOCKET.routes), rewritten whole at start and on
 * every route change, before ExaBGP is sent the change (route.c): a
 * relay that dies in between leaves a note one change ahead of ExaBGP,
 * and its successor, which sends every mode it takes over again, makes
 * ExaBGP what the note says, the predecessor's latest verdict.  The
 * other order would let a successor undo a withdrawal.  Such a note is
 * believed whatever its age, because the ExaBGP that respawned us still
 * holds exactly what it was last told; but only from a relay that is
 * gone, of this very ExaBGP: a restarted ExaBGP has lost its routes and
 * reset its sessions, and is told from another by its start time as
 * well as its pid.
 *
 * Either is believed only from the ExaBGP that started this relay
 * (exabgp= is our parent) and only from root or our own user.  A
 * service taken over keeps its mode, re-sent to ExaBGP so that its
 * answers speak for this relay; the judge is left where the
 * predecessor had it (up, or down and depreferred).  While this
 * relay's feed comes up it has no verdict of its own, and the routes
 * stay as they are (handover_waiting()); that lasts as long as the
 * plugin takes to say hello and show the view alive, and never longer
 * than FEED_HELLO_MS and stale-after, what any relay gives a plugin
 * connection and a silent feed.  named found gone, or a plugin this
 * relay cannot read, withdraws at once.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproc.h"
#include "ahproto.h"
#include "atomic.h"
#include "drain.h"
#include "feed.h"
#include "handover.h"
#include "log.h"
#include "relay.h"
#include "route.h"
#include "state.h"

#define HANDOVER_MAX	(64 * 1024)

/* The notes in the order they are read: the first one there decides. */
enum note { NOTE_RESTART, NOTE_CRASH };

static const struct {
	const char	*suffix;
	const char	*name;		/* in the log */
	const char	*after;		/* status: taken over after */
	const char	*when;		/* "had it announced when it" */
	const char	*which;		/* "replacing relay N" */
} notes[] = {
	[NOTE_RESTART] = { HANDOVER_SUFFIX, "handover note", "restart",
	    "was replaced (anycastctl restart)", "" },
	[NOTE_CRASH] = { ROUTES_SUFFIX, "routes note", "crash",
	    "died (ExaBGP respawned this relay)", ", which died" }
};

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

/* When process 'pid' started (ahproc.h): with the pid, which it is. */
static uint64_t
started_at(pid_t pid)
{
	struct ah_proc	pr;

	return (ah_proc_stat(pid, &pr) == 0 ? pr.started : 0);
}

static void
note_path(const struct relay *r, enum note k, char *path, size_t len)
{
	snprintf(path, len, "%s%s", r->conf->control_socket,
	    notes[k].suffix);
}

/*
 * The first record: for the ExaBGP that started us and, as each note
 * needs, fresh (anycastctl's) or the dead predecessor's (the relay's).
 */
static int
check_header(enum note k, const struct ah_msg *m, uint64_t *from,
    char *why, size_t len)
{
	const char	*by;
	uint64_t	 version, exabgp, at, started, ours;
	int64_t		 age;

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
	if (k == NOTE_CRASH && ((by = ah_get(m, "by")) == NULL ||
	    strcmp(by, "relay") != 0 ||
	    ah_get_u64(m, "exabgp_started", &started) < 0)) {
		snprintf(why, len, "not written by a relay (by=relay, with "
		    "exabgp_started)");
		return (-1);
	}
	if (exabgp != (uint64_t)getppid()) {
		snprintf(why, len, "written for the relay of ExaBGP pid %llu, "
		    "not of this relay's parent, pid %ld",
		    (unsigned long long)exabgp, (long)getppid());
		return (-1);
	}
	if (k == NOTE_RESTART) {
		age = ah_real_ms() - (int64_t)at;
		if (age < -HANDOVER_FRESH_MS || age > HANDOVER_FRESH_MS) {
			snprintf(why, len, "written %lld ms ago, not within "
			    "%d ms", (long long)age, HANDOVER_FRESH_MS);
			return (-1);
		}
		return (0);
	}
	/* Its routes went with it: the note is of routes nobody holds. */
	if ((ours = started_at(getppid())) != started) {
		snprintf(why, len, "written for ExaBGP pid %llu started at "
		    "tick %llu, not this one (tick %llu): it was restarted",
		    (unsigned long long)exabgp, (unsigned long long)started,
		    (unsigned long long)ours);
		return (-1);
	}
	/* Alive, it speaks for itself; gone unseen (pid reused): withdraw. */
	if (*from == (uint64_t)getpid() || kill((pid_t)*from, 0) == 0 ||
	    errno != ESRCH) {
		snprintf(why, len, "relay %llu, which wrote it, is still "
		    "running", (unsigned long long)*from);
		return (-1);
	}
	return (0);
}

/*
 * The predecessors' starts a note lists, those within the window kept,
 * the newest SPAWNS_MAX - 1 of them, then this relay's own.
 */
static void
spawns_take(struct relay *r, const char *list)
{
	size_t	n;

	n = ah_times_within(list, r->started, SPAWN_WINDOW_MS, r->spawns,
	    SPAWNS_MAX - 1);
	r->spawns[n] = r->started;
	r->nspawns = n + 1;
}

void
handover_spawns(const struct relay *r, char *buf, size_t len)
{
	size_t	i, off = 0;
	int	k;

	buf[0] = '\0';
	for (i = 0; i < r->nspawns && off < len; i++) {
		k = snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
		    (long long)r->spawns[i]);
		if (k < 0 || (size_t)k >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)k;
	}
}

/*
 * What the note says of each configured service: its route mode in
 * 'modes', since when in 'since' (realtime ms, 0 if it does not say);
 * the predecessor's pid in 'from'.  -1 and why if it is not to be
 * believed.
 */
static int
parse_note(const struct relay *r, enum note k, char *buf,
    enum route_mode *modes, int64_t *since, uint64_t *from, char *spawns,
    size_t slen, char *why, size_t len)
{
	const char	*err, *name, *route, *sp;
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
			if (check_header(k, &m, from, why, len) < 0)
				return (-1);
		}
		/* The starts: in our header, in anycastctl's relay record. */
		if ((lineno == 1 || strcmp(m.type, "relay") == 0) &&
		    (sp = ah_get(&m, "spawns")) != NULL)
			snprintf(spawns, slen, "%s", sp);
		/* The rest of the predecessor's status is for people. */
		if (lineno == 1 || strcmp(m.type, "service") != 0)
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
    uint64_t from, enum note k, int64_t now)
{
	const struct service_conf	*s = &r->conf->services[i];
	struct service_state		*st = &r->svc[i];
	char				 why[120];

	st->hard = 0;
	st->judge.up = mode == ROUTE_ANNOUNCED;
	st->taken_at = now;
	snprintf(why, sizeof(why), "relay %llu had it %s when it %s",
	    (unsigned long long)from, route_mode_name(mode), notes[k].when);
	snprintf(st->reason, sizeof(st->reason), "taken over: %s; no "
	    "verdict of this relay yet", why);
	(void)route_set(&st->route, s, mode, "taken over", why);
	if (since > 0 && since <= st->route.since)
		st->route.since = since;
}

/*
 * Note k, taken over from if it is to be believed: -1 if there is
 * none, 0 if there is one (which then decides, believed or not).
 */
static int
read_note(struct relay *r, enum note k, int64_t now)
{
	static char	 buf[HANDOVER_MAX + 1];
	enum route_mode	 modes[RELAY_SERVICES_MAX] = { 0 };
	int64_t		 since[RELAY_SERVICES_MAX] = { 0 };
	char		 path[sizeof(r->conf->control_socket) +
			    sizeof(HANDOVER_SUFFIX)], why[200], spawns[200] = "";
	const char	*name = notes[k].name;
	struct stat	 sb;
	uint64_t	 from = 0;
	ssize_t		 n;
	size_t		 i, taken = 0;
	int		 fd;

	note_path(r, k, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return (-1);
		log_warn("%s %s", name, path);
		return (0);
	}
	/*
	 * anycastctl's once: whatever it says, the next start must not read
	 * it.  Ours stays true until this relay writes its own over it.
	 */
	if (k == NOTE_RESTART && unlink(path) < 0)
		log_warn("%s %s: unlink", name, path);
	if (fstat(fd, &sb) < 0 || (n = state_read(fd, buf, sizeof(buf))) < 0) {
		log_warn("%s %s", name, path);
		close(fd);
		return (0);
	}
	close(fd);
	/* Only root, or our user, may say so. */
	if (!S_ISREG(sb.st_mode) || (sb.st_uid != 0 &&
	    sb.st_uid != geteuid())) {
		log_warnx("%s %s: not a file of root or of uid %ld: nothing "
		    "taken over", name, path, (long)geteuid());
		return (0);
	}
	if (n > HANDOVER_MAX) {
		log_warnx("%s %s: larger than %d KiB: nothing taken over",
		    name, path, HANDOVER_MAX / 1024);
		return (0);
	}
	buf[n] = '\0';
	if (parse_note(r, k, buf, modes, since, &from, spawns,
	    sizeof(spawns), why, sizeof(why)) < 0) {
		log_warnx("%s %s: %s: nothing taken over", name, path, why);
		return (0);
	}
	spawns_take(r, spawns);
	for (i = 0; i < r->conf->nservices; i++) {
		/* A drain the state file keeps outranks the note. */
		if (modes[i] == ROUTE_WITHDRAWN ||
		    r->svc[i].drain.state != DRAIN_NONE)
			continue;
		take_over(r, i, modes[i], since[i], from, k, now);
		taken++;
	}
	if (taken > 0) {
		r->taken_from = from;
		r->taken_after = notes[k].after;
	}
	log_info("replacing relay %llu%s: %zu of %zu services taken over with "
	    "their routes, the others start withdrawn",
	    (unsigned long long)from, notes[k].which, taken,
	    r->conf->nservices);
	return (0);
}

void
handover_read(struct relay *r, int64_t now)
{
	spawns_take(r, "");
	if (read_note(r, NOTE_RESTART, now) < 0)
		(void)read_note(r, NOTE_CRASH, now);
	handover_save(r);
	route_on_change(handover_save, r);
}

/* The relay's note: its header, one 'service' record per service. */
static int
write_note(int fd, const void *arg)
{
	const struct relay	*r = arg;
	const struct route	*rt;
	char			 line[AH_LINE_MAX], spawns[200];
	struct ah_enc		 e;
	size_t			 i;
	int			 n;

	handover_spawns(r, spawns, sizeof(spawns));
	ah_enc_begin(&e, line, sizeof(line), "handover");
	ah_enc_u64(&e, "version", HANDOVER_VERSION);
	ah_enc_u64(&e, "from", (uint64_t)getpid());
	ah_enc_u64(&e, "exabgp", (uint64_t)getppid());
	ah_enc_u64(&e, "exabgp_started", started_at(getppid()));
	ah_enc_i64(&e, "at", ah_real_ms());
	ah_enc_str(&e, "spawns", spawns);
	ah_enc_str(&e, "by", "relay");
	if ((n = ah_enc_end(&e)) < 0 || atomic_put(fd, line, (size_t)n) < 0)
		return (-1);
	for (i = 0; i < r->conf->nservices; i++) {
		rt = &r->svc[i].route;
		ah_enc_begin(&e, line, sizeof(line), "service");
		ah_enc_str(&e, "name", r->conf->services[i].name);
		ah_enc_str(&e, "view", r->conf->services[i].view);
		ah_enc_str(&e, "route", route_mode_name(rt->mode));
		ah_enc_i64(&e, "since", rt->since);
		if ((n = ah_enc_end(&e)) < 0 ||
		    atomic_put(fd, line, (size_t)n) < 0)
			return (-1);
	}
	return (0);
}

void
handover_save(void *arg)
{
	struct relay	*r = arg;
	char		 path[sizeof(r->conf->control_socket) +
			    sizeof(ROUTES_SUFFIX)], why[sizeof(path) + 64];

	note_path(r, NOTE_CRASH, path, sizeof(path));
	if (atomic_note(path, 0640, write_note, r, why, sizeof(why)) == 0)
		return;
	/* An old note would be believed: none makes a successor withdraw. */
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("routes note %s: unlink", path);
	log_warnx("routes note %s: should this relay die, the relay ExaBGP "
	    "starts next withdraws everything first", why);
}

void
handover_forget(const struct relay *r)
{
	char	path[sizeof(r->conf->control_socket) +
		    sizeof(ROUTES_SUFFIX)];

	note_path(r, NOTE_CRASH, path, sizeof(path));
	(void)unlink(path);
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
