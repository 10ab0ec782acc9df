/*
 * ctl_restart.c - anycastctl restart: the running relay replaced by the
 * installed anycast-relay, its routes taken over rather than withdrawn.
 *
 * The relay is ExaBGP's process, and ExaBGP, not anycastctl, starts a
 * new one when it dies.  A relay asked to stop (SIGTERM) withdraws
 * everything, as it must when it goes for good, and a relay that
 * starts knowing nothing withdraws too (relay/main.c): either way a
 * flap.  So the relay's status goes into the handover note beside the
 * control socket, which its successor reads (relay/handover.c), and the
 * relay is stopped with SIGKILL, which leaves its routes at ExaBGP.
 * Only 'status' is asked of the old relay, so a relay of any version
 * can be replaced so, the one a package upgrade replaces among them.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "ctl.h"
#include "handover.h"
#include "parse.h"

#define RESTART_WAIT_MS	10000
#define RESTART_POLL_MS	50

/* pid's parent, and its command line in 'cmd' (NULs as spaces). */
static pid_t
parent_of(pid_t pid, char *cmd, size_t len)
{
	char	 path[64], buf[512], *p;
	size_t	 n, i;
	FILE	*f;
	int	 ppid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid": comm may hold spaces and ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %d", &ppid) != 1)
		return (-1);
	cmd[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", ppid);
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(cmd, 1, len - 1, f);
		fclose(f);
		for (i = 0; i + 1 < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
	}
	return ((pid_t)ppid);
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

/*
 * The note: our header, then the relay's own 'relay' and 'service'
 * records as it sent them; the relay's user's, since its successor,
 * of that user, removes it.  Renamed into place whole.
 */
static int
write_note(const char *path, pid_t from, pid_t exabgp,
    const struct reply *status, char *why, size_t len)
{
	char		 tmp[AH_PATH_MAX + 32], line[AH_LINE_MAX], by[32];
	char		 proc[32];
	struct ah_enc	 e;
	struct stat	 sb;
	FILE		*f;
	size_t		 i;
	int		 fd, n, bad = 0;

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
	if ((n = ah_enc_end(&e)) < 0 || fwrite(line, 1, (size_t)n, f) !=
	    (size_t)n)
		bad = 1;
	for (i = 0; i < status->n && !bad; i++)
		if (strcmp(status->m[i]->type, "relay") == 0 ||
		    strcmp(status->m[i]->type, "service") == 0)
			bad = put_record(f, status->m[i]) < 0;
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

static const char *
version_of(const struct reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->m[i]->type, "relay") == 0)
			return (reply_get(r->m[i], "version"));
	return ("?");
}

int
restart(const char *sock, struct reply *reply, const struct output *out)
{
	struct parse_result	 status = { .request = "status",
				    .timeout_ms = -1 };
	struct reply		 old = { 0 };
	char			 note[AH_PATH_MAX + sizeof(HANDOVER_SUFFIX)];
	char			 cmd[256], msg[600], why[300];
	pid_t			 pid, exabgp, peer = 0;
	int64_t			 deadline;
	int			 rc, taken;

	if ((rc = ask(sock, &status, "status", &old, out, &pid, 0)) !=
	    EXIT_OK) {
		reply_free(&old);
		return (rc);
	}
	/* ExaBGP must be there to start the next one. */
	if ((exabgp = parent_of(pid, cmd, sizeof(cmd))) <= 1 ||
	    strstr(cmd, "exabgp") == NULL) {
		snprintf(msg, sizeof(msg), "the relay (pid %ld) is not "
		    "ExaBGP's process (its parent: pid %ld, '%.100s'): nothing "
		    "would start a new one; restart it the way it was started",
		    (long)pid, (long)exabgp, cmd);
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	if (kill(pid, 0) < 0) {
		snprintf(msg, sizeof(msg), "cannot signal the relay (pid "
		    "%ld): %s: restart is for root", (long)pid,
		    strerror(errno));
		out->error(errno == EPERM ? "denied" : "error", msg, NULL);
		reply_free(&old);
		return (errno == EPERM ? EXIT_DENIED : EXIT_ERROR);
	}
	snprintf(note, sizeof(note), "%s%s", sock, HANDOVER_SUFFIX);
	if (write_note(note, pid, exabgp, &old, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "handover note %s: nothing "
		    "restarted", why);
		out->error("error", msg, NULL);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	if (kill(pid, SIGKILL) < 0) {
		snprintf(msg, sizeof(msg), "kill %ld: %s", (long)pid,
		    strerror(errno));
		out->error("error", msg, NULL);
		(void)unlink(note);
		reply_free(&old);
		return (EXIT_ERROR);
	}
	deadline = ah_mono_ms() + RESTART_WAIT_MS;
	for (;;) {
		usleep(RESTART_POLL_MS * 1000);
		rc = ask(sock, &status, "status", reply, out, &peer, 1);
		if (rc == EXIT_OK && peer != pid)
			break;
		reply_free(reply);
		if (rc != EXIT_OK && rc != EXIT_NORELAY) {
			reply_free(&old);
			return (rc);
		}
		if (ah_mono_ms() > deadline) {
			snprintf(msg, sizeof(msg), "no new relay answered on %s "
			    "within %d s after pid %ld was stopped: ExaBGP "
			    "(pid %ld) did not start one (its log says why). "
			    "Its routes stay announced with nobody judging "
			    "them: restart ExaBGP", sock,
			    RESTART_WAIT_MS / 1000, (long)pid, (long)exabgp);
			out->error("error", msg, NULL);
			(void)unlink(note);
			reply_free(&old);
			return (EXIT_ERROR);
		}
	}
	/* The new relay reads the note before it opens its socket. */
	taken = access(note, F_OK) < 0;
	if (!taken)
		(void)unlink(note);
	if (out == &show_output)
		printf("relay %ld (anycast-relay %s) replaced by %ld "
		    "(anycast-relay %s), %s\n\n", (long)pid, version_of(&old),
		    (long)peer, version_of(reply), taken ? "which took its "
		    "routes over" : "which did not read the handover note: "
		    "it started withdrawn");
	reply_free(&old);
	return (EXIT_OK);
}
