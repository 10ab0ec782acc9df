/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_access.c - who may change things on the control socket, judged
 * from peer credentials and the user database (relay/access.c).
 */
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "access.h"
#include "parse.h"


static struct relay_conf rc;
static char why[256];

static void
admin_group(const char *name)
{
	struct group *gr = getgrnam(name);

	assert_non_null(gr);
	snprintf(rc.admin_group, sizeof(rc.admin_group), "%s", name);
	rc.admin_gid = gr->gr_gid;
}

static uid_t
uid_of(const char *user)
{
	struct passwd *pw = getpwnam(user);

	assert_non_null(pw);
	return (pw->pw_uid);
}

static void
test_anyone_may_read(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(access_check(&rc, PRIV_READ, 65534, 65534, why,
	    sizeof(why)), 0);
}

static void
test_root_may_change(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(access_check(&rc, PRIV_ADMIN, 0, 0, why,
	    sizeof(why)), 0);
}

static void
test_others_refused_without_admin_group(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(access_check(&rc, PRIV_ADMIN, uid_of("nobody"),
	    65534, why, sizeof(why)), -1);
	assert_string_equal(why, "permission denied: uid 65534 (nobody) is "
	    "not root (set control.admin-group to allow others)");
}

static void
test_refusal_names_the_group(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	admin_group("root");
	assert_int_equal(access_check(&rc, PRIV_ADMIN, uid_of("nobody"),
	    65534, why, sizeof(why)), -1);
	assert_string_equal(why, "permission denied: uid 65534 (nobody) is "
	    "not root or in group root");
}

static void
test_primary_group_admits(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	admin_group("nogroup");
	assert_int_equal(access_check(&rc, PRIV_ADMIN, uid_of("nobody"),
	    65534, why, sizeof(why)), 0);
}

/*
 * The kernel passes only the peer's uid and primary gid: supplementary
 * groups come from the user database.  Use any group with a listed
 * member; a host without one has nothing to test.
 */
static void
test_supplementary_group_admits(void **state)
{
	struct group	*gr;
	struct passwd	*pw = NULL;

	(void)state;
	setgrent();
	while ((gr = getgrent()) != NULL)
		if (gr->gr_mem[0] != NULL &&
		    (pw = getpwnam(gr->gr_mem[0])) != NULL &&
		    pw->pw_gid != gr->gr_gid && pw->pw_uid != 0)
			break;
	endgrent();
	if (gr == NULL)
		skip();
	memset(&rc, 0, sizeof(rc));
	admin_group(gr->gr_name);
	assert_int_equal(access_check(&rc, PRIV_ADMIN, pw->pw_uid,
	    pw->pw_gid, why, sizeof(why)), 0);
	/* Not by the primary gid the peer claimed: 65534 is nogroup. */
	admin_group("nogroup");
	assert_int_equal(access_check(&rc, PRIV_ADMIN, pw->pw_uid,
	    pw->pw_gid, why, sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anyone_may_read),
		cmocka_unit_test(test_root_may_change),
		cmocka_unit_test(test_others_refused_without_admin_group),
		cmocka_unit_test(test_refusal_names_the_group),
		cmocka_unit_test(test_primary_group_admits),
		cmocka_unit_test(test_supplementary_group_admits),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
