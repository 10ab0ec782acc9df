/*
 * relay.h - the pieces of anycast-relay and the state they share.
 *
 *	feed.c		subscriber to the plugin's socket
 *	health.c	the verdict for each service
 *	exabgp.c	commands to ExaBGP on stdout, acks from stdin
 *	control.c	the control socket anycastctl talks to
 *	relay.c		main loop, signals, transitions
 */
#ifndef AH_RELAY_H
#define AH_RELAY_H

#include <poll.h>
#include <stdint.h>

#include "ahproto.h"
#include "canary.h"
#include "parse.h"
#include "policy.h"

#define FEED_VIEWS_MAX		64
#define RELAY_SERVICES_MAX	64
#define FEED_COUNTERS_MAX	64

/* The counters of one view, as the last complete snapshot had them. */
struct feed_view {
	char		name[AH_VIEW_LEN];
	size_t		ncounters;
	char		key[FEED_COUNTERS_MAX][AH_NAME_MAX + 1];
	uint64_t	val[FEED_COUNTERS_MAX];
};

/* A zone as the plugin last saw it. */
struct feed_zone {
	char		view[AH_VIEW_LEN];
	char		name[AH_VIEW_LEN];
	int		found, loaded, expired, has_serial;
	uint64_t	serial;
	int64_t		loaded_at, refresh, expire;	/* unix seconds */
	int64_t		checked;			/* unix ms */
};

struct zone_list {
	struct feed_zone	*z;
	size_t			 n, cap;
};

enum feed_state {
	FEED_DOWN,		/* not connected; retrying */
	FEED_HELLO,		/* connected, waiting for hello */
	FEED_UP			/* hello seen, snapshots flowing */
};

struct feed {
	enum feed_state		 state;
	int			 fd;
	struct ah_lines		 in;
	const char		*path;
	unsigned int		 reconnect_ms;
	int64_t			 next_attempt;	/* monotonic ms */
	int64_t			 since;		/* realtime ms of last change */
	char			 error[160];	/* why it last went down */
	int			 repeating;	/* ... for the same reason again */
	/* From the hello. */
	char			 named_version[64];
	uint64_t		 named_pid;
	uint64_t		 interval_ms;
	/* stale-after, raised to two intervals if configured below that. */
	unsigned int		 stale_ms;
	unsigned int		 conf_stale_ms;
	/* From snapshots. */
	uint64_t		 seq;
	int64_t			 last_tick;	/* monotonic ms; 0: none yet */
	int64_t			 last_tick_real;
	size_t			 nviews;
	struct feed_view	 views[FEED_VIEWS_MAX];
	size_t			 npending;
	struct feed_view	 pending[FEED_VIEWS_MAX];
	size_t			 nrecords;	/* of the pending snapshot */
	struct zone_list	 zones, pzones;
};

void	feed_init(struct feed *, const struct relay_conf *);
/* Connect if due; returns the fd to poll or -1. */
int	feed_poll_fd(struct feed *, int64_t now);
/* Read what the socket has; -1 if the feed closed. */
int	feed_read(struct feed *, int64_t now);
/* Take buffered lines up to the next complete snapshot; 1 if one completed. */
int	feed_next(struct feed *, int64_t now);
void	feed_close(struct feed *, int64_t now, const char *why);
const struct feed_view *feed_view(const struct feed *, const char *);
int	feed_counter(const struct feed_view *, const char *, uint64_t *);
/* A recent failing domain of domain group 'bucket', or NULL. */
const char *feed_domain(const struct feed_view *, int bucket);
const struct feed_zone *feed_zone(const struct feed *, const char *view,
	    const char *zone);

/* KEPT: down for soft trouble, route left as announced (when-down keep). */
enum route_mode { ROUTE_WITHDRAWN, ROUTE_ANNOUNCED, ROUTE_DEGRADED, ROUTE_KEPT };

enum check_id {
	CHK_SERVFAIL, CHK_RECFAIL, CHK_LATENCY, CHK_ZONES, CHK_CANARY,
	CHK_COUNT
};

struct service_state {
	struct judge	 judge;
	struct window	 win;
	struct canary	 canary;
	enum route_mode	 mode;
	int		 hard;		/* last verdict was V_DEAD */
	int		 resume;	/* hard trouble came while degraded */
	int64_t		 since;		/* realtime ms of the last change */
	char		 reason[400];	/* the last verdict, in words */
	/* Each check's last result, for 'low-traffic: keep'. */
	int		 bad[CHK_COUNT];
	int		 excused[CHK_COUNT];	/* failed: not this node's */
	int64_t		 excuse_logged[CHK_COUNT];	/* monotonic ms */
	char		 why[CHK_COUNT][256];
};

struct relay {
	struct relay_conf	*conf;
	struct feed		 feed;
	struct service_state	*svc;
	int64_t			 started;	/* realtime ms */
};

/*
 * health.c: judge one service.  'snapshot' is true when a new snapshot
 * arrived since the last call.  Returns 1 if the route mode changed.
 */
void	health_init(struct service_state *, const struct service_conf *);
int	health_judge(struct relay *, size_t svc, int64_t now, int snapshot);

/* exabgp.c */
void	exabgp_init(void);
/* The commands that put a service's routes in 'mode'. */
void	exabgp_service(const struct service_conf *, enum route_mode);
int	exabgp_want_write(void);
int	exabgp_flush(void);		/* -1: stdout is gone */
int	exabgp_read(void);		/* -1: stdin EOF, ExaBGP is gone */
void	exabgp_drain(int timeout_ms);	/* best-effort flush at exit */

/* control.c */
int	control_init(const struct relay_conf *);
void	control_fds(struct pollfd *, size_t *);
void	control_dispatch(struct relay *, const struct pollfd *, size_t);
void	control_cleanup(const struct relay_conf *);

int64_t	mono_ms(void);
int64_t	real_ms(void);

#endif /* AH_RELAY_H */
