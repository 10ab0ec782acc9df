/*
 * anycast-health.c - BIND 9 query plugin: the sensor of anycast-health.
 *
 * Counts the outcome of every query a view answers, where its answer
 * came from, how recursion went and, for the relay's fleet rules, in
 * which group of names failures and recursions happen; counts the
 * relay's liveness probes apart; and leaves the publishing to
 * publisher.c.  The query path does relaxed atomic adds, atomic
 * exchanges and vDSO clock reads: no lock, no allocation, no system
 * call.  Zone state is read on the publisher thread, from a zone table
 * that one query thread per zone-interval hands over (an atomic
 * reference); the relay's probes keep that going when no client asks.
 *
 *	plugin query "anycast-health.so" {
 *		socket "/run/named/anycast-health.sock";
 *		interval 100;		// milliseconds between snapshots
 *		zone-interval 1000;	// milliseconds between zone walks
 *		socket-mode "0660";
 *		socket-group "bind";
 *		zones { "example"; };	// or: all-zones yes;
 *	};
 */

#include <config.h>
#include <ctype.h>
#include <dlfcn.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <isc/buffer.h>
#include <isc/log.h>
#include <isc/mem.h>
#include <isc/result.h>
#include <isc/time.h>
#include <isc/types.h>
#include <isc/util.h>

#include <dns/fixedname.h>
#include <dns/message.h>
#include <dns/name.h>
#include <dns/rcode.h>
#include <dns/resolver.h>
#include <dns/result.h>
#include <dns/view.h>
#include <dns/zone.h>
#include <dns/zt.h>

#include <isccfg/cfg.h>
#include <isccfg/grammar.h>

#include <ns/client.h>
#include <ns/hooks.h>
#include <ns/log.h>
#include <ns/query.h>
#include <ns/server.h>
#include <ns/stats.h>
#include <ns/types.h>

#include "ahproto.h"
#include "ahwire.h"
#include "bindcompat.h"
#include "publisher.h"

/* CHECK() and its 'cleanup:' label come from isc/util.h. */

#define DEFAULT_INTERVAL      100
#define DEFAULT_ZONE_INTERVAL 1000
#define MIN_INTERVAL	      50
#define MAX_INTERVAL	      60000
#define DEFAULT_MODE	      0660

#define MAX_WATCHED 256

typedef struct ah_instance {
	isc_mem_t *mctx;
	struct ah_view *view;
	struct ah_walker walker; /* zone walks, if 'walking' */
	bool walking;
	dns_fixedname_t probe; /* AH_PROBE_QNAME */
	bool all_zones;
	size_t nwatched;
	char (*watched)[AH_ZONENAME_MAX]; /* zone names, as configured */
} ah_instance_t;

/* What the parameters say, before any instance exists. */
typedef struct ah_params {
	struct ah_pub_params pub;
	bool all_zones;
	size_t nwatched;
	char watched[MAX_WATCHED][AH_ZONENAME_MAX];
} ah_params_t;

/**
 ** Parameters, parsed with named's own grammar machinery so that
 ** named-checkconf reports mistakes with file and line.
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
 * Turns the parsed block into publisher parameters, logging each
 * problem against its own line.  Used by both plugin_check and
 * plugin_register so the two can never disagree.
 */
/*
 * isccfg gives objects parsed from a buffer no file name, and its own
 * syntax errors no line, so the plugin says where itself.
 */
static void
param_error(const char *file, const cfg_obj_t *obj, isc_log_t *lctx,
	    const char *fmt, ...) ISC_FORMAT_PRINTF(4, 5);

static void
param_error(const char *file, const cfg_obj_t *obj, isc_log_t *lctx,
	    const char *fmt, ...) {
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR, "%s:%u: anycast-health: %s", file,
		      cfg_obj_line(obj), msg);
}

/*
 * After isccfg has rejected the block, find the statement it choked on
 * so the operator gets a line number: the first unknown or repeated
 * keyword, else the block itself.  isccfg remains the judge; this only
 * points.
 */
/*
 * The shape a keyword's value must have, checked on the raw token so a
 * bad value gets its own line too; NULL if it looks right.
 */
static const char *
bad_value(const char *key, const char *w, size_t n, bool quoted) {
	if (strcmp(key, "interval") == 0 || strcmp(key, "zone-interval") == 0) {
		if (quoted || n == 0 || strspn(w, "0123456789") < n) {
			return ("is not a number of milliseconds");
		}
	} else if (strcmp(key, "all-zones") == 0) {
		static const char *const b[] = { "yes",	  "no", "true",
						 "false", "1",	"0" };
		for (size_t i = 0; !quoted && i < sizeof(b) / sizeof(b[0]); i++)
		{
			if (strlen(b[i]) == n && strncasecmp(b[i], w, n) == 0) {
				return (NULL);
			}
		}
		return ("must be yes or no");
	} else if (strcmp(key, "socket") == 0 && !quoted) {
		return ("must be a path in double quotes");
	}
	return (NULL);
}

static void
locate_syntax_error(const char *text, const char *file, unsigned long line,
		    isc_log_t *lctx) {
	bool seen[sizeof(param_clauses) / sizeof(param_clauses[0])] = { 0 };
	bool at_start = true;
	unsigned long block = line;
	const char *pending = NULL; /* keyword whose value comes next */
	const char *why = NULL;

	for (const char *c = text; *c != '\0';) {
		if (*c == '\n') {
			line++;
			c++;
		} else if (*c == '#' || (c[0] == '/' && c[1] == '/')) {
			while (*c != '\0' && *c != '\n') {
				c++;
			}
		} else if (c[0] == '/' && c[1] == '*') {
			for (c += 2;
			     *c != '\0' && !(c[0] == '*' && c[1] == '/'); c++) {
				line += (*c == '\n');
			}
			c += (*c != '\0') ? 2 : 0;
		} else if (*c == '"') {
			const char *w = ++c;
			for (; *c != '\0' && *c != '"'; c++) {
				line += (*c == '\n');
				c += (c[0] == '\\' && c[1] != '\0');
			}
			if (pending != NULL &&
			    (why = bad_value(pending, w, (size_t)(c - w),
					     true)) != NULL)
			{
				goto bad;
			}
			pending = NULL;
			c += (*c != '\0');
			at_start = false;
		} else if (*c == ';' || *c == '{' || *c == '}') {
			pending = NULL;
			at_start = (*c != '{');
			c++;
		} else if (isspace((unsigned char)*c)) {
			c++;
		} else {
			const char *w = c;
			size_t n, i;
			while (*c != '\0' && !isspace((unsigned char)*c) &&
			       strchr(";{}\"", *c) == NULL) {
				c++;
			}
			n = (size_t)(c - w);
			if (!at_start) {
				if (pending != NULL &&
				    (why = bad_value(pending, w, n, false)) !=
					    NULL) {
					goto bad;
				}
				pending = NULL;
				continue;
			}
			at_start = false;
			for (i = 0; param_clauses[i].name != NULL; i++) {
				if (strlen(param_clauses[i].name) == n &&
				    strncasecmp(param_clauses[i].name, w, n) ==
					    0)
				{
					break;
				}
			}
			if (param_clauses[i].name == NULL) {
				isc_log_write(
					lctx, NS_LOGCATEGORY_GENERAL,
					NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
					"%s:%lu: anycast-health: unknown "
					"parameter '%.*s' (known: socket, "
					"interval, zone-interval, "
					"socket-mode, socket-group, "
					"zones, all-zones)",
					file, line, (int)n, w);
				return;
			}
			if (seen[i]) {
				isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
					      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
					      "%s:%lu: anycast-health: '%s' "
					      "given twice",
					      file, line,
					      param_clauses[i].name);
				return;
			}
			seen[i] = true;
			pending = param_clauses[i].name;
		}
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR,
		      "%s:%lu: anycast-health: parameter block does not parse "
		      "(see the message above)",
		      file, block);
	return;
bad:
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR, "%s:%lu: anycast-health: %s %s", file,
		      line, pending, why);
}

/* Zone names go out in lower case, as the relay compares them. */
static void
lower(char *s) {
	for (; *s != '\0'; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

static isc_result_t
check_zones(const cfg_obj_t *pmap, const char *file, isc_log_t *lctx,
	    ah_params_t *ap) {
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
		    ISC_R_SUCCESS)
		{
			param_error(file, zobj, lctx,
				    "zone '%s' is not a valid domain name",
				    zname);
			result = ISC_R_FAILURE;
		} else if (ap->nwatched == MAX_WATCHED) {
			param_error(file, zobj, lctx,
				    "more than %d zones; use 'all-zones yes'",
				    MAX_WATCHED);
			return (ISC_R_RANGE);
		} else {
			dns_name_format(dns_fixedname_name(&fn),
					ap->watched[ap->nwatched],
					AH_ZONENAME_MAX);
			lower(ap->watched[ap->nwatched++]);
		}
	}
	return (result);
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
	     ah_params_t *ap) {
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
		const char *path = cfg_obj_asstring(obj);
		if (path[0] != '/') {
			param_error(file, obj, lctx,
				    "socket '%s' must be an "
				    "absolute path",
				    path);
			result = ISC_R_FAILURE;
		} else if (strlen(path) >= sizeof(p->path)) {
			param_error(file, obj, lctx,
				    "socket '%s' is longer "
				    "than %zu bytes",
				    path, sizeof(p->path) - 1);
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
		struct group *gr = getgrnam(s);
		if (gr == NULL) {
			param_error(file, obj, lctx,
				    "socket-group '%s' does "
				    "not exist",
				    s);
			result = ISC_R_NOTFOUND;
		} else {
			p->gid = gr->gr_gid;
		}
	}
	if (check_zones(pmap, file, lctx, ap) != ISC_R_SUCCESS) {
		result = ISC_R_FAILURE;
	}
	return (result);
}

static isc_result_t
parse_params(const char *parameters, const char *cfg_file,
	     unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
	     ah_params_t *p) {
	isc_result_t result = ISC_R_SUCCESS;
	cfg_parser_t *parser = NULL;
	cfg_obj_t *pmap = NULL;
	isc_buffer_t b;

	if (parameters == NULL) {
		return (check_params(NULL, cfg_file, lctx, p));
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
		locate_syntax_error(parameters, cfg_file, cfg_line, lctx);
		goto cleanup;
	}
	CHECK(check_params(pmap, cfg_file, lctx, p));

cleanup:
	if (pmap != NULL) {
		cfg_obj_destroy(parser, &pmap);
	}
	if (parser != NULL) {
		cfg_parser_destroy(&parser);
	}
	return (result);
}

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

/* Counts the matching statements of 'map', the first one's in *foundp. */
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
 * *viewp.  Returns the number of statements that match: more than one
 * only for statements without a parameter block on one line, which
 * the caller must refuse, since it cannot tell them apart.
 */
static unsigned int
find_view(const void *cfg, const char *parameters, const char *file,
	  unsigned long line, const char **viewp) {
	const cfg_obj_t *views = NULL;
	unsigned int n, total;

	*viewp = "_default";
	if (cfg == NULL) {
		return (1);
	}
	total = find_in(cfg, parameters, file, line);
	if (cfg_map_get(cfg, "view", &views) != ISC_R_SUCCESS) {
		return (total);
	}
	for (const cfg_listelt_t *e = cfg_list_first(views); e != NULL;
	     e = cfg_list_next(e))
	{
		const cfg_obj_t *v = cfg_listelt_value(e);
		n = find_in(cfg_tuple_get(v, "options"), parameters, file,
			    line);
		if (n > 0 && total == 0) {
			*viewp = cfg_obj_asstring(cfg_tuple_get(v, "name"));
		}
		total += n;
	}
	return (total);
}

/*
 * The view must be one the plugin can publish: its name fits every
 * record (doc/protocol.md, section 5), and its statement can be told
 * from the others.  Shared by plugin_check and plugin_register.
 */
static isc_result_t
check_view(const void *cfg, const char *parameters, const char *file,
	   unsigned long line, isc_log_t *lctx, const char **viewp) {
	unsigned int n = find_view(cfg, parameters, file, line, viewp);

	if (file == NULL) {
		file = "named.conf";
	}
	if (n > 1) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "%s:%lu: anycast-health: %u plugin statements "
			      "without a parameter block on one line: put each "
			      "on its own line, or give it a block",
			      file, line, n);
		return (ISC_R_FAILURE);
	}
	if (strlen(*viewp) >= AH_VIEWNAME_MAX) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "%s:%lu: anycast-health: view name '%.40s...' is "
			      "longer than %d bytes and cannot be published",
			      file, line, *viewp, AH_VIEWNAME_MAX - 1);
		return (ISC_R_RANGE);
	}
	return (ISC_R_SUCCESS);
}

/* named's version, read at run time: named-checkconf does not have it. */
static void
named_version(char *buf, size_t len) {
	const char *const *v = dlsym(RTLD_DEFAULT, "named_g_version");

	snprintf(buf, len, "%s",
		 v != NULL && *v != NULL ? *v : AH_BIND_VERSION);
}

/**
 ** Zone state, read by a query thread once per interval.
 **/

static int64_t
mono_ms_coarse(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int64_t
zone_time(isc_result_t (*get)(dns_zone_t *, isc_time_t *), dns_zone_t *zone) {
	isc_time_t t;

	if (get(zone, &t) != ISC_R_SUCCESS || isc_time_isepoch(&t)) {
		return (0);
	}
	return ((int64_t)isc_time_seconds(&t));
}

static void
read_zone(dns_zone_t *zone, struct ah_zone *z, int64_t now) {
	dns_zonetype_t type = dns_zone_gettype(zone);
	uint32_t serial = 0;

	z->found = true;
	snprintf(z->type, sizeof(z->type), "%s", dns_zonetype_name(type));
	z->loaded = dns_zone_isloaded(zone);
	z->has_serial = dns_zone_getserial(zone, &serial) == ISC_R_SUCCESS;
	z->serial = serial;
	z->loaded_at = zone_time(dns_zone_getloadtime, zone);
	z->refresh = 0;
	z->expire = 0;
	/* Only transferred zones refresh and expire. */
	if (type == dns_zone_secondary || type == dns_zone_mirror ||
	    type == dns_zone_stub)
	{
		z->refresh = zone_time(dns_zone_getrefreshtime, zone);
		z->expire = zone_time(dns_zone_getexpiretime, zone);
	}
	z->expired = z->expire != 0 && now >= z->expire;
}

/* Room for one more zone; grows rarely, never in the steady state. */
static struct ah_zone *
zone_slot(struct ah_view *v) {
	if (v->nzones == v->zcap) {
		size_t cap = v->zcap == 0 ? 16 : v->zcap * 2;
		struct ah_zone *z = realloc(v->zones, cap * sizeof(*z));
		if (z == NULL) {
			return (NULL);
		}
		v->zones = z;
		v->zcap = cap;
	}
	memset(&v->zones[v->nzones], 0, sizeof(v->zones[0]));
	return (&v->zones[v->nzones++]);
}

typedef struct {
	struct ah_view *v;
	int64_t now;
} walk_t;

static void
count_zone(struct ah_view *v, const struct ah_zone *z) {
	v->zwatched++;
	v->zhealthy += z->found && z->loaded && !z->expired;
	v->zmissing += !z->found;
	v->zexpired += z->found && z->expired;
	v->zunloaded += z->found && !z->expired && !z->loaded;
}

/*
 * One zone of an all-zones walk.  Most zones are healthy and need only
 * counting: the cheap tests come first, and the name and serial (the
 * costly parts) are read only for the few kept in detail.
 */
static isc_result_t
walk_one(dns_zone_t *zone, void *arg) {
	walk_t *w = arg;
	struct ah_view *v = w->v;
	dns_zonetype_t type;
	struct ah_zone *z, quick = { .found = true };
	isc_time_t t;

	/* named's automatic empty zones are not the operator's zones. */
	if (dns_zone_getautomatic(zone)) {
		return (ISC_R_SUCCESS);
	}
	type = dns_zone_gettype(zone);
	quick.loaded = dns_zone_isloaded(zone);
	if ((type == dns_zone_secondary || type == dns_zone_mirror ||
	     type == dns_zone_stub) &&
	    dns_zone_getexpiretime(zone, &t) == ISC_R_SUCCESS &&
	    !isc_time_isepoch(&t))
	{
		quick.expired = w->now >= (int64_t)isc_time_seconds(&t);
	}
	count_zone(v, &quick);
	if (quick.loaded && !quick.expired) {
		return (ISC_R_SUCCESS);
	}
	if (v->nzones < AH_UNHEALTHY_DETAIL_MAX && (z = zone_slot(v)) != NULL) {
		dns_name_format(dns_zone_getorigin(zone), z->name,
				sizeof(z->name));
		lower(z->name);
		read_zone(zone, z, w->now);
	}
	return (ISC_R_SUCCESS);
}

/*
 * A walk of the zone table a query thread handed over (struct
 * ah_walker), on the publisher thread: it reads zones through the
 * table, never through the view.
 */
static void
walk_zones(void *table, void *arg, struct ah_view *v) {
	ah_instance_t *inst = arg;
	dns_zt_t *zt = table;
	walk_t w = { .v = v, .now = (int64_t)time(NULL) };

	pthread_mutex_lock(&v->zlock);
	v->nzones = 0;
	v->zwatched = v->zhealthy = v->zexpired = v->zunloaded = v->zmissing =
		0;
	if (inst->all_zones) {
		(void)ah_zt_apply(zt, walk_one, &w);
	}
	for (size_t i = 0; i < inst->nwatched; i++) {
		struct ah_zone *z = zone_slot(v);
		dns_fixedname_t fn;
		dns_zone_t *zone = NULL;
		isc_result_t result;

		if (z == NULL) {
			break;
		}
		snprintf(z->name, sizeof(z->name), "%s", inst->watched[i]);
		z->listed = true;
		dns_fixedname_init(&fn);
		result = ah_name_fromstring(dns_fixedname_name(&fn),
					    inst->watched[i]);
		if (result == ISC_R_SUCCESS) {
			result = ah_zt_find(zt, dns_fixedname_name(&fn), &zone);
		}
		if (result == ISC_R_SUCCESS) {
			read_zone(zone, z, w.now);
			dns_zone_detach(&zone);
		}
		count_zone(v, z);
	}
	v->walked = (int64_t)time(NULL) * 1000;
	v->watching = true;
	pthread_mutex_unlock(&v->zlock);
}

static void
release_zonetable(void *table) {
	dns_zt_t *zt = table;

	dns_zt_detach(&zt);
}

/**
 ** The query path.
 **/

static enum ah_rcode
rcode_of(dns_rcode_t rcode) {
	switch (rcode) {
	case dns_rcode_noerror:
		return (AH_RC_NOERROR);
	case dns_rcode_nxdomain:
		return (AH_RC_NXDOMAIN);
	case dns_rcode_servfail:
		return (AH_RC_SERVFAIL);
	case dns_rcode_refused:
		return (AH_RC_REFUSED);
	default:
		return (AH_RC_OTHER);
	}
}

/*
 * The zone walk itself is the publisher's: this thread only takes a
 * reference to the view's zone table, an atomic increment (how it
 * reads the pointer depends on the BIND version: bindcompat.h).
 */
static void
hand_over_zones(ah_instance_t *inst, dns_view_t *view) {
	dns_zt_t *zt = NULL, *old = NULL;

	ah_zonetable_attach(view, &zt);
	if (zt == NULL) {
		return;
	}
	old = atomic_exchange(&inst->walker.pending, zt);
	if (old != NULL) {
		dns_zt_detach(&old); /* not walked yet: the newer one will be */
	}
}

/*
 * Once per zone-interval, the query that notices first has the zones
 * walked and samples named's recursive-clients gauge.  The
 * compare-and-swap makes it one query per interval whatever the number
 * of worker threads.
 */
static void
maybe_walk(ah_instance_t *inst, query_ctx_t *qctx) {
	struct ah_view *v = inst->view;
	ns_server_t *sctx = NULL;
	int64_t now = mono_ms_coarse();
	int_fast64_t due = atomic_load_explicit(&v->next_walk,
						memory_order_relaxed);

	if (now < due ||
	    !atomic_compare_exchange_strong(&v->next_walk, &due,
					    now + ah_pub_zone_interval()))
	{
		return;
	}
	if (qctx->client != NULL &&
	    (sctx = ah_client_sctx(qctx->client)) != NULL)
	{
		atomic_store_explicit(&v->recursive_clients,
				      (uint64_t)ns_stats_get_counter(
					      sctx->nsstats,
					      ns_statscounter_recursclients),
				      memory_order_relaxed);
	}
	if (inst->walking && qctx->view != NULL) {
		hand_over_zones(inst, qctx->view);
	}
}

/* Only reached for the probe's private type, so the name test is rare. */
static bool
is_probe(ah_instance_t *inst, query_ctx_t *qctx) {
	const dns_name_t *qname = qctx->client->query.origqname;

	return (qname != NULL &&
		dns_name_equal(qname, dns_fixedname_name(&inst->probe)));
}

/*
 * The fleet sensor's bucket for 'name': a hash of its last two labels
 * ('broken.example' for 'a.b.broken.example'), so that every name of
 * one external domain lands in one bucket.  With 'sample', the domain
 * also becomes the bucket's latest failing one.  Called only on the
 * failure and recursion paths, never for every query.
 */
static void
count_domain(struct ah_view *v, enum ah_dom kind, const dns_name_t *name,
	     bool sample) {
	dns_name_t suffix;
	unsigned int labels, b;
	char text[AH_DOMAIN_MAX];

	if (name == NULL || (labels = dns_name_countlabels(name)) == 0) {
		return;
	}
	dns_name_init(&suffix, NULL);
	/* Two labels and the root, or what there is. */
	if (labels > 3) {
		dns_name_getlabelsequence(name, labels - 3, 3, &suffix);
	} else {
		dns_name_clone(name, &suffix);
	}
	b = ah_name_hash(&suffix) % AH_DOM_BUCKETS;
	ah_add(&v->dom[kind][b]);
	if (!sample) {
		return;
	}
	dns_name_format(&suffix, text, sizeof(text));
	/* dns_name_format cuts a long name short: publish none then. */
	if (strlen(text) + 1 < sizeof(text)) {
		lower(text);
		ah_sample_write(&v->sample[b], text);
	}
}

static ns_hookresult_t
on_qctx_destroyed(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;
	struct ah_view *v = inst->view;
	ns_client_t *client = qctx->client;
	enum ah_source src;
	enum ah_rcode rc;

	*resp = ISC_R_UNSET;

	/*
	 * A context is also destroyed when a pass over the query ends in
	 * recursion: then a fetch really exists (ns_query_recurse
	 * succeeded; duplicates, clients-per-query drops and quota
	 * refusals do not get here), and its outcome is counted once, in
	 * on_qctx_initialized.
	 */
	if (!qctx->detach_client) {
		if ((client->query.attributes & NS_QUERYATTR_RECURSING) != 0) {
			ah_add(&v->recursion[AH_REC_STARTED]);
			count_domain(v, AH_DOM_RSTART, client->query.qname,
				     false);
		}
		return (NS_HOOK_CONTINUE);
	}
	if (client->query.qtype == AH_PROBE_QTYPE && is_probe(inst, qctx)) {
		/* Proof that the query path runs, not an outcome. */
		ah_add(&v->probes);
		maybe_walk(inst, qctx);
		return (NS_HOOK_CONTINUE);
	}
	ah_add(&v->queries);
	if (qctx->result == ISC_R_QUOTA) {
		/* Load, not an upstream failure: named refused to recurse. */
		ah_add(&v->recursion[AH_REC_QUOTA]);
	}
	if (qctx->result == DNS_R_DROP || qctx->result == DNS_R_DUPLICATE ||
	    client->message == NULL)
	{
		/* Nothing was sent; the message's rcode is stale. */
		ah_add(&v->dropped);
	} else {
		src = qctx->resuming  ? AH_SRC_RECURSION
		      : qctx->is_zone ? AH_SRC_AUTH
				      : AH_SRC_CACHE;
		rc = rcode_of(client->message->rcode);
		ah_add(&v->answers[src][rc]);
		if (rc == AH_RC_SERVFAIL) {
			count_domain(v, AH_DOM_FAIL, client->query.origqname,
				     true);
		}
	}
	maybe_walk(inst, qctx);
	return (NS_HOOK_CONTINUE);
}

static enum ah_recursion
outcome_of(isc_result_t r) {
	switch (r) {
	case ISC_R_SUCCESS:
	case DNS_R_NCACHENXDOMAIN:
	case DNS_R_NCACHENXRRSET:
	case DNS_R_NXDOMAIN:
	case DNS_R_NXRRSET:
	case DNS_R_CNAME:
	case DNS_R_DNAME:
	case DNS_R_DELEGATION:
	case DNS_R_EMPTYNAME:
		return (AH_REC_SUCCESS);
	case ISC_R_TIMEDOUT:
		return (AH_REC_TIMEOUT);
	case ISC_R_CANCELED:
	case ISC_R_SHUTTINGDOWN:
		/* named gave up on it, not the upstream: no verdict. */
		return (AH_REC_CANCELED);
	default:
		return (AH_REC_FAILURE);
	}
}

/*
 * A query context made from a fetch's completion event: the end of
 * exactly one started recursion, whatever happens next.  This runs
 * also for fetches named cancelled, which never reach
 * NS_QUERY_RESUME_BEGIN.  How did it go, and how long did the client
 * wait?  For every other context this is one pointer test.
 */
static ns_hookresult_t
on_qctx_initialized(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;
	struct ah_view *v = inst->view;
	enum ah_recursion outcome;
	isc_result_t result;
	isc_time_t now;
	uint64_t ms;
	size_t b;

	*resp = ISC_R_UNSET;
	if (!ah_fetch_result(qctx, &result)) {
		return (NS_HOOK_CONTINUE);
	}
	outcome = outcome_of(result);
	ah_add(&v->recursion[outcome]);
	count_domain(v, AH_DOM_RDONE, qctx->client->query.qname,
		     outcome == AH_REC_FAILURE || outcome == AH_REC_TIMEOUT);
	if (outcome == AH_REC_CANCELED) {
		return (NS_HOOK_CONTINUE);
	}
	/* Same clock as requesttime, so the difference is honest. */
	ah_time_now(&now);
	ms = isc_time_microdiff(&now, &qctx->client->requesttime) / 1000;
	for (b = 0; b < AH_LAT_BUCKETS - 1 && ms > ah_lat_bounds[b]; b++) {
	}
	ah_add(&v->latency[b]);
	return (NS_HOOK_CONTINUE);
}

static void
install_hooks(ns_hooktable_t *hooktable, isc_mem_t *mctx, ah_instance_t *inst) {
	const ns_hook_t destroyed = {
		.action = on_qctx_destroyed,
		.action_data = inst,
	};
	const ns_hook_t initialized = {
		.action = on_qctx_initialized,
		.action_data = inst,
	};

	ns_hook_add(hooktable, mctx, NS_QUERY_QCTX_INITIALIZED, &initialized);
	ns_hook_add(hooktable, mctx, NS_QUERY_QCTX_DESTROYED, &destroyed);
}

/**
 ** Mandatory plugin API functions.
 **/

isc_result_t
plugin_register(const char *parameters, const void *cfg, const char *cfg_file,
		unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
		void *actx, ns_hooktable_t *hooktable, void **instp) {
	ah_instance_t *inst = NULL;
	ah_params_t *p = NULL;
	const char *view = NULL;
	char err[256];
	isc_result_t result = ISC_R_SUCCESS;

	UNUSED(actx);

	CHECK(check_view(cfg, parameters, cfg_file, cfg_line, lctx, &view));
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "registering 'anycast-health' module for view '%s' "
		      "from %s:%lu",
		      view, cfg_file, cfg_line);

	/* Large (the watched zone names): not for the stack. */
	p = isc_mem_get(mctx, sizeof(*p));
	CHECK(parse_params(parameters, cfg_file, cfg_line, mctx, lctx, p));
	named_version(p->pub.named_version, sizeof(p->pub.named_version));
	p->pub.enter = ah_thread_enter;
	p->pub.leave = ah_thread_leave;

	inst = isc_mem_get(mctx, sizeof(*inst));
	memset(inst, 0, sizeof(*inst));
	isc_mem_attach(mctx, &inst->mctx);
	inst->all_zones = p->all_zones;
	dns_fixedname_init(&inst->probe);
	RUNTIME_CHECK(ah_name_fromstring(dns_fixedname_name(&inst->probe),
					 AH_PROBE_QNAME) == ISC_R_SUCCESS);
	if (p->nwatched > 0) {
		inst->watched = isc_mem_get(
			mctx, p->nwatched * sizeof(inst->watched[0]));
		memmove(inst->watched, p->watched,
			p->nwatched * sizeof(inst->watched[0]));
		inst->nwatched = p->nwatched;
	}

	if (ah_pub_attach(&p->pub, view, &inst->view, err, sizeof(err)) != 0) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR, "anycast-health: %s (%s:%lu)", err,
			      cfg_file, cfg_line);
		result = ISC_R_FAILURE;
		goto cleanup;
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "anycast-health: view '%s' publishing on %s every %u ms,"
		      " watching %s",
		      view, p->pub.path, p->pub.interval_ms,
		      inst->all_zones	   ? "all zones"
		      : inst->nwatched > 0 ? "the listed zones"
					   : "no zones");

	if (inst->all_zones || inst->nwatched > 0) {
		inst->walker =
			(struct ah_walker){ .view = inst->view,
					    .arg = inst,
					    .walk = walk_zones,
					    .release = release_zonetable };
		ah_pub_walker_add(&inst->walker);
		inst->walking = true;
	}

	/* Last, so a failure above leaves no hook pointing at freed memory. */
	install_hooks(hooktable, mctx, inst);
	*instp = inst;

cleanup:
	if (p != NULL) {
		isc_mem_put(mctx, p, sizeof(*p));
	}
	if (result != ISC_R_SUCCESS && inst != NULL) {
		plugin_destroy((void **)&inst);
	}
	return (result);
}

isc_result_t
plugin_check(const char *parameters, const void *cfg, const char *cfg_file,
	     unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
	     void *actx) {
	ah_params_t *p = isc_mem_get(mctx, sizeof(*p));
	isc_result_t result;

	const char *view = NULL;

	UNUSED(actx);

	result = parse_params(parameters, cfg_file, cfg_line, mctx, lctx, p);
	if (check_view(cfg, parameters, cfg_file, cfg_line, lctx, &view) !=
	    ISC_R_SUCCESS)
	{
		result = ISC_R_FAILURE;
	}
	isc_mem_put(mctx, p, sizeof(*p));
	return (result);
}

void
plugin_destroy(void **instp) {
	ah_instance_t *inst = (ah_instance_t *)*instp;

	/* No zone table reference outlives the instance. */
	if (inst->walking) {
		ah_pub_walker_remove(&inst->walker);
	}
	if (inst->view != NULL) {
		ah_pub_detach(inst->view);
	}
	if (inst->watched != NULL) {
		isc_mem_put(inst->mctx, inst->watched,
			    inst->nwatched * sizeof(inst->watched[0]));
	}
	isc_mem_putanddetach(&inst->mctx, inst, sizeof(*inst));
	*instp = NULL;
}

int
plugin_version(void) {
	return (NS_PLUGIN_VERSION);
}
