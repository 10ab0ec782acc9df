/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_proto.c - the line protocol: splitter, decoder, encoder.
 *
 * The input is a byte stream as a socket delivers it, so seeds are
 * real protocol text; its length and first byte seed the sizes of the
 * reads, so lines are cut across reads in every way.  Properties:
 *  - ah_lines_next() yields exactly the stream's lines, in order, each
 *    without its LF and shorter than AH_LINE_MAX, and reports -1 only
 *    for a line that really is too long;
 *  - a line ah_decode() accepts re-encodes, never longer than it was,
 *    to a line that decodes to the same type, keys and values, and
 *    encoding that again gives the same bytes;
 *  - ah_get() finds each key's value, ah_get_u64() accepts exactly
 *    what doc/protocol.md 1.3 says: 1 to 20 digits, up to 2^64-1, and
 *    what it reads survives ah_enc_u64() and ah_enc_i64();
 *  - any bytes as a value either encode to a line that decodes back to
 *    them, or make the encoder refuse a line that would be too long;
 *    a key the decoder would refuse, the encoder refuses.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ahproto.h"
#include "fuzz.h"

static int
same_msg(const struct ah_msg *a, const struct ah_msg *b)
{
	size_t i;

	if (strcmp(a->type, b->type) != 0 || a->nfields != b->nfields)
		return (0);
	for (i = 0; i < a->nfields; i++)
		if (strcmp(a->f[i].key, b->f[i].key) != 0 ||
		    strcmp(a->f[i].val, b->f[i].val) != 0)
			return (0);
	return (1);
}

static int
encode(const struct ah_msg *m, char *buf, size_t cap)
{
	struct ah_enc	e;
	size_t		i;

	ah_enc_begin(&e, buf, cap, m->type);
	for (i = 0; i < m->nfields; i++)
		ah_enc_str(&e, m->f[i].key, m->f[i].val);
	return (ah_enc_end(&e));
}

/* A number read back goes through the number encoders and returns. */
static void
number_roundtrip(uint64_t u)
{
	struct ah_enc	 e;
	struct ah_msg	 m;
	char		 buf[128];
	const char	*err;
	uint64_t	 back;
	int		 n;

	ah_enc_begin(&e, buf, sizeof(buf), "n");
	ah_enc_u64(&e, "u", u);
	ah_enc_i64(&e, "i", (int64_t)u);
	n = ah_enc_end(&e);
	FUZZ_CHECK(n > 0 && ah_decode(&m, buf, (size_t)n - 1, &err) == 0);
	FUZZ_CHECK(ah_get_u64(&m, "u", &back) == 0 && back == u);
	FUZZ_CHECK(strtoll(ah_get(&m, "i"), NULL, 10) == (long long)(int64_t)u);
}

static void
check_u64(const struct ah_msg *m, const struct ah_field *f)
{
	unsigned long long	 want;
	uint64_t		 got;
	const char		*v;
	char			*end;
	int			 plain;

	plain = f->val[0] != '\0' && strlen(f->val) <= 20;
	for (v = f->val; *v != '\0'; v++)
		if (*v < '0' || *v > '9')
			plain = 0;
	errno = 0;
	want = plain ? strtoull(f->val, &end, 10) : 0;
	if (plain && errno == 0) {
		FUZZ_CHECK(ah_get_u64(m, f->key, &got) == 0 && got == want);
		number_roundtrip(got);
	} else
		FUZZ_CHECK(ah_get_u64(m, f->key, &got) == -1);
}

static void
roundtrip(const char *line, size_t len)
{
	struct ah_msg	 m, m2;
	char		 buf[AH_LINE_MAX], buf2[AH_LINE_MAX];
	const char	*err = NULL;
	size_t		 i;
	int		 n, n2;

	if (ah_decode(&m, line, len, &err) != 0) {
		FUZZ_CHECK(err != NULL && *err != '\0');
		return;
	}
	FUZZ_CHECK(m.type != NULL && m.nfields <= AH_FIELDS_MAX);
	FUZZ_CHECK(ah_get(&m, "Not-a-key") == NULL);
	for (i = 0; i < m.nfields; i++) {
		FUZZ_CHECK(ah_get(&m, m.f[i].key) == m.f[i].val);
		check_u64(&m, &m.f[i]);
	}

	n = encode(&m, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n <= len + 1 && buf[n - 1] == '\n');
	FUZZ_CHECK(memchr(buf, '\n', (size_t)n - 1) == NULL);
	FUZZ_CHECK(ah_decode(&m2, buf, (size_t)n - 1, &err) == 0);
	FUZZ_CHECK(same_msg(&m, &m2));
	n2 = encode(&m2, buf2, sizeof(buf2));
	FUZZ_CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
}

/* The stream through the splitter, in reads of varying size. */
static void
split(const uint8_t *data, size_t size, unsigned int seed)
{
	struct ah_lines	 l;
	const char	*line, *nl;
	size_t		 fed = 0, done = 0, len, scan;
	int		 r;

	ah_lines_init(&l);
	for (;;) {
		while ((r = ah_lines_next(&l, &line, &len)) == 1) {
			FUZZ_CHECK(len < AH_LINE_MAX);
			FUZZ_CHECK(done + len < fed && data[done + len] == '\n');
			FUZZ_CHECK(memcmp(line, data + done, len) == 0);
			roundtrip(line, len);
			done += len + 1;
		}
		nl = memchr(data + done, '\n', fed - done);
		if (r == -1) {
			/* Too long: no LF within the first AH_LINE_MAX - 1. */
			scan = fed - done < AH_LINE_MAX - 1 ?
			    fed - done : AH_LINE_MAX - 1;
			FUZZ_CHECK(memchr(data + done, '\n', scan) == NULL);
			FUZZ_CHECK(nl != NULL || fed - done >= AH_LINE_MAX);
			return;
		}
		/* More bytes needed: no whole line is pending. */
		FUZZ_CHECK(nl == NULL && fed - done < AH_LINE_MAX);
		if (fed == size)
			return;
		fed = fuzz_read(&l, data, size, fed, &seed);
	}
}

/* The stream's first line, up to a NUL, as one value of one record. */
static void
encode_any(const uint8_t *data, size_t size)
{
	struct ah_enc	 e;
	struct ah_msg	 m;
	char		 val[AH_LINE_MAX * 4], buf[AH_LINE_MAX];
	const char	*err;
	size_t		 i, esc = 0, n;
	int		 len;

	n = size < sizeof(val) - 1 ? size : sizeof(val) - 1;
	memcpy(val, data, n);
	val[n] = '\0';
	for (i = 0; val[i] != '\0'; i++)
		esc += (val[i] > 0x20 && val[i] < 0x7f && val[i] != '%' &&
		    val[i] != '=') ? 1 : 3;

	ah_enc_begin(&e, buf, sizeof(buf), "x");
	ah_enc_str(&e, "v", val);
	len = ah_enc_end(&e);
	/* "x v=" + the escaped value + LF */
	if (4 + esc + 1 > AH_LINE_MAX) {
		FUZZ_CHECK(len == -1);
		return;
	}
	FUZZ_CHECK(len == (int)(4 + esc + 1));
	FUZZ_CHECK(ah_decode(&m, buf, (size_t)len - 1, &err) == 0);
	FUZZ_CHECK(m.nfields == 1 && strcmp(m.f[0].val, val) == 0);

	/* A key the decoder would refuse is refused by the encoder too. */
	ah_enc_begin(&e, buf, sizeof(buf), "x");
	ah_enc_str(&e, "Key", val);
	FUZZ_CHECK(ah_enc_end(&e) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	split(data, size, (unsigned int)size ^ (unsigned int)data[0] << 16);
	encode_any(data, size);
	/* The whole input as one line, as a caller without the splitter
	 * might pass it: the decoder's own length check. */
	if (memchr(data, '\n', size) == NULL)
		roundtrip((const char *)data, size);
	return (0);
}
