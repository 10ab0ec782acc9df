/*
 * publisher.h - the process-wide side of the plugin: per-view counters
 * and zone state that outlive plugin instances, and the thread that
 * publishes them on the Unix socket.
 *
 * named registers one plugin instance per view, and on every reconfig
 * registers the new instances before destroying the old ones.  The
 * counters and the socket therefore belong to the loaded module, not
 * to an instance: a reconfig must neither reset a counter nor drop a
 * subscriber.  Nothing here includes BIND headers: the only BIND
 * objects the publisher thread touches are the zone tables handed to
 * it, through the callbacks of struct ah_walker, and the thread
 * prepares for them with the 'enter' and 'leave' callbacks of struct
 * ah_pub_params (see zones.c and bindcompat.h).
 */
#ifndef AH_PUBLISHER_H
#define AH_PUBLISHER_H

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ahwire.h"

/*
 * The latest failing domain of a bucket.  A seqlock, so a query thread
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
	int64_t loaded_at; /* unix seconds; 0: unknown */
	int64_t refresh;   /* next refresh, unix seconds */
	int64_t expire;	   /* unix seconds; 0: n/a */
};

struct ah_view {
	/* Written by query threads with relaxed atomic adds only. */
	atomic_uint_fast64_t queries;
	atomic_uint_fast64_t probes; /* the relay's, kept apart */
	atomic_uint_fast64_t dropped;
	atomic_uint_fast64_t answers[AH_SRC_COUNT][AH_RC_COUNT];
	atomic_uint_fast64_t recursion[AH_REC_COUNT];
	atomic_uint_fast64_t latency[AH_LAT_BUCKETS];
	atomic_uint_fast64_t recursive_clients; /* named's gauge */
	atomic_uint_fast64_t dom[AH_DOM_COUNT][AH_DOM_BUCKETS];
	struct ah_sample sample[AH_DOM_BUCKETS];

	/* Zone walks: one per zone-interval, by whichever query wins. */
	atomic_int_fast64_t next_walk; /* monotonic ms */
	pthread_mutex_t zlock;	       /* guards the zone fields */
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

/*
 * A view's zone walk, off the query path.  Once per zone-interval one
 * query thread takes a reference to its view's zone table (O(1): an
 * atomic increment) and hands it over in 'pending'; the publisher
 * thread walks it with 'walk' and drops it with 'release'.  A newer
 * table handed over before the publisher took the older one replaces
 * it, and the query thread drops the older one.  The publisher walks
 * under its lock, so removing a walker waits for a walk in progress and
 * no reference outlives the plugin instance.
 */
struct ah_walker {
	_Atomic(void *) pending;
	struct ah_view *view;
	void *arg;
	void (*walk)(void *table, void *arg, struct ah_view *);
	void (*release)(void *table);
	struct ah_walker *next; /* under the publisher's lock */
};

struct ah_pub_params {
	char path[108]; /* sizeof(sun_path) */
	unsigned int interval_ms;
	unsigned int zone_interval_ms;
	mode_t mode;
	gid_t gid; /* (gid_t)-1: leave the group */
	char named_version[64];
	/*
	 * Run on the publisher thread, 'enter' before its first walk and
	 * 'leave' after its last: BIND 9.20 reads zone tables under RCU,
	 * which a thread must join first.
	 */
	void (*enter)(void);
	void (*leave)(void);
};

/*
 * Attach an instance for view 'name'.  The first attach creates the
 * socket and starts the thread with 'p'; later ones must agree with
 * the running publisher.  Returns 0, or -1 with a message in 'err'.
 */
int
ah_pub_attach(const struct ah_pub_params *p, const char *name,
	      struct ah_view **vp, char *err, size_t errlen);
/* Walks for an attached view; remove before detaching the view. */
void
ah_pub_walker_add(struct ah_walker *);
void
ah_pub_walker_remove(struct ah_walker *);
/* The last detach says goodbye, stops the thread and removes the socket. */
void
ah_pub_detach(struct ah_view *);
unsigned int
ah_pub_zone_interval(void);

static inline void
ah_add(atomic_uint_fast64_t *c) {
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

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

#endif /* AH_PUBLISHER_H */
