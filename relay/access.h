/* SPDX-License-Identifier: MPL-2.0 */
/*
 * access.h - who may do what on the control socket.
 */
#ifndef AH_ACCESS_H
#define AH_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

struct relay_conf;

enum ctl_priv { PRIV_READ, PRIV_ADMIN };
/* 0 if peer 'uid'/'gid' holds 'priv'; else -1 with why[] in words. */
int	access_check(const struct relay_conf *, enum ctl_priv, uid_t, gid_t,
	    char *why, size_t);
/* The peer in words, for logs and a drain's record: "uid 0 (root)". */
void	access_who(uid_t, char *who, size_t);

#endif /* AH_ACCESS_H */
