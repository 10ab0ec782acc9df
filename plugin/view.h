/* SPDX-License-Identifier: MPL-2.0 */
/*
 * view.h - what the plugin knows of one view: the counters its query
 * threads add to (one copy per thread: counters.h), the sample names
 * they leave, and the zone state its walks fill in (zones.c).  The
 * publisher keeps one struct ah_view per view name for as long as the
 * module is loaded (publisher.h), and snapshot.c encodes them.
 * Nothing here includes BIND headers.
 */
#ifndef AH_VIEW_H
#define AH_VIEW_H

#include <ctype.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahwire.h"

struct ah_cell;

/*
 * The latest failing name of a group (a registrable domain, a public
 * suffix).  A seqlock, so a query thread
 * writes it without ever waiting: odd 'seq' means a write is under way,
 * and a writer that finds one skips its own.
 */
struct ah_sample {
	atomic_uint seq;
	atomic_char name[AH_DOMAIN_MAX];
};

/*
 * With all-zones, only this many unhealthy zones per view are kept in
 * detail; the rest are counted.  Keeps walks and snapshots small.
 */
#define AH_UNHEALTHY_DETAIL_MAX 100

#define AH_VIEWS_MAX	64
#define AH_VIEWNAME_MAX 256
#define AH_ZONENAME_MAX 256

/* One zone's state as the last walk saw it. */
struct ah_zone {
	char name[AH_ZONENAME_MAX];
	bool listed; /* named in the 'zones' parameter */
	bool found;
	bool loaded;
	bool expired;
	bool has_serial;
	uint32_t serial;
	char type[16];
	int64_t loaded_at;   /* BIND's: the file's mtime; 0: unknown */
	int64_t loaded_seen; /* unix seconds; 0: not loaded */
	int64_t refresh;     /* next refresh, unix seconds */
	int64_t expire;	     /* unix seconds; 0: n/a */
};

/*
 * A view's counters as one thread adds to them; counters.h keeps a copy
 * per thread and adds the copies up for each snapshot.  Every member is
 * an atomic_uint_fast64_t or an array of them, and the sum is taken
 * word by word, so a new family of counters is one member here and its
 * record in snapshot.c.  A family that counts the start of something
 * whose end another family counts is also listed in counters.c's
 * 'starts', which keeps a snapshot from holding an end without its
 * start.  The fleet sensor's groups are a struct of their own: four
 * fifths of the words, added to on failure and recursion paths only,
 * they lie apart in a thread's shard and take no memory where no query
 * fails or recurses.
 *
 * The wire's 'queries' has no counter of its own: every query that is
 * not a probe ends in exactly one of 'dropped' and 'answers', and
 * snapshot.c publishes their sum, so no snapshot holds an outcome
 * without its query or the reverse.
 */
struct ah_counters {
	atomic_uint_fast64_t probes; /* the relay's, kept apart */
	atomic_uint_fast64_t dropped;
	atomic_uint_fast64_t answers[AH_SRC_COUNT][AH_RC_COUNT];
	atomic_uint_fast64_t recursion[AH_REC_COUNT];
	atomic_uint_fast64_t latency[AH_LAT_BUCKETS];
};

/* The fleet sensor's groups (groups.c), by level, kind, bucket. */
struct ah_groupcounters {
	atomic_uint_fast64_t dom[AH_LVL_COUNT][AH_DOM_COUNT][AH_DOM_BUCKETS];
};

struct ah_view {
	/*
	 * Read by every query of the view, written once per zone-interval:
	 * the publisher sets it, and the first query to clear it hands the
	 * zone table over and samples the gauge.  On a line of its own, so
	 * that the zone fields' writes do not move it.
	 */
	alignas(64) atomic_bool walk_due;
	atomic_uint_fast64_t recursive_clients; /* named's gauge */
	/* Set when the slot takes a view name, then constant. */
	unsigned int slot;     /* in the publisher's views and the shards */
	struct ah_cell *cells; /* its counters in the first shard */
	struct ah_groupcounters *groups; /* and its groups' */
	/*
	 * Written on failure paths only, by any of the view's query
	 * threads: the publisher's, apart from the views, so that the
	 * pages of a view whose queries never fail stay untouched.
	 */
	struct ah_sample (*sample)[AH_DOM_BUCKETS]; /* [AH_LVL_COUNT] */

	alignas(64) pthread_mutex_t zlock; /* guards the zone fields */
	struct ah_zone *zones;
	size_t nzones, zcap;
	int64_t walked; /* realtime ms; 0: never */
	bool watching;	/* has zones to report */
	/* Counts over every watched zone; 'zones' holds only some. */
	uint64_t zwatched, zhealthy, zexpired, zunloaded, zmissing;

	/* Guarded by the publisher's lock. */
	char name[AH_VIEWNAME_MAX];
	unsigned int refs; /* attached instances */
	uint64_t left;	   /* when refs last fell to 0 */
};

/* Names go out in lower case, as the relay compares them. */
static inline void
ah_lower(char *s) {
	for (; *s != '\0'; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

/* Query-thread side of the seqlock; 'name' fits AH_DOMAIN_MAX. */
static inline void
ah_sample_write(struct ah_sample *s, const char *name) {
	unsigned int seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	size_t i = 0;

	if ((seq & 1) != 0 ||
	    !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
						     memory_order_acquire,
						     memory_order_relaxed))
	{
		return; /* another thread is writing: its name will do */
	}
	do {
		atomic_store_explicit(&s->name[i], name[i],
				      memory_order_relaxed);
	} while (name[i++] != '\0' && i < AH_DOMAIN_MAX);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

#endif /* AH_VIEW_H */
