/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_drain.c - a drain from its start to drained (relay/drain.c),
 * on a made-up query history and clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drain.h"
#include "parse.h"
#include "policy.h"

static struct service_conf	s;
static struct window		w;
static struct drain		d;

/*
 * Samples every 100 ms from 'from' to 'to' (ms), the query counter at
 * 'queries' first and 'qps' a second after; returns its last value.
 */
static uint64_t
traffic(int64_t from, int64_t to, uint64_t queries, uint64_t qps)
{
	struct sample	smp;
	int64_t		t;

	for (t = from; t <= to; t += 100) {
		memset(&smp, 0, sizeof(smp));
		smp.t = t;
		smp.c[SMP_QUERIES] = queries;
		window_push(&w, &smp);
		queries += qps / 10;
	}
	return (queries - qps / 10);
}

static int
setup(void **state)
{
	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "dns");
	s.window_ms = 10000;
	s.drain = (struct drain_conf){ .timeout_ms = 60000, .share = 0.01,
	    .qps = 5, .hold_ms = 2000 };
	window_reset(&w);
	memset(&d, 0, sizeof(d));
	return (0);
}

static void
test_start_draining(void **state)
{
	(void)state;
	(void)traffic(0, 10000, 0, 1000);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, -1,
	    "uid 0 (root)", 10000), 1);
	assert_int_equal(d.state, DRAIN_DRAINING);
	assert_int_equal(d.timeout_ms, 60000);
	assert_int_equal(d.deadline, 70000);
	assert_true(d.before > 999 && d.before < 1001);
	/* 1 % of 1,000 qps is above the 5 qps floor. */
	assert_true(d.limit > 9.99 && d.limit < 10.01);
	assert_string_equal(d.by, "uid 0 (root)");
	assert_non_null(strstr(d.why, "drain requested by uid 0 (root): "
	    "1000.0 qps before; withdrawn at or below 10.0 qps for 2.0s, or "
	    "in 60s"));
	assert_int_equal(drain_deadline(&d), 70000);
	/* A second drain changes nothing. */
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, 5000, "x",
	    20000), 0);
	assert_int_equal(d.deadline, 70000);
}

static void
test_floor_and_unknown_rate(void **state)
{
	(void)state;
	/* No history: the rate before is unknown, the floor is the limit. */
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_DEGRADED, 30000, "me",
	    0), 1);
	assert_true(d.before < 0);
	assert_true(d.limit > 4.99 && d.limit < 5.01);
	assert_int_equal(d.timeout_ms, 30000);
	assert_non_null(strstr(d.why, "unknown before"));
}

static void
test_nothing_to_move(void **state)
{
	(void)state;
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_WITHDRAWN, -1, "me",
	    0), 1);
	assert_int_equal(d.state, DRAIN_DRAINED);
	assert_int_equal(d.end, DRAIN_NOT_ANNOUNCED);
	assert_int_equal(drain_deadline(&d), INT64_MAX);

	assert_int_equal(drain_undo(&d), 1);
	assert_int_equal(d.state, DRAIN_NONE);
	assert_int_equal(drain_undo(&d), 0);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, 0, "me",
	    0), 1);
	assert_int_equal(d.end, DRAIN_TIMEOUT);
	assert_non_null(strstr(d.why, "with timeout 0: withdrawn at once"));

	memset(&d, 0, sizeof(d));
	snprintf(s.watchdog, sizeof(s.watchdog), "dns");
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, -1, "me",
	    0), 1);
	assert_int_equal(d.end, DRAIN_WATCHDOG);
}

static void
test_quiet_after_hold(void **state)
{
	uint64_t q;

	(void)state;
	q = traffic(0, 10000, 0, 1000);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, -1, "me",
	    10000), 1);
	/* Traffic moves away at once, but the hold is not over yet. */
	q = traffic(10100, 11900, q, 0);
	assert_int_equal(drain_quiet(&d, &s, &w, 11900), 0);
	assert_int_equal(d.state, DRAIN_DRAINING);
	assert_true(d.rate >= 0 && d.rate < 1);
	(void)traffic(12000, 12000, q, 0);
	assert_int_equal(drain_quiet(&d, &s, &w, 12000), 1);
	assert_int_equal(d.state, DRAIN_DRAINED);
	assert_int_equal(d.end, DRAIN_QUIET);
	assert_non_null(strstr(d.why, "drained: 0.0 qps over the last 2.0s"));
	/* Drained is final: no second end. */
	assert_int_equal(drain_quiet(&d, &s, &w, 13000), 0);
	assert_int_equal(drain_expired(&d, 100000), 0);
	assert_int_equal(drain_lost(&d, "gone"), 0);
}

static void
test_busy_until_timeout(void **state)
{
	uint64_t q;

	(void)state;
	q = traffic(0, 10000, 0, 1000);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, 5000, "me",
	    10000), 1);
	/* Still 500 qps: above the 10 qps limit, never quiet. */
	(void)traffic(10100, 14900, q, 500);
	assert_int_equal(drain_quiet(&d, &s, &w, 14900), 0);
	assert_int_equal(drain_expired(&d, 14999), 0);
	assert_int_equal(drain_expired(&d, 15000), 1);
	assert_int_equal(d.end, DRAIN_TIMEOUT);
	assert_non_null(strstr(d.why, "drain timeout 5s: the query rate is "
	    "still 500.0 qps, above 10.0 qps: withdrawn anyway"));
}

/*
 * Another service of the view still brings it traffic: the view's rate
 * cannot show this one's leaving, so only the timeout ends the drain,
 * and says why; once the others drain too, the rate does.
 */
static void
test_shared_view(void **state)
{
	uint64_t q;

	(void)state;
	q = traffic(0, 10000, 0, 1000);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, 5000, "me",
	    10000), 1);
	drain_shared(&d, "v", "dns2, dns3", 1);
	assert_non_null(strstr(d.why, "; view v is shared with dns2, dns3, "
	    "still announced: its query rate cannot show this service's "
	    "traffic leaving; withdrawn at the timeout (5s)"));
	/* Quiet, yet shared: not drained by the rate. */
	q = traffic(10100, 12900, q, 0);
	assert_int_equal(drain_quiet(&d, &s, &w, 12900), 0);
	assert_int_equal(drain_expired(&d, 15000), 1);
	assert_non_null(strstr(d.why, "drain timeout 5s: view v is shared "
	    "with dns2, dns3, whose traffic its query rate (0.0 qps) "
	    "includes: withdrawn anyway"));

	/* The others drain too: the rate decides again. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, 60000, "me",
	    20000), 1);
	drain_shared(&d, "v", "dns2", 1);
	drain_shared(&d, "v", "", 0);
	(void)traffic(20100, 22100, q, 0);
	assert_int_equal(drain_quiet(&d, &s, &w, 22100), 1);
	assert_int_equal(d.end, DRAIN_QUIET);
}

static void
test_lost_and_restored(void **state)
{
	(void)state;
	assert_int_equal(drain_lost(&d, "no feed"), 0);
	assert_int_equal(drain_start(&d, &s, &w, ROUTE_ANNOUNCED, -1, "me",
	    0), 1);
	assert_int_equal(drain_lost(&d, "no feed"), 1);
	assert_int_equal(d.end, DRAIN_HARD);
	assert_string_equal(d.why, "named went away while draining (no feed): "
	    "withdrawn");

	drain_restore(&d, 1234, "uid 7", "the state file says so");
	assert_int_equal(d.state, DRAIN_DRAINED);
	assert_int_equal(d.end, DRAIN_RESTORED);
	assert_int_equal(d.since, 1234);
	assert_true(d.before < 0 && d.rate < 0);
	assert_string_equal(drain_state_name(d.state), "drained");
	assert_string_equal(drain_end_name(d.end), "restored");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_draining, setup),
		cmocka_unit_test_setup(test_floor_and_unknown_rate, setup),
		cmocka_unit_test_setup(test_nothing_to_move, setup),
		cmocka_unit_test_setup(test_quiet_after_hold, setup),
		cmocka_unit_test_setup(test_busy_until_timeout, setup),
		cmocka_unit_test_setup(test_shared_view, setup),
		cmocka_unit_test_setup(test_lost_and_restored, setup),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
