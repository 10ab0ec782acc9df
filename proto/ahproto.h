/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahproto.h - the one codec for anycast-health's line protocol.
 *
 * Used by the plugin (publisher), the relay (subscriber and control
 * server) and anycastctl (control client), so there is exactly one
 * parser for every byte that crosses a socket.  doc/protocol.md is
 * the specification; keep the two in step.
 *
 * A record is one line:  TYPE *( SP KEY "=" VALUE ) LF
 * It is at most AH_LINE_MAX bytes including the LF.  Values are
 * percent-escaped so they never contain a space, '=', '%' or a
 * control byte.  This file must stay free of BIND and libyaml
 * headers: it is compiled into all three programs.
 */
#ifndef AHPROTO_H
#define AHPROTO_H

#include <stddef.h>
#include <stdint.h>

#define AH_PROTO_VERSION 2
#define AH_LINE_MAX	 1024	/* bytes, including the LF */
#define AH_FIELDS_MAX	 64
#define AH_NAME_MAX	 32	/* longest TYPE or KEY */
/* A control reply's records at most; a larger one ends in 'overflow'. */
#define AH_REPLY_MAX	 (1024 * 1024)
#define AH_REPLY_MAX_TEXT "1 MiB"

/*
 * The relay's liveness probe (doc/protocol.md, section 2.5): a query
 * of a private-use type for a fixed name under .invalid, so that the
 * plugin tells it from client traffic with one integer compare.
 */
#define AH_PROBE_QTYPE	 65401
#define AH_PROBE_QNAME	 "probe.anycast-health.invalid"

struct ah_field {
	const char *key;
	const char *val;
};

/* A decoded record; key and val point into buf. */
struct ah_msg {
	const char	*type;
	size_t		 nfields;
	struct ah_field	 f[AH_FIELDS_MAX];
	char		 buf[AH_LINE_MAX];
};

/*
 * Decode one line (without its LF).  Returns 0, or -1 with *errp set
 * to a static string naming what is wrong with the line.
 */
int		 ah_decode(struct ah_msg *, const char *, size_t,
		    const char **errp);
const char	*ah_get(const struct ah_msg *, const char *);
/* 0 on success; -1 if the key is absent or not a decimal uint64. */
int		 ah_get_u64(const struct ah_msg *, const char *, uint64_t *);

/*
 * Encoder over a caller's buffer.  Overflow is sticky: ah_enc_end()
 * then returns -1 and the buffer must not be sent.
 */
struct ah_enc {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 bad;
};

void	ah_enc_begin(struct ah_enc *, char *, size_t, const char *);
void	ah_enc_str(struct ah_enc *, const char *, const char *);
void	ah_enc_u64(struct ah_enc *, const char *, uint64_t);
void	ah_enc_i64(struct ah_enc *, const char *, int64_t);
/* Appends the LF; returns the line's length or -1. */
int	ah_enc_end(struct ah_enc *);

/*
 * Splits a byte stream into lines.  A line longer than AH_LINE_MAX is
 * a protocol error, not something to resynchronise from: the caller
 * drops the connection, or, on a stream it does not own (ExaBGP's
 * events), calls ah_lines_discard() to skip to the next LF.
 */
struct ah_lines {
	char	buf[AH_LINE_MAX * 4];
	size_t	len;
	size_t	off;
	int	discarding;	/* dropping bytes up to the next LF */
};

void	ah_lines_init(struct ah_lines *);
/* Space to read into, and how much of it there is. */
char	*ah_lines_space(struct ah_lines *, size_t *);
void	ah_lines_fill(struct ah_lines *, size_t);
/*
 * Next complete line: 1 with the line and its length set (LF removed, valid until
 * the next call), 0 when more bytes are needed, -1 when the pending
 * line is already longer than AH_LINE_MAX.
 */
int	ah_lines_next(struct ah_lines *, const char **, size_t *);
/*
 * After ah_lines_next() returned -1: drop the over-long line, also the
 * part of it not read yet, so that its tail is never taken for a line.
 */
void	ah_lines_discard(struct ah_lines *);

#endif /* AHPROTO_H */
