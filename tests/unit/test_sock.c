/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_sock.c - the listening-socket helper shared by the plugin and
 * the relay (proto/ahsock.c), as the unprivileged users that run them.
 */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahsock.h"

static char dir[64];

/*
 * The directory's group, other than nobody's own, so the test sees the
 * socket inherit it rather than get the process's.  As in Debian, where
 * exabgp is a member of anycast-health, the process is a member.
 */
#define OTHER_GID	2	/* Debian's 'bin' */

/*
 * Root passes every permission check, and the bug this guards against
 * is one: as root, become nobody in a set-group-ID directory nobody
 * owns, as the relay is in Debian's /run/anycast-health.
 */
static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ah-test-sock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	if (geteuid() == 0) {
		gid_t other = OTHER_GID;

		if (chown(dir, 65534, OTHER_GID) < 0 ||
		    chmod(dir, 02750) < 0 || setgroups(1, &other) < 0 ||
		    setgid(65534) < 0 || setuid(65534) < 0)
			return (-1);
	}
	return (0);
}

/*
 * A socket at the path whose listener takes no more connections (a
 * process stopped or hung, its queue full of the relay's retries): in
 * use, said at once, where the old helper's connect() waited for ever,
 * and named with it, at start or in a reconfig's pause.
 */
static void
test_full_queue_is_in_use(void **state)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	char			d[64], err[256];
	int			l, c, fd;

	(void)state;
	snprintf(d, sizeof(d), "/tmp/ah-test-full.XXXXXX");
	assert_non_null(mkdtemp(d));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s.sock", d);
	assert_true((l = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(l, 0), 0);
	/* Its one place in the queue taken. */
	assert_true((c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) >=
	    0);
	assert_int_equal(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
	alarm(5);
	fd = ah_sock_listen(sun.sun_path, 0660, (gid_t)-1, 8, NULL, err,
	    sizeof(err));
	alarm(0);
	assert_int_equal(fd, -1);
	if (strstr(err, "is in use by another process") == NULL)
		fail_msg("%s", err);
	close(c);
	close(l);
	unlink(sun.sun_path);
	assert_int_equal(rmdir(d), 0);
}

/*
 * ExaBGP runs its API processes with umask 0137: a private directory
 * made by mkdtemp() then lacks its owner's search bit, and binding
 * inside it fails with EACCES unless the helper sets the mode itself.
 */
static void
test_restrictive_umask(void **state)
{
	char		path[96], err[256];
	struct stat	st;
	int		fd;

	(void)state;
	umask(0137);
	snprintf(path, sizeof(path), "%s/relay.sock", dir);
	fd = ah_sock_listen(path, 0660, (gid_t)-1, 8, NULL, err, sizeof(err));
	if (fd < 0)
		fail_msg("%s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* From the set-group-ID directory, as a plain bind would have it. */
	if (getuid() == 65534)
		assert_int_equal(st.st_gid, OTHER_GID);
	close(fd);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* nothing else was left */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* Before the umask test, which leaves its umask. */
		cmocka_unit_test(test_full_queue_is_in_use),
		cmocka_unit_test(test_restrictive_umask),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
