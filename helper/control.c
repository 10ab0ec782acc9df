/*
 * control.c - the relay's control socket, for anycastctl.
 *
 * One request per connection, as with rndc: the client sends one
 * record, the relay answers with records and a final 'done', then
 * closes.  Records use the same codec as the plugin feed.  The socket
 * is protected by its file mode and group (0660 by default).
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ahproto.h"
#include "log.h"
#include "relay.h"

#define CTL_CLIENTS	16
#define CTL_OUT		(256 * 1024)

struct ctl_client {
	int		 fd;
	int		 answered;
	struct ah_lines	 in;
	char		*out;
	size_t		 len, off;
};

static int			listenfd = -1;
static struct ctl_client	clients[CTL_CLIENTS];

int
control_init(const struct relay_conf *rc)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	mode_t			old;
	int			fd, probe;
	size_t			i;

	for (i = 0; i < CTL_CLIENTS; i++)
		clients[i].fd = -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", rc->control_socket);

	/* Never take the socket from a relay that is still answering. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			log_warnx("control socket %s is in use by another relay",
			    rc->control_socket);
			return (-1);
		}
		close(probe);
	}
	(void)unlink(rc->control_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_warn("socket");
		return (-1);
	}
	old = umask(0777 & ~rc->control_mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		log_warn("bind %s", rc->control_socket);
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(rc->control_socket, rc->control_mode) < 0 ||
	    (rc->control_gid != (gid_t)-1 &&
	    chown(rc->control_socket, (uid_t)-1, rc->control_gid) < 0) ||
	    listen(fd, 8) < 0) {
		log_warn("control socket %s", rc->control_socket);
		(void)unlink(rc->control_socket);
		close(fd);
		return (-1);
	}
	listenfd = fd;
	return (0);
}

void
control_cleanup(const struct relay_conf *rc)
{
	if (listenfd >= 0) {
		close(listenfd);
		(void)unlink(rc->control_socket);
	}
}

void
control_fds(struct pollfd *pfd, size_t *n)
{
	size_t i;

	if (listenfd < 0)
		return;
	pfd[(*n)++] = (struct pollfd){ .fd = listenfd, .events = POLLIN };
	for (i = 0; i < CTL_CLIENTS; i++)
		if (clients[i].fd >= 0)
			pfd[(*n)++] = (struct pollfd){ .fd = clients[i].fd,
			    .events = clients[i].answered ? POLLOUT : POLLIN };
}

static void
client_close(struct ctl_client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

static void
put(struct ctl_client *c, struct ah_enc *e)
{
	int n = ah_enc_end(e);

	if (n < 0 || c->len + (size_t)n > CTL_OUT)
		return;
	memcpy(c->out + c->len, e->buf, (size_t)n);
	c->len += (size_t)n;
}

static void
reply_done(struct ctl_client *c, const char *err)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	ah_enc_begin(&e, line, sizeof(line), "done");
	ah_enc_str(&e, "status", err == NULL ? "ok" : "error");
	if (err != NULL)
		ah_enc_str(&e, "msg", err);
	put(c, &e);
}

static void
do_status(struct ctl_client *c, struct relay *r)
{
	const struct feed	*f = &r->feed;
	char			 line[AH_LINE_MAX];
	struct ah_enc		 e;
	size_t			 i, j, k, nroutes;
	char			 wd[AH_NAME_LEN + 16];

	ah_enc_begin(&e, line, sizeof(line), "relay");
	ah_enc_u64(&e, "pid", (uint64_t)getpid());
	ah_enc_str(&e, "version", PACKAGE_VERSION);
	ah_enc_i64(&e, "started", r->started);
	ah_enc_str(&e, "config", r->conf->path);
	put(c, &e);

	ah_enc_begin(&e, line, sizeof(line), "feed");
	ah_enc_str(&e, "state", f->state == FEED_UP ? "up" :
	    f->state == FEED_HELLO ? "hello" : "down");
	ah_enc_str(&e, "socket", f->path);
	ah_enc_i64(&e, "since", f->since);
	if (f->state == FEED_UP) {
		ah_enc_str(&e, "named", f->named_version);
		ah_enc_u64(&e, "named_pid", f->named_pid);
		ah_enc_u64(&e, "interval", f->interval_ms);
		ah_enc_u64(&e, "seq", f->seq);
		if (f->last_tick != 0)
			ah_enc_i64(&e, "age_ms", mono_ms() - f->last_tick);
	} else
		ah_enc_str(&e, "error", f->error);
	put(c, &e);

	for (i = 0; i < f->nviews; i++) {
		const struct feed_view *v = &f->views[i];

		/* In chunks: all counters with big values exceed one line. */
		for (k = 0; k < v->ncounters; k++) {
			if (k % 12 == 0) {
				if (k > 0)
					put(c, &e);
				ah_enc_begin(&e, line, sizeof(line), "counters");
				ah_enc_str(&e, "view", v->name);
			}
			ah_enc_u64(&e, v->key[k], v->val[k]);
		}
		if (v->ncounters > 0)
			put(c, &e);
	}

	for (i = 0; i < r->conf->nservices; i++) {
		const struct service_conf	*s = &r->conf->services[i];
		const struct service_state	*st = &r->svc[i];

		ah_enc_begin(&e, line, sizeof(line), "service");
		ah_enc_str(&e, "name", s->name);
		ah_enc_str(&e, "view", s->view);
		ah_enc_str(&e, "state", st->mode == ROUTE_ANNOUNCED ? "up" :
		    st->mode == ROUTE_WITHDRAWN ? "down" : "degraded");
		ah_enc_i64(&e, "since", st->since);
		ah_enc_str(&e, "reason", st->reason);
		ah_enc_u64(&e, "good", st->judge.good);
		ah_enc_u64(&e, "bad", st->judge.bad);
		ah_enc_u64(&e, "rise", s->rise);
		ah_enc_u64(&e, "fall", s->fall);
		if (judge_held(&st->judge, mono_ms()) > 0)
			ah_enc_i64(&e, "held_ms",
			    judge_held(&st->judge, mono_ms()));
		if (s->canary.enabled)
			ah_enc_str(&e, "canary", st->canary.result);
		put(c, &e);
		/* A watchdog service has one route: the watchdog. */
		snprintf(wd, sizeof(wd), "watchdog %s", s->watchdog);
		nroutes = s->watchdog[0] != '\0' ? 1 : s->nprefixes;
		for (j = 0; j < nroutes; j++) {
			ah_enc_begin(&e, line, sizeof(line), "prefix");
			ah_enc_str(&e, "service", s->name);
			ah_enc_str(&e, "prefix", s->watchdog[0] != '\0' ? wd :
			    s->prefixes[j].prefix);
			ah_enc_str(&e, "state",
			    st->mode == ROUTE_ANNOUNCED ? "announced" :
			    st->mode == ROUTE_DEGRADED ? "depreferred" :
			    st->mode == ROUTE_KEPT ? "kept" : "withdrawn");
			ah_enc_i64(&e, "since", st->since);
			put(c, &e);
		}
	}
	reply_done(c, NULL);
}

static void
handle(struct ctl_client *c, struct relay *r, const char *line, size_t n)
{
	struct ah_msg	 m;
	const char	*err;
	uint64_t	 proto;
	char		 msg[128];

	c->answered = 1;
	if (ah_decode(&m, line, n, &err) < 0) {
		snprintf(msg, sizeof(msg), "malformed request: %s", err);
		reply_done(c, msg);
		return;
	}
	if (ah_get_u64(&m, "proto", &proto) < 0 || proto != AH_PROTO_VERSION) {
		snprintf(msg, sizeof(msg), "protocol version mismatch: "
		    "this relay speaks %d", AH_PROTO_VERSION);
		reply_done(c, msg);
		return;
	}
	if (strcmp(m.type, "status") == 0) {
		if (m.nfields != 1) {
			reply_done(c, "status takes no arguments");
			return;
		}
		do_status(c, r);
		return;
	}
	snprintf(msg, sizeof(msg), "unknown command '%s'", m.type);
	reply_done(c, msg);
}

static void
accept_client(void)
{
	size_t	i;
	int	fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *c = &clients[i];

		if (c->fd >= 0)
			continue;
		if ((c->out = malloc(CTL_OUT)) == NULL)
			break;
		c->fd = fd;
		c->answered = 0;
		c->len = c->off = 0;
		ah_lines_init(&c->in);
		return;
	}
	close(fd);
}

static void
client_event(struct ctl_client *c, struct relay *r)
{
	const char	*line;
	size_t		 room, n;
	ssize_t		 k;
	char		*space;
	int		 rc;

	if (!c->answered) {
		space = ah_lines_space(&c->in, &room);
		k = read(c->fd, space, room);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k <= 0) {
			client_close(c);
			return;
		}
		ah_lines_fill(&c->in, (size_t)k);
		rc = ah_lines_next(&c->in, &line, &n);
		if (rc < 0) {
			c->answered = 1;
			reply_done(c, "request line too long");
		} else if (rc == 1)
			handle(c, r, line, n);
		if (!c->answered)
			return;
	}
	while (c->off < c->len) {
		k = send(c->fd, c->out + c->off, c->len - c->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->off += (size_t)k;
	}
	client_close(c);
}

void
control_dispatch(struct relay *r, const struct pollfd *pfd, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (pfd[k].fd == listenfd) {
			accept_client();
			continue;
		}
		for (i = 0; i < CTL_CLIENTS; i++)
			if (clients[i].fd == pfd[k].fd) {
				client_event(&clients[i], r);
				break;
			}
	}
}
