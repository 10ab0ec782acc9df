/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_output.c - anycastctl's replies for people: short aligned lines
 * in the manner of 'rndc status', details only where asked for.  Each
 * says what is true now and, where something is about to change, what
 * will happen and when.  Every string of the reply arrives made
 * visible (ctl.c, keep()).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahtext.h"
#include "ahwire.h"
#include "ctl.h"

#define LABEL	"%-10s"

static int64_t
num(const struct ah_msg *m, const char *key)
{
	return (strtoll(reply_get(m, key), NULL, 10));
}

static int
has(const struct ah_msg *m, const char *key)
{
	return (ah_get(m, key) != NULL);
}

/* "2h 3m", "45s", "3d 4h": the two largest units. */
static void
span(char *buf, size_t len, int64_t ms)
{
	static const struct {
		const char	*unit;
		int64_t		 s;
	} units[] = { { "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 } };
	int64_t	s = ms / 1000;
	size_t	i;

	if (s < 0)
		s = 0;
	if (s < 60) {
		snprintf(buf, len, "%" PRId64 "s", s);
		return;
	}
	for (i = 0; s < units[i].s; i++)
		;
	snprintf(buf, len, "%" PRId64 "%s %" PRId64 "%s", s / units[i].s,
	    units[i].unit, s % units[i].s / units[i + 1].s, units[i + 1].unit);
}

/* "2025-03-14 12:00:03 (2h 3m ago)" from Unix ms. */
static const char *
when(int64_t ms)
{
	static char	buf[2][96];
	static int	k;
	char		a[32], ago[48];
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	if (ms <= 0)
		return ("never");
	k = !k;
	localtime_r(&t, &tm);
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
	span(ago, sizeof(ago), (int64_t)time(NULL) * 1000 - ms);
	snprintf(buf[k], sizeof(buf[k]), "%s (%s ago)", a, ago);
	return (buf[k]);
}

static void
upper(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		dst[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
	dst[i] = '\0';
}

/* A service's state word, as the service line has it: "DRAINED". */
static void
upper_state(const struct ah_msg *m)
{
	char st[32];

	upper(st, sizeof(st), reply_get(m, "state"));
	printf("%s", st);
}

/* "RISING (1 of rise 2)", "HELD by flap damping for 25s more", "UP". */
static const char *
state_words(const struct ah_msg *m)
{
	static char	 buf[96];
	const char	*state = reply_get(m, "state");
	char		 st[32], held[32];

	upper(st, sizeof(st), state);
	if (strcmp(state, "rising") == 0)
		snprintf(buf, sizeof(buf), "%s (%s of rise %s)", st,
		    reply_get(m, "good"), reply_get(m, "rise"));
	else if (strcmp(state, "falling") == 0)
		snprintf(buf, sizeof(buf), "%s (%s of fall %s)", st,
		    reply_get(m, "bad"), reply_get(m, "fall"));
	else if (has(m, "held_ms")) {
		span(held, sizeof(held), num(m, "held_ms") + 999);
		snprintf(buf, sizeof(buf), "%s by flap damping for %s more",
		    st, held);
	} else
		snprintf(buf, sizeof(buf), "%s", st);
	return (buf);
}

/* "service dns (view _default): RISING (1 of rise 2) since ..." */
static void
service_line(const struct ah_msg *m)
{
	printf("service %s (view %s): %s since %s\n", reply_get(m, "name"),
	    reply_get(m, "view"), state_words(m), when(num(m, "since")));
}

/* A check's state as a word or two: "no-data" is "no data". */
static const char *
check_state(const struct ah_msg *m)
{
	const char *state = reply_get(m, "state");

	return (strcmp(state, "no-data") == 0 ? "no data" : state);
}

/* "draining for 3s, by uid 0 (root): TEXT", the drain in one line. */
static void
drain_line(const struct ah_msg *d)
{
	char for_[32];

	if (strcmp(reply_get(d, "state"), "draining") == 0) {
		span(for_, sizeof(for_), (int64_t)time(NULL) * 1000 -
		    num(d, "since"));
		printf("  %-24s draining for %s: %s\n", "drain", for_,
		    reply_get(d, "text"));
		if (has(d, "rate"))
			printf("  %-24s %s qps now\n", "", reply_get(d, "rate"));
	} else
		printf("  %-24s drained %s: %s\n", "drain",
		    when(num(d, "ended")), reply_get(d, "text"));
	if (has(d, "warning"))
		printf("  %-24s warning: %s\n", "", reply_get(d, "warning"));
}

/*
 * "named:    pid 812, BIND 9.18.28, anycast-health 0.2.0, 1 view: ..."
 * A relay before 0.2.0 passes no plugin version on, so the plugin's
 * is unknown rather than old.
 */
static void
named_line(const struct ah_msg *feed, const struct ah_msg *relay,
    const char *views)
{
	printf(LABEL "pid %s, BIND %s", "named:", reply_get(feed, "named_pid"),
	    reply_get(feed, "named"));
	if (has(feed, "plugin_version"))
		printf(", anycast-health %s", reply_get(feed,
		    "plugin_version"));
	else if (relay != NULL &&
	    strncmp(reply_get(relay, "version"), "0.1.", 4) != 0)
		printf(", anycast-health older than 0.2.0");
	printf(", %s view%s: %s\n", reply_get(feed, "views"),
	    ah_plural(num(feed, "views")), views);
}

/*
 * "feed:     up since ..., a snapshot every 100 ms, last 12 ms ago";
 * connected but silent past stale-after, the relay judges it as good
 * as gone, and so does this line.
 */
static void
feed_line(const struct ah_msg *m)
{
	int stale = has(m, "age_ms") && has(m, "stale_after") &&
	    num(m, "age_ms") > num(m, "stale_after");

	printf(LABEL "%s since %s, a snapshot every %s ms", "feed:",
	    stale ? "STALE: up" : "up", when(num(m, "since")),
	    reply_get(m, "interval"));
	if (stale)
		printf(", but the last %s ms ago (seq %s), more than "
		    "stale-after %s ms", reply_get(m, "age_ms"),
		    reply_get(m, "seq"), reply_get(m, "stale_after"));
	else if (has(m, "age_ms"))
		printf(", last %s ms ago (seq %s)", reply_get(m, "age_ms"),
		    reply_get(m, "seq"));
	else
		printf(", none received yet");
	printf("\n");
}

static const struct ah_msg *
first(const struct reply *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, type) == 0)
			return (r->m[i]);
	return (NULL);
}

/*
 * Under "config:", what the relay runs on when the file was rejected
 * (doc/config.md, section 1.11), and what -c found wrong with it now.
 */
static void
config_lines(const struct reply *r, const struct ah_msg *m)
{
	const struct ah_msg	*err = first(r, "config_error");
	const struct ah_msg	*lg = first(r, "last_good");
	const char		*source = reply_get(m, "config_source");
	int64_t			 n = num(m, "config_errors");

	if (strcmp(reply_get(m, "config_ok"), "0") == 0) {
		printf(LABEL "REJECTED %s, %" PRId64 " error%s; the "
		    "first:\n", "", when(num(m, "config_rejected")), n,
		    n == 1 ? "" : "s");
		printf(LABEL "%s\n", "", err != NULL ? reply_get(err, "text") :
		    "?");
		if (strcmp(source, "last-good") == 0)
			printf(LABEL "running on the last good configuration, "
			    "accepted %s: %s\n", "",
			    when(num(m, "config_accepted")),
			    lg != NULL ? reply_get(lg, "path") : "?");
		else if (strcmp(source, "none") == 0)
			printf(LABEL "no good configuration to run on: no "
			    "service, nothing is announced\n", "");
		else
			printf(LABEL "running on the configuration accepted "
			    "%s\n", "", when(num(m, "config_accepted")));
		printf(LABEL "fix the file, then 'anycastctl reload'\n", "");
	} else if (file_errors != NULL)
		printf(LABEL "%s is REJECTED now (the errors above), "
		    "but the relay has not read it since it was accepted\n", "",
		    file_path);
	if (lg != NULL && has(lg, "warning"))
		printf(LABEL "warning: %s\n", "", reply_get(lg, "warning"));
}

static void
show_status(const struct reply *r)
{
	const struct ah_msg	*m, *svc = NULL, *exabgp = NULL;
	const struct ah_msg	*relay = NULL;
	char			 up[32], views[2048] = "";
	size_t			 i, nsess = 0, nchk = 0;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "view") == 0)
			snprintf(views + strlen(views), sizeof(views) -
			    strlen(views), "%s%s", views[0] ? ", " : "",
			    reply_get(m, "name"));
	}
	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "relay") == 0) {
			relay = m;
			span(up, sizeof(up), num(m, "now") - num(m, "started"));
			printf(LABEL "anycast-relay %s (protocol %s), pid %s\n",
			    "relay:", reply_get(m, "version"),
			    reply_get(m, "proto"), reply_get(m, "pid"));
			printf(LABEL "%s, since %s", "uptime:", up,
			    when(num(m, "started")));
			if (has(m, "taken_from"))
				printf("; routes taken over from relay %s, "
				    "which %s", reply_get(m, "taken_from"),
				    strcmp(reply_get(m, "taken_after"),
				    "crash") == 0 ? "died" : "anycastctl "
				    "restart replaced");
			printf("\n");
			printf(LABEL "%s\n", "config:", reply_get(m, "config"));
			config_lines(r, m);
		} else if (strcmp(m->type, "feed") == 0) {
			if (strcmp(reply_get(m, "state"), "up") == 0) {
				named_line(m, relay, views);
				feed_line(m);
				if (has(m, "proto") &&
				    num(m, "proto") < AH_FEED_VERSION)
					printf(LABEL "protocol %s, older than "
					    "this relay's %d: shared faults "
					    "judged by the last two labels of "
					    "names, without public suffixes, "
					    "until named loads the new plugin\n",
					    "plugin:", reply_get(m, "proto"),
					    AH_FEED_VERSION);
			} else {
				printf(LABEL "not connected\n", "named:");
				printf(LABEL "%s since %s: %s\n", "feed:",
				    strcmp(reply_get(m, "state"), "hello") ==
				    0 ? "CONNECTING" : "DOWN",
				    when(num(m, "since")),
				    reply_get(m, "error"));
			}
			printf(LABEL "%s\n", "socket:", reply_get(m, "socket"));
		} else if (strcmp(m->type, "exabgp") == 0) {
			exabgp = m;
			if (num(m, "rejected") > 0)
				printf(LABEL "rejected %s of %s commands since "
				    "the relay started\n", "exabgp:",
				    reply_get(m, "rejected"),
				    reply_get(m, "commands"));
		} else if (strcmp(m->type, "session") == 0) {
			printf(LABEL "%s %s since %s%s%s\n",
			    nsess++ ? "" : "bgp:", reply_get(m, "peer"),
			    reply_get(m, "state"), when(num(m, "since")),
			    has(m, "reason") ? ": " : "",
			    reply_get(m, "reason"));
		} else if (strcmp(m->type, "service") == 0) {
			if (nsess == 0 && exabgp != NULL &&
			    has(exabgp, "neighbors_at"))
				printf(LABEL "ExaBGP has no neighbor\n",
				    "bgp:");
			else if (nsess == 0)
				printf(LABEL "no session reported by ExaBGP "
				    "yet\n", "bgp:");
			nsess = 1;
			svc = m;
			nchk = 0;
			service_line(m);
		} else if (strcmp(m->type, "drain") == 0) {
			drain_line(m);
		} else if (strcmp(m->type, "check") == 0) {
			if (*reply_get(m, "text") == '\0')
				continue;
			printf("  %-24s %-8s %s\n", reply_get(m, "name"),
			    check_state(m), reply_get(m, "text"));
			nchk++;
		} else if (strcmp(m->type, "prefix") == 0) {
			/* Hard trouble clears the checks: say why instead. */
			if (svc != NULL && nchk == 0)
				printf("  %-24s %s\n", "reason",
				    reply_get(svc, "reason"));
			svc = NULL;
			printf("  %-24s %-12s since %s\n",
			    reply_get(m, "prefix"), reply_get(m, "state"),
			    when(num(m, "since")));
			/* Not what the relay asked for: what stands between. */
			if (has(m, "why"))
				printf("  %-24s %s\n", "", reply_get(m, "why"));
			if (has(m, "sent"))
				printf("  %-24s sent: %s\n", "",
				    reply_get(m, "sent"));
		}
	}
}

static void
show_counters(const struct reply *r)
{
	const struct ah_msg	*m;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "counters") == 0)
			printf("%sview %s (snapshot %s):\n", i ? "\n" : "",
			    reply_get(m, "view"), reply_get(m, "seq"));
		else if (strcmp(m->type, "counter") == 0)
			printf("  %-24s %s\n", reply_get(m, "name"),
			    reply_get(m, "value"));
	}
}

static const char *
unix_s(const struct ah_msg *m, const char *key)
{
	int64_t s = num(m, key);

	return (s > 0 ? when(s * 1000) : "-");
}

static void
show_zones(const struct reply *r)
{
	const struct ah_msg	*m;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "zones") == 0) {
			printf("%sview %s:", i ? "\n" : "", reply_get(m, "view"));
			if (has(m, "watched"))
				printf(" %s watched, %s healthy, walked %s",
				    reply_get(m, "watched"),
				    reply_get(m, "healthy"),
				    when(num(m, "checked")));
			else
				printf(" no zone summary (the plugin watches "
				    "no zones here, or has not walked them)");
			printf("\n");
		} else if (strcmp(m->type, "zone") == 0) {
			if (num(m, "found") == 0) {
				printf("  %s: not in the view\n",
				    reply_get(m, "name"));
				continue;
			}
			printf("  %s: %s%s%s, serial %s\n",
			    reply_get(m, "name"), reply_get(m, "type"),
			    has(m, "type") ? ", " : "", num(m, "expired") ?
			    "EXPIRED" : num(m, "loaded") ? "loaded" :
			    "NOT LOADED",
			    has(m, "serial") ? reply_get(m, "serial") : "-");
			/*
			 * BIND's own load time is the file's: when named
			 * loaded the data is what the plugin saw.
			 */
			if (has(m, "loaded_seen"))
				printf("    loaded  %s\n",
				    unix_s(m, "loaded_seen"));
			if (num(m, "loaded_at") > 0)
				printf("    dated   %s: BIND's load time "
				    "(for a zone read from a file, the "
				    "file's modification time)\n",
				    unix_s(m, "loaded_at"));
			printf("    refresh %s\n", unix_s(m, "refresh"));
			printf("    expire  %s\n", unix_s(m, "expire"));
		}
	}
}

/* A ratio or time check's figure: "2.1%", "120 ms". */
static void
figure(char *buf, size_t len, const char *unit, double v)
{
	if (strcmp(unit, "ratio") == 0)
		snprintf(buf, len, "%.1f%%", v * 100);
	else if (v > 1e300)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%.0f ms", v);
}

static void
show_checks(const struct reply *r)
{
	const struct ah_msg	*m;
	char			 v[32], l[32], w[32];
	double			 value, limit;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "service") == 0) {
			printf("%s", i ? "\n" : "");
			service_line(m);
			span(w, sizeof(w), num(m, "window_ms"));
			printf("  %s good, %s bad in a row (rise %s, fall %s); "
			    "window %s, min-queries %s\n", reply_get(m, "good"),
			    reply_get(m, "bad"), reply_get(m, "rise"),
			    reply_get(m, "fall"), w,
			    reply_get(m, "min_queries"));
			continue;
		}
		if (strcmp(m->type, "check") != 0)
			continue;
		printf("  %-24s %-8s", reply_get(m, "name"), check_state(m));
		span(w, sizeof(w), num(m, "span_ms"));
		/* No figures: the words say how little traffic there is. */
		if (strcmp(reply_get(m, "state"), "no-data") == 0) {
			printf(" %s\n", reply_get(m, "text"));
			continue;
		}
		if (strcmp(reply_get(m, "unit"), "zones") == 0 &&
		    has(m, "value"))
			printf(" %.0f of %s unhealthy",
			    strtod(reply_get(m, "value"), NULL),
			    reply_get(m, "samples"));
		else if (has(m, "value")) {
			value = strtod(reply_get(m, "value"), NULL);
			limit = strtod(reply_get(m, "limit"), NULL);
			figure(v, sizeof(v), reply_get(m, "unit"), value);
			figure(l, sizeof(l), reply_get(m, "unit"), limit);
			printf(" %s, limit %s", v, l);
			if (limit > 0 && value <= limit)
				printf(" (%.0f%% of the way)",
				    value / limit * 100);
			if (num(m, "span_ms") > 0)
				printf(", %s samples over %s",
				    reply_get(m, "samples"), w);
		} else if (has(m, "samples"))
			printf(" last result kept: too little traffic now, "
			    "%s sample%s over %s", reply_get(m, "samples"),
			    ah_plural(num(m, "samples")), w);
		printf("\n  %-24s %s\n", "", *reply_get(m, "text") ?
		    reply_get(m, "text") : "no result yet");
	}
}

static void
show_history(const struct reply *r)
{
	const struct ah_msg	*m;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (strcmp(m->type, "service") == 0) {
			printf("%s", i ? "\n" : "");
			service_line(m);
			printf("  %s route change%s since the relay "
			    "started%s\n", reply_get(m, "transitions"),
			    ah_plural(num(m, "transitions")),
			    num(m, "transitions") > 32 ? "; the last 32:" : "");
		} else if (strcmp(m->type, "transition") == 0)
			printf("  %s  %s -> %s: %s\n", when(num(m, "at")),
			    reply_get(m, "from"), reply_get(m, "to"),
			    reply_get(m, "reason"));
	}
}

/* metrics, reload: the relay's lines as they are. */
static void
show_lines(const struct reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "line") == 0)
			printf("%s\n", reply_get(r->m[i], "text"));
}

/* Asked for: every service, or the one named (as shown: made visible). */
static int
asked(const char *name)
{
	char arg[4 * AH_LINE_MAX];

	if (command->arg == NULL)
		return (1);
	ah_vis(arg, sizeof(arg), command->arg, 0);
	return (strcmp(arg, name) == 0);
}

/* "2 good evaluations in a row (rise)" */
static const char *
rise_words(const struct ah_msg *m)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s good evaluation%s in a row (rise)",
	    reply_get(m, "rise"), ah_plural(num(m, "rise")));
	return (buf);
}

/* What comes of a service that is judged again (undrain). */
static void
judged_again(const struct ah_msg *m)
{
	const char	*route = reply_get(m, "route");
	char		 until[16], left[32];
	time_t		 t;
	struct tm	 tm;

	if (has(m, "held_ms")) {
		t = time(NULL) + (time_t)((num(m, "held_ms") + 999) / 1000);
		localtime_r(&t, &tm);
		strftime(until, sizeof(until), "%H:%M:%S", &tm);
		span(left, sizeof(left), num(m, "held_ms") + 999);
		printf("held down by flap damping until %s (%s more), then "
		    "announced after %s; 'anycastctl release %s' ends the "
		    "hold now", until, left, rise_words(m),
		    reply_get(m, "name"));
	} else if (strcmp(route, "draining") == 0)
		printf("announced with the drain's attributes until %s, then "
		    "as usual", rise_words(m));
	else if (strcmp(route, "withdrawn") == 0)
		printf("will be announced after %s", rise_words(m));
	else
		printf("%s, %s", state_words(m), route);
}

/* What comes of a service a hold no longer keeps down (release). */
static void
released(const struct ah_msg *m, const struct ah_msg *res)
{
	int64_t	 more = num(m, "rise") - num(m, "good");
	char	 left[32];

	span(left, sizeof(left), num(res, "held_ms") + 999);
	printf("released from flap damping (%s of the hold were left): ",
	    left);
	if (strncmp(reply_get(m, "state"), "drain", 5) == 0)
		printf("it stays %s until 'anycastctl undrain %s'",
		    reply_get(m, "state"), reply_get(m, "name"));
	else if (strcmp(reply_get(m, "route"), "withdrawn") != 0)
		printf("%s, %s", state_words(m), reply_get(m, "route"));
	else if (more <= 1)
		printf("announced at its next good evaluation");
	else
		printf("announced after %lld more good evaluations in a row "
		    "(rise %s)", (long long)more, reply_get(m, "rise"));
}

/*
 * drain, undrain, release, and drain --wait at its end: each service
 * asked for, what the command did to it and what comes next.
 */
static void
show_change(const struct reply *r)
{
	const struct ah_msg	*m, *d, *res;
	const char		*name, *done;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		name = reply_get(m, "name");
		if (strcmp(m->type, "service") != 0 || !asked(name))
			continue;
		d = reply_find(r, "drain", name);
		res = reply_find(r, "result", name);
		done = res != NULL ? reply_get(res, "done") : "";
		printf("%s: ", name);
		if (strcmp(done, "undrained") == 0) {
			printf("undrained: ");
			judged_again(m);
		} else if (strcmp(done, "not-drained") == 0) {
			printf("not drained: nothing to undo; %s",
			    state_words(m));
		} else if (strcmp(done, "released") == 0)
			released(m, res);
		else if (strcmp(done, "not-held") == 0)
			printf("not held by flap damping: nothing to release "
			    "(%s)", state_words(m));
		else if (d != NULL) {
			upper_state(m);
			printf(": %s", reply_get(d, "text"));
		} else
			/* A relay before 0.2.0 says only the state. */
			upper_state(m);
		printf("\n");
		if (d != NULL && has(d, "warning"))
			printf("%s: warning: %s\n", name,
			    reply_get(d, "warning"));
	}
}

static void
show_progress(const struct ah_msg *svc, const struct ah_msg *d)
{
	char	 for_[32], left[32];
	int64_t	 now = (int64_t)time(NULL) * 1000;

	span(for_, sizeof(for_), now - num(d, "since"));
	span(left, sizeof(left), num(d, "deadline") - now);
	printf("%s: draining for %s: ", reply_get(svc, "name"), for_);
	if (has(d, "rate"))
		printf("%s qps now, ", reply_get(d, "rate"));
	else
		printf("measuring, ");
	printf("%s qps before; withdrawn at or below %s qps, or in %s\n",
	    has(d, "before") ? reply_get(d, "before") : "unknown",
	    reply_get(d, "limit"), left);
}

static void
show_error(const char *code, const char *msg, const struct reply *details)
{
	size_t i;

	fprintf(stderr, "anycastctl: %s\n", msg);
	for (i = 0; details != NULL && i < details->n; i++)
		if (strcmp(details->m[i]->type, "line") == 0)
			fprintf(stderr, "  %s\n",
			    reply_get(details->m[i], "text"));
}

static void
show_tail(void)
{
}

const struct output show_output = {
	.escape = 1,
	.status = show_status,
	.counters = show_counters,
	.zones = show_zones,
	.checks = show_checks,
	.history = show_history,
	.metrics = show_lines,
	.change = show_change,
	.progress = show_progress,
	.reload = show_lines,
	.error = show_error,
	.tail = show_tail,
};
