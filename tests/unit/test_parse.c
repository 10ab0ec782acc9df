/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_parse.c - the relay's YAML loader: the example config loads as
 * documented, and each mistake is reported with its line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "parse.h"

/*
 * Loads YAML text from a file named CONF in a scratch directory, so
 * errors read "CONF:line:column: ...".
 */
static struct relay_conf *
load(const char *yaml, char *errs, size_t len)
{
	char			 dir[] = "/tmp/ah-test-XXXXXX";
	struct relay_conf	*rc;
	FILE			*f, *ef;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_non_null(f = fopen("CONF", "w"));
	fputs(yaml, f);
	fclose(f);
	ef = fmemopen(errs, len, "w");
	rc = conf_load("CONF", ef);
	fclose(ef);
	unlink("CONF");
	assert_int_equal(chdir("/"), 0);
	rmdir(dir);
	return (rc);
}

static void
test_example(void **state)
{
	struct relay_conf	*rc;
	FILE			*ef = fopen("/dev/null", "w");

	(void)state;
	rc = conf_load(EXAMPLE_CONF, ef);
	fclose(ef);
	assert_non_null(rc);
	assert_string_equal(rc->plugin_socket, "/run/named/anycast-health.sock");
	assert_int_equal(rc->stale_ms, 0);
	assert_int_equal(rc->reconnect_ms, 200);
	assert_int_equal(rc->control_mode, 0660);
	assert_int_equal(rc->nservices, 1);
	assert_string_equal(rc->services[0].name, "dns");
	assert_string_equal(rc->services[0].view, "_default");
	assert_int_equal(rc->services[0].nprefixes, 2);
	assert_string_equal(rc->services[0].prefixes[0].prefix, "192.0.2.53/32");
	assert_int_equal(rc->services[0].prefixes[0].family, AF_INET);
	assert_int_equal(rc->services[0].prefixes[0].med, 100);
	assert_int_equal(rc->services[0].prefixes[0].ncommunities, 1);
	assert_string_equal(rc->services[0].prefixes[0].communities[0],
	    "65000:53");
	assert_string_equal(rc->services[0].prefixes[1].prefix,
	    "2001:db8::53/128");
	assert_int_equal(rc->services[0].prefixes[1].med, -1);
	assert_string_equal(rc->services[0].prefixes[0].neighbor, "192.0.2.1");
	assert_string_equal(rc->services[0].prefixes[1].neighbor, "2001:db8::1");
	{
		const struct service_conf *s = &rc->services[0];

		assert_int_equal(s->window_ms, 10000);
		assert_int_equal(s->min_queries, 100);
		assert_int_equal(s->checks.grace_ms, 500);
		assert_int_equal(s->low_traffic, LOW_KEEP);
		assert_true(s->checks.servfail_max > 0.199 &&
		    s->checks.servfail_max < 0.201);
		assert_true(s->checks.recfail_max > 0.499 &&
		    s->checks.recfail_max < 0.501);
		assert_true(s->checks.latency_quantile > 0.949 &&
		    s->checks.latency_quantile < 0.951);
		assert_int_equal(s->checks.latency_max_ms, 1000);
		assert_int_equal(s->checks.nzones, 1);
		assert_string_equal(s->checks.zones[0], "example");
		assert_int_equal(s->checks.serial_age_max_ms, 0);
		assert_true(s->canary.enabled);
		assert_string_equal(s->canary.server, "127.0.0.1");
		assert_int_equal(s->canary.port, 53);
		assert_string_equal(s->canary.qname, "example");
		assert_int_equal(s->canary.qtype, 6);
		assert_int_equal(s->canary.recursion, 0);
		assert_int_equal(s->canary.interval_ms, 1000);
		assert_int_equal(s->canary.timeout_ms, 500);
		/* No liveness block: the probe goes where the canary goes. */
		assert_int_equal(s->liveness.set, 0);
		assert_string_equal(s->liveness.server, "127.0.0.1");
		assert_int_equal(s->liveness.port, 53);
		assert_int_equal(s->rise, 2);
		assert_int_equal(s->fall, 2);
		assert_int_equal(s->max_changes, 4);
		assert_int_equal(s->period_ms, 60000);
		assert_int_equal(s->hold_ms, 30000);
		assert_int_equal(s->max_hold_ms, 600000);
		assert_int_equal(s->retry_ms, 10000);
		assert_int_equal(s->max_retry_ms, 600000);
		assert_int_equal(s->when_down, DOWN_DEPREF);
		assert_true(s->depref.graceful_shutdown);
		assert_int_equal(s->fault_groups, 3);
		assert_int_equal(s->depref.med, 1000);
		assert_int_equal(s->depref.npath, 3);
		assert_int_equal(s->depref.path[2], 65053);
		assert_int_equal(s->depref.ncommunities, 1);
		assert_string_equal(s->depref.communities[0], "65535:0");
	}
	conf_free(rc);
}

static void
test_defaults(void **state)
{
	char			 errs[1024] = "";
	struct relay_conf	*rc;

	(void)state;
	rc = load("services:\n"
	    "  - name: a\n"
	    "    prefixes:\n"
	    "      - prefix: 2001:DB8:0::/48\n", errs, sizeof(errs));
	assert_non_null(rc);
	assert_string_equal(errs, "");
	/* The bytes accepted, for the relay's last good copy. */
	assert_int_equal(rc->textlen, strlen(rc->text));
	assert_string_equal(rc->text, "services:\n  - name: a\n    prefixes:\n"
	    "      - prefix: 2001:DB8:0::/48\n");
	assert_string_equal(rc->plugin_socket, AH_DEFAULT_PLUGIN_SOCKET);
	assert_string_equal(rc->control_socket, AH_DEFAULT_CONTROL_SOCKET);
	assert_string_equal(rc->services[0].view, "_default");
	/* Prefixes are kept in canonical form. */
	assert_string_equal(rc->services[0].prefixes[0].prefix, "2001:db8::/48");
	assert_string_equal(rc->services[0].prefixes[0].next_hop, "self");
	/* Evidence defaults: see doc/fleet.md for why these. */
	assert_int_equal(rc->services[0].window_ms, 10000);
	assert_int_equal(rc->services[0].min_queries, 100);
	assert_int_equal(rc->services[0].checks.grace_ms, 500);
	assert_int_equal(rc->services[0].fault_groups, 3);
	/* Recovery: retried after 10 s, the wait doubling up to 10 min. */
	assert_int_equal(rc->services[0].retry_ms, 10000);
	assert_int_equal(rc->services[0].max_retry_ms, 600000);
	/* Graded response: depreferred with GRACEFUL_SHUTDOWN by default. */
	assert_int_equal(rc->services[0].when_down, DOWN_DEPREF);
	assert_int_equal(rc->services[0].depref.ncommunities, 1);
	assert_string_equal(rc->services[0].depref.communities[0], "65535:0");
	assert_true(rc->services[0].fault_share > 0.799 &&
	    rc->services[0].fault_share < 0.801);
	/* Drain: withdraw under 1 % of the rate before or 5 qps, for 2 s. */
	assert_string_equal(rc->state_file, AH_DEFAULT_STATE_FILE);
	assert_int_equal(rc->services[0].drain.timeout_ms, 60000);
	assert_int_equal(rc->services[0].drain.hold_ms, 2000);
	assert_int_equal(rc->services[0].drain.qps, 5);
	assert_true(rc->services[0].drain.share > 0.0099 &&
	    rc->services[0].drain.share < 0.0101);
	conf_free(rc);
}

static void
test_durations(void **state)
{
	(void)state;
	assert_int_equal(conf_duration_ms("250ms"), 250);
	assert_int_equal(conf_duration_ms("3s"), 3000);
	assert_int_equal(conf_duration_ms("2m"), 120000);
	assert_int_equal(conf_duration_ms("1h"), 3600000);
	assert_int_equal(conf_duration_ms("2d"), 172800000);
	assert_int_equal(conf_duration_ms("3"), -1);
	assert_int_equal(conf_duration_ms("-3s"), -1);
	assert_int_equal(conf_duration_ms("3 s"), -1);
	assert_int_equal(conf_duration_ms("1.5s"), -1);
	assert_int_equal(conf_duration_ms("s"), -1);
	assert_int_equal(conf_duration_ms("99999999999s"), -1);
}

/* 'want' among the errors, and with 'only', no other. */
static void
expect_errors(const char *yaml, const char *want, int only)
{
	char			 errs[2048] = "";
	struct relay_conf	*rc = load(yaml, errs, sizeof(errs));

	if (rc != NULL)
		fail_msg("accepted: %s", yaml);
	if (strstr(errs, want) == NULL ||
	    (only && conf_count_errors(errs) != 1))
		fail_msg("want%s '%s' in:\n%s", only ? " only" : "", want, errs);
}

static void
expect_error(const char *yaml, const char *want)
{
	expect_errors(yaml, want, 0);
}

#define SVC "services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n"

static void
test_errors(void **state)
{
	(void)state;
	expect_error("", "CONF:1:1: the configuration is empty");
	expect_error("services: [\n", "CONF:2:1: ");
	expect_error("- a\n- b\n", "CONF:1:1: the configuration must be a mapping");
	expect_error("plugin: {}\n", "CONF:1:1: the configuration lacks required key 'services'");
	expect_error(SVC "bogus: 1\n",
	    "CONF:5:1: unknown key 'bogus' in the configuration (expected one of: plugin, control, services)");
	expect_error(SVC "plugin:\n  socket: relative.sock\n",
	    "CONF:6:11: plugin socket 'relative.sock' must be an absolute path");
	expect_error(SVC "plugin:\n  stale-after: 3\n",
	    "CONF:6:16: stale-after '3' is not a duration");
	expect_error(SVC "plugin:\n  stale-after: 50ms\n",
	    "CONF:6:16: stale-after 50ms is outside");
	expect_error(SVC "plugin:\n  socket: /a\n  socket: /b\n",
	    "CONF:7:3: key 'socket' appears twice in 'plugin'");
	expect_error(SVC "control:\n  mode: \"0999\"\n",
	    "CONF:6:9: mode '0999' is not an octal mode");
	expect_error(SVC "control:\n  group: no-such-group-here\n",
	    "CONF:6:10: group 'no-such-group-here' does not exist");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/24\n",
	    "CONF:4:17: prefix '192.0.2.1/24' has host bits set");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/33\n",
	    "CONF:4:17: prefix '192.0.2.1/33': length must be 1..32");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1\n",
	    "CONF:4:17: prefix '192.0.2.1' must be ADDRESS/LENGTH");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: host.example/32\n",
	    "is not an IPv4 or IPv6 address");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        med: -1\n",
	    "CONF:5:14: med '-1' must be a whole number");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        communities: [\"65536:1\"]\n",
	    "community '65536:1' must be ASN:VALUE");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        next-hop: router\n",
	    "next-hop 'router' must be 'self' or an address");
	expect_error("services:\n  - name: a\n    prefixes: []\n",
	    "CONF:3:15: prefixes must not be empty");
	expect_error("services:\n  - name: a b\n    prefixes:\n      - prefix: 192.0.2.1/32\n",
	    "service name 'a b' may use only");
	expect_error("services:\n  - prefixes:\n      - prefix: 192.0.2.1/32\n",
	    "CONF:2:5: a service lacks required key 'name'");
	expect_error(SVC "  - name: a\n    prefixes:\n      - prefix: 192.0.2.2/32\n",
	    "CONF:5:5: service name 'a' is used twice");
	expect_error(SVC "  - name: b\n    prefixes:\n      - prefix: 192.0.2.1/32\n",
	    "CONF:7:9: prefix 192.0.2.1/32 is listed twice");
	expect_error("services:\n  name: a\n", "CONF:2:3: services must be a list");
	expect_error("services:\n  - name: [a]\n    prefixes:\n      - prefix: 192.0.2.1/32\n",
	    "CONF:2:11: service name must be a single value");
	expect_error(SVC "    checks:\n      servfail-ratio: 0.2\n",
	    "CONF:6:23: servfail-ratio '0.2' must be a percentage");
	expect_error(SVC "    checks:\n      servfail-ratio: 120%\n",
	    "servfail-ratio '120%' must be a percentage");
	expect_error(SVC "    checks:\n      bogus: 1\n",
	    "CONF:6:7: unknown key 'bogus' in checks (expected one of: servfail-ratio, recursion-failure-ratio, unanswered-after, recursion-latency, zones, max-serial-age)");
	expect_error(SVC "    checks:\n      recursion-latency: {quantile: 95%}\n",
	    "recursion-latency lacks required key 'max'");
	expect_error(SVC "    checks:\n      unanswered-after: 10ms\n",
	    "CONF:6:25: unanswered-after 10ms is outside 50ms..60s");
	expect_error(SVC "    shared-fault:\n      max-groups: 17\n",
	    "CONF:6:19: max-groups '17' must be a whole number 0..16");
	expect_error(SVC "    shared-fault:\n      share: 40%\n",
	    "CONF:6:14: share must be at least 50%");
	expect_error(SVC "    shared-fault:\n      groups: 2\n",
	    "unknown key 'groups' in shared-fault (expected one of: max-groups, share)");
	expect_error(SVC "    checks:\n      max-serial-age: forever\n",
	    "max-serial-age 'forever' is not a duration");
	expect_error(SVC "    canary:\n      name: example\n      server: 192.0.2.1\n",
	    "CONF:7:15: canary server '192.0.2.1' must be a loopback address");
	expect_error(SVC "    canary:\n      name: example\n      source: 192.0.2.9\n",
	    "CONF:7:15: canary source '192.0.2.9' must be a loopback address");
	expect_error(SVC "    canary:\n      name: example\n      source: \"::1\"\n",
	    "canary source and server must be of one address family");
	expect_error(SVC "    liveness:\n      server: 192.0.2.1\n",
	    "CONF:6:15: liveness server '192.0.2.1' must be a loopback address");
	expect_error(SVC "    liveness:\n      source: \"::1\"\n",
	    "liveness source and server must be of one address family");
	expect_error(SVC "    liveness:\n      port: 0\n",
	    "CONF:6:13: port '0' must be a whole number 1..65535");
	expect_error(SVC "    canary:\n      name: example\n      type: PTRX\n",
	    "canary type 'PTRX' is not one of");
	expect_error(SVC "    canary:\n      name: a..b\n",
	    "canary name 'a..b' is not a domain name");
	expect_error(SVC "    canary:\n      name: example\n      timeout: 2s\n",
	    "canary timeout exceeds its interval");
	expect_error(SVC "    low-traffic: canary\n",
	    "service 'a': low-traffic canary needs a canary");
	expect_error(SVC "    when-down: depref\n    depref:\n      graceful-shutdown: no\n",
	    "service 'a': when-down depref with graceful-shutdown no needs med, as-path or communities");
	expect_error(SVC "    depref:\n      graceful-shutdown: maybe\n",
	    "CONF:6:26: graceful-shutdown 'maybe' must be yes or no");
	expect_error(SVC "    rise: 0\n", "rise '0' must be a whole number 1..100");
	expect_error(SVC "    damping:\n      period: 60s\n",
	    "damping lacks required key 'max-changes'");
	expect_error(SVC "    damping:\n      max-changes: 4\n      hold: 5m\n      max-hold: 1m\n",
	    "damping max-hold is shorter than hold");
	expect_error(SVC "    depref:\n      as-path: [65053, x]\n",
	    "an AS number 'x' must be a whole number");
	expect_error(SVC "    retry: 1m\n    max-retry: 30s\n",
	    "service 'a': max-retry is shorter than retry");
	expect_error(SVC "    retry: 50ms\n", "CONF:5:12: retry 50ms is outside");
	expect_error(SVC "    max-retry: 2d\n",
	    "CONF:5:16: max-retry 2d is outside");
}

static void
test_drain_keys(void **state)
{
	char			 errs[1024] = "";
	struct relay_conf	*rc;

	(void)state;
	rc = load(SVC "    drain:\n      timeout: 5m\n      share: 2.5%\n"
	    "      qps: 0\n      hold: 500ms\n"
	    "control:\n  state-file: /tmp/ah-state\n", errs, sizeof(errs));
	assert_non_null(rc);
	assert_string_equal(errs, "");
	assert_string_equal(rc->state_file, "/tmp/ah-state");
	assert_int_equal(rc->services[0].drain.timeout_ms, 300000);
	assert_int_equal(rc->services[0].drain.hold_ms, 500);
	assert_int_equal(rc->services[0].drain.qps, 0);
	assert_true(rc->services[0].drain.share > 0.0249 &&
	    rc->services[0].drain.share < 0.0251);
	conf_free(rc);

	expect_error(SVC "control:\n  state-file: relative\n",
	    "CONF:6:15: state-file 'relative' must be an absolute path");
	expect_error(SVC "    drain:\n      timeout: 0s\n",
	    "CONF:6:16: drain timeout 0s is outside 1000ms..86400s");
	expect_error(SVC "    drain:\n      hold: 1m\n",
	    "CONF:6:13: drain hold 1m is outside 100ms..30s");
	expect_error(SVC "    drain:\n      share: 1\n",
	    "CONF:6:14: drain share '1' must be a percentage");
	expect_error(SVC "    drain:\n      qps: -1\n",
	    "CONF:6:12: drain qps '-1' must be a whole number 0..1000000000");
	expect_error(SVC "    drain:\n      wait: 1s\n",
	    "unknown key 'wait' in drain (expected one of: timeout, share, qps, hold)");
}

/*
 * Issue 8: values each accepted silently, each now an error with its
 * line and column.
 */
static void
test_accepted_silently(void **state)
{
	(void)state;
	expect_error(SVC "    checks:\n      zones: []\n",
	    "CONF:6:14: zones must not be empty");
	/* The same zone twice, as the plugin names it: a slip, say so. */
	expect_error(SVC "    checks:\n      zones: [example, Example.]\n",
	    "CONF:6:24: zone 'Example.' is listed twice");
	expect_error(SVC "    checks:\n      zones: all\n      max-serial-age: 1d\n",
	    "CONF:7:23: max-serial-age needs zones listed by name");
	expect_error(SVC "    checks:\n      servfail-ratio: 20%\n      max-serial-age: 1d\n",
	    "CONF:7:23: max-serial-age needs zones listed by name");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        next-hop: 2001:db8::1\n",
	    "CONF:5:19: next-hop 2001:db8::1 is IPv6, prefix 192.0.2.1/32 is IPv4");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 2001:db8::/48\n        next-hop: 192.0.2.1\n",
	    "CONF:5:19: next-hop 192.0.2.1 is IPv4, prefix 2001:db8::/48 is IPv6");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.0/+24\n",
	    "CONF:4:17: prefix '192.0.2.0/+24': length must be 1..32");
	expect_error(SVC "    checks:\n      servfail-ratio: 0x10%\n",
	    "CONF:6:23: servfail-ratio '0x10%' must be a percentage");
	/* A review's: routes no anycast service means, hops none takes. */
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 0.0.0.0/0\n",
	    "CONF:4:17: prefix '0.0.0.0/0' is a default route");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 224.0.0.1/32\n",
	    "CONF:4:17: prefix '224.0.0.1/32' is multicast");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        next-hop: 255.255.255.255\n",
	    "CONF:5:19: next-hop 255.255.255.255 is the broadcast address");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 2001:db8::/48\n        next-hop: fe80::1\n",
	    "CONF:5:19: next-hop fe80::1 is link-local");
	expect_error(SVC "    drain: {timeout: 1s, hold: 30s}\n",
	    "CONF:5:12: drain timeout 1000ms is shorter than hold 30000ms");
	/* Out of range, not "not a duration"; one error, not two. */
	expect_error(SVC "    window: 100000000ms\n",
	    "CONF:5:13: window 100000000ms is outside 500ms..3600s");
	expect_errors(SVC "    checks:\n      recursion-latency:\n"
	    "        quantile: 95\n        max: 1000ms\n",
	    "CONF:7:19: quantile '95' must be a percentage", 1);
}

/* A value of the wrong shape is one error, not one per reader. */
static void
test_non_scalar_once(void **state)
{
	char			 errs[2048] = "";
	struct relay_conf	*rc;
	const char		*first;

	(void)state;
	rc = load(SVC "plugin:\n  socket: [a, b]\n", errs, sizeof(errs));
	assert_null(rc);
	assert_non_null(first = strstr(errs, "CONF:6:11: plugin socket must be "
	    "a single value\n"));
	if (strstr(strchr(first, '\n'), "plugin socket") != NULL)
		fail_msg("reported twice:\n%s", errs);
}

/*
 * strtoul() and strtod() take a sign, leading space, "0x", exponents,
 * "inf" and "nan": every number in the file goes through one strict
 * parser instead.
 */
static void
test_strict_numbers(void **state)
{
	(void)state;
	expect_error(SVC "control:\n  mode: \"+660\"\n",
	    "mode '+660' is not an octal mode");
	expect_error(SVC "control:\n  mode: \" 660\"\n",
	    "mode ' 660' is not an octal mode");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 0.0.0.0/-0\n",
	    "prefix '0.0.0.0/-0': length must be 1..32");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: \"192.0.2.0/ 24\"\n",
	    "length must be 1..32");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.0/24x\n",
	    "length must be 1..32");
	expect_error(SVC "    checks:\n      servfail-ratio: 1e1%\n",
	    "servfail-ratio '1e1%' must be a percentage");
	expect_error(SVC "    checks:\n      servfail-ratio: 5.%\n",
	    "servfail-ratio '5.%' must be a percentage");
	expect_error(SVC "    checks:\n      servfail-ratio: \"5 %\"\n",
	    "must be a percentage");
	expect_error(SVC "    checks:\n      recursion-failure-ratio: 1.5e1%\n",
	    "recursion-failure-ratio '1.5e1%' must be a percentage");
	expect_error(SVC "    checks:\n      recursion-latency: {quantile: 0x5F%, max: 1s}\n",
	    "quantile '0x5F%' must be a percentage");
	expect_error("services:\n  - name: a\n    prefixes:\n      - prefix: 192.0.2.1/32\n        communities: [\"65000:0x10\"]\n",
	    "community '65000:0x10' must be ASN:VALUE");
	expect_error(SVC "    canary:\n      name: example\n      port: \"0x35\"\n",
	    "port '0x35' must be a whole number");
	expect_error(SVC "    rise: 18446744073709551617\n",
	    "rise '18446744073709551617' must be a whole number 1..100");
	assert_int_equal(conf_duration_ms("0x10s"), -1);
	assert_int_equal(conf_duration_ms("+3s"), -1);
	assert_int_equal(conf_duration_ms("1e3ms"), -1);
}

/* What the strict parser must still take. */
static void
test_numbers_accepted(void **state)
{
	char			 errs[1024] = "";
	struct relay_conf	*rc;

	(void)state;
	rc = load("control:\n  mode: \"660\"\n"
	    "services:\n  - name: a\n    prefixes:\n"
	    "      - prefix: 192.0.2.0/024\n"
	    "        next-hop: 192.0.2.9\n"
	    "        communities: [\"0:0\", \"65535:65535\"]\n"
	    "    checks:\n      servfail-ratio: 2.5%\n"
	    "      recursion-failure-ratio: 100%\n"
	    "      zones: [example]\n      max-serial-age: 1d\n",
	    errs, sizeof(errs));
	if (rc == NULL)
		fail_msg("rejected:\n%s", errs);
	assert_int_equal(rc->control_mode, 0660);
	assert_string_equal(rc->services[0].prefixes[0].prefix, "192.0.2.0/24");
	assert_true(rc->services[0].checks.servfail_max > 0.0249 &&
	    rc->services[0].checks.servfail_max < 0.0251);
	assert_true(rc->services[0].checks.recfail_max == 1.0);
	conf_free(rc);
}

/* GRACEFUL_SHUTDOWN joins the depref communities once, unless off. */
static void
test_depref_graceful_shutdown(void **state)
{
	char			 errs[1024] = "";
	struct relay_conf	*rc;
	const struct depref_conf *d;

	(void)state;
	rc = load(SVC "    depref:\n      med: 500\n"
	    "      communities: [\"65000:9\"]\n"
	    "  - name: b\n    prefixes:\n      - prefix: 192.0.2.2/32\n"
	    "    depref:\n      communities: [\"65535:0\", \"65000:9\"]\n"
	    "  - name: c\n    prefixes:\n      - prefix: 192.0.2.3/32\n"
	    "    depref:\n      graceful-shutdown: no\n      med: 500\n",
	    errs, sizeof(errs));
	if (rc == NULL)
		fail_msg("rejected:\n%s", errs);
	d = &rc->services[0].depref;
	assert_int_equal(d->ncommunities, 2);
	assert_string_equal(d->communities[1], "65535:0");
	assert_int_equal(rc->services[1].depref.ncommunities, 2);
	assert_int_equal(rc->services[2].depref.ncommunities, 0);
	assert_int_equal(rc->services[2].depref.med, 500);
	conf_free(rc);
}

/*
 * Watchdog mode: a service drives routes declared in exabgp.conf.  It
 * cannot be depreferred, so soft trouble keeps its route by default.
 */
static void
test_watchdog(void **state)
{
	char			 errs[1024] = "";
	struct relay_conf	*rc;

	(void)state;
	rc = load("services:\n  - name: a\n    watchdog: anycastdns\n"
	    "  - name: b\n    watchdog: other\n    when-down: withdraw\n",
	    errs, sizeof(errs));
	if (rc == NULL)
		fail_msg("rejected:\n%s", errs);
	assert_string_equal(rc->services[0].watchdog, "anycastdns");
	assert_int_equal(rc->services[0].nprefixes, 0);
	assert_int_equal(rc->services[0].when_down, DOWN_KEEP);
	assert_int_equal(rc->services[1].when_down, DOWN_WITHDRAW);
	conf_free(rc);

	expect_error("services:\n  - name: a\n    watchdog: x\n    when-down: depref\n",
	    "CONF:4:16: when-down depref is impossible through a watchdog");
	expect_error("services:\n  - name: a\n    watchdog: x\n    depref:\n      med: 5\n",
	    "CONF:5:7: service 'a': a watchdog cannot carry depref attributes");
	expect_error(SVC "    watchdog: x\n",
	    "CONF:2:5: service 'a' has both prefixes and a watchdog");
	expect_error("services:\n  - name: a\n    view: v\n",
	    "CONF:2:5: service 'a' needs prefixes or a watchdog");
	expect_error("services:\n  - name: a\n    watchdog: \"x y\"\n",
	    "CONF:3:15: watchdog 'x y' may use only letters");
	expect_error("services:\n  - name: a\n    watchdog: x\n"
	    "  - name: b\n    watchdog: x\n",
	    "CONF:4:5: watchdog 'x' is driven by two services");
	expect_error(SVC "    when-down: sulk\n",
	    "when-down 'sulk' must be depref, withdraw or keep");
}

/* Every error is reported, not only the first. */
static void
test_all_errors(void **state)
{
	char			 errs[2048] = "";
	struct relay_conf	*rc;

	(void)state;
	rc = load("plugin:\n  socket: x\n  nope: 1\nservices: []\n", errs,
	    sizeof(errs));
	assert_null(rc);
	assert_non_null(strstr(errs, "CONF:2:11: "));
	assert_non_null(strstr(errs, "CONF:3:3: unknown key 'nope'"));
	assert_non_null(strstr(errs, "CONF:4:11: services must not be empty"));
}

/*
 * A file load() would reject, read for where its relay listens and
 * keeps its state: as far as it parses, and only values well formed.
 */
static struct relay_conf *
fallback(const char *yaml)
{
	char			 dir[] = "/tmp/ah-test-XXXXXX";
	struct relay_conf	*rc;
	FILE			*f;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_non_null(f = fopen("CONF", "w"));
	fputs(yaml, f);
	fclose(f);
	rc = conf_fallback("CONF");
	unlink("CONF");
	assert_int_equal(chdir("/"), 0);
	rmdir(dir);
	assert_non_null(rc);
	assert_int_equal(rc->nservices, 0);
	return (rc);
}

static void
expect_fallback(const char *yaml, const char *socket, const char *state,
    const char *listen)
{
	struct relay_conf *rc = fallback(yaml);

	if (strcmp(rc->control_socket, socket) != 0 ||
	    strcmp(rc->state_file, state) != 0 ||
	    strcmp(rc->metrics_listen, listen) != 0)
		fail_msg("%s -> %s %s '%s'", yaml, rc->control_socket,
		    rc->state_file, rc->metrics_listen);
	assert_string_equal(rc->plugin_socket, AH_DEFAULT_PLUGIN_SOCKET);
	assert_int_equal(rc->control_mode, 0660);
	conf_free(rc);
}

#define DEEP 200000

static void
test_fallback(void **state)
{
	const char *dc = AH_DEFAULT_CONTROL_SOCKET, *ds = AH_DEFAULT_STATE_FILE;
	struct relay_conf *rc;
	char *deep;

	(void)state;
	/* Broken after the control block: a syntax error, a bad key. */
	expect_fallback("control:\n  socket: /run/x.sock\n  state-file: /v/s\n"
	    "services: [\n", "/run/x.sock", "/v/s", "");
	expect_fallback("plugin: {bogus: 1}\ncontrol:\n  mode: \"0999\"\n"
	    "  nope: [1, {a: b}]\n  metrics-listen: \"[::1]:9153\"\n"
	    "  socket: /run/x.sock\nservices: []\n", "/run/x.sock", ds,
	    "[::1]:9153");
	expect_fallback("? [complex, key]\n: value\ncontrol: {socket: /a}\n",
	    "/a", ds, "");
	expect_fallback("control:\n  socket: /first\ncontrol:\n  socket: /b\n",
	    "/first", ds, "");
	/* Broken before it, or not where it should be: the defaults. */
	expect_fallback("services: [\ncontrol:\n  socket: /run/x.sock\n", dc,
	    ds, "");
	expect_fallback("services:\n  - control:\n      socket: /x\n", dc, ds,
	    "");
	expect_fallback("- control:\n    socket: /x\n", dc, ds, "");
	expect_fallback("control: [socket, /x]\n", dc, ds, "");
	/* Values that would be rejected are not taken. */
	expect_fallback("control:\n  socket: relative.sock\n  state-file: [/x]\n"
	    "  metrics-listen: 9153\n", dc, ds, "");
	expect_fallback("", dc, ds, "");
	/* Nothing to read: the defaults, for a relay that must run. */
	rc = conf_fallback("/nonexistent/anycast-relay.yaml");
	assert_non_null(rc);
	assert_string_equal(rc->control_socket, dc);
	conf_free(rc);
	/* Nesting skipped on the way costs no more than CONF_DEPTH_MAX. */
	deep = malloc(2 * DEEP + 64);
	assert_non_null(deep);
	strcpy(deep, "services: ");
	memset(deep + strlen(deep), '[', DEEP);
	deep[10 + DEEP] = '\0';
	memset(deep + strlen(deep), ']', DEEP);
	strcpy(deep + 10 + 2 * DEEP, "\ncontrol: {socket: /a}\n");
	expect_fallback(deep, dc, ds, "");
	free(deep);
}

/*
 * doc/config.md documents each key's default in its tables: writing the
 * default must load the same configuration as leaving the key out.
 */
static void
same_conf(const struct relay_conf *a, const struct relay_conf *b,
    const char *what)
{
	struct relay_conf	ra = *a, rb = *b;
	struct service_conf	sa, sb;
	struct prefix_conf	pa, pb;
	size_t			i, j;

	ra.services = rb.services = NULL;
	ra.text = rb.text = NULL;		/* the file itself differs */
	ra.textlen = rb.textlen = 0;
	if (memcmp(&ra, &rb, sizeof(ra)) != 0)
		fail_msg("%s: the top level differs", what);
	for (i = 0; i < a->nservices; i++) {
		sa = a->services[i];
		sb = b->services[i];
		sa.prefixes = sb.prefixes = NULL;
		/* Positions differ by the line written. */
		memset(&sa.at, 0, sizeof(sa.at));
		memset(&sb.at, 0, sizeof(sb.at));
		memset(&sa.depref.at, 0, sizeof(sa.depref.at));
		memset(&sb.depref.at, 0, sizeof(sb.depref.at));
		memset(&sa.when_down_at, 0, sizeof(sa.when_down_at));
		memset(&sb.when_down_at, 0, sizeof(sb.when_down_at));
		if (memcmp(&sa, &sb, sizeof(sa)) != 0)
			fail_msg("%s: the service differs", what);
		for (j = 0; j < a->services[i].nprefixes; j++) {
			pa = a->services[i].prefixes[j];
			pb = b->services[i].prefixes[j];
			memset(&pa.at, 0, sizeof(pa.at));
			memset(&pb.at, 0, sizeof(pb.at));
			memset(&pa.next_hop_at, 0, sizeof(pa.next_hop_at));
			memset(&pb.next_hop_at, 0, sizeof(pb.next_hop_at));
			if (memcmp(&pa, &pb, sizeof(pa)) != 0)
				fail_msg("%s: the prefix differs", what);
		}
	}
}

#define ONE_SVC	"services:\n  - {name: a, prefixes: [{prefix: 192.0.2.1/32"

/*
 * Where a key of each documented block goes: the file with '%s' for
 * "KEY: VALUE", after a comma if the block has another key already.
 */
static const struct {
	const char	*block;
	int		 comma;
	const char	*yaml;
} doc_blocks[] = {
	{ "plugin", 0, "plugin: {%s}\n" ONE_SVC "}]}\n" },
	{ "control", 0, "control: {%s}\n" ONE_SVC "}]}\n" },
	{ "services", 1, ONE_SVC "}]%s}\n" },
	{ "prefixes", 1, ONE_SVC "%s}]}\n" },
	{ "checks", 0, ONE_SVC "}], checks: {%s}}\n" },
	{ "canary", 1, ONE_SVC "}], canary: {name: example%s}}\n" },
	{ "liveness", 0, ONE_SVC "}], liveness: {%s}}\n" },
	{ "damping", 1, ONE_SVC "}], damping: {max-changes: 4%s}}\n" },
	{ "depref", 0, ONE_SVC "}], depref: {%s}}\n" },
	{ "shared-fault", 0, ONE_SVC "}], shared-fault: {%s}}\n" },
	{ "drain", 0, ONE_SVC "}], drain: {%s}}\n" },
	{ NULL, 0, NULL }
};

static struct relay_conf *
load_with(const char *yaml, const char *key, int comma, const char *value)
{
	char			 entry[256] = "", text[1024];
	char			 errs[1024] = "";
	struct relay_conf	*rc;

	if (key != NULL)
		snprintf(entry, sizeof(entry), "%s%s: %s", comma ? ", " : "",
		    key, value);
	snprintf(text, sizeof(text), yaml, entry);
	if ((rc = load(text, errs, sizeof(errs))) == NULL)
		fail_msg("rejected:\n%s\n%s", text, errs);
	return (rc);
}

static void
test_documented_defaults(void **state)
{
	struct relay_conf	*without, *with;
	char			 line[4096], key[64], value[256];
	const char		*block = NULL, *yaml = NULL;
	char			*p, *q, *cell[4];
	int			 comma = 0, ncell, checked = 0, i;
	FILE			*f;

	(void)state;
	assert_non_null(f = fopen(DOC_CONFIG, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "## 2.", 5) == 0)
			break;		/* the plugin's parameters */
		if (line[0] == '#') {
			/* "### 1.2 `plugin`: ..." names the block. */
			block = yaml = NULL;
			if ((p = strchr(line, '`')) == NULL ||
			    (q = strchr(p + 1, '`')) == NULL)
				continue;
			*q = '\0';
			for (i = 0; doc_blocks[i].block != NULL; i++)
				if (strcmp(doc_blocks[i].block, p + 1) == 0) {
					block = doc_blocks[i].block;
					yaml = doc_blocks[i].yaml;
					comma = doc_blocks[i].comma;
				}
			continue;
		}
		/* "| `key` | type | `default` | ...", one value alone. */
		if (yaml == NULL || strncmp(line, "| `", 3) != 0)
			continue;
		for (ncell = 0, p = line + 1; ncell < 4 &&
		    (q = strchr(p, '|')) != NULL; p = q + 1) {
			*q = '\0';
			cell[ncell++] = p;
		}
		if (ncell < 4 || sscanf(cell[0], " `%63[^`]` ", key) != 1 ||
		    sscanf(cell[2], " `%255[^`]`", value) != 1 ||
		    strchr(strchr(cell[2], '`') + 1, '`')[1] != ' ' ||
		    strchr(strchr(cell[2], '`') + 1, '`')[2] != '\0')
			continue;
		without = load_with(yaml, NULL, 0, NULL);
		with = load_with(yaml, key, comma, value);
		snprintf(line, sizeof(line), "%s.%s: %s", block, key, value);
		same_conf(without, with, line);
		conf_free(without);
		conf_free(with);
		checked++;
	}
	fclose(f);
	/* Fewer would mean the tables' form changed and this saw nothing. */
	assert_true(checked >= 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_drain_keys),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_accepted_silently),
		cmocka_unit_test(test_non_scalar_once),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_numbers_accepted),
		cmocka_unit_test(test_depref_graceful_shutdown),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_documented_defaults),
		cmocka_unit_test(test_fallback),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
