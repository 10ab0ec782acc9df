/* SPDX-License-Identifier: MPL-2.0 */
/*
 * bindcompat.h - every difference between the BIND versions plugin/
 * builds against, in one place: BIND 9.18 (plugin API 1, Debian 12)
 * and BIND 9.20 (plugin API 2, Debian 13).  The plugin's C files call
 * the ah_*() helpers below and have no version test of their own.
 * Include it after BIND's headers; NS_PLUGIN_VERSION (ns/hooks.h)
 * decides.
 *
 * Threads and RCU.  The zone walks run on the publisher thread, a
 * pthread of the plugin's own that named knows nothing about: a query
 * thread hands it a reference to its view's zone table once per
 * zone-interval, and the publisher walks the table and drops the
 * reference (publisher.h, struct ah_walker).
 *
 * - BIND 9.18: a zone table is a red-black tree under an isc_rwlock.
 *   The publisher takes that rwlock like any other reader; nothing
 *   else is asked of the thread.
 *
 * - BIND 9.20: a zone table is a qp-trie read under RCU: dns_zt_apply()
 *   and dns_zt_find() open a read transaction with rcu_read_lock(), and
 *   so does the zone database behind dns_zone_getserial() (qpzone's
 *   findnode).  Debian's named uses liburcu's membarrier flavour
 *   (configure checks which one named links).  There rcu_read_lock()
 *   only marks the calling thread's entry in liburcu's registry of
 *   reader threads, and synchronize_rcu()/call_rcu() wait for the
 *   readers in that registry: the read of a thread that never
 *   registered is not waited for, and a trie chunk that a zone added or
 *   removed replaced can be freed under the publisher's walk.  So the
 *   publisher thread joins liburcu when it starts and leaves before it
 *   ends (ah_thread_enter/ah_thread_leave, which publisher.c calls on
 *   that thread).  It is inside a read-side section only during a walk,
 *   never while it sleeps in poll(), so it holds up no grace period;
 *   tests/system/test_rcu.py checks with a liburcu shim that each of
 *   its RCU reads is a registered one.
 *
 *   What else happens on that thread: when the view has let go of the
 *   table first (reconfig, shutdown), the publisher's reference is the
 *   last and dns_zt_detach() destroys the table there.  That frees the
 *   trie with call_rcu() (allowed: the thread is registered), hands
 *   zones whose last reference goes to their own loop (isc_async_run,
 *   callable from any thread), and a flush ('rndc stop') dumps dynamic
 *   zones with dns_master_dumpasync(), which passes the work to the
 *   zone's loop the same way.  None of it needs a loop thread (9.20's
 *   zt.c, zone.c, masterdump.c, qp.c).
 *
 *   The alternative, walking on one of named's loop threads
 *   (isc_async_run() to the query's loop), was rejected: an all-zones
 *   walk of 10,000 zones takes milliseconds, which every query of that
 *   loop would wait for, and plugin_destroy could no longer free the
 *   instance while a job queued on a loop still points at it.
 *
 *   The query thread's side is ah_zonetable_attach(): 9.20's
 *   view->zonetable is an RCU pointer, swapped out when the view's
 *   last strong reference goes, so it is read as BIND reads it, inside
 *   rcu_read_lock() on the query's own, registered, loop thread.  In
 *   the membarrier flavour that is a store to a thread-local counter
 *   and a compiler barrier: no read-modify-write, lock or system call,
 *   and it runs once per zone-interval, not per query.  The per-query
 *   path stays relaxed atomics on both versions.
 *
 *   Flavours: membarrier, mb and bp work this way (bp needs no
 *   registration and ignores it).  configure refuses qsbr, whose
 *   readers must announce quiescent states, and signal, which would
 *   signal the publisher thread (it blocks every signal).
 *
 * Thread indexes.  Each query thread counts in a shard of its own,
 * chosen by named's index of the thread (counters.h), which ah_tid()
 * reads from libisc's thread-local variable:
 *
 * - BIND 9.18: isc_tid_v, set by libisc's thread trampoline
 *   (trampoline.c) for every thread libisc starts: 0 for the main
 *   thread, then the lowest free index from 1.  named starts the netmgr
 *   first, whose 2n workers for 'named -n n' (n listeners and n more)
 *   run every query and every task: 1..2n; then the timer thread, 2n+1.
 *   An index is freed when its thread ends and can then be taken by a
 *   new thread.  Threads libisc did not start (libuv's pool, outside a
 *   netmgr work item; the plugin's publisher) have SIZE_MAX.  Seen on
 *   Debian's 9.18.49 with -n 2: isc-net-0000..0003 are 1..4, isc-timer
 *   5, and queries were counted by 1 and 2.
 *
 * - BIND 9.20: isc_tid(), the index of the loop the thread runs
 *   (loop.c): 0..n-1 for named's n loops, the main thread running loop
 *   0; every query and every fetch callback runs on a loop.  Other
 *   threads (the offload work threads, the plugin's publisher) have
 *   ISC_TID_UNKNOWN (UINT32_MAX).
 *
 * Neither version bounds n (named -n): an index beyond the shards, or
 * none, counts in the shared shard, correctly and more slowly.  The
 * variable lives in libisc, which named and named-checkconf load at
 * start, in the static TLS block: so the initial-exec model reads it
 * with one load from the thread pointer instead of a call to
 * __tls_get_addr on every query.
 */
#ifndef AH_BINDCOMPAT_H
#define AH_BINDCOMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include <isc/result.h>
#include <isc/time.h>

#include <dns/name.h>
#include <dns/view.h>
#include <dns/zone.h>
#include <dns/zt.h>

#include <ns/client.h>
#include <ns/hooks.h>
#include <ns/query.h>

#if NS_PLUGIN_VERSION >= 2 /* BIND 9.20 */

#include <isc/tid.h>
#include <isc/urcu.h>

extern thread_local uint32_t isc__tid_local
	__attribute__((tls_model("initial-exec")));

static inline size_t
ah_tid(void) {
	return (isc_tid());
}

/* "example" is "example.": the origin is no longer implied. */
static inline isc_result_t
ah_name_fromstring(dns_name_t *name, const char *text) {
	return (dns_name_fromstring(name, text, dns_rootname, 0, NULL));
}

/* Case-insensitive, as 9.18's with 'false'. */
static inline unsigned int
ah_name_hash(const dns_name_t *name) {
	return (dns_name_hash(name));
}

static inline isc_result_t
ah_zt_apply(dns_zt_t *zt, isc_result_t (*action)(dns_zone_t *, void *),
	    void *arg) {
	return (dns_zt_apply(zt, false, NULL, action, arg));
}

/* The zone named 'name' exactly; never an enclosing one. */
static inline isc_result_t
ah_zt_find(dns_zt_t *zt, const dns_name_t *name, dns_zone_t **zonep) {
	return (dns_zt_find(zt, name, DNS_ZTFIND_EXACT, zonep));
}

/* A reference to the view's zone table in *ztp, if it has one. */
static inline void
ah_zonetable_attach(dns_view_t *view, dns_zt_t **ztp) {
	dns_zt_t *zt = NULL;

	rcu_read_lock();
	zt = rcu_dereference(view->zonetable);
	if (zt != NULL) {
		dns_zt_attach(zt, ztp);
	}
	rcu_read_unlock();
}

static inline ns_server_t *
ah_client_sctx(const ns_client_t *client) {
	return (client->manager != NULL ? client->manager->sctx : NULL);
}

/* True, with its result, if 'qctx' was made from a fetch's response. */
static inline bool
ah_fetch_result(const query_ctx_t *qctx, isc_result_t *resultp) {
	if (qctx->fresp == NULL) {
		return (false);
	}
	*resultp = qctx->fresp->result;
	return (true);
}

static inline void
ah_time_now(isc_time_t *t) {
	*t = isc_time_now();
}

/* On the publisher thread, first and last (see above). */
static inline void
ah_thread_enter(void) {
	rcu_register_thread();
}

static inline void
ah_thread_leave(void) {
	rcu_unregister_thread();
}

#else /* BIND 9.18 */

#include <isc/thread.h>

extern thread_local size_t isc_tid_v __attribute__((tls_model("initial-exec")));

static inline size_t
ah_tid(void) {
	return (isc_tid_v);
}

static inline isc_result_t
ah_name_fromstring(dns_name_t *name, const char *text) {
	return (dns_name_fromstring(name, text, 0, NULL));
}

static inline unsigned int
ah_name_hash(const dns_name_t *name) {
	return (dns_name_hash(name, false));
}

static inline isc_result_t
ah_zt_apply(dns_zt_t *zt, isc_result_t (*action)(dns_zone_t *, void *),
	    void *arg) {
	return (dns_zt_apply(zt, isc_rwlocktype_read, false, NULL, action,
			     arg));
}

/* 9.18 has no exact-match option: an enclosing zone is dropped here. */
static inline isc_result_t
ah_zt_find(dns_zt_t *zt, const dns_name_t *name, dns_zone_t **zonep) {
	isc_result_t result = dns_zt_find(zt, name, 0, NULL, zonep);

	if (result == DNS_R_PARTIALMATCH) {
		dns_zone_detach(zonep);
		result = ISC_R_NOTFOUND;
	}
	return (result);
}

/*
 * No lock: while the query holds the view, the view holds its zone
 * table, and 9.18 never replaces that pointer in a live view.
 */
static inline void
ah_zonetable_attach(dns_view_t *view, dns_zt_t **ztp) {
	if (view->zonetable != NULL) {
		dns_zt_attach(view->zonetable, ztp);
	}
}

static inline ns_server_t *
ah_client_sctx(const ns_client_t *client) {
	return (client->sctx);
}

static inline bool
ah_fetch_result(const query_ctx_t *qctx, isc_result_t *resultp) {
	if (qctx->event == NULL) {
		return (false);
	}
	*resultp = qctx->event->result;
	return (true);
}

static inline void
ah_time_now(isc_time_t *t) {
	(void)isc_time_now(t);
}

/* A zone table under an rwlock asks nothing of the reading thread. */
static inline void
ah_thread_enter(void) {}

static inline void
ah_thread_leave(void) {}

#endif /* NS_PLUGIN_VERSION */

#endif /* AH_BINDCOMPAT_H */
