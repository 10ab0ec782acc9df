/* SPDX-License-Identifier: MPL-2.0 */
/*
 * anycast-health.c - BIND 9 query plugin: the sensor of anycast-health.
 *
 * Counts the outcome of every query a view answers, where its answer
 * came from, how recursion went and, for the relay's fleet rules, in
 * which group of names failures and recursions happen; counts the
 * relay's liveness probes apart; and leaves the publishing to
 * publisher.c.  A query adds to counters that only its own thread
 * writes (counters.h) and tests a flag: no lock, no allocation, no
 * system call, and on the common paths no clock and no write to memory
 * that another of named's threads writes.  Zone state is read on the
 * publisher thread, from a zone table that one query thread per
 * zone-interval hands over (zones.c); the relay's probes keep that
 * going when no client asks.  The parameter block and the view are
 * checked in params.c.
 *
 * This file holds the hooks and the plugin API, in the order of BIND's
 * bin/plugins/filter-aaaa.c.
 */

#include <config.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <isc/log.h>
#include <isc/mem.h>
#include <isc/result.h>
#include <isc/time.h>
#include <isc/types.h>
#include <isc/util.h>

#include <dns/fixedname.h>
#include <dns/message.h>
#include <dns/name.h>
#include <dns/result.h>
#include <dns/types.h>
#include <dns/view.h>

#include <ns/client.h>
#include <ns/hooks.h>
#include <ns/log.h>
#include <ns/query.h>
#include <ns/server.h>
#include <ns/stats.h>
#include <ns/types.h>

#include "ahproto.h"
#include "ahwire.h"
#include "bindcompat.h"
#include "counters.h"
#include "groups.h"
#include "params.h"
#include "publisher.h"
#include "view.h"
#include "zones.h"

/* CHECK() and its 'cleanup:' label come from isc/util.h. */

/**
 ** Types.
 **/

typedef struct ah_instance {
	isc_mem_t *mctx;
	struct ah_view *view;
	struct ah_pub_asked asked; /* the publisher's, from attach to detach */
	ah_groups_t *groups;
	ah_zones_t *zones;     /* NULL: no zones to watch */
	dns_fixedname_t probe; /* AH_PROBE_QNAME */
} ah_instance_t;

/*
 * Forward declarations of functions referenced in install_hooks().
 */
static ns_hookresult_t
on_qctx_initialized(void *arg, void *cbdata, isc_result_t *resp);
static ns_hookresult_t
on_qctx_destroyed(void *arg, void *cbdata, isc_result_t *resp);

/*%
 * Register the functions to be called at each hook point in 'hooktable',
 * which must be a query hook table.
 */
static void
install_hooks(ns_hooktable_t *hooktable, isc_mem_t *mctx, ah_instance_t *inst) {
	const ns_hook_t destroyed = {
		.action = on_qctx_destroyed,
		.action_data = inst,
	};
	const ns_hook_t initialized = {
		.action = on_qctx_initialized,
		.action_data = inst,
	};

	ns_hook_add(hooktable, mctx, NS_QUERY_QCTX_INITIALIZED, &initialized);
	ns_hook_add(hooktable, mctx, NS_QUERY_QCTX_DESTROYED, &destroyed);
}

/* Whether this runs inside named: named-checkconf has no version. */
static bool
in_named(void) {
	return (dlsym(RTLD_DEFAULT, "named_g_version") != NULL);
}

/* named's version, read at run time: named-checkconf does not have it. */
static void
named_version(char *buf, size_t len) {
	const char *const *v = dlsym(RTLD_DEFAULT, "named_g_version");

	snprintf(buf, len, "%s",
		 v != NULL && *v != NULL ? *v : AH_BIND_VERSION);
}

/**
 ** Mandatory plugin API functions.
 **/

isc_result_t
plugin_register(const char *parameters, const void *cfg, const char *cfg_file,
		unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
		void *actx, ns_hooktable_t *hooktable, void **instp) {
	ah_instance_t *inst = NULL;
	ah_params_t *p = NULL;
	const char *view = NULL;
	char err[PATH_MAX + 256];
	int rc;
	isc_result_t result = ISC_R_SUCCESS;

	UNUSED(actx);

	result = ah_params_view(cfg, parameters, cfg_file, cfg_line, lctx,
				&view);
	if (result == ISC_R_EXISTS) {
		/*
		 * A second statement in the view.  named-checkconf refuses
		 * it, but named does not run plugin_check, and a reconfig
		 * that fails in a plugin's registration can crash named
		 * 9.18 (REQUIRE res->frozen): registered without an
		 * instance, it counts nothing.
		 */
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR,
			      "anycast-health: the statement at %s:%lu is "
			      "ignored",
			      cfg_file != NULL ? cfg_file : "named.conf",
			      cfg_line);
		*instp = NULL;
		return (ISC_R_SUCCESS);
	}
	CHECK(result);
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "registering 'anycast-health' module for view '%s' "
		      "from %s:%lu",
		      view, cfg_file, cfg_line);

	/* Large (the watched zone names): not for the stack. */
	p = isc_mem_get(mctx, sizeof(*p));
	CHECK(ah_params_parse(parameters, cfg_file, cfg_line, false, mctx, lctx,
			      p));
	named_version(p->pub.named_version, sizeof(p->pub.named_version));
	snprintf(p->pub.conf_file, sizeof(p->pub.conf_file), "%s", cfg_file);
	p->pub.enter = ah_thread_enter;
	p->pub.leave = ah_thread_leave;

	inst = isc_mem_get(mctx, sizeof(*inst));
	memset(inst, 0, sizeof(*inst));
	isc_mem_attach(mctx, &inst->mctx);
	dns_fixedname_init(&inst->probe);
	RUNTIME_CHECK(ah_name_fromstring(dns_fixedname_name(&inst->probe),
					 AH_PROBE_QNAME) == ISC_R_SUCCESS);

	rc = ah_pub_attach(&p->pub, view, &inst->asked, &inst->view, err,
			   sizeof(err));
	if (rc != 0) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      rc < 0 ? ISC_LOG_ERROR : ISC_LOG_WARNING,
			      "anycast-health: %s (%s:%lu)", err, cfg_file,
			      cfg_line);
	}
	if (rc < 0) {
		result = ISC_R_FAILURE;
		goto cleanup;
	}
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "anycast-health %s: view '%s' publishing on %s every "
		      "%u ms, watching %s",
		      PACKAGE_VERSION, view, p->pub.path, p->pub.interval_ms,
		      p->all_zones	? "all zones"
		      : p->nwatched > 0 ? "the listed zones"
					: "no zones");
	inst->zones = ah_zones_create(mctx, p, inst->view);
	inst->groups = ah_groups_create(mctx, lctx);

	/* Last, so a failure above leaves no hook pointing at freed memory. */
	install_hooks(hooktable, mctx, inst);
	*instp = inst;

cleanup:
	if (p != NULL) {
		isc_mem_put(mctx, p, sizeof(*p));
	}
	if (result != ISC_R_SUCCESS && inst != NULL) {
		plugin_destroy((void **)&inst);
	}
	return (result);
}

isc_result_t
plugin_check(const char *parameters, const void *cfg, const char *cfg_file,
	     unsigned long cfg_line, isc_mem_t *mctx, isc_log_t *lctx,
	     void *actx) {
	ah_params_t *p = isc_mem_get(mctx, sizeof(*p));
	const char *view = NULL;
	isc_result_t result;

	UNUSED(actx);

	/*
	 * named 9.20 runs this check inside each registration (9.18 does
	 * not), where what named-checkconf refuses, named takes with a
	 * warning (plugin_register): a reload refused in a plugin's
	 * registration can crash named 9.18, and a check cannot be stricter
	 * in one named than in the other.
	 */
	bool strict = !in_named();

	result = ah_params_parse(parameters, cfg_file, cfg_line, strict, mctx,
				 lctx, p);
	switch (ah_params_view(cfg, parameters, cfg_file, cfg_line, lctx,
			       &view)) {
	case ISC_R_SUCCESS:
		break;
	case ISC_R_EXISTS: /* a second statement in the view */
		result = strict ? ISC_R_FAILURE : result;
		break;
	default:
		result = ISC_R_FAILURE;
	}
	if (result == ISC_R_SUCCESS && strict &&
	    ah_params_one_publisher(cfg, parameters, cfg_file, cfg_line, mctx,
				    lctx, p) != ISC_R_SUCCESS)
	{
		result = ISC_R_FAILURE;
	}
	isc_mem_put(mctx, p, sizeof(*p));
	return (result);
}

void
plugin_destroy(void **instp) {
	ah_instance_t *inst = (ah_instance_t *)*instp;

	if (inst == NULL) { /* an ignored statement's (plugin_register) */
		return;
	}

	/* No zone table reference outlives the instance. */
	if (inst->zones != NULL) {
		ah_zones_destroy(&inst->zones);
	}
	if (inst->groups != NULL) {
		ah_groups_destroy(&inst->groups);
	}
	if (inst->view != NULL) {
		ah_pub_detach(inst->view, &inst->asked);
	}
	isc_mem_putanddetach(&inst->mctx, inst, sizeof(*inst));
	*instp = NULL;
}

int
plugin_version(void) {
	return (NS_PLUGIN_VERSION);
}

/**
 ** The query path.
 **
 ** Both hooks run for every query.  Their common paths, an answer from a
 ** zone or from the cache, are leaf code: loads, compares, one add to
 ** the thread's own shard and a flag test.  What is rarer (a recursion,
 ** a SERVFAIL, a probe, a zone walk) has a function of its own, which a
 ** hook calls as the last thing it does, so that the common paths need
 ** no stack frame.
 **/

/*
 * Off the common path: out of line, and the branches to it unlikely.
 * 'noipa' also keeps GCC from dropping their constant result
 * (IPA-SRA), which would turn the hooks' tail calls into calls that
 * need a stack frame on every path.  The common path's pieces are
 * inlined wherever used, so that what a caller knows (a thread's own
 * shard) simplifies them.
 */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define AH_RARE __attribute__((cold, noipa))
#endif
#endif
#ifndef AH_RARE
#define AH_RARE __attribute__((cold, noinline))
#endif
#define AH_COMMON inline __attribute__((always_inline))

/* The range of the results count_query() looks at again. */
#define MIN2(a, b) ((a) < (b) ? (a) : (b))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define RESULTS_LOW \
	((unsigned int)MIN2(ISC_R_QUOTA, MIN2(DNS_R_DROP, DNS_R_DUPLICATE)))
#define RESULTS_HIGH \
	((unsigned int)MAX2(ISC_R_QUOTA, MAX2(DNS_R_DROP, DNS_R_DUPLICATE)))

/*
 * Which of a view's 'answers' counters an answer adds to, by
 * qctx->resuming, qctx->is_zone and the response code, as an index
 * into the flattened answers[source][rcode]: one load on the common
 * path.  Response codes beyond the table are "other", like FORMERR.
 */
#define ANSWER(src, rc) (uint8_t)((src)*AH_RC_COUNT + (rc))
#define RCODES(src)                                                 \
	{                                                           \
		[dns_rcode_noerror] = ANSWER(src, AH_RC_NOERROR),   \
		[dns_rcode_formerr] = ANSWER(src, AH_RC_OTHER),     \
		[dns_rcode_servfail] = ANSWER(src, AH_RC_SERVFAIL), \
		[dns_rcode_nxdomain] = ANSWER(src, AH_RC_NXDOMAIN), \
		[dns_rcode_notimp] = ANSWER(src, AH_RC_OTHER),      \
		[dns_rcode_refused] = ANSWER(src, AH_RC_REFUSED),   \
		[dns_rcode_yxdomain] = ANSWER(src, AH_RC_OTHER),    \
		[dns_rcode_yxrrset] = ANSWER(src, AH_RC_OTHER),     \
	}
#define ANSWER_RCODES 8 /* rows of a power of two: a shift */

static const uint8_t answer_of[2][2][ANSWER_RCODES] = {
	{ RCODES(AH_SRC_CACHE), RCODES(AH_SRC_AUTH) },
	{ RCODES(AH_SRC_RECURSION), RCODES(AH_SRC_RECURSION) },
};

/*
 * Once per zone-interval the publisher marks the view's walk due, and
 * the first query to take the mark has the zones walked (it hands over
 * a reference to the zone table, an atomic increment) and samples
 * named's recursive-clients gauge.  The exchange makes it one query
 * per interval whatever the number of worker threads; every other
 * query only reads the flag, which the publisher writes once per
 * interval.
 */
AH_RARE static ns_hookresult_t
walk(query_ctx_t *qctx, ah_instance_t *inst) {
	struct ah_view *v = inst->view;
	ns_server_t *sctx = NULL;

	if (!atomic_exchange_explicit(&v->walk_due, false,
				      memory_order_relaxed)) {
		return (NS_HOOK_CONTINUE);
	}
	if (qctx->client != NULL &&
	    (sctx = ah_client_sctx(qctx->client)) != NULL) {
		atomic_store_explicit(
			&v->recursive_clients,
			(uint64_t)ns_stats_get_counter(
				sctx->nsstats, ns_statscounter_recursclients),
			memory_order_relaxed);
	}
	if (inst->zones != NULL && qctx->view != NULL) {
		ah_zones_hand_over(inst->zones, qctx->view);
	}
	return (NS_HOOK_CONTINUE);
}

static AH_COMMON ns_hookresult_t
maybe_walk(query_ctx_t *qctx, ah_instance_t *inst, struct ah_view *v) {
	if (atomic_load_explicit(&v->walk_due, memory_order_relaxed)) {
		return (walk(qctx, inst));
	}
	return (NS_HOOK_CONTINUE);
}

/*
 * The context of a fetch that named cancelled, on this thread, from its
 * completion (recursion_ended) to the end of the same context
 * (on_qctx_destroyed), where named answers its client SERVFAIL:
 * recursive-clients' soft quota dropping the oldest query, a reload.
 * That answer is load, not a failure of the name, and stays out of its
 * groups.  Both hooks run on the fetch's thread, one after the other,
 * for one context on the stack of fetch_callback(); only fetch
 * completions and SERVFAIL answers read or write it.
 */
static _Thread_local const query_ctx_t *cancelled_qctx = NULL;

/*
 * A SERVFAIL answer, in the groups of the name that failed: the one
 * being resolved when it did, a CNAME's target rather than the alias
 * asked for, as its recursions are counted.  Named's load (the quota
 * refused to recurse, or cancelled the recursion) is no failure of
 * the name.
 */
AH_RARE static ns_hookresult_t
servfail(query_ctx_t *qctx, ah_instance_t *inst) {
	if (qctx == cancelled_qctx) {
		cancelled_qctx = NULL;
	} else if (qctx->result != ISC_R_QUOTA) {
		ah_groups_count(inst->groups, ah_tally(inst->view, ah_tid()),
				qctx->client->query.qname, 1U << AH_DOM_FAIL,
				true);
	}
	return (maybe_walk(qctx, inst, inst->view));
}

/*
 * An answer with a response code beyond answer_of[]'s: the "other"
 * counter in the row of its source.
 */
AH_RARE static ns_hookresult_t
answer_other(query_ctx_t *qctx, ah_instance_t *inst) {
	struct ah_tally t = ah_tally(inst->view, ah_tid());
	unsigned int row =
		answer_of[qctx->resuming][qctx->is_zone][dns_rcode_noerror] -
		AH_RC_NOERROR;

	ah_add(t, &t.c->answers[0][0] + row + AH_RC_OTHER);
	return (maybe_walk(qctx, inst, t.v));
}

/*
 * The end of a query that is not a probe, counted in 't': it adds to
 * exactly one of 'dropped' and 'answers' (view.h).
 */
static AH_COMMON ns_hookresult_t
count_query(query_ctx_t *qctx, ah_instance_t *inst, struct ah_tally t) {
	ns_client_t *client = qctx->client;
	unsigned int rcode;

	/*
	 * Three results need a second look.  They lie in one range of
	 * isc_result_t, and most others (success, a name or type that
	 * does not exist) outside it: one test for those.
	 */
	if (qctx->result - RESULTS_LOW <= RESULTS_HIGH - RESULTS_LOW) {
		if (qctx->result == ISC_R_QUOTA) {
			/* Load, not an upstream failure: no recursion. */
			ah_add(t, &t.c->recursion[AH_REC_QUOTA]);
		}
		if (qctx->result == DNS_R_DROP ||
		    qctx->result == DNS_R_DUPLICATE) {
			/* Nothing was sent; the message's rcode is stale. */
			ah_add(t, &t.c->dropped);
			return (maybe_walk(qctx, inst, t.v));
		}
	}
	if (client->message == NULL) {
		ah_add(t, &t.c->dropped);
		return (maybe_walk(qctx, inst, t.v));
	}
	rcode = client->message->rcode;
	if (rcode >= ANSWER_RCODES) {
		return (answer_other(qctx, inst));
	}
	ah_add(t, &t.c->answers[0][0] +
			  answer_of[qctx->resuming][qctx->is_zone][rcode]);
	if (rcode == dns_rcode_servfail) {
		return (servfail(qctx, inst));
	}
	return (maybe_walk(qctx, inst, t.v));
}

/*
 * A thread's first query of the view, or a thread without a shard of
 * its own (counters.h): rare.
 */
AH_RARE static ns_hookresult_t
count_first(query_ctx_t *qctx, ah_instance_t *inst) {
	return (count_query(qctx, inst, ah_tally(inst->view, ah_tid())));
}

/*
 * The common path: a thread in its shard, where every add compiles to a
 * plain one (ah_add() knows 't.own').
 */
static AH_COMMON ns_hookresult_t
count(query_ctx_t *qctx, ah_instance_t *inst) {
	struct ah_tally t;

	if (ah_tally_own(inst->view, ah_tid(), &t)) {
		return (count_query(qctx, inst, t));
	}
	return (count_first(qctx, inst));
}

/*
 * Only reached for the probe's private type: proof that the query path
 * runs, not an outcome.  Another query of that type is counted as any.
 */
AH_RARE static ns_hookresult_t
probe(query_ctx_t *qctx, ah_instance_t *inst) {
	const dns_name_t *qname = qctx->client->query.origqname;
	struct ah_tally t;

	if (qname == NULL ||
	    !dns_name_equal(qname, dns_fixedname_name(&inst->probe))) {
		return (count(qctx, inst));
	}
	t = ah_tally(inst->view, ah_tid());
	ah_add(t, &t.c->probes);
	return (maybe_walk(qctx, inst, inst->view));
}

/*
 * A pass over the query ended in recursion: then a fetch really exists
 * (ns_query_recurse succeeded; duplicates, clients-per-query drops and
 * quota refusals do not get here), and its outcome is counted once, in
 * on_qctx_initialized.
 */
AH_RARE static ns_hookresult_t
recursion_started(query_ctx_t *qctx, ah_instance_t *inst) {
	ns_client_t *client = qctx->client;
	struct ah_tally t;

	if ((client->query.attributes & NS_QUERYATTR_RECURSING) != 0) {
		t = ah_tally(inst->view, ah_tid());
		ah_add(t, &t.c->recursion[AH_REC_STARTED]);
		ah_groups_count(inst->groups, t, client->query.qname,
				1U << AH_DOM_RSTART, false);
	}
	return (NS_HOOK_CONTINUE);
}

/*
 * Once for every query that reaches query processing (detach_client),
 * and also at the end of each pass that ends in recursion.
 */
static ns_hookresult_t
on_qctx_destroyed(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;

	/* Read only after NS_HOOK_RETURN (ns/hooks.h), never returned here. */
	UNUSED(resp);

	if (!qctx->detach_client) {
		return (recursion_started(qctx, inst));
	}
	if (qctx->client->query.qtype == AH_PROBE_QTYPE) {
		return (probe(qctx, inst));
	}
	return (count(qctx, inst));
}

static enum ah_recursion
outcome_of(isc_result_t r) {
	switch (r) {
	case ISC_R_SUCCESS:
	case DNS_R_NCACHENXDOMAIN:
	case DNS_R_NCACHENXRRSET:
	case DNS_R_NXDOMAIN:
	case DNS_R_NXRRSET:
	case DNS_R_CNAME:
	case DNS_R_DNAME:
	case DNS_R_DELEGATION:
	case DNS_R_EMPTYNAME:
		return (AH_REC_SUCCESS);
	case ISC_R_TIMEDOUT:
		return (AH_REC_TIMEOUT);
	case ISC_R_CANCELED:
	case ISC_R_SHUTTINGDOWN:
		/* named gave up on it, not the upstream: no verdict. */
		return (AH_REC_CANCELED);
	default:
		return (AH_REC_FAILURE);
	}
}

/*
 * Validation failed: what a node whose clock or trust anchor is wrong
 * gives, and so does a zone whose signatures are.  The other failures
 * are what the servers gave (lame, refusing, failing, or none left to
 * ask), which no node could have done better with: the judge weighs
 * the causes apart (doc/fleet.md, section 4).
 */
static bool
validation_failed(isc_result_t r) {
	switch (r) {
	case DNS_R_BROKENCHAIN:
	case DNS_R_NOVALIDSIG:
	case DNS_R_NOVALIDKEY:
	case DNS_R_NOVALIDDS:
	case DNS_R_NOVALIDNSEC:
	case DNS_R_NOTINSECURE:
	case DNS_R_MUSTBESECURE:
	case DNS_R_SIGINVALID:
	case DNS_R_SIGEXPIRED:
	case DNS_R_SIGFUTURE:
	case DNS_R_KEYUNAUTHORIZED:
		return (true);
	default:
		return (false);
	}
}

/*
 * named's resolver-query-timeout is 10 s at least: a recursion that
 * timed out sooner for its client joined an older fetch.
 */
#define AH_JOINED_MS 5000

/* A finished recursion's kinds in its groups, besides 'rdone'. */
static const unsigned int outcome_kind[AH_REC_COUNT] = {
	[AH_REC_SUCCESS] = 1U << AH_DOM_ROK,
	[AH_REC_FAILURE] = 1U << AH_DOM_RBAD,
	[AH_REC_TIMEOUT] = (1U << AH_DOM_RBAD) | (1U << AH_DOM_RTMO),
};

/*
 * The end of exactly one started recursion, whatever happens next,
 * also of fetches named cancelled, which never reach
 * NS_QUERY_RESUME_BEGIN: how did it go, and how long did the client
 * wait?
 */
AH_RARE static ns_hookresult_t
recursion_ended(query_ctx_t *qctx, ah_instance_t *inst, isc_result_t result) {
	enum ah_recursion outcome = outcome_of(result);
	struct ah_tally t = ah_tally(inst->view, ah_tid());
	unsigned int kinds = (1U << AH_DOM_RDONE) | outcome_kind[outcome];
	isc_time_t now;
	uint64_t ms = 0;
	size_t b;

	/*
	 * Same clock as requesttime, so the difference is honest; not for
	 * a cancel, which comes in bursts when named sheds load.
	 */
	if (outcome != AH_REC_CANCELED) {
		ah_time_now(&now);
		ms = isc_time_microdiff(&now, &qctx->client->requesttime) /
		     1000;
	}
	if (outcome == AH_REC_FAILURE && validation_failed(result)) {
		kinds |= 1U << AH_DOM_RVAL;
	}
	/*
	 * A client that joined a fetch named had begun long before, and
	 * gave up on with it, did not wait for a timeout of its own:
	 * named gave up on those servers (with what the servers gave).
	 */
	if (outcome == AH_REC_TIMEOUT && ms < AH_JOINED_MS) {
		kinds &= ~(1U << AH_DOM_RTMO);
	}
	ah_add(t, &t.c->recursion[outcome]);
	ah_groups_count(inst->groups, t, qctx->client->query.qname, kinds,
			(kinds & (1U << AH_DOM_RBAD)) != 0);
	cancelled_qctx = outcome == AH_REC_CANCELED ? qctx : NULL;
	if (outcome == AH_REC_CANCELED) {
		return (NS_HOOK_CONTINUE);
	}
	for (b = 0; b < AH_LAT_BUCKETS - 1 && ms > ah_lat_bounds[b]; b++) {
	}
	ah_add(t, &t.c->latency[b]);
	return (NS_HOOK_CONTINUE);
}

/*
 * A query context made from a fetch's completion event ends a
 * recursion; for every other context this is one pointer test.
 */
static ns_hookresult_t
on_qctx_initialized(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	isc_result_t result;

	UNUSED(resp);

	if (!ah_fetch_result(qctx, &result)) {
		return (NS_HOOK_CONTINUE);
	}
	return (recursion_ended(qctx, (ah_instance_t *)cbdata, result));
}
