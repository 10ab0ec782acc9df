/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_health.c - the judge's state machine (relay/health.c) on a feed
 * made by hand: snapshots every 100 ms with chosen counters, and the
 * commands that would go to ExaBGP caught by a fake exabgp_service().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahclock.h"

#include "exabgp.h"
#include "feed.h"
#include "handover.h"
#include "health.h"
#include "parse.h"
#include "relay.h"
#include "route.h"
#include "state.h"

#define STEP	100	/* ms between snapshots, the plugin's default */

static struct relay	 r;
static char		 dir[] = "/tmp/ah-health-XXXXXX";
static char		 state_file[64];
static int64_t		 now;
static uint64_t		 queries, servfail;

/* What route.c sent, as exabgp.c would have turned it into commands. */
static enum route_mode	 sent[64];
static size_t		 nsent;
/* Whether each command must find the relay's note saying so already. */
static int		 note_first;

static void
routes_note(char *buf, size_t len)
{
	char	 path[96];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/relay.sock%s", dir, ROUTES_SUFFIX);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

void
exabgp_service(const struct service_conf *s, enum route_mode mode)
{
	char	note[1024], want[64];

	assert_string_equal(s->name, "dns");
	assert_true(nsent < sizeof(sent) / sizeof(sent[0]));
	sent[nsent++] = mode;
	if (!note_first)
		return;
	routes_note(note, sizeof(note));
	snprintf(want, sizeof(want), " route=%s ", route_mode_name(mode));
	assert_non_null(strstr(note, want));
}

static struct service_state *
st(void)
{
	return (&r.svc[0]);
}

static void
set_counter(struct feed_view *v, const char *key, uint64_t val)
{
	size_t i;

	for (i = 0; i < v->ncounters; i++)
		if (strcmp(v->key[i], key) == 0)
			break;
	if (i == v->ncounters) {
		assert_true(i < FEED_COUNTERS_MAX);
		snprintf(v->key[v->ncounters++], sizeof(v->key[0]), "%s", key);
	}
	v->val[i] = val;
}

/*
 * One snapshot 100 ms after the last: 'q' more queries in the view,
 * 'sf' of them SERVFAIL.  Returns health_judge()'s answer.
 */
static int
snapshot(uint64_t q, uint64_t sf)
{
	struct feed_view *v = &r.feed.views[0];

	now += STEP;
	queries += q;
	servfail += sf;
	set_counter(v, "queries", queries);
	set_counter(v, "servfail", servfail);
	/* The probes reach the view even without clients. */
	v->active_at = now;
	r.feed.last_tick = now;
	r.feed.seq++;
	return (health_judge(&r, 0, now, 1));
}

/* Up to 'n' snapshots of that traffic until the route is in 'mode'. */
static int
until(enum route_mode mode, int n, uint64_t q, uint64_t sf)
{
	int i;

	for (i = 1; i <= n; i++) {
		(void)snapshot(q, sf);
		if (st()->route.mode == mode)
			return (i);
	}
	return (-1);
}

/*
 * A relay of one service 'dns' judging over 'window', whose policy
 * ends in 'extra'.
 */
static void
start_window(const char *window, const char *extra)
{
	char	 path[96], errs[1024] = "";
	FILE	*f, *ef;

	memset(&r, 0, sizeof(r));
	nsent = 0;
	now = 1000000;
	queries = servfail = 0;
	assert_non_null(mkdtemp(dir));
	snprintf(state_file, sizeof(state_file), "%s/relay.state", dir);
	snprintf(path, sizeof(path), "%s/relay.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "control:\n  socket: %s/relay.sock\n  state-file: %s\n"
	    "services:\n  - name: dns\n"
	    "    prefixes:\n      - prefix: 192.0.2.53/32\n"
	    "    window: %s\n    min-queries: 10\n"
	    "    checks:\n      servfail-ratio: 20%%\n%s", dir, state_file,
	    window, extra);
	fclose(f);
	ef = fmemopen(errs, sizeof(errs), "w");
	r.conf = conf_load(path, ef);
	fclose(ef);
	unlink(path);
	if (r.conf == NULL)
		fail_msg("%s", errs);
	assert_non_null(r.svc = calloc(1, sizeof(*r.svc)));
	health_init(st(), &r.conf->services[0]);
	r.feed.state = FEED_UP;
	r.feed.stale_ms = 300;
	r.feed.interval_ms = STEP;
	r.feed.nviews = 1;
	snprintf(r.feed.views[0].name, sizeof(r.feed.views[0].name),
	    "_default");
}

/* ... over 1 s. */
static void
start(const char *extra)
{
	start_window("1s", extra);
}

/* Started and announced: two good snapshots (rise 2). */
static void
start_up(const char *extra)
{
	start(extra);
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), 2);
}

static int
stop(void **state)
{
	char	path[96];

	(void)state;
	note_first = 0;
	snprintf(path, sizeof(path), "%s/relay.sock%s", dir, ROUTES_SUFFIX);
	(void)unlink(path);
	(void)unlink(state_file);
	(void)rmdir(dir);
	strcpy(dir, "/tmp/ah-health-XXXXXX");
	free(r.svc);
	conf_free(r.conf);
	return (0);
}

static const char *
state_name(void)
{
	return (health_state_names[health_state(st(), now)]);
}

static void
test_fail_closed_then_rise(void **state)
{
	(void)state;
	start("");
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_string_equal(st()->reason, "starting: no evidence yet");
	/* One good evaluation of two (rise 2): still withdrawn. */
	assert_int_equal(snapshot(100, 0), 0);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_string_equal(state_name(), "rising");
	assert_int_equal(snapshot(100, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0], ROUTE_ANNOUNCED);
	assert_int_equal(st()->route.transitions, 1);
	assert_int_equal(st()->route.history[0].from, ROUTE_WITHDRAWN);
	assert_int_equal(st()->route.history[0].to, ROUTE_ANNOUNCED);
	assert_non_null(strstr(st()->reason, "SERVFAIL 0% <= 20%"));
	/* Without a new snapshot nothing is judged again. */
	assert_int_equal(health_judge(&r, 0, now + 50, 0), 0);
	assert_int_equal(nsent, 1);
}

static void
test_hard_trouble_withdraws_at_once(void **state)
{
	(void)state;
	start_up("");
	/* named gone: withdrawn at once, although fall is 2. */
	r.feed.state = FEED_DOWN;
	snprintf(r.feed.error, sizeof(r.feed.error), "connect: refused");
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(sent[nsent - 1], ROUTE_WITHDRAWN);
	assert_string_equal(st()->reason, "no feed from named: "
	    "connect: refused");
	assert_string_equal(state_name(), "down");
	/* Once: the next loop changes nothing. */
	assert_int_equal(health_judge(&r, 0, now + 10, 0), 0);

	/* Back, and up again only through rise. */
	r.feed.state = FEED_UP;
	assert_int_equal(snapshot(100, 0), 0);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(snapshot(100, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);

	/* Snapshots stop (named hung): withdrawn past stale-after. */
	assert_true(health_deadline(&r, 0, now) <= now + 301);
	assert_int_equal(health_judge(&r, 0, now + 300, 0), 0);
	assert_int_equal(health_judge(&r, 0, now + 301, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_non_null(strstr(st()->reason, "last snapshot 301 ms ago, more "
	    "than stale-after 300 ms"));
	/* Judged: nothing but a snapshot can change it, no wake-up is due. */
	assert_true(health_deadline(&r, 0, now + 301) == INT64_MAX);
	assert_true(health_deadline(&r, 0, now + 5000) == INT64_MAX);
}

static void
test_soft_trouble_degrades_after_fall(void **state)
{
	(void)state;
	start_up("");
	/* One bad evaluation of two (fall 2): still announced, falling. */
	assert_int_equal(snapshot(100, 50), 0);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	assert_string_equal(state_name(), "falling");
	assert_non_null(strstr(st()->reason, "SERVFAIL 50% > 20%"));
	/* The second: depreferred, not withdrawn (when-down depref). */
	assert_int_equal(snapshot(100, 50), 1);
	assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
	assert_int_equal(sent[nsent - 1], ROUTE_DEGRADED);
	assert_string_equal(state_name(), "depreferred");
	/* Healthy again: announced after rise. */
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), 2);
	assert_int_equal(st()->route.transitions, 3);
}

static void
test_when_down_withdraw(void **state)
{
	(void)state;
	start_up("    when-down: withdraw\n");
	assert_int_equal(until(ROUTE_WITHDRAWN, 5, 100, 50), 2);
	assert_int_equal(sent[nsent - 1], ROUTE_WITHDRAWN);
	assert_string_equal(state_name(), "down");
}

/*
 * anycastctl release: a node held down by flap damping comes back at
 * its next good evaluation; released while drained, it stays drained.
 */
static void
test_release_ends_the_hold(void **state)
{
	(void)state;
	start_up("    damping:\n      max-changes: 2\n      period: 60s\n"
	    "      hold: 60s\n");
	assert_int_equal(health_release(&r, 0, "uid 0 (root)", now), 0);
	r.feed.state = FEED_DOWN;		/* the second change */
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	r.feed.state = FEED_UP;
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), -1);
	assert_string_equal(state_name(), "held");
	assert_non_null(strstr(st()->reason, "held down 60s more by flap "
	    "damping"));
	health_drain(&r, 0, -1, "uid 0 (root)", 0, now);
	assert_string_equal(state_name(), "drained");
	assert_int_equal(health_release(&r, 0, "uid 0 (root)", now), 59700);
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), -1);
	assert_string_equal(state_name(), "drained");
	assert_int_equal(health_undrain(&r, 0, "uid 0 (root)"), 1);
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), 2);
}

static void
test_degraded_comes_back_degraded(void **state)
{
	(void)state;
	start_up("");
	assert_int_equal(until(ROUTE_DEGRADED, 5, 100, 50), 2);
	/* named restarts while the node is degraded: withdrawn ... */
	r.feed.state = FEED_DOWN;
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	/* ... and back degraded at once while the trouble lasts, so a
	 * fleet-wide fault with named restarted everywhere is not an
	 * empty fleet. */
	r.feed.state = FEED_UP;
	assert_int_equal(until(ROUTE_DEGRADED, 5, 100, 50), 2);

	/* A node that was up before named stopped rises only through rise. */
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), 2);
	r.feed.state = FEED_DOWN;
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	r.feed.state = FEED_UP;
	assert_int_equal(until(ROUTE_DEGRADED, 10, 100, 50), -1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
}

static void
test_retry_without_traffic(void **state)
{
	int seen = 0, i;

	(void)state;
	start_up("    retry: 2s\n");
	assert_int_equal(until(ROUTE_DEGRADED, 5, 100, 50), 2);
	/*
	 * The clients left for the other nodes: after the window the
	 * failure is held for want of traffic, until the retry forgets it
	 * and the node rises.
	 */
	for (i = 0; i < 40 && st()->route.mode != ROUTE_ANNOUNCED; i++) {
		(void)snapshot(0, 0);
		if (strstr(st()->reason, "no client traffic to judge by: "
		    "retry in") != NULL)
			seen |= 1;
		if (strstr(st()->reason, "retrying (it was: SERVFAIL 50%") !=
		    NULL)
			seen |= 2;
	}
	assert_int_equal(seen, 3);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	/* Not before the retry was due, two seconds after going down. */
	assert_true(i >= 20);
	assert_int_equal(st()->retry.trying, 1);
	/* The same fault again: down again, the next retry waits twice. */
	assert_int_equal(until(ROUTE_DEGRADED, 5, 100, 50), 2);
	assert_int_equal(st()->retry.wait_ms, 4000);
}

static void
test_drain_until_quiet(void **state)
{
	char	 buf[512];
	FILE	*f;
	size_t	 n;
	int	 i;

	(void)state;
	start_up("");
	health_drain(&r, 0, -1, "uid 0 (root)", 0, now);
	assert_int_equal(st()->route.mode, ROUTE_DRAINING);
	assert_int_equal(sent[nsent - 1], ROUTE_DRAINING);
	assert_string_equal(state_name(), "draining");
	/* The state file says so, for a restarted relay. */
	assert_non_null(f = fopen(state_file, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "drained service=dns"));

	/* The traffic moves away; withdrawn once quiet for 'hold' (2s). */
	for (i = 0; i < 40 && st()->route.mode == ROUTE_DRAINING; i++)
		(void)snapshot(0, 0);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(st()->drain.end, DRAIN_QUIET);
	assert_true(i >= 20);
	assert_string_equal(state_name(), "drained");
	/* Drained: judged, never moved, whatever the checks say. */
	assert_int_equal(until(ROUTE_ANNOUNCED, 10, 100, 0), -1);

	/* Undrained: back after rise, and out of the state file. */
	assert_int_equal(health_undrain(&r, 0, "uid 0 (root)"), 1);
	assert_int_equal(health_undrain(&r, 0, "uid 0 (root)"), 0);
	assert_int_equal(until(ROUTE_ANNOUNCED, 5, 100, 0), 2);
	assert_non_null(f = fopen(state_file, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_null(strstr(buf, "drained service=dns"));
}

static void
test_drain_ends_with_named(void **state)
{
	(void)state;
	start_up("");
	health_drain(&r, 0, 60000, "me", 0, now);
	assert_int_equal(st()->route.mode, ROUTE_DRAINING);
	r.feed.state = FEED_DOWN;
	snprintf(r.feed.error, sizeof(r.feed.error), "gone");
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(st()->drain.end, DRAIN_HARD);
	assert_non_null(strstr(st()->route.history[2].reason,
	    "named went away while draining (no feed from named: gone)"));
}

/*
 * The note 'anycastctl restart' leaves for the relay it replaces, for
 * this process's parent as ExaBGP, 'age' ms old; then read at start.
 */
static void
handed_over(const char *route, int64_t age, const char *extra)
{
	char	 path[96];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/relay.sock%s", dir, HANDOVER_SUFFIX);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "handover version=1 from=905 exabgp=%ld at=%lld "
	    "by=uid%%200\nrelay pid=905 version=0.1.0 proto=2\n"
	    "service name=dns view=_default state=up route=%s "
	    "since=1741953605003\n%s",
	    (long)getppid(), (long long)(ah_real_ms() - age), route, extra);
	fclose(f);
	handover_read(&r, now);
	assert_int_equal(access(path, F_OK), -1);
}

/* An announced service taken over by a relay waiting for the hello. */
static void
taken_over_before_the_hello(void)
{
	start("");
	r.feed.state = FEED_HELLO;
	handed_over("announced", 0, "");
}

static void
test_taken_over_until_the_feed_is_up(void **state)
{
	(void)state;
	taken_over_before_the_hello();
	/* Re-sent, so that ExaBGP's answers are this relay's. */
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0], ROUTE_ANNOUNCED);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	assert_string_equal(state_name(), "up");
	/* Out since the predecessor announced it, not since we started. */
	assert_int_equal(st()->route.since, 1741953605003);
	assert_string_equal(st()->route.history[0].reason, "relay 905 had it "
	    "announced when it was replaced (anycastctl restart)");
	/* Waiting for the hello, then for the first snapshot: kept. */
	assert_int_equal(health_judge(&r, 0, now + 50, 0), 0);
	assert_non_null(strstr(st()->reason, "taken over from the relay "
	    "this one replaced; no feed from named"));
	r.feed.state = FEED_UP;
	assert_int_equal(health_judge(&r, 0, now + 60, 0), 0);
	/* Alive: judged as a running relay would, with its 'fall'. */
	assert_int_equal(snapshot(100, 0), 0);
	assert_int_equal(st()->taken_at, 0);
	assert_null(strstr(st()->reason, "taken over"));
	assert_int_equal(until(ROUTE_DEGRADED, 5, 100, 50), 2);
	assert_int_equal(nsent, 2);
}

static void
test_taken_over_until_named_is_found_gone(void **state)
{
	(void)state;
	taken_over_before_the_hello();
	r.feed.state = FEED_DOWN;
	snprintf(r.feed.error, sizeof(r.feed.error), "connect: refused");
	assert_int_equal(health_judge(&r, 0, now + 5, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_string_equal(st()->reason, "no feed from named: "
	    "connect: refused");
}

static void
test_taken_over_no_longer_than_hello_and_stale_after(void **state)
{
	struct feed_view *v = &r.feed.views[0];

	(void)state;
	start("");
	handed_over("announced", 0, "");
	/* Snapshots, but the view never seen alive (query threads hung). */
	r.feed.state = FEED_UP;
	v->active_at = 0;
	r.feed.last_tick = now + FEED_HELLO_MS + 300;
	assert_int_equal(health_judge(&r, 0, now + FEED_HELLO_MS + 300, 0),
	    0);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	r.feed.last_tick = now + FEED_HELLO_MS + 301;
	assert_int_equal(health_judge(&r, 0, now + FEED_HELLO_MS + 301, 0),
	    1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_non_null(strstr(st()->reason, "no query seen in view "
	    "_default yet"));
}

static void
test_taken_over_depreferred_or_not_at_all(void **state)
{
	FILE *f;

	(void)state;
	start("");
	handed_over("depreferred", 0, "service name=other route=announced\n");
	assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
	assert_int_equal(st()->judge.up, 0);
	assert_string_equal(state_name(), "depreferred");
	stop(NULL);

	/* Drained in the state file: the drain wins. */
	start("");
	assert_non_null(f = fopen(state_file, "w"));
	fprintf(f, "state version=1\ndrained service=dns since=1 by=me\n");
	fclose(f);
	state_load(&r);
	handed_over("announced", 0, "");
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(nsent, 0);
	stop(NULL);

	/* Stale, or withdrawn, or draining: nothing taken over. */
	start("");
	handed_over("announced", HANDOVER_FRESH_MS + 1000, "");
	handed_over("withdrawn", 0, "");
	handed_over("draining", 0, "");
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(nsent, 0);
}

/* When process 'pid' started, as /proc says (field 22). */
static unsigned long long
started_at(pid_t pid)
{
	char	 path[64], buf[1024], *p;
	FILE	*f;
	size_t	 n;
	int	 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(p = strrchr(buf, ')'));
	for (i = 2; i < 22; i++)
		assert_non_null(p = strchr(p + 1, ' '));
	return (strtoull(p + 1, NULL, 10));
}

/*
 * The reason says first what failed, then what was excused: a long
 * excuse (the fault rule's words run to 300 characters) before a
 * failing check left the failure cut off the end of the status.
 */
static void
test_the_reason_names_the_failure_first(void **state)
{
	struct check_state	*rf, *lt;

	(void)state;
	start_up("");
	rf = &st()->chk[CHK_RECFAIL];
	lt = &st()->chk[CHK_LATENCY];
	/* Checks the policy leaves off keep what they were given here. */
	rf->excused = rf->unusual = 1;
	memset(rf->why, 'x', sizeof(rf->why) - 1);
	rf->why[sizeof(rf->why) - 1] = '\0';
	lt->bad = 1;
	snprintf(lt->why, sizeof(lt->why), "answers slower than usual: "
	    "3 within 100ms over 1.2s, 61 usual: this node");
	(void)snapshot(100, 0);
	assert_string_equal(state_name(), "falling");
	assert_true(strncmp(st()->reason, lt->why, strlen(lt->why)) == 0);
	/* The excuse follows, cut where it must be. */
	assert_non_null(strstr(st()->reason, "; xxx"));
}

/*
 * Recursions of one snapshot, counted as the plugin counts them: per
 * group g (the same at both levels), 'ok[g]' succeeded and 'val[g]'
 * failed validation, each started and finished within the snapshot.
 */
static uint64_t	rec_n[AH_REC_COUNT], dom_n[AH_DOM_COUNT][DOM_BUCKETS];

static void
recursions(const unsigned int *ok, const unsigned int *val)
{
	struct feed_view	*v = &r.feed.views[0];
	char			 key[32];
	unsigned int		 g, lv, k;

	for (g = 0; g < DOM_BUCKETS; g++) {
		rec_n[AH_REC_STARTED] += ok[g] + val[g];
		rec_n[AH_REC_SUCCESS] += ok[g];
		rec_n[AH_REC_FAILURE] += val[g];
		dom_n[AH_DOM_RSTART][g] += ok[g] + val[g];
		dom_n[AH_DOM_RDONE][g] += ok[g] + val[g];
		dom_n[AH_DOM_ROK][g] += ok[g];
		dom_n[AH_DOM_RBAD][g] += val[g];
		dom_n[AH_DOM_RVAL][g] += val[g];
		dom_n[AH_DOM_FAIL][g] += val[g];
		for (lv = 0; lv < AH_LVL_COUNT; lv++)
			for (k = 0; k < AH_DOM_COUNT; k++) {
				feed_dom_key(lv, k, (int)g, key, sizeof(key));
				set_counter(v, key, dom_n[k][g]);
			}
	}
	for (k = 0; k < AH_REC_COUNT; k++) {
		snprintf(key, sizeof(key), FEED_REC "%s",
		    ah_recursion_names[k]);
		set_counter(v, key, rec_n[k]);
	}
}

/*
 * Answers' latencies, cumulative as the plugin counts them (le_1 ..
 * le_inf): 'fast' within 20 ms, 'late' after 2 s.
 */
static uint64_t	lat_n[AH_LAT_BUCKETS];

static void
latencies(unsigned int fast, unsigned int late)
{
	char		key[32];
	unsigned int	i;

	for (i = 0; i < AH_LAT_BUCKETS; i++) {
		lat_n[i] += (i >= 4 ? fast : 0) + (i >= 10 ? late : 0);
		feed_lat_key((int)i, key, sizeof(key));
		set_counter(&r.feed.views[0], key, lat_n[i]);
	}
}

/*
 * Whose turn it is among the groups the snapshots below spread names
 * over: from the start of each test, so that a test alone sees the
 * same traffic as in the whole run.
 */
static unsigned int	turn, fturn;

/* A relay (start_window()) fed by a plugin counting groups and causes. */
static void
start_grouped(const char *window, const char *extra)
{
	start_window(window, extra);
	turn = fturn = 0;
	memset(rec_n, 0, sizeof(rec_n));
	memset(dom_n, 0, sizeof(dom_n));
	memset(lat_n, 0, sizeof(lat_n));
	r.feed.causes = 1;
	r.feed.proto = AH_FEED_VERSION;
}

/*
 * A snapshot of 100 queries: 6 fresh names resolved in groups 4-15 in
 * turn, and after named's clock stepped, 5 more failing validation: 2
 * in group 0 (the popular signed domain), 1 in each of groups 1-3 (the
 * catalogue's, traced: 32 in 0.5 s, half in three groups).
 */
static int
clock_snapshot(int failing)
{
	unsigned int	ok[DOM_BUCKETS] = { 0 }, val[DOM_BUCKETS] = { 0 };
	unsigned int	i;

	for (i = 0; i < 6; i++)
		ok[4 + turn++ % 12]++;
	if (failing)
		val[0] = 2, val[1] = val[2] = val[3] = 1;
	recursions(ok, val);
	return (snapshot(100, failing ? 3 : 0));
}

/*
 * Named's clock stepped a day back (the catalogue's): the cache answers
 * what it validated, the fresh names of signed domains fail validation,
 * most of them one popular domain's.  Beside the step, moved within
 * half a second, saying why; without it (the relay before the rule),
 * taken for that domain's fault, or too little to tell, for longer.
 */
static void
test_validation_failing_after_a_clock_step(void **state)
{
	int	i, step;

	(void)state;
	for (step = 0; step < 2; step++) {
		start_grouped("1s", "      recursion-failure-ratio: 50%\n");
		/* Ten healthy seconds: announced, the usual learnt. */
		for (i = 0; i < 100; i++)
			(void)clock_snapshot(0);
		assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
		if (step) {
			r.feed.stepped_at = now;
			r.feed.stepped_ms = -86400000;
		}
		for (i = 1; i <= 5; i++) {
			(void)clock_snapshot(1);
			if (st()->route.mode != ROUTE_ANNOUNCED)
				break;
		}
		if (!step) {
			assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
			assert_null(strstr(st()->reason, "clock stepped"));
			stop(NULL);
			continue;
		}
		assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
		assert_true(i <= 5);
		assert_non_null(strstr(st()->reason, "named's clock stepped "
		    "back by 86400s"));
		assert_non_null(strstr(st()->reason, "failed validation in 4 "
		    "domain groups"));
	}
}

/*
 * A snapshot of 300 queries, 'sf' of them SERVFAIL: 'fast' + 'late'
 * fresh names resolved in groups 4-15 in turn, within 20 ms or after
 * 2 s, and 'bad' failing validation within 20 ms in groups
 * first..first+n-1 in turn; each started and ended within the snapshot
 * (none overdue after it).
 */
static void
servfail_snapshot(unsigned int fast, unsigned int late, unsigned int bad,
    unsigned int first, unsigned int n, unsigned int sf)
{
	unsigned int	ok[DOM_BUCKETS] = { 0 }, val[DOM_BUCKETS] = { 0 };
	unsigned int	i;

	for (i = 0; i < fast + late; i++)
		ok[4 + turn++ % 12]++;
	for (i = 0; i < bad; i++)
		val[first + fturn++ % n]++;
	recursions(ok, val);
	latencies(fast + bad, late);
	(void)snapshot(300, sf);
}

/* ... each failing recursion one client's SERVFAIL. */
static void
group_snapshot(unsigned int fast, unsigned int late, unsigned int bad,
    unsigned int first, unsigned int n)
{
	servfail_snapshot(fast, late, bad, first, n, bad);
}

/*
 * Ten seconds of 30 fresh names a snapshot in group 0, each resolved
 * within 20 ms: announced, the usual learnt.
 */
static void
usual(void)
{
	int	i;

	for (i = 0; i < 100; i++)
		group_snapshot(30, 0, 0, 0, 1);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
}

/* 'n' snapshots of group_snapshot()'s, still announced after each. */
static void
steady(int n, unsigned int fast, unsigned int late, unsigned int bad,
    unsigned int first, unsigned int groups)
{
	while (n-- > 0) {
		group_snapshot(fast, late, bad, first, groups);
		assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	}
}

/*
 * An outage's end (the catalogue's .nl bogus, 2 s after it was fixed):
 * late answers came in, none overdue now, and names elsewhere resolved
 * below their usual over the spans the recursions' excuse grows (the
 * outage's failures in them), while the recursion check's own ratio
 * was within its limit.  The latency check asked the recursions' judge,
 * which excused nothing, and moved the node for 0.3 s: "recursion p95
 * <=5000ms > 1000ms over 1.0s (102 answers); no failures in the
 * plugin's domain groups to tell whose fault".  With none overdue and
 * answers as fast as usual, failures are the recursion check's to
 * judge, not latency's.
 */
static void
test_late_answers_none_overdue_are_the_recursions_to_judge(void **state)
{
	int	i;

	(void)state;
	start_grouped("1s", "      recursion-failure-ratio: 90%\n"
	    "      recursion-latency:\n        quantile: 95%\n"
	    "        max: 1s\n");
	for (i = 0; i < 100; i++)
		group_snapshot(6, 0, 0, 4, 12);
	assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
	steady(20, 4, 1, 2, 4, 12);
	assert_true(st()->chk[CHK_LATENCY].excused);
	/* An outage's end: not learnt as the usual. */
	assert_true(st()->chk[CHK_LATENCY].unusual);
	assert_non_null(strstr(st()->chk[CHK_LATENCY].why, "none overdue"));
}

/*
 * A fault of the world's, then its end (the catalogue's .nl bogus,
 * 1.3-2.9 s after it was fixed, in 4 trials of 13): its failures were
 * concentrated in .nl and excused; at its end they fell within the
 * recursion check's limit, and what still failed (the domains hosted
 * on .nl's servers, under every suffix) was spread, so "far beyond the
 * usual" (fault_worse(), meant for a clock or trust anchor gone wrong
 * within the limit) moved the node: "recursion failures 27% <= 50%
 * over 1.2s ..., but far beyond the usual: failures in 6 of 16 domain
 * groups".  Within the window (10 s here, as the catalogue's) of an
 * excuse as the world's, the failures it holds are that fault's: not
 * asked, nor learnt as the usual.  Past it, asked (learnt meanwhile,
 * they were the usual by then, and nothing was ever asked).
 */
static void
test_a_world_faults_end_is_not_far_beyond_the_usual(void **state)
{
	int	i;

	(void)state;
	start_grouped("10s", "      recursion-failure-ratio: 50%\n");
	usual();
	/* The world's: one group fails, beyond the limit, excused. */
	steady(20, 30, 0, 40, 0, 1);
	assert_true(st()->chk[CHK_RECFAIL].excused);
	assert_non_null(strstr(st()->chk[CHK_RECFAIL].why, "external fault"));
	/* Its end: a third fail, within the limit, everywhere. */
	steady(99, 30, 0, 15, 0, 16);
	/* The same past the window (10 s): far beyond the usual. */
	for (i = 0; i < 10 && st()->route.mode == ROUTE_ANNOUNCED; i++)
		group_snapshot(30, 0, 15, 0, 16);
	assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
	assert_non_null(strstr(st()->reason, "far beyond the usual"));
}

/*
 * A fault of the world's, then failures spread within its window, on
 * the SERVFAIL check (the catalogue's bogus .nl, 7.9 s in, 1 trial of
 * 10): the check's own short span ordered the groups by a bunch of the
 * background's failures, and the rest resolved below its usual ("SERVFAIL
 * 22% > 20% over 0.2s (106 queries); failures in 7 of 16 domain groups
 * and 5 of 16 public-suffix groups; names elsewhere resolve 30% of 129
 * over 2.0s; usually 77%: this node"), while the recursion check
 * excused the recursions at the same moment.  Here the spread failures'
 * names are asked by several clients each: SERVFAIL over its limit,
 * recursion failures within theirs.  Within the window, whether names
 * elsewhere resolve is the recursion check's to judge; past it, the
 * SERVFAIL check's own again.  Without a recursion check nobody else
 * judges them: this node's at once, as before.
 */
static void
test_a_world_faults_servfails_are_the_recursions_to_judge(void **state)
{
	struct check_state	*sf = &st()->chk[CHK_SERVFAIL];
	int			 i, rec;

	(void)state;
	/* With a recursion check (within its limit throughout), and without. */
	for (rec = 1; rec >= 0; rec--) {
		start_grouped("10s", rec ?
		    "      recursion-failure-ratio: 90%\n" : "");
		sf = &st()->chk[CHK_SERVFAIL];
		usual();
		/* The world's: one group fails, beyond the limit, excused. */
		steady(20, 30, 0, 80, 0, 1);
		assert_true(sf->excused);
		assert_non_null(strstr(sf->why, "external fault"));
		/* Spread, each failing name asked by four clients. */
		for (i = 0; i < 95 && st()->route.mode == ROUTE_ANNOUNCED; i++)
			servfail_snapshot(30, 0, 16, 0, 16, 64);
		if (!rec) {
			/* Nobody else to judge them: this node's, as before. */
			assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
			assert_true(i <= 3);
			assert_non_null(strstr(sf->why, "names elsewhere "
			    "resolve"));
			continue;
		}
		assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
		assert_true(sf->excused && sf->unusual);
		assert_non_null(strstr(sf->why, "after an excuse as the "
		    "world's; failures are the recursion check's to judge"));
		/* The same past the window (10 s): the SERVFAIL check's own. */
		for (i = 0; i < 20 && st()->route.mode == ROUTE_ANNOUNCED; i++)
			servfail_snapshot(30, 0, 16, 0, 16, 64);
		assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
		assert_true(sf->bad);
		assert_non_null(strstr(sf->why, "names elsewhere resolve"));
		assert_false(st()->chk[CHK_RECFAIL].bad);
		stop(NULL);
	}
}

/*
 * 'n' recursions of group g started, and 'end' of those started before
 * ended failing (a timeout: neither the servers' nor validation's).
 */
static void
pending(unsigned int g, unsigned int n, unsigned int end)
{
	unsigned int	none[DOM_BUCKETS] = { 0 };

	rec_n[AH_REC_STARTED] += n;
	dom_n[AH_DOM_RSTART][g] += n;
	rec_n[AH_REC_TIMEOUT] += end;
	dom_n[AH_DOM_RDONE][g] += end;
	dom_n[AH_DOM_RBAD][g] += end;
	dom_n[AH_DOM_RTMO][g] += end;
	dom_n[AH_DOM_FAIL][g] += end;
	recursions(none, none);
}

/*
 * A fault of the world's, then its end, on the latency check (the
 * catalogue's .nl bogus, 1.45 s after it was fixed, in 1 trial of 5 on
 * 61028a0): late answers, a few recursions overdue in one group, and
 * what still failed (the domains hosted on .nl's servers, under every
 * suffix) spread, so names elsewhere resolved below their usual over
 * spans reaching into the outage: "recursion p95 <=2000ms > 1000ms
 * over 1.2s (100 answers); failures in 16 of 16 domain groups and 4 of
 * 16 public-suffix groups; names elsewhere resolve 65% of 165 over
 * 2.8s; usually 82%: this node".  Answers as fast as usual: within the
 * window of an excuse as the world's, whether names fail is the
 * recursion check's question.  Without a recursion check nobody else
 * judges them: not excused, as before.
 */
static void
test_a_world_faults_end_is_the_recursions_to_judge(void **state)
{
	struct check_state	*lt;
	int			 i, rec;

	(void)state;
	/* With a recursion check (within its limit throughout), and without. */
	for (rec = 1; rec >= 0; rec--) {
		start_grouped("10s", rec ?
		    "      recursion-failure-ratio: 90%\n"
		    "      recursion-latency:\n        quantile: 95%\n"
		    "        max: 1s\n" : "      recursion-latency:\n"
		    "        quantile: 95%\n        max: 1s\n");
		lt = &st()->chk[CHK_LATENCY];
		usual();
		/* The world's: group 0's recursions go unanswered, excused. */
		for (i = 0; i < 20; i++) {
			pending(0, 40, 0);
			group_snapshot(30, 3, 0, 0, 1);
			assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
		}
		assert_true(lt->excused);
		assert_non_null(strstr(lt->why, "external fault"));
		/* Its end: they time out; failures spread, a few overdue. */
		pending(0, 0, 800);
		for (i = 0; i < 95 && st()->route.mode == ROUTE_ANNOUNCED;
		    i++) {
			pending(1, 2, 0);
			group_snapshot(30, 3, 12, 0, 16);
		}
		if (!rec) {
			/* Nobody else to judge them: not excused, as before. */
			assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
			assert_true(lt->bad);
			assert_null(strstr(lt->why, "recursion check's"));
			continue;
		}
		assert_int_equal(st()->route.mode, ROUTE_ANNOUNCED);
		assert_true(lt->excused && lt->unusual);
		assert_non_null(strstr(lt->why, "after an excuse as the "
		    "world's, and answers not slower than usual"));
		stop(NULL);
	}
}

static void
test_the_note_is_ahead_of_exabgp(void **state)
{
	char	note[1024], head[128];

	(void)state;
	start("");
	handover_read(&r, now);
	routes_note(note, sizeof(note));
	snprintf(head, sizeof(head), "handover version=1 from=%ld exabgp=%ld "
	    "exabgp_started=%llu at=", (long)getpid(), (long)getppid(),
	    started_at(getppid()));
	assert_memory_equal(note, head, strlen(head));
	assert_non_null(strstr(note, " by=relay\nservice name=dns "
	    "view=_default route=withdrawn since="));
	/* Every command finds the note saying so already. */
	note_first = 1;
	r.feed.state = FEED_UP;
	assert_true(until(ROUTE_ANNOUNCED, 5, 100, 0) > 0);
	assert_true(until(ROUTE_DEGRADED, 5, 100, 50) > 0);
	r.feed.state = FEED_DOWN;
	assert_int_equal(health_judge(&r, 0, now, 0), 1);
	assert_int_equal(st()->route.mode, ROUTE_WITHDRAWN);
	assert_int_equal(nsent, 3);
}

static void
test_a_dead_relays_note_is_taken_over_whatever_its_age(void **state)
{
	char	 path[96], note[1024];
	pid_t	 dead;
	FILE	*f;

	(void)state;
	start("");
	/* A pid that was ours and is gone. */
	if ((dead = fork()) == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	snprintf(path, sizeof(path), "%s/relay.sock%s", dir, ROUTES_SUFFIX);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "handover version=1 from=%ld exabgp=%ld exabgp_started=%llu "
	    "at=1 by=relay\nservice name=dns view=_default route=depreferred "
	    "since=2\n", (long)dead, (long)getppid(), started_at(getppid()));
	fclose(f);
	r.feed.state = FEED_HELLO;
	handover_read(&r, now);
	assert_int_equal(st()->route.mode, ROUTE_DEGRADED);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0], ROUTE_DEGRADED);
	assert_int_equal(st()->route.since, 2);
	snprintf(note, sizeof(note), "relay %ld had it depreferred when it "
	    "died (ExaBGP respawned this relay)", (long)dead);
	assert_string_equal(st()->route.history[0].reason, note);
	assert_int_equal(r.taken_from, (uint64_t)dead);
	assert_string_equal(r.taken_after, "crash");
	assert_int_equal(health_judge(&r, 0, now + 50, 0), 0);
	/* Kept, rewritten as this relay's own. */
	routes_note(note, sizeof(note));
	assert_non_null(strstr(note, " route=depreferred since=2\n"));
	assert_null(strstr(note, "at=1 "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fail_closed_then_rise, stop),
		cmocka_unit_test_teardown(
		    test_validation_failing_after_a_clock_step, stop),
		cmocka_unit_test_teardown(test_hard_trouble_withdraws_at_once,
		    stop),
		cmocka_unit_test_teardown(test_soft_trouble_degrades_after_fall,
		    stop),
		cmocka_unit_test_teardown(test_when_down_withdraw, stop),
		cmocka_unit_test_teardown(test_release_ends_the_hold, stop),
		cmocka_unit_test_teardown(test_degraded_comes_back_degraded,
		    stop),
		cmocka_unit_test_teardown(test_retry_without_traffic, stop),
		cmocka_unit_test_teardown(test_drain_until_quiet, stop),
		cmocka_unit_test_teardown(test_drain_ends_with_named, stop),
		cmocka_unit_test_teardown(test_taken_over_until_the_feed_is_up,
		    stop),
		cmocka_unit_test_teardown(
		    test_taken_over_until_named_is_found_gone, stop),
		cmocka_unit_test_teardown(
		    test_taken_over_no_longer_than_hello_and_stale_after, stop),
		cmocka_unit_test_teardown(
		    test_taken_over_depreferred_or_not_at_all, stop),
		cmocka_unit_test_teardown(
		    test_the_reason_names_the_failure_first, stop),
		cmocka_unit_test_teardown(
		    test_late_answers_none_overdue_are_the_recursions_to_judge,
		    stop),
		cmocka_unit_test_teardown(
		    test_a_world_faults_end_is_not_far_beyond_the_usual, stop),
		cmocka_unit_test_teardown(
		    test_a_world_faults_end_is_the_recursions_to_judge, stop),
		cmocka_unit_test_teardown(
		    test_a_world_faults_servfails_are_the_recursions_to_judge,
		    stop),
		cmocka_unit_test_teardown(test_the_note_is_ahead_of_exabgp,
		    stop),
		cmocka_unit_test_teardown(
		    test_a_dead_relays_note_is_taken_over_whatever_its_age,
		    stop),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
