/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse.c - load the relay's YAML configuration: every key, as one
 * table per block (name, kind, field, limits, default, required), and
 * the code of the keys no kind describes (prefixes, communities,
 * zones, ...).  parse_yaml.c reads the file against these tables;
 * parse_rules.c checks what joins several keys.  A new key is a row
 * here, and a row in doc/config.md and anycast-relay.yaml(5).
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "parse.h"
#include "parse_rules.h"
#include "parse_yaml.h"
#include "policy.h"

#define SEC	1000LL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/* control: */

static void
take_mode(struct ctx *c, struct yaml_node_s *n, const struct key *k, void *base)
{
	const char	*s = conf_scalar(c, n, "mode");
	uint64_t	 m;

	if (s == NULL)
		return;
	if (conf_number(s, NULL, 8, 0777, &m) < 0 || (m & 0600) != 0600)
		conf_error(c, n, "mode '%s' is not an octal mode of at most "
		    "0777 with owner read and write (quote it: \"0660\")", s);
	else
		((struct relay_conf *)base)->control_mode = (mode_t)m;
}

static struct group *
group_of(struct ctx *c, struct yaml_node_s *n, const struct key *k)
{
	const char	*s = conf_scalar(c, n, conf_what(k));
	struct group	*gr;

	if (s == NULL)
		return (NULL);
	if ((gr = getgrnam(s)) == NULL)
		conf_error(c, n, "%s '%s' does not exist", conf_what(k), s);
	return (gr);
}

static void
take_group(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	struct group *gr;

	if ((gr = group_of(c, n, k)) != NULL)
		((struct relay_conf *)base)->control_gid = gr->gr_gid;
}

/* Kept by name too, for the refusal a user sees. */
static void
take_admin_group(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	struct group *gr;

	if ((gr = group_of(c, n, k)) == NULL)
		return;
	conf_take_kind(c, n, k, base);
	((struct relay_conf *)base)->admin_gid = gr->gr_gid;
}

/* ADDRESS:PORT, an IPv6 address in brackets: 127.0.0.1:9153, [::1]:9153. */
static int
is_listen(const char *s)
{
	char		 addr[64], *end;
	unsigned char	 bin[16];
	const char	*colon;
	unsigned long	 port;
	size_t		 len;
	int		 v6;

	v6 = s[0] == '[';
	colon = strrchr(s, ':');
	if (colon == NULL || (v6 && colon[-1] != ']'))
		return (0);
	len = (size_t)(colon - s) - (v6 ? 2 : 0);
	if (len == 0 || len >= sizeof(addr))
		return (0);
	memcpy(addr, s + v6, len);
	addr[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return (0);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	return (colon[1] >= '0' && colon[1] <= '9' && *end == '\0' &&
	    errno == 0 && port > 0 && port <= 65535);
}

static void
take_listen(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char *s = conf_scalar(c, n, "metrics-listen");

	if (s == NULL)
		return;
	if (!is_listen(s))
		conf_error(c, n, "metrics-listen '%s' is not ADDRESS:PORT "
		    "(like 127.0.0.1:9153 or [::1]:9153)", s);
	else
		conf_take_kind(c, n, k, base);
}

/* plugin: */

/* A user by name or number; the default need not exist (feed.c). */
static void
take_user(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char	*s = conf_scalar(c, n, "user");
	uint64_t	 uid;

	if (s == NULL)
		return;
	if (getpwnam(s) == NULL &&
	    conf_number(s, NULL, 10, (uid_t)-2, &uid) < 0)
		conf_error(c, n, "user '%s' does not exist", s);
	else
		conf_take_kind(c, n, k, base);
}

#define R(f)	FIELD(struct relay_conf, f)

static const struct key plugin_keys[] = {
	{ "socket", K_PATH, R(plugin_socket), .what = "plugin socket",
	    .defs = AH_DEFAULT_PLUGIN_SOCKET },
	{ "user", K_STRING, R(plugin_user), .defs = AH_DEFAULT_NAMED_USER,
	    .take = take_user },
	/* 0: three of the plugin's intervals, learnt from its hello */
	{ "stale-after", DURATION(R(stale_ms), 100, 10 * MIN, 0) },
	{ "reconfig-pause", DURATION(R(reconfig_pause_ms), 0, 10 * MIN,
	    10 * SEC) },
	{ "reconnect", DURATION(R(reconnect_ms), 10, MIN, 200) },
	{ .name = NULL }
};

static const struct key control_keys[] = {
	{ "socket", K_SOCKET, R(control_socket), .what = "control socket",
	    .defs = AH_DEFAULT_CONTROL_SOCKET },
	{ "mode", K_UINT, R(control_mode), .def = 0660, .take = take_mode },
	{ "group", K_UINT, R(control_gid), .def = -1, .take = take_group },
	{ "admin-group", K_STRING, R(admin_group),
	    .take = take_admin_group },
	{ "metrics-listen", K_STRING, R(metrics_listen), .take = take_listen },
	{ "state-file", K_PATH, R(state_file), .defs = AH_DEFAULT_STATE_FILE },
	{ .name = NULL }
};

#undef R

static const struct block plugin_block = {
	.what = "'plugin'", .keys = plugin_keys
};
static const struct block control_block = {
	.what = "'control'", .keys = control_keys
};

/* services: - prefixes: - */

static int
is_address(const char *s)
{
	unsigned char bin[16];

	return (inet_pton(AF_INET, s, bin) == 1 ||
	    inet_pton(AF_INET6, s, bin) == 1);
}

static void
take_prefix(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	struct prefix_conf	*p = base;
	const char		*s = conf_scalar(c, n, "prefix");
	char			 addr[64], *slash;
	unsigned char		 bin[16];
	uint64_t		 len;
	int			 max, i;

	if (s == NULL)
		return;
	if (strlen(s) >= sizeof(addr) || (slash = strchr(s, '/')) == NULL) {
		conf_error(c, n, "prefix '%s' must be ADDRESS/LENGTH", s);
		return;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		conf_error(c, n, "prefix '%s': '%s' is not an IPv4 or IPv6 "
		    "address", s, addr);
		return;
	}
	if (conf_number(slash + 1, NULL, 10, (uint64_t)max, &len) < 0) {
		conf_error(c, n, "prefix '%s': length must be 1..%d", s, max);
		return;
	}
	/* Host bits set are almost always a typo for another prefix. */
	for (i = (int)len; i < max; i++)
		if (bin[i / 8] & (0x80 >> (i % 8))) {
			conf_error(c, n, "prefix '%s' has host bits set", s);
			return;
		}
	/* A default route or a multicast group is no service's address. */
	if (len == 0 || (p->family == AF_INET && bin[0] >= 224 &&
	    bin[0] <= 239) || (p->family == AF_INET6 && bin[0] == 0xff)) {
		conf_error(c, n, "prefix '%s' is %s, not an anycast service's",
		    s, len == 0 ? "a default route" : "multicast");
		return;
	}
	inet_ntop(p->family, bin, addr, sizeof(addr));
	snprintf(p->prefix, sizeof(p->prefix), "%s/%llu", addr,
	    (unsigned long long)len);
}

/*
 * Why an address is no next hop, or NULL: none a router can forward to
 * (unspecified, broadcast, multicast), or an IPv6 link-local, which BGP
 * carries only beside a global one.
 */
static const char *
bad_next_hop(const char *s)
{
	unsigned char	b[16];
	static const unsigned char zero[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		if (memcmp(b, zero, 4) == 0)
			return ("unspecified: no router forwards to it");
		if (memcmp(b, "\xff\xff\xff\xff", 4) == 0)
			return ("the broadcast address: no router forwards to it");
		if (b[0] >= 224 && b[0] <= 239)
			return ("multicast: no router forwards to it");
		return (NULL);
	}
	if (inet_pton(AF_INET6, s, b) != 1)
		return (NULL);
	if (memcmp(b, zero, 16) == 0)
		return ("unspecified: no router forwards to it");
	if (b[0] == 0xff)
		return ("multicast: no router forwards to it");
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return ("link-local: the next hop BGP carries for IPv6 must be "
		    "global (RFC 2545)");
	return (NULL);
}

static void
take_next_hop(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char *s = conf_scalar(c, n, "next-hop"), *why;

	if (s == NULL)
		return;

	if (strcmp(s, "self") != 0 && !is_address(s))
		conf_error(c, n, "next-hop '%s' must be 'self' or an address",
		    s);
	else if ((why = bad_next_hop(s)) != NULL)
		conf_error(c, n, "next-hop %s is %s", s, why);
	else
		conf_take_kind(c, n, k, base);
}

static void
take_neighbor(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char *s = conf_scalar(c, n, "neighbor");

	if (s == NULL)
		return;
	if (!is_address(s))
		conf_error(c, n, "neighbor '%s' must be the peer's address", s);
	else
		conf_take_kind(c, n, k, base);
}

static int
valid_community(const char *s)
{
	const char	*colon;
	uint64_t	 v;

	return (conf_number(s, &colon, 10, 65535, &v) == 0 && *colon == ':' &&
	    conf_number(colon + 1, NULL, 10, 65535, &v) == 0);
}

/* A prefix's and a depref's: an array at 'off', its size at 'count'. */
static void
take_communities(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	char			(*list)[16] = (void *)((char *)base + k->off);
	size_t			*count = (void *)((char *)base + k->count - 1);
	long			 i, len;

	if ((len = conf_list_len(n)) < 0) {
		conf_error(c, n, "communities must be a list, like "
		    "[\"65000:53\"]");
		return;
	}
	for (i = 0; i < len; i++) {
		struct yaml_node_s	*v = conf_list_item(c, n, i);
		const char		*s = conf_scalar(c, v, "a community");

		if (s == NULL)
			continue;
		if (strlen(s) >= sizeof(list[0]) || !valid_community(s))
			conf_error(c, v, "community '%s' must be ASN:VALUE, "
			    "each 0..65535", s);
		else if (*count == AH_COMM_MAX)
			conf_error(c, v, "more than %d communities",
			    AH_COMM_MAX);
		else
			strcpy(list[(*count)++], s);
	}
}

#define P(f)	FIELD(struct prefix_conf, f)

static const struct key prefix_keys[] = {
	{ "prefix", K_OWN, P(prefix), .required = 1, .take = take_prefix },
	{ "next-hop", K_STRING, P(next_hop), .defs = "self",
	    .at = PLUS1(struct prefix_conf, next_hop_at),
	    .take = take_next_hop },
	{ "med", UINT(P(med), 0, 4294967295LL, -1) },	/* -1: none */
	{ "communities", K_OWN, P(communities),
	    .count = PLUS1(struct prefix_conf, ncommunities),
	    .take = take_communities },
	{ "neighbor", K_STRING, P(neighbor),
	    .at = PLUS1(struct prefix_conf, neighbor_at),
	    .take = take_neighbor },
	{ .name = NULL }
};

#undef P

static const struct block prefix_block = {
	.what = "a prefix", .keys = prefix_keys,
	.size = sizeof(struct prefix_conf),
	.at = PLUS1(struct prefix_conf, at), .finish = rules_prefix
};

/* checks: */

static void
take_quantile(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	int		before = conf_errors(c);

	conf_take_kind(c, n, k, base);
	/* Not a second error for a value already refused. */
	if (conf_errors(c) == before &&
	    ((struct checks_conf *)base)->latency_quantile == 0.0)
		conf_error(c, n, "quantile must be above 0%%");
}

static void
take_zones(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	struct checks_conf	*ck = base;
	const char		*all = conf_text(n);
	long			 j, len;
	size_t			 i;

	if (all != NULL && strcmp(all, "all") == 0) {
		ck->all_zones = 1;
		return;
	}
	if ((len = conf_list_len(n)) < 0) {
		conf_error(c, n, "zones must be a list of zone names, or "
		    "'all'");
		return;
	}
	if (len == 0) {
		conf_error(c, n, "zones must not be empty (leave the key out "
		    "to check no zone)");
		return;
	}
	for (j = 0; j < len; j++) {
		struct yaml_node_s	*v = conf_list_item(c, n, j);
		const char		*z = conf_scalar(c, v, "a zone name");
		char			*d;
		size_t			 zlen;

		if (z == NULL)
			continue;
		if (ck->nzones == AH_ZONES_MAX) {
			conf_error(c, v, "more than %d zones", AH_ZONES_MAX);
			return;
		}
		/* As the plugin prints names: lower case, no final dot. */
		zlen = strlen(z);
		if (zlen == 0 || zlen >= AH_VIEW_LEN ||
		    strchr(z, ' ') != NULL) {
			conf_error(c, v, "zone '%s' is not a zone name", z);
			continue;
		}
		d = ck->zones[ck->nzones];
		strcpy(d, z);
		if (zlen > 1 && d[zlen - 1] == '.')
			d[zlen - 1] = '\0';
		for (i = 0; d[i] != '\0'; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] - 'A' + 'a');
		for (i = 0; i < ck->nzones; i++)
			if (strcmp(ck->zones[i], d) == 0)
				break;
		if (i < ck->nzones)
			conf_error(c, v, "zone '%s' is listed twice", z);
		else
			ck->nzones++;
	}
}

/* Any duration above 0: a zone may well be reloaded once a week. */
static void
take_serial_age(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char	*s = conf_scalar(c, n, "max-serial-age");
	long long	 ms;

	if (s == NULL)
		return;
	if ((ms = conf_duration_ms(s)) <= 0)
		conf_error(c, n, "max-serial-age '%s' is not a duration, like "
		    "1d", s);
	else
		((struct checks_conf *)base)->serial_age_max_ms = ms;
}

#define K(f)	FIELD(struct checks_conf, f)

static const struct key latency_keys[] = {
	{ "quantile", PERCENT(K(latency_quantile), 0),	/* 0: off */
	    .required = 1, .take = take_quantile },
	{ "max", DURATION(K(latency_max_ms), 1, MIN, 0), .required = 1 },
	{ .name = NULL }
};

static const struct block latency_block = {
	.what = "recursion-latency", .keys = latency_keys
};

static const struct key check_keys[] = {
	/* -1: off */
	{ "servfail-ratio", PERCENT(K(servfail_max), -1) },
	{ "recursion-failure-ratio", PERCENT(K(recfail_max), -1) },
	{ "unanswered-after", DURATION(K(grace_ms), 50, MIN, 500) },
	{ "recursion-latency", K_BLOCK, .block = &latency_block },
	{ "zones", K_OWN, K(zones), .take = take_zones },
	{ "max-serial-age", K_DURATION, K(serial_age_max_ms), .def = 0,
	    .at = PLUS1(struct checks_conf, serial_age_at),
	    .take = take_serial_age },
	{ .name = NULL }
};

#undef K

static const struct block checks_block = {
	.what = "checks", .keys = check_keys, .finish = rules_checks
};

/* canary: and liveness: */

static void
take_qname(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char	*s = conf_scalar(c, n, "name");
	const char	*l;
	size_t		 len, wire = 1;

	if (s == NULL)
		return;
	/* Labels of 1..63 bytes; "." alone is the root. */
	for (l = s; *l != '\0' && strcmp(l, ".") != 0;) {
		len = strcspn(l, ".");
		if (len == 0 || len > 63) {
			conf_error(c, n, "canary name '%s' is not a domain "
			    "name", s);
			return;
		}
		wire += len + 1;
		l += len;
		if (*l == '.')
			l++;
	}
	/* Else a query no server answers: a canary failing for ever. */
	if (wire > 255) {
		conf_error(c, n, "canary name '%.40s...' is %zu octets on the "
		    "wire, more than a domain name's 255", s, wire);
		return;
	}
	conf_take_kind(c, n, k, base);
}

static const struct choice qtypes[] = {
	{ "A", 1 }, { "NS", 2 }, { "SOA", 6 }, { "MX", 15 }, { "TXT", 16 },
	{ "AAAA", 28 }, { "SRV", 33 }, { NULL, 0 }
};

/* Unlike the other choices, in any case, as dig takes them. */
static void
take_qtype(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	const char		*s = conf_scalar(c, n, "type");
	const struct choice	*q;

	if (s == NULL)
		return;
	for (q = qtypes; q->name != NULL; q++)
		if (strcasecmp(q->name, s) == 0) {
			((struct canary_conf *)base)->qtype =
			    (uint16_t)q->value;
			return;
		}
	conf_error(c, n, "canary type '%s' is not one of A, NS, SOA, MX, TXT, "
	    "AAAA, SRV", s);
}

#define C(f)	FIELD(struct canary_conf, f)

static const struct key canary_keys[] = {
	{ "server", K_LOOPBACK, C(server), .what = "canary server",
	    .defs = "127.0.0.1" },
	/* A source address lets the canary land in a view matched by client. */
	{ "source", K_LOOPBACK, C(source), .what = "canary source" },
	{ "port", UINT(C(port), 1, 65535, 53) },
	{ "name", K_STRING, C(qname), .required = 1, .take = take_qname },
	{ "type", K_UINT, C(qtype), .def = 6, .take = take_qtype },
	{ "recursion", K_BOOL, C(recursion), .def = 0 },
	{ "interval", DURATION(C(interval_ms), 100, 10 * MIN, SEC),
	    .what = "canary interval" },
	{ "timeout", DURATION(C(timeout_ms), 10, MIN, SEC),
	    .what = "canary timeout" },
	{ .name = NULL }
};

#undef C
#define L(f)	FIELD(struct liveness_conf, f)

static const struct key liveness_keys[] = {
	{ "server", K_LOOPBACK, L(server), .what = "liveness server",
	    .defs = "127.0.0.1" },
	{ "source", K_LOOPBACK, L(source), .what = "liveness source" },
	{ "port", UINT(L(port), 1, 65535, 53) },
	{ .name = NULL }
};

#undef L

static const struct block canary_block = {
	.what = "canary", .keys = canary_keys
};
static const struct block liveness_block = {
	.what = "liveness", .keys = liveness_keys
};

/* depref: */

static void
take_as_path(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	static const struct key	 asn = { "as-path", K_UINT,
	    .size = sizeof(uint32_t), .min = 1, .max = 4294967295LL,
	    .what = "an AS number" };
	struct depref_conf	*d = base;
	long			 i, len;

	if ((len = conf_list_len(n)) < 0) {
		conf_error(c, n, "as-path must be a list of AS numbers to "
		    "prepend");
		return;
	}
	for (i = 0; i < len; i++) {
		if (d->npath == AH_PATH_LEN) {
			conf_error(c, n, "as-path longer than %d", AH_PATH_LEN);
			return;
		}
		conf_take_kind(c, conf_list_item(c, n, i), &asn,
		    &d->path[d->npath++]);
	}
}

#define D(f)	FIELD(struct depref_conf, f)

static const struct key depref_keys[] = {
	{ "med", UINT(D(med), 0, 4294967295LL, -1) },	/* -1: unchanged */
	{ "as-path", K_OWN, D(path), .take = take_as_path,
	    .at = PLUS1(struct depref_conf, path_at) },
	{ "communities", K_OWN, D(communities),
	    .count = PLUS1(struct depref_conf, ncommunities),
	    .take = take_communities },
	/* RFC 8326 GRACEFUL_SHUTDOWN: see rules_service() */
	{ "graceful-shutdown", K_BOOL, D(graceful_shutdown), .def = 1 },
	{ .name = NULL }
};

#undef D
#define DR(f)	FIELD(struct drain_conf, f)

static const struct key drain_keys[] = {
	{ "timeout", DURATION(DR(timeout_ms), SEC, AH_DRAIN_TIMEOUT_MAX_MS,
	    MIN), .what = "drain timeout" },
	{ "share", PERCENT(DR(share), 0.01), .what = "drain share" },
	{ "qps", UINT(DR(qps), 0, 1000000000, 5), .what = "drain qps" },
	/* 1024 snapshots are kept: 30 s fits at the shortest interval. */
	{ "hold", DURATION(DR(hold_ms), 100, 30 * SEC, 2 * SEC),
	    .what = "drain hold" },
	{ .name = NULL }
};

#undef DR

static const struct block depref_block = {
	.what = "depref", .keys = depref_keys
};
static const struct block drain_block = {
	.what = "drain", .keys = drain_keys, .finish = rules_drain
};

/* The service's own fields, in blocks of their own in the file. */

static void
take_fault_share(struct ctx *c, struct yaml_node_s *n, const struct key *k,
    void *base)
{
	conf_take_kind(c, n, k, base);
	if (((struct service_conf *)base)->fault_share < 0.5)
		conf_error(c, n, "share must be at least 50%%: most failures "
		    "in few domain groups");
}

#define S(f)	FIELD(struct service_conf, f)

static const struct key damping_keys[] = {
	{ "max-changes", UINT(S(max_changes), 2, 64, 0), .required = 1 },
	{ "period", DURATION(S(period_ms), SEC, DAY, MIN) },
	{ "hold", DURATION(S(hold_ms), 100, DAY, 30 * SEC) },
	{ "max-hold", DURATION(S(max_hold_ms), 100, DAY, 10 * MIN) },
	{ .name = NULL }
};

static const struct key fault_keys[] = {
	{ "max-groups", UINT(S(fault_groups), 0, DOM_BUCKETS, 3) },
	{ "share", PERCENT(S(fault_share), 0.8),
	    .take = take_fault_share },
	{ .name = NULL }
};

static const struct block damping_block = {
	.what = "damping", .keys = damping_keys
};
static const struct block fault_block = {
	.what = "shared-fault", .keys = fault_keys
};

/* services: - */

static const struct choice low_traffic[] = {
	{ "keep", LOW_KEEP }, { "canary", LOW_CANARY }, { NULL, 0 }
};

static const struct choice when_down[] = {
	{ "depref", DOWN_DEPREF }, { "withdraw", DOWN_WITHDRAW },
	{ "keep", DOWN_KEEP }, { NULL, 0 }
};

#define S1(f)	PLUS1(struct service_conf, f)

static const struct key service_keys[] = {
	{ "name", K_TOKEN, S(name), .what = "service name", .required = 1 },
	{ "view", K_STRING, S(view), .defs = "_default" },
	{ "prefixes", K_LIST, S(prefixes), .block = &prefix_block,
	    .count = S1(nprefixes), .given = S1(has_prefixes) },
	{ "watchdog", K_TOKEN, S(watchdog) },
	{ "window", DURATION(S(window_ms), 500, HOUR, 10 * SEC) },
	{ "min-queries", UINT(S(min_queries), 1, 1000000000, 100) },
	{ "low-traffic", K_ENUM, S(low_traffic), .def = LOW_KEEP,
	    .choices = low_traffic },
	{ "rise", UINT(S(rise), 1, 100, 2) },
	{ "fall", UINT(S(fall), 1, 100, 2) },
	{ "retry", DURATION(S(retry_ms), 100, DAY, 10 * SEC) },
	{ "max-retry", DURATION(S(max_retry_ms), 100, DAY, 10 * MIN) },
	{ "damping", K_BLOCK, .block = &damping_block },
	{ "checks", K_BLOCK, S(checks), .block = &checks_block },
	{ "canary", K_BLOCK, S(canary), .block = &canary_block,
	    .given = S1(canary.enabled) },
	{ "liveness", K_BLOCK, S(liveness), .block = &liveness_block,
	    .given = S1(liveness.set) },
	/* DOWN_UNSET: the default depends on 'watchdog' (rules_service) */
	{ "when-down", K_ENUM, S(when_down), .def = DOWN_UNSET,
	    .choices = when_down, .at = S1(when_down_at) },
	{ "depref", K_BLOCK, S(depref), .block = &depref_block,
	    .given = S1(has_depref), .at = S1(depref.at) },
	{ "drain", K_BLOCK, S(drain), .block = &drain_block },
	{ "shared-fault", K_BLOCK, .block = &fault_block },
	{ .name = NULL }
};

#undef S
#undef S1

static const struct block service_block = {
	.what = "a service", .keys = service_keys,
	.size = sizeof(struct service_conf),
	.at = PLUS1(struct service_conf, at), .finish = rules_service
};

static const struct key top_keys[] = {
	{ "plugin", K_BLOCK, .block = &plugin_block },
	{ "control", K_BLOCK, .block = &control_block },
	/*
	 * The relay judges 64 (RELAY_SERVICES_MAX), and says so after
	 * loading; past .max, a list is refused before its memory.
	 */
	{ "services", K_LIST, FIELD(struct relay_conf, services),
	    .max = 1024, .required = 1, .block = &service_block,
	    .count = PLUS1(struct relay_conf, nservices) },
	{ .name = NULL }
};

static const struct block conf_top = {
	.what = "the configuration", .keys = top_keys, .finish = rules_top
};

struct relay_conf *
conf_load(const char *path, FILE *errf)
{
	struct relay_conf *rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		fprintf(errf, "%s: out of memory\n", path);
		return (NULL);
	}
	snprintf(rc->path, sizeof(rc->path), "%s", path);
	if (conf_read(path, errf, &conf_top, rc, &rc->text, &rc->textlen) >
	    0) {
		conf_free(rc);
		return (NULL);
	}
	return (rc);
}

/*
 * Only where to be found and where to look, and only if well formed; a
 * file that cannot be read gives the defaults, as one with none of these.
 */
struct relay_conf *
conf_fallback(const char *path)
{
	struct relay_conf	*rc;
	char			 v[AH_STATE_PATH_MAX];
	int			 k;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return (NULL);
	snprintf(rc->path, sizeof(rc->path), "%s", path);
	conf_defaults(&conf_top, rc);
	if ((k = conf_peek(path, "control", "socket", v, sizeof(v))) == 0 &&
	    v[0] == '/' && strlen(v) < sizeof(rc->control_socket)) {
		strcpy(rc->control_socket, v);
		rc->control_socket_read = 1;
	} else if (k == -2)
		rc->control_socket_read = 1;	/* none: the default */
	if (conf_peek(path, "control", "state-file", v, sizeof(v)) == 0 &&
	    v[0] == '/' && strlen(v) < sizeof(rc->state_file))
		strcpy(rc->state_file, v);
	if (conf_peek(path, "control", "metrics-listen", v, sizeof(v)) == 0 &&
	    is_listen(v) && strlen(v) < sizeof(rc->metrics_listen))
		strcpy(rc->metrics_listen, v);
	return (rc);
}

void
conf_free(struct relay_conf *rc)
{
	size_t i;

	if (rc == NULL)
		return;
	for (i = 0; i < rc->nservices; i++)
		free(rc->services[i].prefixes);
	free(rc->services);
	free(rc->text);
	free(rc);
}
