/* SPDX-License-Identifier: MPL-2.0 */
/*
 * params.h - the plugin's parameter block and the view it is registered
 * for, checked the same way by plugin_check and plugin_register
 * (params.c).
 */
#ifndef AH_PARAMS_H
#define AH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include <isc/log.h>
#include <isc/mem.h>
#include <isc/result.h>

#include "publisher.h"
#include "view.h"

#define AH_WATCHED_MAX 256

/* What the parameters say, before any instance exists. */
typedef struct ah_params {
	struct ah_pub_params pub;
	bool all_zones;
	size_t nwatched;
	char watched[AH_WATCHED_MAX][AH_ZONENAME_MAX]; /* lower case */
} ah_params_t;

/*
 * Parse the parameter block 'parameters' (NULL: none) of the statement
 * that ends at 'file':'line' into *p, with defaults for what it leaves
 * out.  Every mistake is logged to 'lctx' with its file and line.  A few
 * are refused only when 'strict' (named-checkconf): named takes them,
 * as it took them before they were checked, with a warning.
 */
isc_result_t
ah_params_parse(const char *parameters, const char *file, unsigned long line,
		bool strict, isc_mem_t *mctx, isc_log_t *lctx, ah_params_t *p);

/*
 * The name of the view the statement belongs to, in *viewp, found in
 * named's configuration tree 'cfg'; fails, logging why, if the view
 * cannot be published.
 */
isc_result_t
ah_params_view(const void *cfg, const char *parameters, const char *file,
	       unsigned long line, isc_log_t *lctx, const char **viewp);

/*
 * Fails, logging why, when the socket, an interval, the mode or the
 * group of *p, the parameters of the statement at file:line, differs
 * from the first statement's in 'cfg': named has one publisher.
 */
isc_result_t
ah_params_one_publisher(const void *cfg, const char *parameters,
			const char *file, unsigned long line, isc_mem_t *mctx,
			isc_log_t *lctx, const ah_params_t *p);

#endif /* AH_PARAMS_H */
