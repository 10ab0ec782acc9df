/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahwire.h - the words of the plugin's snapshots, defined once: the
 * counters' names, the domain groups, the latency buckets and the
 * default socket path.  The plugin writes them, the relay and
 * anycastctl read them; doc/protocol.md (section 2) is the
 * specification.  Like ahproto.h, free of BIND and libyaml headers.
 */
#ifndef AHWIRE_H
#define AHWIRE_H

#define AH_DEFAULT_PLUGIN_SOCKET	"/run/named/anycast-health.sock"

/*
 * The version of the plugin socket's records (doc/protocol.md, section
 * 4), said in 'hello'.  The relay reads this one and, where the older
 * one meant something else, the one before.  The control socket has
 * its own version, AH_PROTO_VERSION.
 */
#define AH_FEED_VERSION		3
#define AH_FEED_VERSION_MIN	2

/* Where an answer came from: the 'outcomes' record's key prefixes. */
enum ah_source {
	AH_SRC_AUTH, AH_SRC_CACHE, AH_SRC_RECURSION, AH_SRC_COUNT
};

/* Response codes counted, by source and in total. */
enum ah_rcode {
	AH_RC_NOERROR, AH_RC_NXDOMAIN, AH_RC_SERVFAIL, AH_RC_REFUSED,
	AH_RC_OTHER, AH_RC_COUNT
};

/*
 * Recursions really started (a fetch exists) and each one's outcome,
 * counted once: the 'recursion' record's keys.  Quota refusals are
 * load, never an upstream failure.
 */
enum ah_recursion {
	AH_REC_STARTED, AH_REC_SUCCESS, AH_REC_FAILURE, AH_REC_TIMEOUT,
	AH_REC_CANCELED,	/* by named: shutdown, a client gone, a soft quota */
	AH_REC_QUOTA,		/* refused by the recursive-clients quota */
	AH_REC_COUNT
};

/*
 * The fleet sensor: failures and recursions per group of names, so
 * that the relay can tell a fault of external names from a fault of
 * this node.  A name is grouped twice, at each level: by its
 * registrable domain ('example.co.uk') and by its public suffix
 * ('co.uk'), each hashed into AH_DOM_BUCKETS groups.  Each level has
 * its record of counters (ah_level_counts: one per kind, fields b0..)
 * and its record of sample names (ah_level_samples).
 */
enum ah_level { AH_LVL_DOMAIN, AH_LVL_SUFFIX, AH_LVL_COUNT };
/*
 * The kinds, all by the name being resolved (a CNAME's target once
 * named follows it): SERVFAIL answers that are not load, recursions
 * started, finished (any outcome, cancelled included), succeeded, and
 * failed or timed out; of those last, the ones that timed out and the
 * ones validation failed.  The rest of 'rbad' is what the servers gave
 * (lame, refusing, failing, or none left to ask): a node cannot do
 * better there than any other; the relay weighs that part apart from a
 * plugin that sends 'rtmo'.  Protocol 2 had the first three, at the
 * domain level only, by the last two labels, and 'fail' by the query
 * name.
 */
enum ah_dom {
	AH_DOM_FAIL, AH_DOM_RSTART, AH_DOM_RDONE, AH_DOM_ROK, AH_DOM_RBAD,
	AH_DOM_RTMO, AH_DOM_RVAL, AH_DOM_COUNT
};
#define AH_DOM_COUNT_V2	3
#define AH_DOM_BUCKETS	16
#define AH_DOMAIN_MAX	128	/* a group's sample name as text */

/*
 * Recursion latency: cumulative buckets le_B for each bound B (ms) and
 * le_inf, Prometheus-style.
 */
#define AH_LAT_BUCKETS	13
extern const unsigned int ah_lat_bounds[AH_LAT_BUCKETS - 1];

extern const char *const ah_source_names[AH_SRC_COUNT];
extern const char *const ah_rcode_names[AH_RC_COUNT];
extern const char *const ah_recursion_names[AH_REC_COUNT];
extern const char *const ah_dom_names[AH_DOM_COUNT];
extern const char *const ah_level_names[AH_LVL_COUNT];
extern const char *const ah_level_counts[AH_LVL_COUNT];
extern const char *const ah_level_samples[AH_LVL_COUNT];

#endif /* AHWIRE_H */
