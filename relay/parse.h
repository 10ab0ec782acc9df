/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse.h - the relay's YAML configuration (schema: doc/config.md).
 *
 * Loading is all-or-nothing: a config with any error is rejected whole
 * and every error is reported as file:line:column: message.
 */
#ifndef AH_PARSE_H
#define AH_PARSE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "ahwire.h"

#define AH_PATH_MAX	108	/* sizeof(sun_path) */
#define AH_STATE_PATH_MAX	1024
#define AH_NAME_LEN	64
#define AH_VIEW_LEN	256
#define AH_COMM_MAX	16

#define AH_DEFAULT_CONTROL_SOCKET	"/run/anycast-health/relay.sock"
#define AH_DEFAULT_STATE_FILE		"/var/lib/anycast-health/relay.state"
/* Who named runs as on Debian (named -u bind). */
#define AH_DEFAULT_NAMED_USER		"bind"

/* Where a value is written in the file, for errors found after reading. */
struct conf_pos {
	unsigned long	 line, column;	/* from 1 */
};

struct prefix_conf {
	char		 prefix[80];	/* canonical text, e.g. 192.0.2.53/32 */
	int		 family;	/* AF_INET or AF_INET6 */
	char		 next_hop[64];	/* "self" or an address */
	int64_t		 med;		/* -1: none */
	size_t		 ncommunities;
	char		 communities[AH_COMM_MAX][16];
	char		 neighbor[64];	/* "": every neighbor */
	struct conf_pos	 at;		/* where it is written, for errors */
	struct conf_pos	 next_hop_at;
	struct conf_pos	 neighbor_at;	/* for exabgp.c's: not ExaBGP's */
};

#define AH_ZONES_MAX	32
#define AH_PATH_LEN	16

struct checks_conf {
	double		 servfail_max;		/* ratio 0..1; <0: off */
	double		 recfail_max;		/* ratio 0..1; <0: off */
	int64_t		 grace_ms;		/* unanswered after this */
	double		 latency_quantile;	/* 0..1; 0: off */
	int64_t		 latency_max_ms;
	int		 all_zones;	/* every zone the plugin watches */
	size_t		 nzones;
	char		 zones[AH_ZONES_MAX][AH_VIEW_LEN];
	int64_t		 serial_age_max_ms;	/* 0: off */
	struct conf_pos	 serial_age_at;
};

struct canary_conf {
	int		 enabled;
	char		 server[64];
	char		 source[64];	/* "": the kernel's choice */
	uint16_t	 port;
	char		 qname[256];
	uint16_t	 qtype;
	int		 recursion;
	unsigned int	 interval_ms;
	unsigned int	 timeout_ms;
};

/* Where the liveness probe goes (relay/liveness.h). */
struct liveness_conf {
	int		 set;		/* a liveness block was given */
	char		 server[64];
	char		 source[64];	/* "": the kernel's choice */
	uint16_t	 port;
};

/* Attributes of a route announced while the service is degraded. */
struct depref_conf {
	int64_t		 med;			/* -1: unchanged */
	size_t		 npath;
	uint32_t	 path[AH_PATH_LEN];	/* the whole AS_PATH */
	struct conf_pos	 path_at;
	size_t		 ncommunities;
	char		 communities[AH_COMM_MAX][16];
	int		 graceful_shutdown;	/* add 65535:0 */
	struct conf_pos	 at;
};

#define AH_GRACEFUL_SHUTDOWN	"65535:0"	/* RFC 8326 */

/*
 * A drain (anycastctl drain) announces with the depref attributes and
 * GRACEFUL_SHUTDOWN, then withdraws once the view's query rate stays
 * below max(share of the rate before, qps) for 'hold', or at 'timeout'.
 */
#define AH_DRAIN_TIMEOUT_MAX_MS	86400000	/* a day, also for --timeout */

struct drain_conf {
	unsigned int	 timeout_ms;
	double		 share;		/* 0..1 */
	uint64_t	 qps;
	unsigned int	 hold_ms;
};

enum low_traffic { LOW_KEEP, LOW_CANARY };
/* DOWN_UNSET only while loading: the default depends on 'watchdog'. */
enum when_down { DOWN_UNSET, DOWN_DEPREF, DOWN_WITHDRAW, DOWN_KEEP };

struct service_conf {
	char			 name[AH_NAME_LEN];
	char			 view[AH_VIEW_LEN];
	size_t			 nprefixes;
	struct prefix_conf	*prefixes;
	char			 watchdog[AH_NAME_LEN];	/* or an ExaBGP one */
	unsigned int		 window_ms;
	uint64_t		 min_queries;
	enum low_traffic	 low_traffic;
	unsigned int		 rise, fall;
	unsigned int		 max_changes;	/* 0: no damping */
	unsigned int		 period_ms, hold_ms, max_hold_ms;
	unsigned int		 retry_ms, max_retry_ms;
	struct checks_conf	 checks;
	struct canary_conf	 canary;
	struct liveness_conf	 liveness;
	enum when_down		 when_down;
	struct conf_pos		 when_down_at;
	int			 has_prefixes, has_depref;
	struct depref_conf	 depref;
	struct drain_conf	 drain;
	unsigned int		 fault_groups;	/* 0: never excuse */
	double			 fault_share;
	struct conf_pos		 at;
};

struct relay_conf {
	char			 path[4096];
	char			 plugin_socket[AH_PATH_MAX];
	/* Who named runs as: the plugin socket's server must be, or root. */
	char			 plugin_user[AH_NAME_LEN];
	unsigned int		 stale_ms;	/* 0: three plugin intervals */
	/* How long a reconfig of named may keep its views silent. */
	unsigned int		 reconfig_pause_ms;
	unsigned int		 reconnect_ms;
	char			 control_socket[AH_PATH_MAX];
	/*
	 * conf_fallback(): control_socket is what the file says (its value,
	 * or the default where it has none), not a guess.
	 */
	int			 control_socket_read;
	mode_t			 control_mode;
	gid_t			 control_gid;	/* (gid_t)-1: unchanged */
	/* Who may drain, undrain and reload besides root. */
	char			 admin_group[AH_NAME_LEN];	/* "": none */
	gid_t			 admin_gid;
	char			 metrics_listen[80];	/* "": no endpoint */
	/* Which services are drained, across restarts (state.c). */
	char			 state_file[AH_STATE_PATH_MAX];
	size_t			 nservices;
	struct service_conf	*services;
	/* The file as accepted, for the copy the relay keeps (lastgood.c). */
	char			*text;
	size_t			 textlen;
};

/*
 * Load 'path'.  Returns a config, or NULL after printing every error
 * found to 'errf' (one per line, file:line:column: message).
 */
struct relay_conf	*conf_load(const char *path, FILE *errf);
void			 conf_free(struct relay_conf *);
/*
 * For a file conf_load() rejects: the defaults and no service, with
 * control.socket, control.state-file and control.metrics-listen as far
 * as they can still be read from it, so that a relay can answer
 * anycastctl and find its last good configuration, and anycastctl can
 * find the relay; the defaults alone for a file that cannot be read at
 * all (a relay started on a missing file runs, on its last good copy
 * or on nothing).  NULL only without memory.
 */
struct relay_conf	*conf_fallback(const char *path);
/*
 * Whether 'path' reads whole, as conf_load() reads it: 0, or -1 with
 * errno set (EFBIG: over CONF_MAX bytes, as /dev/zero is), which
 * conf_read_error() puts in words.
 */
int			 conf_readable(const char *path);
const char		*conf_read_error(int);
#define CONF_MAX	(1024 * 1024)
/*
 * How many errors the text conf_load() wrote holds: a line each, but
 * past the first hundred only counted, in its last line.
 */
unsigned int		 conf_count_errors(const char *errors);

/* "250ms", "3s", "2m", "1h", "1d" -> milliseconds; -1 if not a duration. */
long long		 conf_duration_ms(const char *);

#endif /* AH_PARSE_H */
