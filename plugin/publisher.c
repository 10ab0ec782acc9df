/*
 * publisher.c - the socket that publishes the plugin's counters.
 *
 * One thread per named process, shared by every view and every plugin
 * instance (see publisher.h).  It only writes: a subscriber that sends
 * anything is told the socket is read-only and dropped, so nothing that
 * connects here can change named.  All sends are non-blocking; a
 * subscriber that cannot keep up loses its connection rather than
 * slowing the thread.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ahproto.h"
#include "publisher.h"

#define CLIENTS_MAX	32

/*
 * Room for a few snapshots per subscriber: ~150 bytes a zone, so 4 MiB
 * holds several snapshots of 10,000 zones.  Pages are touched only as
 * used.
 */
#define CLIENT_BUF	(4 * 1024 * 1024)

static const char *const source_names[AH_SRC_COUNT] = {
	[AH_SRC_AUTH] = "auth",
	[AH_SRC_CACHE] = "cache",
	[AH_SRC_RECURSION] = "recursion",
};

static const char *const rcode_names[AH_RC_COUNT] = {
	[AH_RC_NOERROR] = "noerror", [AH_RC_NXDOMAIN] = "nxdomain",
	[AH_RC_SERVFAIL] = "servfail", [AH_RC_REFUSED] = "refused",
	[AH_RC_OTHER] = "other",
};

static const char *const recursion_names[AH_REC_COUNT] = {
	[AH_REC_STARTED] = "started", [AH_REC_SUCCESS] = "success",
	[AH_REC_FAILURE] = "failure", [AH_REC_TIMEOUT] = "timeout",
};

static const unsigned int lat_bounds[AH_LAT_BUCKETS - 1] = AH_LAT_BOUNDS;

struct client {
	int	fd;
	size_t	len;
	char	*out;
};

/*
 * The module's only mutable global: it must be process-wide because
 * named gives instances no shared context (see publisher.h).  'lock'
 * guards everything except the counters and the thread-private fields
 * marked below.
 */
static struct {
	/* Serialises attach/detach, so a stop never overlaps a start. */
	pthread_mutex_t		life;
	pthread_mutex_t		lock;
	struct ah_view		views[AH_VIEWS_MAX];
	unsigned int		ninstances;
	struct ah_pub_params	params;
	/* May change on reconfig while the thread runs. */
	atomic_uint		interval_ms;
	atomic_uint		zone_interval_ms;
	pthread_t		thread;
	int			listenfd;
	int			wake[2];
	/* Thread-private. */
	struct client		clients[CLIENTS_MAX];
	unsigned int		told_interval, told_zone_interval;
	uint64_t		seq;
	struct timespec		started;
} pub = {
	.life = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static int64_t
now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
client_close(struct client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->len = 0;
}

/* Send what is queued; drop the client on a hard error. */
static void
client_flush(struct client *c)
{
	while (c->fd >= 0 && c->len > 0) {
		ssize_t n = send(c->fd, c->out, c->len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(c);
			return;
		}
		memmove(c->out, c->out + n, c->len - (size_t)n);
		c->len -= (size_t)n;
	}
}

static void
client_queue(struct client *c, const char *line, size_t n)
{
	if (c->fd < 0)
		return;
	if (c->len + n > CLIENT_BUF) {
		/* Too slow to follow: better a clean EOF than a gap. */
		client_close(c);
		return;
	}
	memcpy(c->out + c->len, line, n);
	c->len += n;
}

static void
queue_all(const char *line, size_t n)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		client_queue(&pub.clients[i], line, n);
}

/*
 * Encode and queue one line, to one client or (c == NULL) to all.
 * Returns 0 if the record did not fit in a line (a view and zone name
 * both near their limits, escaped): it is left out, never sent half,
 * and not counted in the tick, so the snapshot stays consistent.
 */
static int
emit(struct client *c, struct ah_enc *e)
{
	int n = ah_enc_end(e);

	if (n < 0)
		return (0);
	if (c != NULL)
		client_queue(c, e->buf, (size_t)n);
	else
		queue_all(e->buf, (size_t)n);
	return (1);
}

static int
emit_hello(struct client *c, const char *views, char *line, size_t len)
{
	struct ah_enc e;

	ah_enc_begin(&e, line, len, "hello");
	ah_enc_u64(&e, "proto", AH_PROTO_VERSION);
	ah_enc_str(&e, "named", pub.params.named_version);
	ah_enc_u64(&e, "pid", (uint64_t)getpid());
	ah_enc_u64(&e, "interval", atomic_load(&pub.interval_ms));
	ah_enc_u64(&e, "zone_interval", atomic_load(&pub.zone_interval_ms));
	ah_enc_i64(&e, "started", pub.started.tv_sec);
	ah_enc_str(&e, "views", views);
	return (emit(c, &e));
}

static void
send_hello(struct client *c)
{
	char		line[AH_LINE_MAX], names[AH_LINE_MAX / 2];
	size_t		off = 0;

	names[0] = '\0';
	pthread_mutex_lock(&pub.lock);
	for (size_t i = 0; i < AH_VIEWS_MAX; i++) {
		const struct ah_view *v = &pub.views[i];
		int n;

		if (v->refs == 0)
			continue;
		n = snprintf(names + off, sizeof(names) - off, "%s%s",
			     off > 0 ? "," : "", v->name);
		if (n < 0 || (size_t)n >= sizeof(names) - off) {
			names[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&pub.lock);

	/* Names too long to list: the snapshots still carry them. */
	if (!emit_hello(c, names, line, sizeof(line)))
		(void)emit_hello(c, "...", line, sizeof(line));
}

static uint64_t
get(atomic_uint_fast64_t *c)
{
	return (atomic_load_explicit(c, memory_order_relaxed));
}

/* The outcome counters of a view; rcode totals are sums over sources. */
static void
encode_view(struct ah_enc *e, struct ah_view *v)
{
	char key[AH_NAME_MAX + 1];

	ah_enc_u64(e, "queries", get(&v->queries));
	ah_enc_u64(e, "probes", get(&v->probes));
	ah_enc_u64(e, "dropped", get(&v->dropped));
	for (int r = 0; r < AH_RC_COUNT; r++) {
		uint64_t sum = 0;
		for (int src = 0; src < AH_SRC_COUNT; src++)
			sum += get(&v->answers[src][r]);
		ah_enc_u64(e, rcode_names[r], sum);
	}
	for (int src = 0; src < AH_SRC_COUNT; src++)
		for (int r = 0; r < AH_RC_COUNT; r++) {
			snprintf(key, sizeof(key), "%s_%s", source_names[src],
				 rcode_names[r]);
			ah_enc_u64(e, key, get(&v->answers[src][r]));
		}
}

/* Recursion results and a cumulative latency histogram, Prometheus-style. */
static void
encode_recursion(struct ah_enc *e, struct ah_view *v)
{
	char		key[AH_NAME_MAX + 1];
	uint64_t	cum = 0;

	for (int k = 0; k < AH_REC_COUNT; k++)
		ah_enc_u64(e, recursion_names[k], get(&v->recursion[k]));
	ah_enc_u64(e, "clients", get(&v->recursive_clients));
	for (int b = 0; b < AH_LAT_BUCKETS; b++) {
		cum += get(&v->latency[b]);
		if (b < AH_LAT_BUCKETS - 1)
			snprintf(key, sizeof(key), "le_%u", lat_bounds[b]);
		else
			snprintf(key, sizeof(key), "le_inf");
		ah_enc_u64(e, key, cum);
	}
}

static void
encode_zone(struct ah_enc *e, const struct ah_zone *z, int64_t walked)
{
	ah_enc_str(e, "name", z->name);
	ah_enc_u64(e, "found", z->found);
	if (z->found) {
		ah_enc_str(e, "type", z->type);
		ah_enc_u64(e, "loaded", z->loaded);
		ah_enc_u64(e, "expired", z->expired);
		if (z->has_serial)
			ah_enc_u64(e, "serial", z->serial);
		ah_enc_i64(e, "loaded_at", z->loaded_at);
		ah_enc_i64(e, "refresh", z->refresh);
		ah_enc_i64(e, "expire", z->expire);
	}
	ah_enc_i64(e, "checked", walked);
}

/*
 * A view's zones: one 'zones' summary, then a 'zone' record for each
 * zone the walk kept in detail: the listed ones, and with all-zones
 * the first unhealthy ones.  Returns the number of records sent.
 * Called with the view's zlock held.
 */
static uint64_t
send_zones(struct client *c, uint64_t seq, struct ah_view *v, char *line,
	   size_t len)
{
	struct ah_enc	e;
	uint64_t	n = 0;

	ah_enc_begin(&e, line, len, "zones");
	ah_enc_u64(&e, "seq", seq);
	ah_enc_str(&e, "view", v->name);
	ah_enc_u64(&e, "watched", v->zwatched);
	ah_enc_u64(&e, "healthy", v->zhealthy);
	ah_enc_u64(&e, "expired", v->zexpired);
	ah_enc_u64(&e, "unloaded", v->zunloaded);
	ah_enc_u64(&e, "missing", v->zmissing);
	ah_enc_i64(&e, "checked", v->walked);
	n += emit(c, &e);

	for (size_t z = 0; z < v->nzones; z++) {
		const struct ah_zone *zz = &v->zones[z];

		ah_enc_begin(&e, line, len, "zone");
		ah_enc_u64(&e, "seq", seq);
		ah_enc_str(&e, "view", v->name);
		encode_zone(&e, zz, v->walked);
		n += emit(c, &e);
	}
	return (n);
}

/*
 * A snapshot: for each attached view a 'view' record, a 'recursion'
 * record, a 'zones' summary and 'zone' records (see send_zones), then
 * a 'tick' that closes it and says how many records came before it.
 * Counters are cumulative, so a lost snapshot loses nothing.
 */
static void
send_snapshot(struct client *c, uint64_t seq)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;
	uint64_t	nviews = 0, nrecords = 0;

	pthread_mutex_lock(&pub.lock);
	for (size_t i = 0; i < AH_VIEWS_MAX; i++) {
		struct ah_view *v = &pub.views[i];

		if (v->refs == 0)
			continue;
		ah_enc_begin(&e, line, sizeof(line), "view");
		ah_enc_u64(&e, "seq", seq);
		ah_enc_str(&e, "name", v->name);
		encode_view(&e, v);
		nviews += emit(c, &e);

		ah_enc_begin(&e, line, sizeof(line), "recursion");
		ah_enc_u64(&e, "seq", seq);
		ah_enc_str(&e, "view", v->name);
		encode_recursion(&e, v);
		nrecords += emit(c, &e);

		pthread_mutex_lock(&v->zlock);
		if (v->watching)
			nrecords += send_zones(c, seq, v, line, sizeof(line));
		pthread_mutex_unlock(&v->zlock);
	}
	pthread_mutex_unlock(&pub.lock);

	ah_enc_begin(&e, line, sizeof(line), "tick");
	ah_enc_u64(&e, "seq", seq);
	ah_enc_u64(&e, "views", nviews);
	ah_enc_u64(&e, "records", nviews + nrecords);
	ah_enc_i64(&e, "time", now_ms(CLOCK_REALTIME));
	(void)emit(c, &e);
}

static void
accept_client(void)
{
	int fd = accept4(pub.listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &pub.clients[i];

		if (c->fd >= 0)
			continue;
		if ((c->out = malloc(CLIENT_BUF)) == NULL)
			break;
		c->fd = fd;
		c->len = 0;
		send_hello(c);
		/* A fresh subscriber can judge at once, not an interval later. */
		send_snapshot(c, pub.seq);
		client_flush(c);
		return;
	}
	/* Full: say so in the protocol rather than leave it hanging. */
	{
		static const char busy[] = "error msg=too-many-subscribers\n";
		(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

/* Subscribers have nothing to say; anything they send ends them. */
static void
read_client(struct client *c)
{
	char	buf[256];
	ssize_t	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		static const char ro[] = "error msg=read-only-socket\n";
		client_queue(c, ro, sizeof(ro) - 1);
		client_flush(c);
	}
	if (c->fd >= 0)
		client_close(c);
}

static void *
publisher_main(void *arg)
{
	struct pollfd	pfd[2 + CLIENTS_MAX];
	int64_t		next = now_ms(CLOCK_MONOTONIC) +
			       atomic_load(&pub.interval_ms);
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	(void)arg;
	for (;;) {
		int64_t	wait = next - now_ms(CLOCK_MONOTONIC);
		size_t	n = 2;

		if (wait <= 0) {
			/* A reload changed a parameter: say so first. */
			if (pub.told_interval != atomic_load(&pub.interval_ms) ||
			    pub.told_zone_interval !=
			    atomic_load(&pub.zone_interval_ms)) {
				pub.told_interval = atomic_load(&pub.interval_ms);
				pub.told_zone_interval =
				    atomic_load(&pub.zone_interval_ms);
				send_hello(NULL);
			}
			pub.seq++;
			send_snapshot(NULL, pub.seq);
			next += atomic_load(&pub.interval_ms);
			/* After a long stall, resume the rhythm from now. */
			if (next <= now_ms(CLOCK_MONOTONIC))
				next = now_ms(CLOCK_MONOTONIC) +
				       atomic_load(&pub.interval_ms);
			wait = 0;
		}
		pfd[0] = (struct pollfd){ .fd = pub.wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = pub.listenfd, .events = POLLIN };
		for (size_t i = 0; i < CLIENTS_MAX; i++) {
			struct client *c = &pub.clients[i];

			client_flush(c);
			if (c->fd < 0)
				continue;
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = POLLIN | (c->len > 0 ? POLLOUT : 0),
			};
		}
		if (poll(pfd, n, (int)wait) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			break;
		if (pfd[1].revents & POLLIN)
			accept_client();
		for (size_t k = 2; k < n; k++) {
			if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
			for (size_t i = 0; i < CLIENTS_MAX; i++)
				if (pub.clients[i].fd == pfd[k].fd)
					read_client(&pub.clients[i]);
		}
	}

	ah_enc_begin(&e, line, sizeof(line), "bye");
	ah_enc_str(&e, "reason", "unload");
	(void)emit(NULL, &e);
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		if (pub.clients[i].fd < 0)
			continue;
		client_flush(&pub.clients[i]);
		if (pub.clients[i].fd >= 0)
			client_close(&pub.clients[i]);
	}
	return (NULL);
}

/*
 * Refuse to steal the socket of a live publisher (another named, or a
 * second configured path), but clear one left by a crash.
 */
static int
open_socket(const struct ah_pub_params *p, char *err, size_t errlen)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	mode_t			old;
	int			fd, probe;

	if (strlen(p->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", p->path);
		return (-1);
	}
	strcpy(sun.sun_path, p->path);

	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		int live = connect(probe, (struct sockaddr *)&sun,
				   sizeof(sun)) == 0;
		close(probe);
		if (live) {
			snprintf(err, errlen,
				 "socket %s is in use by another process",
				 p->path);
			return (-1);
		}
	}
	(void)unlink(p->path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	/* Never let the socket exist with looser permissions than asked. */
	old = umask(0777 & ~p->mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", p->path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(p->path, p->mode) < 0 ||
	    (p->gid != (gid_t)-1 && chown(p->path, (uid_t)-1, p->gid) < 0)) {
		snprintf(err, errlen, "set permissions of %s: %s", p->path,
			 strerror(errno));
		(void)unlink(p->path);
		close(fd);
		return (-1);
	}
	if (listen(fd, 16) < 0) {
		snprintf(err, errlen, "listen %s: %s", p->path,
			 strerror(errno));
		(void)unlink(p->path);
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
start(const struct ah_pub_params *p, char *err, size_t errlen)
{
	sigset_t	all, old;
	int		rc;

	pub.params = *p;
	atomic_store(&pub.interval_ms, p->interval_ms);
	atomic_store(&pub.zone_interval_ms, p->zone_interval_ms);
	if ((pub.listenfd = open_socket(p, err, errlen)) < 0)
		return (-1);
	if (pipe2(pub.wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		pub.clients[i].fd = -1;
	pub.told_interval = p->interval_ms;
	pub.told_zone_interval = p->zone_interval_ms;
	clock_gettime(CLOCK_REALTIME, &pub.started);

	/* named's signal handling must stay on named's own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&pub.thread, NULL, publisher_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)	/* so operators see it in top -H and /proc */
		(void)pthread_setname_np(pub.thread, "ah-publisher");
	if (rc != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		close(pub.wake[0]);
		close(pub.wake[1]);
		goto fail;
	}
	return (0);
fail:
	close(pub.listenfd);
	(void)unlink(p->path);
	return (-1);
}

static void
stop(void)
{
	(void)write(pub.wake[1], "x", 1);
	pthread_join(pub.thread, NULL);
	close(pub.wake[0]);
	close(pub.wake[1]);
	close(pub.listenfd);
	(void)unlink(pub.params.path);
}

int
ah_pub_attach(const struct ah_pub_params *p, const char *name,
	      struct ah_view **vp, char *err, size_t errlen)
{
	struct ah_view	*v = NULL, *fresh = NULL;
	int		 rc = -1;

	if (strlen(name) >= AH_VIEWNAME_MAX) {
		snprintf(err, errlen, "view name too long");
		return (-1);
	}
	pthread_mutex_lock(&pub.life);
	pthread_mutex_lock(&pub.lock);
	if (pub.ninstances > 0 && strcmp(pub.params.path, p->path) != 0) {
		snprintf(err, errlen,
			 "socket %s differs from %s, in use by this named: "
			 "all views must use one socket",
			 p->path, pub.params.path);
		goto out;
	}
	/* Same name, same counters: a reconfig continues the series. */
	for (size_t i = 0; i < AH_VIEWS_MAX && v == NULL; i++) {
		if (strcmp(pub.views[i].name, name) == 0)
			v = &pub.views[i];
		else if (fresh == NULL && pub.views[i].name[0] == '\0')
			fresh = &pub.views[i];
	}
	if (v == NULL && fresh == NULL) {
		snprintf(err, errlen, "more than %d views", AH_VIEWS_MAX);
		goto out;
	}
	if (pub.ninstances == 0 && start(p, err, errlen) < 0)
		goto out;
	if (v == NULL) {
		v = fresh;
		strcpy(v->name, name);
		pthread_mutex_init(&v->zlock, NULL);
	}
	/* The intervals may change on reconfig; the path may not. */
	atomic_store(&pub.interval_ms, p->interval_ms);
	atomic_store(&pub.zone_interval_ms, p->zone_interval_ms);
	v->refs++;
	pub.ninstances++;
	*vp = v;
	rc = 0;
out:
	pthread_mutex_unlock(&pub.lock);
	pthread_mutex_unlock(&pub.life);
	return (rc);
}

unsigned int
ah_pub_zone_interval(void)
{
	return (atomic_load(&pub.zone_interval_ms));
}

void
ah_pub_detach(struct ah_view *v)
{
	int last;

	pthread_mutex_lock(&pub.life);
	pthread_mutex_lock(&pub.lock);
	v->refs--;
	last = --pub.ninstances == 0;
	pthread_mutex_unlock(&pub.lock);
	/* Outside 'lock': the thread takes it to build snapshots. */
	if (last)
		stop();
	pthread_mutex_unlock(&pub.life);
}
