/*
 * test_publisher.c - what the plugin puts on its socket, without named:
 * publisher.c needs no BIND header, so it is included here whole (its
 * statics become reachable) and driven with counters set by hand.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../plugin/publisher.c"

/* Runs one snapshot into a socketpair and returns what arrived. */
static char *
snapshot_text(void)
{
	static char	 text[1 << 20];
	struct client	 c = { .fd = -1 };
	int		 sv[2];
	ssize_t		 n;
	size_t		 len = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c.fd = sv[0];
	c.out = malloc(CLIENT_BUF);
	assert_non_null(c.out);
	send_snapshot(&c, 7);
	client_flush(&c);
	assert_int_equal(c.len, 0);
	client_close(&c);
	while ((n = read(sv[1], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(sv[1]);
	text[len] = '\0';
	return (text);
}

/* A view of the longest name, all of it escaped, and every counter max. */
static void
worst_view(struct ah_view *v, const char *name)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->zlock, NULL);
	snprintf(v->name, sizeof(v->name), "%s", name);
	memset((char *)&v->queries, 0xff,
	    offsetof(struct ah_view, next_walk) -
	    offsetof(struct ah_view, queries));
	v->refs = 1;
}

/*
 * Issue 8 item 5: every record fits in a line for every legal view
 * name and counter values up to 2^64-1, and no record ever refers to a
 * view whose 'view' record is not in the snapshot.
 */
static void
test_worst_case_views_are_whole(void **state)
{
	char		 name[AH_VIEWNAME_MAX], *line, *save = NULL;
	char		 defined[4][AH_VIEWNAME_MAX * 3];
	size_t		 ndefined = 0, nrecords = 0, nviews = 0, nzone = 0;

	(void)state;
	memset(name, ' ', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	worst_view(&pub.views[0], name);
	worst_view(&pub.views[1], "plain");
	/* A zone of the longest name, all escaped, every time at its widest. */
	pub.views[0].zones = calloc(1, sizeof(*pub.views[0].zones));
	assert_non_null(pub.views[0].zones);
	pub.views[0].nzones = 1;
	pub.views[0].watching = true;
	pub.views[0].walked = INT64_MIN;
	memset(pub.views[0].zones[0].name, '%', AH_ZONENAME_MAX - 1);
	strcpy(pub.views[0].zones[0].type, "static-stub");
	pub.views[0].zones[0].found = pub.views[0].zones[0].loaded = true;
	pub.views[0].zones[0].has_serial = true;
	pub.views[0].zones[0].serial = UINT32_MAX;
	pub.views[0].zones[0].loaded_at = pub.views[0].zones[0].refresh =
	    pub.views[0].zones[0].expire = INT64_MIN;
	for (line = strtok_r(snapshot_text(), "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ah_msg	 m;
		const char	*err, *ref;
		size_t		 i;

		assert_true(strlen(line) + 1 <= AH_LINE_MAX);
		assert_int_equal(ah_decode(&m, line, strlen(line), &err), 0);
		if (strcmp(m.type, "tick") == 0) {
			uint64_t n;

			assert_int_equal(ah_get_u64(&m, "views", &n), 0);
			nviews = n;
			continue;
		}
		nrecords++;
		nzone += strcmp(m.type, "zone") == 0;
		if (strcmp(m.type, "view") == 0) {
			assert_true(ndefined < 4);
			/* v2 refers to views by id, v1 by name */
			ref = ah_get(&m, "id") != NULL ? ah_get(&m, "id") :
			    ah_get(&m, "name");
			snprintf(defined[ndefined++], sizeof(defined[0]), "%s",
			    ref);
			continue;
		}
		ref = ah_get(&m, "view");
		assert_non_null(ref);
		for (i = 0; i < ndefined; i++)
			if (strcmp(defined[i], ref) == 0)
				break;
		assert_true(i < ndefined);	/* its view came first */
	}
	assert_int_equal(nviews, 2);
	assert_int_equal(ndefined, 2);
	assert_true(nrecords > 4);
	assert_int_equal(nzone, 1);	/* the longest zone record fits too */
	pub.views[0].refs = pub.views[1].refs = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst_case_views_are_whole),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
