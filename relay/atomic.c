/*
 * atomic.c - a file rewritten whole, for the state file and the last
 * good configuration: a reader finds the old file or the new one.
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

int
atomic_write(const char *path, mode_t mode,
    int (*fill)(int fd, const void *arg), const void *arg, char *why,
    size_t len)
{
	char	tmp[PATH_MAX + 8], dir[PATH_MAX];
	int	fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	/* Exactly 'mode', whatever the umask. */
	if (fchmod(fd, mode) < 0 || fill(fd, arg) < 0 || fsync(fd) < 0) {
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
	/* The rename itself must reach the disk. */
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return (0);
}
