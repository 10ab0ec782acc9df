/* SPDX-License-Identifier: MPL-2.0 */
/*
 * state.c - which services are drained, in control.state-file, so that
 * neither a restart of the relay nor ExaBGP respawning it puts a
 * drained node back.
 *
 * The file is records of the control protocol's codec, one per line:
 *
 *	state version=1
 *	drained service=dns since=1741953605003 by=uid%200%20(root)
 *
 * It is rewritten whole on every change, into a temporary file that is
 * then renamed over it, so a crash leaves the old file or the new one,
 * never half of one.  It is read once, at start, before anything is
 * announced.  A file that is there but cannot be read or parsed cannot
 * say which services were drained: every service is then taken as
 * drained (fail closed) until an operator undrains it.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "atomic.h"
#include "drain.h"
#include "log.h"
#include "relay.h"
#include "state.h"

#define STATE_VERSION	1
#define STATE_MAX	(256 * 1024)

static void
restore(struct relay *r, size_t i, int64_t since, const char *by,
    const char *why)
{
	drain_restore(&r->svc[i].drain, since, by, why);
	log_info("service %s DRAINED: %s", r->conf->services[i].name, why);
}

/* Every service drained: the file cannot vouch for any of them. */
static void
fail_closed(struct relay *r, const char *what, int line)
{
	char	at[16] = "", why[200];
	size_t	i;

	if (line > 0)
		snprintf(at, sizeof(at), ":%d", line);
	log_warnx("state file %s%s: %s: every service is taken as drained; "
	    "'anycastctl undrain' brings them back", r->conf->state_file, at,
	    what);
	snprintf(why, sizeof(why), "the state file cannot say which services "
	    "are drained (%s)", what);
	for (i = 0; i < r->conf->nservices; i++)
		restore(r, i, ah_real_ms(), "the relay", why);
}

ssize_t
state_read(int fd, char *buf, size_t len)
{
	ssize_t	n, got = 0;

	while ((size_t)got < len &&
	    (n = read(fd, buf + got, len - (size_t)got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		got += n;
	}
	return (got);
}

static ssize_t
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-1);
	n = state_read(fd, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	return (n);
}

size_t
state_service_index(const struct relay *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->conf->nservices; i++)
		if (strcmp(r->conf->services[i].name, name) == 0)
			break;
	return (i);
}

void
state_load(struct relay *r)
{
	static char	 buf[STATE_MAX + 1];
	const char	*path = r->conf->state_file, *err, *name, *by;
	struct ah_msg	 m;
	char		*line, *next, why[200];
	uint64_t	 version, since;
	ssize_t		 n;
	size_t		 i;
	int		 lineno = 0, seen_header = 0;

	if ((n = slurp(path, buf, sizeof(buf))) < 0) {
		if (errno != ENOENT)
			fail_closed(r, strerror(errno), 0);
		return;
	}
	if (n > STATE_MAX) {
		fail_closed(r, "larger than 256 KiB", 0);
		return;
	}
	buf[n] = '\0';
	for (line = buf; *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) == NULL) {
			fail_closed(r, "the last line is cut short", lineno);
			return;
		}
		*next++ = '\0';
		if (line[0] == '#')
			continue;
		if (ah_decode(&m, line, (size_t)(next - 1 - line), &err) < 0) {
			fail_closed(r, err, lineno);
			return;
		}
		if (!seen_header) {
			if (strcmp(m.type, "state") != 0 ||
			    ah_get_u64(&m, "version", &version) < 0 ||
			    version != STATE_VERSION) {
				fail_closed(r, "not 'state version=1'", lineno);
				return;
			}
			seen_header = 1;
			continue;
		}
		if (strcmp(m.type, "drained") != 0 ||
		    (name = ah_get(&m, "service")) == NULL ||
		    ah_get_u64(&m, "since", &since) < 0) {
			snprintf(why, sizeof(why), "not a 'drained' record with "
			    "service and since: '%s'", m.type);
			fail_closed(r, why, lineno);
			return;
		}
		if ((by = ah_get(&m, "by")) == NULL)
			by = "?";
		if ((i = state_service_index(r, name)) == r->conf->nservices) {
			log_info("state file %s:%d: no service '%s' in the "
			    "configuration: forgotten", path, lineno, name);
			continue;
		}
		snprintf(why, sizeof(why), "drained by %.80s before this relay "
		    "started (the state file says so)", by);
		restore(r, i, (int64_t)since, by, why);
	}
	if (!seen_header)
		fail_closed(r, "empty", 0);
}

/* The file's records: the header, one 'drained' per drained service. */
static int
write_records(int fd, const void *arg)
{
	static const char head[] = "# anycast-relay: the drained services "
	    "(anycastctl drain); rewritten whole\n";
	const struct relay	*r = arg;
	const struct drain	*d;
	char			 line[AH_LINE_MAX];
	struct ah_enc		 e;
	size_t			 i;
	int			 n;

	ah_enc_begin(&e, line, sizeof(line), "state");
	ah_enc_u64(&e, "version", STATE_VERSION);
	if (atomic_put(fd, head, sizeof(head) - 1) < 0 ||
	    (n = ah_enc_end(&e)) < 0 || atomic_put(fd, line, (size_t)n) < 0)
		return (-1);
	for (i = 0; i < r->conf->nservices; i++) {
		d = &r->svc[i].drain;
		if (d->state == DRAIN_NONE)
			continue;
		/* Draining is drained for a new relay: it starts withdrawn. */
		ah_enc_begin(&e, line, sizeof(line), "drained");
		ah_enc_str(&e, "service", r->conf->services[i].name);
		ah_enc_i64(&e, "since", d->since);
		ah_enc_str(&e, "by", d->by);
		if ((n = ah_enc_end(&e)) < 0 ||
		    atomic_put(fd, line, (size_t)n) < 0)
			return (-1);
	}
	return (0);
}

int
state_save(struct relay *r)
{
	char why[AH_STATE_PATH_MAX + 64];

	r->state_error[0] = '\0';
	if (atomic_write(r->conf->state_file, 0640, write_records, r, why,
	    sizeof(why)) == 0)
		return (0);
	/* Unsaved, a drain would not survive a restart: say so, loudly. */
	snprintf(r->state_error, sizeof(r->state_error), "state file %.200s: a "
	    "restarted relay will not know which services are drained", why);
	log_warnx("%s", r->state_error);
	return (-1);
}
