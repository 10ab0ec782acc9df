/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prefixes.c - the prefixes of a configuration, sorted (see prefixes.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "prefixes.h"

static int
by_prefix(const void *a, const void *b)
{
	const struct prefix_ref	*x = a, *y = b;
	int			 c = strcmp(x->p->prefix, y->p->prefix);

	if (c != 0)
		return (c);
	return (x->order < y->order ? -1 : x->order > y->order);
}

int
prefix_index_make(struct prefix_index *ix, const struct service_conf *s,
    size_t n)
{
	size_t	i, k, all = 0;

	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < n; i++)
		all += s[i].nprefixes;
	if (all == 0)
		return (0);
	if ((ix->ref = calloc(all, sizeof(*ix->ref))) == NULL)
		return (-1);
	for (i = 0; i < n; i++)
		for (k = 0; k < s[i].nprefixes; k++) {
			ix->ref[ix->n].p = &s[i].prefixes[k];
			ix->ref[ix->n].order = ix->n;
			ix->n++;
		}
	qsort(ix->ref, ix->n, sizeof(*ix->ref), by_prefix);
	return (0);
}

void
prefix_index_free(struct prefix_index *ix)
{
	free(ix->ref);
	memset(ix, 0, sizeof(*ix));
}

const struct prefix_ref *
prefix_index_find(const struct prefix_index *ix, const char *prefix,
    size_t *count)
{
	size_t	lo = 0, hi = ix->n, mid, end;

	/* The first entry not below 'prefix'. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(ix->ref[mid].p->prefix, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->n && strcmp(ix->ref[end].p->prefix,
	    prefix) == 0; end++)
		;
	*count = end - lo;
	return (end > lo ? &ix->ref[lo] : NULL);
}
