/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahsock.h - the listening Unix sockets of anycast-health: the plugin's
 * publishing socket inside named and the relay's control socket.  One
 * module, so both get the same care: never steal a live socket, clear
 * a stale one, never let the socket exist with looser permissions than
 * asked (without umask(), which would change a whole multithreaded
 * named), and survive running out of file descriptors.
 */
#ifndef AHSOCK_H
#define AHSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Creates, binds and listens on 'path' with 'mode' and, unless it is
 * (gid_t)-1, group 'gid'.  Refuses a path some process answers on, and
 * anything there that is not a socket.  The socket is bound inside a
 * fresh 0700 directory beside 'path', given its mode and group there,
 * and renamed into place, so nobody can connect before it has them.
 * Returns the non-blocking, close-on-exec fd, or -1 with a message in
 * 'err'.  'made', unless NULL, gets the socket's lstat() from inside the
 * private directory, to know it again later: once renamed, something
 * else could be at the path.
 */
int	ah_sock_listen(const char *path, mode_t mode, gid_t gid, int backlog,
	    struct stat *made, char *err, size_t errlen);

/*
 * Why ah_sock_listen() could never create a socket at 'path', in 'buf',
 * or NULL: the path too long for a socket address, or its directory's
 * too long for the private directory the socket is bound in first.
 * For configuration checks, which must refuse what would fail later.
 */
const char	*ah_sock_path_error(const char *path, char *buf, size_t len);

/*
 * accept4() for a listener polled by a loop.  When the process is out
 * of file descriptors (EMFILE, ENFILE) the pending connection stays
 * queued and the listener stays readable: polling it again at once
 * would spin.  Like OpenBGPD's control_accept(), stop polling it for a
 * while instead.
 */
struct ah_acceptor {
	int	fd;
	int64_t	paused_until;	/* monotonic ms; 0: not paused */
};

#define AH_ACCEPT_PAUSE_MS	1000

/* The fd to poll now, or -1 while paused. */
int	ah_acceptor_fd(const struct ah_acceptor *, int64_t now);
/* A new connection (non-blocking, close-on-exec), or -1. */
int	ah_accept(struct ah_acceptor *, int64_t now);

#endif /* AHSOCK_H */
