/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_sessions.c - ExaBGP's sessions as its answer to 'show neighbor
 * extensive' gives them, and what their peers do with a depref
 * as-path (relay/sessions.c, relay/exabgp_said.c).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exabgp.h"
#include "log.h"
#include "parse.h"
#include "sessions.h"

/* ExaBGP 4.2's answer, a neighbor's part: the lines the relay reads. */
struct peer {
	const char	*addr;
	const char	*family;	/* "ipv4" or "ipv6" */
	const char	*local_as, *peer_as;
};

static void
say(const char *line)
{
	struct said		said;
	enum exabgp_said	kind;

	kind = exabgp_said(line, strlen(line), &said);
	assert_int_not_equal(kind, SAID_OTHER);
	sessions_answer(kind, &said);
}

/* A whole answer: every neighbor ExaBGP has, each up. */
static void
answer(const struct peer *p, size_t n)
{
	char	line[256];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "Neighbor %s", p[i].addr);
		say(line);
		say("   state                    ESTABLISHED               ");
		snprintf(line, sizeof(line), "   %-20s %15s %15s %15s", "AS",
		    p[i].local_as, p[i].peer_as, "");
		say(line);
		snprintf(line, sizeof(line), "   %-20s %15s %15s %15s",
		    strcmp(p[i].family, "ipv4") == 0 ? "ipv4 unicast:" :
		    "ipv6 unicast:", "enabled", "enabled", "disabled");
		say(line);
	}
	sessions_answered(1);
}

static const struct peer	 fleet[] = {
	{ "192.0.2.1", "ipv4", "65053", "65000" },
	{ "192.0.2.2", "ipv4", "65053", "65001" },
	{ "2001:db8::1", "ipv6", "65053", "65002" },
	{ "198.51.100.1", "ipv4", "65053", "65053" },	/* iBGP */
};

static const struct bgp_session *
session(const char *peer)
{
	const struct bgp_session	*s;
	size_t				 i, n;

	s = sessions_list(&n);
	for (i = 0; i < n; i++)
		if (strcmp(s[i].peer, peer) == 0)
			return (&s[i]);
	fail_msg("no session %s", peer);
	return (NULL);
}

static void
test_as_numbers(void **state)
{
	const struct peer	unknown[] = {
		{ "192.0.2.1", "ipv4", "65053", "n/a" } };
	unsigned int		gen;

	(void)state;
	gen = sessions_as_gen();
	answer(fleet, 4);
	assert_int_equal(session("192.0.2.2")->local_as, 65053);
	assert_int_equal(session("192.0.2.2")->peer_as, 65001);
	assert_int_equal(session("2001:db8::1")->peer_as, 65002);
	assert_true(sessions_as_gen() != gen);
	/* The same again: nothing new to say. */
	gen = sessions_as_gen();
	answer(fleet, 4);
	assert_int_equal(sessions_as_gen(), gen);
	/* A peer's AS ExaBGP does not give is not known, not 0 as an AS. */
	answer(unknown, 1);
	assert_int_equal(session("192.0.2.1")->peer_as, 0);
	assert_true(sessions_as_gen() != gen);
}

static void
test_fate(void **state)
{
	static const uint32_t	 prepend[] = { 65053, 65053 };
	static const uint32_t	 loop[] = { 65053, 65000 };
	static const uint32_t	 other[] = { 65001, 65001 };
	uint32_t		 asn = 0;

	(void)state;
	answer(fleet, 4);
	assert_int_equal(sessions_path_fate(session("192.0.2.1"), prepend, 2,
	    &asn), PATH_TAKEN);
	assert_int_equal(sessions_path_fate(session("192.0.2.1"), loop, 2,
	    &asn), PATH_LOOP);
	assert_int_equal(asn, 65000);
	/* 65001 first, to 65001: a loop before a wrong first AS. */
	assert_int_equal(sessions_path_fate(session("192.0.2.2"), other, 2,
	    &asn), PATH_LOOP);
	assert_int_equal(sessions_path_fate(session("192.0.2.1"), other, 2,
	    &asn), PATH_FIRST);
	assert_int_equal(asn, 65001);
	/* Over iBGP any path holding the AS is a loop; none is taken. */
	assert_int_equal(sessions_path_fate(session("198.51.100.1"), prepend,
	    2, &asn), PATH_LOOP);
	assert_int_equal(sessions_path_fate(session("198.51.100.1"), other, 2,
	    &asn), PATH_TAKEN);
	assert_int_equal(sessions_path_fate(session("198.51.100.1"), prepend,
	    0, &asn), PATH_TAKEN);
}

static void
test_carry(void **state)
{
	static const uint32_t	 loop[] = { 65053, 65000 };
	char			 why[512];
	int64_t			 since;

	(void)state;
	answer(fleet, 3);			/* eBGP only */
	assert_true(sessions_carry("192.0.2.2", FAM_IPV4, loop, 2, &since,
	    why, sizeof(why)));
	assert_false(sessions_carry("192.0.2.1", FAM_IPV4, loop, 2, &since,
	    why, sizeof(why)));
	assert_string_equal(why, "sent, but neighbor 192.0.2.1 (AS 65000) "
	    "drops it as a loop: its as-path [65053 65000] holds AS 65000");
	/* To every neighbor: out through the one that takes it. */
	assert_true(sessions_carry("", FAM_IPV4, loop, 2, &since, why,
	    sizeof(why)));
	answer(fleet, 1);
	assert_false(sessions_carry("", FAM_IPV4, loop, 2, &since, why,
	    sizeof(why)));
	assert_string_equal(why, "sent, but neighbor 192.0.2.1 (AS 65000) "
	    "drops it as a loop: its as-path [65053 65000] holds AS 65000");
	assert_true(sessions_carry("", FAM_IPV4, NULL, 0, &since, why,
	    sizeof(why)));
}

/* A configuration of one service 'dns' with one prefix. */
struct one {
	struct relay_conf	rc;
	struct service_conf	s;
	struct prefix_conf	p;
};

static struct relay_conf *
one(struct one *o, const char *prefix, const char *neighbor,
    const uint32_t *path, size_t npath)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->rc.path, sizeof(o->rc.path), "relay.yaml");
	o->rc.nservices = 1;
	o->rc.services = &o->s;
	snprintf(o->s.name, sizeof(o->s.name), "dns");
	o->s.nprefixes = 1;
	o->s.prefixes = &o->p;
	o->s.depref.npath = npath;
	memcpy(o->s.depref.path, path, npath * sizeof(*path));
	o->s.depref.path_at = (struct conf_pos){ 130, 16 };
	snprintf(o->p.prefix, sizeof(o->p.prefix), "%s", prefix);
	o->p.family = strchr(prefix, ':') != NULL ? AF_INET6 : AF_INET;
	snprintf(o->p.neighbor, sizeof(o->p.neighbor), "%s", neighbor);
	return (&o->rc);
}

/* sessions_check()'s count and words. */
static size_t
check(const struct relay_conf *rc, const struct relay_conf *was,
    char *text, size_t len)
{
	FILE	*out;
	size_t	 n;

	memset(text, 0, len);
	assert_non_null(out = fmemopen(text, len, "w"));
	n = sessions_check(rc, was, out);
	fclose(out);
	return (n);
}

static void
test_reload(void **state)
{
	static const uint32_t	 loop0[] = { 65053, 65000 };
	static const uint32_t	 loop2[] = { 65053, 65002 };
	static const uint32_t	 other[] = { 65009 };
	struct one		 now, was;
	char			 text[4096];

	(void)state;
	answer(fleet, 3);
	/* New, a loop: refused, with the place. */
	assert_int_equal(check(one(&now, "192.0.2.53/32", "192.0.2.1", loop0,
	    2), NULL, text, sizeof(text)), 1);
	assert_string_equal(text, "relay.yaml:130:16: depref as-path [65053 "
	    "65000] of service dns holds AS 65000, the AS of neighbor "
	    "192.0.2.1: it drops the depreferred announcements as a loop\n");
	/* Running so already: said. */
	assert_int_equal(check(&now.rc, &now.rc, text, sizeof(text)), 0);
	assert_true(strncmp(text, "warning: relay.yaml:130:16: ", 28) == 0);
	/* The same path, moved to the neighbor it loops at: new there. */
	assert_int_equal(check(&now.rc, one(&was, "192.0.2.53/32",
	    "192.0.2.2", loop0, 2), text, sizeof(text)), 1);
	/* An IPv4 prefix is not judged by an IPv6 session's AS. */
	assert_int_equal(check(one(&now, "192.0.2.53/32", "", loop2, 2), NULL,
	    text, sizeof(text)), 0);
	assert_string_equal(text, "");
	assert_int_equal(check(one(&now, "2001:db8::53/128", "", loop2, 2),
	    NULL, text, sizeof(text)), 1);
	/* Not ExaBGP's AS first: said for each eBGP session, never refused. */
	assert_int_equal(check(one(&now, "192.0.2.53/32", "", other, 1), NULL,
	    text, sizeof(text)), 0);
	assert_non_null(strstr(text, "warning: relay.yaml:130:16: depref "
	    "as-path [65009] of service dns starts with AS 65009, not 65053, "
	    "ExaBGP's AS on neighbor 192.0.2.1: a router that checks the "
	    "first AS"));
	assert_non_null(strstr(text, "on neighbor 192.0.2.2: "));
	assert_null(strstr(text, "2001:db8::1"));
}

/* The account's lines in the log: one each, at the level they say. */
static void
test_log(void **state)
{
	static const char	*want[] = { "] info: reload: a\n",
	    "] warning: reload: b\n", "] info: reload: c\n", "] warning: d\n",
	    "] warning: e\n" };
	char			 buf[2048], *at;
	FILE			*f;
	size_t			 i, n;
	int			 saved;

	(void)state;
	assert_non_null(f = tmpfile());
	fflush(stderr);
	assert_true((saved = dup(2)) >= 0);
	assert_true(dup2(fileno(f), 2) >= 0);
	log_text(0, "reload: ", "a\nwarning: b\nc");
	log_text(1, "", "d\nwarning: e\n");
	log_text(0, "", "");
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (at = buf, i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(at = strstr(at, want[i]));
		at += strlen(want[i]);
	}
	assert_string_equal(at, "");
	for (n = 0, at = buf; (at = strchr(at, '\n')) != NULL; at++)
		n++;
	assert_int_equal(n, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_numbers),
		cmocka_unit_test(test_fate),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_log),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
