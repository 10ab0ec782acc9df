/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prefixes.h - the prefixes of a configuration's services, sorted, for
 * lookups and duplicates in O(n log n): a file of 1 MiB lists 30,000,
 * and comparing each with each took seconds at every reload, while
 * named's plugin drops a reader that takes nothing for 5.
 */
#ifndef AH_PREFIXES_H
#define AH_PREFIXES_H

#include <stddef.h>

#include "parse.h"

struct prefix_ref {
	const struct prefix_conf *p;
	size_t			 order;	/* in the file: services, then
					   their prefixes */
};

struct prefix_index {
	struct prefix_ref	*ref;	/* by prefix, then order */
	size_t			 n;
};

/* Of 'n' services from 's'; 0, or -1 without memory. */
int	prefix_index_make(struct prefix_index *, const struct service_conf *s,
	    size_t n);
void	prefix_index_free(struct prefix_index *);
/*
 * The entries listing 'prefix', the first in the file first: a pointer
 * to the first and how many (*count), or NULL.
 */
const struct prefix_ref *prefix_index_find(const struct prefix_index *,
	    const char *prefix, size_t *count);

#endif /* AH_PREFIXES_H */
