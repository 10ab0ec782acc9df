/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log.h - logging for anycast-relay and anycastctl.
 *
 * stdout belongs to ExaBGP (it is the command channel), so every log
 * line goes to stderr, which ExaBGP copies into its own log.  The
 * _warn variants append strerror(errno), the _warnx ones do not.
 * log_errx() is for what is wrong now and stays wrong until someone
 * acts (ExaBGP rejected a route): the relay itself goes on.
 */
#ifndef AH_LOG_H
#define AH_LOG_H

#include <stdarg.h>

void	log_init(const char *progname);
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Each line of 'text' (an account written for anycastctl: a reload's,
 * a check's) as a log line after 'prefix': at warning level if 'warn'
 * or if the line starts "warning: " (the level then says it and the
 * words are dropped), else at info.
 */
void	log_text(int warn, const char *prefix, const char *text);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Lines a local client can cause (a refused request, a slot taken) at
 * most LOG_LIMIT a second from one source, so that a loop of them does
 * not bury the route changes, nor meet journald's own rate limit; the
 * rest are counted, and said when the source may speak again.
 */
#define LOG_LIMIT	5

struct log_limit {
	long long	second;		/* of the monotonic clock */
	unsigned int	n, dropped;
};

/* 1 if a line from 'l' may go out now. */
int	log_limited(struct log_limit *l, const char *what);

#endif /* AH_LOG_H */
