/* SPDX-License-Identifier: MPL-2.0 */
/*
 * exabgp.h - the relay's two pipes to ExaBGP: route commands and the
 * neighbor question on stdout; answers, session changes and the
 * question's answer on stdin (sessions.h).
 */
#ifndef AH_EXABGP_H
#define AH_EXABGP_H

#include <stddef.h>
#include <stdint.h>

#include "sessions.h"

struct ah_lines;
struct prefix_conf;
struct service_conf;

/*
 * KEPT: down for soft trouble, route left as announced (when-down keep).
 * DRAINING: announced with the depref attributes and GRACEFUL_SHUTDOWN
 * while traffic moves away (drain.c).
 */
enum route_mode {
	ROUTE_WITHDRAWN, ROUTE_ANNOUNCED, ROUTE_DEGRADED, ROUTE_KEPT,
	ROUTE_DRAINING
};

/* ExaBGP's answer to a route's last command. */
enum ack { ACK_WAITING, ACK_ACCEPTED, ACK_REJECTED };

/* The last command the relay sent for a route, and ExaBGP's answer. */
struct sent_route {
	char		 prefix[80];	/* or "watchdog NAME" */
	char		 neighbor[64];
	unsigned int	 family;	/* FAM_*; 0: a watchdog's, any */
	char		 cmd[1024];
	int64_t		 at;		/* realtime ms */
	uint64_t	 seq;		/* its place among the commands */
	enum ack	 ack;
	int64_t		 acked;		/* realtime ms */
	int		 stranger;	/* rejected: no such neighbor */
};

/*
 * What ExaBGP does with a route, as far as the relay can know: it has
 * not answered yet, it rejected the command, it accepted a withdrawal,
 * it accepted an announcement that no session up carries, or one that
 * a session up carries (out there).
 */
enum held { HELD_WAITING, HELD_REJECTED, HELD_WITHDRAWN, HELD_UNCARRIED,
	HELD_ANNOUNCED };

struct route_held {
	enum held		 held;
	int64_t			 since;		/* realtime ms */
	char			 why[512];	/* unless HELD_ANNOUNCED */
	const struct sent_route	*sent;		/* NULL: nothing sent */
};

void	exabgp_init(void);
/* The commands that put a service's routes in 'mode'. */
void	exabgp_service(const struct service_conf *, enum route_mode);
/* Commands wait for ExaBGP (a stall of its reading is logged). */
int	exabgp_want_write(int64_t now);
int	exabgp_flush(void);		/* -1: stdout is gone */
int	exabgp_read(void);		/* -1: stdin EOF, ExaBGP is gone */
/* Asks ExaBGP which neighbors it has, when due (monotonic ms). */
void	exabgp_tick(int64_t now);
enum exabgp_said exabgp_said(const char *, size_t, struct said *);
void	exabgp_lines(struct ah_lines *,
	    void (*)(const char *, size_t, void *), void *);
void	exabgp_drain(int timeout_ms);	/* best-effort flush at exit */
void	exabgp_prefix_held(const struct prefix_conf *, struct route_held *);
void	exabgp_watchdog_held(const char *, struct route_held *);
/* Withdraw one route, unless it is withdrawn already. */
void	exabgp_withdraw(const struct prefix_conf *);
/*
 * Route commands asked for since the relay started, each a change of
 * what ExaBGP holds (one undone before ExaBGP read it is not written).
 */
uint64_t exabgp_commands(void);
/* Commands ExaBGP rejected since the relay started. */
uint64_t exabgp_rejected(void);
/* Commands ExaBGP has not answered yet, written or waiting. */
uint64_t exabgp_waiting(void);
const char *ack_name(enum ack);

#endif /* AH_EXABGP_H */
