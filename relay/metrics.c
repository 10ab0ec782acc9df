/* SPDX-License-Identifier: MPL-2.0 */
/*
 * metrics.c - the relay's state as a Prometheus text exposition
 * (format 0.0.4), for 'anycastctl metrics' and for the HTTP endpoint
 * (http.c).
 *
 * Names follow Prometheus conventions: anycast_health_ prefix, _total
 * on counters, base units (seconds, ratios), states as labels.  The
 * plugin's counters are cumulative as named published them; they go
 * back to zero when named restarts, which Prometheus treats as a reset.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * How many bytes of valid UTF-8 start at p (one character), or 0.
 * Prometheus refuses a whole scrape for one label value that is not
 * UTF-8, and names from named (a view's) may be any bytes, or cut in
 * the middle of a character.
 */
static size_t
utf8_len(const unsigned char *p)
{
	size_t	n, i;
	int	lo = 0x80, hi = 0xbf;

	if (*p < 0x80)
		return (1);
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return (0);
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (p[i] < lo || p[i] > hi)
			return (0);
	return (n);
}

/*
 * A label value: backslash, double quote and newline escaped, a byte
 * that is not UTF-8 shown as U+FFFD.
 */
static void
label(struct buf *b, const char *name, const char *val, int first)
{
	const unsigned char	*p = (const unsigned char *)val;
	size_t			 n;

	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	for (; *p != '\0'; p += n ? n : 1) {
		n = utf8_len(p);
		if (*p == '\\' || *p == '"')
			buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_printf(b, "\\n");
		else if (n == 0)
			buf_printf(b, "\xef\xbf\xbd");
		else
			buf_printf(b, "%.*s", (int)n, (const char *)p);
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
	    "succeeded (rok), failed or timed out (rbad), of those timed "
	    "out (rtmo) and failed validation (rval).");
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

/* A zone's figure for family i of render_zones(); 0 if it has none. */
static int
zone_value(const struct feed_zone *z, size_t i, double *v)
{
	switch (i) {
	case 0:
		*v = z->loaded;
		return (1);
	case 1:
		*v = z->expired;
		return (1);
	case 2:
		*v = (double)z->serial;
		return (z->has_serial);
	case 3:
		*v = (double)z->loaded_at;
		return (z->loaded_at != 0);
	default:
		*v = (double)z->expire;
		return (z->expire != 0);
	}
}

static void
render_zones(const struct feed *f, struct buf *b)
{
	static const struct {
		const char	*name, *help;
	} families[] = {
		{ P "zone_loaded", "1 if the zone is loaded." },
		{ P "zone_expired", "1 if the zone has expired." },
		{ P "zone_serial", "The zone's SOA serial." },
		{ P "zone_load_timestamp_seconds",
		    "When the zone was last loaded." },
		{ P "zone_expire_timestamp_seconds", "When the zone expires "
		    "unless refreshed (secondary, mirror and stub zones)." }
	};
	const struct feed_zone	*z;
	size_t			 i;
	double			 v;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		family(b, families[i].name, "gauge", families[i].help);
		for (z = f->zones.z; z < f->zones.z + f->zones.n; z++)
			if (z->found && zone_value(z, i, &v))
				sample(b, families[i].name, v, "view", z->view,
				    "zone", z->name);
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

/*
 * Why a service is where it is, in a word of a fixed list, for a
 * dashboard's timeline and for alerts.  The reason itself (status,
 * show history) carries figures that change with every snapshot: as a
 * label it would make a new series each time.  In the order the judge
 * weighs them (health.c): an operator's drain; hard trouble, the feed
 * before the view (live_view()); failing checks; flap damping.
 */
enum cause {
	CAUSE_DRAIN, CAUSE_FEED, CAUSE_VIEW, CAUSE_CHECKS, CAUSE_DAMPING,
	CAUSE_NONE, CAUSES
};

static const char *const cause_names[CAUSES] = {
	[CAUSE_DRAIN] = "drain", [CAUSE_FEED] = "feed", [CAUSE_VIEW] = "view",
	[CAUSE_CHECKS] = "checks", [CAUSE_DAMPING] = "damping",
	[CAUSE_NONE] = "none"
};

static enum cause
service_cause(const struct feed *f, const struct service_state *st,
    int64_t now)
{
	int	c;

	if (st->drain.state != DRAIN_NONE)
		return (CAUSE_DRAIN);
	if (st->hard)
		return (f->state != FEED_UP || f->last_tick == 0 ||
		    now - f->last_tick > (int64_t)f->stale_ms ? CAUSE_FEED :
		    CAUSE_VIEW);
	for (c = 0; c < CHK_COUNT; c++)
		if (st->chk[c].bad)
			return (CAUSE_CHECKS);
	if (!st->judge.up && judge_held(&st->judge, now) > 0)
		return (CAUSE_DAMPING);
	return (CAUSE_NONE);
}

/*
 * The last route change with the verdict that made it, as labels: a
 * new series only when the route moves, which damping keeps rare.
 */
static void
render_last_change(struct relay *r, struct buf *b)
{
	const struct route	*rt;
	const struct transition	*t;
	size_t			 i;

	family(b, P "service_last_change_info", "gauge",
	    "1, labelled with the service's last route change and the "
	    "verdict that made it.");
	for (i = 0; i < r->conf->nservices; i++) {
		rt = &r->svc[i].route;
		if (rt->transitions == 0)
			continue;
		t = &rt->history[(rt->transitions - 1) % HISTORY_LEN];
		buf_printf(b, P "service_last_change_info{");
		label(b, "service", r->conf->services[i].name, 1);
		label(b, "from", route_mode_name(t->from), 0);
		label(b, "to", route_mode_name(t->to), 0);
		label(b, "reason", t->reason, 0);
		buf_printf(b, "}");
		value(b, 1);
	}
}

static void
render_services(struct relay *r, struct buf *b, int64_t now)
{
	enum health_state		 cur;
	enum route_mode			 m;
	enum cause			 why;
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
	family(b, P "service_route", "gauge", "1 for what the relay told "
	    "ExaBGP to do with the service's routes, 0 for the others.");
	for (i = 0; i < r->conf->nservices; i++)
		for (m = ROUTE_WITHDRAWN; m <= ROUTE_DRAINING; m++)
			sample(b, P "service_route", m == r->svc[i].route.mode,
			    "service", r->conf->services[i].name, "route",
			    route_mode_name(m));
	family(b, P "service_cause", "gauge", "1 for why the service is "
	    "where it is (drain, feed, view, checks, damping, none), 0 for "
	    "the others.");
	for (i = 0; i < r->conf->nservices; i++) {
		why = service_cause(&r->feed, &r->svc[i], now);
		for (j = 0; j < CAUSES; j++)
			sample(b, P "service_cause", j == why, "service",
			    r->conf->services[i].name, "cause",
			    cause_names[j]);
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
	render_last_change(r, b);
	family(b, P "drain_start_timestamp_seconds", "gauge",
	    "When the service's drain was asked for, while it is draining "
	    "or drained.");
	for (i = 0; i < r->conf->nservices; i++)
		if (r->svc[i].drain.state != DRAIN_NONE)
			sample(b, P "drain_start_timestamp_seconds",
			    (double)r->svc[i].drain.since / 1000, "service",
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
 * Every state prefix_state_name() names, once each: the route modes
 * (ROUTE_DRAINING the last), and what ExaBGP holds (HELD_ANNOUNCED the
 * last).
 */
static size_t
prefix_states(const char **names, size_t max)
{
	enum route_mode	 m;
	enum held	 h;
	const char	*s;
	size_t		 n = 0, k;

	for (m = ROUTE_WITHDRAWN; m <= ROUTE_DRAINING; m++)
		for (h = HELD_WAITING; h <= HELD_ANNOUNCED; h++) {
			s = prefix_state_name(m, h);
			for (k = 0; k < n && strcmp(names[k], s) != 0; k++)
				;
			if (k == n && n < max)
				names[n++] = s;
		}
	return (n);
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

/* The same truth as one state, for a timeline and for alerts. */
static void
render_prefix_states(struct relay *r, struct buf *b)
{
	const struct service_conf	*s;
	struct route_held		 h;
	const char			*states[16], *now;
	size_t				 i, j, k, n;

	n = prefix_states(states, sizeof(states) / sizeof(states[0]));
	family(b, P "prefix_state", "gauge", "1 for what is true of the "
	    "prefix, as 'anycastctl status' says, 0 for the others.");
	for (i = 0; i < r->conf->nservices; i++) {
		s = &r->conf->services[i];
		for (j = 0; j < s->nprefixes; j++) {
			exabgp_prefix_held(&s->prefixes[j], &h);
			now = prefix_state_name(r->svc[i].route.mode, h.held);
			for (k = 0; k < n; k++) {
				buf_printf(b, P "prefix_state{");
				label(b, "service", s->name, 1);
				label(b, "prefix", s->prefixes[j].prefix, 0);
				label(b, "state", states[k], 0);
				buf_printf(b, "}");
				value(b, strcmp(states[k], now) == 0);
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
	family(b, P "feed_stale_after_seconds", "gauge",
	    "The snapshot age beyond which the feed is stale and the "
	    "services withdrawn.");
	sample(b, P "feed_stale_after_seconds", (double)f->stale_ms / 1000,
	    NULL, NULL, NULL, NULL);
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
	render_prefix_states(r, b);
}
