/*
 * control.c - the relay's control socket, for anycastctl.
 *
 * One request per connection, as with rndc: the client sends one
 * record, the relay answers with records and a final 'done', then
 * closes.  Records use the same codec as the plugin feed.  Commands
 * are a table, as in unbound's remote.c and bgpctl's parser: name,
 * the one optional argument, the privilege, the handler.
 *
 * The socket's mode and group decide who may connect; access.c
 * decides who may change things.  A client gets CTL_REQUEST_MS to
 * send its request and CTL_REPLY_MS to read the reply, and when all
 * slots are taken a new connection displaces the oldest one that has
 * not yet sent a request, so idle connections cannot lock operators
 * out.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
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
#define CTL_REQUEST_MS	2000
#define CTL_REPLY_MS	10000

struct ctl_client {
	int		 fd;
	int		 answered;
	int		 overflow;	/* a record did not fit: say so */
	int64_t		 accepted;	/* monotonic ms */
	int64_t		 deadline;
	struct ucred	 peer;
	struct ah_lines	 in;
	char		*out;
	size_t		 len, off;
};

enum ctl_arg { ARG_NONE, ARG_VIEW, ARG_SERVICE };

struct ctl_cmd {
	const char	*name;
	enum ctl_arg	 arg;		/* the one optional field */
	enum ctl_priv	 priv;
	void		(*run)(struct ctl_client *, struct relay *,
			    const char *);
};

static void	do_status(struct ctl_client *, struct relay *, const char *);
static void	do_counters(struct ctl_client *, struct relay *, const char *);
static void	do_zones(struct ctl_client *, struct relay *, const char *);
static void	do_checks(struct ctl_client *, struct relay *, const char *);
static void	do_history(struct ctl_client *, struct relay *, const char *);
static void	do_metrics(struct ctl_client *, struct relay *, const char *);

static const struct ctl_cmd commands[] = {
	{ "status",		ARG_NONE,	PRIV_READ,	do_status },
	{ "show-counters",	ARG_VIEW,	PRIV_READ,	do_counters },
	{ "show-zones",		ARG_VIEW,	PRIV_READ,	do_zones },
	{ "show-checks",	ARG_SERVICE,	PRIV_READ,	do_checks },
	{ "show-history",	ARG_SERVICE,	PRIV_READ,	do_history },
	{ "metrics",		ARG_NONE,	PRIV_READ,	do_metrics },
};

static const char *const arg_names[] = {
	[ARG_NONE] = NULL, [ARG_VIEW] = "view", [ARG_SERVICE] = "service"
};

static int			listenfd = -1;
static struct ctl_client	clients[CTL_CLIENTS];

int
control_init(struct relay *r)
{
	const struct relay_conf	*rc = r->conf;
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	mode_t			 old;
	int			 fd, probe;
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++)
		clients[i].fd = -1;
	if (rc->metrics_listen[0] != '\0')
		(void)metrics_listen(r, rc->metrics_listen);
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
	metrics_stop();
	if (listenfd >= 0) {
		close(listenfd);
		(void)unlink(rc->control_socket);
	}
}

void
control_fds(struct pollfd *pfd, size_t *n)
{
	size_t i;

	if (metrics_fd() >= 0)
		pfd[(*n)++] = (struct pollfd){ .fd = metrics_fd(),
		    .events = POLLIN };
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

	if (n < 0 || c->len + (size_t)n > CTL_OUT - AH_LINE_MAX) {
		c->overflow = 1;
		return;
	}
	memcpy(c->out + c->len, e->buf, (size_t)n);
	c->len += (size_t)n;
}

/*
 * 'code' lets anycastctl choose its exit status without reading the
 * words: denied (permission), usage (bad request), overflow.
 */
static void
reply_error(struct ctl_client *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(struct ctl_client *c, const char *code, const char *fmt, ...)
{
	char		line[AH_LINE_MAX], msg[512];
	struct ah_enc	e;
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ah_enc_begin(&e, line, sizeof(line), "done");
	ah_enc_str(&e, "status", "error");
	ah_enc_str(&e, "code", code);
	ah_enc_str(&e, "msg", msg);
	c->overflow = 0;	/* the room kept by put() is for this */
	put(c, &e);
}

static void
reply_done(struct ctl_client *c)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	if (c->overflow) {
		reply_error(c, "overflow", "the reply is larger than %d KiB; "
		    "ask for one view or service", CTL_OUT / 1024);
		return;
	}
	ah_enc_begin(&e, line, sizeof(line), "done");
	ah_enc_str(&e, "status", "ok");
	put(c, &e);
}

static void
put_relay(struct ctl_client *c, struct relay *r)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	ah_enc_begin(&e, line, sizeof(line), "relay");
	ah_enc_u64(&e, "pid", (uint64_t)getpid());
	ah_enc_str(&e, "version", PACKAGE_VERSION);
	ah_enc_u64(&e, "proto", AH_PROTO_VERSION);
	ah_enc_i64(&e, "started", r->started);
	ah_enc_i64(&e, "now", real_ms());
	ah_enc_str(&e, "config", r->conf->path);
	put(c, &e);
}

static void
put_feed(struct ctl_client *c, const struct feed *f)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;
	size_t		i;

	ah_enc_begin(&e, line, sizeof(line), "feed");
	ah_enc_str(&e, "state", f->state == FEED_UP ? "up" :
	    f->state == FEED_HELLO ? "hello" : "down");
	ah_enc_str(&e, "socket", f->path);
	ah_enc_i64(&e, "since", f->since);
	if (f->state == FEED_UP) {
		ah_enc_str(&e, "named", f->named_version);
		ah_enc_u64(&e, "named_pid", f->named_pid);
		ah_enc_u64(&e, "interval", f->interval_ms);
		ah_enc_u64(&e, "stale_after", f->stale_ms);
		ah_enc_u64(&e, "views", f->nviews);
		if (f->last_tick != 0) {
			ah_enc_u64(&e, "seq", f->seq);
			ah_enc_i64(&e, "age_ms", mono_ms() - f->last_tick);
		}
	} else
		ah_enc_str(&e, "error", f->error);
	put(c, &e);
	for (i = 0; i < f->nviews; i++) {
		ah_enc_begin(&e, line, sizeof(line), "view");
		ah_enc_str(&e, "name", f->views[i].name);
		put(c, &e);
	}
}

static void
put_sessions(struct ctl_client *c)
{
	const struct bgp_session	*s;
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;
	size_t				 i, n;

	s = exabgp_sessions(&n);
	for (i = 0; i < n; i++) {
		ah_enc_begin(&e, line, sizeof(line), "session");
		ah_enc_str(&e, "peer", s[i].peer);
		ah_enc_str(&e, "state", s[i].state);
		ah_enc_i64(&e, "since", s[i].since);
		if (s[i].reason[0] != '\0')
			ah_enc_str(&e, "reason", s[i].reason);
		put(c, &e);
	}
}

static void
put_service(struct ctl_client *c, struct relay *r, size_t i, int details)
{
	const struct service_conf	*s = &r->conf->services[i];
	const struct service_state	*st = &r->svc[i];
	int64_t				 now = mono_ms();
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;

	ah_enc_begin(&e, line, sizeof(line), "service");
	ah_enc_str(&e, "name", s->name);
	ah_enc_str(&e, "view", s->view);
	ah_enc_str(&e, "state", service_state_name(st, now));
	ah_enc_str(&e, "route", route_mode_name(st->mode));
	ah_enc_i64(&e, "since", st->since);
	ah_enc_str(&e, "reason", st->reason);
	ah_enc_u64(&e, "good", st->judge.good);
	ah_enc_u64(&e, "bad", st->judge.bad);
	ah_enc_u64(&e, "rise", s->rise);
	ah_enc_u64(&e, "fall", s->fall);
	if (judge_held(&st->judge, now) > 0)
		ah_enc_i64(&e, "held_ms", judge_held(&st->judge, now));
	if (details) {
		ah_enc_u64(&e, "window_ms", s->window_ms);
		ah_enc_u64(&e, "min_queries", s->min_queries);
		ah_enc_u64(&e, "transitions", st->transitions);
	}
	put(c, &e);
}

/* Which checks the service has: a check without a result still shows. */
static int
configured(const struct service_conf *s, enum check_id c)
{
	switch (c) {
	case CHK_SERVFAIL:
		return (s->checks.servfail_max >= 0);
	case CHK_RECFAIL:
		return (s->checks.recfail_max >= 0);
	case CHK_LATENCY:
		return (s->checks.latency_quantile > 0);
	case CHK_ZONES:
		return (s->checks.nzones > 0 || s->checks.all_zones);
	case CHK_CANARY:
		return (s->canary.enabled);
	default:
		return (0);
	}
}

static void
put_checks(struct ctl_client *c, struct relay *r, size_t i, int details)
{
	static const char *const units[CHK_COUNT] = {
		[CHK_SERVFAIL] = "ratio", [CHK_RECFAIL] = "ratio",
		[CHK_LATENCY] = "ms", [CHK_ZONES] = "zones",
		[CHK_CANARY] = "ms"
	};
	const struct service_conf	*s = &r->conf->services[i];
	const struct service_state	*st = &r->svc[i];
	const struct check_value	*v;
	char				 line[AH_LINE_MAX], num[32];
	struct ah_enc			 e;
	int				 k;

	for (k = 0; k < CHK_COUNT; k++) {
		if (!configured(s, k))
			continue;
		v = &st->val[k];
		ah_enc_begin(&e, line, sizeof(line), "check");
		ah_enc_str(&e, "service", s->name);
		ah_enc_str(&e, "name", check_names[k]);
		ah_enc_str(&e, "state", st->why[k][0] == '\0' ? "waiting" :
		    st->bad[k] ? "failing" : "ok");
		ah_enc_str(&e, "text", st->why[k]);
		if (details) {
			ah_enc_str(&e, "unit", units[k]);
			if (v->have) {
				snprintf(num, sizeof(num), "%.6g", v->value);
				ah_enc_str(&e, "value", num);
				snprintf(num, sizeof(num), "%.6g", v->limit);
				ah_enc_str(&e, "limit", num);
			}
			if (v->have || v->samples > 0) {
				ah_enc_u64(&e, "samples", v->samples);
				ah_enc_i64(&e, "span_ms", v->span_ms);
			}
		}
		put(c, &e);
	}
}

static void
put_prefixes(struct ctl_client *c, struct relay *r, size_t i)
{
	const struct service_conf	*s = &r->conf->services[i];
	const struct service_state	*st = &r->svc[i];
	const struct sent_route		*sent;
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;
	size_t				 j;

	for (j = 0; j < s->nprefixes; j++) {
		ah_enc_begin(&e, line, sizeof(line), "prefix");
		ah_enc_str(&e, "service", s->name);
		ah_enc_str(&e, "prefix", s->prefixes[j].prefix);
		ah_enc_str(&e, "state", route_mode_name(st->mode));
		ah_enc_i64(&e, "since", st->since);
		if ((sent = exabgp_sent(&s->prefixes[j])) != NULL) {
			ah_enc_str(&e, "sent", sent->cmd);
			ah_enc_i64(&e, "sent_at", sent->at);
		}
		put(c, &e);
	}
}

static void
do_status(struct ctl_client *c, struct relay *r, const char *arg)
{
	size_t i;

	put_relay(c, r);
	put_feed(c, &r->feed);
	put_sessions(c);
	for (i = 0; i < r->conf->nservices; i++) {
		put_service(c, r, i, 0);
		put_checks(c, r, i, 0);
		put_prefixes(c, r, i);
	}
	reply_done(c);
}

static void
do_counters(struct ctl_client *c, struct relay *r, const char *view)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	char			 line[AH_LINE_MAX];
	struct ah_enc		 e;
	size_t			 k;

	for (v = f->views; v < f->views + f->nviews; v++) {
		if (view != NULL && strcmp(view, v->name) != 0)
			continue;
		ah_enc_begin(&e, line, sizeof(line), "counters");
		ah_enc_str(&e, "view", v->name);
		ah_enc_u64(&e, "seq", f->seq);
		put(c, &e);
		/* One record each: a busy server's values overflow a line. */
		for (k = 0; k < v->ncounters; k++) {
			ah_enc_begin(&e, line, sizeof(line), "counter");
			ah_enc_str(&e, "view", v->name);
			ah_enc_str(&e, "name", v->key[k]);
			ah_enc_u64(&e, "value", v->val[k]);
			put(c, &e);
		}
	}
	reply_done(c);
}

static void
do_zones(struct ctl_client *c, struct relay *r, const char *view)
{
	static const char *const summary[] = {
		"watched", "healthy", "expired", "unloaded", "missing",
		"checked"
	};
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	const struct feed_zone	*z;
	char			 line[AH_LINE_MAX], key[48];
	struct ah_enc		 e;
	uint64_t		 x;
	size_t			 k;

	for (v = f->views; v < f->views + f->nviews; v++) {
		if (view != NULL && strcmp(view, v->name) != 0)
			continue;
		ah_enc_begin(&e, line, sizeof(line), "zones");
		ah_enc_str(&e, "view", v->name);
		for (k = 0; k < sizeof(summary) / sizeof(summary[0]); k++) {
			snprintf(key, sizeof(key), "zones_%s", summary[k]);
			if (feed_counter(v, key, &x) == 0)
				ah_enc_u64(&e, summary[k], x);
		}
		put(c, &e);
		for (z = f->zones.z; z < f->zones.z + f->zones.n; z++) {
			if (strcmp(z->view, v->name) != 0)
				continue;
			ah_enc_begin(&e, line, sizeof(line), "zone");
			ah_enc_str(&e, "view", z->view);
			ah_enc_str(&e, "name", z->name);
			ah_enc_u64(&e, "found", (uint64_t)z->found);
			if (z->found) {
				ah_enc_u64(&e, "loaded", (uint64_t)z->loaded);
				ah_enc_u64(&e, "expired", (uint64_t)z->expired);
				if (z->has_serial)
					ah_enc_u64(&e, "serial", z->serial);
				ah_enc_i64(&e, "loaded_at", z->loaded_at);
				ah_enc_i64(&e, "refresh", z->refresh);
				ah_enc_i64(&e, "expire", z->expire);
			}
			ah_enc_i64(&e, "checked", z->checked);
			put(c, &e);
		}
	}
	reply_done(c);
}

static void
do_checks(struct ctl_client *c, struct relay *r, const char *service)
{
	size_t i;

	for (i = 0; i < r->conf->nservices; i++) {
		if (service != NULL &&
		    strcmp(service, r->conf->services[i].name) != 0)
			continue;
		put_service(c, r, i, 1);
		put_checks(c, r, i, 1);
	}
	reply_done(c);
}

static void
do_history(struct ctl_client *c, struct relay *r, const char *service)
{
	const struct service_state	*st;
	const struct transition		*t;
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;
	uint64_t			 k, first;
	size_t				 i;

	for (i = 0; i < r->conf->nservices; i++) {
		if (service != NULL &&
		    strcmp(service, r->conf->services[i].name) != 0)
			continue;
		st = &r->svc[i];
		put_service(c, r, i, 1);
		first = st->transitions > HISTORY_LEN ?
		    st->transitions - HISTORY_LEN : 0;
		for (k = first; k < st->transitions; k++) {
			t = &st->history[k % HISTORY_LEN];
			ah_enc_begin(&e, line, sizeof(line), "transition");
			ah_enc_str(&e, "service", r->conf->services[i].name);
			ah_enc_i64(&e, "at", t->at);
			ah_enc_str(&e, "from", route_mode_name(t->from));
			ah_enc_str(&e, "to", route_mode_name(t->to));
			ah_enc_str(&e, "reason", t->reason);
			put(c, &e);
		}
	}
	reply_done(c);
}

static void
do_metrics(struct ctl_client *c, struct relay *r, const char *arg)
{
	struct buf	 b = { 0 };
	char		 line[AH_LINE_MAX], *p, *nl;
	struct ah_enc	 e;

	metrics_render(r, &b);
	if (b.bad) {
		buf_free(&b);
		reply_error(c, "internal", "out of memory");
		return;
	}
	for (p = b.p; p != NULL && p < b.p + b.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b.p + b.len - p));
		*nl = '\0';
		ah_enc_begin(&e, line, sizeof(line), "line");
		ah_enc_str(&e, "text", p);
		put(c, &e);
	}
	buf_free(&b);
	reply_done(c);
}

/* The optional argument names something that exists. */
static int
arg_exists(struct relay *r, enum ctl_arg kind, const char *val)
{
	size_t i;

	if (kind == ARG_VIEW)
		return (feed_view(&r->feed, val) != NULL);
	for (i = 0; i < r->conf->nservices; i++)
		if (strcmp(r->conf->services[i].name, val) == 0)
			return (1);
	return (0);
}

static void
handle(struct ctl_client *c, struct relay *r, const char *line, size_t n)
{
	const struct ctl_cmd	*cmd = NULL;
	const char		*err, *arg = NULL;
	struct ah_msg		 m;
	uint64_t		 proto;
	char			 why[256];
	size_t			 i;

	c->answered = 1;
	c->deadline = mono_ms() + CTL_REPLY_MS;
	if (ah_decode(&m, line, n, &err) < 0) {
		reply_error(c, "usage", "malformed request: %s", err);
		return;
	}
	if (ah_get_u64(&m, "proto", &proto) < 0 || proto != AH_PROTO_VERSION) {
		reply_error(c, "version", "protocol version mismatch: this relay "
		    "speaks %d", AH_PROTO_VERSION);
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, m.type) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		reply_error(c, "usage", "unknown command '%s'", m.type);
		return;
	}
	for (i = 0; i < m.nfields; i++) {
		if (strcmp(m.f[i].key, "proto") == 0)
			continue;
		if (arg_names[cmd->arg] != NULL &&
		    strcmp(m.f[i].key, arg_names[cmd->arg]) == 0) {
			arg = m.f[i].val;
			continue;
		}
		if (cmd->arg == ARG_NONE)
			reply_error(c, "usage", "%s takes no arguments",
			    cmd->name);
		else
			reply_error(c, "usage", "%s: unknown argument '%s' "
			    "(only %s)", cmd->name, m.f[i].key,
			    arg_names[cmd->arg]);
		return;
	}
	if (access_check(r->conf, cmd->priv, c->peer.uid, c->peer.gid, why,
	    sizeof(why)) < 0) {
		log_warnx("control: %s refused to pid %ld: %s", cmd->name,
		    (long)c->peer.pid, why);
		reply_error(c, "denied", "%s: %s", cmd->name, why);
		return;
	}
	if (arg != NULL && !arg_exists(r, cmd->arg, arg)) {
		reply_error(c, "usage", "%s: no %s '%s'%s", cmd->name,
		    arg_names[cmd->arg], arg, cmd->arg == ARG_VIEW ?
		    " in the last snapshot from named" : " in the configuration");
		return;
	}
	cmd->run(c, r, arg);
}

/*
 * All slots taken: the oldest connection that has not sent a request
 * gives way, so anycastctl always gets in while idle clients queue.
 */
static struct ctl_client *
evict(void)
{
	struct ctl_client	*c, *old = NULL;
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++) {
		c = &clients[i];
		if (!c->answered && (old == NULL || c->accepted < old->accepted))
			old = c;
	}
	if (old != NULL) {
		log_warnx("control: all %d slots taken; dropping pid %ld "
		    "(uid %lu), silent for %lld ms", CTL_CLIENTS,
		    (long)old->peer.pid, (unsigned long)old->peer.uid,
		    (long long)(mono_ms() - old->accepted));
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

	fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
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
	    (c->out = malloc(CTL_OUT)) == NULL) {
		log_warn("control client");
		close(fd);
		c->fd = -1;
		return;
	}
	c->fd = fd;
	c->accepted = mono_ms();
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
		rc = ah_lines_next(&c->in, &line, &n);
		if (rc < 0) {
			c->answered = 1;
			c->deadline = mono_ms() + CTL_REPLY_MS;
			reply_error(c, "usage", "request line too long");
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

static void
expire(int64_t now)
{
	struct ctl_client	*c;
	size_t			 i;

	for (i = 0; i < CTL_CLIENTS; i++) {
		c = &clients[i];
		if (c->fd < 0 || now < c->deadline)
			continue;
		log_warnx("control: dropping pid %ld (uid %lu): %s within "
		    "%d ms", (long)c->peer.pid, (unsigned long)c->peer.uid,
		    c->answered ? "reply not read" : "no request",
		    c->answered ? CTL_REPLY_MS : CTL_REQUEST_MS);
		client_close(c);
	}
}

void
control_dispatch(struct relay *r, const struct pollfd *pfd, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0 || pfd[k].fd == metrics_fd())
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
	metrics_run();
	expire(mono_ms());
}
