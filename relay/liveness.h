/* SPDX-License-Identifier: MPL-2.0 */
/*
 * liveness.h - the relay's liveness probe to named.
 *
 * Proof that named's query threads work comes from the query path
 * itself: the plugin counts every query a view finishes.  When clients
 * are quiet, this probe makes sure there is one to count: once per
 * plugin interval a tiny query (RD=0, the private type and name of
 * proto/ahproto.h), sent and forgotten.  Answers are read only to be
 * discarded; an ICMP refusal is kept as a diagnostic.
 */
#ifndef AH_LIVENESS_H
#define AH_LIVENESS_H

#include <stdint.h>

#include "parse.h"

struct liveness {
	char		 server[64];
	char		 source[64];
	uint16_t	 port;
	char		 target[80];	/* "server#port", for messages */
	int		 fd;
	int64_t		 next_at;	/* monotonic ms of the next probe */
	int64_t		 last_sent;
	/*
	 * The first probe after a gap in sending (the relay itself was
	 * not scheduled, or just started): named cannot have answered
	 * what was never asked, so silence counts from here.
	 */
	int64_t		 resumed;
	int64_t		 refused_at;	/* last ICMP refusal; 0: none */
	char		 error[96];	/* the last send or socket error */
};

/* From the service's liveness block, or its canary's, or defaults. */
void	liveness_init(struct liveness *, const struct liveness_conf *,
	    const struct canary_conf *);
/* Send if due; returns the fd to poll for answers, or -1. */
int	liveness_poll_fd(struct liveness *, int64_t now,
	    unsigned int interval_ms);
void	liveness_read(struct liveness *, int64_t now);
int64_t	liveness_next(const struct liveness *);
void	liveness_close(struct liveness *);

#endif /* AH_LIVENESS_H */
