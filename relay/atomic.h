/* SPDX-License-Identifier: MPL-2.0 */
/*
 * atomic.h - a file rewritten whole: into PATH.tmp, synced, renamed
 * over PATH, and the rename synced, so that a crash leaves the old
 * file or the new one, never half of one.
 */
#ifndef AH_ATOMIC_H
#define AH_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * 'fill' writes the contents to 'fd' and returns 0, or -1 with errno.
 * Returns 0, or -1 with the reason in 'why' ("PATH.tmp: REASON" or
 * "PATH: rename: REASON").  The file gets exactly 'mode'.
 */
int	atomic_write(const char *path, mode_t mode,
	    int (*fill)(int fd, const void *arg), const void *arg, char *why,
	    size_t len);
/*
 * The same, unsynced: for a file that must outlive this process, not
 * the machine (the note of the routes, which ExaBGP, gone with the
 * machine, held), and is rewritten on the way to a route change.
 */
int	atomic_note(const char *path, mode_t mode,
	    int (*fill)(int fd, const void *arg), const void *arg, char *why,
	    size_t len);
/* Writes all of 'buf', retrying short writes; 0, or -1 with errno. */
int	atomic_put(int fd, const void *buf, size_t len);

#endif /* AH_ATOMIC_H */
