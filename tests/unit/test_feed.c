/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_feed.c - the relay's side of the plugin's socket (relay/feed.c):
 * records in, feed_view() and feed_counter() out.  The test plays the
 * plugin on a Unix socket of its own and writes every byte.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "feed.h"
#include "parse.h"

static char		 dir[] = "/tmp/ah-feed-XXXXXX";
static struct relay_conf rc;
static struct feed	 f;
static int		 srv = -1, plugin = -1;
static int64_t		 now;

static int
setup(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.plugin_socket, sizeof(rc.plugin_socket), "%s/plugin.sock",
	    dir);
	rc.reconnect_ms = 200;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", rc.plugin_socket);
	assert_true((srv = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(srv, 4), 0);

	now = 1000;
	feed_init(&f, &rc);
	assert_int_equal(f.state, FEED_DOWN);
	assert_true(feed_poll_fd(&f, now) >= 0);
	assert_int_equal(f.state, FEED_HELLO);
	assert_true((plugin = accept(srv, NULL, NULL)) >= 0);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	if (f.fd >= 0)
		feed_close(&f, now, "test over");
	free(f.zones.z);
	free(f.pzones.z);
	close(plugin);
	close(srv);
	unlink(rc.plugin_socket);
	rmdir(dir);
	strcpy(dir, "/tmp/ah-feed-XXXXXX");
	return (0);
}

/*
 * The plugin writes 'text'; the relay reads it all and takes every
 * complete snapshot.  Returns how many completed.
 */
static int
plugin_says(const char *text)
{
	size_t	len = strlen(text), got = 0;
	int	n, snapshots = 0;

	assert_int_equal(write(plugin, text, len), (ssize_t)len);
	now += 100;
	while (got < len && f.fd >= 0) {
		if ((n = feed_read(&f, now)) < 0)
			break;
		got += (size_t)n;
		while (feed_next(&f, now))
			snapshots++;
	}
	return (snapshots);
}

static const char hello[] = "hello proto=3 named=9.18.test pid=4242 "
    "interval=100 zone_interval=1000 started=0\n";

static const char snapshot1[] =
    "view seq=1 id=7 name=_default\n"
    "outcomes seq=1 view=7 queries=10 probes=2 servfail=3 "
    "auth_servfail=1\n"
    "recursion seq=1 view=7 started=5 success=4 le_1=2 le_inf=5\n"
    "domains seq=1 view=7 kind=fail b0=1 b15=4\n"
    "suffixes seq=1 view=7 kind=rok b3=6\n"
    "domain seq=1 view=7 bucket=15 name=broken.example\n"
    "suffix seq=1 view=7 bucket=3 name=co.uk\n"
    "zones seq=1 view=7 watched=1 healthy=1 checked=1700000000000\n"
    "zone seq=1 view=7 name=example found=1 loaded=1 serial=7 "
    "loaded_at=1700000000\n"
    "tick seq=1 views=1 records=9 time=0\n";

static uint64_t
counter(const char *view, const char *key)
{
	const struct feed_view	*v;
	uint64_t		 x = 0;

	assert_non_null(v = feed_view(&f, view));
	assert_int_equal(feed_counter(v, key, &x), 0);
	return (x);
}

static void
test_snapshot_in_counters_out(void **state)
{
	const struct feed_view	*v;
	const struct feed_zone	*z;
	uint64_t		 x;

	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(f.state, FEED_UP);
	assert_int_equal(f.named_pid, 4242);
	assert_string_equal(f.named_version, "9.18.test");
	assert_int_equal(f.interval_ms, 100);
	assert_int_equal(f.zone_interval_ms, 1000);
	/* Three intervals by default. */
	assert_int_equal(f.stale_ms, 300);
	assert_null(feed_view(&f, "_default"));

	assert_int_equal(plugin_says(snapshot1), 1);
	assert_int_equal(f.seq, 1);
	assert_int_equal(f.last_tick, now);
	assert_non_null(v = feed_view(&f, "_default"));
	assert_null(feed_view(&f, "other"));
	/* outcomes as they are; recursion rec_; zones zones_; dom_KIND_N. */
	assert_int_equal(counter("_default", "queries"), 10);
	assert_int_equal(counter("_default", "auth_servfail"), 1);
	assert_int_equal(counter("_default", "rec_started"), 5);
	assert_int_equal(counter("_default", "rec_le_inf"), 5);
	assert_int_equal(counter("_default", "zones_checked"),
	    1700000000000ULL);
	assert_int_equal(counter("_default", "dom_fail_15"), 4);
	assert_int_equal(counter("_default", "sfx_rok_3"), 6);
	/* The record's own fields are not counters. */
	assert_int_equal(feed_counter(v, "seq", &x), -1);
	assert_int_equal(feed_counter(v, "view", &x), -1);
	assert_int_equal(feed_counter(v, "dom_fail_kind", &x), -1);
	assert_int_equal(feed_counter(v, "sfx_rok_kind", &x), -1);
	assert_string_equal(feed_domain(v, AH_LVL_DOMAIN, 15),
	    "broken.example");
	assert_string_equal(feed_domain(v, AH_LVL_SUFFIX, 3), "co.uk");
	assert_null(feed_domain(v, AH_LVL_DOMAIN, 3));
	assert_null(feed_domain(v, AH_LVL_SUFFIX, 15));
	assert_null(feed_domain(v, AH_LVL_DOMAIN, 0));
	assert_null(feed_domain(v, AH_LVL_DOMAIN, 16));
	assert_int_equal(f.proto, 3);
	assert_non_null(z = feed_zone(&f, "_default", "example"));
	assert_true(z->found && z->loaded && !z->expired && z->has_serial);
	assert_int_equal(z->serial, 7);
	assert_null(feed_zone(&f, "other", "example"));
	/* The first snapshot of a view is no evidence yet ... */
	assert_int_equal(v->active_at, 0);
}

static void
test_activity_carried(void **state)
{
	const struct feed_view	*v;
	int64_t			 first;

	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(plugin_says(snapshot1), 1);
	/* ... the next with more queries is, and names carry over. */
	assert_int_equal(plugin_says("view seq=2 id=7 name=_default\n"
	    "outcomes seq=2 view=7 queries=11 probes=2\n"
	    "tick seq=2 views=1 records=2\n"), 1);
	assert_non_null(v = feed_view(&f, "_default"));
	assert_int_equal(v->active_at, now);
	assert_string_equal(feed_domain(v, AH_LVL_DOMAIN, 15),
	    "broken.example");
	assert_string_equal(feed_domain(v, AH_LVL_SUFFIX, 3), "co.uk");
	first = now;
	/* Nothing went up: the evidence stays where it was. */
	assert_int_equal(plugin_says("view seq=3 id=7 name=_default\n"
	    "outcomes seq=3 view=7 queries=11 probes=2\n"
	    "tick seq=3 views=1 records=2\n"), 1);
	assert_non_null(v = feed_view(&f, "_default"));
	assert_int_equal(v->active_at, first);
	assert_true(now > first);
	/* Each snapshot replaces the last whole: the zones are gone. */
	assert_null(feed_zone(&f, "_default", "example"));
}

/* A snapshot whose zone and summary say 'checked', its tick 'tick'. */
static void
walk(int seq, long long checked, long long tick)
{
	char	text[512];

	snprintf(text, sizeof(text), "view seq=%d id=7 name=_default\n"
	    "zones seq=%d view=7 watched=1 healthy=1 checked=%lld\n"
	    "zone seq=%d view=7 name=example found=1 loaded=1 checked=%lld\n"
	    "tick seq=%d views=1 records=3 time=%lld\n", seq, seq, checked,
	    seq, checked, seq, tick);
	assert_int_equal(plugin_says(text), 1);
}

static int64_t
walked(void)
{
	const struct feed_zone	*z = feed_zone(&f, "_default", "example");
	const struct feed_view	*v = feed_view(&f, "_default");

	assert_non_null(z);
	assert_non_null(v);
	/* The summary and the listed zone agree. */
	assert_int_equal(z->walked, v->zones_walked);
	return (z->walked);
}

/*
 * The time of a zone walk is on the relay's monotonic clock: named's
 * clock is read only as a difference within one snapshot, on the first
 * sight of a walk.  No step of either wall clock moves it.
 */
static void
test_walks_timed_by_the_monotonic_clock(void **state)
{
	const long long	 t = 1700000000000LL;
	int64_t		 first;

	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	/* First sight: as old as named says, 60.5 s. */
	walk(1, t, t + 60500);
	assert_int_equal(walked(), now - 60500);
	first = walked();
	/* The same walk again, named's clock an hour on: still the same. */
	walk(2, t, t + 3600000);
	assert_int_equal(walked(), first);
	/* A new walk: now, whatever its 'checked' (a day back, here). */
	walk(3, t - 86400000, t - 86400000);
	assert_int_equal(walked(), now);
	first = now;
	walk(4, t - 86400000, t + 5000);
	assert_int_equal(walked(), first);
	/* A plugin without a tick time: first sight against our clock. */
	assert_int_equal(plugin_says("view seq=5 id=8 name=other\n"
	    "zones seq=5 view=8 watched=1 healthy=1 checked=1\n"
	    "tick seq=5 views=1 records=2 time=0\n"), 1);
	assert_true(feed_view(&f, "other")->zones_walked < now - 1000);
}

/* A snapshot of no view, named's clock saying 'off' ms from ours. */
static void
tick_off(int seq, long long off)
{
	char	text[96];

	/* plugin_says() moves our clock on by 100 ms before reading. */
	snprintf(text, sizeof(text), "tick seq=%d views=0 records=0 "
	    "time=%lld\n", seq, off == 0 ? 0 : 1700000000000LL + now + 100 +
	    off);
	assert_int_equal(plugin_says(text), 1);
}

/*
 * A step of named's wall clock: its 'time' against our monotonic clock
 * jumps between two ticks, by FEED_STEP_MS or more.  Not the feed's
 * delay (named's tick read late), nor a plugin that gives no time, nor
 * the first tick of a connection, whatever its clock.
 */
static void
test_clock_step_seen(void **state)
{
	int64_t	at;

	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	tick_off(1, 1);
	assert_int_equal(f.stepped_at, 0);
	tick_off(2, 1 - 900);
	tick_off(3, 1);
	assert_int_equal(f.stepped_at, 0);
	tick_off(4, 1 - 86400000);
	assert_int_equal(f.stepped_at, now);
	assert_int_equal(f.stepped_ms, -86400000);
	at = now;
	tick_off(5, 1 - 86400000);
	tick_off(6, 0);
	tick_off(7, 1 - 86400000 + 50);
	assert_int_equal(f.stepped_at, at);
	tick_off(8, 1 + 7200000);
	assert_int_equal(f.stepped_at, now);
	assert_int_equal(f.stepped_ms, 86400000 + 7200000 - 50);
	/*
	 * The relay read nothing for 12 s, then ticks 100 ms apart by
	 * named's clock all at once: no step.
	 */
	at = now;
	now += 12000;
	tick_off(9, 1 + 7200000 - 12000);
	tick_off(10, 1 + 7200000 - 12000);
	assert_int_equal(f.stepped_at, at);
	/* named restarted: its first tick says its clock, no step. */
	feed_close(&f, now, "named restarted");
	close(plugin);
	now += rc.reconnect_ms;
	assert_true(feed_poll_fd(&f, now) >= 0);
	assert_true((plugin = accept(srv, NULL, NULL)) >= 0);
	assert_int_equal(plugin_says(hello), 1);
	tick_off(1, 1 - 3 * 86400000LL);
	assert_int_equal(f.stepped_at, at);
	tick_off(2, 1 - 3 * 86400000LL);
	assert_int_equal(f.stepped_at, at);
}

static void
test_half_a_snapshot_waits(void **state)
{
	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(plugin_says(snapshot1), 1);
	assert_int_equal(plugin_says("view seq=2 id=7 name=_default\n"
	    "outcomes seq=2 view=7 queries=99\n"), 0);
	/* Until its tick, the last complete snapshot stands. */
	assert_int_equal(counter("_default", "queries"), 10);
	assert_int_equal(plugin_says("tick seq=2 views=1 records=2\n"), 1);
	assert_int_equal(counter("_default", "queries"), 99);
}

/* Bad input of each kind closes the feed and says why. */
static void
closes(const char *first, const char *text, const char *why)
{
	if (first != NULL)
		(void)plugin_says(first);
	(void)plugin_says(text);
	assert_int_equal(f.state, FEED_DOWN);
	assert_int_equal(f.fd, -1);
	assert_int_equal(f.nviews, 0);
	assert_null(feed_view(&f, "_default"));
	if (strstr(f.error, why) == NULL)
		fail_msg("error '%s', not '%s'", f.error, why);
}

static void
test_malformed_line(void **state)
{
	(void)state;
	closes(hello, "view seq=1 id=7 name\n", "malformed line from plugin");
}

static void
test_wrong_version(void **state)
{
	(void)state;
	closes(NULL, "hello proto=1 pid=1 interval=100\n",
	    "plugin speaks protocol 1, this relay 2 to 3: upgrade the older "
	    "of the two");
}

static void
test_newer_version(void **state)
{
	(void)state;
	closes(NULL, "hello proto=4 pid=1 interval=100\n",
	    "plugin speaks protocol 4, this relay 2 to 3");
}

/* A reload's hello may not change the version under the relay. */
static void
test_version_changes(void **state)
{
	(void)state;
	closes(hello, "hello proto=2 pid=4242 interval=100\n",
	    "hello with protocol 2 on a connection that spoke 3");
}

/*
 * The previous plugin, still loaded in named after a package upgrade:
 * its feed is read as it was (domain groups of three kinds, no
 * suffixes), and the relay knows which it is reading.
 */
static void
test_previous_version(void **state)
{
	const struct feed_view	*v;
	uint64_t		 x;

	(void)state;
	assert_int_equal(plugin_says("hello proto=2 named=9.18.test pid=4242 "
	    "interval=100 zone_interval=1000 started=0\n"), 1);
	assert_int_equal(f.state, FEED_UP);
	assert_int_equal(f.proto, 2);
	assert_int_equal(plugin_says("view seq=1 id=0 name=_default\n"
	    "outcomes seq=1 view=0 queries=10 probes=2 servfail=3\n"
	    "recursion seq=1 view=0 started=5 success=4 canceled=1\n"
	    "domains seq=1 view=0 kind=fail b2=3\n"
	    "domains seq=1 view=0 kind=rstart b2=5\n"
	    "domains seq=1 view=0 kind=rdone b2=5\n"
	    "domain seq=1 view=0 bucket=2 name=broken.example\n"
	    "tick seq=1 views=1 records=7 time=0\n"), 1);
	assert_non_null(v = feed_view(&f, "_default"));
	assert_int_equal(counter("_default", "dom_rdone_2"), 5);
	assert_int_equal(counter("_default", "rec_canceled"), 1);
	assert_int_equal(feed_counter(v, "dom_rok_2", &x), -1);
	assert_int_equal(feed_counter(v, "sfx_fail_2", &x), -1);
	assert_string_equal(feed_domain(v, AH_LVL_DOMAIN, 2),
	    "broken.example");
	assert_null(feed_domain(v, AH_LVL_SUFFIX, 2));
	assert_false(f.causes);
}

/*
 * The failures' causes are judged only from a plugin that counts them
 * (its 'rtmo' groups): a plugin that does not would have every failure
 * taken for what the servers gave.  Known per connection.
 */
static void
test_causes_known_from_the_groups(void **state)
{
	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(plugin_says(snapshot1), 1);
	assert_false(f.causes);
	assert_int_equal(plugin_says("view seq=2 id=7 name=_default\n"
	    "domains seq=2 view=7 kind=rtmo b3=2\n"
	    "domains seq=2 view=7 kind=rval b4=1\n"
	    "tick seq=2 views=1 records=3\n"), 1);
	assert_true(f.causes);
	assert_int_equal(counter("_default", "dom_rtmo_3"), 2);
	assert_int_equal(counter("_default", "dom_rval_4"), 1);
}

static void
test_no_hello(void **state)
{
	(void)state;
	closes(NULL, snapshot1, "expected hello, got 'view'");
}

static void
test_tick_counts_views(void **state)
{
	(void)state;
	closes(hello, "view seq=1 id=7 name=_default\n"
	    "tick seq=1 views=2 records=1\n",
	    "tick 1 announces 2 views, 1 arrived");
}

static void
test_counter_not_a_number(void **state)
{
	(void)state;
	closes(hello, "view seq=1 id=7 name=_default\n"
	    "outcomes seq=1 view=7 queries=many\n",
	    "outcomes field 'queries' is not a number");
}

static void
test_record_of_no_view(void **state)
{
	(void)state;
	closes(hello, "outcomes seq=1 view=3 queries=1\n",
	    "outcomes record for view 3, not in the snapshot");
}

static void
test_goodbye(void **state)
{
	(void)state;
	closes(hello, "bye reason=shutdown\n",
	    "named said goodbye (shutdown)");
}

static void
test_closed_by_named(void **state)
{
	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(plugin_says(snapshot1), 1);
	close(plugin);
	plugin = -1;
	assert_int_equal(feed_read(&f, now), -1);
	assert_int_equal(f.state, FEED_DOWN);
	assert_null(feed_view(&f, "_default"));
	assert_string_equal(f.error, "named closed the socket (named "
	    "stopped?)");
	/* Not before the reconnect interval. */
	assert_int_equal(feed_poll_fd(&f, now + 199), -1);
}

static void
test_unknown_records_skipped(void **state)
{
	(void)state;
	assert_int_equal(plugin_says(hello), 1);
	assert_int_equal(plugin_says("view seq=1 id=7 name=_default\n"
	    "future seq=1 view=7 x=1\n"
	    "outcomes seq=1 view=7 queries=3\n"
	    "tick seq=1 views=1 records=2\n"), 1);
	assert_int_equal(f.state, FEED_UP);
	assert_int_equal(counter("_default", "queries"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clock_step_seen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_in_counters_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_activity_carried, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_walks_timed_by_the_monotonic_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_a_snapshot_waits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_previous_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_version_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_hello, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_causes_known_from_the_groups,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_counts_views, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter_not_a_number,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_of_no_view, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_goodbye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_by_named, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_records_skipped,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
