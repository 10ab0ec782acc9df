/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_request.h - one control request, from its line to a command of
 * the table and its arguments.
 *
 * Pure: it decides, ctl_reply.c acts (access, existence of the named
 * view or service, the handler).  tests/fuzz/fuzz_control.c drives it
 * with any bytes.
 */
#ifndef AH_CTL_REQUEST_H
#define AH_CTL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "ahproto.h"

enum ctl_arg { ARG_NONE, ARG_VIEW, ARG_SERVICE };

struct ctl_reply;
struct relay;

/* A request's arguments, checked against its command's table entry. */
struct ctl_req {
	const char	*arg;		/* the view or service; NULL: all */
	int64_t		 timeout_ms;	/* drain; -1: the service's own */
	char		 who[80];	/* the peer, "uid 0 (root)" */
};

struct ctl_cmd {
	const char	*name;
	enum ctl_arg	 arg;		/* the optional view or service */
	int		 timeout;	/* also takes timeout=MS */
	enum ctl_priv	 priv;
	void		(*run)(struct ctl_reply *, struct relay *,
			    const struct ctl_req *);
};

/* Why a request was refused: the reply's code and msg. */
struct ctl_error {
	const char	*code;		/* "version" or "usage" */
	char		 msg[512];
};

extern const char *const ctl_arg_names[];

/*
 * The command of 'cmds' that 'line' (n bytes, no LF) asks for, with
 * its arguments in 'req' (pointing into 'm'); or NULL and why in 'err'.
 */
const struct ctl_cmd *ctl_request(const char *line, size_t n,
	    const struct ctl_cmd *cmds, size_t ncmds, struct ah_msg *m,
	    struct ctl_req *req, struct ctl_error *err);

#endif /* AH_CTL_REQUEST_H */
