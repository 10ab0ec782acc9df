/* SPDX-License-Identifier: MPL-2.0 */
/*
 * counters.h - the views' counters, one copy per thread.
 *
 * Every query adds to its view's counters.  Were they one copy, every
 * worker thread of named would write the same cache lines, and each add
 * on a many-core machine would wait for the line another core has just
 * written.  So each thread adds to a shard of its own: a cell (struct
 * ah_cell, a view's struct ah_counters) for each view slot, which no
 * other thread writes, where an add is a load and a store (no locked
 * instruction).  The publisher thread adds the shards up for each
 * snapshot (ah_counters_sum) and only reads them, but to zero a slot
 * that a new view name takes (ah_counters_clear).
 *
 * A shard is chosen by named's own thread index (bindcompat.h,
 * ah_tid()): the worker threads of BIND 9.18 (isc_tid_v, 1..2n for
 * 'named -n n') and the loop threads of BIND 9.20 (isc_tid(), 0..n-1)
 * each have their own, unique while the thread lives: up to -n 63 on
 * 9.18 and -n 127 on 9.20.  A thread without an index, or with one
 * beyond the shards, adds to the last shard, which such threads share,
 * with atomic read-modify-writes: slower, never wrong.
 *
 * Memory: AH_SHARDS x AH_VIEWS_MAX x (sizeof(struct ah_cell) +
 * sizeof(struct ah_groupcounters)) of address space (12 MiB), of which
 * only the pages a thread has written are resident: 296 bytes for each
 * view a thread counts in (19 KiB per thread with 64 busy views), and
 * 1,280 more for each where it counts a failure or a recursion (80 KiB
 * more per thread with 64 resolving views).
 *
 * Nothing here includes BIND headers.
 */
#ifndef AH_COUNTERS_H
#define AH_COUNTERS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "view.h"

#define AH_SHARDS	128
#define AH_SHARD_SHARED (AH_SHARDS - 1)

/*
 * Shards start on a 128-byte boundary: two cache lines, because
 * x86's adjacent-line prefetcher pulls lines in pairs.
 */
#define AH_SHARD_ALIGN 128

/* One view's counters in one shard. */
struct ah_cell {
	struct ah_counters c;
	/*
	 * The shard's thread has counted here before, so the shard is
	 * marked in use (ah_tally()).  Only that thread reads and writes
	 * it, or a later one with its index, which named starts after the
	 * first ended: no atomic is needed.  Unused in the shared shard.
	 */
	bool live;
};

struct ah_shard {
	alignas(AH_SHARD_ALIGN) struct ah_cell view[AH_VIEWS_MAX];
	/* Apart: on failure and recursion paths only (view.h). */
	alignas(AH_SHARD_ALIGN) struct ah_groupcounters groups[AH_VIEWS_MAX];
};

extern struct ah_shard ah_shards[AH_SHARDS];

/* Where one thread counts for one view. */
struct ah_tally {
	struct ah_view *v;
	struct ah_counters *c;
	struct ah_groupcounters *g;
	bool own; /* 'c' and 'g' are this thread's alone */
};

/*
 * Where thread 'tid' counts for view 'v', on any path: its own shard,
 * or the shared one; the first time, the shard is marked in use for
 * the publisher (counters.c).
 */
struct ah_tally
ah_tally(struct ah_view *v, size_t tid);

/*
 * The common case, in one test: thread 'tid' has a shard of its own and
 * has counted in it for 'v' before.  Then *t is where it counts, with
 * 'own' known to be true; else use ah_tally().
 */
static inline bool
ah_tally_own(struct ah_view *v, size_t tid, struct ah_tally *t) {
	struct ah_cell *cell = NULL;

	if (tid >= AH_SHARD_SHARED) {
		return (false);
	}
	cell = (struct ah_cell *)((char *)v->cells +
				  tid * sizeof(struct ah_shard));
	if (!cell->live) {
		return (false);
	}
	*t = (struct ah_tally){
		.v = v,
		.c = &cell->c,
		.g = (struct ah_groupcounters *)((char *)v->groups +
						 tid * sizeof(struct ah_shard)),
		.own = true
	};
	return (true);
}

/*
 * One more in 'n', a counter of 't'.  In a thread's own shard no other
 * thread writes, so a load and a store do; the store releases what the
 * thread counted before it (see counters.c).
 */
static inline void
ah_add(struct ah_tally t, atomic_uint_fast64_t *n) {
	if (t.own) {
		atomic_store_explicit(
			n, atomic_load_explicit(n, memory_order_relaxed) + 1,
			memory_order_release);
	} else {
		atomic_fetch_add_explicit(n, 1, memory_order_release);
	}
}

/*
 * The counters of view slot 'slot' summed over every shard, into *sum
 * and *gsum: on the publisher thread.  Each counter never decreases
 * from one call to the next, and no end is counted without its start
 * (see counters.c).
 */
void
ah_counters_sum(unsigned int slot, struct ah_counters *sum,
		struct ah_groupcounters *gsum);

/*
 * Zeroes view slot 'slot' in every shard, for a new view name: only
 * while no thread counts in that slot.
 */
void
ah_counters_clear(unsigned int slot);

#endif /* AH_COUNTERS_H */
