/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_json.c - anycastctl -j: each reply as one JSON object, built
 * with jansson.  The schema is doc/anycastctl.schema.json; a system
 * test validates every command's output against it, so a change here
 * that is not made there too fails.
 *
 * Records map to objects through field tables: the wire key, the JSON
 * key and its type.  Fields the table does not list are left out, so
 * a newer relay cannot change the schema behind a script's back.
 */
#include <config.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahtext.h"
#include "ctl.h"

enum ftype { F_STR, F_INT, F_NUM, F_BOOL };

struct field {
	const char	*wire;
	const char	*json;
	enum ftype	 type;
};

static const struct field f_relay[] = {
	{ "pid", "pid", F_INT }, { "version", "version", F_STR },
	{ "proto", "protocol", F_INT }, { "started", "started", F_INT },
	{ "config", "config", F_STR }, { "config_ok", "config_ok", F_BOOL },
	{ "config_source", "config_source", F_STR },
	{ "config_accepted", "config_accepted", F_INT },
	{ "config_rejected", "config_rejected", F_INT },
	{ "config_errors", "config_errors", F_INT },
	{ "taken_from", "taken_over_from", F_INT },
	{ "taken_after", "taken_over_after", F_STR }, { NULL, NULL, 0 }
};

static const struct field f_feed[] = {
	{ "state", "state", F_STR }, { "socket", "socket", F_STR },
	{ "since", "since", F_INT }, { "named", "named_version", F_STR },
	{ "plugin_version", "plugin_version", F_STR },
	{ "named_pid", "named_pid", F_INT },
	{ "proto", "plugin_protocol", F_INT },
	{ "interval", "interval_ms", F_INT },
	{ "stale_after", "stale_after_ms", F_INT },
	{ "seq", "seq", F_INT }, { "age_ms", "age_ms", F_INT },
	{ "error", "error", F_STR }, { NULL, NULL, 0 }
};

static const struct field f_session[] = {
	{ "peer", "peer", F_STR }, { "state", "state", F_STR },
	{ "since", "since", F_INT }, { "reason", "reason", F_STR },
	{ NULL, NULL, 0 }
};

static const struct field f_service[] = {
	{ "name", "name", F_STR }, { "view", "view", F_STR },
	{ "state", "state", F_STR }, { "route", "route", F_STR },
	{ "since", "since", F_INT }, { "reason", "reason", F_STR },
	{ "good", "good", F_INT }, { "bad", "bad", F_INT },
	{ "rise", "rise", F_INT }, { "fall", "fall", F_INT },
	{ "held_ms", "held_ms", F_INT }, { "window_ms", "window_ms", F_INT },
	{ "min_queries", "min_queries", F_INT },
	{ "transitions", "transitions", F_INT }, { NULL, NULL, 0 }
};

static const struct field f_check[] = {
	{ "name", "name", F_STR }, { "state", "state", F_STR },
	{ "text", "text", F_STR }, { "unit", "unit", F_STR },
	{ "value", "value", F_NUM }, { "limit", "limit", F_NUM },
	{ "samples", "samples", F_INT }, { "span_ms", "span_ms", F_INT },
	{ NULL, NULL, 0 }
};

static const struct field f_prefix[] = {
	{ "prefix", "prefix", F_STR }, { "state", "state", F_STR },
	{ "route", "route", F_STR }, { "since", "since", F_INT },
	{ "why", "why", F_STR }, { "exabgp", "exabgp", F_STR },
	{ "sent", "sent", F_STR }, { "sent_at", "sent_at", F_INT },
	{ NULL, NULL, 0 }
};

static const struct field f_exabgp[] = {
	{ "neighbors_at", "neighbors_at", F_INT },
	{ "commands", "commands", F_INT }, { "waiting", "waiting", F_INT },
	{ "rejected", "rejected", F_INT }, { NULL, NULL, 0 }
};

static const struct field f_zones[] = {
	{ "watched", "watched", F_INT }, { "healthy", "healthy", F_INT },
	{ "expired", "expired", F_INT }, { "unloaded", "unloaded", F_INT },
	{ "missing", "missing", F_INT }, { "checked", "checked", F_INT },
	{ NULL, NULL, 0 }
};

static const struct field f_zone[] = {
	{ "name", "name", F_STR }, { "found", "found", F_BOOL },
	{ "type", "type", F_STR }, { "loaded", "loaded", F_BOOL },
	{ "expired", "expired", F_BOOL }, { "serial", "serial", F_INT },
	{ "loaded_at", "loaded_at", F_INT },
	{ "loaded_seen", "loaded_seen", F_INT },
	{ "refresh", "refresh", F_INT }, { "expire", "expire", F_INT },
	{ "checked", "checked", F_INT }, { NULL, NULL, 0 }
};

static const struct field f_drain[] = {
	{ "state", "state", F_STR }, { "since", "since", F_INT },
	{ "by", "by", F_STR }, { "deadline", "deadline", F_INT },
	{ "timeout_ms", "timeout_ms", F_INT }, { "hold_ms", "hold_ms", F_INT },
	{ "end", "end", F_STR }, { "ended", "ended", F_INT },
	{ "before", "rate_before", F_NUM }, { "rate", "rate", F_NUM },
	{ "limit", "limit", F_NUM }, { "text", "text", F_STR },
	{ "warning", "warning", F_STR }, { NULL, NULL, 0 }
};

/* What undrain or release did, merged into the service's object. */
static const struct field f_result[] = {
	{ "done", "result", F_STR }, { "held_ms", "released_ms", F_INT },
	{ NULL, NULL, 0 }
};

static const struct field f_reload[] = {
	{ "config", "config", F_STR }, { "services", "services", F_INT },
	{ "added", "added", F_INT }, { "removed", "removed", F_INT },
	{ "changed", "changed", F_INT }, { "unchanged", "unchanged", F_INT },
	{ "commands", "commands", F_INT }, { NULL, NULL, 0 }
};

static const struct field f_transition[] = {
	{ "at", "at", F_INT }, { "from", "from", F_STR },
	{ "to", "to", F_STR }, { "reason", "reason", F_STR },
	{ NULL, NULL, 0 }
};

static json_t *top;

/*
 * A JSON string of the 'n' bytes at 's': as they are when they are
 * UTF-8, else made visible as for people (ahtext.h), since JSON can hold
 * nothing else and a name from named or the command line is not ours
 * to drop.  NULL only when memory ran out.
 */
static json_t *
jstrn(const char *s, size_t n)
{
	json_t	*v;
	char	*raw, *vis;
	size_t	 len;

	if ((v = json_stringn(s, n)) != NULL)
		return (v);
	if ((raw = strndup(s, n)) == NULL)
		return (NULL);
	len = 4 * strlen(raw) + 1;
	if ((vis = malloc(len)) != NULL) {
		ah_vis(vis, len, raw, AH_VIS_UTF8);
		v = json_string(vis);
		free(vis);
	}
	free(raw);
	return (v);
}

static json_t *
jstr(const char *s)
{
	return (jstrn(s, strlen(s)));
}

static void
set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) < 0) {
		fprintf(stderr, "anycastctl: out of memory\n");
		exit(EXIT_ERROR);
	}
}

static void
append(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) < 0) {
		fprintf(stderr, "anycastctl: out of memory\n");
		exit(EXIT_ERROR);
	}
}

static json_t *
object(const struct ah_msg *m, const struct field *f)
{
	json_t		*o = json_object();
	const char	*v;

	for (; f->wire != NULL; f++) {
		if ((v = ah_get(m, f->wire)) == NULL)
			continue;
		switch (f->type) {
		case F_STR:
			set(o, f->json, jstr(v));
			break;
		case F_INT:
			set(o, f->json, json_integer(strtoll(v, NULL, 10)));
			break;
		case F_NUM:
			/* JSON has no infinity: a failed measurement is null. */
			if (strcmp(v, "inf") == 0)
				set(o, f->json, json_null());
			else
				set(o, f->json, json_real(strtod(v, NULL)));
			break;
		case F_BOOL:
			set(o, f->json, json_boolean(strcmp(v, "0") != 0));
			break;
		}
	}
	return (o);
}

static int
is(const struct ah_msg *m, const char *type)
{
	return (strcmp(m->type, type) == 0);
}

/* The keys of 'o' into 'into'. */
static void
merge(json_t *into, json_t *o)
{
	if (o == NULL || json_object_update(into, o) < 0) {
		fprintf(stderr, "anycastctl: out of memory\n");
		exit(EXIT_ERROR);
	}
	json_decref(o);
}

static json_t *
array(const char *key)
{
	json_t *a = json_array();

	set(top, key, a);
	return (a);
}

static void
begin(void)
{
	top = json_object();
	set(top, "command", jstr(command->words));
	if (command->arg != NULL)
		set(top, command->argkey, jstr(command->arg));
	if (command->action == DRAIN) {
		set(top, "wait", json_boolean(command->wait));
		if (command->timeout_ms >= 0)
			set(top, "timeout_ms",
			    json_integer(command->timeout_ms));
	}
}

/* The lines of a reload's account (or its errors), as strings. */
static json_t *
lines(const struct reply *r)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < r->n; i++)
		if (is(r->m[i], "line"))
			append(a, jstr(reply_get(r->m[i], "text")));
	return (a);
}

/*
 * status, show checks, show history: services, each with the records
 * that follow it (checks, prefixes, transitions) nested inside.
 */
static void
services(const struct reply *r)
{
	const struct ah_msg	*m;
	json_t			*list = array("services"), *svc = NULL;
	json_t			*checks = NULL, *prefixes = NULL;
	json_t			*history = NULL;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (is(m, "service") && (command->action == DRAIN ||
		    command->action == UNDRAIN || command->action == RELEASE) &&
		    command->arg != NULL &&
		    strcmp(command->arg, reply_get(m, "name")) != 0) {
			svc = NULL;	/* drain --wait's status: not asked */
			continue;
		}
		if (is(m, "service")) {
			svc = object(m, f_service);
			append(list, svc);
			set(svc, "checks", checks = json_array());
			if (command->action == STATUS)
				set(svc, "prefixes", prefixes = json_array());
			if (command->action == SHOW_HISTORY)
				set(svc, "history", history = json_array());
		} else if (svc == NULL)
			continue;
		else if (is(m, "drain"))
			set(svc, "drain", object(m, f_drain));
		else if (is(m, "result"))
			merge(svc, object(m, f_result));
		else if (is(m, "check"))
			append(checks, object(m, f_check));
		else if (is(m, "prefix") && prefixes != NULL)
			append(prefixes, object(m, f_prefix));
		else if (is(m, "transition") && history != NULL)
			append(history, object(m, f_transition));
	}
	if (command->action != STATUS && command->action != SHOW_CHECKS)
		for (i = 0; i < json_array_size(list); i++)
			json_object_del(json_array_get(list, i), "checks");
}

/* -c CONFIG as anycastctl read it, when rejected: its errors. */
static json_t *
file_object(void)
{
	json_t		*o = json_object(), *errors = json_array();
	const char	*p;
	size_t		 n;

	set(o, "path", jstr(file_path));
	for (p = file_errors; *p != '\0'; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		append(errors, jstrn(p, n));
	}
	set(o, "errors", errors);
	return (o);
}

static void
json_status(const struct reply *r)
{
	const struct ah_msg	*m;
	json_t			*feed = NULL, *views = json_array();
	json_t			*sessions, *relay = NULL;
	int64_t			 now = 0, started = 0;
	size_t			 i;

	begin();
	sessions = json_array();
	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (is(m, "relay")) {
			relay = object(m, f_relay);
			now = strtoll(reply_get(m, "now"), NULL, 10);
			started = strtoll(reply_get(m, "started"), NULL, 10);
			set(relay, "uptime_ms", json_integer(now - started));
			set(top, "relay", relay);
		} else if (is(m, "config_error") && relay != NULL)
			set(relay, "config_error",
			    jstr(reply_get(m, "text")));
		else if (is(m, "last_good") && relay != NULL) {
			set(relay, "last_good",
			    jstr(reply_get(m, "path")));
			if (ah_get(m, "warning") != NULL)
				set(relay, "last_good_warning",
				    jstr(reply_get(m, "warning")));
		} else if (is(m, "feed"))
			set(top, "feed", feed = object(m, f_feed));
		else if (is(m, "view"))
			append(views, jstr(reply_get(m, "name")));
		else if (is(m, "exabgp"))
			set(top, "exabgp", object(m, f_exabgp));
		else if (is(m, "session"))
			append(sessions, object(m, f_session));
	}
	if (feed != NULL)
		set(feed, "views", views);
	else
		json_decref(views);
	set(top, "sessions", sessions);
	if (file_errors != NULL)
		set(top, "config_file", file_object());
	services(r);
}

static void
json_counters(const struct reply *r)
{
	const struct ah_msg	*m;
	json_t			*list, *counters = NULL, *v;
	size_t			 i;

	begin();
	list = array("views");
	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (is(m, "counters")) {
			v = json_object();
			set(v, "name", jstr(reply_get(m, "view")));
			set(v, "seq", json_integer(strtoll(reply_get(m, "seq"),
			    NULL, 10)));
			set(v, "counters", counters = json_object());
			append(list, v);
		} else if (is(m, "counter") && counters != NULL)
			set(counters, reply_get(m, "name"),
			    json_integer(strtoll(reply_get(m, "value"), NULL,
			    10)));
	}
}

static void
json_zones(const struct reply *r)
{
	const struct ah_msg	*m;
	json_t			*list, *zones = NULL, *v;
	size_t			 i;

	begin();
	list = array("views");
	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		if (is(m, "zones")) {
			v = json_object();
			set(v, "name", jstr(reply_get(m, "view")));
			set(v, "summary", object(m, f_zones));
			set(v, "zones", zones = json_array());
			append(list, v);
		} else if (is(m, "zone") && zones != NULL)
			append(zones, object(m, f_zone));
	}
}

static void
json_services(const struct reply *r)
{
	begin();
	services(r);
}

static void
json_metrics(const struct reply *r)
{
	size_t	 i, len = 0;
	char	*text, *p;

	begin();
	for (i = 0; i < r->n; i++)
		if (is(r->m[i], "line"))
			len += strlen(reply_get(r->m[i], "text")) + 1;
	if ((text = p = malloc(len + 1)) == NULL) {
		fprintf(stderr, "anycastctl: out of memory\n");
		exit(EXIT_ERROR);
	}
	for (i = 0; i < r->n; i++)
		if (is(r->m[i], "line"))
			p += sprintf(p, "%s\n", reply_get(r->m[i], "text"));
	*p = '\0';
	set(top, "exposition", jstr(text));
	free(text);
}

static void
json_reload(const struct reply *r)
{
	size_t	 i;

	begin();
	for (i = 0; i < r->n; i++)
		if (is(r->m[i], "reload")) {
			merge(top, object(r->m[i], f_reload));
			break;
		}
	set(top, "changes", lines(r));
}

/* anycastctl -j waits in silence: one object, at the end. */
static void
json_progress(const struct ah_msg *svc, const struct ah_msg *drain)
{
}

/* A line on stderr, where people read it: made visible. */
static void
people(const char *prefix, const char *text)
{
	char vis[4 * AH_LINE_MAX];

	ah_vis(vis, sizeof(vis), text, 0);
	fprintf(stderr, "%s%s\n", prefix, vis);
}

/* Errors: on stderr for people, and as the JSON reply on stdout. */
static void
json_error(const char *code, const char *msg, const struct reply *details)
{
	json_t	*e = json_object(), *d;
	size_t	 i;

	people("anycastctl: ", msg);
	if (top == NULL) {
		top = json_object();
		set(top, "command", jstr(command != NULL ?
		    command->words : ""));
	}
	set(e, "code", jstr(code));
	set(e, "message", jstr(msg));
	if (details != NULL && json_array_size(d = lines(details)) > 0) {
		for (i = 0; i < json_array_size(d); i++)
			people("  ", json_string_value(json_array_get(d, i)));
		set(e, "details", d);
	} else if (details != NULL)
		json_decref(d);
	set(top, "error", e);
	json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(top);
	top = NULL;
}

static void
json_tail(void)
{
	if (top == NULL)
		return;
	json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(top);
	top = NULL;
}

const struct output json_output = {
	.status = json_status,
	.counters = json_counters,
	.zones = json_zones,
	.checks = json_services,
	.history = json_services,
	.metrics = json_metrics,
	.change = json_services,
	.progress = json_progress,
	.reload = json_reload,
	.error = json_error,
	.tail = json_tail,
};
