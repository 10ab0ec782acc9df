/*
 * feed.c - the relay's subscription to the plugin's socket.
 *
 * The plugin publishes; the relay only reads.  Any surprise (EOF, a
 * malformed line, a protocol version we do not speak, a 'bye') closes
 * the connection and records why; the health verdict treats a closed
 * feed as "named is not serving", which is what fails the node closed.
 */
#include <config.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ahclock.h"
#include "feed.h"
#include "feed_records.h"
#include "log.h"

static int	served_by_named(const struct feed *, char *, size_t);

/* named's user as a uid; (uid_t)-1 if this system has no such user. */
static void
set_user(struct feed *f, const char *user)
{
	const struct passwd	*pw;
	char			*end;
	unsigned long		 u;

	f->user = user;
	f->named_uid = (uid_t)-1;
	if ((pw = getpwnam(user)) != NULL)
		f->named_uid = pw->pw_uid;
	else if (user[0] >= '0' && user[0] <= '9' &&
	    (u = strtoul(user, &end, 10), *end == '\0'))
		f->named_uid = (uid_t)u;
}

void
feed_init(struct feed *f, const struct relay_conf *rc)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = rc->plugin_socket;
	set_user(f, rc->plugin_user);
	f->reconnect_ms = rc->reconnect_ms;
	f->stale_ms = f->conf_stale_ms = rc->stale_ms;
	f->since = ah_real_ms();
	snprintf(f->error, sizeof(f->error), "not connected yet");
}

int
feed_reconfigure(struct feed *f, const struct relay_conf *rc, int64_t now)
{
	int	moved = strcmp(f->path, rc->plugin_socket) != 0;
	char	why[sizeof(f->error)];

	f->reconnect_ms = rc->reconnect_ms;
	f->conf_stale_ms = rc->stale_ms;
	set_user(f, rc->plugin_user);
	if (f->interval_ms > 0)
		feed_set_stale(f);
	else
		f->stale_ms = rc->stale_ms;
	if (moved) {
		feed_close(f, now, "the plugin socket changed (reload)");
		f->next_attempt = now;
	} else if (f->fd >= 0 && !served_by_named(f, why, sizeof(why)))
		feed_close(f, now, why);	/* plugin.user changed */
	f->path = rc->plugin_socket;
	return (moved);
}

void
feed_close(struct feed *f, int64_t now, const char *why)
{
	/* A plugin that keeps refusing us is logged once, not 5/s. */
	f->repeating = strcmp(why, f->error) == 0;
	if (f->fd >= 0) {
		close(f->fd);
		if (!f->repeating)
			log_warnx("plugin feed %s closed: %s", f->path, why);
	}
	f->fd = -1;
	f->state = FEED_DOWN;
	f->last_tick = f->reconfig_at = 0;
	f->nviews = f->npending = f->nrecords = 0;
	f->zones.n = f->pzones.n = 0;
	f->next_attempt = now + f->reconnect_ms;
	f->since = ah_real_ms();
	snprintf(f->error, sizeof(f->error), "%s", why);
}

/*
 * Whoever can bind in the socket's directory could serve it and say
 * "healthy": the snapshots count only from a socket named made, that
 * is, one whose server (SO_PEERCRED: who called listen()) runs as
 * named's user or as root.  Its pid is not compared with the hello's:
 * in another PID namespace the two differ for named itself.
 */
static int
served_by_named(const struct feed *f, char *why, size_t len)
{
	struct ucred		 cred;
	socklen_t		 n = sizeof(cred);
	const struct passwd	*pw;
	char			 who[80];

	if (getsockopt(f->fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) < 0) {
		snprintf(why, len, "cannot tell who serves %s: %s", f->path,
		    strerror(errno));
		return (0);
	}
	if (cred.uid == 0 || cred.uid == f->named_uid)
		return (1);
	if ((pw = getpwuid(cred.uid)) != NULL)
		snprintf(who, sizeof(who), "uid %u (%s)", (unsigned)cred.uid,
		    pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)cred.uid);
	snprintf(why, len, "%s is served by %s, pid %d, not by named's user "
	    "%s%s or root (plugin.user)", f->path, who,
	    (int)cred.pid, f->user, f->named_uid == (uid_t)-1 ?
	    " (no such user here)" : "");
	return (0);
}

/*
 * Connecting never blocks: with the plugin's listen queue full, a
 * blocking connect() would hold up the whole relay (its acks to
 * ExaBGP, its control socket) until named accepts.
 */
static void
feed_connect(struct feed *f, int64_t now)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	char			why[sizeof(f->error)];
	int			fd;

	f->next_attempt = now + f->reconnect_ms;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_warn("socket");
		return;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EAGAIN)
			snprintf(why, sizeof(why), "connect %s: the plugin's "
			    "listen queue is full (named not accepting?)",
			    f->path);
		else
			snprintf(why, sizeof(why), "connect %s: %s", f->path,
			    strerror(errno));
		/* Log the first failure of a run, not every retry. */
		if (strcmp(why, f->error) != 0)
			log_warnx("%s (retrying every %ums)", why,
			    f->reconnect_ms);
		snprintf(f->error, sizeof(f->error), "%s", why);
		/* named was away: its coming back is news. */
		f->repeating = 0;
		close(fd);
		return;
	}
	f->fd = fd;
	f->state = FEED_HELLO;
	f->hello_by = now + FEED_HELLO_MS;
	ah_lines_init(&f->in);
	if (!f->repeating)
		log_info("connected to plugin socket %s", f->path);
	if (!served_by_named(f, why, sizeof(why)))
		feed_close(f, now, why);
}

int
feed_poll_fd(struct feed *f, int64_t now)
{
	char why[64];

	if (f->state == FEED_HELLO && now >= f->hello_by) {
		snprintf(why, sizeof(why), "no hello from the plugin within "
		    "%d ms", FEED_HELLO_MS);
		feed_close(f, now, why);
	}
	if (f->fd < 0 && now >= f->next_attempt)
		feed_connect(f, now);
	return (f->fd);
}

const struct feed_view *
feed_view(const struct feed *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nviews; i++)
		if (strcmp(f->views[i].name, name) == 0)
			return (&f->views[i]);
	return (NULL);
}

const struct feed_zone *
feed_zone(const struct feed *f, const char *view, const char *zone)
{
	size_t i;

	for (i = 0; i < f->zones.n; i++)
		if (strcmp(f->zones.z[i].name, zone) == 0 &&
		    strcmp(f->zones.z[i].view, view) == 0)
			return (&f->zones.z[i]);
	return (NULL);
}

int
feed_read(struct feed *f, int64_t now)
{
	size_t		 room;
	ssize_t		 r;
	char		 why[160], *space;

	space = ah_lines_space(&f->in, &room);
	r = read(f->fd, space, room);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (r <= 0) {
		snprintf(why, sizeof(why), "%s",
		    r == 0 ? "named closed the socket (named stopped?)" :
		    strerror(errno));
		feed_close(f, now, why);
		return (-1);
	}
	ah_lines_fill(&f->in, (size_t)r);
	return ((int)r);
}

int
feed_next(struct feed *f, int64_t now)
{
	const char	*line;
	size_t		 n;
	char		 why[160];
	int		 rc;

	if (f->fd < 0)
		return (0);
	while ((rc = ah_lines_next(&f->in, &line, &n)) == 1) {
		switch (feed_record(f, line, n, now, why, sizeof(why))) {
		case -1:
			feed_close(f, now, why);
			return (0);
		case 1:
			/* Each snapshot is judged on its own. */
			return (1);
		}
	}
	if (rc < 0)
		feed_close(f, now, "line from plugin longer than the limit");
	return (0);
}
