/*
 * anycast-health.c - BIND 9 query plugin: the sensor of anycast-health.
 *
 * Counts the outcome of every query a view answers, where its answer
 * came from, how recursion went and, for the relay's fleet rules, in
 * which group of names failures and recursions happen; counts the
 * relay's liveness probes apart; and leaves the publishing to
 * publisher.c.  The query path does relaxed atomic adds, atomic
 * exchanges and vDSO clock reads: no lock, no allocation, no system
 * call.  Zone state is read on the publisher thread, from a zone table
 * that one query thread per zone-interval hands over (zones.c); the
 * relay's probes keep that going when no client asks.  The parameter
 * block and the view are checked in params.c.
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
	char err[256];
	isc_result_t result = ISC_R_SUCCESS;

	UNUSED(actx);

	CHECK(ah_params_view(cfg, parameters, cfg_file, cfg_line, lctx, &view));
	isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
		      ISC_LOG_INFO,
		      "registering 'anycast-health' module for view '%s' "
		      "from %s:%lu",
		      view, cfg_file, cfg_line);

	/* Large (the watched zone names): not for the stack. */
	p = isc_mem_get(mctx, sizeof(*p));
	CHECK(ah_params_parse(parameters, cfg_file, cfg_line, mctx, lctx, p));
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

	if (ah_pub_attach(&p->pub, view, &inst->view, err, sizeof(err)) != 0) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_ERROR, "anycast-health: %s (%s:%lu)", err,
			      cfg_file, cfg_line);
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

	result = ah_params_parse(parameters, cfg_file, cfg_line, mctx, lctx, p);
	if (ah_params_view(cfg, parameters, cfg_file, cfg_line, lctx, &view) !=
	    ISC_R_SUCCESS)
	{
		result = ISC_R_FAILURE;
	}
	isc_mem_put(mctx, p, sizeof(*p));
	return (result);
}

void
plugin_destroy(void **instp) {
	ah_instance_t *inst = (ah_instance_t *)*instp;

	/* No zone table reference outlives the instance. */
	if (inst->zones != NULL) {
		ah_zones_destroy(&inst->zones);
	}
	if (inst->groups != NULL) {
		ah_groups_destroy(&inst->groups);
	}
	if (inst->view != NULL) {
		ah_pub_detach(inst->view);
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
 **/

static int64_t
mono_ms_coarse(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static enum ah_rcode
rcode_of(dns_rcode_t rcode) {
	switch (rcode) {
	case dns_rcode_noerror:
		return (AH_RC_NOERROR);
	case dns_rcode_nxdomain:
		return (AH_RC_NXDOMAIN);
	case dns_rcode_servfail:
		return (AH_RC_SERVFAIL);
	case dns_rcode_refused:
		return (AH_RC_REFUSED);
	default:
		return (AH_RC_OTHER);
	}
}

/*
 * The zone walk itself is the publisher's: this thread only takes a
 * reference to the view's zone table, an atomic increment (how it
 * reads the pointer depends on the BIND version: bindcompat.h).
 */

/*
 * Once per zone-interval, the query that notices first has the zones
 * walked and samples named's recursive-clients gauge.  The
 * compare-and-swap makes it one query per interval whatever the number
 * of worker threads.
 */
static void
maybe_walk(ah_instance_t *inst, query_ctx_t *qctx) {
	struct ah_view *v = inst->view;
	ns_server_t *sctx = NULL;
	int64_t now = mono_ms_coarse();
	int_fast64_t due = atomic_load_explicit(&v->next_walk,
						memory_order_relaxed);

	if (now < due ||
	    !atomic_compare_exchange_strong(&v->next_walk, &due,
					    now + ah_pub_zone_interval()))
	{
		return;
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
}

/* Only reached for the probe's private type, so the name test is rare. */
static bool
is_probe(ah_instance_t *inst, query_ctx_t *qctx) {
	const dns_name_t *qname = qctx->client->query.origqname;

	return (qname != NULL &&
		dns_name_equal(qname, dns_fixedname_name(&inst->probe)));
}

/*
 * The context of a fetch that named cancelled, on this thread, from its
 * completion (on_qctx_initialized) to the end of the same context
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
static void
servfail(ah_instance_t *inst, query_ctx_t *qctx) {
	if (qctx == cancelled_qctx) {
		cancelled_qctx = NULL;
		return;
	}
	if (qctx->result == ISC_R_QUOTA) {
		return;
	}
	ah_groups_count(inst->groups, inst->view, qctx->client->query.qname,
			1U << AH_DOM_FAIL, true);
}

static ns_hookresult_t
on_qctx_destroyed(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;
	struct ah_view *v = inst->view;
	ns_client_t *client = qctx->client;
	enum ah_source src;
	enum ah_rcode rc;

	*resp = ISC_R_UNSET;

	/*
	 * A context is also destroyed when a pass over the query ends in
	 * recursion: then a fetch really exists (ns_query_recurse
	 * succeeded; duplicates, clients-per-query drops and quota
	 * refusals do not get here), and its outcome is counted once, in
	 * on_qctx_initialized.
	 */
	if (!qctx->detach_client) {
		if ((client->query.attributes & NS_QUERYATTR_RECURSING) != 0) {
			ah_add(&v->recursion[AH_REC_STARTED]);
			ah_groups_count(inst->groups, v, client->query.qname,
					1U << AH_DOM_RSTART, false);
		}
		return (NS_HOOK_CONTINUE);
	}
	if (client->query.qtype == AH_PROBE_QTYPE && is_probe(inst, qctx)) {
		/* Proof that the query path runs, not an outcome. */
		ah_add(&v->probes);
		maybe_walk(inst, qctx);
		return (NS_HOOK_CONTINUE);
	}
	ah_add(&v->queries);
	if (qctx->result == ISC_R_QUOTA) {
		/* Load, not an upstream failure: named refused to recurse. */
		ah_add(&v->recursion[AH_REC_QUOTA]);
	}
	if (qctx->result == DNS_R_DROP || qctx->result == DNS_R_DUPLICATE ||
	    client->message == NULL)
	{
		/* Nothing was sent; the message's rcode is stale. */
		ah_add(&v->dropped);
	} else {
		src = qctx->resuming  ? AH_SRC_RECURSION
		      : qctx->is_zone ? AH_SRC_AUTH
				      : AH_SRC_CACHE;
		rc = rcode_of(client->message->rcode);
		ah_add(&v->answers[src][rc]);
		if (rc == AH_RC_SERVFAIL) {
			servfail(inst, qctx);
		}
	}
	maybe_walk(inst, qctx);
	return (NS_HOOK_CONTINUE);
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

/* A finished recursion's kind in its groups, besides 'rdone'. */
static const unsigned int outcome_kind[AH_REC_COUNT] = {
	[AH_REC_SUCCESS] = 1U << AH_DOM_ROK,
	[AH_REC_FAILURE] = 1U << AH_DOM_RBAD,
	[AH_REC_TIMEOUT] = 1U << AH_DOM_RBAD,
};

/*
 * A query context made from a fetch's completion event: the end of
 * exactly one started recursion, whatever happens next.  This runs
 * also for fetches named cancelled, which never reach
 * NS_QUERY_RESUME_BEGIN.  How did it go, and how long did the client
 * wait?  For every other context this is one pointer test.
 */
static ns_hookresult_t
on_qctx_initialized(void *arg, void *cbdata, isc_result_t *resp) {
	query_ctx_t *qctx = (query_ctx_t *)arg;
	ah_instance_t *inst = (ah_instance_t *)cbdata;
	struct ah_view *v = inst->view;
	enum ah_recursion outcome;
	isc_result_t result;
	isc_time_t now;
	uint64_t ms;
	size_t b;

	*resp = ISC_R_UNSET;
	if (!ah_fetch_result(qctx, &result)) {
		return (NS_HOOK_CONTINUE);
	}
	outcome = outcome_of(result);
	ah_add(&v->recursion[outcome]);
	ah_groups_count(inst->groups, v, qctx->client->query.qname,
			(1U << AH_DOM_RDONE) | outcome_kind[outcome],
			outcome_kind[outcome] == 1U << AH_DOM_RBAD);
	cancelled_qctx = outcome == AH_REC_CANCELED ? qctx : NULL;
	if (outcome == AH_REC_CANCELED) {
		return (NS_HOOK_CONTINUE);
	}
	/* Same clock as requesttime, so the difference is honest. */
	ah_time_now(&now);
	ms = isc_time_microdiff(&now, &qctx->client->requesttime) / 1000;
	for (b = 0; b < AH_LAT_BUCKETS - 1 && ms > ah_lat_bounds[b]; b++) {
	}
	ah_add(&v->latency[b]);
	return (NS_HOOK_CONTINUE);
}
