/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_exabgp.c - what ExaBGP writes to the relay's stdin: the line
 * reader (exabgp_lines()), what each line says (exabgp_said()), and the
 * table of sessions those lines keep (sessions.c).
 *
 * The input is the stream; its first byte seeds the sizes of the
 * reads, so lines are cut across reads in every way.  Properties:
 *  - exactly the stream's lines of at most AH_LINE_MAX - 1 bytes reach
 *    the relay, in order, each once, each as soon as the read that
 *    completes it; a longer line (a JSON event) is skipped whole, its
 *    tail never taken for a line of its own;
 *  - 'done' and 'error' are answers only as whole lines, 'shutdown' as
 *    a line's start; nothing else is;
 *  - a session's change comes only from a line starting "neighbor ",
 *    its state is up, down or connected, and peer and reason are
 *    NUL-terminated parts of the line;
 *  - the answer to 'show neighbor extensive' is read only from its own
 *    shapes: "Neighbor PEER", and indented "state FSM", "up for TIME",
 *    "ipv4|ipv6 unicast: enabled ...", each value a part of the line;
 *  - the session table, fed every line as if each were part of an
 *    answer, holds at most its size, every session with a peer and a
 *    state up, down or connected, and says in words why a route is not
 *    carried.
 */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "ahproto.h"
#include "exabgp.h"
#include "fuzz.h"
#include "log.h"

/* The log, formatted and dropped: a fuzzer's output is its findings. */
static void
quiet(const char *fmt, va_list ap)
{
	char buf[1024];

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
}

#define QUIET(name)							\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	quiet(fmt, ap);							\
	va_end(ap);							\
}
QUIET(log_info)
QUIET(log_warnx)
QUIET(log_errx)

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	quiet(fmt, ap);
	va_end(ap);
	abort();
}

struct stream {
	const uint8_t	*data;
	size_t		 size;
	size_t		 next;	/* where the next line to deliver starts */
};

/* From 'at', past every line too long to deliver: the next one's start. */
static size_t
deliverable(const struct stream *s, size_t at)
{
	const uint8_t *nl;

	while (at < s->size &&
	    (nl = memchr(s->data + at, '\n', s->size - at)) != NULL &&
	    (size_t)(nl - (s->data + at)) > AH_LINE_MAX - 1)
		at = (size_t)(nl - s->data) + 1;
	return (at);
}

static int
is_state(const char *s)
{
	return (strcmp(s, "up") == 0 || strcmp(s, "down") == 0 ||
	    strcmp(s, "connected") == 0);
}

static int
terminated(const char *s, size_t size)
{
	return (memchr(s, '\0', size) != NULL);
}

static enum exabgp_said
check_said(const char *line, size_t n, struct said *s)
{
	enum exabgp_said	kind;
	size_t			i;

	memset(s, 0xa5, sizeof(*s));
	switch ((kind = exabgp_said(line, n, s))) {
	case SAID_DONE:
		FUZZ_CHECK(n == 4 && memcmp(line, "done", 4) == 0);
		break;
	case SAID_ERROR:
		FUZZ_CHECK(n == 5 && memcmp(line, "error", 5) == 0);
		break;
	case SAID_SHUTDOWN:
		FUZZ_CHECK(n >= 8 && memcmp(line, "shutdown", 8) == 0);
		break;
	case SAID_NEIGHBOR:
		FUZZ_CHECK(n > 9 && memcmp(line, "neighbor ", 9) == 0);
		FUZZ_CHECK(terminated(s->peer, sizeof(s->peer)));
		FUZZ_CHECK(terminated(s->state, sizeof(s->state)));
		FUZZ_CHECK(terminated(s->reason, sizeof(s->reason)));
		FUZZ_CHECK(is_state(s->state));
		FUZZ_CHECK(s->peer[0] != '\0' && strchr(s->peer, ' ') == NULL);
		FUZZ_CHECK(memmem(line, n, s->peer, strlen(s->peer)) != NULL);
		FUZZ_CHECK(memmem(line, n, s->reason, strlen(s->reason)) !=
		    NULL);
		break;
	case SAID_PEER:
		FUZZ_CHECK(n > 9 && memcmp(line, "Neighbor ", 9) == 0);
		FUZZ_CHECK(terminated(s->peer, sizeof(s->peer)));
		FUZZ_CHECK(s->peer[0] != '\0' && strchr(s->peer, ' ') == NULL);
		FUZZ_CHECK(memmem(line, n, s->peer, strlen(s->peer)) != NULL);
		break;
	case SAID_PEER_STATE:
		FUZZ_CHECK(n > 3 && memcmp(line, "   ", 3) == 0);
		FUZZ_CHECK(terminated(s->state, sizeof(s->state)));
		FUZZ_CHECK(s->state[0] != '\0');
		for (i = 0; s->state[i] != '\0'; i++)
			FUZZ_CHECK(s->state[i] >= 'A' && s->state[i] <= 'Z');
		FUZZ_CHECK(memmem(line, n, s->state, strlen(s->state)) != NULL);
		break;
	case SAID_PEER_UP:
		FUZZ_CHECK(n > 3 && memcmp(line, "   ", 3) == 0);
		FUZZ_CHECK(memmem(line, n, "up for", 6) != NULL);
		/* At most a million days: no overflow on the way. */
		FUZZ_CHECK(s->up_ms >= 0 && s->up_ms <= 1000001LL * 86400000);
		break;
	case SAID_PEER_AS:
		FUZZ_CHECK(n > 3 && memcmp(line, "   ", 3) == 0);
		FUZZ_CHECK(memmem(line, n, " AS ", 4) != NULL);
		FUZZ_CHECK(s->local_as != 0);
		break;
	case SAID_PEER_FAMILY:
		FUZZ_CHECK(n > 3 && memcmp(line, "   ", 3) == 0);
		FUZZ_CHECK(memmem(line, n, " unicast: ", 10) != NULL);
		FUZZ_CHECK(s->family == FAM_IPV4 || s->family == FAM_IPV6);
		FUZZ_CHECK(s->agreed >= -1 && s->agreed <= 1);
		break;
	case SAID_OTHER:
		FUZZ_CHECK(!(n == 4 && memcmp(line, "done", 4) == 0));
		FUZZ_CHECK(!(n == 5 && memcmp(line, "error", 5) == 0));
		FUZZ_CHECK(!(n >= 8 && memcmp(line, "shutdown", 8) == 0));
		break;
	default:
		FUZZ_CHECK(!"a decision exabgp_said() does not define");
	}
	return (kind);
}

/* Every line as if it came while the relay awaited an answer. */
static void
check_sessions(enum exabgp_said kind, const struct said *said)
{
	const struct bgp_session	*s;
	static const uint32_t		 path[2] = { 65053, 65000 };
	char				 why[512], names[16];
	size_t				 i, n;
	int64_t				 since;
	int				 carried;

	switch (kind) {
	case SAID_NEIGHBOR:
		sessions_event(said);
		break;
	case SAID_PEER:
	case SAID_PEER_STATE:
	case SAID_PEER_UP:
	case SAID_PEER_AS:
	case SAID_PEER_FAMILY:
		sessions_answer(kind, said);
		break;
	case SAID_DONE:
	case SAID_ERROR:
		sessions_answered(kind == SAID_DONE);
		break;
	default:
		return;
	}
	s = sessions_list(&n);
	FUZZ_CHECK(n <= 64);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(terminated(s[i].peer, sizeof(s[i].peer)));
		FUZZ_CHECK(s[i].peer[0] != '\0');
		FUZZ_CHECK(terminated(s[i].state, sizeof(s[i].state)));
		FUZZ_CHECK(is_state(s[i].state));
		FUZZ_CHECK(terminated(s[i].reason, sizeof(s[i].reason)));
		FUZZ_CHECK((s[i].families & ~(FAM_IPV4 | FAM_IPV6)) == 0);
		FUZZ_CHECK((s[i].agreed & ~(FAM_IPV4 | FAM_IPV6)) == 0);
		carried = sessions_carry(s[i].peer, FAM_IPV6, path, 2, &since,
		    why, sizeof(why));
		FUZZ_CHECK(carried || strncmp(why, "sent, ", 6) == 0);
		FUZZ_CHECK(!carried || strcmp(s[i].state, "up") == 0);
		FUZZ_CHECK(since == s[i].since);
	}
	carried = sessions_carry("", FAM_IPV4, path, 2, &since, why,
	    sizeof(why));
	FUZZ_CHECK(carried || strncmp(why, "sent, ", 6) == 0);
	sessions_names(names, sizeof(names));
	FUZZ_CHECK(terminated(names, sizeof(names)));
}

static void
on_line(const char *line, size_t n, void *arg)
{
	struct stream		*s = arg;
	struct said		 said;
	enum exabgp_said	 kind;

	s->next = deliverable(s, s->next);
	FUZZ_CHECK(n <= AH_LINE_MAX - 1);
	FUZZ_CHECK(s->next + n < s->size && s->data[s->next + n] == '\n');
	FUZZ_CHECK(memcmp(line, s->data + s->next, n) == 0);
	s->next += n + 1;
	kind = check_said(line, n, &said);
	check_sessions(kind, &said);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream	 s = { .data = data, .size = size, .next = 0 };
	struct ah_lines	 l;
	size_t		 fed = 0;
	unsigned int	 seed = size > 0 ? data[0] : 0;

	ah_lines_init(&l);
	while (fed < size) {
		fed = fuzz_read(&l, data, size, fed, &seed);
		exabgp_lines(&l, on_line, &s);
		/* Every whole line read so far was delivered. */
		s.next = deliverable(&s, s.next);
		FUZZ_CHECK(s.next >= fed ||
		    memchr(data + s.next, '\n', fed - s.next) == NULL);
	}
	return (0);
}
