/* SPDX-License-Identifier: MPL-2.0 */
/*
 * feed.h - the relay's subscription to the plugin's socket: the last
 * complete snapshot of every view, its counters and its zones.
 */
#ifndef AH_FEED_H
#define AH_FEED_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ahproto.h"
#include "ahwire.h"
#include "parse.h"

#define FEED_VIEWS_MAX		64
#define FEED_COUNTERS_MAX	384
/* A connection must bring a hello within this (ms). */
#define FEED_HELLO_MS		2000
/* Zone records in one snapshot: 64 views of 256 listed zones. */
#define FEED_ZONES_MAX		16384
/*
 * Named's clock moving this much against ours between two ticks is a
 * step of it: the two are read a feed's delay apart (milliseconds), and
 * a relay too busy to read for 10 s has worse trouble.
 */
#define FEED_STEP_MS		10000

/* The counters of one view, as the last complete snapshot had them. */
struct feed_view {
	char		name[AH_VIEW_LEN];
	uint64_t	id;		/* the plugin's, within a snapshot */
	/*
	 * Latest failing name per level and bucket (a registrable domain,
	 * a public suffix); "" for none.  Sent on change.
	 */
	char		domain[AH_LVL_COUNT][AH_DOM_BUCKETS][AH_DOMAIN_MAX];
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
	/*
	 * Relay monotonic ms of the zone walk the summary's 'checked'
	 * stands for (walked_at()); 0: no summary.
	 */
	int64_t		zones_walked;
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
	char		type[16];			/* "": not sent */
	int64_t		loaded_at, refresh, expire;	/* unix seconds */
	int64_t		loaded_seen;			/* ... 0: unknown */
	int64_t		checked;			/* unix ms */
	int64_t		walked;		/* ... as relay monotonic ms */
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
	/*
	 * Who may serve the socket: named's user (plugin.user) or root;
	 * the user's uid, or (uid_t)-1 when no such user exists here.
	 */
	const char		*user;
	uid_t			 named_uid;
	unsigned int		 reconnect_ms;
	int64_t			 next_attempt;	/* monotonic ms */
	int64_t			 hello_by;	/* ... or the feed closes */
	int64_t			 since;		/* realtime ms of last change */
	char			 error[320];	/* why it last went down */
	int			 repeating;	/* ... for the same reason again */
	/* From the hello. */
	uint64_t		 proto;		/* the plugin's version */
	/*
	 * The plugin counts failed recursions by cause: 'rtmo' groups
	 * seen on this connection (0.2.0's plugin; protocol 3 did not
	 * change with them).
	 */
	int			 causes;
	char			 named_version[64];
	char			 plugin_version[32];	/* "": before 0.2.0 */
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
	/* Unix ms of the last tick by named's clock (its 'time'). */
	int64_t			 last_tick_real;
	/*
	 * Named's clock less our monotonic one at the last tick that said
	 * 'time'; the last step of it (FEED_STEP_MS or more between two
	 * ticks): when (monotonic ms; 0: none seen) and by how much.
	 */
	int64_t			 clock_off;
	int64_t			 stepped_at;
	int64_t			 stepped_ms;
	/*
	 * Monotonic ms at which named last began a reconfig, as its last
	 * tick said ('reconfig'); 0: it did not say.
	 */
	int64_t			 reconfig_at;
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
 * (queries, probes, servfail, auth_servfail, ...), 'recursion' ones
 * prefixed FEED_REC, 'zones' ones FEED_ZONES, and the fleet sensor's
 * groups by level: 'domains' FEED_DOM KIND_N, 'suffixes' FEED_SFX
 * KIND_N (feed_dom_key()).  0, or -1 if the plugin sent no such key.
 */
#define FEED_REC	"rec_"
#define FEED_ZONES	"zones_"
#define FEED_DOM	"dom_"
#define FEED_SFX	"sfx_"

int	feed_counter(const struct feed_view *, const char *, uint64_t *);
/* The key of latency bucket i (ahwire.h): rec_le_1 .. rec_le_inf. */
void	feed_lat_key(int i, char *key, size_t len);
/*
 * The key of a fleet sensor counter: dom_fail_0 .. dom_rval_15,
 * sfx_fail_0 .. sfx_rval_15.
 */
void	feed_dom_key(enum ah_level, enum ah_dom kind, int group, char *key,
	    size_t len);
/* The latest failing name of a level's bucket, or NULL. */
const char *feed_domain(const struct feed_view *, enum ah_level, int bucket);
const struct feed_zone *feed_zone(const struct feed *, const char *view,
	    const char *zone);

#endif /* AH_FEED_H */
