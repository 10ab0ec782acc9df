/* SPDX-License-Identifier: MPL-2.0 */
/*
 * control.c - the relay's control socket, for anycastctl.
 *
 * One request per connection, as with rndc: the client sends one
 * record, the relay answers with records and a final 'done', then
 * closes.  This file keeps the connections; what a request asks and
 * the records that answer it are ctl_reply.c's.
 *
 * The socket's mode and group decide who may connect; access.c
 * decides who may change things.  A client gets CTL_REQUEST_MS to
 * send its request and CTL_REPLY_MS to read the reply, and when all
 * slots are taken a new connection displaces the oldest one that has
 * not yet sent a request, or else the one whose reply has waited
 * longest, unread, for CTL_STALL_MS or more, so idle connections and
 * clients that ask and never read cannot lock operators out.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "ahsock.h"
#include "control.h"
#include "ctl_reply.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "relay.h"

#define CTL_CLIENTS	16
#define CTL_REQUEST_MS	2000
#define CTL_REPLY_MS	10000
/* anycastctl reads a whole reply within milliseconds. */
#define CTL_STALL_MS	1000

struct ctl_client {
	int		 fd;
	int		 answered;
	int64_t		 accepted;	/* monotonic ms */
	int64_t		 deadline;
	struct ucred	 peer;
	struct ah_lines	 in;
	struct ctl_reply reply;
	size_t		 off;		/* of the reply, sent */
	int64_t		 sent_at;	/* answered, or last sent some */
};

static struct ah_acceptor	listener = { .fd = -1 };
static struct ctl_client	clients[CTL_CLIENTS];
/* What clients make the relay log (log.h). */
static struct log_limit		noise;

int
control_init(struct relay *r)
{
	const struct relay_conf	*rc = r->conf;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++)
		clients[i].fd = -1;
	if (rc->metrics_listen[0] != '\0')
		(void)http_listen(r, rc->metrics_listen);
	listener.fd = ah_sock_listen(rc->control_socket, rc->control_mode,
	    rc->control_gid, 8, NULL, err, sizeof(err));
	if (listener.fd < 0) {
		log_warnx("control socket: %s", err);
		return (-1);
	}
	return (0);
}

void
control_cleanup(const struct relay_conf *rc)
{
	http_stop();
	if (listener.fd >= 0) {
		close(listener.fd);
		(void)unlink(rc->control_socket);
	}
}

void
control_fds(struct pollfd *pfd, size_t *n)
{
	size_t i;

	if (http_fd() >= 0)
		pfd[(*n)++] = (struct pollfd){ .fd = http_fd(),
		    .events = POLLIN };
	if (listener.fd < 0)
		return;
	/* Out of descriptors: the listener rests (ahsock.h). */
	pfd[(*n)++] = (struct pollfd){ .fd = ah_acceptor_fd(&listener,
	    ah_mono_ms()), .events = POLLIN };
	for (i = 0; i < CTL_CLIENTS; i++)
		if (clients[i].fd >= 0)
			pfd[(*n)++] = (struct pollfd){ .fd = clients[i].fd,
			    .events = clients[i].answered ? POLLOUT : POLLIN };
}

static void
client_close(struct ctl_client *c)
{
	close(c->fd);
	free(c->reply.buf);
	c->fd = -1;
	c->reply.buf = NULL;
}

/*
 * All slots taken: the oldest connection that has not sent a request
 * gives way, so anycastctl always gets in while idle clients queue;
 * with none, the one whose reply has waited unread longest, for
 * CTL_STALL_MS or more (a reply larger than the socket's buffer, never
 * read, held its slot for CTL_REPLY_MS).
 */
static struct ctl_client *
evict(void)
{
	struct ctl_client	*c, *old = NULL, *stalled = NULL;
	int64_t			 now = ah_mono_ms();
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++) {
		c = &clients[i];
		if (!c->answered && (old == NULL || c->accepted < old->accepted))
			old = c;
		if (c->answered && now - c->sent_at >= CTL_STALL_MS &&
		    (stalled == NULL || c->sent_at < stalled->sent_at))
			stalled = c;
	}
	if (old != NULL) {
		if (log_limited(&noise, "control"))
			log_warnx("control: all %d slots taken; dropping pid "
			    "%ld (uid %lu), silent for %lld ms", CTL_CLIENTS,
			    (long)old->peer.pid, (unsigned long)old->peer.uid,
			    (long long)(now - old->accepted));
		client_close(old);
	} else if ((old = stalled) != NULL) {
		if (log_limited(&noise, "control"))
			log_warnx("control: all %d slots taken; dropping pid "
			    "%ld (uid %lu), its reply unread for %lld ms",
			    CTL_CLIENTS, (long)old->peer.pid,
			    (unsigned long)old->peer.uid,
			    (long long)(now - old->sent_at));
		client_close(old);
	}
	return (old);
}

static void
accept_client(void)
{
	struct ctl_client	*c = NULL;
	socklen_t		 len;
	size_t			 i;
	int			 fd;

	fd = ah_accept(&listener, ah_mono_ms());
	if (fd < 0)
		return;
	for (i = 0; i < CTL_CLIENTS && c == NULL; i++)
		if (clients[i].fd < 0)
			c = &clients[i];
	if (c == NULL && (c = evict()) == NULL) {
		close(fd);	/* all busy writing replies: come back later */
		return;
	}
	memset(c, 0, sizeof(*c));
	len = sizeof(c->peer);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0 ||
	    (c->reply.buf = malloc(CTL_OUT)) == NULL) {
		log_warn("control client");
		close(fd);
		c->fd = -1;
		return;
	}
	c->fd = fd;
	c->accepted = ah_mono_ms();
	c->deadline = c->accepted + CTL_REQUEST_MS;
	ah_lines_init(&c->in);
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
		if ((rc = ah_lines_next(&c->in, &line, &n)) == 0)
			return;
		c->answered = 1;
		c->sent_at = ah_mono_ms();
		c->deadline = c->sent_at + CTL_REPLY_MS;
		if (rc < 0)
			ctl_reply_error(&c->reply, "usage",
			    "request line too long");
		else
			ctl_answer(&c->reply, r, line, n, &c->peer);
	}
	while (c->off < c->reply.len) {
		k = send(c->fd, c->reply.buf + c->off, c->reply.len - c->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->off += (size_t)k;
		c->sent_at = ah_mono_ms();
	}
	client_close(c);
}

static void
expire(int64_t now)
{
	struct ctl_client	*c;
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++) {
		c = &clients[i];
		if (c->fd < 0 || now < c->deadline)
			continue;
		if (log_limited(&noise, "control"))
			log_warnx("control: dropping pid %ld (uid %lu): %s "
			    "within %d ms", (long)c->peer.pid,
			    (unsigned long)c->peer.uid, c->answered ?
			    "reply not read" : "no request", c->answered ?
			    CTL_REPLY_MS : CTL_REQUEST_MS);
		client_close(c);
	}
}

void
control_dispatch(struct relay *r, const struct pollfd *pfd, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0 || pfd[k].fd == http_fd())
			continue;
		if (pfd[k].fd == listener.fd) {
			accept_client();
			continue;
		}
		for (i = 0; i < CTL_CLIENTS; i++)
			if (clients[i].fd == pfd[k].fd) {
				client_event(&clients[i], r);
				break;
			}
	}
	http_run();
	expire(ah_mono_ms());
}
