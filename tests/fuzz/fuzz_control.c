/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_control.c - a control request, from its line to a command and
 * its arguments (ctl_request()).
 *
 * The input is one request line.  The table has a command of each
 * shape ctl_reply.c's has: no argument, a view, a service, a service
 * and a timeout.  Properties:
 *  - a command, or an error of code "usage" or "version" with words;
 *  - a command only for a line that decodes, says proto=2, is named
 *    like the command, and has no field but proto, the command's
 *    argument and (for drain) a timeout;
 *  - the argument is the last field of that name, or NULL without
 *    one; the timeout is -1 without one, else its value, at most
 *    AH_DRAIN_TIMEOUT_MAX_MS;
 *  - the request encoded again gives the same decision.
 */
#include <config.h>

#include <string.h>

#include "ahproto.h"
#include "ctl_request.h"
#include "fuzz.h"
#include "parse.h"

static const struct ctl_cmd table[] = {
	{ "status",	   ARG_NONE,	0, PRIV_READ,	NULL },
	{ "show-counters", ARG_VIEW,	0, PRIV_READ,	NULL },
	{ "show-checks",   ARG_SERVICE,	0, PRIV_READ,	NULL },
	{ "drain",	   ARG_SERVICE,	1, PRIV_ADMIN,	NULL },
	{ "reload",	   ARG_NONE,	0, PRIV_ADMIN,	NULL },
};
#define NCMDS	(sizeof(table) / sizeof(table[0]))

static const struct ctl_cmd *
parse(const char *line, size_t n, struct ah_msg *m, struct ctl_req *req,
    struct ctl_error *err)
{
	const struct ctl_cmd *cmd;

	memset(err, 0, sizeof(*err));
	cmd = ctl_request(line, n, table, NCMDS, m, req, err);
	if (cmd == NULL) {
		FUZZ_CHECK(err->code != NULL);
		FUZZ_CHECK(strcmp(err->code, "usage") == 0 ||
		    strcmp(err->code, "version") == 0);
		FUZZ_CHECK(err->msg[0] != '\0');
		FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	}
	return (cmd);
}

static void
check_command(const struct ctl_cmd *cmd, const struct ah_msg *m,
    const struct ctl_req *req)
{
	const char	*arg = NULL, *name = ctl_arg_names[cmd->arg];
	uint64_t	 u;
	size_t		 i;
	int		 timeout = 0;

	FUZZ_CHECK(cmd >= table && cmd < table + NCMDS);
	FUZZ_CHECK(strcmp(m->type, cmd->name) == 0);
	FUZZ_CHECK(ah_get_u64(m, "proto", &u) == 0 && u == AH_PROTO_VERSION);
	for (i = 0; i < m->nfields; i++) {
		if (strcmp(m->f[i].key, "proto") == 0)
			continue;
		if (name != NULL && strcmp(m->f[i].key, name) == 0) {
			arg = m->f[i].val;
			continue;
		}
		FUZZ_CHECK(cmd->timeout && strcmp(m->f[i].key, "timeout") == 0);
		timeout = 1;
	}
	FUZZ_CHECK(req->arg == arg);
	if (!timeout)
		FUZZ_CHECK(req->timeout_ms == -1);
	else {
		FUZZ_CHECK(ah_get_u64(m, "timeout", &u) == 0);
		FUZZ_CHECK(req->timeout_ms == (int64_t)u &&
		    u <= AH_DRAIN_TIMEOUT_MAX_MS);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ctl_cmd	*cmd, *again;
	struct ah_msg		 m, m2;
	struct ctl_req		 req, req2;
	struct ctl_error	 err, err2;
	struct ah_enc		 e;
	char			 buf[AH_LINE_MAX];
	size_t			 i;
	int			 n;

	if ((cmd = parse((const char *)data, size, &m, &req, &err)) == NULL)
		return (0);
	check_command(cmd, &m, &req);

	ah_enc_begin(&e, buf, sizeof(buf), m.type);
	for (i = 0; i < m.nfields; i++)
		ah_enc_str(&e, m.f[i].key, m.f[i].val);
	n = ah_enc_end(&e);
	FUZZ_CHECK(n > 0);
	again = parse(buf, (size_t)n - 1, &m2, &req2, &err2);
	FUZZ_CHECK(again == cmd && req2.timeout_ms == req.timeout_ms);
	FUZZ_CHECK((req.arg == NULL) == (req2.arg == NULL));
	FUZZ_CHECK(req.arg == NULL || strcmp(req.arg, req2.arg) == 0);
	return (0);
}
