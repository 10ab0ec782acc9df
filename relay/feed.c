/* SPDX-License-Identifier: MPL-2.0 */
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
#include "log.h"

static void	set_stale(struct feed *);
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
		set_stale(f);
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

void
feed_lat_key(int i, char *key, size_t len)
{
	if (i < AH_LAT_BUCKETS - 1)
		snprintf(key, len, FEED_REC "le_%u", ah_lat_bounds[i]);
	else
		snprintf(key, len, FEED_REC "le_inf");
}

/* The counters' prefix of each level of groups. */
static const char *const level_prefix[AH_LVL_COUNT] = {
	[AH_LVL_DOMAIN] = FEED_DOM,
	[AH_LVL_SUFFIX] = FEED_SFX
};

void
feed_dom_key(enum ah_level lv, enum ah_dom kind, int group, char *key,
    size_t len)
{
	snprintf(key, len, "%s%s_%d", level_prefix[lv], ah_dom_names[kind],
	    group);
}

/* The level whose counters carry 'prefix'. */
static enum ah_level
level_of(const char *prefix)
{
	int lv;

	for (lv = 0; lv < AH_LVL_COUNT - 1; lv++)
		if (strcmp(prefix, level_prefix[lv]) == 0)
			break;
	return (lv);
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
 * A snapshot is due every interval.  Three of them by default; never
 * fewer than two, which would withdraw a healthy node on jitter.
 */
static void
set_stale(struct feed *f)
{
	unsigned int	 two = (unsigned int)(2 * f->interval_ms);

	if (f->conf_stale_ms == 0) {
		f->stale_ms = (unsigned int)(3 * f->interval_ms);
		return;
	}
	f->stale_ms = f->conf_stale_ms;
	if (f->stale_ms < two) {
		f->stale_ms = two;
		log_warnx("stale-after %u ms is less than two plugin intervals "
		    "(%llu ms each): using %u ms", f->conf_stale_ms,
		    (unsigned long long)f->interval_ms, f->stale_ms);
	}
}

static int
on_hello(struct feed *f, const struct ah_msg *m, char *why, size_t len)
{
	uint64_t	 proto, pid, interval, zone_interval;
	const char	*v;

	if (ah_get_u64(m, "proto", &proto) < 0) {
		snprintf(why, len, "hello without a protocol version");
		return (-1);
	}
	if (proto < AH_FEED_VERSION_MIN || proto > AH_FEED_VERSION) {
		snprintf(why, len, "plugin speaks protocol %llu, this relay "
		    "%d to %d: upgrade the older of the two",
		    (unsigned long long)proto, AH_FEED_VERSION_MIN,
		    AH_FEED_VERSION);
		return (-1);
	}
	if (f->state == FEED_UP && proto != f->proto) {
		snprintf(why, len, "hello with protocol %llu on a connection "
		    "that spoke %llu", (unsigned long long)proto,
		    (unsigned long long)f->proto);
		return (-1);
	}
	if (ah_get_u64(m, "pid", &pid) < 0 ||
	    ah_get_u64(m, "interval", &interval) < 0 ||
	    interval == 0 || interval > 600000) {
		snprintf(why, len, "hello lacks pid or interval");
		return (-1);
	}
	if (f->state == FEED_UP && pid != f->named_pid) {
		snprintf(why, len, "hello from pid %llu on a connection to "
		    "pid %llu", (unsigned long long)pid,
		    (unsigned long long)f->named_pid);
		return (-1);
	}
	/* Walks every interval if the plugin is too old to say. */
	if (ah_get_u64(m, "zone_interval", &zone_interval) < 0 ||
	    zone_interval == 0)
		zone_interval = interval;
	if (f->state == FEED_UP) {
		/* A reload changed a parameter: it applies at once. */
		if (interval != f->interval_ms ||
		    zone_interval != f->zone_interval_ms)
			log_info("plugin parameters changed: snapshot every "
			    "%llums, zones every %llums",
			    (unsigned long long)interval,
			    (unsigned long long)zone_interval);
	} else {
		v = ah_get(m, "named");
		snprintf(f->named_version, sizeof(f->named_version), "%s",
		    v != NULL ? v : "unknown");
		/* A plugin before 0.2.0 does not say. */
		v = ah_get(m, "version");
		snprintf(f->plugin_version, sizeof(f->plugin_version), "%s",
		    v != NULL ? v : "");
		f->named_pid = pid;
		f->proto = proto;
		f->causes = 0;
		f->state = FEED_UP;
		f->since = ah_real_ms();
		log_info("plugin hello: named %s pid %llu, anycast-health %s, "
		    "snapshot every %llums", f->named_version,
		    (unsigned long long)pid, f->plugin_version[0] != '\0' ?
		    f->plugin_version : "older than 0.2.0",
		    (unsigned long long)interval);
		/*
		 * A package upgrade replaces the relay at once; named keeps
		 * the old plugin until it restarts: a reconfig finds the
		 * module loaded already (and -z nodelete), and keeps it.
		 */
		if (proto < AH_FEED_VERSION)
			log_warnx("plugin speaks protocol %llu, this relay %d: "
			    "shared faults are judged by its domain groups "
			    "(the last two labels of query names), without "
			    "public suffixes, until named restarts with the "
			    "new plugin", (unsigned long long)proto,
			    AH_FEED_VERSION);
	}
	f->interval_ms = interval;
	f->zone_interval_ms = zone_interval;
	set_stale(f);
	return (0);
}

/* The pending view a record refers to by its 'view' id, or NULL. */
static struct feed_view *
pending_view(struct feed *f, const struct ah_msg *m, char *why, size_t len)
{
	uint64_t	id;
	size_t		i;

	if (ah_get_u64(m, "view", &id) < 0) {
		snprintf(why, len, "%s record without a view id", m->type);
		return (NULL);
	}
	for (i = 0; i < f->npending; i++)
		if (f->pending[i].id == id)
			return (&f->pending[i]);
	snprintf(why, len, "%s record for view %llu, not in the snapshot",
	    m->type, (unsigned long long)id);
	return (NULL);
}

static int
on_view(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	struct feed_view	*v;
	const struct feed_view	*old;
	const char		*name = ah_get(m, "name");
	uint64_t		 seq, id;
	size_t			 i;

	if (name == NULL || ah_get_u64(m, "seq", &seq) < 0 ||
	    ah_get_u64(m, "id", &id) < 0) {
		snprintf(why, len, "view record without name, id or seq");
		return (-1);
	}
	for (i = 0; i < f->npending; i++)
		if (f->pending[i].id == id ||
		    strcmp(f->pending[i].name, name) == 0) {
			snprintf(why, len, "view %llu (%s) twice in one "
			    "snapshot", (unsigned long long)id, name);
			return (-1);
		}
	if (f->npending == FEED_VIEWS_MAX) {
		snprintf(why, len, "more than %d views in one snapshot",
		    FEED_VIEWS_MAX);
		return (-1);
	}
	v = &f->pending[f->npending++];
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->id = id;
	v->ncounters = 0;
	/* Sample names come only when they change: keep the last ones. */
	if ((old = feed_view(f, name)) != NULL)
		memcpy(v->domain, old->domain, sizeof(v->domain));
	else
		memset(v->domain, 0, sizeof(v->domain));
	return (0);
}

/* Adds 'key' (with a prefix) and its value to the view's counters. */
static int
add_counter(struct feed_view *v, const char *type, const char *prefix,
    const char *key, const char *val, char *why, size_t len)
{
	struct ah_msg	 m;
	uint64_t	 x;

	/* ah_get_u64 reads from a record: make one of the value alone. */
	m.nfields = 1;
	m.f[0].key = key;
	m.f[0].val = val;
	if (ah_get_u64(&m, key, &x) < 0) {
		snprintf(why, len, "%s field '%s' is not a number", type, key);
		return (-1);
	}
	if (v->ncounters == FEED_COUNTERS_MAX)
		return (0);	/* newer plugins may publish more */
	snprintf(v->key[v->ncounters], sizeof(v->key[0]), "%s%s", prefix, key);
	v->val[v->ncounters++] = x;
	return (0);
}

/*
 * Records of counters join their view's: outcomes as they are,
 * recursion prefixed FEED_REC, the zone summary FEED_ZONES.
 */
static int
on_counters(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	struct feed_view	*v;
	size_t			 i;

	if ((v = pending_view(f, m, why, len)) == NULL)
		return (-1);
	for (i = 0; i < m->nfields; i++) {
		const char *key = m->f[i].key;

		if (strcmp(key, "view") == 0 || strcmp(key, "seq") == 0)
			continue;
		if (add_counter(v, m->type, prefix, key, m->f[i].val, why,
		    len) < 0)
			return (-1);
	}
	return (0);
}

/*
 * A level's groups of one kind ('domains', 'suffixes'): field bN
 * becomes the counter PREFIX KIND_N (dom_fail_0, sfx_rok_15).
 */
static int
on_groups(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	struct feed_view	*v;
	char			 pfx[AH_NAME_MAX + 1];
	const char		*kind = ah_get(m, "kind");
	size_t			 i;

	if ((v = pending_view(f, m, why, len)) == NULL)
		return (-1);
	if (kind == NULL || strlen(kind) > 8) {
		snprintf(why, len, "%s record without a kind", m->type);
		return (-1);
	}
	if (strcmp(kind, ah_dom_names[AH_DOM_RTMO]) == 0)
		f->causes = 1;
	snprintf(pfx, sizeof(pfx), "%s%s_", prefix, kind);
	for (i = 0; i < m->nfields; i++) {
		const char *key = m->f[i].key;

		if (strcmp(key, "view") == 0 || strcmp(key, "seq") == 0 ||
		    strcmp(key, "kind") == 0)
			continue;
		if (key[0] == 'b')
			key++;
		if (add_counter(v, m->type, pfx, key, m->f[i].val, why,
		    len) < 0)
			return (-1);
	}
	return (0);
}

/* A level's sample name ('domain', 'suffix') for one bucket. */
static int
on_domain(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	struct feed_view	*v;
	const char		*name = ah_get(m, "name");
	uint64_t		 b;
	enum ah_level		 lv = level_of(prefix);

	if ((v = pending_view(f, m, why, len)) == NULL)
		return (-1);
	if (ah_get_u64(m, "bucket", &b) < 0 || b >= AH_DOM_BUCKETS ||
	    name == NULL) {
		snprintf(why, len, "%s record without bucket 0..%d or name",
		    m->type, AH_DOM_BUCKETS - 1);
		return (-1);
	}
	snprintf(v->domain[lv][b], sizeof(v->domain[lv][b]), "%s", name);
	return (0);
}

const char *
feed_domain(const struct feed_view *v, enum ah_level lv, int bucket)
{
	if (bucket < 0 || bucket >= AH_DOM_BUCKETS ||
	    v->domain[lv][bucket][0] == '\0')
		return (NULL);
	return (v->domain[lv][bucket]);
}

/* Times are optional in zone records: absent or malformed reads as 0. */
static int64_t
opt_time(const struct ah_msg *m, const char *key)
{
	uint64_t u;

	return (ah_get_u64(m, key, &u) == 0 ? (int64_t)u : 0);
}

static int
on_zone(struct feed *f, const struct ah_msg *m, const char *prefix,
    char *why, size_t len)
{
	const struct feed_view	*v;
	const char		*name = ah_get(m, "name"), *type;
	struct feed_zone	*z;
	uint64_t		 u;

	if ((v = pending_view(f, m, why, len)) == NULL)
		return (-1);
	if (name == NULL || ah_get_u64(m, "found", &u) < 0) {
		snprintf(why, len, "zone record without name or found");
		return (-1);
	}
	if (f->pzones.n == FEED_ZONES_MAX) {
		snprintf(why, len, "more than %d zone records in one snapshot",
		    FEED_ZONES_MAX);
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
	snprintf(z->view, sizeof(z->view), "%s", v->name);
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
	if ((type = ah_get(m, "type")) != NULL)
		snprintf(z->type, sizeof(z->type), "%s", type);
	z->loaded_at = opt_time(m, "loaded_at");
	z->loaded_seen = opt_time(m, "loaded_seen");
	z->refresh = opt_time(m, "refresh");
	z->expire = opt_time(m, "expire");
	return (0);
}

/*
 * When a zone walk happened, on the relay's monotonic clock: the age of
 * zone state must not move when either machine's wall clock steps (NTP,
 * a VM resumed), and 'checked', the walk's Unix time by named's clock,
 * counts only whole seconds.  A 'checked' that changed since the last
 * snapshot is a walk made since then: now.  One never seen before (a
 * new connection, a new zone) is as old as named says, its tick's time
 * minus 'checked', both named's clock.  One unchanged keeps its time.
 */
struct walk {
	int64_t	checked;	/* as the plugin said */
	int64_t	walked;		/* relay monotonic ms */
};

static int64_t
walked_at(int64_t checked, const struct walk *before, int64_t now,
    int64_t tick)
{
	if (before != NULL)
		return (checked == before->checked ? before->walked : now);
	return (checked > 0 && tick > checked ? now - (tick - checked) : now);
}

/* The zone a walk saw at position 'hint' last time, or elsewhere. */
static const struct feed_zone *
old_zone(const struct feed *f, const struct feed_zone *z, size_t hint)
{
	const struct feed_zone *o = &f->zones.z[hint];

	if (hint < f->zones.n && strcmp(o->name, z->name) == 0 &&
	    strcmp(o->view, z->view) == 0)
		return (o);
	return (feed_zone(f, z->view, z->name));
}

static void
carry_walks(const struct feed *f, int64_t now, int64_t tick)
{
	const struct feed_zone	*o;
	struct feed_zone	*z;
	struct walk		 w;
	size_t			 i;

	for (i = 0; i < f->pzones.n; i++) {
		z = &f->pzones.z[i];
		if ((o = old_zone(f, z, i)) != NULL)
			w = (struct walk){ o->checked, o->walked };
		z->walked = walked_at(z->checked, o != NULL ? &w : NULL, now,
		    tick);
	}
}

/*
 * Evidence of a working query path carries over from the previous
 * snapshot of the same view; a counter that went up is new evidence.
 * So does the time of its zone summary's walk.
 */
static void
carry_activity(const struct feed *f, struct feed_view *v, int64_t now,
    int64_t tick)
{
	const struct feed_view	*old = feed_view(f, v->name);
	uint64_t		 queries = 0, checked, was = 0;
	struct walk		 w;
	int			 had;

	v->zones_walked = 0;
	if (feed_counter(v, FEED_ZONES "checked", &checked) == 0) {
		had = old != NULL &&
		    feed_counter(old, FEED_ZONES "checked", &was) == 0;
		w = (struct walk){ (int64_t)was, had ? old->zones_walked : 0 };
		v->zones_walked = walked_at((int64_t)checked, had ? &w : NULL,
		    now, tick);
	}

	(void)feed_counter(v, "queries", &queries);
	(void)feed_counter(v, "probes", &v->probes);
	v->activity = queries + v->probes;
	if (old == NULL) {
		v->active_at = v->probed_at = 0;
		v->first_seen = now;
		return;
	}
	v->first_seen = old->first_seen;
	v->active_at = v->activity != old->activity ? now : old->active_at;
	v->probed_at = v->probes != old->probes ? now : old->probed_at;
}

/*
 * A step of named's wall clock (NTP stepping it, a VM resumed, date -s):
 * named's clock less our monotonic one jumps between two ticks, and so
 * does named's clock itself, between two ticks an interval apart.  Not
 * a relay that read nothing for a while, then a burst of ticks: the
 * difference jumps, named's clock between them does not.  Logged, and
 * kept for the judge, which holds a large one against validation
 * failures after it (fault.h).  The first tick of a connection only
 * sets the difference: a named restarted may have any clock.
 */
static int
jumped(int64_t d)
{
	return (d >= FEED_STEP_MS || d <= -FEED_STEP_MS);
}

static void
clock_step(struct feed *f, int64_t t, int64_t now)
{
	int64_t	off = t - now, d = off - f->clock_off;

	if (f->last_tick != 0 && jumped(d) && jumped(t - f->last_tick_real)) {
		f->stepped_at = now;
		f->stepped_ms = d;
		log_warnx("named's wall clock stepped %s by %lld.%03llds",
		    d > 0 ? "forward" : "back",
		    (long long)((d > 0 ? d : -d) / 1000),
		    (long long)((d > 0 ? d : -d) % 1000));
	}
	f->clock_off = off;
}

static int
on_tick(struct feed *f, const struct ah_msg *m, int64_t now, char *why,
    size_t len)
{
	uint64_t	seq, nviews, nrecords;
	uint64_t	t;
	struct zone_list swap;
	size_t		i;

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
	/* Named's clock; a plugin that does not say: ours. */
	if (ah_get_u64(m, "time", &t) < 0 || t == 0 || t > INT64_MAX / 2)
		t = (uint64_t)ah_real_ms();
	else
		clock_step(f, (int64_t)t, now);
	for (i = 0; i < f->npending; i++)
		carry_activity(f, &f->pending[i], now, (int64_t)t);
	carry_walks(f, now, (int64_t)t);
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
	f->last_tick_real = (int64_t)t;
	f->reconfig_at = ah_get_u64(m, "reconfig", &t) == 0 &&
	    t < (uint64_t)now ? now - (int64_t)t : 0;
	return (0);
}

/*
 * The records of a snapshot before its tick, and how each is taken;
 * 'prefix' is what counters records put before their keys.
 */
static const struct {
	const char	*type;
	int		(*take)(struct feed *, const struct ah_msg *,
			    const char *, char *, size_t);
	const char	*prefix;
} records[] = {
	{ "view",	on_view,	NULL },
	{ "outcomes",	on_counters,	"" },
	{ "recursion",	on_counters,	FEED_REC },
	{ "domains",	on_groups,	FEED_DOM },
	{ "domain",	on_domain,	FEED_DOM },
	{ "suffixes",	on_groups,	FEED_SFX },
	{ "suffix",	on_domain,	FEED_SFX },
	{ "zones",	on_counters,	FEED_ZONES },
	{ "zone",	on_zone,	NULL },
};

/* Returns 1 when a snapshot completed, 0 otherwise, -1 to close. */
static int
on_line(struct feed *f, const char *line, size_t n, int64_t now, char *why,
    size_t len)
{
	struct ah_msg	 m;
	const char	*err;
	size_t		 i;

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
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		if (strcmp(m.type, records[i].type) == 0) {
			f->nrecords++;
			return (records[i].take(f, &m, records[i].prefix, why,
			    len));
		}
	if (strcmp(m.type, "tick") == 0)
		return (on_tick(f, &m, now, why, len) < 0 ? -1 : 1);
	if (strcmp(m.type, "hello") == 0)
		return (on_hello(f, &m, why, len));
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
