/*
 * metrics.c - the relay's state as a Prometheus text exposition
 * (format 0.0.4), for 'anycastctl metrics' and for an HTTP endpoint.
 *
 * The endpoint is libmicrohttpd in its external event loop mode: its
 * epoll fd joins the relay's poll(), and requests are answered inside
 * MHD_run() on the relay's own thread, so rendering reads the relay's
 * state without locks.
 *
 * Names follow Prometheus conventions: anycast_health_ prefix, _total
 * on counters, base units (seconds, ratios), states as labels.  The
 * plugin's counters are cumulative as named published them; they go
 * back to zero when named restarts, which Prometheus treats as a reset.
 */
#include <config.h>

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "check.h"
#include "exabgp.h"
#include "feed.h"
#include "health.h"
#include "lastgood.h"
#include "log.h"
#include "metrics.h"
#include "relay.h"
#include "route.h"
#include "sessions.h"

#define P	"anycast_health_"

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;
	char	*p;

	for (;;) {
		if (b->bad)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len,
		    b->p == NULL ? 0 : b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = 1;
			return;
		}
		if (b->p != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		if ((p = realloc(b->p, b->cap * 2 + (size_t)n + 4096)) == NULL) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = b->cap * 2 + (size_t)n + 4096;
	}
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* A label value: backslash, double quote and newline escaped. */
static void
label(struct buf *b, const char *name, const char *val, int first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	for (; *val != '\0'; val++) {
		if (*val == '\\' || *val == '"')
			buf_printf(b, "\\%c", *val);
		else if (*val == '\n')
			buf_printf(b, "\\n");
		else
			buf_printf(b, "%c", *val);
	}
	buf_printf(b, "\"");
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
value(struct buf *b, double v)
{
	if (isinf(v))
		buf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, " %.0f\n", v);
	else if (fabs(v) >= 1e-3 && fabs(v) < 1e15)
		buf_printf(b, " %.6f\n", v);	/* timestamps keep their ms */
	else
		buf_printf(b, " %.9g\n", v);
}

/* name{k1="v1"[,k2="v2"]} v; a NULL key ends the labels. */
static void
sample(struct buf *b, const char *name, double v, const char *k1,
    const char *v1, const char *k2, const char *v2)
{
	buf_printf(b, "%s", name);
	if (k1 != NULL) {
		buf_printf(b, "{");
		label(b, k1, v1, 1);
		if (k2 != NULL)
			label(b, k2, v2, 0);
		buf_printf(b, "}");
	}
	value(b, v);
}

/*
 * The plugin's per-view counters as the relay keeps them (feed.h), as
 * families.  A family's keys are its source and prefix followed by one
 * each of its 'n' wire names (ahwire.h), told apart by 'label': the
 * auth source and ah_rcode_names make auth_noerror .. auth_other,
 * labelled rcode.  Without names the prefix is the one key.  Keys that
 * no family, histogram bucket or domain group knows are exported
 * untyped as anycast_health_plugin_KEY, so a newer plugin's counters
 * are not lost.
 */
static const char *const zone_states[] = {
	"watched", "healthy", "expired", "unloaded", "missing"
};

static const struct view_family {
	const char		*name, *type, *help;
	const char *const	*source;	/* "SOURCE_" first, or NULL */
	const char		*prefix;
	const char *const	*names;
	int			 n;
	const char		*label;
} view_families[] = {
	{ P "queries_total", "counter", "Queries named finished in the view.",
	    .prefix = "queries" },
	{ P "liveness_probes_total", "counter",
	    "The relay's liveness probes named finished in the view.",
	    .prefix = "probes" },
	{ P "queries_dropped_total", "counter",
	    "Queries that ended without a response.", .prefix = "dropped" },
	{ P "responses_total", "counter", "Responses sent, by RCODE.",
	    .prefix = "", .names = ah_rcode_names, .n = AH_RC_COUNT,
	    .label = "rcode" },
	{ P "auth_responses_total", "counter",
	    "Responses answered from a zone of the view, by RCODE.",
	    .source = &ah_source_names[AH_SRC_AUTH], .prefix = "",
	    .names = ah_rcode_names, .n = AH_RC_COUNT, .label = "rcode" },
	{ P "cache_responses_total", "counter",
	    "Responses answered from the cache or refused, by RCODE.",
	    .source = &ah_source_names[AH_SRC_CACHE], .prefix = "",
	    .names = ah_rcode_names, .n = AH_RC_COUNT, .label = "rcode" },
	{ P "recursion_responses_total", "counter",
	    "Responses sent after recursion, by RCODE.",
	    .source = &ah_source_names[AH_SRC_RECURSION], .prefix = "",
	    .names = ah_rcode_names, .n = AH_RC_COUNT, .label = "rcode" },
	{ P "recursions_started_total", "counter", "Recursions started.",
	    .prefix = FEED_REC, .names = &ah_recursion_names[AH_REC_STARTED],
	    .n = 1 },
	{ P "recursions_total", "counter", "Recursions finished, by result.",
	    .prefix = FEED_REC, .names = &ah_recursion_names[AH_REC_SUCCESS],
	    .n = AH_REC_CANCELED - AH_REC_SUCCESS + 1, .label = "result" },
	{ P "recursion_quota_exceeded_total", "counter",
	    "Queries that could not recurse: recursive-clients quota full.",
	    .prefix = FEED_REC, .names = &ah_recursion_names[AH_REC_QUOTA],
	    .n = 1 },
	{ P "recursive_clients", "gauge",
	    "named's recursive clients at the last zone walk.",
	    .prefix = FEED_REC "clients" },
	{ P "zones", "gauge", "Zones the plugin watches in the view, by state.",
	    .prefix = FEED_ZONES, .names = zone_states,
	    .n = sizeof(zone_states) / sizeof(zone_states[0]),
	    .label = "state" },
};
#define NVIEW_FAMILIES	(sizeof(view_families) / sizeof(view_families[0]))

/* A family's j-th key; returns its label value, NULL without a label. */
static const char *
family_key(const struct view_family *vf, int j, char *key, size_t len)
{
	snprintf(key, len, "%s%s%s%s", vf->source != NULL ? *vf->source : "",
	    vf->source != NULL ? "_" : "", vf->prefix,
	    vf->names != NULL ? vf->names[j] : "");
	return (vf->label != NULL ? vf->names[j] : NULL);
}

static int
nkeys(const struct view_family *vf)
{
	return (vf->names != NULL ? vf->n : 1);
}

/* A latency bucket's upper bound as the 'le' label: 0.001 .. +Inf. */
static void
bucket_le(int i, char *le, size_t len)
{
	if (i < AH_LAT_BUCKETS - 1)
		snprintf(le, len, "%g", ah_lat_bounds[i] / 1000.0);
	else
		snprintf(le, len, "+Inf");
}

static int
known_view_key(const char *key)
{
	char	want[AH_NAME_MAX + 1];
	size_t	i;
	int	j, g, l;

	snprintf(want, sizeof(want), FEED_ZONES "checked");
	if (strcmp(key, want) == 0)
		return (1);
	for (i = 0; i < NVIEW_FAMILIES; i++)
		for (j = 0; j < nkeys(&view_families[i]); j++) {
			(void)family_key(&view_families[i], j, want,
			    sizeof(want));
			if (strcmp(key, want) == 0)
				return (1);
		}
	for (j = 0; j < AH_LAT_BUCKETS; j++) {
		feed_lat_key(j, want, sizeof(want));
		if (strcmp(key, want) == 0)
			return (1);
	}
	for (l = 0; l < AH_LVL_COUNT; l++)
		for (j = 0; j < AH_DOM_COUNT; j++)
			for (g = 0; g < AH_DOM_BUCKETS; g++) {
				feed_dom_key(l, j, g, want, sizeof(want));
				if (strcmp(key, want) == 0)
					return (1);
			}
	return (0);
}

/* One group's counter of a level and kind, if the plugin sent it. */
static void
group_sample(struct buf *b, const struct feed_view *v, int l, int n, int g)
{
	char		key[AH_NAME_MAX + 1], group[8];
	uint64_t	x;

	feed_dom_key(l, n, g, key, sizeof(key));
	if (feed_counter(v, key, &x) < 0)
		return;
	snprintf(group, sizeof(group), "%d", g);
	buf_printf(b, P "domain_group_total{");
	label(b, "view", v->name, 1);
	label(b, "level", ah_level_samples[l], 0);
	label(b, "kind", ah_dom_names[n], 0);
	label(b, "group", group, 0);
	buf_printf(b, "}");
	value(b, (double)x);
}

static void
render_views(const struct feed *f, struct buf *b)
{
	const struct view_family	*vf;
	const struct feed_view		*v;
	const char			*lval;
	char				 name[128], key[AH_NAME_MAX + 1];
	char				 le[16];
	uint64_t			 x;
	size_t				 i, j, k, l;
	int				 seen, g, n, lv;

	for (vf = view_families; vf < view_families + NVIEW_FAMILIES; vf++) {
		family(b, vf->name, vf->type, vf->help);
		for (v = f->views; v < f->views + f->nviews; v++)
			for (n = 0; n < nkeys(vf); n++) {
				lval = family_key(vf, n, key, sizeof(key));
				if (feed_counter(v, key, &x) == 0)
					sample(b, vf->name, (double)x, "view",
					    v->name, vf->label, lval);
			}
	}

	family(b, P "recursion_duration_seconds", "histogram",
	    "Time clients waited for recursive answers (no _sum: the plugin "
	    "counts buckets only).");
	for (v = f->views; v < f->views + f->nviews; v++) {
		feed_lat_key(AH_LAT_BUCKETS - 1, key, sizeof(key));
		if (feed_counter(v, key, &x) < 0)
			continue;
		for (n = 0; n < AH_LAT_BUCKETS; n++) {
			feed_lat_key(n, key, sizeof(key));
			bucket_le(n, le, sizeof(le));
			if (feed_counter(v, key, &x) == 0)
				sample(b, P "recursion_duration_seconds_bucket",
				    (double)x, "view", v->name, "le", le);
		}
		/* The last, le_inf, counts them all. */
		sample(b, P "recursion_duration_seconds_count", (double)x,
		    "view", v->name, NULL, NULL);
	}

	family(b, P "domain_group_total", "counter",
	    "The fleet sensor, per group of names by registrable domain "
	    "(level domain) and public suffix (suffix): SERVFAIL answers "
	    "(fail), recursions started (rstart), finished (rdone), "
	    "succeeded (rok), failed or timed out (rbad).");
	for (v = f->views; v < f->views + f->nviews; v++)
		for (lv = 0; lv < AH_LVL_COUNT; lv++)
			for (n = 0; n < AH_DOM_COUNT; n++)
				for (g = 0; g < AH_DOM_BUCKETS; g++)
					group_sample(b, v, lv, n, g);

	family(b, P "zones_checked_timestamp_seconds", "gauge",
	    "When the plugin last walked the view's zones.");
	snprintf(key, sizeof(key), FEED_ZONES "checked");
	for (v = f->views; v < f->views + f->nviews; v++)
		if (feed_counter(v, key, &x) == 0)
			sample(b, P "zones_checked_timestamp_seconds",
			    (double)x / 1000, "view", v->name, NULL, NULL);

	/* Counters of a newer plugin: untyped, one family per key. */
	for (i = 0; i < f->nviews; i++)
		for (k = 0; k < f->views[i].ncounters; k++) {
			const char *pk = f->views[i].key[k];

			if (known_view_key(pk))
				continue;
			for (seen = 0, l = 0; l < i && !seen; l++)
				seen = feed_counter(&f->views[l], pk, &x) == 0;
			if (seen)
				continue;
			snprintf(name, sizeof(name), P "plugin_%s", pk);
			for (j = 0; name[j] != '\0'; j++)
				if (name[j] == '-' || name[j] == '.')
					name[j] = '_';
			family(b, name, "untyped", "A plugin counter this relay "
			    "does not describe.");
			for (l = i; l < f->nviews; l++)
				if (feed_counter(&f->views[l], pk, &x) == 0)
					sample(b, name, (double)x, "view",
					    f->views[l].name, NULL, NULL);
		}
}

static void
render_zones(const struct feed *f, struct buf *b)
{
	static const char *const names[] = {
		P "zone_loaded", P "zone_expired", P "zone_serial",
		P "zone_load_timestamp_seconds"
	};
	static const char *const helps[] = {
		"1 if the zone is loaded.", "1 if the zone has expired.",
		"The zone's SOA serial.", "When the zone was last loaded."
	};
	const struct feed_zone	*z;
	size_t			 i;
	double			 v;

	for (i = 0; i < 4; i++) {
		family(b, names[i], "gauge", helps[i]);
		for (z = f->zones.z; z < f->zones.z + f->zones.n; z++) {
			if (!z->found || (i == 2 && !z->has_serial) ||
			    (i == 3 && z->loaded_at == 0))
				continue;
			v = i == 0 ? z->loaded : i == 1 ? z->expired :
			    i == 2 ? (double)z->serial : (double)z->loaded_at;
			sample(b, names[i], v, "view", z->view, "zone",
			    z->name);
		}
	}
}

/* A check's figures and its threshold, in the metric's base unit. */
static void
render_check(struct relay *r, struct buf *b, enum check_id c)
{
	const struct check_def		*k = &checks[c];
	const struct check_value	*v;
	char				 name[2][128];
	size_t				 i;
	int				 lim;

	snprintf(name[0], sizeof(name[0]), P "%s", k->metric);
	snprintf(name[1], sizeof(name[1]), P "%s_threshold", k->metric);
	for (lim = 0; lim < 2; lim++) {
		family(b, name[lim], "gauge", lim ? "The value beyond which "
		    "the check fails." : k->help);
		for (i = 0; i < r->conf->nservices; i++) {
			v = &r->svc[i].chk[c].val;
			if (v->have)
				sample(b, name[lim],
				    (lim ? v->limit : v->value) * k->scale,
				    "service", r->conf->services[i].name, NULL,
				    NULL);
		}
	}
}

static void
render_services(struct relay *r, struct buf *b, int64_t now)
{
	enum health_state		 cur;
	size_t				 i, j;
	int				 c;

	family(b, P "service_state", "gauge",
	    "1 for the state the service is in, 0 for the others.");
	for (i = 0; i < r->conf->nservices; i++) {
		cur = health_state(&r->svc[i], now);
		for (j = 0; j < HEALTH_STATES; j++)
			sample(b, P "service_state", j == cur, "service",
			    r->conf->services[i].name, "state",
			    health_state_names[j]);
	}
	family(b, P "service_transitions_total", "counter",
	    "Route changes of the service since the relay started.");
	for (i = 0; i < r->conf->nservices; i++)
		sample(b, P "service_transitions_total",
		    (double)r->svc[i].route.transitions, "service",
		    r->conf->services[i].name, NULL, NULL);
	family(b, P "service_last_change_timestamp_seconds", "gauge",
	    "When the service's route last changed (the relay's start if "
	    "never).");
	for (i = 0; i < r->conf->nservices; i++)
		sample(b, P "service_last_change_timestamp_seconds",
		    (double)r->svc[i].route.since / 1000, "service",
		    r->conf->services[i].name, NULL, NULL);
	family(b, P "check_failing", "gauge",
	    "1 while the check fails, 0 while it passes.");
	for (i = 0; i < r->conf->nservices; i++)
		for (c = 0; c < CHK_COUNT; c++)
			if (r->svc[i].chk[c].why[0] != '\0')
				sample(b, P "check_failing",
				    r->svc[i].chk[c].bad, "service",
				    r->conf->services[i].name, "check",
				    checks[c].name);
	for (c = 0; c < CHK_COUNT; c++)
		render_check(r, b, c);
}

/*
 * A prefix counts as announced only when ExaBGP accepted its command
 * and a session that carries it is up (exabgp_prefix_held()).
 */
static void
render_prefixes(struct relay *r, struct buf *b)
{
	static const struct {
		const char	*name, *help;
	} families[] = {
		{ P "prefix_announced", "1 while the prefix is out there: "
		    "ExaBGP accepted its announcement and a BGP session that "
		    "carries it is up (normally or depreferred)." },
		{ P "prefix_depreferred", "1 while the prefix is out there "
		    "with the depref attributes (depreferred, or draining)." },
		{ P "prefix_rejected", "1 while ExaBGP rejects the prefix's "
		    "last command." }
	};
	const struct service_conf	*s;
	struct route_held		 h;
	enum route_mode			 m;
	size_t				 i, j, k;
	int				 out, v[3];

	for (k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		family(b, families[k].name, "gauge", families[k].help);
		for (i = 0; i < r->conf->nservices; i++) {
			s = &r->conf->services[i];
			m = r->svc[i].route.mode;
			for (j = 0; j < s->nprefixes; j++) {
				exabgp_prefix_held(&s->prefixes[j], &h);
				out = h.held == HELD_ANNOUNCED;
				v[0] = out;
				v[1] = out && (m == ROUTE_DEGRADED ||
				    m == ROUTE_DRAINING);
				v[2] = h.held == HELD_REJECTED;
				sample(b, families[k].name, v[k], "service",
				    s->name, "prefix", s->prefixes[j].prefix);
			}
		}
	}
}

void
metrics_render(struct relay *r, struct buf *b)
{
	const struct feed		*f = &r->feed;
	const struct bgp_session	*bs;
	char				 pid[24], proto[8];
	size_t				 i, n;
	int64_t				 now = ah_mono_ms();

	snprintf(proto, sizeof(proto), "%d", AH_PROTO_VERSION);
	family(b, P "relay_info", "gauge", "The relay's version.");
	sample(b, P "relay_info", 1, "version", PACKAGE_VERSION, "protocol",
	    proto);
	family(b, P "relay_start_time_seconds", "gauge",
	    "When the relay started.");
	sample(b, P "relay_start_time_seconds", (double)r->started / 1000,
	    NULL, NULL, NULL, NULL);
	family(b, P "config_last_load_ok", "gauge",
	    "0 while the file was rejected when last read: the relay runs on "
	    "what it accepted before, or on nothing.");
	sample(b, P "config_last_load_ok", r->lastgood.error[0] == '\0',
	    NULL, NULL, NULL, NULL);
	family(b, P "config_last_good_load_time_seconds", "gauge",
	    "When the configuration the relay runs on was accepted.");
	if (r->lastgood.accepted > 0)
		sample(b, P "config_last_good_load_time_seconds",
		    (double)r->lastgood.accepted / 1000, NULL, NULL, NULL,
		    NULL);
	family(b, P "feed_up", "gauge",
	    "1 while the relay receives snapshots from the plugin.");
	sample(b, P "feed_up", f->state == FEED_UP, NULL, NULL, NULL, NULL);
	family(b, P "feed_snapshot_age_seconds", "gauge",
	    "Time since the last complete snapshot arrived.");
	if (f->state == FEED_UP && f->last_tick != 0)
		sample(b, P "feed_snapshot_age_seconds",
		    (double)(now - f->last_tick) / 1000, NULL, NULL, NULL,
		    NULL);
	family(b, P "feed_snapshot_seq", "gauge",
	    "Sequence number of the last complete snapshot.");
	if (f->state == FEED_UP && f->last_tick != 0)
		sample(b, P "feed_snapshot_seq", (double)f->seq, NULL, NULL,
		    NULL, NULL);
	family(b, P "named_info", "gauge", "The named the plugin runs in.");
	if (f->state == FEED_UP) {
		snprintf(pid, sizeof(pid), "%llu",
		    (unsigned long long)f->named_pid);
		sample(b, P "named_info", 1, "version", f->named_version, "pid",
		    pid);
	}
	family(b, P "bgp_session_up", "gauge",
	    "1 while ExaBGP reports the BGP session up.");
	bs = sessions_list(&n);
	for (i = 0; i < n; i++)
		sample(b, P "bgp_session_up", strcmp(bs[i].state, "up") == 0,
		    "peer", bs[i].peer, NULL, NULL);
	family(b, P "exabgp_rejected_total", "counter",
	    "Commands ExaBGP answered with 'error'.");
	sample(b, P "exabgp_rejected_total", (double)exabgp_rejected(), NULL,
	    NULL, NULL, NULL);
	family(b, P "exabgp_waiting", "gauge",
	    "Commands ExaBGP has not answered yet.");
	sample(b, P "exabgp_waiting", (double)exabgp_waiting(), NULL, NULL,
	    NULL, NULL);

	render_views(f, b);
	render_zones(f, b);
	render_services(r, b, now);
	render_prefixes(r, b);
}

/* The HTTP endpoint. */

static struct MHD_Daemon *mhd;

static enum MHD_Result
http_reply(struct MHD_Connection *conn, unsigned int code, const char *text)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 rv;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MHD_NO);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	rv = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return (rv);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **ctx)
{
	struct relay		*r = cls;
	struct MHD_Response	*resp;
	struct buf		 b = { 0 };
	enum MHD_Result		 rv;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return (http_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET /metrics\n"));
	if (strcmp(url, "/metrics") != 0)
		return (http_reply(conn, MHD_HTTP_NOT_FOUND,
		    "anycast-relay: metrics are at /metrics\n"));
	metrics_render(r, &b);
	if (b.bad) {
		buf_free(&b);
		return (http_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n"));
	}
	resp = MHD_create_response_from_buffer(b.len, b.p,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		buf_free(&b);
		return (MHD_NO);
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	rv = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return (rv);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("metrics endpoint: %s", msg);
}

/* 'addr' was checked by the config loader: ADDRESS:PORT or [V6]:PORT. */
int
metrics_listen(struct relay *r, const char *addr)
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
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, answer, r,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		log_warnx("cannot serve metrics on %s", addr);
		return (-1);
	}
	log_info("serving metrics on http://%s/metrics", addr);
	return (0);
}

int
metrics_fd(void)
{
	const union MHD_DaemonInfo *info;

	if (mhd == NULL ||
	    (info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL)
		return (-1);
	return (info->epoll_fd);
}

/* Called on every turn of the loop: also expires idle connections. */
void
metrics_run(void)
{
	if (mhd != NULL)
		(void)MHD_run(mhd);
}

void
metrics_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
}
