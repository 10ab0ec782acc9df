/*
 * exabgp.h - the relay's two pipes to ExaBGP: route commands on
 * stdout, acks and session changes on stdin.
 */
#ifndef AH_EXABGP_H
#define AH_EXABGP_H

#include <stddef.h>
#include <stdint.h>

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

/* A BGP session as ExaBGP reports it (api { neighbor-changes; }). */
struct bgp_session {
	char		 peer[64];
	char		 state[16];	/* connected, up, down */
	char		 reason[128];	/* why it went down */
	int64_t		 since;		/* realtime ms */
};

/* The last command the relay sent for a prefix. */
struct sent_route {
	char		 prefix[80];
	char		 neighbor[64];
	char		 cmd[1024];
	int64_t		 at;		/* realtime ms */
};

void	exabgp_init(void);
/* The commands that put a service's routes in 'mode'. */
void	exabgp_service(const struct service_conf *, enum route_mode);
int	exabgp_want_write(void);
int	exabgp_flush(void);		/* -1: stdout is gone */
int	exabgp_read(void);		/* -1: stdin EOF, ExaBGP is gone */
enum exabgp_said { SAID_DONE, SAID_ERROR, SAID_SHUTDOWN, SAID_NEIGHBOR,
	SAID_OTHER };
enum exabgp_said exabgp_said(const char *, size_t, struct bgp_session *);
void	exabgp_lines(struct ah_lines *,
	    void (*)(const char *, size_t, void *), void *);
void	exabgp_drain(int timeout_ms);	/* best-effort flush at exit */
const struct bgp_session *exabgp_sessions(size_t *);
const struct sent_route *exabgp_sent(const struct prefix_conf *);
/* Withdraw one route, unless it is withdrawn already. */
void	exabgp_withdraw(const struct prefix_conf *);
/* Commands queued for ExaBGP since the relay started. */
uint64_t exabgp_commands(void);

#endif /* AH_EXABGP_H */
