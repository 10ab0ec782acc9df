/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahproto.c - encoder, decoder and line splitter for the line protocol
 * described in doc/protocol.md.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ahproto.h"

static int
is_name_char(int c, int first)
{
	if (c >= 'a' && c <= 'z')
		return (1);
	if (first)
		return (0);
	return ((c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
}

/* Bytes a value may carry as they are; everything else is %XX. */
static int
is_plain_char(int c)
{
	return (c > 0x20 && c < 0x7f && c != '%' && c != '=');
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/*
 * Checks a TYPE or KEY in place; returns its length, or 0 if it is not
 * a valid name.
 */
static size_t
scan_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] != ' ' && p[i] != '='; i++)
		if (!is_name_char((unsigned char)p[i], i == 0))
			return (0);
	if (i > AH_NAME_MAX)
		return (0);
	return (i);
}

int
ah_decode(struct ah_msg *m, const char *line, size_t len, const char **errp)
{
	const char	*p = line, *end = line + len;
	char		*out = m->buf;
	size_t		 n, i;

	m->type = NULL;
	m->nfields = 0;
	if (len + 1 > AH_LINE_MAX) {
		*errp = "line too long";
		return (-1);
	}
	if ((n = scan_name(p, len)) == 0) {
		*errp = "bad record type";
		return (-1);
	}
	m->type = out;
	memcpy(out, p, n);
	out[n] = '\0';
	out += n + 1;
	p += n;

	while (p < end) {
		struct ah_field *f;

		if (*p != ' ' || p + 1 >= end) {
			*errp = "bad separator";
			return (-1);
		}
		p++;
		if ((n = scan_name(p, (size_t)(end - p))) == 0) {
			*errp = "bad key";
			return (-1);
		}
		if (p + n >= end || p[n] != '=') {
			*errp = "key without '='";
			return (-1);
		}
		if (m->nfields == AH_FIELDS_MAX) {
			*errp = "too many fields";
			return (-1);
		}
		f = &m->f[m->nfields];
		f->key = out;
		memcpy(out, p, n);
		out[n] = '\0';
		out += n + 1;
		p += n + 1;
		for (i = 0; i < m->nfields; i++)
			if (strcmp(m->f[i].key, f->key) == 0) {
				*errp = "duplicate key";
				return (-1);
			}

		f->val = out;
		while (p < end && *p != ' ') {
			int c = (unsigned char)*p, hi, lo;

			if (c == '%') {
				if (end - p < 3 ||
				    (hi = hexval((unsigned char)p[1])) < 0 ||
				    (lo = hexval((unsigned char)p[2])) < 0) {
					*errp = "bad %-escape";
					return (-1);
				}
				c = hi << 4 | lo;
				if (c == 0) {
					*errp = "NUL in value";
					return (-1);
				}
				p += 3;
			} else if (!is_plain_char(c)) {
				*errp = "invalid byte in value";
				return (-1);
			} else
				p++;
			*out++ = (char)c;
		}
		*out++ = '\0';
		m->nfields++;
	}
	/* Every byte decodes to at most one byte plus a NUL per token. */
	return (0);
}

const char *
ah_get(const struct ah_msg *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (strcmp(m->f[i].key, key) == 0)
			return (m->f[i].val);
	return (NULL);
}

int
ah_get_u64(const struct ah_msg *m, const char *key, uint64_t *out)
{
	const char	*v = ah_get(m, key);
	uint64_t	 x = 0;

	if (v == NULL || *v == '\0' || strlen(v) > 20)
		return (-1);
	for (; *v != '\0'; v++) {
		unsigned d;

		if (*v < '0' || *v > '9')
			return (-1);
		d = (unsigned)(*v - '0');
		if (x > (UINT64_MAX - d) / 10)
			return (-1);
		x = x * 10 + d;
	}
	*out = x;
	return (0);
}

static void
enc_raw(struct ah_enc *e, const char *s, size_t n)
{
	/* Keep one byte for the LF that ah_enc_end() appends. */
	if (e->bad || e->len + n + 1 > e->cap || e->len + n + 1 > AH_LINE_MAX) {
		e->bad = 1;
		return;
	}
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

static void
enc_name(struct ah_enc *e, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || scan_name(name, n) != n) {
		e->bad = 1;
		return;
	}
	enc_raw(e, name, n);
}

void
ah_enc_begin(struct ah_enc *e, char *buf, size_t cap, const char *type)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->bad = 0;
	enc_name(e, type);
}

void
ah_enc_str(struct ah_enc *e, const char *key, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *v;

	enc_raw(e, " ", 1);
	enc_name(e, key);
	enc_raw(e, "=", 1);
	for (v = (const unsigned char *)val; *v != '\0'; v++) {
		char esc[3];

		if (is_plain_char(*v)) {
			enc_raw(e, (const char *)v, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*v >> 4];
		esc[2] = hex[*v & 0xf];
		enc_raw(e, esc, 3);
	}
}

void
ah_enc_u64(struct ah_enc *e, const char *key, uint64_t val)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, val);
	ah_enc_str(e, key, num);
}

void
ah_enc_i64(struct ah_enc *e, const char *key, int64_t val)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, val);
	ah_enc_str(e, key, num);
}

int
ah_enc_end(struct ah_enc *e)
{
	if (e->bad || e->len + 1 > e->cap)
		return (-1);
	e->buf[e->len++] = '\n';
	return ((int)e->len);
}

void
ah_lines_init(struct ah_lines *l)
{
	l->len = 0;
	l->off = 0;
	l->discarding = 0;
}

void
ah_lines_discard(struct ah_lines *l)
{
	char *nl = memchr(l->buf + l->off, '\n', l->len - l->off);

	/* The whole line is here: skip it and keep what follows. */
	if (nl != NULL) {
		l->off = (size_t)(nl - l->buf) + 1;
		return;
	}
	ah_lines_init(l);
	l->discarding = 1;
}

char *
ah_lines_space(struct ah_lines *l, size_t *room)
{
	if (l->off > 0) {
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->off = 0;
	}
	*room = sizeof(l->buf) - l->len;
	return (l->buf + l->len);
}

void
ah_lines_fill(struct ah_lines *l, size_t n)
{
	l->len += n;
}

int
ah_lines_next(struct ah_lines *l, const char **line, size_t *len)
{
	char	*start = l->buf + l->off;
	size_t	 avail = l->len - l->off;
	char	*nl = memchr(start, '\n', avail);

	if (l->discarding) {
		if (nl == NULL) {
			l->off = l->len;
			return (0);
		}
		l->discarding = 0;
		l->off += (size_t)(nl - start) + 1;
		return (ah_lines_next(l, line, len));
	}
	if (nl == NULL)
		return (avail >= AH_LINE_MAX ? -1 : 0);
	if ((size_t)(nl - start) + 1 > AH_LINE_MAX)
		return (-1);
	*line = start;
	*len = (size_t)(nl - start);
	l->off += *len + 1;
	return (1);
}
