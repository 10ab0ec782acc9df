/*
 * test_sock.c - the listening-socket helper shared by the plugin and
 * the relay (proto/ahsock.c), as the unprivileged users that run them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahsock.h"

static char dir[64];

/*
 * Root passes every permission check, and the bug this guards against
 * is one: as root, become nobody in a directory nobody owns.
 */
static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ah-test-sock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	if (geteuid() == 0) {
		if (chown(dir, 65534, 65534) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			return (-1);
	}
	return (0);
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
	fd = ah_sock_listen(path, 0660, (gid_t)-1, 8, err, sizeof(err));
	if (fd < 0)
		fail_msg("%s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	close(fd);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* nothing else was left */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restrictive_umask),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
