/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl.c - anycastctl: ask a running anycast-relay how things stand.
 *
 * One request per connection (doc/protocol.md, section 3): send the
 * command, read records until 'done', hand them to the output chosen
 * (people, or JSON with -j), and exit with a status scripts can rely
 * on (ctl.h, doc/cli.md).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "ahtext.h"
#include "ctl.h"
#include "handover.h"
#include "parse.h"

/*
 * A relay answers within milliseconds; one that has not within this,
 * connected or not (a stopped relay's queue fills), is stopped or
 * wedged: not reachable, rather than a script or a shell's completion
 * waiting for ever.
 */
#define ANSWER_MS	10000
/* What a relay that died as it was asked (ExaBGP respawning it) left. */
#define GONE_BEFORE_ANSWERING \
	"relay closed the connection before answering"

const struct parse_result *command;
const char		*file_path, *file_errors;

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: anycastctl [-j] [-c CONFIG | -s SOCKET] "
	    "COMMAND [ARG]\n"
	    "       anycastctl -V | -h\n"
	    "anycastctl --help explains the options and the commands.\n");
	exit(EXIT_ERROR);
}

/* EXIT_OK if all printed reached stdout; else says so. */
static int
flushed(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("anycastctl: stdout");
		return (EXIT_ERROR);
	}
	return (EXIT_OK);
}

static __attribute__((noreturn)) void
help(void)
{
	printf("usage: anycastctl [-j] [-c CONFIG | -s SOCKET] COMMAND [ARG]\n"
	    "       anycastctl -V | -h\n"
	    "\n"
	    "Asks a running anycast-relay how things stand, over its control "
	    "socket.\n"
	    "\n"
	    "options:\n"
	    "  -j, --json              print the reply as one JSON object "
	    "(and an error\n"
	    "                          on stderr too)\n"
	    "  -c, --config CONFIG     take the control socket from the "
	    "relay's YAML file;\n"
	    "                          the whole file is checked, as by "
	    "anycast-relay --check\n"
	    "  -s, --socket SOCKET     use this control socket (default "
	    "%s)\n"
	    "  -V, --version           print the version and exit\n"
	    "  -h, --help              print this help and exit\n"
	    "\n", AH_DEFAULT_CONTROL_SOCKET);
	parse_usage(stdout);
	printf("\n"
	    "drain, undrain, release and reload are for root and the members "
	    "of the relay's\n"
	    "control.admin-group; the rest for whoever may connect to the "
	    "socket.\n"
	    "\n"
	    "exit status: 0 done (status: every prefix announced), 1 error, "
	    "2 status: a\n"
	    "prefix not announced, 3 the relay not reachable (or no answer "
	    "within 10 s),\n"
	    "4 permission denied, 5 drain --wait: withdrawn at the timeout, "
	    "6 status: the\n"
	    "relay's configuration file rejected.  See anycastctl(1).\n");
	exit(flushed());
}

const char *
reply_get(const struct ah_msg *m, const char *key)
{
	const char *v = ah_get(m, key);

	return (v != NULL ? v : "");
}

static __attribute__((noreturn)) void
no_answer(const char *path, const struct output *out)
{
	char	msg[256];

	snprintf(msg, sizeof(msg), "the relay at %s did not answer within "
	    "%d s (is it stopped, or wedged?)", path, ANSWER_MS / 1000);
	out->error("norelay", msg, NULL);
	exit(EXIT_NORELAY);
}

/* With 'quiet', -1 when no relay takes the connection. */
static int
connect_relay(const char *path, const struct output *out, int quiet)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	struct timeval		tv = { .tv_sec = ANSWER_MS / 1000 };
	struct stat		sb;
	char			msg[256];
	int			fd, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(msg, sizeof(msg), "socket path too long: %s", path);
		out->error("usage", msg, NULL);
		exit(EXIT_ERROR);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(msg, sizeof(msg), "socket: %s", strerror(errno));
		out->error("internal", msg, NULL);
		exit(EXIT_ERROR);
	}
	/* A full queue makes connect() wait: as long as for the answer. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(msg, sizeof(msg), "SO_SNDTIMEO: %s", strerror(errno));
		out->error("internal", msg, NULL);
		exit(EXIT_ERROR);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EAGAIN && !quiet)
			no_answer(path, out);
		if (quiet && errno != EACCES && errno != EPERM) {
			close(fd);
			return (-1);
		}
		if (errno == EACCES || errno == EPERM) {
			snprintf(msg, sizeof(msg), "permission denied on %s "
			    "(control.mode and control.group decide who may "
			    "connect)", path);
			out->error("denied", msg, NULL);
			exit(EXIT_DENIED);
		}
		/*
		 * A path that is no stream socket names no relay: a mistake
		 * of -s or control.socket, not a relay that is down.
		 */
		e = errno;
		if ((e == ECONNREFUSED || e == EPROTOTYPE) &&
		    stat(path, &sb) == 0 && (!S_ISSOCK(sb.st_mode) ||
		    e == EPROTOTYPE)) {
			snprintf(msg, sizeof(msg), "%s is not a relay's control "
			    "socket: %s", path, S_ISSOCK(sb.st_mode) ?
			    "a datagram socket" : S_ISDIR(sb.st_mode) ?
			    "a directory" : "not a socket");
			out->error("usage", msg, NULL);
			exit(EXIT_ERROR);
		}
		snprintf(msg, sizeof(msg), "cannot reach the relay at %s: %s "
		    "(is anycast-relay running?)", path, strerror(e));
		out->error("norelay", msg, NULL);
		exit(EXIT_NORELAY);
	}
	return (fd);
}

/*
 * A record as the output will show it: a copy whose field pointers
 * point into its own storage, and for people (out->escape) with every
 * value made visible.  The Prometheus exposition keeps its backslashes
 * and its UTF-8 (the relay makes label values well-formed): they are
 * its own escapes and encoding.
 */
static struct ah_msg *
keep(const struct ah_msg *m, const struct output *out)
{
	char		 vis[4 * AH_LINE_MAX], *q;
	struct ah_msg	*p;
	size_t		 i, len, room = 0;
	int		 flags;

	flags = command != NULL && command->action == METRICS &&
	    strcmp(m->type, "line") == 0 ? AH_VIS_KEEPBS | AH_VIS_UTF8 : 0;
	for (i = 0; out->escape && i < m->nfields; i++)
		room += ah_vis(vis, sizeof(vis), m->f[i].val, flags) + 1;
	if ((p = malloc(sizeof(*p) + room)) == NULL) {
		perror("anycastctl");
		exit(EXIT_ERROR);
	}
	memcpy(p, m, sizeof(*p));
	p->type = p->buf + (m->type - m->buf);
	q = (char *)(p + 1);
	for (i = 0; i < m->nfields; i++) {
		p->f[i].key = p->buf + (m->f[i].key - m->buf);
		p->f[i].val = p->buf + (m->f[i].val - m->buf);
		if (!out->escape)
			continue;
		len = ah_vis(q, room, m->f[i].val, flags) + 1;
		p->f[i].val = q;
		q += len;
		room -= len;
	}
	return (p);
}

static void
add(struct reply *r, struct ah_msg *p)
{
	struct ah_msg **pp;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		if ((pp = reallocarray(r->m, r->cap, sizeof(*pp))) == NULL) {
			perror("anycastctl");
			exit(EXIT_ERROR);
		}
		r->m = pp;
	}
	r->m[r->n++] = p;
}

/* The reply up to 'done', by 'deadline' (monotonic ms); its exit status. */
static int
read_reply(int fd, struct reply *r, const struct output *out,
    const char *path, int64_t deadline)
{
	static struct ah_lines	 in;
	struct pollfd		 pfd = { .fd = fd, .events = POLLIN };
	struct ah_msg		 m, *p;
	const char		*line, *err, *code;
	char			*space, msg[512];
	size_t			 room, n, got = 0;
	ssize_t			 k;
	int64_t			 left;
	int			 rc;

	ah_lines_init(&in);
	for (;;) {
		/* What came by the deadline is read, however late. */
		if ((left = deadline - ah_mono_ms()) < 0)
			left = 0;
		if ((rc = poll(&pfd, 1, (int)left)) == 0)
			no_answer(path, out);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "poll: %s", strerror(errno));
			out->error("internal", msg, NULL);
			return (EXIT_ERROR);
		}
		space = ah_lines_space(&in, &room);
		if ((k = read(fd, space, room)) <= 0) {
			out->error("internal", got == 0 ?
			    GONE_BEFORE_ANSWERING : "relay closed the "
			    "connection in the middle of its reply", NULL);
			return (EXIT_ERROR);
		}
		/* The relay's records and its 'done': no relay sends more. */
		if ((got += (size_t)k) > AH_REPLY_MAX + AH_LINE_MAX) {
			out->error("internal", "reply longer than a relay's "
			    "(" AH_REPLY_MAX_TEXT "): not a relay", NULL);
			return (EXIT_ERROR);
		}
		ah_lines_fill(&in, (size_t)k);
		while ((rc = ah_lines_next(&in, &line, &n)) == 1) {
			if (ah_decode(&m, line, n, &err) < 0) {
				snprintf(msg, sizeof(msg), "bad reply from "
				    "relay: %s", err);
				out->error("internal", msg, NULL);
				return (EXIT_ERROR);
			}
			p = keep(&m, out);
			if (strcmp(p->type, "done") != 0) {
				add(r, p);
				continue;
			}
			if (strcmp(reply_get(p, "status"), "ok") == 0) {
				free(p);
				return (EXIT_OK);
			}
			/* The code is a word of ours: as it came. */
			code = reply_get(&m, "code");
			snprintf(msg, sizeof(msg), "relay: %s",
			    reply_get(p, "msg"));
			free(p);
			out->error(*code != '\0' ? code : "error", msg, r);
			return (strcmp(code, "denied") == 0 ? EXIT_DENIED :
			    EXIT_ERROR);
		}
		if (rc < 0) {
			out->error("internal", "reply line too long", NULL);
			return (EXIT_ERROR);
		}
	}
}

static void
reply_free(struct reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->m[i]);
	free(r->m);
	memset(r, 0, sizeof(*r));
}

const struct ah_msg *
reply_find(const struct reply *r, const char *type, const char *service)
{
	const char	*key = strcmp(type, "service") == 0 ? "name" :
			    "service";
	size_t		 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, type) == 0 &&
		    strcmp(reply_get(r->m[i], key), service) == 0)
			return (r->m[i]);
	return (NULL);
}

/*
 * One request on a new connection, its reply in 'reply'; the exit
 * status.  'peer', if not NULL, gets the pid at the other end of the
 * socket.  With 'quiet', a relay that cannot be reached is EXIT_NORELAY
 * and nothing printed; otherwise anycastctl has exited.
 */
static int
ask(const char *sock, const struct parse_result *res, const char *request,
    struct reply *reply, const struct output *out, pid_t *peer, int quiet)
{
	char		req[AH_LINE_MAX], msg[256];
	struct ah_enc	e;
	struct ucred	cred;
	socklen_t	credlen = sizeof(cred);
	ssize_t		n;
	int64_t		deadline = ah_mono_ms() + ANSWER_MS;
	int		fd, len, status;

	ah_enc_begin(&e, req, sizeof(req), request);
	ah_enc_u64(&e, "proto", AH_PROTO_VERSION);
	if (res->arg != NULL)
		ah_enc_str(&e, res->argkey, res->arg);
	if (res->timeout_ms >= 0)
		ah_enc_u64(&e, "timeout", (uint64_t)res->timeout_ms);
	if ((len = ah_enc_end(&e)) < 0) {
		out->error("usage", "argument too long", NULL);
		return (EXIT_ERROR);
	}
	if ((fd = connect_relay(sock, out, quiet)) < 0)
		return (EXIT_NORELAY);
	if (peer != NULL) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &credlen) < 0) {
			out->error("internal", "SO_PEERCRED on the control "
			    "socket", NULL);
			close(fd);
			return (EXIT_ERROR);
		}
		*peer = cred.pid;
	}
	/*
	 * A relay killed as we connected (ExaBGP respawning it) has closed
	 * the connection: an error to report, not a SIGPIPE to die of.
	 */
	if ((n = send(fd, req, (size_t)len, MSG_NOSIGNAL)) != len) {
		/* SO_SNDTIMEO: a relay that reads nothing. */
		if (n < 0 && errno == EAGAIN)
			no_answer(sock, out);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			out->error("internal", GONE_BEFORE_ANSWERING, NULL);
		else {
			snprintf(msg, sizeof(msg), "cannot send the request: "
			    "%s", n < 0 ? strerror(errno) : "short write");
			out->error("internal", msg, NULL);
		}
		close(fd);
		return (EXIT_ERROR);
	}
	status = read_reply(fd, reply, out, sock, deadline);
	close(fd);
	return (status);
}

#define WAIT_POLL_MS	500
/* Past the relay's own deadline: it withdraws at once then. */
#define WAIT_SLACK_MS	10000

/*
 * drain --wait: ask for the status until every service the drain
 * reply named is drained, printing progress every second.  The relay
 * runs the drain; this only watches it.  *reply becomes the last
 * status.  Exit status: 0 drained, EXIT_TIMEOUT if any was withdrawn
 * at its timeout, 1 if a drain was undone or outlived its deadline.
 */
static int
wait_drained(const char *sock, const struct parse_result *res,
    struct reply *reply, const struct output *out)
{
	struct parse_result	 status = { .request = "status",
				    .timeout_ms = -1 };
	struct reply		 now = { 0 };
	const struct ah_msg	*svc, *d;
	char			 names[64][AH_NAME_LEN], msg[256];
	size_t			 i, n = 0, left;
	int64_t			 deadline = 0, t;
	int			 rc, tick = 0, timedout = 0;

	for (i = 0; i < reply->n && n < 64; i++)
		if (strcmp(reply->m[i]->type, "service") == 0)
			snprintf(names[n++], sizeof(names[0]), "%s",
			    reply_get(reply->m[i], "name"));
	for (i = 0; i < reply->n; i++)
		if (strcmp(reply->m[i]->type, "drain") == 0 &&
		    (t = strtoll(reply_get(reply->m[i], "deadline"), NULL,
		    10)) > deadline)
			deadline = t;
	for (;;) {
		for (left = 0, i = 0; i < n; i++) {
			d = reply_find(reply, "drain", names[i]);
			if (d == NULL) {
				snprintf(msg, sizeof(msg), "the drain of %.63s "
				    "was undone (undrain?)", names[i]);
				out->error("error", msg, NULL);
				return (EXIT_ERROR);
			}
			if (strcmp(reply_get(d, "state"), "drained") == 0) {
				timedout |= strcmp(reply_get(d, "end"),
				    "timeout") == 0;
				continue;
			}
			left++;
			if (tick % (1000 / WAIT_POLL_MS) == 0 &&
			    (svc = reply_find(reply, "service", names[i])) !=
			    NULL)
				out->progress(svc, d);
		}
		if (left == 0)
			return (timedout ? EXIT_TIMEOUT : EXIT_OK);
		if (ah_real_ms() > deadline + WAIT_SLACK_MS) {
			out->error("error", "the relay did not end the drain "
			    "by its deadline", NULL);
			return (EXIT_ERROR);
		}
		fflush(stdout);
		usleep(WAIT_POLL_MS * 1000);
		tick++;
		if ((rc = ask(sock, &status, "status", &now, out, NULL,
		    0)) != EXIT_OK)
			return (rc);
		reply_free(reply);
		*reply = now;
		memset(&now, 0, sizeof(now));
	}
}

#define RESTART_WAIT_MS	10000
#define RESTART_POLL_MS	50
/* ... and for its first answers from ExaBGP, a few ms when all is well. */
#define RESTART_SETTLE_MS	2000

/*
 * A relay just started knows its routes' fate only once ExaBGP has
 * answered its commands and told it the sessions: until then its
 * prefixes read 'waiting' or 'session-down', which is not news.
 */
static int
settling(const struct reply *r)
{
	const char	*st;
	size_t		 i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->m[i]->type, "prefix") != 0)
			continue;
		st = reply_get(r->m[i], "state");
		if (strcmp(st, "waiting") == 0 ||
		    strcmp(st, "session-down") == 0)
			return (1);
	}
	return (0);
}

/*
 * How many relays ExaBGP started within SPAWN_WINDOW_MS before the
 * relay's 'now', by the 'spawns' its status lists (handover.h).
 */
static int
spawns_recent(const struct reply *r, int64_t *oldest, int64_t *now)
{
	int64_t		 t[SPAWNS_MAX];
	const char	*list = "";
	size_t		 i, n;

	*oldest = *now = 0;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "relay") == 0) {
			list = reply_get(r->m[i], "spawns");
			*now = strtoll(reply_get(r->m[i], "now"), NULL, 10);
		}
	n = ah_times_within(list, *now, SPAWN_WINDOW_MS, t, SPAWNS_MAX);
	if (n > 0)
		*oldest = t[0];
	return ((int)n);
}

static const char *
version_of(const struct reply *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "relay") == 0)
			return (reply_get(r->m[i], "version"));
	return ("?");
}

/*
 * restart (doc/cli.md, section 2.6): the relay's status into the
 * handover note, the relay stopped with SIGKILL, which withdraws
 * nothing (SIGTERM would withdraw everything), and ExaBGP left to start
 * the installed binary, which takes the routes over.  Only 'status' is
 * asked of the old relay, so a relay of any version can be replaced
 * so, the one a package upgrade replaces among them.  *reply becomes
 * the new relay's status.
 */
static int
restart(const char *sock, struct reply *reply, const struct output *out)
{
	struct parse_result	 status = { .request = "status",
				    .timeout_ms = -1 };
	struct reply		 old = { 0 };
	char			 note[AH_PATH_MAX + sizeof(HANDOVER_SUFFIX)];
	char			 cmd[256], msg[600], why[300];
	pid_t			 pid, exabgp, peer = 0;
	int64_t			 deadline, settle = 0, oldest, at;
	int			 rc, taken, denied, spawns;

	if ((rc = ask(sock, &status, "status", &old, out, &pid, 0)) !=
	    EXIT_OK) {
		reply_free(&old);
		return (rc);
	}
	/* A sixth start within 64 s would make ExaBGP drop every session. */
	if ((spawns = spawns_recent(&old, &oldest, &at)) >= SPAWN_LIMIT) {
		snprintf(msg, sizeof(msg), "ExaBGP has started the relay %d "
		    "times within %d s, and stops, dropping every BGP session "
		    "of the node, when it starts a process a %dth time within "
		    "that: nothing restarted; try again in %lld s", spawns,
		    SPAWN_WINDOW_MS / 1000, SPAWN_LIMIT + 1,
		    (long long)((oldest + SPAWN_WINDOW_MS - at) / 1000 + 1));
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	/*
	 * Gone since it answered, or in a PID namespace of its own (its
	 * pid 0 or another's here): nothing to signal.
	 */
	exabgp = pid > 0 ? relay_parent_of(pid, cmd, sizeof(cmd)) : -1;
	if (exabgp < 0) {
		snprintf(msg, sizeof(msg), "cannot see the relay (pid %ld) "
		    "in /proc: it has just exited, or runs in another PID "
		    "namespace: nothing restarted", (long)pid);
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	/* ExaBGP must be there to start the next one. */
	if (exabgp <= 1 || strstr(cmd, "exabgp") == NULL) {
		snprintf(msg, sizeof(msg), "the relay (pid %ld) is not "
		    "ExaBGP's process (its parent: pid %ld, '%.100s'): nothing "
		    "would start a new one; restart it the way it was started",
		    (long)pid, (long)exabgp, cmd);
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	if (kill(pid, 0) < 0) {
		denied = errno == EPERM;
		snprintf(msg, sizeof(msg), "cannot signal the relay (pid "
		    "%ld): %s: restart is for root", (long)pid,
		    strerror(errno));
		out->error(denied ? "denied" : "error", msg, NULL);
		reply_free(&old);
		return (denied ? EXIT_DENIED : EXIT_ERROR);
	}
	snprintf(note, sizeof(note), "%s%s", sock, HANDOVER_SUFFIX);
	if (handover_note_write(note, pid, exabgp, old.m, old.n, why,
	    sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "handover note %s: nothing "
		    "restarted", why);
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	if (kill(pid, SIGKILL) < 0) {
		snprintf(msg, sizeof(msg), "kill %ld: %s", (long)pid,
		    strerror(errno));
		out->error("error", msg, NULL);
		(void)unlink(note);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	deadline = ah_mono_ms() + RESTART_WAIT_MS;
	for (;;) {
		usleep(RESTART_POLL_MS * 1000);
		rc = ask(sock, &status, "status", reply, out, &peer, 1);
		if (rc == EXIT_OK && peer != pid) {
			if (settle == 0)
				settle = ah_mono_ms() + RESTART_SETTLE_MS;
			if (!settling(reply) || ah_mono_ms() > settle)
				break;
			reply_free(reply);
			continue;
		}
		reply_free(reply);
		if (rc != EXIT_OK && rc != EXIT_NORELAY) {
			reply_free(&old);
			return (rc);
		}
		if (ah_mono_ms() > deadline) {
			snprintf(msg, sizeof(msg), "no new relay answered on "
			    "%s within %d s after pid %ld was stopped: ExaBGP "
			    "(pid %ld) did not start one (its log says why). "
			    "Its routes stay announced with nobody judging "
			    "them: restart ExaBGP", sock,
			    RESTART_WAIT_MS / 1000, (long)pid, (long)exabgp);
			out->error("error", msg, NULL);
			(void)unlink(note);
			reply_free(&old);
			return (EXIT_ERROR);
		}
	}
	/* The new relay reads the note before it opens its socket. */
	taken = access(note, F_OK) < 0;
	if (!taken)
		(void)unlink(note);
	if (out == &show_output)
		printf("relay %ld (anycast-relay %s) replaced by %ld "
		    "(anycast-relay %s), %s\n\n", (long)pid, version_of(&old),
		    (long)peer, version_of(reply), taken ? "which took its "
		    "routes over" : "which did not read the handover note: "
		    "it started withdrawn");
	reply_free(&old);
	return (EXIT_OK);
}

/*
 * status: 2 when any prefix is not announced as configured; else 6 when
 * the configuration file is rejected, as the relay last read it or as
 * -c reads it now.
 */
static int
status_exit(const struct reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "prefix") == 0 &&
		    strcmp(reply_get(r->m[i], "state"), "announced") != 0)
			return (EXIT_WITHDRAWN);
	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "relay") == 0 &&
		    strcmp(reply_get(r->m[i], "config_ok"), "0") == 0)
			return (EXIT_CONFIG);
	return (file_errors != NULL ? EXIT_CONFIG : EXIT_OK);
}

/*
 * -c CONFIG: the control socket from the file.  A file that is there
 * but rejected is still read for control.socket as far as it goes, so
 * that a broken file does not hide the relay still running: its
 * errors are printed (but for a reload, whose reply has them), and
 * kept for the output.
 */
static void
socket_of(const char *path, char *sock, size_t len, int reload,
    const char *changes, const struct output *out)
{
	static char		*errors;
	struct relay_conf	*rc;
	char			 msg[1024];
	size_t			 n;
	FILE			*f;

	if ((f = open_memstream(&errors, &n)) == NULL) {
		perror("anycastctl");
		exit(EXIT_ERROR);
	}
	rc = conf_load(path, f);
	fclose(f);
	if (rc == NULL) {
		/* Nothing to go on: no file, a directory, an endless one. */
		if (conf_readable(path) < 0) {
			snprintf(msg, sizeof(msg), "%.400s: %s", path,
			    conf_read_error(errno));
			out->error("config", msg, NULL);
			exit(EXIT_ERROR);
		}
		if ((rc = conf_fallback(path)) == NULL) {
			perror("anycastctl");
			exit(EXIT_ERROR);
		}
		if (!reload)
			fputs(errors, stderr);
		/*
		 * The default socket is a guess: it may be another relay's
		 * (two on one host, doc/config.md).  Good enough to ask,
		 * not to change anything there.
		 */
		if (changes && !rc->control_socket_read) {
			snprintf(msg, sizeof(msg), "%.400s: configuration "
			    "rejected, and its control.socket cannot be read: "
			    "not sending '%s' to the default socket %s, which "
			    "may be another relay's; name it with -s", path,
			    changes, rc->control_socket);
			conf_free(rc);
			out->error("config", msg, NULL);
			exit(EXIT_ERROR);
		}
		fprintf(stderr, "anycastctl: %s: configuration rejected; "
		    "asking the relay on %s, as far as the file reads\n", path,
		    rc->control_socket);
		file_path = path;
		file_errors = errors;
	} else
		free(errors);
	snprintf(sock, len, "%s", rc->control_socket);
	conf_free(rc);
}

/* The command's name if it changes what the relay does, else NULL. */
static const char *
changing(enum action a)
{
	switch (a) {
	case DRAIN:
		return ("drain");
	case UNDRAIN:
		return ("undrain");
	case RELEASE:
		return ("release");
	case RESTART:
		return ("restart");
	default:
		return (NULL);
	}
}

/* Prints a reply; returns the exit status. */
static int
show(enum action action, const struct reply *reply, const struct output *out)
{
	int status = EXIT_OK;

	switch (action) {
	case STATUS:
		out->status(reply);
		status = status_exit(reply);
		break;
	case SHOW_COUNTERS:
		out->counters(reply);
		break;
	case SHOW_ZONES:
		out->zones(reply);
		break;
	case SHOW_CHECKS:
		out->checks(reply);
		break;
	case SHOW_HISTORY:
		out->history(reply);
		break;
	case METRICS:
		out->metrics(reply);
		break;
	case DRAIN:
	case UNDRAIN:
	case RELEASE:
		out->change(reply);
		break;
	case RELOAD:
		out->reload(reply);
		break;
	default:
		break;
	}
	out->tail();
	return (flushed() != EXIT_OK ? EXIT_ERROR : status);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char		 sockbuf[AH_PATH_MAX];
	const struct output	*out = &show_output;
	struct parse_result	 res;
	struct reply		 reply = { 0 };
	const char		*sock = NULL, *conf = NULL;
	int			 ch, status, waited = EXIT_OK;

	/* '+': options end at the command, so a view may start with '-'. */
	while ((ch = getopt_long(argc, argv, "+jc:s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			out = &json_output;
			break;
		case 'c':
			conf = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("anycastctl %s (protocol %d)\n", PACKAGE_VERSION,
			    AH_PROTO_VERSION);
			return (flushed());
		case 'h':
			help();
		default:
			/* getopt has said which, on stderr. */
			if (out == &json_output)
				out->error("usage", "an unknown option, or one "
				    "without its argument", NULL);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		if (out == &json_output)
			out->error("usage", "no command", NULL);
		usage();
	}
	/* With -j, the errors found here are JSON errors too. */
	if (parse(argc, argv, &res) < 0) {
		out->error("usage", res.error, NULL);
		parse_valid(&res, stderr);
		return (EXIT_ERROR);
	}
	command = &res;
	if (conf != NULL && sock != NULL) {
		out->error("usage", "-c and -s are exclusive", NULL);
		return (EXIT_ERROR);
	}
	/* The abstract socket of no name: anyone's, never a relay's. */
	if (sock != NULL && *sock == '\0') {
		out->error("usage", "-s: an empty socket path names no "
		    "socket", NULL);
		return (EXIT_ERROR);
	}
	if (conf != NULL) {
		socket_of(conf, sockbuf, sizeof(sockbuf),
		    res.action == RELOAD, changing(res.action), out);
		sock = sockbuf;
	}
	if (sock == NULL)
		sock = AH_DEFAULT_CONTROL_SOCKET;

	if (res.action == RESTART) {
		status = restart(sock, &reply, out);
		/* Then the new relay's status, as 'status' prints it. */
		res.action = STATUS;
	} else
		status = ask(sock, &res, res.request, &reply, out, NULL, 0);
	if (status == EXIT_OK && res.wait) {
		waited = wait_drained(sock, &res, &reply, out);
		if (waited != EXIT_OK && waited != EXIT_TIMEOUT)
			status = waited;
	}
	if (status == EXIT_OK)
		status = show(res.action, &reply, out);
	reply_free(&reply);
	return (status == EXIT_OK ? waited : status);
}
