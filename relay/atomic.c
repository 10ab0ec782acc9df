/* SPDX-License-Identifier: MPL-2.0 */
/*
 * atomic.c - a file rewritten whole, for the state file, the last good
 * configuration and the relay's note of its routes: a reader finds the
 * old file or the new one.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"

int
atomic_put(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
replace(const char *path, mode_t mode, int sync,
    int (*fill)(int fd, const void *arg), const void *arg, char *why,
    size_t len)
{
	char	tmp[PATH_MAX + 8], dir[PATH_MAX];
	int	fd, dfd;

	/* Never through a link someone left in the directory. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) < 0) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	/* Exactly 'mode', whatever the umask. */
	if (fchmod(fd, mode) < 0 || fill(fd, arg) < 0 ||
	    (sync && fsync(fd) < 0)) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		close(fd);
		(void)unlink(tmp);
		return (-1);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		snprintf(why, len, "%s: rename: %s", path, strerror(errno));
		(void)unlink(tmp);
		return (-1);
	}
	if (!sync)
		return (0);
	/* The rename itself must reach the disk. */
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return (0);
}

int
atomic_write(const char *path, mode_t mode,
    int (*fill)(int fd, const void *arg), const void *arg, char *why,
    size_t len)
{
	return (replace(path, mode, 1, fill, arg, why, len));
}

int
atomic_note(const char *path, mode_t mode,
    int (*fill)(int fd, const void *arg), const void *arg, char *why,
    size_t len)
{
	return (replace(path, mode, 0, fill, arg, why, len));
}
