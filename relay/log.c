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

#include "log.h"

static const char *progname = "anycast-health";

void
log_init(const char *name)
{
	progname = name;
}

/*
 * Bytes other than printable ASCII made visible (C style: \n, \r, \t,
 * \\, else \xHH), so that a value from the plugin's feed or from
 * ExaBGP (a view name, a failing domain, a BGP session's reason) can
 * neither end a log line and forge the next one nor drive the reader's
 * terminal.  Every line goes through it: one place, no caller to forget.
 * Returns the length written; 'dst' is cut at a whole escape.
 */
static size_t
visible(char *dst, size_t len, const char *src)
{
	const unsigned char	*p;
	size_t			 n = 0;
	char			 e[5];

	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p == '\\' || *p == '\n' || *p == '\r' || *p == '\t')
			snprintf(e, sizeof(e), "\\%c", *p == '\n' ? 'n' :
			    *p == '\r' ? 'r' : *p == '\t' ? 't' : '\\');
		else if (*p < 0x20 || *p > 0x7e)
			snprintf(e, sizeof(e), "\\x%02x", *p);
		else {
			e[0] = (char)*p;
			e[1] = '\0';
		}
		if (n + strlen(e) >= len)
			break;
		memcpy(dst + n, e, strlen(e));
		n += strlen(e);
	}
	dst[n] = '\0';
	return (n);
}

/* One write per line, so lines of concurrent writers do not mix. */
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
	n += visible(line + n, sizeof(line) - n - 1, msg);
	if (err != NULL) {
		snprintf(msg, sizeof(msg), ": %s", err);
		n += visible(line + n, sizeof(line) - n - 1, msg);
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
