/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_request.c - one control request, from its line to a command
 * (see ctl_request.h).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_request.h"
#include "parse.h"

const char *const ctl_arg_names[] = {
	[ARG_NONE] = NULL, [ARG_VIEW] = "view", [ARG_SERVICE] = "service"
};

static void
refuse(struct ctl_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct ctl_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/*
 * The fields besides proto: the command's optional view or service,
 * and a drain's timeout.
 */
static int
request_args(const struct ctl_cmd *cmd, const struct ah_msg *m,
    struct ctl_req *req, struct ctl_error *err)
{
	const char	*key;
	uint64_t	 ms;
	size_t		 i;

	req->arg = NULL;
	req->timeout_ms = -1;
	for (i = 0; i < m->nfields; i++) {
		key = m->f[i].key;
		if (strcmp(key, "proto") == 0)
			continue;
		if (ctl_arg_names[cmd->arg] != NULL &&
		    strcmp(key, ctl_arg_names[cmd->arg]) == 0) {
			req->arg = m->f[i].val;
			continue;
		}
		if (cmd->timeout && strcmp(key, "timeout") == 0) {
			if (ah_get_u64(m, key, &ms) < 0 ||
			    ms > AH_DRAIN_TIMEOUT_MAX_MS) {
				refuse(err, "usage", "%s: timeout '%s' is not "
				    "0..%d milliseconds", cmd->name,
				    m->f[i].val, AH_DRAIN_TIMEOUT_MAX_MS);
				return (-1);
			}
			req->timeout_ms = (int64_t)ms;
			continue;
		}
		if (cmd->arg == ARG_NONE)
			refuse(err, "usage", "%s takes no arguments",
			    cmd->name);
		else
			refuse(err, "usage", "%s: unknown argument '%s' "
			    "(only %s%s)", cmd->name, key,
			    ctl_arg_names[cmd->arg],
			    cmd->timeout ? ", timeout" : "");
		return (-1);
	}
	return (0);
}

const struct ctl_cmd *
ctl_request(const char *line, size_t n, const struct ctl_cmd *cmds,
    size_t ncmds, struct ah_msg *m, struct ctl_req *req,
    struct ctl_error *err)
{
	const struct ctl_cmd	*cmd = NULL;
	const char		*why;
	uint64_t		 proto;
	size_t			 i;

	if (ah_decode(m, line, n, &why) < 0) {
		refuse(err, "usage", "malformed request: %s", why);
		return (NULL);
	}
	if (ah_get_u64(m, "proto", &proto) < 0 || proto != AH_PROTO_VERSION) {
		refuse(err, "version", "protocol version mismatch: this relay "
		    "speaks %d", AH_PROTO_VERSION);
		return (NULL);
	}
	for (i = 0; i < ncmds; i++)
		if (strcmp(cmds[i].name, m->type) == 0)
			cmd = &cmds[i];
	if (cmd == NULL) {
		refuse(err, "usage", "unknown command '%s'", m->type);
		return (NULL);
	}
	if (request_args(cmd, m, req, err) < 0)
		return (NULL);
	return (cmd);
}
