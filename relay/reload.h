/* SPDX-License-Identifier: MPL-2.0 */
/*
 * reload.h - a new configuration without a restart (anycastctl reload,
 * SIGHUP).
 */
#ifndef AH_RELOAD_H
#define AH_RELOAD_H

#include <stddef.h>
#include <stdint.h>

struct relay;

/*
 * Load the configuration file again and move to it, keeping
 * the state of every service that is still there.  Returns 0, or -1 if
 * the file is rejected and the running configuration is untouched.
 * Either way every line of *text (the file's errors, or one line per
 * change and a summary) is logged; the caller frees it.
 */
struct reload_result {
	size_t		 added, removed, changed, unchanged;
	uint64_t	 commands;	/* sent to ExaBGP by the reload */
};

int	reload(struct relay *, char **text, struct reload_result *);

#endif /* AH_RELOAD_H */
