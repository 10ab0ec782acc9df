/*
 * relay.h - the pieces of anycast-relay and the state they share.
 *
 *	feed.c		subscriber to the plugin's socket
 *	health.c	the verdict for each service
 *	drain.c		taking a service out on purpose (anycastctl drain)
 *	state.c		which services are drained, across restarts
 *	reload.c	a new configuration without a restart
 *	exabgp.c	commands to ExaBGP on stdout, answers from stdin
 *	sessions.c	ExaBGP's neighbors and their sessions
 *	control.c	the control socket anycastctl talks to
 *	access.c	who may do what on it
 *	describe.c	state, check and prefix names for reports
 *	metrics.c	Prometheus exposition and its HTTP endpoint
 *	relay.c		main loop, signals, transitions
 */
#ifndef AH_RELAY_H
#define AH_RELAY_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "ahproto.h"
#include "canary.h"
#include "liveness.h"
#include "parse.h"
#include "policy.h"
#include "sessions.h"

#define FEED_VIEWS_MAX		64
#define RELAY_SERVICES_MAX	64
#define FEED_COUNTERS_MAX	128
#define FEED_DOMAINS		AH_DOM_BUCKETS
#define FEED_DOMAIN_LEN		128
/* A connection must bring a hello within this (ms). */
#define FEED_HELLO_MS		2000
/* Zone records in one snapshot: 64 views of 256 listed zones. */
#define FEED_ZONES_MAX		16384

/* The counters of one view, as the last complete snapshot had them. */
struct feed_view {
	char		name[AH_VIEW_LEN];
	uint64_t	id;		/* the plugin's, within a snapshot */
	/* Latest failing domain per bucket; "" for none.  Sent on change. */
	char		domain[FEED_DOMAINS][FEED_DOMAIN_LEN];
	/*
	 * Evidence that named's query path works in this view: relay
	 * monotonic ms of the snapshot that showed 'queries' or 'probes'
	 * go up (0: not yet on this connection), and of the one that
	 * showed 'probes' go up; carried from snapshot to snapshot.
	 */
	uint64_t	activity;	/* queries + probes */
	uint64_t	probes;
	int64_t		active_at;
	int64_t		probed_at;
	int64_t		first_seen;
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
	int64_t			 hello_by;	/* ... or the feed closes */
	int64_t			 since;		/* realtime ms of last change */
	char			 error[160];	/* why it last went down */
	int			 repeating;	/* ... for the same reason again */
	/* From the hello. */
	char			 named_version[64];
	uint64_t		 named_pid;
	uint64_t		 interval_ms;
	uint64_t		 zone_interval_ms;
	/*
	 * stale-after: as configured but at least two intervals, or by
	 * default three; follows the plugin's interval when it changes.
	 */
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
/* Read what the socket has: bytes read, 0 if none now, -1 if closed. */
int	feed_read(struct feed *, int64_t now);
/* Take buffered lines up to the next complete snapshot; 1 if one completed. */
int	feed_next(struct feed *, int64_t now);
void	feed_close(struct feed *, int64_t now, const char *why);
/*
 * A reloaded configuration: reconnect and stale-after apply at once; a
 * new plugin socket closes the feed and connects there (returns 1).
 */
int	feed_reconfigure(struct feed *, const struct relay_conf *, int64_t);
const struct feed_view *feed_view(const struct feed *, const char *);
/*
 * A counter of the view by key: the 'outcomes' fields as they are
 * (queries, probes, servfail, ...), 'recursion' ones prefixed rec_,
 * 'zones' ones zones_, and the fleet sensor's dom_fail_N, dom_rstart_N,
 * dom_rdone_N (N = 0..15).  0, or -1 if the plugin sent no such key.
 */
int	feed_counter(const struct feed_view *, const char *, uint64_t *);
/* The latest failing two-label domain of a bucket, or NULL. */
const char *feed_domain(const struct feed_view *, int bucket);
const struct feed_zone *feed_zone(const struct feed *, const char *view,
	    const char *zone);

/*
 * KEPT: down for soft trouble, route left as announced (when-down keep).
 * DRAINING: announced with the depref attributes and GRACEFUL_SHUTDOWN
 * while traffic moves away (drain.c).
 */
enum route_mode {
	ROUTE_WITHDRAWN, ROUTE_ANNOUNCED, ROUTE_DEGRADED, ROUTE_KEPT,
	ROUTE_DRAINING
};

enum check_id {
	CHK_SERVFAIL, CHK_RECFAIL, CHK_LATENCY, CHK_ZONES, CHK_CANARY,
	CHK_COUNT
};

/*
 * A check's latest figures, for 'show checks' and metrics; the words
 * are in why[].  'value' and 'limit' are in the check's unit: a ratio
 * (0..1), milliseconds, or a count of unhealthy zones.
 */
struct check_value {
	int		 have;
	double		 value;
	double		 limit;
	uint64_t	 samples;	/* what the value was taken over */
	int64_t		 span_ms;	/* ... and over how long; 0: now */
};

/* One route change of a service, for 'show history'. */
#define HISTORY_LEN	32

struct transition {
	int64_t		 at;		/* realtime ms */
	enum route_mode	 from, to;
	char		 reason[200];
};

/*
 * A drain: an operator's request to take the service out.  It stays
 * drained, whatever the checks say, until undrained, also across
 * restarts of the relay (state.c).
 */
enum drain_state { DRAIN_NONE, DRAIN_DRAINING, DRAIN_DRAINED };
/* Why a drain is drained. */
enum drain_end {
	DRAIN_QUIET,		/* the query rate fell below the limit */
	DRAIN_TIMEOUT,		/* withdrawn anyway at the timeout */
	DRAIN_NOT_ANNOUNCED,	/* nothing to drain: withdrawn already */
	DRAIN_HARD,		/* named went away while draining */
	DRAIN_WATCHDOG,		/* a watchdog cannot be depreferred */
	DRAIN_RESTORED		/* drained before this relay started */
};

struct drain {
	enum drain_state state;
	enum drain_end	 end;
	int64_t		 since;		/* realtime ms the drain was asked */
	int64_t		 started;	/* ... monotonic ms */
	int64_t		 deadline;	/* monotonic ms: withdrawn then */
	unsigned int	 timeout_ms;
	double		 before;	/* queries/s before it; -1: unknown */
	double		 rate;		/* over the last hold; -1: not yet */
	double		 limit;		/* quiet at or below this */
	int64_t		 ended;		/* realtime ms it was drained */
	char		 by[80];	/* who asked: "uid 0 (root)" */
	char		 why[200];	/* how it ended, in words */
};

struct service_state {
	struct judge	 judge;
	struct window	 win;
	struct canary	 canary;
	struct liveness	 live;
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
	struct check_value val[CHK_COUNT];
	/* This evaluation: judged on evidence, or failing for lack of it. */
	int		 judged[CHK_COUNT];
	int		 held[CHK_COUNT];
	/* Recovery (policy.h): forgotten by a retry, not passed since. */
	struct retry	 retry;
	int		 retried[CHK_COUNT];
	/* The last HISTORY_LEN route changes, oldest overwritten first. */
	struct transition history[HISTORY_LEN];
	uint64_t	 transitions;	/* since start; history holds the last */
	struct drain	 drain;
};

struct relay {
	struct relay_conf	*conf;
	struct feed		 feed;
	struct service_state	*svc;
	int64_t			 started;	/* realtime ms */
	/* Why the state file was not written last time; "" if it was. */
	char			 state_error[300];
};

/*
 * health.c: judge one service.  'snapshot' is true when a new snapshot
 * arrived since the last call.  Returns 1 if the route mode changed.
 */
void	health_init(struct service_state *, const struct service_conf *);
int	health_judge(struct relay *, size_t svc, int64_t now, int snapshot);
/*
 * Put service svc's routes in 'mode' at once: the commands, the log
 * line ("service NAME WHAT: WHY"), the history.  Returns 1 if it
 * changed.
 */
int	health_route(struct relay *, size_t svc, enum route_mode,
	    const char *what, const char *why);
/* Monotonic ms at which service svc's hard verdict may change. */
int64_t	live_deadline(const struct relay *, size_t svc);

/*
 * drain.c.  drain_start() announces with GRACEFUL_SHUTDOWN (or
 * withdraws, if nothing can move) and says what it did in msg;
 * timeout_ms < 0 is the service's drain.timeout.  The rest are the
 * judge's: a drain that timed out, lost named, or saw the query rate
 * fall, ends drained (1), and health.c withdraws.
 */
void	drain_start(struct relay *, size_t svc, int64_t timeout_ms,
	    const char *who, int64_t now);
int	drain_undo(struct relay *, size_t svc, const char *who);
int	drain_expired(struct relay *, size_t svc, int64_t now);
int	drain_lost(struct relay *, size_t svc, const char *why);
int	drain_quiet(struct relay *, size_t svc, int64_t now);
/* Monotonic ms of the drain's timeout, or INT64_MAX. */
int64_t	drain_deadline(const struct relay *, size_t svc);
const char *drain_state_name(enum drain_state);
const char *drain_end_name(enum drain_end);

/*
 * state.c: the drained services, in control.state-file.  state_load()
 * at start: a service the file names is drained; a file that cannot
 * be read or parsed drains every service (fail closed).  state_save()
 * writes it whole (temp file and rename); -1 on failure, logged and
 * kept in r->state_error for anycastctl until a save succeeds.
 */
void	state_load(struct relay *);
int	state_save(struct relay *);

/*
 * reload.c: load the configuration file again and move to it, keeping
 * the state of every service that is still there.  Returns 0, or -1 if
 * the file is rejected and the running configuration is untouched.
 * Either way every line of *text (the file's errors, or one line per
 * change and a summary) is logged; the caller frees it.
 */
struct reload_result {
	size_t		 added, removed, changed, unchanged;
	uint64_t	 commands;	/* sent to ExaBGP by the reload */
};

int	reload(struct relay *, char **text, struct reload_result *);

/* exabgp.c */
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
int	exabgp_want_write(void);
int	exabgp_flush(void);		/* -1: stdout is gone */
int	exabgp_read(void);		/* -1: stdin EOF, ExaBGP is gone */
/* Asks ExaBGP which neighbors it has, when due. */
void	exabgp_tick(int64_t now);
enum exabgp_said exabgp_said(const char *, size_t, struct said *);
struct ah_lines;
void	exabgp_lines(struct ah_lines *,
	    void (*)(const char *, size_t, void *), void *);
void	exabgp_drain(int timeout_ms);	/* best-effort flush at exit */
void	exabgp_prefix_held(const struct prefix_conf *, struct route_held *);
void	exabgp_watchdog_held(const char *, struct route_held *);
/* Withdraw one route, unless it is withdrawn already. */
void	exabgp_withdraw(const struct prefix_conf *);
/* Route commands queued for ExaBGP since the relay started. */
uint64_t exabgp_commands(void);
/* Commands ExaBGP rejected since the relay started. */
uint64_t exabgp_rejected(void);
/* Commands ExaBGP has not answered yet. */
uint64_t exabgp_waiting(void);

/* control.c: the control socket, and the metrics endpoint beside it. */
int	control_init(struct relay *);
void	control_fds(struct pollfd *, size_t *);
void	control_dispatch(struct relay *, const struct pollfd *, size_t);
void	control_cleanup(const struct relay_conf *);

/* access.c */
enum ctl_priv { PRIV_READ, PRIV_ADMIN };
/* 0 if peer 'uid'/'gid' holds 'priv'; else -1 with why[] in words. */
int	access_check(const struct relay_conf *, enum ctl_priv, uid_t, gid_t,
	    char *why, size_t);
/* The peer in words, for logs and a drain's record: "uid 0 (root)". */
void	access_who(uid_t, char *who, size_t);

/* describe.c */
extern const char *const check_names[CHK_COUNT];
const char	*service_state_name(const struct service_state *, int64_t now);
const char	*route_mode_name(enum route_mode);
const char	*prefix_state_name(enum route_mode, enum held);
const char	*ack_name(enum ack);

/* metrics.c */
struct buf {
	char		*p;
	size_t		 len, cap;
	int		 bad;		/* out of memory: sticky */
};
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_free(struct buf *);
/* The Prometheus text exposition of everything the relay knows. */
void	metrics_render(struct relay *, struct buf *);
int	metrics_listen(struct relay *, const char *addr);
int	metrics_fd(void);
void	metrics_run(void);
void	metrics_stop(void);

int64_t	mono_ms(void);
int64_t	real_ms(void);

#endif /* AH_RELAY_H */
