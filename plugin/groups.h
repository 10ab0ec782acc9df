/* SPDX-License-Identifier: MPL-2.0 */
/*
 * groups.h - the fleet sensor's groups of names (groups.c): where in
 * the name space failures and recursions happen, by registrable domain
 * and by public suffix.
 */
#ifndef AH_GROUPS_H
#define AH_GROUPS_H

#include <stdbool.h>

#include <isc/log.h>
#include <isc/mem.h>

#include <dns/types.h>

#include "counters.h"
#include "view.h"

typedef struct ah_groups ah_groups_t;

/*
 * Loads the public suffix list (libpsl: the newer of Debian's packaged
 * list and the one libpsl was built with), at registration: never in
 * the query path.  Without any list, names are grouped by their last
 * two labels and their last label, and a warning is logged.
 */
ah_groups_t *
ah_groups_create(isc_mem_t *mctx, isc_log_t *lctx);

void
ah_groups_destroy(ah_groups_t **groupsp);

/*
 * Counts 'name' in its group of each level, in the counters of 't' (a
 * thread's, for a view: counters.h): one count of every kind in
 * 'kinds' (a mask of 1 << AH_DOM_...).  With 'sample', the view's
 * groups' latest failing names become 'name''s domain and suffix.
 * Reads the list only; for failure and recursion paths, never every
 * query.
 */
void
ah_groups_count(const ah_groups_t *groups, struct ah_tally t,
		const dns_name_t *name, unsigned int kinds, bool sample);

#endif /* AH_GROUPS_H */
