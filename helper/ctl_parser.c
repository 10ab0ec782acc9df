/*
 * ctl_parser.c - anycastctl's command line, as token tables in the
 * manner of bgpctl's parser.c: each table lists what may come next,
 * and a keyword leads to the next table.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ctl.h"

enum token_type { ENDTOKEN, NOTOKEN, KEYWORD, VIEWNAME, SERVICENAME };

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

static const struct token t_main[] = {
	{ KEYWORD,	"status",	STATUS,		NULL },
	{ KEYWORD,	"show",		NONE,		t_show },
	{ KEYWORD,	"metrics",	METRICS,	NULL },
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
};

static const struct token *
match(const char *word, const struct token *table, struct parse_result *res)
{
	const struct token *t;

	for (t = table; t->type != ENDTOKEN; t++)
		if (t->type == KEYWORD && strcmp(word, t->keyword) == 0) {
			if (t->action != NONE)
				res->action = t->action;
			return (t);
		}
	for (t = table; t->type != ENDTOKEN; t++)
		if (t->type == VIEWNAME || t->type == SERVICENAME) {
			res->arg = word;
			return (t);
		}
	return (NULL);
}

static void
valid_args(const struct token *table)
{
	const struct token *t;

	fprintf(stderr, "valid commands/args:\n");
	for (t = table; t->type != ENDTOKEN; t++)
		switch (t->type) {
		case NOTOKEN:
			fprintf(stderr, "  <cr>\n");
			break;
		case KEYWORD:
			fprintf(stderr, "  %s\n", t->keyword);
			break;
		case VIEWNAME:
			fprintf(stderr, "  <view>\n");
			break;
		case SERVICENAME:
			fprintf(stderr, "  <service>\n");
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
	for (n = 0; n < argc; n++) {
		if (table == NULL) {
			fprintf(stderr, "anycastctl: too many arguments: "
			    "'%s' after '%s'\n", argv[n], argv[n - 1]);
			return (-1);
		}
		if ((t = match(argv[n], table, res)) == NULL) {
			if (table == t_main)
				fprintf(stderr, "anycastctl: unknown command "
				    "'%s'\n", argv[n]);
			else
				fprintf(stderr, "anycastctl: unknown argument "
				    "'%s' to '%s'\n", argv[n], argv[n - 1]);
			valid_args(table);
			return (-1);
		}
		table = t->next;
	}
	if (!accepts_end(table) || res->action == NONE) {
		fprintf(stderr, "anycastctl: %s\n", argc == 0 ?
		    "no command" : "incomplete command");
		valid_args(table);
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
	    "  show zones [VIEW]       each watched zone: serial, refresh, "
	    "expiry, age\n"
	    "  show checks [SERVICE]   each check's value, threshold, "
	    "window, samples\n"
	    "  show history [SERVICE]  the last route changes and why\n"
	    "  metrics                 the Prometheus exposition\n");
}
