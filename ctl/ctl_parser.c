/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_parser.c - anycastctl's command line, as token tables in the
 * manner of bgpctl's parser.c: each table lists what may come next,
 * and a keyword leads to the next table.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "parse.h"

/* WAIT, TIMEOUT: drain's options, which may come before or after it. */
enum token_type {
	ENDTOKEN, NOTOKEN, KEYWORD, VIEWNAME, SERVICENAME, WAIT, TIMEOUT,
	DURATION
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	enum action		 action;
	const struct token	*next;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_view[];
static const struct token t_service[];
static const struct token t_drain[];
static const struct token t_duration[];

static const struct token t_main[] = {
	{ KEYWORD,	"status",	STATUS,		NULL },
	{ KEYWORD,	"show",		NONE,		t_show },
	{ KEYWORD,	"metrics",	METRICS,	NULL },
	{ KEYWORD,	"drain",	DRAIN,		t_drain },
	{ KEYWORD,	"undrain",	UNDRAIN,	t_service },
	{ KEYWORD,	"release",	RELEASE,	t_service },
	{ KEYWORD,	"reload",	RELOAD,		NULL },
	{ KEYWORD,	"restart",	RESTART,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_drain[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ WAIT,		"--wait",	NONE,		t_drain },
	{ TIMEOUT,	"--timeout",	NONE,		t_duration },
	{ SERVICENAME,	"",		NONE,		t_drain },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_duration[] = {
	{ DURATION,	"",		NONE,		t_drain },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"counters",	SHOW_COUNTERS,	t_view },
	{ KEYWORD,	"zones",	SHOW_ZONES,	t_view },
	{ KEYWORD,	"checks",	SHOW_CHECKS,	t_service },
	{ KEYWORD,	"history",	SHOW_HISTORY,	t_service },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_view[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ VIEWNAME,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_service[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ SERVICENAME,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

/* What each action asks the relay (doc/protocol.md, section 3.2). */
static const struct {
	enum action	 action;
	const char	*request;
	const char	*argkey;
	const char	*words;
} requests[] = {
	{ STATUS,	 "status",	  NULL,		"status" },
	{ SHOW_COUNTERS, "show-counters", "view",	"show counters" },
	{ SHOW_ZONES,	 "show-zones",	  "view",	"show zones" },
	{ SHOW_CHECKS,	 "show-checks",	  "service",	"show checks" },
	{ SHOW_HISTORY,	 "show-history",  "service",	"show history" },
	{ METRICS,	 "metrics",	  NULL,		"metrics" },
	{ DRAIN,	 "drain",	  "service",	"drain" },
	{ UNDRAIN,	 "undrain",	  "service",	"undrain" },
	{ RELEASE,	 "release",	  "service",	"release" },
	{ RELOAD,	 "reload",	  NULL,		"reload" },
	/* Asks for the status, then replaces the relay (ctl.c, restart()). */
	{ RESTART,	 "status",	  NULL,		"restart" },
};

static const struct token *
match(const char *word, const struct token *table, struct parse_result *res)
{
	const struct token	*t;
	long long		 ms;

	for (t = table; t->type != ENDTOKEN; t++) {
		if ((t->type == KEYWORD || t->type == WAIT ||
		    t->type == TIMEOUT) && strcmp(word, t->keyword) == 0) {
			if (t->action != NONE)
				res->action = t->action;
			res->wait |= t->type == WAIT;
			return (t);
		}
	}
	for (t = table; t->type != ENDTOKEN; t++) {
		/* One view or service at most. */
		if ((t->type == VIEWNAME || t->type == SERVICENAME) &&
		    res->arg == NULL) {
			res->arg = word;
			return (t);
		}
		/* A duration as in the configuration, up to a day. */
		if (t->type == DURATION && (ms = conf_duration_ms(word)) >= 0 &&
		    ms <= AH_DRAIN_TIMEOUT_MAX_MS) {
			res->timeout_ms = ms;
			return (t);
		}
	}
	return (NULL);
}

void
parse_valid(const struct parse_result *res, FILE *f)
{
	const struct token *t;

	if (res->valid == NULL)
		return;
	fprintf(f, "valid commands/args:\n");
	for (t = res->valid; t->type != ENDTOKEN; t++)
		switch (t->type) {
		case NOTOKEN:
			fprintf(f, "  <cr>\n");
			break;
		case KEYWORD:
			fprintf(f, "  %s\n", t->keyword);
			break;
		case VIEWNAME:
			fprintf(f, "  <view>\n");
			break;
		case SERVICENAME:
			fprintf(f, "  <service>\n");
			break;
		case WAIT:
		case TIMEOUT:
			fprintf(f, "  %s\n", t->keyword);
			break;
		case DURATION:
			fprintf(f, "  <duration: 0s to 1d, like 30s or "
			    "2m>\n");
			break;
		default:
			break;
		}
}

static int
accepts_end(const struct token *table)
{
	return (table == NULL || table[0].type == NOTOKEN);
}

int
parse(int argc, char *argv[], struct parse_result *res)
{
	const struct token	*table = t_main, *t;
	size_t			 i;
	int			 n;

	memset(res, 0, sizeof(*res));
	res->timeout_ms = -1;
	for (n = 0; n < argc; n++) {
		if (table == NULL) {
			snprintf(res->error, sizeof(res->error), "too many "
			    "arguments: '%.60s' after '%.60s'", argv[n],
			    argv[n - 1]);
			return (-1);
		}
		if ((t = match(argv[n], table, res)) == NULL) {
			if (table == t_main)
				snprintf(res->error, sizeof(res->error),
				    "unknown command '%.100s'", argv[n]);
			else
				snprintf(res->error, sizeof(res->error),
				    "unknown argument '%.60s' to '%.60s'",
				    argv[n], argv[n - 1]);
			res->valid = table;
			return (-1);
		}
		table = t->next;
	}
	if (!accepts_end(table) || res->action == NONE) {
		snprintf(res->error, sizeof(res->error), "%s", argc == 0 ?
		    "no command" : "incomplete command");
		res->valid = table;
		return (-1);
	}
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].action == res->action) {
			res->request = requests[i].request;
			res->argkey = requests[i].argkey;
			res->words = requests[i].words;
		}
	return (0);
}

void
parse_usage(FILE *f)
{
	fprintf(f, "commands:\n"
	    "  status                  the relay, named, BGP sessions, each "
	    "service and prefix\n"
	    "  show counters [VIEW]    the plugin's counters per view\n"
	    "  show zones [VIEW]       each watched zone: serial, when "
	    "loaded, refresh, expiry\n"
	    "  show checks [SERVICE]   each check's value, threshold, "
	    "window, samples\n"
	    "  show history [SERVICE]  the last route changes and why\n"
	    "  metrics                 the Prometheus exposition\n"
	    "  drain [SERVICE] [--wait] [--timeout D]\n"
	    "                          announce with GRACEFUL_SHUTDOWN, "
	    "withdraw once traffic\n"
	    "                          has moved away (or at the timeout)\n"
	    "      --wait              wait until drained, printing the "
	    "query rate every second\n"
	    "      --timeout D         withdraw anyway after D (0s to 1d, "
	    "like 30s or 2m;\n"
	    "                          default: the service's "
	    "drain.timeout)\n"
	    "  undrain [SERVICE]       end a drain: judged again, announced "
	    "after 'rise'\n"
	    "  release [SERVICE]       end a flap-damping hold now\n"
	    "  reload                  read the configuration file again\n"
	    "  restart                 replace the relay with the installed "
	    "one, its routes\n"
	    "                          taken over, not withdrawn (root)\n");
}
