/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse_yaml.h - a reader of YAML files against tables of keys.
 *
 * A table describes one mapping of the file: each key's name, the kind
 * of its value, the field it fills, its limits and default, whether it
 * is required.  The reader fills in every default, reads each value by
 * its kind and reports every error as file:line:column: message.  A
 * key no kind describes brings its own reader ('take'), built on the
 * functions below.  libyaml's types stay in parse_yaml.c: a node is
 * only passed on here.
 */
#ifndef AH_PARSE_YAML_H
#define AH_PARSE_YAML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parse.h"

struct ctx;		/* one reading of one file */
struct yaml_node_s;

enum key_kind {
	K_BLOCK,	/* a mapping of 'block''s keys */
	K_LIST,		/* a list of such mappings: an array and 'count' */
	K_STRING,	/* text of 1 to size - 1 bytes */
	K_TOKEN,	/* ... of letters, digits, '-', '_' and '.' */
	K_PATH,		/* ... an absolute path */
	K_SOCKET,	/* ... one where a Unix socket can be made */
	K_LOOPBACK,	/* ... a loopback address */
	K_DURATION,	/* milliseconds, min..max, in an integer field */
	K_UINT,		/* min..max, in an integer field */
	K_PERCENT,	/* 0..1 in a double */
	K_BOOL,		/* yes, no, true or false into an int */
	K_ENUM,		/* one of 'choices' into an int */
	K_OWN		/* read and defaulted by 'take' alone */
};

struct choice {
	const char	*name;
	int		 value;
};

struct key;
typedef void	 key_take(struct ctx *, struct yaml_node_s *,
		    const struct key *, void *);

/*
 * A key of a block.  Offsets are into the block's struct; those that
 * may be absent are stored plus one, so that 0 is "none" and a row
 * names only what it uses.  A key with a reader of its own keeps a
 * kind for its default.
 */
struct key {
	const char		*name;
	enum key_kind		 kind;
	size_t			 off, size;	/* the field */
	long long		 min, max;	/* DURATION, UINT; LIST: max */
	double			 def;		/* numeric kinds, when absent */
	const char		*defs;		/* text kinds; NULL: "" */
	int			 required;
	const char		*what;		/* in messages; NULL: name */
	size_t			 given;		/* +1: an int set to 1 */
	size_t			 at;		/* +1: the value's conf_pos */
	size_t			 count;		/* LIST and lists: +1, size_t */
	const struct block	*block;		/* BLOCK, LIST */
	const struct choice	*choices;	/* ENUM, NULL-terminated */
	key_take		*take;		/* a reader of its own */
};

/*
 * A mapping: its keys, in the order an error lists them, and the rules
 * to check once they are read ('finish', at the mapping's position;
 * called also when the node was no mapping, so a rule must cope with
 * the defaults alone).
 */
struct block {
	const char		*what;		/* in messages: "a service" */
	const struct key	*keys;		/* ends with a NULL name */
	size_t			 size;		/* LIST: of an element */
	size_t			 at;		/* +1: the mapping's conf_pos */
	void			(*finish)(struct ctx *,
				    const struct conf_pos *, void *);
};

/* Row makers: a field, and a kind with its limits and default. */
#define FIELD(type, f)	.off = offsetof(type, f), .size = sizeof(((type *)0)->f)
#define PLUS1(type, f)	(offsetof(type, f) + 1)
#define DURATION(field, lo, hi, d) \
	K_DURATION, field, .min = (lo), .max = (hi), .def = (d)
#define UINT(field, lo, hi, d) \
	K_UINT, field, .min = (lo), .max = (hi), .def = (d)
#define PERCENT(field, d)	K_PERCENT, field, .def = (d)

/*
 * Read 'path' into 'base' by block 'top', its defaults first.  Returns
 * the number of errors printed to 'errf'; with none, *text is the file
 * as read (NUL-terminated, *len bytes), for the caller to free.
 */
int		 conf_read(const char *path, FILE *errf,
		    const struct block *top, void *base, char **text,
		    size_t *len);
/* Only the defaults. */
void		 conf_defaults(const struct block *top, void *base);
/*
 * For a file conf_read() rejects: the single value at 'block':'key' of
 * the top mapping, as far as the file parses.  0; -2 if the file parses
 * far enough to show it has none; -1 if it does not parse that far, or
 * the value is no single one, does not fit 'len' or holds a NUL.
 */
int		 conf_peek(const char *path, const char *block,
		    const char *key, char *buf, size_t len);
int		 conf_errors(const struct ctx *);

/* For the readers of keys of their own. */
void		 conf_error(struct ctx *, struct yaml_node_s *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
void		 conf_error_at(struct ctx *, const struct conf_pos *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
/* The text of a single value; NULL, after an error naming 'what', if not. */
const char	*conf_scalar(struct ctx *, struct yaml_node_s *,
		    const char *what);
/* The same without an error. */
const char	*conf_text(struct yaml_node_s *);
/* The length of a list, -1 for anything else; and its items. */
long		 conf_list_len(struct yaml_node_s *);
struct yaml_node_s *conf_list_item(struct ctx *, struct yaml_node_s *,
		    long);
/* Read a value as its key's kind says, into the block at 'base'. */
void		 conf_take_kind(struct ctx *, struct yaml_node_s *,
		    const struct key *, void *base);
const char	*conf_what(const struct key *);
int		 conf_number(const char *, const char **, unsigned int,
		    uint64_t, uint64_t *);

#endif /* AH_PARSE_YAML_H */
