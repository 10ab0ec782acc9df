/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_handover.c - what 'anycastctl restart' needs besides the control
 * socket: whether the relay is ExaBGP's process, and the handover note
 * its successor reads (relay/handover.c; doc/cli.md, section 2.6).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproc.h"
#include "ahproto.h"
#include "ctl.h"
#include "handover.h"
#include "parse.h"

pid_t
relay_parent_of(pid_t pid, char *cmd, size_t len)
{
	struct ah_proc	 pr;
	char		 path[64];
	size_t		 n, i;
	FILE		*f;

	cmd[0] = '\0';
	if (ah_proc_stat(pid, &pr) < 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pr.ppid);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(cmd, 1, len - 1, f);
		fclose(f);
		for (i = 0; i + 1 < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
	}
	return (pr.ppid);
}

static int
put_record(FILE *f, const struct ah_msg *m)
{
	char		line[AH_LINE_MAX];
	struct ah_enc	e;
	size_t		i;
	int		n;

	ah_enc_begin(&e, line, sizeof(line), m->type);
	for (i = 0; i < m->nfields; i++)
		ah_enc_str(&e, m->f[i].key, m->f[i].val);
	if ((n = ah_enc_end(&e)) < 0)
		return (-1);
	return (fwrite(line, 1, (size_t)n, f) == (size_t)n ? 0 : -1);
}

int
handover_note_write(const char *path, pid_t from, pid_t exabgp,
    struct ah_msg *const *m, size_t n, char *why, size_t len)
{
	char		 tmp[AH_PATH_MAX + 32], line[AH_LINE_MAX], by[32];
	char		 proc[32];
	struct ah_enc	 e;
	struct stat	 sb;
	FILE		*f;
	size_t		 i;
	int		 fd, k, bad = 0;

	/* Never through a link someone left in the socket's directory. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	snprintf(proc, sizeof(proc), "/proc/%ld", (long)from);
	if (getuid() == 0 && stat(proc, &sb) == 0)
		(void)fchown(fd, sb.st_uid, (gid_t)-1);
	snprintf(by, sizeof(by), "uid %ld", (long)getuid());
	ah_enc_begin(&e, line, sizeof(line), "handover");
	ah_enc_u64(&e, "version", HANDOVER_VERSION);
	ah_enc_u64(&e, "from", (uint64_t)from);
	ah_enc_u64(&e, "exabgp", (uint64_t)exabgp);
	ah_enc_i64(&e, "at", ah_real_ms());
	ah_enc_str(&e, "by", by);
	if ((k = ah_enc_end(&e)) < 0 || fwrite(line, 1, (size_t)k, f) !=
	    (size_t)k)
		bad = 1;
	for (i = 0; i < n && !bad; i++)
		if (strcmp(m[i]->type, "relay") == 0 ||
		    strcmp(m[i]->type, "service") == 0)
			bad = put_record(f, m[i]) < 0;
	if (fclose(f) != 0 || bad) {
		snprintf(why, len, "%s: %s", tmp, bad ? "cannot encode the "
		    "relay's status" : strerror(errno));
		(void)unlink(tmp);
		return (-1);
	}
	if (rename(tmp, path) < 0) {
		snprintf(why, len, "%s: rename: %s", path, strerror(errno));
		(void)unlink(tmp);
		return (-1);
	}
	return (0);
}

