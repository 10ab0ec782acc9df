/*
 * fuzz_exabgp.c - what ExaBGP writes to the relay's stdin: the line
 * reader (exabgp_lines()) and what each line says (exabgp_said()).
 *
 * The input is the stream; its first byte seeds the sizes of the
 * reads, so lines are cut across reads in every way.  Properties:
 *  - exactly the stream's lines of at most AH_LINE_MAX - 1 bytes reach
 *    the relay, in order, each once, each as soon as the read that
 *    completes it; a longer line (a JSON event) is skipped whole, its
 *    tail never taken for a line of its own;
 *  - 'done' and 'error' are acks only as whole lines, 'shutdown' as a
 *    line's start; nothing else is;
 *  - a session's state comes only from a line starting "neighbor ",
 *    its state is up, down or connected, and peer and reason are
 *    NUL-terminated parts of the line.
 */
#include <config.h>

#include <string.h>

#include "ahproto.h"
#include "exabgp.h"
#include "fuzz.h"

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

static void
check_said(const char *line, size_t n)
{
	static const char *const states[] = { "up", "down", "connected" };
	struct bgp_session	 s;
	size_t			 i;

	memset(&s, 0xa5, sizeof(s));
	switch (exabgp_said(line, n, &s)) {
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
		FUZZ_CHECK(memchr(s.peer, '\0', sizeof(s.peer)) != NULL);
		FUZZ_CHECK(memchr(s.state, '\0', sizeof(s.state)) != NULL);
		FUZZ_CHECK(memchr(s.reason, '\0', sizeof(s.reason)) != NULL);
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (strcmp(s.state, states[i]) == 0)
				break;
		FUZZ_CHECK(i < sizeof(states) / sizeof(states[0]));
		FUZZ_CHECK(s.peer[0] != '\0' && strchr(s.peer, ' ') == NULL);
		FUZZ_CHECK(memmem(line, n, s.peer, strlen(s.peer)) != NULL);
		FUZZ_CHECK(memmem(line, n, s.reason, strlen(s.reason)) != NULL);
		break;
	case SAID_OTHER:
		FUZZ_CHECK(!(n == 4 && memcmp(line, "done", 4) == 0));
		FUZZ_CHECK(!(n == 5 && memcmp(line, "error", 5) == 0));
		FUZZ_CHECK(!(n >= 8 && memcmp(line, "shutdown", 8) == 0));
		break;
	default:
		FUZZ_CHECK(!"a decision exabgp_said() does not define");
	}
}

static void
on_line(const char *line, size_t n, void *arg)
{
	struct stream *s = arg;

	s->next = deliverable(s, s->next);
	FUZZ_CHECK(n <= AH_LINE_MAX - 1);
	FUZZ_CHECK(s->next + n < s->size && s->data[s->next + n] == '\n');
	FUZZ_CHECK(memcmp(line, s->data + s->next, n) == 0);
	s->next += n + 1;
	check_said(line, n);
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
