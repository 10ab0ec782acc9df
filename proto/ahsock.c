/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahsock.c - listening Unix sockets (see ahsock.h).
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahsock.h"

/*
 * Is a process answering on 'sun'?  Only a stale socket refuses.
 * Without waiting: a listener whose queue is full (a process stopped
 * or hung, with the relay's retries queued) kept a blocking connect()
 * waiting for ever, and named with it, at start or in a reconfig's
 * pause; busy so, it is in use.  A socket we may not connect to is
 * not ours to replace either.
 */
static int
in_use(const struct sockaddr_un *sun)
{
	int	fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return (0);
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return (live);
}

/* What a private directory beside the path adds: "/.ahXXXXXX/s". */
#define PRIVATE_DIR_LEN	12

const char *
ah_sock_path_error(const char *path, char *buf, size_t len)
{
	struct sockaddr_un	 sun;
	const char		*slash = strrchr(path, '/');
	size_t			 dir = slash != NULL ? (size_t)(slash - path) : 1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(buf, len, "longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return (buf);
	}
	if (dir + PRIVATE_DIR_LEN >= sizeof(sun.sun_path)) {
		snprintf(buf, len, "too long to create safely: its "
		    "directory's path plus %d bytes must fit in %zu",
		    PRIVATE_DIR_LEN, sizeof(sun.sun_path) - 1);
		return (buf);
	}
	return (NULL);
}

int
ah_sock_listen(const char *path, mode_t mode, gid_t gid, int backlog,
    struct stat *made, char *err, size_t errlen)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	char			 dir[PATH_MAX], tmp[PATH_MAX], why[80];
	const char		*slash;
	int			 fd = -1, n;

	if (ah_sock_path_error(path, why, sizeof(why)) != NULL) {
		snprintf(err, errlen, "socket path %s: %s", why, path);
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			return (-1);
		}
		if (in_use(&sun)) {
			snprintf(err, errlen, "socket %s is in use by another "
			    "process", path);
			return (-1);
		}
	}

	/* A private directory beside the path, so rename() stays local. */
	if ((slash = strrchr(path, '/')) == NULL)
		n = snprintf(dir, sizeof(dir), "./.ahXXXXXX");
	else
		n = snprintf(dir, sizeof(dir), "%.*s/.ahXXXXXX",
		    (int)(slash - path), path);
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "make a directory beside %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	/*
	 * mkdtemp() asks for 0700 through the umask, and ExaBGP gives its
	 * API processes 0137, which takes the owner's search bit and so
	 * the right to bind inside.  Keep the set-group-ID bit the
	 * directory inherited, so the socket takes the group the final
	 * directory would give it (Debian's /run/anycast-health).
	 */
	if (stat(dir, &st) < 0 ||
	    chmod(dir, 0700 | (st.st_mode & S_ISGID)) < 0) {
		snprintf(err, errlen, "make a directory beside %s: %s", path,
		    strerror(errno));
		(void)rmdir(dir);
		return (-1);
	}
	n = snprintf(tmp, sizeof(tmp), "%s/s", dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long to create safely "
		    "(the directory's path plus 12 bytes must fit in %zu): %s",
		    sizeof(sun.sun_path) - 1, path);
		goto fail;
	}
	strcpy(sun.sun_path, tmp);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(tmp, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(tmp, (uid_t)-1, gid) < 0)) {
		snprintf(err, errlen, "set permissions of %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	if (made != NULL && lstat(tmp, made) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* Replaces a stale socket in one step. */
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "rename to %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	(void)rmdir(dir);
	return (fd);

fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	(void)rmdir(dir);
	return (-1);
}

int
ah_acceptor_fd(const struct ah_acceptor *a, int64_t now)
{
	return (now < a->paused_until ? -1 : a->fd);
}

int
ah_accept(struct ah_acceptor *a, int64_t now)
{
	int fd;

	fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		a->paused_until = now + AH_ACCEPT_PAUSE_MS;
	return (fd);
}
