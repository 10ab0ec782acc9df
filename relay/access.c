/* SPDX-License-Identifier: MPL-2.0 */
/*
 * access.c - who may do what on the control socket.
 *
 * Connecting is decided by the socket's mode and group: whoever can
 * connect may read (status, show, metrics).  Commands that change
 * what is announced (drain, undrain, reload) are for root and for
 * members of control.admin-group only.  The peer is known from
 * SO_PEERCRED, which the kernel fills in at connect time and a client
 * cannot forge; group membership comes from the user database, as
 * login would see it, not from the client's current groups, which
 * the kernel does not pass over a Unix socket.
 */
#include <config.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "access.h"
#include "parse.h"


#define GROUPS_MAX	1024

static int
in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd	*pw;
	gid_t		 groups[GROUPS_MAX];
	int		 n = GROUPS_MAX, i;

	if (gid == want)
		return (1);
	if ((pw = getpwuid(uid)) == NULL)
		return (0);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = GROUPS_MAX;		/* truncated: judge on what fits */
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return (1);
	return (0);
}

void
access_who(uid_t uid, char *who, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(who, len, "uid %lu (%s)", (unsigned long)uid,
		    pw->pw_name);
	else
		snprintf(who, len, "uid %lu", (unsigned long)uid);
}

int
access_check(const struct relay_conf *rc, enum ctl_priv priv, uid_t uid,
    gid_t gid, char *why, size_t len)
{
	char who[96];

	if (priv == PRIV_READ || uid == 0)
		return (0);
	if (rc->admin_group[0] != '\0' &&
	    in_group(uid, gid, rc->admin_gid))
		return (0);
	access_who(uid, who, sizeof(who));
	if (rc->admin_group[0] != '\0')
		snprintf(why, len, "permission denied: %s is not root or in "
		    "group %s", who, rc->admin_group);
	else
		snprintf(why, len, "permission denied: %s is not root (set "
		    "control.admin-group to allow others)", who);
	return (-1);
}
