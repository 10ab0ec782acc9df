/*
 * anycast-health.c - BIND 9 query plugin: the sensor of anycast-health.
 *
 * Counts the outcome of every query a view answers and leaves the
 * publishing to publisher.c.  The query path does relaxed atomic adds
 * and nothing else: no lock, no allocation, no system call.
 *
 *	plugin query "anycast-health.so" {
 *		socket "/run/named/anycast-health.sock";
 *		interval 1000;		// milliseconds between snapshots
 *		socket-mode "0660";
 *		socket-group "bind";
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
#include <isc/types.h>
#include <isc/util.h>

#include <dns/message.h>
#include <dns/rcode.h>
#include <dns/result.h>
#include <dns/view.h>

#include <isccfg/cfg.h>
#include <isccfg/grammar.h>

#include <ns/client.h>
#include <ns/hooks.h>
#include <ns/log.h>
#include <ns/query.h>
#include <ns/types.h>

#include "publisher.h"

/* CHECK() and its 'cleanup:' label come from isc/util.h. */

#define DEFAULT_SOCKET	 "/run/named/anycast-health.sock"
#define DEFAULT_INTERVAL 1000
#define MIN_INTERVAL	 50
#define MAX_INTERVAL	 60000
#define DEFAULT_MODE	 0660

typedef struct ah_instance {
	isc_mem_t *mctx;
	struct ah_view *view;
} ah_instance_t;

/**
 ** Parameters, parsed with named's own grammar machinery so that
 ** named-checkconf reports mistakes with file and line.
 **/

static cfg_clausedef_t param_clauses[] = {
	{ "socket", &cfg_type_qstring, 0 },
	{ "interval", &cfg_type_uint32, 0 },
	{ "socket-mode", &cfg_type_astring, 0 },
	{ "socket-group", &cfg_type_astring, 0 },
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
static void
locate_syntax_error(const char *text, const char *file, unsigned long line,
		    isc_log_t *lctx) {
	bool seen[sizeof(param_clauses) / sizeof(param_clauses[0])] = { 0 };
	bool at_start = true;
	unsigned long block = line;

	for (const char *c = text; *c != '\0';) {
		if (*c == '\n') {
			line++;
			c++;
		} else if (*c == '#' || (c[0] == '/' && c[1] == '/')) {
			while (*c != '\0' && *c != '\n') {
				c++;
			}
		} else if (c[0] == '/' && c[1] == '*') {
			for (c += 2; *c != '\0' && !(c[0] == '*' && c[1] == '/');
			     c++)
			{
				line += (*c == '\n');
			}
			c += (*c != '\0') ? 2 : 0;
		} else if (*c == '"') {
			for (c++; *c != '\0' && *c != '"'; c++) {
				line += (*c == '\n');
				c += (c[0] == '\\' && c[1] != '\0');
			}
			c += (*c != '\0');
			at_start = false;
		} else if (*c == ';' || *c == '{' || *c == '}') {
			at_start = (*c != '{');
			c++;
		} else if (isspace((unsigned char)*c)) {
			c++;
		} else {
			const char *w = c;
			size_t n, i;
			while (*c != '\0' && !isspace((unsigned char)*c) &&
			       strchr(";{}\"", *c) == NULL)
			{
				c++;
			}
			n = (size_t)(c - w);
			if (!at_start) {
				continue;
			}
			at_start = false;
			for (i = 0; param_clauses[i].name != NULL; i++) {
				if (strlen(param_clauses[i].name) == n &&
				    strncasecmp(param_clauses[i].name, w, n) == 0)
				{
					break;
				}
			}
			if (param_clauses[i].name == NULL) {
				isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
					      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
					      "%s:%lu: anycast-health: unknown "
					      "parameter '%.*s' (known: socket, "
					      "interval, socket-mode, "
					      "socket-group)",
					      file, line, (int)n, w);
				return;
			}
			if (seen[i]) {
				isc_log_write(lctx, NS_LOGCATEGORY_GENERAL,
					      NS_LOGMODULE_HOOKS, ISC_LOG_ERROR,
					      "%s:%lu: anycast-health: '%s' "
					      "given twice",
					      file, line, param_clauses[i].name);
				return;
			}
			seen[i] = true;
		}
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_ERROR,
		      "%s:%lu: anycast-health: parameter block does not parse "
		      "(see the message above)",
		      file, block);
}

static isc_result_t
check_params(const cfg_obj_t *pmap, const char *file, isc_log_t *lctx,
	     struct ah_pub_params *p) {
	const cfg_obj_t *obj = NULL;
	isc_result_t result = ISC_R_SUCCESS;

	memset(p, 0, sizeof(*p));
	strcpy(p->path, DEFAULT_SOCKET);
	p->interval_ms = DEFAULT_INTERVAL;
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

	obj = NULL;
	if (cfg_map_get(pmap, "interval", &obj) == ISC_R_SUCCESS) {
		uint32_t ms = cfg_obj_asuint32(obj);
		if (ms < MIN_INTERVAL || ms > MAX_INTERVAL) {
			param_error(file, obj, lctx,
				    "interval %" PRIu32
				    " out of range %d..%d (milliseconds)",
				    ms, MIN_INTERVAL, MAX_INTERVAL);
			result = ISC_R_RANGE;
		} else {
			p->interval_ms = ms;
		}
	}

	obj = NULL;
	if (cfg_map_get(pmap, "socket-mode", &obj) == ISC_R_SUCCESS) {
		const char *s = cfg_obj_asstring(obj);
		char *end = NULL;
		unsigned long mode = strtoul(s, &end, 8);
		if (*s == '\0' || *end != '\0' || mode > 0777 ||
		    (mode & 0600) != 0600)
		{
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
	return (result);
}

static isc_result_t
parse_params(const char *parameters, const char *cfg_file,
	     unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
	     struct ah_pub_params *p) {
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
 * named does not tell a plugin which view it is registered for.  The
 * parameter string it passes is the very string in the config tree, so
 * the view is the one whose plugin statement holds that pointer.
 */
static const cfg_obj_t *
find_in(const cfg_obj_t *map, const char *parameters) {
	const cfg_obj_t *plugins = NULL;

	if (map == NULL || cfg_map_get(map, "plugin", &plugins) != ISC_R_SUCCESS)
	{
		return (NULL);
	}
	for (const cfg_listelt_t *e = cfg_list_first(plugins); e != NULL;
	     e = cfg_list_next(e))
	{
		const cfg_obj_t *plugin = cfg_listelt_value(e);
		const cfg_obj_t *pobj = cfg_tuple_get(plugin, "parameters");
		if (pobj != NULL && cfg_obj_isstring(pobj) &&
		    cfg_obj_asstring(pobj) == parameters)
		{
			return (plugin);
		}
	}
	return (NULL);
}

static const cfg_obj_t *
find_plugin(const void *cfg, const char *parameters, const char **viewp) {
	const cfg_obj_t *views = NULL, *found = NULL;

	*viewp = "_default";
	if (cfg == NULL || parameters == NULL) {
		return (NULL);
	}
	if ((found = find_in(cfg, parameters)) != NULL) {
		return (found);
	}
	if (cfg_map_get(cfg, "view", &views) != ISC_R_SUCCESS) {
		return (NULL);
	}
	for (const cfg_listelt_t *e = cfg_list_first(views); e != NULL;
	     e = cfg_list_next(e))
	{
		const cfg_obj_t *v = cfg_listelt_value(e);
		found = find_in(cfg_tuple_get(v, "options"), parameters);
		if (found != NULL) {
			*viewp = cfg_obj_asstring(cfg_tuple_get(v, "name"));
			return (found);
		}
	}
	return (NULL);
}

/* named's version, read at run time: named-checkconf does not have it. */
static void
named_version(char *buf, size_t len) {
	const char *const *v = dlsym(RTLD_DEFAULT, "named_g_version");

	snprintf(buf, len, "%s", v != NULL && *v != NULL ? *v : AH_BIND_VERSION);
}

/**
 ** The query path.
 **/

static ns_hookresult_t
on_qctx_destroyed(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;
	struct ah_view *v = inst->view;

	*resp = ISC_R_UNSET;

	/*
	 * A query context is also destroyed when recursion starts; only
	 * the one that lets go of the client marks the query's end.
	 */
	if (!qctx->detach_client) {
		return (NS_HOOK_CONTINUE);
	}
	ah_count(v, AH_C_QUERIES);
	if (qctx->result == DNS_R_DROP || qctx->result == DNS_R_DUPLICATE ||
	    qctx->client == NULL || qctx->client->message == NULL)
	{
		/* Nothing was sent; the message's rcode is stale. */
		ah_count(v, AH_C_DROPPED);
		return (NS_HOOK_CONTINUE);
	}
	switch (qctx->client->message->rcode) {
	case dns_rcode_noerror:
		ah_count(v, AH_C_NOERROR);
		break;
	case dns_rcode_nxdomain:
		ah_count(v, AH_C_NXDOMAIN);
		break;
	case dns_rcode_servfail:
		ah_count(v, AH_C_SERVFAIL);
		break;
	case dns_rcode_refused:
		ah_count(v, AH_C_REFUSED);
		break;
	default:
		ah_count(v, AH_C_OTHER);
		break;
	}
	return (NS_HOOK_CONTINUE);
}

static void
install_hooks(ns_hooktable_t *hooktable, isc_mem_t *mctx,
	      ah_instance_t *inst) {
	const ns_hook_t destroyed = {
		.action = on_qctx_destroyed,
		.action_data = inst,
	};

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
	struct ah_pub_params p;
	const char *view = NULL;
	char err[256];
	isc_result_t result = ISC_R_SUCCESS;

	UNUSED(actx);

	(void)find_plugin(cfg, parameters, &view);
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "registering 'anycast-health' module for view '%s' "
		      "from %s:%lu",
		      view, cfg_file, cfg_line);

	CHECK(parse_params(parameters, cfg_file, cfg_line, mctx, lctx, &p));
	named_version(p.named_version, sizeof(p.named_version));

	inst = isc_mem_get(mctx, sizeof(*inst));
	memset(inst, 0, sizeof(*inst));
	isc_mem_attach(mctx, &inst->mctx);

	if (ah_pub_attach(&p, view, &inst->view, err, sizeof(err)) != 0) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR, "anycast-health: %s (%s:%lu)",
			      err, cfg_file, cfg_line);
		result = ISC_R_FAILURE;
		goto cleanup;
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "anycast-health: view '%s' publishing on %s every %u ms",
		      view, p.path, p.interval_ms);

	/* Last, so a failure above leaves no hook pointing at freed memory. */
	install_hooks(hooktable, mctx, inst);
	*instp = inst;

cleanup:
	if (result != ISC_R_SUCCESS && inst != NULL) {
		plugin_destroy((void **)&inst);
	}
	return (result);
}

isc_result_t
plugin_check(const char *parameters, const void *cfg, const char *cfg_file,
	     unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
	     void *actx) {
	struct ah_pub_params p;

	UNUSED(cfg);
	UNUSED(actx);

	return (parse_params(parameters, cfg_file, cfg_line, mctx, lctx, &p));
}

void
plugin_destroy(void **instp) {
	ah_instance_t *inst = (ah_instance_t *)*instp;

	if (inst->view != NULL) {
		ah_pub_detach(inst->view);
	}
	isc_mem_putanddetach(&inst->mctx, inst, sizeof(*inst));
	*instp = NULL;
}

int
plugin_version(void) {
	return (NS_PLUGIN_VERSION);
}
