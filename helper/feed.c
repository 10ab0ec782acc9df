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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "relay.h"

void
feed_init(struct feed *f, const struct relay_conf *rc)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = rc->plugin_socket;
	f->reconnect_ms = rc->reconnect_ms;
	f->stale_ms = f->conf_stale_ms = rc->stale_ms;
	f->since = real_ms();
	snprintf(f->error, sizeof(f->error), "not connected yet");
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
	f->last_tick = 0;
	f->nviews = f->npending = f->nrecords = 0;
	f->zones.n = f->pzones.n = 0;
	f->next_attempt = now + f->reconnect_ms;
	f->since = real_ms();
	snprintf(f->error, sizeof(f->error), "%s", why);
}

static void
feed_connect(struct feed *f, int64_t now)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd;

	f->next_attempt = now + f->reconnect_ms;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("socket");
		return;
	}
	/* A local connect completes or fails at once; no need to wait. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		char why[160];

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
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	f->fd = fd;
	f->state = FEED_HELLO;
	ah_lines_init(&f->in);
	if (!f->repeating)
		log_info("connected to plugin socket %s", f->path);
}

int
feed_poll_fd(struct feed *f, int64_t now)
{
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
feed_counter(const struct feed_view *v, const char *key, uint64_t *out)
{
	size_t i;

	for (i = 0; i < v->ncounters; i++)
		if (strcmp(v->key[i], key) == 0) {
			*out = v->val[i];
			return (0);
		}
	return (-1);
}

/*
 * Protocol 1 publishes no sample names; the plugin branch's protocol 2
 * does, and replaces this (merge note: take that version).
 */
const char *
feed_domain(const struct feed_view *v, int bucket)
{
	(void)v;
	(void)bucket;
	return (NULL);
}

static int
on_hello(struct feed *f, const struct ah_msg *m, char *why, size_t len)
{
	uint64_t	 proto;
	const char	*v;

	if (ah_get_u64(m, "proto", &proto) < 0) {
		snprintf(why, len, "hello without a protocol version");
		return (-1);
	}
	if (proto != AH_PROTO_VERSION) {
		snprintf(why, len, "plugin speaks protocol %llu, this relay %d:"
		    " upgrade the older of the two",
		    (unsigned long long)proto, AH_PROTO_VERSION);
		return (-1);
	}
	if (ah_get_u64(m, "pid", &f->named_pid) < 0 ||
	    ah_get_u64(m, "interval", &f->interval_ms) < 0 ||
	    f->interval_ms == 0) {
		snprintf(why, len, "hello lacks pid or interval");
		return (-1);
	}
	v = ah_get(m, "named");
	snprintf(f->named_version, sizeof(f->named_version), "%s",
	    v != NULL ? v : "unknown");
	/*
	 * A snapshot is due every interval; judging staleness on less than
	 * two of them would withdraw a healthy node on ordinary jitter.
	 */
	f->stale_ms = f->conf_stale_ms;
	if (f->interval_ms <= 600000 && f->stale_ms < 2 * f->interval_ms) {
		f->stale_ms = (unsigned int)(2 * f->interval_ms);
		log_warnx("stale-after %u ms is less than two plugin intervals "
		    "(%llu ms each): using %u ms", f->conf_stale_ms,
		    (unsigned long long)f->interval_ms, f->stale_ms);
	}
	f->state = FEED_UP;
	f->since = real_ms();
	log_info("plugin hello: named %s pid %llu, snapshot every %llums",
	    f->named_version, (unsigned long long)f->named_pid,
	    (unsigned long long)f->interval_ms);
	return (0);
}

static int
on_view(struct feed *f, const struct ah_msg *m, char *why, size_t len)
{
	struct feed_view	*v;
	const char		*name = ah_get(m, "name");
	uint64_t		 seq;
	size_t			 i;

	if (name == NULL || ah_get_u64(m, "seq", &seq) < 0) {
		snprintf(why, len, "view record without name or seq");
		return (-1);
	}
	if (f->npending == FEED_VIEWS_MAX) {
		snprintf(why, len, "more than %d views in one snapshot",
		    FEED_VIEWS_MAX);
		return (-1);
	}
	v = &f->pending[f->npending++];
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->ncounters = 0;
	/* Keep every numeric field: newer plugins may publish more. */
	for (i = 0; i < m->nfields && v->ncounters < FEED_COUNTERS_MAX; i++) {
		if (strcmp(m->f[i].key, "name") == 0 ||
		    strcmp(m->f[i].key, "seq") == 0)
			continue;
		if (ah_get_u64(m, m->f[i].key, &v->val[v->ncounters]) < 0) {
			snprintf(why, len, "view field '%s' is not a counter",
			    m->f[i].key);
			return (-1);
		}
		snprintf(v->key[v->ncounters], sizeof(v->key[0]), "%s",
		    m->f[i].key);
		v->ncounters++;
	}
	return (0);
}

/*
 * Recursion fields and the zone summary join their view's counters,
 * prefixed "rec_" and "zones_".
 */
static int
on_view_extra(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	const char		*view = ah_get(m, "view");
	struct feed_view	*v = NULL;
	size_t			 i;

	for (i = 0; view != NULL && i < f->npending; i++)
		if (strcmp(f->pending[i].name, view) == 0)
			v = &f->pending[i];
	if (v == NULL) {
		snprintf(why, len, "%s record for a view not in the snapshot",
		    m->type);
		return (-1);
	}
	for (i = 0; i < m->nfields && v->ncounters < FEED_COUNTERS_MAX; i++) {
		if (strcmp(m->f[i].key, "view") == 0 ||
		    strcmp(m->f[i].key, "seq") == 0)
			continue;
		if (ah_get_u64(m, m->f[i].key, &v->val[v->ncounters]) < 0) {
			snprintf(why, len, "%s field '%s' is not a number",
			    m->type, m->f[i].key);
			return (-1);
		}
		snprintf(v->key[v->ncounters], sizeof(v->key[0]), "%s%s",
		    prefix, m->f[i].key);
		v->ncounters++;
	}
	return (0);
}

/* Times are optional in zone records: absent or malformed reads as 0. */
static int64_t
opt_time(const struct ah_msg *m, const char *key)
{
	uint64_t u;

	return (ah_get_u64(m, key, &u) == 0 ? (int64_t)u : 0);
}

static int
on_zone(struct feed *f, const struct ah_msg *m, char *why, size_t len)
{
	const char		*view = ah_get(m, "view"), *name = ah_get(m, "name");
	struct feed_zone	*z;
	uint64_t		 u;

	if (view == NULL || name == NULL ||
	    ah_get_u64(m, "found", &u) < 0) {
		snprintf(why, len, "zone record without view, name or found");
		return (-1);
	}
	if (f->pzones.n == f->pzones.cap) {
		size_t cap = f->pzones.cap ? f->pzones.cap * 2 : 16;
		void *p = realloc(f->pzones.z, cap * sizeof(*f->pzones.z));

		if (p == NULL) {
			snprintf(why, len, "out of memory for zones");
			return (-1);
		}
		f->pzones.z = p;
		f->pzones.cap = cap;
	}
	z = &f->pzones.z[f->pzones.n++];
	memset(z, 0, sizeof(*z));
	snprintf(z->view, sizeof(z->view), "%s", view);
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->found = u != 0;
	z->checked = opt_time(m, "checked");
	if (!z->found)
		return (0);
	if (ah_get_u64(m, "loaded", &u) < 0) {
		snprintf(why, len, "zone record without loaded");
		return (-1);
	}
	z->loaded = u != 0;
	if (ah_get_u64(m, "expired", &u) == 0)
		z->expired = u != 0;
	if (ah_get_u64(m, "serial", &z->serial) == 0)
		z->has_serial = 1;
	z->loaded_at = opt_time(m, "loaded_at");
	z->refresh = opt_time(m, "refresh");
	z->expire = opt_time(m, "expire");
	return (0);
}

static int
on_tick(struct feed *f, const struct ah_msg *m, int64_t now, char *why,
    size_t len)
{
	uint64_t	seq, nviews, nrecords;
	uint64_t	t;
	struct zone_list swap;

	if (ah_get_u64(m, "seq", &seq) < 0 ||
	    ah_get_u64(m, "views", &nviews) < 0) {
		snprintf(why, len, "tick without seq or views");
		return (-1);
	}
	/* A snapshot is taken whole or not at all. */
	if (nviews != f->npending) {
		snprintf(why, len, "tick %llu announces %llu views, %zu arrived",
		    (unsigned long long)seq, (unsigned long long)nviews,
		    f->npending);
		return (-1);
	}
	if (ah_get_u64(m, "records", &nrecords) == 0 &&
	    nrecords != f->nrecords) {
		snprintf(why, len, "tick %llu announces %llu records, %zu arrived",
		    (unsigned long long)seq, (unsigned long long)nrecords,
		    f->nrecords);
		return (-1);
	}
	memcpy(f->views, f->pending, f->npending * sizeof(f->views[0]));
	f->nviews = f->npending;
	f->npending = 0;
	f->nrecords = 0;
	swap = f->zones;
	f->zones = f->pzones;
	f->pzones = swap;
	f->pzones.n = 0;
	f->seq = seq;
	f->last_tick = now;
	f->last_tick_real = ah_get_u64(m, "time", &t) == 0 ? (int64_t)t :
	    real_ms();
	return (0);
}

/* Returns 1 when a snapshot completed, 0 otherwise, -1 to close. */
static int
on_line(struct feed *f, const char *line, size_t n, int64_t now, char *why,
    size_t len)
{
	struct ah_msg	 m;
	const char	*err;

	if (ah_decode(&m, line, n, &err) < 0) {
		snprintf(why, len, "malformed line from plugin: %s", err);
		return (-1);
	}
	if (f->state == FEED_HELLO) {
		if (strcmp(m.type, "error") == 0) {
			const char *r = ah_get(&m, "msg");

			snprintf(why, len, "plugin refused us: %s",
			    r != NULL ? r : "?");
			return (-1);
		}
		if (strcmp(m.type, "hello") != 0) {
			snprintf(why, len, "expected hello, got '%s'", m.type);
			return (-1);
		}
		return (on_hello(f, &m, why, len) < 0 ? -1 : 1);
	}
	if (strcmp(m.type, "view") == 0) {
		f->nrecords++;
		return (on_view(f, &m, why, len));
	}
	if (strcmp(m.type, "recursion") == 0) {
		f->nrecords++;
		return (on_view_extra(f, &m, "rec_", why, len));
	}
	if (strcmp(m.type, "zones") == 0) {
		f->nrecords++;
		return (on_view_extra(f, &m, "zones_", why, len));
	}
	if (strcmp(m.type, "zone") == 0) {
		f->nrecords++;
		return (on_zone(f, &m, why, len));
	}
	if (strcmp(m.type, "tick") == 0)
		return (on_tick(f, &m, now, why, len) < 0 ? -1 : 1);
	if (strcmp(m.type, "bye") == 0) {
		const char *r = ah_get(&m, "reason");

		snprintf(why, len, "named said goodbye (%s)",
		    r != NULL ? r : "no reason");
		return (-1);
	}
	if (strcmp(m.type, "error") == 0) {
		const char *r = ah_get(&m, "msg");

		snprintf(why, len, "plugin error: %s", r != NULL ? r : "?");
		return (-1);
	}
	/* Unknown record types are for newer relays: skip them. */
	return (0);
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
	return (0);
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
		switch (on_line(f, line, n, now, why, sizeof(why))) {
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
