/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_reply.c - the answer to one control request: the command it
 * names, checked against access.c, and its reply as records.
 *
 * Commands are a table, as in unbound's remote.c and bgpctl's parser:
 * name, the one optional argument, the privilege, the handler.  Each
 * handler puts its records and ends with a 'done' (reply_done()), or
 * with an error record whose code says why.  Records use the same
 * codec as the plugin feed.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access.h"
#include "ahclock.h"
#include "ahproto.h"
#include "check.h"
#include "ctl_reply.h"
#include "ctl_request.h"
#include "drain.h"
#include "exabgp.h"
#include "feed.h"
#include "handover.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "relay.h"
#include "reload.h"
#include "route.h"
#include "sessions.h"

#define HANDLER(name)	static void name(struct ctl_reply *, \
			    struct relay *, const struct ctl_req *)
HANDLER(do_status);
HANDLER(do_counters);
HANDLER(do_zones);
HANDLER(do_checks);
HANDLER(do_history);
HANDLER(do_metrics);
HANDLER(do_drain);
HANDLER(do_undrain);
HANDLER(do_release);
HANDLER(do_reload);

static const struct ctl_cmd commands[] = {
	{ "status",	   ARG_NONE,	0, PRIV_READ,	do_status },
	{ "show-counters", ARG_VIEW,	0, PRIV_READ,	do_counters },
	{ "show-zones",	   ARG_VIEW,	0, PRIV_READ,	do_zones },
	{ "show-checks",   ARG_SERVICE,	0, PRIV_READ,	do_checks },
	{ "show-history",  ARG_SERVICE,	0, PRIV_READ,	do_history },
	{ "metrics",	   ARG_NONE,	0, PRIV_READ,	do_metrics },
	{ "drain",	   ARG_SERVICE,	1, PRIV_ADMIN,	do_drain },
	{ "undrain",	   ARG_SERVICE,	0, PRIV_ADMIN,	do_undrain },
	{ "release",	   ARG_SERVICE,	0, PRIV_ADMIN,	do_release },
	{ "reload",	   ARG_NONE,	0, PRIV_ADMIN,	do_reload },
};


/*
 * A record, within 'limit' bytes of reply.  The records keep a line's
 * room for the 'done' that ends the reply (CTL_OUT - AH_LINE_MAX), and
 * none follows one that did not fit: a reply is whole up to a point.
 */
static void
put_within(struct ctl_reply *rp, struct ah_enc *e, size_t limit)
{
	int n = ah_enc_end(e);

	if (n < 0 || rp->len + (size_t)n > limit) {
		rp->overflow = 1;
		return;
	}
	memcpy(rp->buf + rp->len, e->buf, (size_t)n);
	rp->len += (size_t)n;
}

static void
put(struct ctl_reply *rp, struct ah_enc *e)
{
	if (!rp->overflow)
		put_within(rp, e, CTL_OUT - AH_LINE_MAX);
}

void
ctl_reply_error(struct ctl_reply *rp, const char *code, const char *fmt,
    ...)
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
	put_within(rp, &e, CTL_OUT);	/* the room put() kept */
}

static void
reply_done(struct ctl_reply *rp)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	if (rp->overflow) {
		ctl_reply_error(rp, "overflow", "the reply is larger than %d "
		    "KiB; %s", CTL_OUT / 1024, rp->hint != NULL ? rp->hint :
		    "ask for one view or service");
		return;
	}
	ah_enc_begin(&e, line, sizeof(line), "done");
	ah_enc_str(&e, "status", "ok");
	put(rp, &e);
}

/*
 * A record whose text ('tkey') may be long, a message quoting the file:
 * cut, and marked so, to fit a line rather than lose the reply.
 */
static void
put_fit(struct ctl_reply *rp, const char *type, const char *key,
    const char *val, const char *tkey, const char *text)
{
	char		line[AH_LINE_MAX], cut[AH_LINE_MAX];
	struct ah_enc	e;
	size_t		n = strlen(text);

	for (;;) {
		snprintf(cut, sizeof(cut), "%.*s%s", (int)n, text,
		    text[n] != '\0' ? "..." : "");
		ah_enc_begin(&e, line, sizeof(line), type);
		if (key != NULL)
			ah_enc_str(&e, key, val);
		if (cut[0] != '\0')
			ah_enc_str(&e, tkey, cut);
		if (ah_enc_end(&e) >= 0 || n == 0)
			break;
		n = n * 3 / 4;
	}
	ah_enc_begin(&e, line, sizeof(line), type);
	if (key != NULL)
		ah_enc_str(&e, key, val);
	if (cut[0] != '\0')
		ah_enc_str(&e, tkey, cut);
	put(rp, &e);
}

static void
put_relay(struct ctl_reply *rp, struct relay *r)
{
	const struct lastgood	*lg = &r->lastgood;
	char			 line[AH_LINE_MAX], spawns[200];
	struct ah_enc		 e;

	ah_enc_begin(&e, line, sizeof(line), "relay");
	ah_enc_u64(&e, "pid", (uint64_t)getpid());
	ah_enc_str(&e, "version", PACKAGE_VERSION);
	ah_enc_u64(&e, "proto", AH_PROTO_VERSION);
	ah_enc_i64(&e, "started", r->started);
	ah_enc_i64(&e, "now", ah_real_ms());
	handover_spawns(r, spawns, sizeof(spawns));
	ah_enc_str(&e, "spawns", spawns);
	ah_enc_str(&e, "config", r->conf->path);
	if (r->taken_from != 0) {
		ah_enc_u64(&e, "taken_from", r->taken_from);
		ah_enc_str(&e, "taken_after", r->taken_after);
	}
	/* What runs, and what the file said when last read (lastgood.h). */
	ah_enc_u64(&e, "config_ok", lg->error[0] == '\0');
	ah_enc_str(&e, "config_source", lastgood_source(lg));
	if (lg->accepted > 0)
		ah_enc_i64(&e, "config_accepted", lg->accepted);
	if (lg->error[0] != '\0') {
		ah_enc_u64(&e, "config_errors", lg->nerrors);
		ah_enc_i64(&e, "config_rejected", lg->rejected);
	}
	put(rp, &e);
	if (lg->error[0] != '\0')
		put_fit(rp, "config_error", NULL, NULL, "text", lg->error);
	put_fit(rp, "last_good", "path", lg->copy, "warning", lg->warning);
}

static void
put_feed(struct ctl_reply *rp, const struct feed *f)
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
		if (f->plugin_version[0] != '\0')
			ah_enc_str(&e, "plugin_version", f->plugin_version);
		ah_enc_u64(&e, "named_pid", f->named_pid);
		ah_enc_u64(&e, "proto", f->proto);
		ah_enc_u64(&e, "interval", f->interval_ms);
		ah_enc_u64(&e, "stale_after", f->stale_ms);
		ah_enc_u64(&e, "views", f->nviews);
		if (f->last_tick != 0) {
			ah_enc_u64(&e, "seq", f->seq);
			ah_enc_i64(&e, "age_ms", ah_mono_ms() - f->last_tick);
		}
	} else
		ah_enc_str(&e, "error", f->error);
	put(rp, &e);
	for (i = 0; i < f->nviews; i++) {
		ah_enc_begin(&e, line, sizeof(line), "view");
		ah_enc_str(&e, "name", f->views[i].name);
		put(rp, &e);
	}
}

static void
put_sessions(struct ctl_reply *rp)
{
	const struct bgp_session	*s;
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;
	size_t				 i, n;

	s = sessions_list(&n);
	for (i = 0; i < n; i++) {
		ah_enc_begin(&e, line, sizeof(line), "session");
		ah_enc_str(&e, "peer", s[i].peer);
		ah_enc_str(&e, "state", s[i].state);
		ah_enc_i64(&e, "since", s[i].since);
		if (s[i].reason[0] != '\0')
			ah_enc_str(&e, "reason", s[i].reason);
		put(rp, &e);
	}
}

/* A rate as sent: one decimal, or absent while unknown. */
static void
enc_rate(struct ah_enc *e, const char *key, double rate)
{
	char num[32];

	if (rate < 0)
		return;
	snprintf(num, sizeof(num), "%.1f", rate);
	ah_enc_str(e, key, num);
}

static void
put_drain(struct ctl_reply *rp, const struct relay *r,
    const struct service_conf *s, const struct drain *d, int64_t now)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	ah_enc_begin(&e, line, sizeof(line), "drain");
	ah_enc_str(&e, "service", s->name);
	ah_enc_str(&e, "state", drain_state_name(d->state));
	ah_enc_i64(&e, "since", d->since);
	ah_enc_str(&e, "by", d->by);
	if (d->state == DRAIN_DRAINING) {
		ah_enc_i64(&e, "deadline", ah_real_ms() + (d->deadline - now));
		ah_enc_u64(&e, "timeout_ms", d->timeout_ms);
		ah_enc_u64(&e, "hold_ms", s->drain.hold_ms);
	} else {
		ah_enc_str(&e, "end", drain_end_name(d->end));
		ah_enc_i64(&e, "ended", d->ended);
	}
	enc_rate(&e, "before", d->before);
	enc_rate(&e, "rate", d->rate);
	if (d->end != DRAIN_RESTORED)
		enc_rate(&e, "limit", d->limit);
	ah_enc_str(&e, "text", d->why);
	if (r->state_error[0] != '\0')
		ah_enc_str(&e, "warning", r->state_error);
	put(rp, &e);
}

static void
put_service(struct ctl_reply *rp, struct relay *r, size_t i, int details)
{
	const struct service_conf	*s = &r->conf->services[i];
	const struct service_state	*st = &r->svc[i];
	int64_t				 now = ah_mono_ms();
	char				 line[AH_LINE_MAX];
	struct ah_enc			 e;

	ah_enc_begin(&e, line, sizeof(line), "service");
	ah_enc_str(&e, "name", s->name);
	ah_enc_str(&e, "view", s->view);
	ah_enc_str(&e, "state", health_state_names[health_state(st, now)]);
	ah_enc_str(&e, "route", route_mode_name(st->route.mode));
	ah_enc_i64(&e, "since", st->route.since);
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
		ah_enc_u64(&e, "transitions", st->route.transitions);
	}
	put(rp, &e);
	if (st->drain.state != DRAIN_NONE)
		put_drain(rp, r, s, &st->drain, now);
}

static void
put_checks(struct ctl_reply *rp, struct relay *r, size_t i, int details)
{
	const struct service_conf	*s = &r->conf->services[i];
	const struct check_state	*cs;
	const struct check_value	*v;
	char				 line[AH_LINE_MAX], num[32];
	struct ah_enc			 e;
	int				 k;

	/* Every check the service has, also one without a result yet. */
	for (k = 0; k < CHK_COUNT; k++) {
		if (!checks[k].enabled(s))
			continue;
		cs = &r->svc[i].chk[k];
		v = &cs->val;
		ah_enc_begin(&e, line, sizeof(line), "check");
		ah_enc_str(&e, "service", s->name);
		ah_enc_str(&e, "name", checks[k].name);
		ah_enc_str(&e, "state", cs->why[0] == '\0' ? "waiting" :
		    cs->bad ? "failing" : cs->excused ? "excused" :
		    cs->nodata ? "no-data" : "ok");
		ah_enc_str(&e, "text", cs->why);
		if (details) {
			ah_enc_str(&e, "unit", checks[k].unit);
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
		put(rp, &e);
	}
}

/* ExaBGP's side: its neighbor list, the answers still due, rejections. */
static void
put_exabgp(struct ctl_reply *rp)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	ah_enc_begin(&e, line, sizeof(line), "exabgp");
	if (sessions_listed() != 0)
		ah_enc_i64(&e, "neighbors_at", sessions_listed());
	ah_enc_u64(&e, "commands", exabgp_commands());
	ah_enc_u64(&e, "waiting", exabgp_waiting());
	ah_enc_u64(&e, "rejected", exabgp_rejected());
	put(rp, &e);
}

/* One route: what the relay wants of it, and what is true of it. */
static void
put_route(struct ctl_reply *rp, const char *service, const char *prefix,
    enum route_mode mode, const struct route_held *h)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;

	ah_enc_begin(&e, line, sizeof(line), "prefix");
	ah_enc_str(&e, "service", service);
	ah_enc_str(&e, "prefix", prefix);
	ah_enc_str(&e, "state", prefix_state_name(mode, h->held));
	ah_enc_str(&e, "route", route_mode_name(mode));
	ah_enc_i64(&e, "since", h->since);
	if (h->held != HELD_ANNOUNCED && h->held != HELD_WITHDRAWN)
		ah_enc_str(&e, "why", h->why);
	if (h->sent != NULL) {
		ah_enc_str(&e, "exabgp", ack_name(h->sent->ack));
		ah_enc_str(&e, "sent", h->sent->cmd);
		ah_enc_i64(&e, "sent_at", h->sent->at);
	}
	put(rp, &e);
}

static void
put_prefixes(struct ctl_reply *rp, struct relay *r, size_t i)
{
	const struct service_conf	*s = &r->conf->services[i];
	const struct service_state	*st = &r->svc[i];
	struct route_held		 h;
	char				 wd[AH_NAME_LEN + 16];
	size_t				 j;

	/* A watchdog service has one route: the watchdog. */
	if (s->watchdog[0] != '\0') {
		snprintf(wd, sizeof(wd), "watchdog %s", s->watchdog);
		exabgp_watchdog_held(s->watchdog, &h);
		put_route(rp, s->name, wd, st->route.mode, &h);
	}
	for (j = 0; j < s->nprefixes; j++) {
		exabgp_prefix_held(&s->prefixes[j], &h);
		put_route(rp, s->name, s->prefixes[j].prefix, st->route.mode,
		    &h);
	}
}

static void
do_status(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	size_t i;

	put_relay(rp, r);
	put_feed(rp, &r->feed);
	put_exabgp(rp);
	put_sessions(rp);
	for (i = 0; i < r->conf->nservices; i++) {
		put_service(rp, r, i, 0);
		put_checks(rp, r, i, 0);
		put_prefixes(rp, r, i);
	}
	reply_done(rp);
}

static void
do_counters(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	const struct feed	*f = &r->feed;
	const struct feed_view	*v;
	const char		*view = req->arg;
	char			 line[AH_LINE_MAX];
	struct ah_enc		 e;
	size_t			 k;

	for (v = f->views; v < f->views + f->nviews; v++) {
		if (view != NULL && strcmp(view, v->name) != 0)
			continue;
		ah_enc_begin(&e, line, sizeof(line), "counters");
		ah_enc_str(&e, "view", v->name);
		ah_enc_u64(&e, "seq", f->seq);
		put(rp, &e);
		/* One record each: a busy server's values overflow a line. */
		for (k = 0; k < v->ncounters; k++) {
			ah_enc_begin(&e, line, sizeof(line), "counter");
			ah_enc_str(&e, "view", v->name);
			ah_enc_str(&e, "name", v->key[k]);
			ah_enc_u64(&e, "value", v->val[k]);
			put(rp, &e);
		}
	}
	reply_done(rp);
}

static void
do_zones(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	static const char *const summary[] = {
		"watched", "healthy", "expired", "unloaded", "missing",
		"checked"
	};
	const char		*view = req->arg;
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
			snprintf(key, sizeof(key), FEED_ZONES "%s", summary[k]);
			if (feed_counter(v, key, &x) == 0)
				ah_enc_u64(&e, summary[k], x);
		}
		put(rp, &e);
		for (z = f->zones.z; z < f->zones.z + f->zones.n; z++) {
			if (strcmp(z->view, v->name) != 0)
				continue;
			ah_enc_begin(&e, line, sizeof(line), "zone");
			ah_enc_str(&e, "view", z->view);
			ah_enc_str(&e, "name", z->name);
			ah_enc_u64(&e, "found", (uint64_t)z->found);
			if (z->found) {
				if (z->type[0] != '\0')
					ah_enc_str(&e, "type", z->type);
				ah_enc_u64(&e, "loaded", (uint64_t)z->loaded);
				ah_enc_u64(&e, "expired", (uint64_t)z->expired);
				if (z->has_serial)
					ah_enc_u64(&e, "serial", z->serial);
				ah_enc_i64(&e, "loaded_at", z->loaded_at);
				if (z->loaded_seen != 0)
					ah_enc_i64(&e, "loaded_seen",
					    z->loaded_seen);
				ah_enc_i64(&e, "refresh", z->refresh);
				ah_enc_i64(&e, "expire", z->expire);
			}
			ah_enc_i64(&e, "checked", z->checked);
			put(rp, &e);
		}
	}
	reply_done(rp);
}

static void
do_checks(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	const char	*service = req->arg;
	size_t		 i;

	for (i = 0; i < r->conf->nservices; i++) {
		if (service != NULL &&
		    strcmp(service, r->conf->services[i].name) != 0)
			continue;
		put_service(rp, r, i, 1);
		put_checks(rp, r, i, 1);
	}
	reply_done(rp);
}

static void
do_history(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	const char			*service = req->arg;
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
		put_service(rp, r, i, 1);
		first = st->route.transitions > HISTORY_LEN ?
		    st->route.transitions - HISTORY_LEN : 0;
		for (k = first; k < st->route.transitions; k++) {
			t = &st->route.history[k % HISTORY_LEN];
			ah_enc_begin(&e, line, sizeof(line), "transition");
			ah_enc_str(&e, "service", r->conf->services[i].name);
			ah_enc_i64(&e, "at", t->at);
			ah_enc_str(&e, "from", route_mode_name(t->from));
			ah_enc_str(&e, "to", route_mode_name(t->to));
			ah_enc_str(&e, "reason", t->reason);
			put(rp, &e);
		}
	}
	reply_done(rp);
}

static void
do_metrics(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	struct buf	 b = { 0 };
	char		 line[AH_LINE_MAX], *p, *nl;
	struct ah_enc	 e;

	rp->hint = "serve the metrics over HTTP instead "
	    "(control.metrics-listen)";
	metrics_render(r, &b);
	if (b.bad) {
		buf_free(&b);
		ctl_reply_error(rp, "internal", "out of memory");
		return;
	}
	for (p = b.p; p != NULL && p < b.p + b.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b.p + b.len - p));
		*nl = '\0';
		ah_enc_begin(&e, line, sizeof(line), "line");
		ah_enc_str(&e, "text", p);
		put(rp, &e);
	}
	buf_free(&b);
	reply_done(rp);
}

/*
 * What undrain or release did to one service, for its reply: 'done'
 * (NULL: the service's records say it all), and the hold released.
 */
struct outcome {
	const char	*done;
	int64_t		 held_ms;
};

/*
 * drain, undrain, release: the relay does the work (health.c), so it
 * goes on when anycastctl has gone; the reply is each service's state
 * after it, and a 'result' record with what the command did to it.
 */
static void
each_service(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req,
    const char *what, void (*fn)(struct relay *, size_t,
    const struct ctl_req *, struct outcome *))
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;
	struct outcome	o;
	size_t		i;

	log_info("control: %s %s by %s", what, req->arg != NULL ? req->arg :
	    "of every service", req->who);
	for (i = 0; i < r->conf->nservices; i++) {
		if (req->arg != NULL &&
		    strcmp(req->arg, r->conf->services[i].name) != 0)
			continue;
		o = (struct outcome){ NULL, 0 };
		fn(r, i, req, &o);
		put_service(rp, r, i, 0);
		if (o.done == NULL)
			continue;
		ah_enc_begin(&e, line, sizeof(line), "result");
		ah_enc_str(&e, "service", r->conf->services[i].name);
		ah_enc_str(&e, "done", o.done);
		if (o.held_ms > 0)
			ah_enc_i64(&e, "held_ms", o.held_ms);
		put(rp, &e);
	}
	reply_done(rp);
}

static void
drain_one(struct relay *r, size_t i, const struct ctl_req *req,
    struct outcome *o)
{
	health_drain(r, i, req->timeout_ms, req->who, req->arg == NULL,
	    ah_mono_ms());
}

static void
undrain_one(struct relay *r, size_t i, const struct ctl_req *req,
    struct outcome *o)
{
	o->done = health_undrain(r, i, req->who) ? "undrained" :
	    "not-drained";
}

static void
release_one(struct relay *r, size_t i, const struct ctl_req *req,
    struct outcome *o)
{
	o->held_ms = health_release(r, i, req->who, ah_mono_ms());
	o->done = o->held_ms > 0 ? "released" : "not-held";
}

static void
do_drain(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	each_service(rp, r, req, "drain", drain_one);
}

static void
do_undrain(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	each_service(rp, r, req, "undrain", undrain_one);
}

static void
do_release(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	each_service(rp, r, req, "release", release_one);
}

/* Each line of the reload's account, as 'line' records. */
static void
put_lines(struct ctl_reply *rp, char *text)
{
	char		 line[AH_LINE_MAX], *p, *nl;
	struct ah_enc	 e;

	for (p = text; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		ah_enc_begin(&e, line, sizeof(line), "line");
		ah_enc_str(&e, "text", p);
		put(rp, &e);
	}
}

static void
do_reload(struct ctl_reply *rp, struct relay *r, const struct ctl_req *req)
{
	struct reload_result	 res;
	char			 line[AH_LINE_MAX], *text = NULL;
	struct ah_enc		 e;

	log_info("control: reload by %s", req->who);
	if (reload(r, &text, &res) < 0) {
		put_lines(rp, text);
		ctl_reply_error(rp, "config", "reload: %s: configuration "
		    "rejected; the running configuration is unchanged",
		    r->conf->path);
		free(text);
		return;
	}
	ah_enc_begin(&e, line, sizeof(line), "reload");
	ah_enc_str(&e, "config", r->conf->path);
	ah_enc_u64(&e, "services", r->conf->nservices);
	ah_enc_u64(&e, "added", res.added);
	ah_enc_u64(&e, "removed", res.removed);
	ah_enc_u64(&e, "changed", res.changed);
	ah_enc_u64(&e, "unchanged", res.unchanged);
	ah_enc_u64(&e, "commands", res.commands);
	put(rp, &e);
	put_lines(rp, text);
	free(text);
	reply_done(rp);
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

void
ctl_answer(struct ctl_reply *rp, struct relay *r, const char *line, size_t n,
    const struct ucred *peer)
{
	static struct log_limit	 refused;	/* a local user's loop */
	const struct ctl_cmd	*cmd;
	struct ah_msg		 m;
	struct ctl_req		 req;
	struct ctl_error	 err;
	char			 why[256];

	if ((cmd = ctl_request(line, n, commands,
	    sizeof(commands) / sizeof(commands[0]), &m, &req, &err)) == NULL) {
		ctl_reply_error(rp, err.code, "%s", err.msg);
		return;
	}
	if (access_check(r->conf, cmd->priv, peer->uid, peer->gid, why,
	    sizeof(why)) < 0) {
		if (log_limited(&refused, "control: refused"))
			log_warnx("control: %s refused to pid %ld: %s",
			    cmd->name, (long)peer->pid, why);
		ctl_reply_error(rp, "denied", "%s: %s", cmd->name, why);
		return;
	}
	if (req.arg != NULL && !arg_exists(r, cmd->arg, req.arg)) {
		ctl_reply_error(rp, "usage", "%s: no %s '%s'%s", cmd->name,
		    ctl_arg_names[cmd->arg], req.arg, cmd->arg == ARG_VIEW ?
		    " in the last snapshot from named" :
		    " in the configuration");
		return;
	}
	access_who(peer->uid, req.who, sizeof(req.who));
	cmd->run(rp, r, &req);
}
