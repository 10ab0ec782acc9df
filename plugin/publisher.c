/* SPDX-License-Identifier: MPL-2.0 */
/*
 * publisher.c - the socket that publishes the plugin's counters.
 *
 * One thread per named process, shared by every view and every plugin
 * instance (see publisher.h).  It only writes: a subscriber that sends
 * anything is told the socket is read-only and dropped, so nothing that
 * connects here can change named.  All sends are non-blocking; a
 * subscriber that cannot keep up loses its connection rather than
 * slowing the thread.  What it sends is encoded in snapshot.c.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "ahsock.h"
#include "counters.h"
#include "publisher.h"
#include "snapshot.h"
#include "view.h"

/*
 * Who may take a subscriber slot.  Anyone who can open the socket (its
 * mode and group decide) can connect; what must not happen is that one
 * local user starves the relay of a slot, or costs named memory without
 * end.  So: at most CLIENTS_PER_UID slots per user (SO_PEERCRED), which
 * leaves room for three more users however one behaves; a subscriber
 * that leaves data unread for SLOW_MS (once the kernel's buffer is
 * full) is dropped; and each output queue grows only as needed, up to
 * CLIENT_BUF.
 */
#define CLIENTS_MAX	32
#define CLIENTS_PER_UID 8
#define SLOW_MS		5000

/*
 * Room for a few snapshots per subscriber: ~150 bytes a zone, so 4 MiB
 * holds several snapshots of 10,000 zones.
 */
#define CLIENT_BUF     (4 * 1024 * 1024)
#define CLIENT_BUF_MIN (64 * 1024)

struct client {
	int fd;
	uid_t uid;
	size_t len, cap;
	char *out;
	int64_t stuck_since; /* monotonic ms; 0: keeping up */
};

/*
 * The module's only mutable global: it must be process-wide because
 * named gives instances no shared context (see publisher.h).  'lock'
 * guards everything except the counters and the thread-private fields
 * marked below.
 */
static struct {
	/* Serialises attach/detach, so a stop never overlaps a start. */
	pthread_mutex_t life;
	pthread_mutex_t lock;
	struct ah_view views[AH_VIEWS_MAX];
	unsigned int ninstances;
	uint64_t detaches;	     /* orders slots by leaving */
	struct ah_pub_params params; /* mode and gid: as applied */
	struct ah_pub_asked *asked;  /* of every attached instance */
	uint64_t gen;
	gid_t made_gid;	  /* the socket's group as made: for gid -1 */
	struct stat made; /* ... the socket itself, to know it again */
	/* May change on reconfig while the thread runs. */
	atomic_uint interval_ms;
	atomic_uint zone_interval_ms;
	pthread_t thread;
	struct ah_acceptor listen;
	struct ah_walker *walkers;
	struct ah_walker *walking; /* the one walked now, outside 'lock' */
	pthread_cond_t walked;	   /* ... its walk ended */
	uint64_t turn;		   /* of run_walks() */
	int wake[2];
	/*
	 * When named last began a reconfig or reload (monotonic ms; 0:
	 * not since the publisher started): it opened the plugin
	 * statement's file, or registered an instance.  While its worker
	 * threads are paused for it, no query is counted, and the relay
	 * is told why.
	 */
	atomic_int_fast64_t reconfig_at;
	int inotify; /* the conf_file's directory, or -1 */
	/* Thread-private. */
	struct client clients[CLIENTS_MAX];
	unsigned int told_interval, told_zone_interval;
	struct ah_snapshot snapshot;
	uint64_t seq;
	struct timespec started;
	int64_t next_walks; /* monotonic ms */
} pub = {
	.life = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.walked = PTHREAD_COND_INITIALIZER,
};

/*
 * The views' sample names (view.h), by slot: 4 KiB a view, written on
 * failure paths only.  Apart from the views, which the publisher and
 * every query write, so that with 64 views an authoritative server
 * never makes these 270 KiB resident.
 */
static struct ah_sample samples[AH_VIEWS_MAX][AH_LVL_COUNT][AH_DOM_BUCKETS];

static void
client_close(struct client *c) {
	close(c->fd);
	free(c->out);
	*c = (struct client){ .fd = -1 };
}

/*
 * Send what is queued; drop the client on a hard error, or when it has
 * not taken anything for SLOW_MS: better a clean EOF than a gap.
 */
static void
client_flush(struct client *c) {
	int64_t now = ah_mono_ms();

	while (c->fd >= 0 && c->len > 0) {
		ssize_t n = send(c->fd, c->out, c->len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				client_close(c);
			} else if (c->stuck_since == 0) {
				c->stuck_since = now;
			} else if (now - c->stuck_since > SLOW_MS) {
				client_close(c);
			}
			return;
		}
		memmove(c->out, c->out + n, c->len - (size_t)n);
		c->len -= (size_t)n;
		c->stuck_since = 0;
	}
}

static void
client_queue(struct client *c, const char *line, size_t n) {
	ssize_t k;

	if (c->fd < 0) {
		return;
	}
	/*
	 * Nothing waiting: straight to the socket, and keep only what its
	 * buffer did not take.  A subscriber that keeps up never needs an
	 * output queue, which would hold a copy of every snapshot.
	 */
	if (c->len == 0) {
		k = send(c->fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			client_close(c);
			return;
		}
		if (k > 0) {
			line += k;
			n -= (size_t)k;
			c->stuck_since = 0;
		}
		if (n == 0) {
			return;
		}
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap;
		char *p;

		while (cap < c->len + n && cap < CLIENT_BUF) {
			cap = cap == 0 ? CLIENT_BUF_MIN : cap * 2;
		}
		if (c->len + n > cap || (p = realloc(c->out, cap)) == NULL) {
			/* Too slow to follow: better a clean EOF than a gap. */
			client_close(c);
			return;
		}
		c->out = p;
		c->cap = cap;
	}
	memcpy(c->out + c->len, line, n);
	c->len += n;
}

static void
queue_all(const char *line, size_t n) {
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		client_queue(&pub.clients[i], line, n);
	}
}

static void
queue(struct client *c, const char *buf, size_t n) {
	if (c != NULL) {
		client_queue(c, buf, n);
	} else {
		queue_all(buf, n);
	}
}

static void
emit(struct client *c, struct ah_enc *e) {
	int n = ah_enc_end(e);

	if (n >= 0) {
		queue(c, e->buf, (size_t)n);
	}
}

/*
 * 'hello' fits for any value: its strings are named's version and the
 * package's.
 */
static void
send_hello(struct client *c) {
	char line[AH_LINE_MAX];
	struct ah_enc e;

	ah_enc_begin(&e, line, sizeof(line), "hello");
	ah_enc_u64(&e, "proto", AH_FEED_VERSION);
	ah_enc_str(&e, "named", pub.params.named_version);
	ah_enc_str(&e, "version", PACKAGE_VERSION);
	ah_enc_u64(&e, "pid", (uint64_t)getpid());
	ah_enc_u64(&e, "interval", atomic_load(&pub.interval_ms));
	ah_enc_u64(&e, "zone_interval", atomic_load(&pub.zone_interval_ms));
	ah_enc_i64(&e, "started", pub.started.tv_sec);
	emit(c, &e);
}

/* A snapshot for one new subscriber 'c', or for all of them (NULL). */
static void
send_snapshot(struct client *c, uint64_t seq) {
	int64_t at = atomic_load(&pub.reconfig_at);
	int rc;

	pthread_mutex_lock(&pub.lock);
	rc = ah_snapshot_build(&pub.snapshot, pub.views, seq, c != NULL,
			       ah_real_ms(), at != 0 ? ah_mono_ms() - at : -1);
	pthread_mutex_unlock(&pub.lock);
	if (rc == 0) {
		queue(c, pub.snapshot.buf, pub.snapshot.len);
	}
}

/* Refused: say so in the protocol rather than leave it hanging. */
static void
refuse(int fd, const char *why) {
	char line[AH_LINE_MAX];
	int n = snprintf(line, sizeof(line), "error msg=%s\n", why);

	(void)send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
accept_client(void) {
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *free_slot = NULL;
	size_t same = 0;
	int fd = ah_accept(&pub.listen, ah_mono_ms());

	if (fd < 0) {
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &pub.clients[i];

		if (c->fd < 0) {
			if (free_slot == NULL) {
				free_slot = c;
			}
		} else {
			same += c->uid == cred.uid;
		}
	}
	if (same >= CLIENTS_PER_UID) {
		refuse(fd, "too-many-subscribers-for-this-user");
		return;
	}
	if (free_slot == NULL) {
		refuse(fd, "too-many-subscribers");
		return;
	}
	*free_slot = (struct client){ .fd = fd, .uid = cred.uid };
	send_hello(free_slot);
	/* A fresh subscriber can judge at once, not an interval later. */
	send_snapshot(free_slot, pub.seq);
	client_flush(free_slot);
}

/* Subscribers have nothing to say; anything they send ends them. */
static void
read_client(struct client *c) {
	char buf[256];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n > 0) {
		static const char ro[] = "error msg=read-only-socket\n";
		client_queue(c, ro, sizeof(ro) - 1);
		client_flush(c);
	}
	if (c->fd >= 0) {
		client_close(c);
	}
}

/*
 * named opened something in the plugin statement's directory: a
 * reconfig or reload begins when that is the statement's own file.
 * The directory is watched, not the file: an editor that saves by
 * renaming a new file over it leaves a watch of the file on the old.
 */
static void
read_inotify(void) {
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const char *base = strrchr(pub.params.conf_file, '/') + 1;
	ssize_t n;

	while ((n = read(pub.inotify, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len > 0 && strcmp(ev->name, base) == 0) {
				atomic_store(&pub.reconfig_at, ah_mono_ms());
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/*
 * The zone tables query threads handed over since the last turn.  The
 * release may drop the last reference to a table of a view named has
 * just shut down; BIND frees zone tables from whichever thread lets go
 * last, and this one touches no view.
 *
 * A walk runs outside 'lock', which named's threads take to register
 * and destroy instances (a destroy may run on a worker thread, a
 * register inside a reconfig's pause of every worker): 'walking' names
 * the walker under way, and only the removal of that one waits for it
 * ('walked'), since it frees what the walk reads.  Each walker is
 * walked at most once a turn, whatever is handed over meanwhile.
 */
static void
run_walks(void) {
	uint64_t turn;

	pthread_mutex_lock(&pub.lock);
	turn = ++pub.turn;
	for (;;) {
		struct ah_walker *w;
		void *table = NULL;

		for (w = pub.walkers; w != NULL; w = w->next) {
			if (w->turn != turn &&
			    atomic_load_explicit(&w->pending,
						 memory_order_relaxed) != NULL)
			{
				break;
			}
		}
		if (w == NULL) {
			break;
		}
		w->turn = turn;
		table = atomic_exchange(&w->pending, NULL);
		if (table == NULL) {
			continue;
		}
		pub.walking = w;
		pthread_mutex_unlock(&pub.lock);
		w->walk(table, w->arg, w->view);
		w->release(table);
		pthread_mutex_lock(&pub.lock);
		pub.walking = NULL;
		pthread_cond_broadcast(&pub.walked);
	}
	pthread_mutex_unlock(&pub.lock);
}

/*
 * Every zone-interval, each view's zone walk falls due; the first query
 * of the view to see it hands the zone table over (zones.c).  Timed
 * here, so that a query reads a flag instead of a clock.  Returns the
 * milliseconds until the next time.
 */
static int64_t
walks_due(int64_t now) {
	if (now >= pub.next_walks) {
		/*
		 * Attached views only: a slot never used stays untouched
		 * memory.  Under 'lock', as reset_view() writes slots.
		 */
		pthread_mutex_lock(&pub.lock);
		for (size_t i = 0; i < AH_VIEWS_MAX; i++) {
			if (pub.views[i].refs > 0) {
				atomic_store_explicit(&pub.views[i].walk_due,
						      true,
						      memory_order_relaxed);
			}
		}
		pthread_mutex_unlock(&pub.lock);
		pub.next_walks = now + atomic_load(&pub.zone_interval_ms);
	}
	return (pub.next_walks - now);
}

static void *
publisher_main(void *arg) {
	struct pollfd pfd[3 + CLIENTS_MAX];
	int64_t next = ah_mono_ms() + atomic_load(&pub.interval_ms);
	char line[AH_LINE_MAX];
	struct ah_enc e;

	(void)arg;
	pub.params.enter();
	for (;;) {
		int64_t wait = next - ah_mono_ms(), zwait;
		size_t n = 3;

		if (wait <= 0) {
			/* A reload changed a parameter: say so first. */
			if (pub.told_interval !=
				    atomic_load(&pub.interval_ms) ||
			    pub.told_zone_interval !=
				    atomic_load(&pub.zone_interval_ms))
			{
				pub.told_interval =
					atomic_load(&pub.interval_ms);
				pub.told_zone_interval =
					atomic_load(&pub.zone_interval_ms);
				send_hello(NULL);
			}
			pub.seq++;
			send_snapshot(NULL, pub.seq);
			next += atomic_load(&pub.interval_ms);
			/* After a long stall, resume the rhythm from now. */
			if (next <= ah_mono_ms()) {
				next = ah_mono_ms() +
				       atomic_load(&pub.interval_ms);
			}
			wait = 0;
		}
		zwait = walks_due(ah_mono_ms());
		if (zwait < wait) {
			wait = zwait;
		}
		pfd[0] = (struct pollfd){ .fd = pub.wake[0], .events = POLLIN };
		/* Out of descriptors: the listener rests (ahsock.h). */
		pfd[1] = (struct pollfd){ .fd = ah_acceptor_fd(&pub.listen,
							       ah_mono_ms()),
					  .events = POLLIN };
		if (pfd[1].fd < 0 && wait > AH_ACCEPT_PAUSE_MS) {
			wait = AH_ACCEPT_PAUSE_MS;
		}
		pfd[2] = (struct pollfd){ .fd = pub.inotify, .events = POLLIN };
		for (size_t i = 0; i < CLIENTS_MAX; i++) {
			struct client *c = &pub.clients[i];

			client_flush(c);
			if (c->fd < 0) {
				continue;
			}
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = POLLIN | (c->len > 0 ? POLLOUT : 0),
			};
		}
		if (poll(pfd, n, (int)wait) < 0 && errno != EINTR) {
			break;
		}
		if (pfd[0].revents & POLLIN) {
			break;
		}
		if (pfd[1].revents & POLLIN) {
			accept_client();
		}
		if (pfd[2].revents & POLLIN) {
			read_inotify();
		}
		for (size_t k = 3; k < n; k++) {
			if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) ==
			    0) {
				continue;
			}
			for (size_t i = 0; i < CLIENTS_MAX; i++) {
				if (pub.clients[i].fd == pfd[k].fd) {
					read_client(&pub.clients[i]);
				}
			}
		}
		run_walks();
	}

	ah_enc_begin(&e, line, sizeof(line), "bye");
	ah_enc_str(&e, "reason", "unload");
	emit(NULL, &e);
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		if (pub.clients[i].fd < 0) {
			continue;
		}
		client_flush(&pub.clients[i]);
		if (pub.clients[i].fd >= 0) {
			client_close(&pub.clients[i]);
		}
	}
	ah_snapshot_free(&pub.snapshot);
	pub.params.leave();
	return (NULL);
}

/*
 * Watch the directory of the plugin statement's file for named opening
 * it.  Without a watch (a relative path, no inotify), registrations
 * alone tell of a reconfig, later in its pause.
 */
static void
watch_conf(const char *file) {
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');

	pub.inotify = -1;
	if (file[0] != '/' || slash == NULL || slash[1] == '\0') {
		return;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file + 1), file);
	pub.inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pub.inotify >= 0 &&
	    inotify_add_watch(pub.inotify, dir, IN_OPEN | IN_ONLYDIR) < 0)
	{
		close(pub.inotify);
		pub.inotify = -1;
	}
}

/*
 * The socket named made, opened without following a link, or -1: its
 * directory may be writable by others (Debian's /run/named is bind's
 * group's), who could have put something else at the path since, and
 * a mode or group given by the path would go to that.
 */
static int
open_socket(void) {
	struct stat st;
	int fd = open(pub.params.path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 &&
	    (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	     st.st_dev != pub.made.st_dev || st.st_ino != pub.made.st_ino))
	{
		close(fd);
		fd = -1;
	}
	return (fd);
}

/* Whether 'path' is still the socket named made. */
static bool
is_ours(const char *path) {
	struct stat st;

	return (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		st.st_dev == pub.made.st_dev && st.st_ino == pub.made.st_ino);
}

/*
 * Sets the mode of the socket open_socket() opened.  An O_PATH
 * descriptor takes no fchmod(), its /proc link a chmod(): without /proc
 * (named chrooted), the mode cannot be changed safely, and is not.
 */
static int
set_mode(int fd, mode_t mode) {
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return (chmod(proc, mode));
}

static int
start(const struct ah_pub_params *p, char *err, size_t errlen) {
	sigset_t all, old;
	int rc;

	pub.params = *p;
	atomic_store(&pub.interval_ms, p->interval_ms);
	atomic_store(&pub.zone_interval_ms, p->zone_interval_ms);
	pub.listen.fd = ah_sock_listen(p->path, p->mode, p->gid, 16, &pub.made,
				       err, errlen);
	pub.listen.paused_until = 0;
	if (pub.listen.fd < 0) {
		return (-1);
	}
	pub.made_gid = pub.params.gid = pub.made.st_gid;
	if (pipe2(pub.wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		pub.clients[i].fd = -1;
	}
	pub.told_interval = p->interval_ms;
	pub.told_zone_interval = p->zone_interval_ms;
	pub.next_walks = ah_mono_ms() + p->zone_interval_ms;
	clock_gettime(CLOCK_REALTIME, &pub.started);
	atomic_store(&pub.reconfig_at, 0);
	watch_conf(p->conf_file);

	/* named's signal handling must stay on named's own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&pub.thread, NULL, publisher_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) { /* so operators see it in top -H and /proc */
		(void)pthread_setname_np(pub.thread, "ah-publisher");
	}
	if (rc != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		close(pub.wake[0]);
		close(pub.wake[1]);
		if (pub.inotify >= 0) {
			close(pub.inotify);
		}
		goto fail;
	}
	return (0);
fail:
	close(pub.listen.fd);
	(void)unlink(p->path);
	return (-1);
}

static void
stop(void) {
	(void)write(pub.wake[1], "x", 1);
	pthread_join(pub.thread, NULL);
	close(pub.wake[0]);
	close(pub.wake[1]);
	if (pub.inotify >= 0) {
		close(pub.inotify);
	}
	/* Only ours: not a link put there, nor a new named's socket. */
	if (is_ours(pub.params.path)) {
		(void)unlink(pub.params.path);
	}
	close(pub.listen.fd);
}

/*
 * A slot for a new view name; no instance refers to it, so no query
 * thread writes to it or to its counters, and no walk reads it (an
 * instance's walker is removed, its walk ended, before it detaches).
 * The publisher thread takes 'lock' before it reads a slot for a
 * snapshot, and the caller holds 'lock': the slot, its zlock included,
 * is nobody's now.  Its zones are walked at the first query, as if
 * overdue.
 */
static void
reset_view(struct ah_view *v, const char *name) {
	static const struct ah_sample empty;

	if (v->name[0] != '\0') {
		pthread_mutex_destroy(&v->zlock);
	}
	free(v->zones);
	memset(v, 0, sizeof(*v));
	v->slot = (unsigned int)(v - pub.views);
	v->cells = &ah_shards[0].view[v->slot];
	v->groups = &ah_shards[0].groups[v->slot];
	v->sample = samples[v->slot];
	/* Only where written: a page never written stays unused. */
	for (size_t l = 0; l < AH_LVL_COUNT; l++) {
		for (size_t b = 0; b < AH_DOM_BUCKETS; b++) {
			if (memcmp(&v->sample[l][b], &empty, sizeof(empty)) !=
			    0) {
				memset(&v->sample[l][b], 0, sizeof(empty));
			}
		}
	}
	ah_counters_clear(v->slot);
	atomic_store(&v->walk_due, true);
	pthread_mutex_init(&v->zlock, NULL);
	strcpy(v->name, name);
}

/* The attached instance that asked first (0) or last (1), or NULL. */
static const struct ah_pub_asked *
asked_by(bool newest) {
	const struct ah_pub_asked *a = pub.asked;

	for (const struct ah_pub_asked *b = pub.asked; b != NULL; b = b->next) {
		if ((b->gen > a->gen) == newest) {
			a = b;
		}
	}
	return (a);
}

/*
 * Puts in force what the oldest attached instance asked: the running
 * configuration's, since named detaches a configuration's instances
 * once it has committed the next, or rejected it.  Called with 'lock'
 * held.  The mode and group are set on the socket named made, each only
 * when it changes, never looser than both while they change; what fails
 * stays as it was (nobody to tell: named gives a plugin's destroy no
 * log, and settable() warned of what it could foresee).
 */
static void
apply_asked(void) {
	const struct ah_pub_asked *a = asked_by(false);
	int fd;

	if (a == NULL) {
		return;
	}
	atomic_store(&pub.interval_ms, a->interval_ms);
	atomic_store(&pub.zone_interval_ms, a->zone_interval_ms);
	if (a->mode == pub.params.mode && a->gid == pub.params.gid) {
		return;
	}
	if ((fd = open_socket()) < 0) {
		return;
	}
	if (a->gid != pub.params.gid) {
		/* The new group gets no more than both modes give. */
		if (set_mode(fd, a->mode & pub.params.mode) == 0) {
			pub.params.mode &= a->mode;
		}
		if (fchownat(fd, "", (uid_t)-1, a->gid, AT_EMPTY_PATH) == 0) {
			pub.params.gid = a->gid;
		}
	}
	if (a->mode != pub.params.mode && set_mode(fd, a->mode) == 0) {
		pub.params.mode = a->mode;
	}
	close(fd);
}

/* Whether the capability 'cap' (linux/capability.h) is in effect. */
static bool
capable(unsigned int cap) {
	char line[128];
	unsigned long long eff = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL) {
		return (false);
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	}
	fclose(f);
	return (found && cap < 64 && (eff >> cap & 1) != 0);
}

#define AH_CAP_CHOWN  0 /* CAP_CHOWN */
#define AH_CAP_FOWNER 3 /* CAP_FOWNER */

/* Whether this process is in group 'gid'. */
static bool
in_group(gid_t gid) {
	gid_t *groups = NULL;
	int n = getgroups(0, NULL);
	bool in = getegid() == gid;

	if (!in && n > 0 && (groups = calloc(n, sizeof(*groups))) != NULL) {
		n = getgroups(n, groups);
		for (int i = 0; i < n && !in; i++) {
			in = groups[i] == gid;
		}
		free(groups);
	}
	return (in);
}

/*
 * What of 'p''s mode and group this process may give the socket: those
 * it may not are replaced by the ones in force, and said in 'buf'
 * (empty when all may be given).  The socket's owner may set its mode,
 * and its group to one of the owner's; only CAP_FOWNER and CAP_CHOWN
 * do more.  named has given up root's capabilities (and with -u, root)
 * before it reads its configuration, at its start as at a reload: a
 * group a reload may not give, the start could not have given either.
 * Not refused: a reconfig that fails in a plugin's registration can
 * crash named 9.18 (REQUIRE res->frozen, after an earlier reconfig
 * succeeded), so the reconfig takes everything else it asks.
 */
static void
settable(mode_t *modep, gid_t *gidp, char *buf, size_t len) {
	/* What will be in force once the reloads under way are committed. */
	const struct ah_pub_asked *last = asked_by(true);
	mode_t mode = last != NULL ? last->mode : pub.params.mode;
	gid_t gid = last != NULL ? last->gid : pub.params.gid;
	struct stat st;
	bool owner, proc;
	int fd;

	buf[0] = '\0';
	if (*modep == mode && *gidp == gid) {
		return;
	}
	if ((fd = open_socket()) < 0 || fstat(fd, &st) < 0) {
		snprintf(buf, len,
			 "%s is no longer the socket named made: its "
			 "socket-mode and socket-group stay",
			 pub.params.path);
		if (fd >= 0) {
			close(fd);
		}
		*modep = mode;
		*gidp = gid;
		return;
	}
	proc = set_mode(fd, st.st_mode & 07777) == 0; /* changes nothing */
	close(fd);
	owner = geteuid() == st.st_uid;
	if (*modep != mode && !proc) {
		snprintf(buf, len,
			 "without /proc (named chrooted?), the mode of %s "
			 "cannot be changed safely: its socket-mode stays "
			 "%04o",
			 pub.params.path, (unsigned int)mode);
		*modep = mode;
	} else if (*modep != mode && !owner && !capable(AH_CAP_FOWNER)) {
		snprintf(buf, len,
			 "%s belongs to uid %u, not to named's uid %u: its "
			 "socket-mode stays %04o",
			 pub.params.path, (unsigned int)st.st_uid,
			 (unsigned int)geteuid(), (unsigned int)mode);
		*modep = mode;
	}
	if (*gidp != gid && !capable(AH_CAP_CHOWN) &&
	    !(owner && in_group(*gidp))) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n,
			 "%snamed (uid %u) is not in group %u, which it "
			 "cannot give %s: its socket-group stays %u (add "
			 "named's user to the group, or name one of its "
			 "groups)",
			 n > 0 ? "; " : "", (unsigned int)geteuid(),
			 (unsigned int)*gidp, pub.params.path,
			 (unsigned int)gid);
		*gidp = gid;
	}
}

int
ah_pub_attach(const struct ah_pub_params *p, const char *name,
	      struct ah_pub_asked *asked, struct ah_view **vp, char *err,
	      size_t errlen) {
	struct ah_view *v = NULL, *fresh = NULL;
	mode_t mode = p->mode;
	gid_t gid;
	bool kept = false;
	int rc = -1;

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
	/*
	 * Same name, same counters: a reconfig continues the series.  A
	 * new name takes a slot never used, else the one whose view left
	 * longest ago: a removed view's counters are kept only while
	 * nobody needs its slot.
	 */
	for (size_t i = 0; i < AH_VIEWS_MAX && v == NULL; i++) {
		struct ah_view *s = &pub.views[i];

		if (strcmp(s->name, name) == 0) {
			v = s;
		} else if (s->refs == 0 &&
			   (fresh == NULL ||
			    (fresh->name[0] != '\0' &&
			     (s->name[0] == '\0' || s->left < fresh->left))))
		{
			fresh = s;
		}
	}
	if (v == NULL && fresh == NULL) {
		snprintf(err, errlen, "more than %d views attached at once",
			 AH_VIEWS_MAX);
		goto out;
	}
	if (pub.ninstances == 0 && start(p, err, errlen) < 0) {
		goto out;
	}
	gid = p->gid != (gid_t)-1 ? p->gid : pub.made_gid;
	if (pub.ninstances > 0) {
		settable(&mode, &gid, err, errlen);
		kept = err[0] != '\0';
	}
	if (v != NULL && v->refs > 0) {
		/*
		 * A view registered again while its old instance lives: a
		 * reconfig, whose pause may outlast stale-after.
		 */
		atomic_store(&pub.reconfig_at, ah_mono_ms());
	}
	if (v == NULL) {
		v = fresh;
		reset_view(v, name);
	}
	*asked = (struct ah_pub_asked){
		.gen = ++pub.gen,
		.interval_ms = p->interval_ms,
		.zone_interval_ms = p->zone_interval_ms,
		.mode = mode,
		.gid = gid,
		.next = pub.asked,
	};
	pub.asked = asked;
	v->refs++;
	pub.ninstances++;
	*vp = v;
	rc = kept ? 1 : 0;
out:
	pthread_mutex_unlock(&pub.lock);
	pthread_mutex_unlock(&pub.life);
	return (rc);
}

void
ah_pub_walker_add(struct ah_walker *w) {
	pthread_mutex_lock(&pub.lock);
	w->next = pub.walkers;
	pub.walkers = w;
	pthread_mutex_unlock(&pub.lock);
}

void
ah_pub_walker_remove(struct ah_walker *w) {
	struct ah_walker **wp;
	void *table;

	pthread_mutex_lock(&pub.lock);
	for (wp = &pub.walkers; *wp != NULL; wp = &(*wp)->next) {
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	}
	/* Out of the list, it is walked no more; but it may be now. */
	while (pub.walking == w) {
		pthread_cond_wait(&pub.walked, &pub.lock);
	}
	table = atomic_exchange(&w->pending, NULL);
	pthread_mutex_unlock(&pub.lock);
	if (table != NULL) {
		w->release(table);
	}
}

void
ah_pub_detach(struct ah_view *v, struct ah_pub_asked *asked) {
	int last;

	pthread_mutex_lock(&pub.life);
	pthread_mutex_lock(&pub.lock);
	if (--v->refs == 0) {
		v->left = ++pub.detaches;
	}
	for (struct ah_pub_asked **ap = &pub.asked; *ap != NULL;
	     ap = &(*ap)->next) {
		if (*ap == asked) {
			*ap = asked->next;
			break;
		}
	}
	last = --pub.ninstances == 0;
	if (!last) {
		apply_asked();
	}
	pthread_mutex_unlock(&pub.lock);
	/* Outside 'lock': the thread takes it to build snapshots. */
	if (last) {
		stop();
	}
	pthread_mutex_unlock(&pub.life);
}
