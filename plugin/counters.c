/* SPDX-License-Identifier: MPL-2.0 */
/*
 * counters.c - the per-thread shards of the views' counters
 * (counters.h), and their sum for a snapshot.
 *
 * What a snapshot promises the relay (doc/protocol.md, section 2):
 *
 * - No counter ever goes down from one snapshot to the next.  Each
 *   counter of a shard has one writer at a time (a thread index names
 *   one live thread), or is changed by atomic read-modify-writes only
 *   (the shared shard), so its values follow one order of modification,
 *   and the publisher's loads of it, one thread's reads of one
 *   location, never go back in that order.  A shard joins the sum on
 *   its first add and never leaves it.
 *
 * - A ratio of the relay's lies within 0 and 100 % over any two
 *   snapshots: its part and its whole are sums of the same counters
 *   (SERVFAIL answers of all answers and drops, view.h), each of which
 *   only grows; and what only grows cannot make a part grow faster than
 *   its whole.
 *
 * - No snapshot counts a recursion's end without its start, so the
 *   recursions in flight (started, less finished) are never negative.
 *   A start is added before its end, on the thread that started the
 *   recursion (named resumes a query on its own loop or task), or on
 *   another that the fetch's completion reaches through named's own
 *   synchronisation: either way the start add happens before the end
 *   add.  Every add is a release, and the first pass below loads with
 *   acquire: once it has seen an end, the start and the marking of the
 *   start's shard are visible to every later load of this thread.  So
 *   the second pass, which reads the starts again, counts the start of
 *   every end the first one counted.
 */
#include <config.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "view.h"

struct ah_shard ah_shards[AH_SHARDS];

/* One bit per shard in use, for the publisher; set once per shard. */
static atomic_uint_fast64_t used[AH_SHARDS / 64];

/*
 * The counters of a start whose end other counters count (view.h), in
 * struct ah_counters or struct ah_groupcounters ('groups').
 */
static const struct {
	bool groups;
	size_t offset, n;
} starts[] = {
	{ false, offsetof(struct ah_counters, recursion[AH_REC_STARTED]), 1 },
	{ true,
	  offsetof(struct ah_groupcounters, dom[AH_LVL_DOMAIN][AH_DOM_RSTART]),
	  AH_DOM_BUCKETS },
	{ true,
	  offsetof(struct ah_groupcounters, dom[AH_LVL_SUFFIX][AH_DOM_RSTART]),
	  AH_DOM_BUCKETS },
};
_Static_assert(AH_LVL_COUNT == 2, "'starts' has a line for each level");

/* A view's words: those of struct ah_counters, then of the groups. */
#define CWORDS (sizeof(struct ah_counters) / sizeof(atomic_uint_fast64_t))
#define GWORDS (sizeof(struct ah_groupcounters) / sizeof(atomic_uint_fast64_t))
#define WORDS  (CWORDS + GWORDS)

/* Word 'i' of view slot 'slot' in shard 's'. */
static atomic_uint_fast64_t *
word(size_t s, unsigned int slot, size_t i) {
	if (i < CWORDS) {
		return ((atomic_uint_fast64_t *)&ah_shards[s].view[slot].c + i);
	}
	return ((atomic_uint_fast64_t *)&ah_shards[s].groups[slot] + i -
		CWORDS);
}

struct ah_tally
ah_tally(struct ah_view *v, size_t tid) {
	size_t shard = tid < AH_SHARD_SHARED ? tid : AH_SHARD_SHARED;
	struct ah_cell *cell = &ah_shards[shard].view[v->slot];
	uint64_t bit = UINT64_C(1) << shard % 64;

	/* Before the shard's first add: see ah_counters_sum(). */
	if ((atomic_load_explicit(&used[shard / 64], memory_order_relaxed) &
	     bit) == 0) {
		atomic_fetch_or_explicit(&used[shard / 64], bit,
					 memory_order_release);
	}
	if (shard != AH_SHARD_SHARED) {
		cell->live = true;
	}
	return ((struct ah_tally){ .v = v,
				   .c = &cell->c,
				   .g = &ah_shards[shard].groups[v->slot],
				   .own = shard != AH_SHARD_SHARED });
}

/* The next shard in use from 'shard' on, in a copy of 'used'. */
static size_t
next_used(const uint64_t mask[AH_SHARDS / 64], size_t shard) {
	while (shard < AH_SHARDS &&
	       (mask[shard / 64] & UINT64_C(1) << shard % 64) == 0) {
		shard++;
	}
	return (shard);
}

static void
load_used(uint64_t mask[AH_SHARDS / 64]) {
	for (size_t i = 0; i < AH_SHARDS / 64; i++) {
		mask[i] = atomic_load_explicit(&used[i], memory_order_acquire);
	}
}

void
ah_counters_sum(unsigned int slot, struct ah_counters *sum,
		struct ah_groupcounters *gsum) {
	uint64_t acc[WORDS] = { 0 };
	uint64_t mask[AH_SHARDS / 64];
	size_t s, i, k;

	load_used(mask);
	for (s = next_used(mask, 0); s < AH_SHARDS; s = next_used(mask, s + 1))
	{
		for (i = 0; i < WORDS; i++) {
			acc[i] += atomic_load_explicit(word(s, slot, i),
						       memory_order_acquire);
		}
	}
	/* The starts again, now that every end counted above is visible. */
	load_used(mask);
	for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		size_t first = (starts[k].groups ? CWORDS : 0) +
			       starts[k].offset / sizeof(acc[0]);

		for (i = first; i < first + starts[k].n; i++) {
			acc[i] = 0;
		}
		for (s = next_used(mask, 0); s < AH_SHARDS;
		     s = next_used(mask, s + 1)) {
			for (i = first; i < first + starts[k].n; i++) {
				acc[i] += atomic_load_explicit(
					word(s, slot, i), memory_order_relaxed);
			}
		}
	}
	for (i = 0; i < CWORDS; i++) {
		atomic_store_explicit((atomic_uint_fast64_t *)sum + i, acc[i],
				      memory_order_relaxed);
	}
	for (i = 0; i < GWORDS; i++) {
		atomic_store_explicit((atomic_uint_fast64_t *)gsum + i,
				      acc[CWORDS + i], memory_order_relaxed);
	}
}

void
ah_counters_clear(unsigned int slot) {
	uint64_t mask[AH_SHARDS / 64];

	load_used(mask);
	for (size_t s = next_used(mask, 0); s < AH_SHARDS;
	     s = next_used(mask, s + 1)) {
		/* Only where written: a page never written stays unused. */
		for (size_t i = 0; i < WORDS; i++) {
			if (atomic_load_explicit(word(s, slot, i),
						 memory_order_relaxed) != 0) {
				atomic_store_explicit(word(s, slot, i), 0,
						      memory_order_relaxed);
			}
		}
	}
}
