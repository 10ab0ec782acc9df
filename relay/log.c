/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log.c - timestamped lines on stderr (see log.h for why not stdout).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ahtext.h"
#include "log.h"

static const char *progname = "anycast-health";

void
log_init(const char *name)
{
	progname = name;
}

/*
 * One write per line, so lines of concurrent writers do not mix.  Every
 * line goes through ah_vis(): one place, no caller to forget a name
 * from the plugin's feed or a line from ExaBGP.
 */
static void
vlog(const char *level, const char *fmt, va_list ap, const char *err)
{
	struct timeval	tv;
	struct tm	tm;
	char		ts[32], msg[4096], line[4 * sizeof(msg) + 128];
	size_t		n;
	int		m;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	m = snprintf(line, sizeof(line), "%s.%03ld %s[%ld] %s: ", ts,
	    (long)tv.tv_usec / 1000, progname, (long)getpid(), level);
	n = m < 0 ? 0 : (size_t)m;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	n += ah_vis(line + n, sizeof(line) - n - 1, msg, 0);
	if (err != NULL) {
		snprintf(msg, sizeof(msg), ": %s", err);
		n += ah_vis(line + n, sizeof(line) - n - 1, msg, 0);
	}
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	const char	*err = strerror(errno);
	va_list		 ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, NULL);
	va_end(ap);
}

void
log_text(int warn, const char *prefix, const char *text)
{
	static const char	 w[] = "warning: ";
	size_t			 n;
	int			 said;

	while (text != NULL && *text != '\0') {
		if ((said = strncmp(text, w, sizeof(w) - 1) == 0))
			text += sizeof(w) - 1;
		n = strcspn(text, "\n");
		if (warn || said)
			log_warnx("%s%.*s", prefix, (int)n, text);
		else
			log_info("%s%.*s", prefix, (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

int
log_limited(struct log_limit *l, const char *what)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((long long)ts.tv_sec != l->second) {
		if (l->dropped > 0)
			log_warnx("%s: %u more like the last not logged (at "
			    "most %d a second)", what, l->dropped, LOG_LIMIT);
		l->second = (long long)ts.tv_sec;
		l->n = l->dropped = 0;
	}
	if (l->n >= LOG_LIMIT) {
		l->dropped++;
		return (0);
	}
	l->n++;
	return (1);
}

void
log_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	const char	*err = strerror(errno);
	va_list		 ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
