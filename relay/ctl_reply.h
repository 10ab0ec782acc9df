/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ctl_reply.h - the answer to one control request, as the records
 * control.c sends back.
 */
#ifndef AH_CTL_REPLY_H
#define AH_CTL_REPLY_H

#include <stddef.h>
#include <sys/socket.h>

#include "ahproto.h"

/* A reply's records (ahproto.h): a larger one ends in 'overflow'. */
#define CTL_OUT		AH_REPLY_MAX

struct relay;

struct ctl_reply {
	char		*buf;		/* CTL_OUT bytes */
	size_t		 len;
	int		 overflow;	/* a record did not fit: say so */
	const char	*hint;		/* ... and what to do; NULL: ask
					   for one view or service */
};

/*
 * The reply to request 'line' (n bytes, no LF) from 'peer': the
 * command's records and a 'done', or an error.
 */
void	ctl_answer(struct ctl_reply *, struct relay *, const char *line,
	    size_t n, const struct ucred *peer);
/*
 * An error record ends the reply.  'code' lets anycastctl choose its
 * exit status without reading the words: denied (permission), usage
 * (bad request), overflow.
 */
void	ctl_reply_error(struct ctl_reply *, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* AH_CTL_REPLY_H */
