/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse_yaml.c - read a YAML file against tables of keys
 * (parse_yaml.h); the relay's tables are in parse.c.
 *
 * libyaml's document API keeps every node's position, so each error
 * names the exact line and column.  All errors are collected, not
 * just the first, so one run of --check shows everything to fix.
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "ahsock.h"
#include "parse.h"
#include "parse_yaml.h"

/*
 * Past these, a file is no configuration: the example nests 6 deep and
 * shares a block with an anchor or two, and a broken file says what is
 * wrong in a few lines (errors beyond the first CONF_ERRORS_MAX are
 * counted, not printed: every repeat of a bad value was one).
 */
#define CONF_DEPTH_MAX		32
#define CONF_ANCHORS_MAX	256
#define CONF_ALIAS_MAX		100000
#define CONF_ERRORS_MAX		100
/* Past it, the last: "FILE:1:1: N errors in all, the first M shown". */
#define ALL_SHOWN		" errors in all, the first "

struct ctx {
	const char		*file;
	FILE			*errf;
	int			 errors;
	yaml_document_t		*doc;
};

static struct conf_pos
pos(const yaml_node_t *n)
{
	return ((struct conf_pos){ n->start_mark.line + 1,
	    n->start_mark.column + 1 });
}

/*
 * Messages quote values from the file, and a YAML scalar may hold a
 * newline or any control byte: print those as '?' so that each error
 * stays on its one line and cannot pass for another.
 */
static void
vperr(struct ctx *c, const struct conf_pos *at, const char *fmt, va_list ap)
{
	char	*msg, *p;

	if (c->errors++ >= CONF_ERRORS_MAX)
		return;
	fprintf(c->errf, "%s:%lu:%lu: ", c->file, at->line, at->column);
	if (vasprintf(&msg, fmt, ap) == -1)
		fputs("(no memory for the message)", c->errf);
	else {
		for (p = msg; *p != '\0'; p++)
			if (iscntrl((unsigned char)*p))
				*p = '?';
		fputs(msg, c->errf);
		free(msg);
	}
	fputc('\n', c->errf);
}

void
conf_error(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
{
	struct conf_pos	at = pos(n);
	va_list		ap;

	va_start(ap, fmt);
	vperr(c, &at, fmt, ap);
	va_end(ap);
}

/* For checks made after the document is gone: at a remembered place. */
void
conf_error_at(struct ctx *c, const struct conf_pos *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr(c, at, fmt, ap);
	va_end(ap);
}

const char *
conf_scalar(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		conf_error(c, n, "%s must be a single value", what);
		return (NULL);
	}
	/*
	 * "\0" in a double-quoted scalar: read as a C string, the value
	 * would end there, "192.0.2.1/32\0junk" taken for 192.0.2.1/32.
	 */
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length) {
		conf_error(c, n, "%s holds a NUL character (\\0)", what);
		return (NULL);
	}
	return ((const char *)n->data.scalar.value);
}

const char *
conf_text(yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || strlen((const char *)
	    n->data.scalar.value) != n->data.scalar.length)
		return (NULL);
	return ((const char *)n->data.scalar.value);
}

long
conf_list_len(yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return (-1);
	return ((long)(n->data.sequence.items.top -
	    n->data.sequence.items.start));
}

yaml_node_t *
conf_list_item(struct ctx *c, yaml_node_t *n, long i)
{
	return (yaml_document_get_node(c->doc,
	    n->data.sequence.items.start[i]));
}

int
conf_errors(const struct ctx *c)
{
	return (c->errors);
}

const char *
conf_what(const struct key *k)
{
	return (k->what != NULL ? k->what : k->name);
}

/*
 * The one number parser of the file: digits of 'base' only, at most
 * 'max'.  strtoul() and strtod() also take a sign, leading space, "0x",
 * exponents, "inf" and "nan", each a typo to report, not a number to
 * guess.  With 'end', parsing stops at the first non-digit and *end
 * points there; without, the whole string must be the number.
 */
int
conf_number(const char *s, const char **end, unsigned int base, uint64_t max,
    uint64_t *out)
{
	uint64_t	v = 0;
	unsigned int	d;
	const char	*p;

	for (p = s; *p >= '0' && *p < '0' + (int)base; p++) {
		d = (unsigned int)(*p - '0');
		if (d > max || v > (max - d) / base)
			return (-1);
		v = v * base + d;
	}
	if (p == s || (end == NULL && *p != '\0'))
		return (-1);
	if (end != NULL)
		*end = p;
	*out = v;
	return (0);
}

long long
conf_duration_ms(const char *s)
{
	static const struct {
		const char	*unit;
		long long	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { NULL, 0 }
	};
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	/*
	 * Up to 10^9 of any unit (no overflow even in days): a number past
	 * a key's range is out of range, not "not a duration".
	 */
	if (conf_number(s, &end, 10, 1000000000, &v) < 0)
		return (-1);
	for (i = 0; units[i].unit != NULL; i++)
		if (strcmp(end, units[i].unit) == 0)
			return ((long long)v * units[i].ms);
	return (-1);
}

/* "20%" or "2.5%" -> 0.2, 0.025: digits, an optional fraction, '%'. */
static int
conf_percent(const char *s, double *out)
{
	const char	*p;
	uint64_t	 whole, frac = 0;
	double		 scale = 1.0;

	if (conf_number(s, &p, 10, 100, &whole) < 0)
		return (-1);
	if (*p == '.') {
		const char *q = p + 1;

		if (conf_number(q, &p, 10, 999999, &frac) < 0)
			return (-1);
		for (; q < p; q++)
			scale *= 10.0;
	}
	if (strcmp(p, "%") != 0 || (whole == 100 && frac > 0))
		return (-1);
	*out = ((double)whole + (double)frac / scale) / 100.0;
	return (0);
}

/* The canary and the liveness probe ask the local named, nothing else. */
static int
is_loopback(const char *s)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, s, bin) == 1)
		return (bin[0] == 127);
	return (inet_pton(AF_INET6, s, bin) == 1 &&
	    memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
}

/*
 * Names appear in logs, on the control socket and in ExaBGP commands
 * as one token.
 */
static int
is_token(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return (0);
	return (1);
}

/* An integer field of any width: the tables name fields, not types. */
static void
store_int(void *field, size_t size, long long v)
{
	uint16_t	v16 = (uint16_t)v;
	uint32_t	v32 = (uint32_t)v;
	uint64_t	v64 = (uint64_t)v;

	if (size == sizeof(v16))
		memcpy(field, &v16, size);
	else if (size == sizeof(v32))
		memcpy(field, &v32, size);
	else
		memcpy(field, &v64, sizeof(v64));
}

/* Copy text into a fixed buffer, refusing empty or oversize text. */
static void
take_text(struct ctx *c, yaml_node_t *n, const char *what, const char *s,
    char *dst, size_t len)
{
	if (*s == '\0')
		conf_error(c, n, "%s must not be empty", what);
	else if (strlen(s) >= len)
		conf_error(c, n, "%s is longer than %zu bytes", what, len - 1);
	else
		strcpy(dst, s);
}

/* Text of a kind: NULL and an error if 's' is not of it. */
static const char *
text_kind(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s)
{
	const char	*what = conf_what(k), *why;
	char		 buf[128];

	switch (k->kind) {
	case K_TOKEN:
		if (is_token(s))
			return (s);
		conf_error(c, n, "%s '%s' may use only letters, digits, '-', "
		    "'_' and '.'", what, s);
		return (NULL);
	case K_PATH:
	case K_SOCKET:
		if (s[0] != '/') {
			conf_error(c, n, "%s '%s' must be an absolute path",
			    what, s);
			return (NULL);
		}
		if (k->kind == K_SOCKET &&
		    (why = ah_sock_path_error(s, buf, sizeof(buf))) != NULL) {
			conf_error(c, n, "%s '%s' is %s", what, s, why);
			return (NULL);
		}
		return (s);
	case K_LOOPBACK:
		if (is_loopback(s))
			return (s);
		conf_error(c, n, "%s '%s' must be a loopback address "
		    "(127.0.0.0/8 or ::1): it asks the local named", what, s);
		return (NULL);
	default:
		return (s);
	}
}

static void
take_duration(struct ctx *c, yaml_node_t *n, const struct key *k,
    const char *s, void *field)
{
	long long ms;

	if ((ms = conf_duration_ms(s)) < 0)
		conf_error(c, n, "%s '%s' is not a duration "
		    "(a whole number with ms, s, m, h or d, like 500ms or 3s)",
		    conf_what(k), s);
	else if (ms < k->min || ms > k->max)
		conf_error(c, n, "%s %s is outside %lldms..%llds", conf_what(k),
		    s, k->min, k->max / 1000);
	else
		store_int(field, k->size, ms);
}

/*
 * A number in error ('s' NULL: no single value) is still taken as
 * given, as 0, so that a rule which asks whether it was set does not
 * add a second error to the first.
 */
static void
take_uint(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s,
    void *field)
{
	uint64_t v = 0;

	if (s != NULL && (conf_number(s, NULL, 10, (uint64_t)k->max, &v) < 0 ||
	    v < (uint64_t)k->min)) {
		conf_error(c, n, "%s '%s' must be a whole number %llu..%llu",
		    conf_what(k), s, (unsigned long long)k->min,
		    (unsigned long long)k->max);
		v = 0;
	}
	store_int(field, k->size, (long long)v);
}

static void
take_enum(struct ctx *c, yaml_node_t *n, const struct key *k, const char *s,
    void *field)
{
	const struct choice	*ch;
	char			 list[128] = "";

	for (ch = k->choices; ch->name != NULL; ch++)
		if (strcmp(ch->name, s) == 0) {
			store_int(field, k->size, ch->value);
			return;
		}
	/* "a, b or c" */
	for (ch = k->choices; ch->name != NULL; ch++) {
		if (ch != k->choices)
			strncat(list, ch[1].name != NULL ? ", " : " or ",
			    sizeof(list) - strlen(list) - 1);
		strncat(list, ch->name, sizeof(list) - strlen(list) - 1);
	}
	conf_error(c, n, "%s '%s' must be %s", conf_what(k), s, list);
}

static void	walk_block(struct ctx *, yaml_node_t *, const struct block *,
		    void *);
static void	walk_list(struct ctx *, yaml_node_t *, const struct key *,
		    void *);

/* Read 'n' as key 'k' says, into the block at 'base'. */
void
conf_take_kind(struct ctx *c, yaml_node_t *n, const struct key *k, void *base)
{
	char		*field = (char *)base + k->off;
	const char	*s;

	if (k->kind == K_BLOCK) {
		walk_block(c, n, k->block, field);
		return;
	}
	if (k->kind == K_LIST) {
		walk_list(c, n, k, base);
		return;
	}
	if ((s = conf_scalar(c, n, conf_what(k))) == NULL) {
		if (k->kind == K_UINT)
			take_uint(c, n, k, NULL, field);
		return;
	}
	switch (k->kind) {
	case K_STRING:
	case K_TOKEN:
	case K_PATH:
	case K_SOCKET:
	case K_LOOPBACK:
		if ((s = text_kind(c, n, k, s)) != NULL)
			take_text(c, n, conf_what(k), s, field, k->size);
		break;
	case K_DURATION:
		take_duration(c, n, k, s, field);
		break;
	case K_UINT:
		take_uint(c, n, k, s, field);
		break;
	case K_PERCENT:
		if (conf_percent(s, (double *)(void *)field) < 0)
			conf_error(c, n, "%s '%s' must be a percentage "
			    "0%%..100%%, like 20%%", conf_what(k), s);
		break;
	case K_BOOL:
		if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)
			store_int(field, k->size, 1);
		else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0)
			store_int(field, k->size, 0);
		else
			conf_error(c, n, "%s '%s' must be yes or no",
			    conf_what(k), s);
		break;
	case K_ENUM:
		take_enum(c, n, k, s, field);
		break;
	default:
		break;
	}
}

static void
take_key(struct ctx *c, yaml_node_t *n, const struct key *k, void *base)
{
	struct conf_pos at = pos(n);

	if (k->given != 0)
		*(int *)(void *)((char *)base + k->given - 1) = 1;
	if (k->at != 0)
		memcpy((char *)base + k->at - 1, &at, sizeof(at));
	if (k->take != NULL)
		k->take(c, n, k, base);
	else
		conf_take_kind(c, n, k, base);
}

/* Every default of a block, its inner blocks' too, before reading. */
static void
block_init(const struct block *b, void *base)
{
	const struct key	*k;
	char			*field;

	for (k = b->keys; k->name != NULL; k++) {
		field = (char *)base + k->off;
		switch (k->kind) {
		case K_BLOCK:
			block_init(k->block, field);
			break;
		case K_LIST:
		case K_OWN:
			break;
		case K_STRING:
		case K_TOKEN:
		case K_PATH:
		case K_SOCKET:
		case K_LOOPBACK:
			if (k->defs != NULL)
				snprintf(field, k->size, "%s", k->defs);
			break;
		case K_PERCENT:
			*(double *)(void *)field = k->def;
			break;
		default:
			store_int(field, k->size, (long long)k->def);
			break;
		}
	}
}

/*
 * Walk a mapping against its keys: unknown, repeated and missing keys
 * are all errors.
 */
static void
walk_map(struct ctx *c, yaml_node_t *n, const struct block *b, void *base)
{
	const struct key	*keys = b->keys;
	yaml_node_pair_t	*p;
	unsigned int		 seen = 0;
	size_t			 i;

	if (n->type != YAML_MAPPING_NODE) {
		conf_error(c, n, "%s must be a mapping of keys to values",
		    b->what);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t	*k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t	*v = yaml_document_get_node(c->doc, p->value);
		const char	*name = conf_scalar(c, k, "a key");

		if (name == NULL)
			continue;
		for (i = 0; keys[i].name != NULL; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (keys[i].name == NULL) {
			char	expected[256] = "";
			size_t	j;

			for (j = 0; keys[j].name != NULL; j++) {
				strncat(expected, j ? ", " : "",
				    sizeof(expected) - strlen(expected) - 1);
				strncat(expected, keys[j].name,
				    sizeof(expected) - strlen(expected) - 1);
			}
			conf_error(c, k, "unknown key '%s' in %s (expected one "
			    "of: %s)", name, b->what, expected);
			continue;
		}
		if (seen & (1u << i)) {
			conf_error(c, k, "key '%s' appears twice in %s", name,
			    b->what);
			continue;
		}
		seen |= 1u << i;
		take_key(c, v, &keys[i], base);
	}
	for (i = 0; keys[i].name != NULL; i++)
		if (keys[i].required && !(seen & (1u << i)))
			conf_error(c, n, "%s lacks required key '%s'", b->what,
			    keys[i].name);
}

static void
walk_block(struct ctx *c, yaml_node_t *n, const struct block *b, void *base)
{
	struct conf_pos at = pos(n);

	walk_map(c, n, b, base);
	if (b->finish != NULL)
		b->finish(c, &at, base);
}

/*
 * A list of mappings of 'k->block': each a zeroed element of a freshly
 * allocated array, given its defaults and its position, then walked.
 */
static void
walk_list(struct ctx *c, yaml_node_t *n, const struct key *k, void *base)
{
	const struct block	*b = k->block;
	yaml_node_item_t	*it;
	yaml_node_t		*v;
	struct conf_pos		 at;
	char			*arr;
	size_t			 len;

	*(size_t *)(void *)((char *)base + k->count - 1) = 0;
	*(void **)(void *)((char *)base + k->off) = NULL;
	if (n->type != YAML_SEQUENCE_NODE) {
		conf_error(c, n, "%s must be a list", conf_what(k));
		return;
	}
	len = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (len == 0) {
		conf_error(c, n, "%s must not be empty", conf_what(k));
		return;
	}
	/* Before the memory: a list of 10^5 empty services took 800 MB. */
	if (k->max > 0 && len > (size_t)k->max) {
		conf_error(c, n, "%s: %zu, more than any configuration has "
		    "(%lld at most)", conf_what(k), len, k->max);
		return;
	}
	if ((arr = calloc(len, b->size)) == NULL) {
		conf_error(c, n, "out of memory");
		return;
	}
	*(void **)(void *)((char *)base + k->off) = arr;
	*(size_t *)(void *)((char *)base + k->count - 1) = len;
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, arr += b->size) {
		v = yaml_document_get_node(c->doc, *it);
		at = pos(v);
		block_init(b, arr);
		if (b->at != 0)
			memcpy(arr + b->at - 1, &at, sizeof(at));
		walk_block(c, v, b, arr);
	}
}

/*
 * The whole file in memory: what is read is what is checked, and what
 * is kept if accepted.  NUL-terminated, for the caller's convenience.
 */
static char *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf = NULL, *p;
	size_t		 cap = 0, n;
	FILE		*f = NULL;
	int		 e, fd;

	*len = 0;
	/*
	 * A FIFO would block the open, and a terminal the reads, and the
	 * relay with them: O_NONBLOCK, which a file ignores, stays.
	 */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return (NULL);
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		e = ESPIPE;
	else if ((f = fdopen(fd, "r")) == NULL)
		e = errno;
	else
		e = 0;
	if (e != 0) {
		close(fd);
		errno = e;
		return (NULL);
	}
	for (;;) {
		if (cap - *len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return (NULL);
			}
			buf = p;
		}
		errno = 0;
		n = fread(buf + *len, 1, cap - *len - 1, f);
		*len += n;
		if (n == 0)
			break;
		if (*len > CONF_MAX) {
			free(buf);
			fclose(f);
			errno = EFBIG;
			return (NULL);
		}
	}
	if (ferror(f)) {
		e = errno != 0 ? errno : EIO;
		free(buf);
		fclose(f);
		errno = e;
		return (NULL);
	}
	fclose(f);
	buf[*len] = '\0';
	return (buf);
}

int
conf_readable(const char *path)
{
	char	*text;
	size_t	 len;

	if ((text = slurp(path, &len)) == NULL)
		return (-1);
	free(text);
	return (0);
}

const char *
conf_read_error(int e)
{
	return (e == EFBIG ? "longer than 1 MiB: not a configuration file" :
	    e == ESPIPE ? "a FIFO or a socket: not a configuration file" :
	    strerror(e));
}

static int
load_document(struct ctx *c, yaml_parser_t *parser, yaml_document_t *doc,
    const char *text, size_t len)
{
	yaml_parser_initialize(parser);
	yaml_parser_set_input_string(parser, (const unsigned char *)text, len);
	if (yaml_parser_load(parser, doc))
		return (0);
	fprintf(c->errf, "%s:%lu:%lu: %s%s%s\n", c->file,
	    (unsigned long)parser->problem_mark.line + 1,
	    (unsigned long)parser->problem_mark.column + 1,
	    parser->context ? parser->context : "",
	    parser->context ? ": " : "",
	    parser->problem ? parser->problem : "YAML syntax error");
	yaml_parser_delete(parser);
	return (-1);
}

/*
 * An anchor and the values its aliases stand for: the node itself and,
 * within it, what its own aliases stood for.
 */
struct anchor {
	char	*name;
	double	 size;
};

/*
 * Before the document is built, its events: what the walk could not
 * bear.  The walk reads an alias ('*name') as the value anchored, again
 * and allocated again, so a 2 KB file of aliases of aliases was
 * minutes and gigabytes, and hung a relay given it by a reload: the
 * values aliases stand for, in all, may be CONF_ALIAS_MAX (an anchored
 * checks block shared by 64 services is a thousand or two).  Nesting
 * costs libyaml time quadratic in its depth (100,000 '[' took over
 * 20 s).  The first of either is the file's one error.
 */
static int
screen(struct ctx *c, const char *text, size_t len)
{
	struct anchor	 an[CONF_ANCHORS_MAX];
	struct {
		char	*anchor;	/* the open node's, or NULL */
		double	 start;
	}		 open[CONF_DEPTH_MAX + 1];
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	struct conf_pos	 at = { 1, 1 };
	char		*anchor;
	double		 count = 0, aliased = 0, size;
	size_t		 nan = 0, i;
	int		 depth = 0, rc = 0, end = 0, docs = 0, ended = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	/* A syntax error is the loader's to tell, with its context. */
	while (rc == 0 && !end && yaml_parser_parse(&p, &ev)) {
		at = (struct conf_pos){ ev.start_mark.line + 1,
		    ev.start_mark.column + 1 };
		anchor = NULL;
		size = -1;
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			/* Itself within itself: the walk would not end. */
			for (i = 1; i <= (size_t)depth; i++)
				if (open[i].anchor != NULL &&
				    strcmp(open[i].anchor, (const char *)
				    ev.data.alias.anchor) == 0) {
					conf_error_at(c, &at, "YAML alias "
					    "*%.40s within its own anchor: not "
					    "a configuration", open[i].anchor);
					rc = -1;
				}
			for (i = 0, size = 0; i < nan; i++)
				if (strcmp(an[i].name,
				    (const char *)ev.data.alias.anchor) == 0)
					size = an[i].size;
			count += size;
			if (rc == 0 && (aliased += size) > CONF_ALIAS_MAX) {
				conf_error_at(c, &at, "YAML aliases standing "
				    "for more than %d values in all (*%.40s): "
				    "not a configuration", CONF_ALIAS_MAX,
				    (const char *)ev.data.alias.anchor);
				rc = -1;
			}
			size = -1;
			break;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.anchor != NULL &&
			    (anchor = strdup((const char *)
			    ev.data.scalar.anchor)) == NULL)
				rc = -1;
			count++;
			size = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == CONF_DEPTH_MAX) {
				conf_error_at(c, &at, "nested more than %d "
				    "deep: not a configuration",
				    CONF_DEPTH_MAX);
				rc = -1;
				break;
			}
			depth++;
			anchor = (char *)(ev.type == YAML_MAPPING_START_EVENT ?
			    ev.data.mapping_start.anchor :
			    ev.data.sequence_start.anchor);
			if (anchor != NULL && (anchor = strdup(anchor)) == NULL)
				rc = -1;
			/* Its size is known at its end. */
			open[depth].anchor = anchor;
			open[depth].start = count++;
			anchor = NULL;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (depth > 0) {
				anchor = open[depth].anchor;
				size = count - open[depth].start;
				depth--;
			}
			break;
		case YAML_STREAM_END_EVENT:
			end = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			ended = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			/* The loader reads one: the rest would go unread. */
			if (docs++ > 0) {
				conf_error_at(c, &at, "a second YAML document "
				    "(after ---): one configuration per file");
				rc = -1;
			}
			break;
		default:
			break;
		}
		if (anchor != NULL && rc == 0 && nan == CONF_ANCHORS_MAX) {
			conf_error_at(c, &at, "more than %d YAML anchors: "
			    "not a configuration", CONF_ANCHORS_MAX);
			rc = -1;
		}
		if (anchor != NULL && rc == 0) {
			an[nan].name = anchor;
			an[nan++].size = size;
		} else
			free(anchor);
		yaml_event_delete(&ev);
	}
	/*
	 * A syntax error after the first document: the loader, reading
	 * that one only, would not see it.
	 */
	if (rc == 0 && !end && ended) {
		conf_error_at(c, &(struct conf_pos){ p.problem_mark.line + 1,
		    p.problem_mark.column + 1 }, "%s after the first YAML "
		    "document", p.problem != NULL ? p.problem :
		    "YAML syntax error");
		rc = -1;
	}
	if (rc < 0 && conf_errors(c) == 0)
		conf_error_at(c, &at, "out of memory");
	while (depth > 0)
		free(open[depth--].anchor);
	for (i = 0; i < nan; i++)
		free(an[i].name);
	yaml_parser_delete(&p);
	return (rc);
}

int
conf_read(const char *path, FILE *errf, const struct block *top, void *base,
    char **text, size_t *len)
{
	struct ctx	 c = { .file = path, .errf = errf };
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	yaml_node_t	*root;

	block_init(top, base);
	if ((*text = slurp(path, len)) == NULL) {
		fprintf(errf, "%s: %s\n", path, conf_read_error(errno));
		return (1);
	}
	if (screen(&c, *text, *len) < 0 ||
	    load_document(&c, &parser, &doc, *text, *len) < 0) {
		free(*text);
		*text = NULL;
		return (1);
	}
	c.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		fprintf(errf, "%s:1:1: %s is empty\n", path, top->what);
		c.errors++;
	} else
		walk_block(&c, root, top, base);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (c.errors > CONF_ERRORS_MAX)
		/* At 1:1, as every error has a place (tests/fuzz). */
		fprintf(errf, "%s:1:1: %d%s%d shown\n", path, c.errors,
		    ALL_SHOWN, CONF_ERRORS_MAX);
	if (c.errors > 0) {
		free(*text);
		*text = NULL;
	}
	return (c.errors);
}

unsigned int
conf_count_errors(const char *errors)
{
	const char	*p, *q, *d;
	unsigned long	 all, shown;
	unsigned int	 n = 0, extra = 0;
	size_t		 len;

	for (p = errors; *p != '\0'; p += len) {
		len = strcspn(p, "\n");
		q = strstr(p, ALL_SHOWN);
		if (q != NULL && q < p + len) {
			for (d = q; d > p && isdigit((unsigned char)d[-1]); d--)
				;
			all = strtoul(d, NULL, 10);
			shown = strtoul(q + strlen(ALL_SHOWN), NULL, 10);
			if (all > shown) {
				extra += (unsigned int)(all - shown);
				n--;	/* the summary is not an error */
			}
		}
		n++;
		len += p[len] == '\n';
	}
	return (n + extra);
}

void
conf_defaults(const struct block *top, void *base)
{
	block_init(top, base);
}

/* Past the node that began with 'first' (already taken): 0, or -1. */
static int
skip_node(yaml_parser_t *p, yaml_event_type_t first)
{
	yaml_event_t	ev;
	int		depth = 1;

	if (first != YAML_MAPPING_START_EVENT &&
	    first != YAML_SEQUENCE_START_EVENT)
		return (0);
	while (depth > 0) {
		/* Bounded, as screen() is: deeper costs quadratic time. */
		if (depth > CONF_DEPTH_MAX || !yaml_parser_parse(p, &ev))
			return (-1);
		if (ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
	}
	return (0);
}

/*
 * In a mapping whose start was taken: the first event of 'key''s value
 * in *ev (the caller deletes it), -2 if the mapping ends first, or -1
 * if the file does (a syntax error).
 */
static int
find_key(yaml_parser_t *p, const char *key, yaml_event_t *ev)
{
	yaml_event_t	k;
	int		match;

	for (;;) {
		if (!yaml_parser_parse(p, &k))
			return (-1);
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return (-2);
		}
		match = k.type == YAML_SCALAR_EVENT &&
		    strcmp((const char *)k.data.scalar.value, key) == 0;
		if (skip_node(p, k.type) < 0) {
			yaml_event_delete(&k);
			return (-1);
		}
		yaml_event_delete(&k);
		if (!yaml_parser_parse(p, ev))
			return (-1);
		if (match)
			return (0);
		if (skip_node(p, ev->type) < 0) {
			yaml_event_delete(ev);
			return (-1);
		}
		yaml_event_delete(ev);
	}
}

/*
 * The events of the first document, as far as they go: a syntax error
 * further down does not hide a key written before it.
 */
int
conf_peek(const char *path, const char *block, const char *key, char *buf,
    size_t len)
{
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	yaml_event_type_t	 t;
	char			*text;
	size_t			 n;
	int			 i, rc = -1;

	if ((text = slurp(path, &n)) == NULL)
		return (-1);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
	/* The stream, the document, the top mapping. */
	for (i = 0; i < 3; i++) {
		if (!yaml_parser_parse(&parser, &ev))
			goto out;
		t = ev.type;
		yaml_event_delete(&ev);
		if (t != (i == 0 ? YAML_STREAM_START_EVENT : i == 1 ?
		    YAML_DOCUMENT_START_EVENT : YAML_MAPPING_START_EVENT))
			goto out;
	}
	if ((rc = find_key(&parser, block, &ev)) < 0)
		goto out;
	rc = -1;
	t = ev.type;
	yaml_event_delete(&ev);
	if (t != YAML_MAPPING_START_EVENT ||
	    (rc = find_key(&parser, key, &ev)) < 0)
		goto out;
	rc = -1;
	/* A NUL would cut it short, as conf_scalar() refuses. */
	if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length < len &&
	    strlen((const char *)ev.data.scalar.value) ==
	    ev.data.scalar.length) {
		memcpy(buf, ev.data.scalar.value, ev.data.scalar.length);
		buf[ev.data.scalar.length] = '\0';
		rc = 0;
	}
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&parser);
	free(text);
	return (rc);
}
