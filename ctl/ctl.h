/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl.h - anycastctl: the command parser, the reply, and the output
 * vtable (as bgpctl's struct output) that prints it for people or as
 * JSON.
 *
 *	ctl.c		options, the request, the reply, exit status
 *	ctl_parser.c	command line tokens -> a request
 *	ctl_output.c	the reply for people
 *	ctl_json.c	the reply as JSON (schema: doc/anycastctl.schema.json)
 *	ctl_handover.c	restart: the relay's parent, the handover note
 */
#ifndef AH_CTL_H
#define AH_CTL_H

#include <sys/types.h>

#include "ahproto.h"

/* Exit status, as documented in doc/cli.md and anycastctl(1). */
#define EXIT_OK		0
#define EXIT_ERROR	1
#define EXIT_WITHDRAWN	2	/* status: a prefix is not announced */
#define EXIT_NORELAY	3	/* the relay could not be reached */
#define EXIT_DENIED	4	/* the socket or the relay refused us */
#define EXIT_TIMEOUT	5	/* drain --wait: withdrawn at the timeout */
#define EXIT_CONFIG	6	/* status: the configuration file is rejected */

enum action {
	NONE, STATUS, SHOW_COUNTERS, SHOW_ZONES, SHOW_CHECKS, SHOW_HISTORY,
	METRICS, DRAIN, UNDRAIN, RELEASE, RELOAD, RESTART
};

struct token;

struct parse_result {
	enum action	 action;
	const char	*request;	/* the record type on the wire */
	const char	*argkey;	/* its one optional field, or NULL */
	const char	*arg;		/* ... its value, or NULL */
	const char	*words;		/* the command as typed, for output */
	int		 wait;		/* drain --wait */
	long long	 timeout_ms;	/* drain --timeout; -1: not given */
	/* When parse() fails: what is wrong, and what would have done. */
	char		 error[160];
	const struct token *valid;
};

/* Returns 0, or -1 with res->error set: parse_valid() lists the rest. */
int	parse(int argc, char *argv[], struct parse_result *);
void	parse_valid(const struct parse_result *, FILE *);
void	parse_usage(FILE *);

/* The records of one reply, 'done' excluded. */
struct reply {
	struct ah_msg	**m;
	size_t		  n, cap;
};

const char	*reply_get(const struct ah_msg *, const char *);

/*
 * 'change' prints services after drain, undrain, release or drain
 * --wait; 'progress' a draining service while anycastctl waits, every
 * second; 'error' the relay's error with the lines that came with it
 * (a reload's file:line errors), or none.  With 'escape', every string
 * of the reply reaches the output made visible (ah_vis()), as the
 * relay's log shows it: people read it on a terminal, where a name
 * from named must not move the cursor or forge a line.  JSON escapes
 * on its own.
 */
struct output {
	int	escape;
	void	(*status)(const struct reply *);
	void	(*counters)(const struct reply *);
	void	(*zones)(const struct reply *);
	void	(*checks)(const struct reply *);
	void	(*history)(const struct reply *);
	void	(*metrics)(const struct reply *);
	void	(*change)(const struct reply *);
	void	(*progress)(const struct ah_msg *svc, const struct ah_msg *drain);
	void	(*reload)(const struct reply *);
	void	(*error)(const char *code, const char *msg,
		    const struct reply *details);
	void	(*tail)(void);
};

/*
 * The records of one service in a reply: its 'service', 'drain' and
 * 'result'.
 */
const struct ah_msg *reply_find(const struct reply *, const char *type,
	    const char *service);

/*
 * restart's other needs (ctl_handover.c): the relay's parent pid, its
 * command line in 'cmd' (NULs as spaces; empty if unread), or -1; and
 * the handover note at 'path' for the relay 'from' of ExaBGP 'exabgp',
 * of the 'relay' and 'service' records among m[0..n), written whole
 * and given to the relay's user: 0, or -1 and why.
 */
pid_t	relay_parent_of(pid_t, char *cmd, size_t len);
int	handover_note_write(const char *path, pid_t from, pid_t exabgp,
	    struct ah_msg *const *m, size_t n, char *why, size_t len);

extern const struct output	 show_output, json_output;
extern const struct parse_result *command;	/* for the outputs */
/* -c CONFIG as anycastctl read it, if rejected: its errors, or NULL. */
extern const char		*file_path, *file_errors;

#endif /* AH_CTL_H */
