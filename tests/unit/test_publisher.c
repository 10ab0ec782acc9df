/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_publisher.c - what the plugin puts on its socket, without named:
 * the publisher (plugin/publisher.c and snapshot.c) needs no BIND
 * header, so it is driven here through its interface, publisher.h,
 * with counters set by hand, and read as a subscriber reads it.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahproto.h"
#include "counters.h"
#include "publisher.h"
#include "snapshot.h"
#include "view.h"

static void
no_rcu(void)
{
}

/* What each instance the tests attach asked, as a plugin instance keeps it. */
#define ASKED_MAX	256
static struct {
	struct ah_view		*view;
	struct ah_pub_asked	 asked;
} asked[ASKED_MAX];

/*
 * Attaches view 'name' to the publisher on 'path', every interval_ms,
 * asking 'mode' of the socket; returns ah_pub_attach()'s result.
 */
static int
attach_as(const char *path, const char *name, unsigned int interval_ms,
    mode_t mode, struct ah_view **vp)
{
	struct ah_pub_params	 p = {
		.interval_ms = interval_ms,
		.zone_interval_ms = 1000,
		.mode = mode,
		.gid = (gid_t)-1,
		.enter = no_rcu,
		.leave = no_rcu,
	};
	char			 err[512];
	size_t			 i;
	int			 rc;

	snprintf(p.path, sizeof(p.path), "%s", path);
	/* The longest version, all of it escaped. */
	memset(p.named_version, '%', sizeof(p.named_version) - 1);
	for (i = 0; i < ASKED_MAX && asked[i].view != NULL; i++)
		;
	assert_true(i < ASKED_MAX);
	rc = ah_pub_attach(&p, name, &asked[i].asked, vp, err, sizeof(err));
	assert_true(rc >= 0);
	if (rc > 0)
		print_message("attached with: %s\n", err);
	asked[i].view = *vp;
	return (rc);
}

static struct ah_view *
attach_every(const char *path, const char *name, unsigned int interval_ms)
{
	struct ah_view	*v = NULL;

	assert_int_equal(attach_as(path, name, interval_ms, 0600, &v), 0);
	return (v);
}

/* Detaches v's instance attached first (oldest) or last. */
static void
detach_one(struct ah_view *v, int oldest)
{
	size_t	i, k = ASKED_MAX;

	for (i = 0; i < ASKED_MAX; i++)
		if (asked[i].view == v && (k == ASKED_MAX ||
		    (asked[i].asked.gen < asked[k].asked.gen) == oldest))
			k = i;
	assert_true(k < ASKED_MAX);
	ah_pub_detach(v, &asked[k].asked);
	asked[k].view = NULL;
}

static void
detach_oldest(struct ah_view *v)
{
	detach_one(v, 1);
}

/* Detaches the instance attached last for 'v'. */
static void
detach(struct ah_view *v)
{
	detach_one(v, 0);
}

/* ... with no periodic snapshot meanwhile. */
static struct ah_view *
attach(const char *path, const char *name)
{
	return (attach_every(path, name, 60000));
}

/*
 * Every counter at its maximum, and every bucket's sample the longest
 * name, all of it escaped.
 */
static void
worst_counters(struct ah_view *v)
{
	struct ah_tally	 t = ah_tally(v, 1);
	char		 name[AH_DOMAIN_MAX];

	memset(t.c, 0xff, sizeof(*t.c));
	memset(t.g, 0xff, sizeof(*t.g));
	atomic_store(&v->recursive_clients, UINT64_MAX);
	memset(name, '%', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (size_t l = 0; l < AH_LVL_COUNT; l++) {
		for (size_t b = 0; b < AH_DOM_BUCKETS; b++) {
			atomic_store(&v->sample[l][b].seq, 0);
			ah_sample_write(&v->sample[l][b], name);
		}
	}
}

/* A zone of the longest name, all escaped, every time at its widest. */
static void
worst_zone(struct ah_view *v)
{
	struct ah_zone	*z;

	z = calloc(1, sizeof(*z));
	assert_non_null(z);
	memset(z->name, '%', AH_ZONENAME_MAX - 1);
	strcpy(z->type, "static-stub");
	z->found = z->loaded = true;
	z->has_serial = true;
	z->serial = UINT32_MAX;
	z->loaded_at = z->loaded_seen = z->refresh = z->expire = INT64_MIN;
	pthread_mutex_lock(&v->zlock);
	v->zones = z;
	v->nzones = v->zcap = 1;
	v->watching = true;
	v->walked = INT64_MIN;
	pthread_mutex_unlock(&v->zlock);
}

/* Reads from 'fd' into 'text' until 'until' arrives, or to EOF. */
static size_t
read_until(int fd, char *text, size_t len, size_t size, const char *until)
{
	ssize_t	 n;

	while (until == NULL || strstr(text, until) == NULL) {
		n = read(fd, text + len, size - 1 - len);
		assert_true(n >= 0);	/* not timed out */
		if (n == 0)
			break;
		len += (size_t)n;
		text[len] = '\0';
	}
	return (len);
}

/*
 * What a new subscriber gets, to the end: its hello, a snapshot of
 * 'views' at once, and a goodbye when the last view detaches.
 */
static char *
subscribe(const char *path, struct ah_view **views, size_t nviews)
{
	static char		 text[1 << 20];
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct timeval		 tv = { .tv_sec = 10 };
	size_t			 len = 0, i;
	int			 fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	text[0] = '\0';
	len = read_until(fd, text, len, sizeof(text), "\ntick ");
	for (i = 0; i < nviews; i++)
		detach(views[i]);
	len = read_until(fd, text, len, sizeof(text), NULL);
	close(fd);
	return (text);
}

/*
 * Issue 8 item 5: every record fits in a line for every legal view
 * name and counter values up to 2^64-1, and no record ever refers to a
 * view whose 'view' record is not in the snapshot.
 */
static void
test_worst_case_views_are_whole(void **state)
{
	char		 dir[] = "/tmp/test_publisher.XXXXXX", path[108];
	char		 name[AH_VIEWNAME_MAX], *line, *save = NULL;
	char		 defined[4][AH_VIEWNAME_MAX * 3];
	struct ah_view	*views[2];
	size_t		 ndefined = 0, nrecords = 0, nviews = 0, nzone = 0;
	size_t		 ndomain = 0, nticks = 0, nbye = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	memset(name, ' ', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	views[0] = attach(path, name);
	views[1] = attach(path, "plain");
	worst_counters(views[0]);
	worst_counters(views[1]);
	worst_zone(views[0]);
	for (line = strtok_r(subscribe(path, views, 2), "\n", &save);
	    line != NULL; line = strtok_r(NULL, "\n", &save)) {
		struct ah_msg	 m;
		const char	*err, *ref;
		size_t		 i;

		assert_true(strlen(line) + 1 <= AH_LINE_MAX);
		assert_int_equal(ah_decode(&m, line, strlen(line), &err), 0);
		if (strcmp(m.type, "hello") == 0)
			continue;
		if (strcmp(m.type, "bye") == 0) {
			nbye++;
			continue;
		}
		if (strcmp(m.type, "tick") == 0) {
			uint64_t n;

			assert_int_equal(ah_get_u64(&m, "views", &n), 0);
			nviews = n;
			nticks++;
			continue;
		}
		nrecords++;
		nzone += strcmp(m.type, "zone") == 0;
		ndomain += strcmp(m.type, "domain") == 0 ||
		    strcmp(m.type, "suffix") == 0;
		if (strcmp(m.type, "view") == 0) {
			assert_true(ndefined < 4);
			/* v2 refers to views by id, v1 by name */
			ref = ah_get(&m, "id") != NULL ? ah_get(&m, "id") :
			    ah_get(&m, "name");
			snprintf(defined[ndefined++], sizeof(defined[0]), "%s",
			    ref);
			continue;
		}
		ref = ah_get(&m, "view");
		assert_non_null(ref);
		for (i = 0; i < ndefined; i++)
			if (strcmp(defined[i], ref) == 0)
				break;
		assert_true(i < ndefined);	/* its view came first */
	}
	assert_int_equal(nticks, 1);
	assert_int_equal(nbye, 1);
	assert_int_equal(nviews, 2);
	assert_int_equal(ndefined, 2);
	assert_true(nrecords > 4);
	assert_int_equal(nzone, 1);	/* the longest zone record fits too */
	/* and so does each longest sample name */
	assert_int_equal(ndomain, 2 * AH_LVL_COUNT * AH_DOM_BUCKETS);
	/* The publisher stopped: its socket is gone. */
	assert_int_equal(access(path, F_OK), -1);
	free(views[0]->zones);
	views[0]->zones = NULL;
	assert_int_equal(rmdir(dir), 0);
}


/*
 * Issue 14: threads count in their shards (two in shards of their own,
 * two in the shared one) while snapshots are taken, as the publisher
 * takes them.  Between any two snapshots no counter goes down, SERVFAIL
 * answers grow no faster than queries (the relay's ratio stays within
 * 0 and 100 %), and no snapshot holds a finished recursion without its
 * start; when the threads are done, every sum is exact.
 */
#define HAMMER_THREADS	4
#define HAMMER_QUERIES	100000000	/* a bound; time stops them first */
#define HAMMER_SNAPSHOTS 2000
#define HAMMER_SECONDS	5

struct hammer {
	pthread_t	 thread;
	struct ah_view	*v;
	size_t		 tid;
	atomic_bool	*stop;
	uint64_t	 queries;
};

/* What the hooks add for query 'n', in the order they add it. */
static void
count_one(struct ah_view *v, size_t tid, uint64_t n)
{
	struct ah_tally	 t;
	/* A name's group at each level, as groups.c finds them. */
	size_t		 b[AH_LVL_COUNT] = { n % AH_DOM_BUCKETS,
	    n * 7 % AH_DOM_BUCKETS };
	size_t		 l;

	if (!ah_tally_own(v, tid, &t))
		t = ah_tally(v, tid);
	/* A recursion: its start at the end of one pass ... */
	ah_add(t, &t.c->recursion[AH_REC_STARTED]);
	for (l = 0; l < AH_LVL_COUNT; l++)
		ah_add(t, &t.g->dom[l][AH_DOM_RSTART][b[l]]);
	/* ... its end when the fetch completes ... */
	ah_add(t, &t.c->recursion[n % 2 ? AH_REC_SUCCESS : AH_REC_FAILURE]);
	for (l = 0; l < AH_LVL_COUNT; l++) {
		ah_add(t, &t.g->dom[l][AH_DOM_RDONE][b[l]]);
		ah_add(t, &t.g->dom[l][n % 2 ? AH_DOM_ROK : AH_DOM_RBAD][b[l]]);
	}
	ah_add(t, &t.c->latency[n % AH_LAT_BUCKETS]);
	/* ... and the answer, SERVFAIL every other time. */
	ah_add(t, &t.c->answers[n % AH_SRC_COUNT]
	    [n % 2 ? AH_RC_NOERROR : AH_RC_SERVFAIL]);
	for (l = 0; n % 2 == 0 && l < AH_LVL_COUNT; l++)
		ah_add(t, &t.g->dom[l][AH_DOM_FAIL][b[l]]);
}

static void *
hammer(void *arg)
{
	struct hammer	*h = arg;

	while (h->queries < HAMMER_QUERIES && !atomic_load(h->stop))
		count_one(h->v, h->tid, h->queries++);
	return (NULL);
}

struct tally_seen {
	uint64_t	 queries, servfail, started, done;
	uint64_t	 rstart[AH_LVL_COUNT][AH_DOM_BUCKETS];
	uint64_t	 rdone[AH_LVL_COUNT][AH_DOM_BUCKETS];
};

/* The figures of view 'id' in snapshot 'text'. */
static void
parse_snapshot(char *text, const char *id, struct tally_seen *ts)
{
	static const char *const done[] = { "success", "failure", "timeout",
	    "canceled" };
	char		*line, *save = NULL, key[8];
	struct ah_msg	 m;
	const char	*err, *kind;
	uint64_t	 n;
	size_t		 i, l;

	memset(ts, 0, sizeof(*ts));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(ah_decode(&m, line, strlen(line), &err), 0);
		if (ah_get(&m, "view") == NULL ||
		    strcmp(ah_get(&m, "view"), id) != 0)
			continue;
		if (strcmp(m.type, "outcomes") == 0) {
			assert_int_equal(ah_get_u64(&m, "queries",
			    &ts->queries), 0);
			assert_int_equal(ah_get_u64(&m, "servfail",
			    &ts->servfail), 0);
		} else if (strcmp(m.type, "recursion") == 0) {
			assert_int_equal(ah_get_u64(&m, "started",
			    &ts->started), 0);
			for (i = 0; i < 4; i++) {
				assert_int_equal(ah_get_u64(&m, done[i], &n),
				    0);
				ts->done += n;
			}
		} else {
			for (l = 0; l < AH_LVL_COUNT; l++)
				if (strcmp(m.type, ah_level_counts[l]) == 0)
					break;
			if (l == AH_LVL_COUNT)
				continue;
			kind = ah_get(&m, "kind");
			for (i = 0; i < AH_DOM_BUCKETS; i++) {
				snprintf(key, sizeof(key), "b%zu", i);
				assert_int_equal(ah_get_u64(&m, key, &n), 0);
				if (strcmp(kind, "rstart") == 0)
					ts->rstart[l][i] = n;
				else if (strcmp(kind, "rdone") == 0)
					ts->rdone[l][i] = n;
			}
		}
	}
}

static void
test_snapshots_consistent_while_counting(void **state)
{
	static struct ah_snapshot	 sc;
	struct hammer			 h[HAMMER_THREADS];
	struct tally_seen		 prev, cur;
	struct ah_view			*v, *views;
	char				 dir[] = "/tmp/test_publisher.XXXXXX";
	char				 path[108], id[24];
	atomic_bool			 stop = false;
	struct timespec			 t0, t1;
	uint64_t			 total = 0, odd = 0;
	size_t				 i, b, l, snapshots = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	v = attach(path, "hammered");
	views = v - v->slot;
	snprintf(id, sizeof(id), "%u", v->slot);
	for (i = 0; i < HAMMER_THREADS; i++) {
		/* two threads with shards of their own, two without */
		h[i] = (struct hammer){ .v = v, .stop = &stop,
		    .tid = i < 2 ? i + 1 : (i == 2 ? SIZE_MAX : 100000) };
		assert_int_equal(pthread_create(&h[i].thread, NULL, hammer,
		    &h[i]), 0);
	}
	memset(&prev, 0, sizeof(prev));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		assert_int_equal(ah_snapshot_build(&sc, views, ++snapshots,
		    true, 0, -1), 0);
		sc.buf[sc.len - 1] = '\0';
		parse_snapshot(sc.buf, id, &cur);
		/* Nothing goes down ... */
		assert_true(cur.queries >= prev.queries);
		assert_true(cur.servfail >= prev.servfail);
		assert_true(cur.started >= prev.started);
		assert_true(cur.done >= prev.done);
		/* ... no ratio passes 100 % ... */
		assert_true(cur.servfail - prev.servfail <=
		    cur.queries - prev.queries);
		/* ... and nothing ends before it starts. */
		assert_true(cur.done <= cur.started);
		for (l = 0; l < AH_LVL_COUNT; l++)
			for (b = 0; b < AH_DOM_BUCKETS; b++)
				assert_true(cur.rdone[l][b] <=
				    cur.rstart[l][b]);
		prev = cur;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (snapshots < HAMMER_SNAPSHOTS &&
	    t1.tv_sec - t0.tv_sec < HAMMER_SECONDS);
	atomic_store(&stop, true);
	for (i = 0; i < HAMMER_THREADS; i++) {
		assert_int_equal(pthread_join(h[i].thread, NULL), 0);
		total += h[i].queries;
		odd += h[i].queries / 2;
	}
	/* Every add counted once, in the shared shard too. */
	assert_int_equal(ah_snapshot_build(&sc, views, ++snapshots, true, 0,
	    -1), 0);
	sc.buf[sc.len - 1] = '\0';
	parse_snapshot(sc.buf, id, &cur);
	assert_true(total > 0);
	assert_int_equal(cur.queries, total);
	assert_int_equal(cur.servfail, total - odd);
	assert_int_equal(cur.started, total);
	assert_int_equal(cur.done, total);
	for (l = 0; l < AH_LVL_COUNT; l++) {
		for (b = 0, odd = 0; b < AH_DOM_BUCKETS; b++) {
			assert_int_equal(cur.rdone[l][b], cur.rstart[l][b]);
			odd += cur.rstart[l][b];
		}
		assert_int_equal(odd, total);
	}
	ah_snapshot_free(&sc);
	detach(v);
	assert_int_equal(rmdir(dir), 0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A walk of 500 ms, as of a very large zone table on a busy machine. */
static atomic_int	walking, walked, released;

static void
slow_walk(void *table, void *arg, struct ah_view *v)
{
	(void)table;
	(void)arg;
	(void)v;
	atomic_store(&walking, 1);
	usleep(500 * 1000);
	atomic_store(&walked, 1);
}

static void
count_release(void *table)
{
	(void)table;
	atomic_fetch_add(&released, 1);
}

/*
 * Issue 13 item 9d: named registers and destroys plugin instances on
 * its own threads (a destroy on a worker thread, a register inside a
 * reconfig's pause of every worker).  A zone walk on the publisher's
 * thread holds neither, except the destroy of the walked view's own
 * instance, which must wait for it: it frees what the walk reads.
 */
static void
test_a_walk_holds_only_its_own_view(void **state)
{
	char		 dir[] = "/tmp/test_publisher.XXXXXX", path[108];
	struct ah_view	*a, *b, *c;
	struct ah_walker wa = { .walk = slow_walk, .release = count_release };
	struct ah_walker wb = { .walk = slow_walk, .release = count_release };
	int64_t		 t0, took;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	a = attach_every(path, "a", 50);
	b = attach_every(path, "b", 50);
	wa.view = a;
	wb.view = b;
	ah_pub_walker_add(&wa);
	ah_pub_walker_add(&wb);
	atomic_store(&wa.pending, (void *)&wa);	/* a table, for the walk */
	for (t0 = mono_ms(); !atomic_load(&walking); usleep(1000))
		assert_true(mono_ms() - t0 < 5000);
	/* A view registered, and another's walker removed, at once. */
	t0 = mono_ms();
	c = attach_every(path, "c", 50);
	ah_pub_walker_remove(&wb);
	took = mono_ms() - t0;
	assert_true(took < 250);
	assert_false(atomic_load(&walked));
	/* The walked view's own instance waits for its walk, no longer. */
	ah_pub_walker_remove(&wa);
	assert_true(atomic_load(&walked));
	assert_int_equal(atomic_load(&released), 1);
	print_message("registered and removed during a 500 ms walk in %lld ms;"
	    " the walked view's removal waited %lld ms\n", (long long)took,
	    (long long)(mono_ms() - t0 - took));
	detach(a);
	detach(b);
	detach(c);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A view's sample names lie apart from the view (view.h), cleared only
 * where written: a new view name that takes a slot another left must
 * still start without the old one's names.
 */
static void
test_a_reused_slot_has_no_old_samples(void **state)
{
	static const struct ah_sample	 empty;
	char				 dir[] = "/tmp/test_publisher.XXXXXX";
	char				 path[108], name[16];
	struct ah_view			*keeper, *old, *v = NULL;
	struct ah_view			*taken[AH_VIEWS_MAX];
	unsigned int			 slot;
	size_t				 n = 0, l, b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	keeper = attach(path, "keeper");
	old = attach(path, "old");
	slot = old->slot;
	for (l = 0; l < AH_LVL_COUNT; l++)
		for (b = 0; b < AH_DOM_BUCKETS; b++)
			ah_sample_write(&old->sample[l][b], "old.example");
	detach(old);
	/* New names take every other free slot first. */
	while (n < AH_VIEWS_MAX - 1 && (v == NULL || v->slot != slot)) {
		snprintf(name, sizeof(name), "new%zu", n);
		v = taken[n++] = attach(path, name);
	}
	assert_int_equal(v->slot, slot);
	for (l = 0; l < AH_LVL_COUNT; l++)
		for (b = 0; b < AH_DOM_BUCKETS; b++)
			assert_memory_equal(&v->sample[l][b], &empty,
			    sizeof(empty));
	while (n > 0)
		detach(taken[--n]);
	detach(keeper);
	assert_int_equal(rmdir(dir), 0);
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	assert_int_equal(lstat(path, &st), 0);
	return (st.st_mode & 07777);
}

/*
 * A reload's socket mode applies once the old configuration's instances
 * have detached (named committed it), a rejected reload's never (its
 * new instances detach instead), and never through a link someone put
 * where the socket was.
 */
static void
test_a_reload_applies_once_committed(void **state)
{
	char		 dir[] = "/tmp/test_publisher.XXXXXX", path[108];
	char		 target[128];
	struct ah_view	*v;
	int		 fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(attach_as(path, "v", 60000, 0600, &v), 0);
	assert_int_equal(mode_of(path), 0600);

	/* A reload asks 0640: in force once the old instance is gone. */
	assert_int_equal(attach_as(path, "v", 60000, 0640, &v), 0);
	assert_int_equal(mode_of(path), 0600);
	detach_oldest(v);
	assert_int_equal(mode_of(path), 0640);

	/* A reload asks 0660, and named rejects it: nothing changes. */
	assert_int_equal(attach_as(path, "v", 60000, 0660, &v), 0);
	detach(v);
	assert_int_equal(mode_of(path), 0640);

	/*
	 * A reload asks 0666, and before it is committed someone puts a
	 * link where the socket was: its target keeps its mode, and the
	 * last detach leaves the link, which is not the socket named made.
	 */
	assert_int_equal(attach_as(path, "v", 60000, 0666, &v), 0);
	assert_true((fd = open(target, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	detach_oldest(v);
	assert_int_equal(mode_of(target), 0600);
	/* A reload now is told the socket is not named's any more. */
	assert_int_equal(attach_as(path, "v", 60000, 0644, &v), 1);
	detach_oldest(v);
	detach(v);
	assert_int_equal(mode_of(target), 0600);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(target), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst_case_views_are_whole),
		cmocka_unit_test(test_snapshots_consistent_while_counting),
		cmocka_unit_test(test_a_walk_holds_only_its_own_view),
		cmocka_unit_test(test_a_reused_slot_has_no_old_samples),
		cmocka_unit_test(test_a_reload_applies_once_committed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
