/* SPDX-License-Identifier: MPL-2.0 */
/*
 * lastgood.c - a file broken on disk cannot take a node down.
 *
 * ExaBGP gives up on a process that dies at start-up, and with it every
 * BGP session of the node; a typo pushed to a fleet would do that to
 * every node at its next restart.  So each configuration the relay
 * accepts is copied, byte for byte, beside the state file
 * (relay.state -> relay.last-good.yaml).  Started on a file it rejects,
 * the relay runs on that copy; with no copy it runs on no service and
 * announces nothing, but stays up and answers anycastctl.  Either way
 * it says so (anycastctl status, the metrics, the log) until a reload
 * accepts the file.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ahclock.h"
#include "atomic.h"
#include "lastgood.h"
#include "log.h"
#include "parse.h"
#include "relay.h"

/* relay.state -> relay.last-good.yaml, in the state file's directory. */
static void
copy_path(const char *state_file, char *buf, size_t len)
{
	const char	*base = strrchr(state_file, '/');
	const char	*dot;
	size_t		 n = strlen(state_file);

	base = base != NULL ? base + 1 : state_file;
	if ((dot = strrchr(base, '.')) != NULL && dot != base)
		n = (size_t)(dot - state_file);
	snprintf(buf, len, "%.*s.last-good.yaml", (int)n, state_file);
}

/* conf_load() with the relay's own limit; the errors in *errors. */
static struct relay_conf *
load(const char *path, char **errors)
{
	struct relay_conf	*rc;
	size_t			 len;
	FILE			*f;

	*errors = NULL;
	if ((f = open_memstream(errors, &len)) == NULL)
		fatal("open_memstream");
	if ((rc = conf_load(path, f)) != NULL &&
	    rc->nservices > RELAY_SERVICES_MAX) {
		fprintf(f, "%s: more than %d services\n", path,
		    RELAY_SERVICES_MAX);
		conf_free(rc);
		rc = NULL;
	}
	if (fclose(f) != 0 || *errors == NULL)
		fatal("open_memstream");
	return (rc);
}

static int
put_text(int fd, const void *arg)
{
	const struct relay_conf *rc = arg;

	return (atomic_put(fd, rc->text, rc->textlen));
}

void
lastgood_accepted(struct lastgood *lg, const struct relay_conf *rc)
{
	char why[sizeof(lg->copy) + 64];

	lg->source = CONF_FILE;
	lg->accepted = ah_real_ms();
	lg->error[0] = '\0';
	lg->nerrors = 0;
	lg->rejected = 0;
	copy_path(rc->state_file, lg->copy, sizeof(lg->copy));
	if (atomic_write(lg->copy, 0640, put_text, rc, why,
	    sizeof(why)) == 0) {
		lg->warning[0] = '\0';
		return;
	}
	snprintf(lg->warning, sizeof(lg->warning), "last good configuration "
	    "%.300s: a restart on a broken file will find nothing to run on",
	    why);
	log_warnx("%s", lg->warning);
}

void
lastgood_rejected(struct lastgood *lg, const char *errors)
{
	size_t	n = strcspn(errors, "\n");

	snprintf(lg->error, sizeof(lg->error), "%.*s", (int)n, errors);
	lg->nerrors = conf_count_errors(errors);
	lg->rejected = ah_real_ms();
}

const char *
lastgood_source(const struct lastgood *lg)
{
	static const char *const names[] = { "file", "last-good", "none" };

	return (names[lg->source]);
}

static int64_t
mtime_ms(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return (0);
	return ((int64_t)st.st_mtim.tv_sec * 1000 +
	    st.st_mtim.tv_nsec / 1000000);
}

static const char *
local_time(int64_t ms)
{
	static char	buf[32];
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return (buf);
}

struct relay_conf *
lastgood_start(struct lastgood *lg, const char *path)
{
	struct relay_conf	*rc, *fb;
	char			*errors;

	memset(lg, 0, sizeof(*lg));
	if ((rc = load(path, &errors)) != NULL) {
		free(errors);
		lastgood_accepted(lg, rc);
		return (rc);
	}
	lastgood_rejected(lg, errors);
	log_text(1, "", errors);
	free(errors);

	/* Where the copy would be, from what can be read of the file. */
	if ((fb = conf_fallback(path)) == NULL)
		return (NULL);
	copy_path(fb->state_file, lg->copy, sizeof(lg->copy));
	if ((rc = load(lg->copy, &errors)) != NULL) {
		free(errors);
		conf_free(fb);
		/* Reloads read the file, not the copy. */
		snprintf(rc->path, sizeof(rc->path), "%s", path);
		lg->source = CONF_LAST_GOOD;
		lg->accepted = mtime_ms(lg->copy);
		log_warnx("%s: configuration rejected; running on the last "
		    "good configuration, accepted %s (%s): fix the file, then "
		    "'anycastctl reload'", path, local_time(lg->accepted),
		    lg->copy);
		return (rc);
	}
	errors[strcspn(errors, "\n")] = '\0';
	log_warnx("%s: configuration rejected, and no good configuration to "
	    "run on (%s): nothing is announced; fix the file, then "
	    "'anycastctl reload' (as root)", path, errors);
	free(errors);
	lg->source = CONF_NONE;
	return (fb);
}
