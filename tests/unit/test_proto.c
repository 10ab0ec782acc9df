/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_proto.c - the codec: round trips, escaping, and every way a
 * line can be malformed; text made visible for people (ahtext.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahclock.h"
#include "ahproc.h"
#include "ahproto.h"
#include "ahtext.h"

static int
decode(struct ah_msg *m, const char *s, const char **err)
{
	return (ah_decode(m, s, strlen(s), err));
}

static void
test_roundtrip(void **state)
{
	char		buf[AH_LINE_MAX];
	struct ah_enc	e;
	struct ah_msg	m;
	const char	*err = NULL;
	uint64_t	v;
	int		n;

	(void)state;
	ah_enc_begin(&e, buf, sizeof(buf), "view");
	ah_enc_u64(&e, "seq", 42);
	ah_enc_str(&e, "name", "my view=odd%name\twith\xc3\xa9");
	ah_enc_u64(&e, "queries", UINT64_MAX);
	ah_enc_i64(&e, "delta", -5);
	ah_enc_str(&e, "empty", "");
	n = ah_enc_end(&e);
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	/* Escaped: no space, '=' or '%' inside a value. */
	assert_non_null(strstr(buf, "name=my%20view%3Dodd%25name%09with%C3%A9 "));

	assert_int_equal(ah_decode(&m, buf, (size_t)n - 1, &err), 0);
	assert_string_equal(m.type, "view");
	assert_int_equal(m.nfields, 5);
	assert_string_equal(ah_get(&m, "name"), "my view=odd%name\twith\xc3\xa9");
	assert_int_equal(ah_get_u64(&m, "seq", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ah_get_u64(&m, "queries", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_string_equal(ah_get(&m, "delta"), "-5");
	assert_int_equal(ah_get_u64(&m, "delta", &v), -1);
	assert_string_equal(ah_get(&m, "empty"), "");
	assert_null(ah_get(&m, "absent"));
}

static void
test_type_only(void **state)
{
	struct ah_msg	m;
	const char	*err;

	(void)state;
	assert_int_equal(decode(&m, "tick", &err), 0);
	assert_string_equal(m.type, "tick");
	assert_int_equal(m.nfields, 0);
}

static void
test_rejects(void **state)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "", "bad record type" },
		{ "Hello proto=1", "bad record type" },
		{ "1hello", "bad record type" },
		{ "hello  proto=1", "bad key" },
		{ "hello proto=1 ", "bad separator" },
		{ "hello proto", "key without '='" },
		{ "hello =1", "bad key" },
		{ "hello Proto=1", "bad key" },
		{ "hello a=1 a=2", "duplicate key" },
		{ "hello a=%4", "bad %-escape" },
		{ "hello a=%zz", "bad %-escape" },
		{ "hello a=%00", "NUL in value" },
		{ "hello a=b\tc", "invalid byte in value" },
		{ "hello a=b\rc", "invalid byte in value" },
		{ "hello a=b=c", "invalid byte in value" },
		{ "hello a=\xff", "invalid byte in value" },
		{ "hello\r", "bad record type" },
		{ "abcdefghijabcdefghijabcdefghijabc", "bad record type" },
	};
	struct ah_msg	m;
	const char	*err;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(decode(&m, bad[i].line, &err), -1);
		assert_non_null(err);
		if (strcmp(err, bad[i].why) != 0)
			fail_msg("'%s': got '%s', want '%s'", bad[i].line, err,
			    bad[i].why);
	}
}

static void
test_embedded_nul(void **state)
{
	struct ah_msg	m;
	const char	*err;

	(void)state;
	assert_int_equal(ah_decode(&m, "hello a=b\0c", 11, &err), -1);
}

static void
test_limits(void **state)
{
	char		line[AH_LINE_MAX + 16], buf[AH_LINE_MAX];
	struct ah_enc	e;
	struct ah_msg	m;
	const char	*err;
	size_t		i;
	int		n;

	(void)state;
	/* Exactly at the limit (1023 bytes + LF) decodes; one more does not. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "t v=", 4);
	assert_int_equal(ah_decode(&m, line, AH_LINE_MAX - 1, &err), 0);
	assert_int_equal(strlen(ah_get(&m, "v")), AH_LINE_MAX - 5);
	assert_int_equal(ah_decode(&m, line, AH_LINE_MAX, &err), -1);
	assert_string_equal(err, "line too long");

	/* The encoder refuses to build what the decoder would refuse. */
	ah_enc_begin(&e, buf, sizeof(buf), "t");
	line[AH_LINE_MAX] = '\0';
	ah_enc_str(&e, "v", line + 4);
	assert_int_equal(ah_enc_end(&e), -1);

	/* Too many fields. */
	ah_enc_begin(&e, buf, sizeof(buf), "t");
	for (i = 0; i <= AH_FIELDS_MAX; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%zu", i);
		ah_enc_u64(&e, k, 1);
	}
	/* The encoder writes no NUL: the length is what it returns. */
	n = ah_enc_end(&e);
	assert_true(n > 0);
	assert_int_equal(ah_decode(&m, buf, (size_t)n - 1, &err), -1);
	assert_string_equal(err, "too many fields");

	/* Bad names never reach the wire. */
	ah_enc_begin(&e, buf, sizeof(buf), "Bad");
	assert_int_equal(ah_enc_end(&e), -1);
	ah_enc_begin(&e, buf, sizeof(buf), "ok");
	ah_enc_str(&e, "has space", "1");
	assert_int_equal(ah_enc_end(&e), -1);
}

static void
test_u64(void **state)
{
	struct ah_msg	m;
	const char	*err;
	uint64_t	v;

	(void)state;
	assert_int_equal(decode(&m, "t a=18446744073709551615 "
	    "b=18446744073709551616 c=12x d= e=007", &err), 0);
	assert_int_equal(ah_get_u64(&m, "a", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ah_get_u64(&m, "b", &v), -1);
	assert_int_equal(ah_get_u64(&m, "c", &v), -1);
	assert_int_equal(ah_get_u64(&m, "d", &v), -1);
	assert_int_equal(ah_get_u64(&m, "e", &v), 0);
	assert_int_equal(v, 7);
}

static void
feed_bytes(struct ah_lines *l, const char *s)
{
	size_t	room, n = strlen(s);
	char	*p = ah_lines_space(l, &room);

	assert_true(n <= room);
	memcpy(p, s, n);
	ah_lines_fill(l, n);
}

static void
test_lines(void **state)
{
	struct ah_lines	 l;
	const char	*line;
	size_t		 n;
	char		 big[AH_LINE_MAX + 2];

	(void)state;
	ah_lines_init(&l);
	feed_bytes(&l, "one a=1\ntw");
	assert_int_equal(ah_lines_next(&l, &line, &n), 1);
	assert_int_equal(n, 7);
	assert_memory_equal(line, "one a=1", 7);
	assert_int_equal(ah_lines_next(&l, &line, &n), 0);
	feed_bytes(&l, "o\n\n");
	assert_int_equal(ah_lines_next(&l, &line, &n), 1);
	assert_memory_equal(line, "two", 3);
	assert_int_equal(ah_lines_next(&l, &line, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(ah_lines_next(&l, &line, &n), 0);

	/* A line that cannot end within the limit is an error, not a wait. */
	ah_lines_init(&l);
	memset(big, 'x', AH_LINE_MAX);
	big[AH_LINE_MAX] = '\0';
	feed_bytes(&l, big);
	assert_int_equal(ah_lines_next(&l, &line, &n), -1);
}

/* Feeds 's' into 'l' as if read from a socket. */
static void
fill(struct ah_lines *l, const char *s, size_t n)
{
	size_t	 room;
	char	*space = ah_lines_space(l, &room);

	assert_true(n <= room);
	memcpy(space, s, n);
	ah_lines_fill(l, n);
}

/*
 * A line over the limit on a stream the reader does not own: its tail,
 * read later, must not come out as a line of its own (issue 8 item 13).
 */
static void
test_lines_discard(void **state)
{
	struct ah_lines	 l;
	const char	*line;
	size_t		 n;
	char		 big[AH_LINE_MAX + 100];

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 5, "done ", 5);	/* looks like an ack */
	ah_lines_init(&l);
	fill(&l, big, AH_LINE_MAX);
	assert_int_equal(ah_lines_next(&l, &line, &n), -1);
	ah_lines_discard(&l);
	fill(&l, big + AH_LINE_MAX, sizeof(big) - AH_LINE_MAX - 1);
	assert_int_equal(ah_lines_next(&l, &line, &n), 0);
	fill(&l, "\ndone\n", 6);
	assert_int_equal(ah_lines_next(&l, &line, &n), 1);
	assert_int_equal(n, 4);
	assert_memory_equal(line, "done", 4);
	assert_int_equal(ah_lines_next(&l, &line, &n), 0);

	/* A whole over-long line in the buffer: the next line survives. */
	ah_lines_init(&l);
	fill(&l, big, AH_LINE_MAX + 10);
	fill(&l, "\nerror\n", 7);
	assert_int_equal(ah_lines_next(&l, &line, &n), -1);
	ah_lines_discard(&l);
	assert_int_equal(ah_lines_next(&l, &line, &n), 1);
	assert_memory_equal(line, "error", 5);
}

/* What the log and anycastctl show of a name with control bytes. */
static void
test_vis(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(ah_vis(buf, sizeof(buf), "a\nb\r\t\\\x1b[2J\xc3\xa9", 0),
	    25);
	assert_string_equal(buf, "a\\nb\\r\\t\\\\\\x1b[2J\\xc3\\xa9");
	/* The exposition's own escapes stay; the rest is shown. */
	ah_vis(buf, sizeof(buf), "v=\"a\\\"b\x07\"", AH_VIS_KEEPBS);
	assert_string_equal(buf, "v=\"a\\\"b\\x07\"");
	/*
	 * And its UTF-8, but for the C1 controls (U+009B is a CSI to some
	 * terminals), surrogates, overlong and cut sequences.
	 */
	ah_vis(buf, sizeof(buf), "caf\xc3\xa9 \xef\xbf\xbd \xf0\x9f\x98\x80",
	    AH_VIS_UTF8);
	assert_string_equal(buf, "caf\xc3\xa9 \xef\xbf\xbd \xf0\x9f\x98\x80");
	ah_vis(buf, sizeof(buf), "\xc2\x9b\xed\xa0\x80\xc0\xaf\xe2\x82",
	    AH_VIS_UTF8);
	assert_string_equal(buf, "\\xc2\\x9b\\xed\\xa0\\x80\\xc0\\xaf"
	    "\\xe2\\x82");
	assert_int_equal(ah_vis(buf, 5, "ab\xc3\xa9\xc3\xa9", AH_VIS_UTF8), 4);
	assert_string_equal(buf, "ab\xc3\xa9");
	/* Cut at a whole escape, always terminated. */
	assert_int_equal(ah_vis(buf, 6, "ab\x1b", 0), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(ah_vis(buf, 1, "x", 0), 0);
	assert_string_equal(buf, "");
	assert_string_equal(ah_plural(1), "");
	assert_string_equal(ah_plural(0), "s");
	assert_string_equal(ah_plural(2), "s");
}

/* The relays' starts: the window's, the newest kept, a bad tail ignored. */
static void
test_times_within(void **state)
{
	int64_t	t[3];

	(void)state;
	assert_int_equal(ah_times_within("", 1000, 100, t, 3), 0);
	assert_int_equal(ah_times_within("900,901,950,1000,1001", 1000, 100,
	    t, 3), 3);
	assert_true(t[0] == 901 && t[1] == 950 && t[2] == 1000);
	assert_int_equal(ah_times_within("910,920,930,940", 1000, 100, t, 2),
	    2);
	assert_true(t[0] == 930 && t[1] == 940);
	assert_int_equal(ah_times_within("950,x,990", 1000, 100, t, 3), 1);
	assert_true(t[0] == 950);
	assert_int_equal(ah_times_within("950,990", 1000, 100, t, 0), 0);
}

/*
 * This process as /proc says it, even with a name of spaces and
 * parentheses (comm is the only field that may hold them).
 */
static void
test_proc_stat(void **state)
{
	struct ah_proc	pr, again;

	(void)state;
	assert_int_equal(prctl(PR_SET_NAME, "a) b (c) d"), 0);
	assert_int_equal(ah_proc_stat(getpid(), &pr), 0);
	assert_int_equal(pr.ppid, getppid());
	assert_true(pr.started > 0);
	assert_int_equal(ah_proc_stat(getpid(), &again), 0);
	assert_true(again.started == pr.started);
	assert_int_equal(ah_proc_stat(getppid(), &again), 0);
	assert_true(again.started <= pr.started);
	assert_int_equal(ah_proc_stat(0, &pr), -1);
	assert_int_equal(ah_proc_stat(-1, &pr), -1);
	assert_int_equal(ah_proc_stat(0x7ffffff0, &pr), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_type_only),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_lines_discard),
		cmocka_unit_test(test_vis),
		cmocka_unit_test(test_times_within),
		cmocka_unit_test(test_proc_stat),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
