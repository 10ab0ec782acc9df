/* SPDX-License-Identifier: MPL-2.0 */
/*
 * http.c - the metrics over HTTP (control.metrics-listen), for
 * Prometheus.
 *
 * libmicrohttpd runs in its external event loop mode: its epoll fd
 * joins the relay's poll(), and requests are answered inside MHD_run()
 * on the relay's own thread, so rendering reads the relay's state
 * without locks.
 *
 * Whoever can reach the endpoint must not be able to blind the
 * monitoring.  libmicrohttpd's own limits do not see to that: its
 * timeout is for inactivity, so a client sending a byte a second is
 * never timed out, and at its connection limit it stops accepting,
 * which leaves a scrape in the listen queue behind clients that hold
 * every slot.  So the connections are kept here, as the control
 * socket keeps its own (control.c):
 *
 * - One request per connection (Connection: close).  It must have
 *   arrived whole HTTP_REQUEST_MS after the connection, and the answer
 *   must have been taken HTTP_ANSWER_MS after it; the connection is
 *   closed then, however many bytes it trickles.
 * - At most HTTP_PER_ADDR connections from one address (IPv6: one
 *   /64), HTTP_CONNS in all.  A connection beyond either limit makes
 *   room by closing the one that has waited longest for its request,
 *   from its own address first, and from an address never answered
 *   before one that was.  A scraper sends its request at once, so
 *   whoever holds connections without asking only makes way for it;
 *   but "at once" is not soon enough: a scraper on a busy host may
 *   send its request milliseconds after it connected, and clients
 *   that come back the moment they are closed, from many addresses,
 *   arrive faster than that (libmicrohttpd accepts up to 10 a turn,
 *   turn after turn), so by age alone the scraper's connection soon
 *   became the oldest.  The addresses answered last (HTTP_KNOWN of
 *   them) are remembered instead, and their connections go only when
 *   no other waits: a scraper known from its last scrape keeps its
 *   place whatever a flood of strangers does.
 *
 * libmicrohttpd's own limit, HTTP_MAX, only bounds the descriptors
 * while closed connections wait for its next turn.  Its listen backlog
 * is the system's, and never fills, as every turn accepts.
 */
#include <config.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ahclock.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define HTTP_CONNS		32
#define HTTP_PER_ADDR		4
#define HTTP_MAX		64
#define HTTP_KNOWN		16
#define HTTP_REQUEST_MS		2000
#define HTTP_ANSWER_MS		10000
/* Closed connections are counted and logged at most this often. */
#define HTTP_LOG_MS		60000

enum http_close {
	HTTP_NO_REQUEST, HTTP_NOT_TAKEN, HTTP_MADE_ROOM, HTTP_REFUSED,
	HTTP_CLOSES
};

struct http_conn {
	struct MHD_Connection	*mc;	/* NULL: a free slot */
	int			 fd;
	int64_t			 start;	/* monotonic ms */
	int			 asked;	/* its request arrived */
	int			 closing;
	int			 known;	/* its address was answered */
	unsigned char		 addr[16]; /* IPv4, or an IPv6 /64 */
	char			 name[INET6_ADDRSTRLEN];
};

static struct MHD_Daemon	*mhd;
static struct http_conn		 conns[HTTP_MAX];
/* The addresses answered last, each with when; 0: a free entry. */
static struct {
	unsigned char	addr[16];
	int64_t		when;
} known[HTTP_KNOWN];
static unsigned long		 closed[HTTP_CLOSES];
static char			 last_from[INET6_ADDRSTRLEN];
static int64_t			 logged;

/*
 * Once a minute at most: how many connections were closed and why, so
 * an operator sees that someone holds the endpoint, and the log does
 * not fill while they do.
 */
static void
closed_log(int64_t now)
{
	unsigned long	n = 0;
	int		i;

	for (i = 0; i < HTTP_CLOSES; i++)
		n += closed[i];
	if (n == 0 || now - logged < HTTP_LOG_MS)
		return;
	log_warnx("metrics endpoint: clients holding connections: %lu "
	    "closed without a request within %d ms, %lu not reading the "
	    "answer within %d ms, %lu closed to make room for others, %lu "
	    "refused; the last from %s", closed[HTTP_NO_REQUEST],
	    HTTP_REQUEST_MS, closed[HTTP_NOT_TAKEN], HTTP_ANSWER_MS,
	    closed[HTTP_MADE_ROOM], closed[HTTP_REFUSED], last_from);
	memset(closed, 0, sizeof(closed));
	logged = now;
}

/* libmicrohttpd closes it on its next turn, when it reads the end. */
static void
conn_close(struct http_conn *c, enum http_close why)
{
	(void)shutdown(c->fd, SHUT_RDWR);
	c->closing = 1;
	closed[why]++;
	snprintf(last_from, sizeof(last_from), "%s", c->name);
}

static int
known_find(const unsigned char *addr)
{
	int	i;

	for (i = 0; i < HTTP_KNOWN; i++)
		if (known[i].when != 0 &&
		    memcmp(known[i].addr, addr, sizeof(known[i].addr)) == 0)
			return (i);
	return (-1);
}

/*
 * 'addr' was answered: remembered, in place of the one answered
 * longest ago.
 */
static void
known_add(const unsigned char *addr, int64_t now)
{
	int	i, old = 0;

	if ((i = known_find(addr)) == -1) {
		for (i = 0; i < HTTP_KNOWN; i++)
			if (known[i].when < known[old].when)
				old = i;
		i = old;
		memcpy(known[i].addr, addr, sizeof(known[i].addr));
	}
	known[i].when = now;
}

/*
 * The connection to close for room, but 'except': of those still
 * waiting for their request (from 'addr', if given), from an unknown
 * address before a known one, the oldest first.
 */
static struct http_conn *
oldest_waiting(const struct http_conn *except, const unsigned char *addr)
{
	struct http_conn	*c, *old = NULL;

	for (c = conns; c < conns + HTTP_MAX; c++)
		if (c->mc != NULL && c != except && !c->closing &&
		    !c->asked && (addr == NULL ||
		    memcmp(c->addr, addr, sizeof(c->addr)) == 0) &&
		    (old == NULL || c->known < old->known ||
		    (c->known == old->known && c->start < old->start)))
			old = c;
	return (old);
}

/* Room for 'n' under its address's limit and under the total. */
static void
make_room(struct http_conn *n)
{
	struct http_conn	*c, *victim;
	int			 same = 0, all = 0;

	for (c = conns; c < conns + HTTP_MAX; c++)
		if (c->mc != NULL && !c->closing) {
			all++;
			same += memcmp(c->addr, n->addr, sizeof(c->addr)) == 0;
		}
	if (same > HTTP_PER_ADDR)
		victim = oldest_waiting(n, n->addr);
	else if (all > HTTP_CONNS)
		victim = oldest_waiting(n, NULL);
	else
		return;
	/* Every other one is being answered: this one comes back later. */
	if (victim == NULL)
		conn_close(n, HTTP_REFUSED);
	else
		conn_close(victim, HTTP_MADE_ROOM);
}

static void
conn_addr(struct http_conn *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(c->addr, 0, sizeof(c->addr));
	c->name[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		memcpy(c->addr, &sin->sin_addr, sizeof(sin->sin_addr));
		(void)inet_ntop(AF_INET, &sin->sin_addr, c->name,
		    sizeof(c->name));
	} else if (sa->sa_family == AF_INET6) {
		/* One host may have a whole /64: it is one address here. */
		memcpy(c->addr, &sin6->sin6_addr, 8);
		(void)inet_ntop(AF_INET6, &sin6->sin6_addr, c->name,
		    sizeof(c->name));
	}
}

static void
notify(void *cls, struct MHD_Connection *mc, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo	*info;
	const struct sockaddr		*sa;
	struct http_conn		*c;
	int				 fd;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((c = *ctx) != NULL)
			c->mc = NULL;
		*ctx = NULL;
		return;
	}
	/* libmicrohttpd holds at most HTTP_MAX, so a slot is free. */
	for (c = conns; c < conns + HTTP_MAX && c->mc != NULL; c++)
		;
	/*
	 * Each answer is taken before the next question: libmicrohttpd
	 * 1.0 gives them all in one place, which the next call
	 * overwrites (0.9 pointed into the connection).
	 */
	info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info == NULL)
		return;
	fd = info->connect_fd;
	info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = info != NULL ? info->client_addr : NULL;
	if (c == conns + HTTP_MAX) {		/* but never unwatched */
		(void)shutdown(fd, SHUT_RDWR);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->mc = mc;
	c->fd = fd;
	c->start = ah_mono_ms();
	conn_addr(c, sa);
	c->known = known_find(c->addr) != -1;
	*ctx = c;
	make_room(c);
}

static enum MHD_Result
http_queue(struct MHD_Connection *mc, unsigned int code,
    struct MHD_Response *resp, const char *type)
{
	enum MHD_Result	rv;

	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
	    "close");
	rv = MHD_queue_response(mc, code, resp);
	MHD_destroy_response(resp);
	return (rv);
}

static enum MHD_Result
http_reply(struct MHD_Connection *mc, unsigned int code, const char *text)
{
	struct MHD_Response	*resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MHD_NO);
	return (http_queue(mc, code, resp, "text/plain; charset=utf-8"));
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **req)
{
	const union MHD_ConnectionInfo	*info;
	struct relay			*r = cls;
	struct http_conn		*c;
	struct MHD_Response		*resp;
	struct buf			 b = { 0 };

	info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (info != NULL && (c = info->socket_context) != NULL) {
		c->asked = 1;
		known_add(c->addr, ah_mono_ms());
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return (http_reply(mc, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n"));
	if (strcmp(url, "/metrics") != 0)
		return (http_reply(mc, MHD_HTTP_NOT_FOUND,
		    "anycast-relay: metrics are at /metrics\n"));
	metrics_render(r, &b);
	if (b.bad) {
		buf_free(&b);
		return (http_reply(mc, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n"));
	}
	resp = MHD_create_response_from_buffer(b.len, b.p,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		buf_free(&b);
		return (MHD_NO);
	}
	return (http_queue(mc, MHD_HTTP_OK, resp,
	    "text/plain; version=0.0.4; charset=utf-8"));
}

/*
 * libmicrohttpd's own complaints, a client that hung up among them:
 * the first, then at most one a minute, so that clients cannot fill
 * the log (ExaBGP's) by connecting.
 */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static int64_t		 last;
	static unsigned long	 quiet;
	int64_t			 now = ah_mono_ms();
	char			 msg[256];

	if (last != 0 && now - last < HTTP_LOG_MS) {
		quiet++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (quiet > 0)
		log_warnx("metrics endpoint: %s (and %lu messages not logged "
		    "in the last %lld s)", msg, quiet,
		    (long long)((now - last) / 1000));
	else
		log_warnx("metrics endpoint: %s", msg);
	last = now;
	quiet = 0;
}

/* 'addr' was checked by the config loader: ADDRESS:PORT or [V6]:PORT. */
int
http_listen(struct relay *r, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	char			 host[64];
	const char		*colon = strrchr(addr, ':');
	int			 v6 = addr[0] == '[';
	size_t			 len = (size_t)(colon - addr) - (v6 ? 2 : 0);
	uint16_t		 port = (uint16_t)atoi(colon + 1);

	memset(&ss, 0, sizeof(ss));
	snprintf(host, sizeof(host), "%.*s", (int)len, addr + v6);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		(void)inet_pton(AF_INET6, host, &sin6->sin6_addr);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		(void)inet_pton(AF_INET, host, &sin->sin_addr);
	}
	memset(conns, 0, sizeof(conns));
	memset(known, 0, sizeof(known));
	/* The logger first, or the options before it log elsewhere. */
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, answer, r,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)(HTTP_ANSWER_MS / 1000),
	    MHD_OPTION_NOTIFY_CONNECTION, notify, NULL,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		log_warnx("cannot serve metrics on %s", addr);
		return (-1);
	}
	log_info("serving metrics on http://%s/metrics", addr);
	return (0);
}

int
http_fd(void)
{
	const union MHD_DaemonInfo *info;

	if (mhd == NULL ||
	    (info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL)
		return (-1);
	return (info->epoll_fd);
}

/*
 * Called on every turn of the loop, at least once a second: serves
 * what is ready, then closes the connections past their deadline.
 */
void
http_run(void)
{
	struct http_conn	*c;
	int64_t			 now;

	if (mhd == NULL)
		return;
	(void)MHD_run(mhd);
	now = ah_mono_ms();
	for (c = conns; c < conns + HTTP_MAX; c++)
		if (c->mc != NULL && !c->closing &&
		    now - c->start > (c->asked ? HTTP_ANSWER_MS :
		    HTTP_REQUEST_MS))
			conn_close(c, c->asked ? HTTP_NOT_TAKEN :
			    HTTP_NO_REQUEST);
	closed_log(now);
}

void
http_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
}
