/* SPDX-License-Identifier: MPL-2.0 */
/*
 * canary.h - a periodic DNS query from the relay to the local named.
 *
 * It proves named's query path answers a real question, with the
 * answer's RCODE.  (That named's query path runs at all, and zone walks
 * on a quiet server, the liveness probe of liveness.h sees to, canary
 * or not.)  Loopback only.
 */
#ifndef AH_CANARY_H
#define AH_CANARY_H

#include <stdint.h>

#include "parse.h"

struct canary {
	const struct canary_conf *conf;
	int		fd;
	uint16_t	id;
	int		waiting;
	int64_t		sent_at;	/* monotonic ms */
	int64_t		next_at;
	/* The last result. */
	int		have_result;
	int		ok;
	int64_t		result_at;	/* monotonic ms */
	int64_t		rtt_ms;
	char		result[96];
	/*
	 * Re-created by a reload (canary_renew()): until this canary's
	 * first result, the last one's stands in, if it had one.
	 */
	int		renewed;
	int		had_before;
	int		before_ok;
	char		before[96];
	/* named paused by a reconfig since (monotonic ms); 0: not. */
	int64_t		paused_at;
};

void	canary_init(struct canary *, const struct canary_conf *);
/* Send if due, time out if late; returns the fd to poll or -1. */
int	canary_poll_fd(struct canary *, int64_t now);
void	canary_read(struct canary *, int64_t now);
/* Stop: the socket is closed (a reload changed or removed the canary). */
void	canary_close(struct canary *);
/*
 * A reload changed the canary: it starts afresh with 'conf', and keeps
 * the last result of the one it replaces until it has its own.
 */
void	canary_renew(struct canary *, const struct canary_conf *);
/* Monotonic ms of the next thing the canary must do. */
int64_t	canary_next(const struct canary *);
/*
 * named's worker threads are paused by a reconfig: the canary's clock
 * stops, so the question it waits on (answered once named resumes) is
 * not taken for a failure, and none is asked meanwhile.
 */
void	canary_pause(struct canary *, int64_t now);
void	canary_resume(struct canary *, int64_t now);

#endif /* AH_CANARY_H */
