/* SPDX-License-Identifier: MPL-2.0 */
/*
 * params.c - the parameter block of the plugin statement, and the view
 * the statement belongs to.
 *
 *	plugin query "anycast-health.so" {
 *		socket "/run/named/anycast-health.sock";
 *		interval 100;		// milliseconds between snapshots
 *		zone-interval 1000;	// milliseconds between zone walks
 *		socket-mode "0660";
 *		socket-group "bind";
 *		zones { "example"; };	// or: all-zones yes;
 *	};
 *
 * The block is parsed with named's own grammar machinery (isccfg), so
 * named-checkconf and named report its mistakes as they report their
 * own; the plugin adds the line where isccfg cannot.  plugin_check and
 * plugin_register call the same functions; what the check refuses and
 * named only warns of is marked 'strict' (ah_params_parse()).
 */

#include <config.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <isc/buffer.h>
#include <isc/lex.h>
#include <isc/util.h>

#include <dns/fixedname.h>
#include <dns/name.h>

#include <isccfg/cfg.h>
#include <isccfg/grammar.h>

#include <ns/hooks.h>
#include <ns/log.h>

#include "ahsock.h"
#include "ahwire.h"
#include "bindcompat.h"
#include "params.h"
#include "publisher.h"
#include "view.h"

/* CHECK() and its 'cleanup:' label come from isc/util.h. */

#define DEFAULT_INTERVAL      100
#define DEFAULT_ZONE_INTERVAL 1000
#define MIN_INTERVAL	      50
#define MAX_INTERVAL	      60000
#define DEFAULT_MODE	      0660

/**
 ** The grammar.
 **/

static cfg_type_t cfg_type_zonelist = { "zonelist",
					cfg_parse_bracketed_list,
					cfg_print_bracketed_list,
					cfg_doc_bracketed_list,
					&cfg_rep_list,
					&cfg_type_astring };

static cfg_clausedef_t param_clauses[] = {
	{ "socket", &cfg_type_qstring, 0 },
	{ "interval", &cfg_type_uint32, 0 },
	{ "zone-interval", &cfg_type_uint32, 0 },
	{ "socket-mode", &cfg_type_astring, 0 },
	{ "socket-group", &cfg_type_astring, 0 },
	{ "zones", &cfg_type_zonelist, 0 },
	{ "all-zones", &cfg_type_boolean, 0 },
	{ NULL, NULL, 0 } /* an unknown keyword must not walk off the end */
};

static cfg_clausedef_t *param_clausesets[] = { param_clauses, NULL };

static cfg_type_t cfg_type_parameters = {
	"anycast-health-params", cfg_parse_mapbody, cfg_print_mapbody,
	cfg_doc_mapbody,	 &cfg_rep_map,	    param_clausesets
};

/*
 * What a value isccfg rejected should look like, by the clause's type;
 * for the other types isccfg's own complaint is all there is to say.
 */
static const struct {
	const cfg_type_t *type;
	const char *expected;
} value_shapes[] = {
	{ &cfg_type_uint32, "is not a number of milliseconds" },
	{ &cfg_type_boolean, "must be yes or no" },
	{ &cfg_type_qstring, "must be a path in double quotes" },
};

/**
 ** Where a mistake is.
 **/

/*
 * isccfg gives objects parsed from a buffer no file name, so the
 * plugin names the file itself.
 */
static void
param_log(int level, const char *file, const cfg_obj_t *obj, isc_log_t *lctx,
	  const char *fmt, ...) ISC_FORMAT_PRINTF(5, 6);

static void
param_log(int level, const char *file, const cfg_obj_t *obj, isc_log_t *lctx,
	  const char *fmt, ...) {
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS, level,
		      "%s:%u: anycast-health: %s", file, cfg_obj_line(obj),
		      msg);
}

#define param_error(file, obj, lctx, ...) \
	param_log(ISC_LOG_ERROR, file, obj, lctx, __VA_ARGS__)

/*
 * A mistake named-checkconf refuses ('strict') but named takes, with a
 * warning, since a reload refused in a plugin's registration can crash
 * named 9.18 (doc/config.md, 2.2).
 */
#define STRICT_LEVEL(strict) ((strict) ? ISC_LOG_ERROR : ISC_LOG_WARNING)

static const char *
expected_of(const cfg_type_t *type) {
	for (size_t i = 0; i < ARRAY_SIZE(value_shapes); i++) {
		if (value_shapes[i].type == type) {
			return (value_shapes[i].expected);
		}
	}
	return (NULL);
}

/* The keywords, for a message: "socket, interval, ...". */
static void
known_params(char *buf, size_t len) {
	size_t n = 0;

	buf[0] = '\0';
	for (const cfg_clausedef_t *c = param_clauses;
	     c->name != NULL && n < len; c++) {
		n += snprintf(buf + n, len - n, "%s%s", n == 0 ? "" : ", ",
			      c->name);
	}
}

/*
 * isccfg has rejected the block and said why, but in BIND 9.18 and 9.20
 * its complaints about a buffer name the file and no line (in
 * lib/isccfg/parser.c, parser_complain() prints a line only for a file
 * it opened itself).  This says where: a second pass over the block
 * with isccfg's own lexer and value types, silent (a parser without a
 * log context), statement by statement, up to the first unknown or
 * repeated keyword or rejected value.  'line' is the block's first.
 */
static void
locate_syntax_error(const char *text, const char *file, unsigned long line,
		    isc_mem_t *mctx, isc_log_t *lctx) {
	bool seen[ARRAY_SIZE(param_clauses)] = { false };
	cfg_parser_t *pctx = NULL;
	cfg_obj_t *value = NULL;
	isc_buffer_t b;
	char known[128];

	isc_buffer_constinit(&b, text, strlen(text));
	isc_buffer_add(&b, strlen(text));
	if (cfg_parser_create(mctx, NULL, &pctx) != ISC_R_SUCCESS ||
	    isc_lex_openbuffer(pctx->lexer, &b) != ISC_R_SUCCESS ||
	    isc_lex_setsourceline(pctx->lexer, line) != ISC_R_SUCCESS)
	{
		goto unlocated;
	}
	while (cfg_gettoken(pctx, 0) == ISC_R_SUCCESS &&
	       pctx->token.type == isc_tokentype_string)
	{
		const char *word = pctx->token.value.as_textregion.base;
		const char *expected = NULL;
		size_t i;

		for (i = 0; param_clauses[i].name != NULL; i++) {
			if (strcasecmp(word, param_clauses[i].name) == 0) {
				break;
			}
		}
		if (param_clauses[i].name == NULL) {
			known_params(known, sizeof(known));
			isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
				      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
				      "%s:%u: anycast-health: unknown "
				      "parameter '%s' (known: %s)",
				      file, pctx->line, word, known);
			goto done;
		}
		if (seen[i]) {
			isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
				      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
				      "%s:%u: anycast-health: '%s' given twice",
				      file, pctx->line, param_clauses[i].name);
			goto done;
		}
		seen[i] = true;
		if (cfg_parse_obj(pctx, param_clauses[i].type, &value) !=
		    ISC_R_SUCCESS) {
			expected = expected_of(param_clauses[i].type);
			if (expected == NULL) {
				break;
			}
			isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
				      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
				      "%s:%u: anycast-health: %s %s", file,
				      pctx->line, param_clauses[i].name,
				      expected);
			goto done;
		}
		cfg_obj_destroy(pctx, &value);
		if (cfg_parse_special(pctx, ';') != ISC_R_SUCCESS) {
			break;
		}
	}

unlocated:
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR,
		      "%s:%lu: anycast-health: parameter block does not parse "
		      "(see the message above)",
		      file, line);
done:
	if (pctx != NULL) {
		cfg_parser_destroy(&pctx);
	}
}

/**
 ** What the values mean.
 **/

/*
 * 'name' as named writes it, in lower case, into 'out': false when that
 * is longer than a published zone name may be (escapes make a name of
 * 255 octets up to four times as long), where a shorter buffer made
 * dns_name_format() write "<unknown>".
 */
static bool
formats(const dns_name_t *name, char out[AH_ZONENAME_MAX]) {
	char text[DNS_NAME_FORMATSIZE]; /* fits every name */

	dns_name_format(name, text, sizeof(text));
	if (strlen(text) >= AH_ZONENAME_MAX) {
		return (false);
	}
	strcpy(out, text);
	ah_lower(out);
	return (true);
}

/* Whether 'name' is among the zones listed before. */
static bool
listed(const ah_params_t *ap, const char *name) {
	for (size_t i = 0; i < ap->nwatched; i++) {
		if (strcmp(ap->watched[i], name) == 0) {
			return (true);
		}
	}
	return (false);
}

static isc_result_t
check_zones(const cfg_obj_t *pmap, const char *file, isc_log_t *lctx,
	    bool strict, ah_params_t *ap) {
	const cfg_obj_t *obj = NULL;
	isc_result_t result = ISC_R_SUCCESS;

	if (cfg_map_get(pmap, "all-zones", &obj) == ISC_R_SUCCESS) {
		ap->all_zones = cfg_obj_asboolean(obj);
	}
	obj = NULL;
	if (cfg_map_get(pmap, "zones", &obj) != ISC_R_SUCCESS) {
		return (ISC_R_SUCCESS);
	}
	if (ap->all_zones) {
		param_error(file, obj, lctx,
			    "'zones' and 'all-zones yes' exclude each other");
		return (ISC_R_FAILURE);
	}
	for (const cfg_listelt_t *e = cfg_list_first(obj); e != NULL;
	     e = cfg_list_next(e))
	{
		const cfg_obj_t *zobj = cfg_listelt_value(e);
		const char *zname = cfg_obj_asstring(zobj);
		dns_fixedname_t fn;

		dns_fixedname_init(&fn);
		if (ah_name_fromstring(dns_fixedname_name(&fn), zname) !=
		    ISC_R_SUCCESS) {
			param_error(file, zobj, lctx,
				    "zone '%s' is not a valid domain name",
				    zname);
			result = ISC_R_FAILURE;
		} else if (ap->nwatched == AH_WATCHED_MAX) {
			param_error(file, zobj, lctx,
				    "more than %d zones; use 'all-zones yes'",
				    AH_WATCHED_MAX);
			return (ISC_R_RANGE);
		} else if (!formats(dns_fixedname_name(&fn),
				    ap->watched[ap->nwatched])) {
			param_log(STRICT_LEVEL(strict), file, zobj, lctx,
				  "zone '%s' is longer than %d bytes as named "
				  "writes it, and cannot be published%s",
				  zname, AH_ZONENAME_MAX - 1,
				  strict ? "" : ": not watched");
			result = strict ? ISC_R_FAILURE : result;
		} else if (listed(ap, ap->watched[ap->nwatched])) {
			param_log(STRICT_LEVEL(strict), file, zobj, lctx,
				  "zone '%s' is listed twice%s", zname,
				  strict ? "" : ": watched once");
			result = strict ? ISC_R_FAILURE : result;
		} else {
			ap->nwatched++;
		}
	}
	return (result);
}

/*
 * The id of group 'name' in *gidp: 0, ENOENT when there is none, or
 * why it could not be read.  named's other threads run meanwhile, so
 * not getgrnam(), whose result is one static for the whole process; a
 * group of many members needs a larger buffer than sysconf suggests.
 */
static int
group_id(const char *name, gid_t *gidp) {
	struct group grp, *gr = NULL;
	char *buf = NULL;
	size_t len;
	int err = ERANGE;

	for (len = 4096; err == ERANGE && len <= 1024 * 1024; len *= 4) {
		if ((buf = malloc(len)) == NULL) {
			return (ENOMEM);
		}
		err = getgrnam_r(name, &grp, buf, len, &gr);
		if (err == 0 && gr != NULL) {
			*gidp = gr->gr_gid;
		}
		free(buf);
	}
	if (err == 0 && gr == NULL) {
		err = ENOENT;
	}
	return (err);
}

/* A number of milliseconds within the limits both intervals share. */
static isc_result_t
check_interval(const cfg_obj_t *pmap, const char *key, const char *file,
	       isc_log_t *lctx, unsigned int *msp) {
	const cfg_obj_t *obj = NULL;
	uint32_t ms;

	if (cfg_map_get(pmap, key, &obj) != ISC_R_SUCCESS) {
		return (ISC_R_SUCCESS);
	}
	ms = cfg_obj_asuint32(obj);
	if (ms < MIN_INTERVAL || ms > MAX_INTERVAL) {
		param_error(file, obj, lctx,
			    "%s %" PRIu32 " out of range %d..%d (milliseconds)",
			    key, ms, MIN_INTERVAL, MAX_INTERVAL);
		return (ISC_R_RANGE);
	}
	*msp = ms;
	return (ISC_R_SUCCESS);
}

static isc_result_t
check_params(const cfg_obj_t *pmap, const char *file, isc_log_t *lctx,
	     bool strict, ah_params_t *ap) {
	const cfg_obj_t *obj = NULL;
	struct ah_pub_params *p = &ap->pub;
	isc_result_t result = ISC_R_SUCCESS;

	memset(ap, 0, sizeof(*ap));
	strcpy(p->path, AH_DEFAULT_PLUGIN_SOCKET);
	p->interval_ms = DEFAULT_INTERVAL;
	p->zone_interval_ms = DEFAULT_ZONE_INTERVAL;
	p->mode = DEFAULT_MODE;
	p->gid = (gid_t)-1;
	if (pmap == NULL) {
		return (ISC_R_SUCCESS);
	}

	if (cfg_map_get(pmap, "socket", &obj) == ISC_R_SUCCESS) {
		const char *path = cfg_obj_asstring(obj), *why = NULL;
		char buf[128];

		if (path[0] != '/') {
			param_error(file, obj, lctx,
				    "socket '%s' must be an "
				    "absolute path",
				    path);
			result = ISC_R_FAILURE;
		} else if ((why = ah_sock_path_error(path, buf, sizeof(buf))) !=
				   NULL ||
			   strlen(path) >= sizeof(p->path))
		{
			param_error(file, obj, lctx, "socket '%s' is %s", path,
				    why != NULL ? why : "too long");
			result = ISC_R_FAILURE;
		} else {
			strcpy(p->path, path);
		}
	}

	if (check_interval(pmap, "interval", file, lctx, &p->interval_ms) !=
	    ISC_R_SUCCESS)
	{
		result = ISC_R_RANGE;
	}
	if (check_interval(pmap, "zone-interval", file, lctx,
			   &p->zone_interval_ms) != ISC_R_SUCCESS)
	{
		result = ISC_R_RANGE;
	}

	obj = NULL;
	if (cfg_map_get(pmap, "socket-mode", &obj) == ISC_R_SUCCESS) {
		const char *s = cfg_obj_asstring(obj);
		char *end = NULL;
		unsigned long mode = strtoul(s, &end, 8);
		if (*s == '\0' || *end != '\0' || mode > 0777 ||
		    (mode & 0600) != 0600) {
			param_error(file, obj, lctx,
				    "socket-mode '%s' is not "
				    "an octal mode of at most 0777 with owner "
				    "read and write",
				    s);
			result = ISC_R_FAILURE;
		} else {
			p->mode = (mode_t)mode;
		}
	}

	obj = NULL;
	if (cfg_map_get(pmap, "socket-group", &obj) == ISC_R_SUCCESS) {
		const char *s = cfg_obj_asstring(obj);
		gid_t gid;
		int err = group_id(s, &gid);

		if (err != 0) {
			param_error(file, obj, lctx, "socket-group '%s' %s%s",
				    s,
				    err == ENOENT ? "does not exist"
						  : "cannot be looked up: ",
				    err == ENOENT ? "" : strerror(err));
			result = ISC_R_NOTFOUND;
		} else {
			p->gid = gid;
		}
	}
	if (check_zones(pmap, file, lctx, strict, ap) != ISC_R_SUCCESS) {
		result = ISC_R_FAILURE;
	}
	return (result);
}

isc_result_t
ah_params_parse(const char *parameters, const char *cfg_file,
		unsigned long cfg_line, bool strict, isc_mem_t *mctx,
		isc_log_t *lctx, ah_params_t *p) {
	isc_result_t result = ISC_R_SUCCESS;
	cfg_parser_t *parser = NULL;
	cfg_obj_t *pmap = NULL;
	isc_buffer_t b;

	if (parameters == NULL) {
		return (check_params(NULL, cfg_file, lctx, strict, p));
	}

	/*
	 * named passes the line of the block's closing brace; the parser
	 * counts from where the text starts, the opening brace.
	 */
	for (const char *c = parameters; *c != '\0'; c++) {
		if (*c == '\n' && cfg_line > 1) {
			cfg_line--;
		}
	}
	if (cfg_file == NULL) {
		cfg_file = "named.conf";
	}
	CHECK(cfg_parser_create(mctx, lctx, &parser));
	isc_buffer_constinit(&b, parameters, strlen(parameters));
	isc_buffer_add(&b, strlen(parameters));
	result = cfg_parse_buffer(parser, &b, cfg_file, cfg_line,
				  &cfg_type_parameters, 0, &pmap);
	if (result != ISC_R_SUCCESS) {
		locate_syntax_error(parameters, cfg_file, cfg_line, mctx, lctx);
		goto cleanup;
	}
	CHECK(check_params(pmap, cfg_file, lctx, strict, p));

cleanup:
	if (pmap != NULL) {
		cfg_obj_destroy(parser, &pmap);
	}
	if (parser != NULL) {
		cfg_parser_destroy(&parser);
	}
	return (result);
}

/**
 ** The view.
 **/

/*
 * named does not tell a plugin which view it is registered for, but it
 * passes the very parameter string of the config tree, or, for a
 * statement without a parameter block, the file and line of the
 * (void) parameters object.  Is 'plugin' the statement being
 * registered?
 */
static bool
is_statement(const cfg_obj_t *plugin, const char *parameters, const char *file,
	     unsigned long line) {
	const cfg_obj_t *pobj = cfg_tuple_get(plugin, "parameters");
	const char *pfile = NULL;

	if (pobj == NULL) {
		return (false);
	}
	if (parameters != NULL) {
		return (cfg_obj_isstring(pobj) &&
			cfg_obj_asstring(pobj) == parameters);
	}
	pfile = cfg_obj_file(pobj);
	return (!cfg_obj_isstring(pobj) && cfg_obj_line(pobj) == line &&
		(pfile == file ||
		 (pfile != NULL && file != NULL && strcmp(pfile, file) == 0)));
}

/* Counts the statements of 'map' that match. */
static unsigned int
find_in(const cfg_obj_t *map, const char *parameters, const char *file,
	unsigned long line) {
	const cfg_obj_t *plugins = NULL;
	unsigned int n = 0;

	if (map == NULL ||
	    cfg_map_get(map, "plugin", &plugins) != ISC_R_SUCCESS) {
		return (0);
	}
	for (const cfg_listelt_t *e = cfg_list_first(plugins); e != NULL;
	     e = cfg_list_next(e))
	{
		n += is_statement(cfg_listelt_value(e), parameters, file, line);
	}
	return (n);
}

/*
 * The name of the view the statement at file:line belongs to, in
 * *viewp, and the map of statements it is in, in *scopep (NULL when
 * none is).  Returns the number of statements that match: more than
 * one only for statements without a parameter block on one line, which
 * the caller must refuse, since it cannot tell them apart.
 */
static unsigned int
find_view(const void *cfg, const char *parameters, const char *file,
	  unsigned long line, const char **viewp, const cfg_obj_t **scopep) {
	const cfg_obj_t *views = NULL;
	unsigned int n, total;

	*viewp = "_default";
	*scopep = NULL;
	if (cfg == NULL) {
		return (1);
	}
	total = find_in(cfg, parameters, file, line);
	if (total > 0) {
		*scopep = cfg;
	}
	if (cfg_map_get(cfg, "view", &views) != ISC_R_SUCCESS) {
		return (total);
	}
	for (const cfg_listelt_t *e = cfg_list_first(views); e != NULL;
	     e = cfg_list_next(e))
	{
		const cfg_obj_t *v = cfg_listelt_value(e);
		const cfg_obj_t *options = cfg_tuple_get(v, "options");

		n = find_in(options, parameters, file, line);
		if (n > 0 && total == 0) {
			*viewp = cfg_obj_asstring(cfg_tuple_get(v, "name"));
			*scopep = options;
		}
		total += n;
	}
	return (total);
}

/*
 * Is 'plugin' a statement of this library?  named opens each by the
 * path ns_plugin_expandpath() makes of its 'library', so the same file
 * is the same plugin, whatever the path says.  'self' is NULL when
 * this library cannot find its own file: nothing is then ours.
 */
static bool
is_ours(const cfg_obj_t *plugin, const struct stat *self) {
	const cfg_obj_t *lib = cfg_tuple_get(plugin, "library");
	char path[PATH_MAX];
	struct stat st;

	if (self == NULL || lib == NULL || !cfg_obj_isstring(lib)) {
		return (false);
	}
	if (ns_plugin_expandpath(cfg_obj_asstring(lib), path, sizeof(path)) !=
	    ISC_R_SUCCESS)
	{
		return (false);
	}
	return (stat(path, &st) == 0 && st.st_dev == self->st_dev &&
		st.st_ino == self->st_ino);
}

/* This library's own file, which its statements name (is_ours()). */
static bool
own_file(struct stat *self) {
	Dl_info info;

	return (dladdr((void *)own_file, &info) != 0 &&
		info.dli_fname != NULL && stat(info.dli_fname, self) == 0);
}

/* The first statement of this library in 'scope', or NULL. */
static const cfg_obj_t *
first_in(const cfg_obj_t *scope, const struct stat *self) {
	const cfg_obj_t *plugins = NULL;

	if (scope == NULL ||
	    cfg_map_get(scope, "plugin", &plugins) != ISC_R_SUCCESS) {
		return (NULL);
	}
	for (const cfg_listelt_t *e = cfg_list_first(plugins); e != NULL;
	     e = cfg_list_next(e))
	{
		if (is_ours(cfg_listelt_value(e), self)) {
			return (cfg_listelt_value(e));
		}
	}
	return (NULL);
}

/*
 * The first statement of this library in 'scope' when that is not the
 * statement at file:line, or NULL.  Two in one view would count each
 * of its queries twice, and named would keep the second's parameters
 * for the zones and the first's for nothing.
 */
static const cfg_obj_t *
first_of_ours(const cfg_obj_t *scope, const char *parameters, const char *file,
	      unsigned long line) {
	const cfg_obj_t *first = NULL;
	struct stat self;

	if (!own_file(&self) || (first = first_in(scope, &self)) == NULL ||
	    is_statement(first, parameters, file, line))
	{
		return (NULL);
	}
	return (first);
}

/*
 * The view must be one the plugin can publish: its name fits every
 * record (doc/protocol.md, section 5), and its statement can be told
 * from the others.
 */
isc_result_t
ah_params_view(const void *cfg, const char *parameters, const char *file,
	       unsigned long line, isc_log_t *lctx, const char **viewp) {
	const cfg_obj_t *scope = NULL, *first = NULL;
	unsigned int n = find_view(cfg, parameters, file, line, viewp, &scope);
	/* 'file' as named gave it, to match statements; this, to say. */
	const char *where = file != NULL ? file : "named.conf";

	if (n > 1) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "%s:%lu: anycast-health: %u plugin statements "
			      "without a parameter block on one line: put each "
			      "on its own line, or give it a block",
			      where, line, n);
		return (ISC_R_FAILURE);
	}
	if (n == 1 &&
	    (first = first_of_ours(scope, parameters, file, line)) != NULL) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "%s:%lu: anycast-health: a second statement for "
			      "view '%s' (the first is at %s:%u): it would "
			      "count each query twice; keep one",
			      where, line, *viewp,
			      cfg_obj_file(first) != NULL ? cfg_obj_file(first)
							  : "named.conf",
			      cfg_obj_line(first));
		return (ISC_R_EXISTS);
	}
	if (strlen(*viewp) >= AH_VIEWNAME_MAX) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "%s:%lu: anycast-health: view name '%.40s...' is "
			      "longer than %d bytes and cannot be published",
			      where, line, *viewp, AH_VIEWNAME_MAX - 1);
		return (ISC_R_RANGE);
	}
	return (ISC_R_SUCCESS);
}

/*
 * named runs one publisher (publisher.c), whose socket, intervals, mode
 * and group the first statement registered sets: a statement of this
 * library that gives another value than the first, in the order named
 * reads them, has it ignored (or, for the socket, fails to register).
 * named-checkconf says so.  The first statement's mistakes are its own
 * check's to report: it is read here without a log.
 */
static void
differs(bool *bad, const char *file, unsigned long line, isc_log_t *lctx,
	const cfg_obj_t *first, const char *what, const char *mine,
	const char *its) {
	if (strcmp(mine, its) == 0) {
		return;
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR,
		      "%s:%lu: anycast-health: %s %s differs from %s of the "
		      "statement at %s:%u: one named publishes on one socket, "
		      "as the first statement sets it",
		      file != NULL ? file : "named.conf", line, what, mine, its,
		      cfg_obj_file(first) != NULL ? cfg_obj_file(first)
						  : "named.conf",
		      cfg_obj_line(first));
	*bad = true;
}

isc_result_t
ah_params_one_publisher(const void *cfg, const char *parameters,
			const char *file, unsigned long line, isc_mem_t *mctx,
			isc_log_t *lctx, const ah_params_t *p) {
	const cfg_obj_t *views = NULL, *first = NULL, *pobj = NULL;
	struct stat self;
	ah_params_t *q = NULL;
	bool bad = false;

	if (cfg == NULL || !own_file(&self)) {
		return (ISC_R_SUCCESS);
	}
	first = first_in(cfg, &self);
	if (first == NULL && cfg_map_get(cfg, "view", &views) == ISC_R_SUCCESS)
	{
		for (const cfg_listelt_t *e = cfg_list_first(views);
		     e != NULL && first == NULL; e = cfg_list_next(e))
		{
			first = first_in(
				cfg_tuple_get(cfg_listelt_value(e), "options"),
				&self);
		}
	}
	if (first == NULL || is_statement(first, parameters, file, line)) {
		return (ISC_R_SUCCESS);
	}
	pobj = cfg_tuple_get(first, "parameters");
	q = isc_mem_get(mctx, sizeof(*q));
	if (ah_params_parse(pobj != NULL && cfg_obj_isstring(pobj)
				    ? cfg_obj_asstring(pobj)
				    : NULL,
			    cfg_obj_file(first), cfg_obj_line(first), false,
			    mctx, NULL, q) == ISC_R_SUCCESS)
	{
		char a[PATH_MAX + 2], b[PATH_MAX + 2];

		snprintf(a, sizeof(a), "'%s'", p->pub.path);
		snprintf(b, sizeof(b), "'%s'", q->pub.path);
		differs(&bad, file, line, lctx, first, "socket", a, b);
		snprintf(a, sizeof(a), "%u", p->pub.interval_ms);
		snprintf(b, sizeof(b), "%u", q->pub.interval_ms);
		differs(&bad, file, line, lctx, first, "interval", a, b);
		snprintf(a, sizeof(a), "%u", p->pub.zone_interval_ms);
		snprintf(b, sizeof(b), "%u", q->pub.zone_interval_ms);
		differs(&bad, file, line, lctx, first, "zone-interval", a, b);
		snprintf(a, sizeof(a), "\"%04o\"", (unsigned int)p->pub.mode);
		snprintf(b, sizeof(b), "\"%04o\"", (unsigned int)q->pub.mode);
		differs(&bad, file, line, lctx, first, "socket-mode", a, b);
		if (p->pub.gid == (gid_t)-1) {
			snprintf(a, sizeof(a), "(none)");
		} else {
			snprintf(a, sizeof(a), "(gid %u)",
				 (unsigned int)p->pub.gid);
		}
		if (q->pub.gid == (gid_t)-1) {
			snprintf(b, sizeof(b), "(none)");
		} else {
			snprintf(b, sizeof(b), "(gid %u)",
				 (unsigned int)q->pub.gid);
		}
		differs(&bad, file, line, lctx, first, "socket-group", a, b);
	}
	isc_mem_put(mctx, q, sizeof(*q));
	return (bad ? ISC_R_FAILURE : ISC_R_SUCCESS);
}
