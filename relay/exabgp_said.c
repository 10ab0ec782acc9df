/* SPDX-License-Identifier: MPL-2.0 */
/*
 * exabgp_said.c - what one line from ExaBGP says: an answer to a
 * command, a session's change, a line of its answer to 'show neighbor
 * extensive', or nothing of ours.  Decided apart from acting on it
 * (exabgp.c reads, sessions.c keeps), so that the fuzz target
 * (tests/fuzz/fuzz_exabgp.c) reaches every decision.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahproto.h"
#include "exabgp.h"

/* A line cut at spaces: up to 'max' words, the rest in *rest. */
static size_t
words(char *buf, char **w, size_t max, char **rest)
{
	size_t n = 0;

	*rest = buf;
	while (n < max && (w[n] = strtok_r(n ? NULL : buf, " ", rest)) != NULL)
		n++;
	if (*rest == NULL)
		*rest = buf + strlen(buf);
	return (n);
}

/* "neighbor PEER up", "... connected", "... down - REASON" */
static enum exabgp_said
said_neighbor(char *buf, struct said *s)
{
	static const char *const states[] = { "up", "down", "connected" };
	char	*w[3], *rest;
	size_t	 i;

	if (words(buf, w, 3, &rest) != 3)
		return (SAID_OTHER);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(w[2], states[i]) == 0)
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return (SAID_OTHER);
	snprintf(s->peer, sizeof(s->peer), "%s", w[1]);
	snprintf(s->state, sizeof(s->state), "%s", w[2]);
	if (strncmp(rest, "- ", 2) == 0)
		rest += 2;
	snprintf(s->reason, sizeof(s->reason), "%s", rest);
	return (SAID_NEIGHBOR);
}

/* A whole number 0..max, then 'sep' (or the end, for '\0'). */
static int
number(const char **p, long long max, char sep, long long *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return (-1);
	errno = 0;
	*v = strtoll(*p, &end, 10);
	if (errno != 0 || *v > max || *end != sep)
		return (-1);
	*p = sep != '\0' ? end + 1 : end;
	return (0);
}

/*
 * How long a session has been up, as Python prints a timedelta:
 * "0:00:05", "1 day, 2:03:04", "3 days, 0:00:00"; -1 if not that.
 */
static int64_t
uptime_ms(const char *p)
{
	long long	d = 0, h, m, sec;

	if (strchr(p, ',') != NULL) {
		if (number(&p, 1000000, ' ', &d) < 0 ||
		    (strncmp(p, "day, ", 5) != 0 &&
		    strncmp(p, "days, ", 6) != 0))
			return (-1);
		p = strchr(p, ',') + 2;
	}
	if (number(&p, 23, ':', &h) < 0 || number(&p, 59, ':', &m) < 0 ||
	    number(&p, 59, '\0', &sec) < 0)
		return (-1);
	return ((((d * 24 + h) * 60 + m) * 60 + sec) * 1000);
}

/*
 * A line of ExaBGP 4.2's answer to 'show neighbor extensive' that the
 * relay reads: "Neighbor PEER", then indented, "state FSM-STATE", "up
 * for TIME", "AS LOCAL PEER" and, per family, "ipv4 unicast: LOCAL
 * REMOTE ADD-PATH".
 */
static enum exabgp_said
said_answer(char *buf, struct said *s)
{
	char		*w[5], *rest, *p;
	const char	*q;
	size_t		 n, i;
	long long	 v;

	if (strncmp(buf, "Neighbor ", 9) == 0) {
		if (words(buf, w, 3, &rest) != 2 ||
		    strlen(w[1]) >= sizeof(s->peer))
			return (SAID_OTHER);
		snprintf(s->peer, sizeof(s->peer), "%s", w[1]);
		return (SAID_PEER);
	}
	if (strncmp(buf, "   ", 3) != 0)
		return (SAID_OTHER);
	/* Columns are padded with spaces, the time's own words too. */
	for (n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
	p = buf + strspn(buf, " ");
	if (strncmp(p, "up for ", 7) == 0) {
		p += 7 + strspn(p + 7, " ");
		if ((s->up_ms = uptime_ms(p)) < 0)
			return (SAID_OTHER);
		return (SAID_PEER_UP);
	}
	n = words(buf, w, 5, &rest);
	if (n == 3 && strcmp(w[0], "AS") == 0) {
		/* Both configured; a peer's "n/a" is taken as not known. */
		q = w[1];
		if (number(&q, UINT32_MAX, '\0', &v) < 0 || v == 0)
			return (SAID_OTHER);
		s->local_as = (uint32_t)v;
		q = w[2];
		if (number(&q, UINT32_MAX, '\0', &v) == 0)
			s->peer_as = (uint32_t)v;
		return (SAID_PEER_AS);
	}
	if (n == 2 && strcmp(w[0], "state") == 0 &&
	    strlen(w[1]) < sizeof(s->state)) {
		for (i = 0; w[1][i] >= 'A' && w[1][i] <= 'Z'; i++)
			;
		if (i == 0 || w[1][i] != '\0')
			return (SAID_OTHER);
		snprintf(s->state, sizeof(s->state), "%s", w[1]);
		return (SAID_PEER_STATE);
	}
	if (n == 5 && strcmp(w[1], "unicast:") == 0 &&
	    strcmp(w[2], "enabled") == 0 && (strcmp(w[0], "ipv4") == 0 ||
	    strcmp(w[0], "ipv6") == 0)) {
		s->family = w[0][3] == '4' ? FAM_IPV4 : FAM_IPV6;
		s->agreed = strcmp(w[3], "enabled") == 0 ? 1 :
		    strcmp(w[3], "disabled") == 0 ? 0 : -1;
		return (SAID_PEER_FAMILY);
	}
	return (SAID_OTHER);
}

/*
 * What ExaBGP said in one line, decided without acting on it (the fuzz
 * target's entry point, tests/fuzz/fuzz_exabgp.c), with what it says
 * in 's'.  Anything else is not ours to judge.
 */
enum exabgp_said
exabgp_said(const char *line, size_t n, struct said *s)
{
	char buf[512];

	memset(s, 0, sizeof(*s));
	if (n == 4 && memcmp(line, "done", 4) == 0)
		return (SAID_DONE);
	if (n == 5 && memcmp(line, "error", 5) == 0)
		return (SAID_ERROR);
	if (n >= 8 && memcmp(line, "shutdown", 8) == 0)
		return (SAID_SHUTDOWN);
	if (n >= sizeof(buf) || memchr(line, '\0', n) != NULL)
		return (SAID_OTHER);
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (n > 9 && memcmp(line, "neighbor ", 9) == 0)
		return (said_neighbor(buf, s));
	return (said_answer(buf, s));
}
