/*
 * parse.c - load and check the relay's YAML configuration.
 *
 * libyaml's document API keeps every node's position, so each error
 * names the exact line and column.  All errors are collected, not
 * just the first, so one run of --check shows everything to fix.
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#include "parse.h"
#include "policy.h"

struct ctx {
	const char		*file;
	FILE			*errf;
	int			 errors;
	yaml_document_t		*doc;
};

/* One entry of a mapping's schema: its key and how to take its value. */
struct key {
	const char	*name;
	int		 required;
	void		(*take)(struct ctx *, yaml_node_t *, void *);
};

/*
 * Messages quote values from the file, and a YAML scalar may hold a
 * newline or any control byte: print those as '?' so that each error
 * stays on its one line and cannot pass for another.
 */
static void
vperr(struct ctx *c, const yaml_mark_t *at, const char *fmt, va_list ap)
{
	char	*msg, *p;

	fprintf(c->errf, "%s:%lu:%lu: ", c->file, (unsigned long)at->line + 1,
	    (unsigned long)at->column + 1);
	if (vasprintf(&msg, fmt, ap) == -1)
		fputs("(no memory for the message)", c->errf);
	else {
		for (p = msg; *p != '\0'; p++)
			if (iscntrl((unsigned char)*p))
				*p = '?';
		fputs(msg, c->errf);
		free(msg);
	}
	fputc('\n', c->errf);
	c->errors++;
}

static void __attribute__((format(printf, 3, 4)))
perr(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr(c, &n->start_mark, fmt, ap);
	va_end(ap);
}

/* For checks made after the document is gone: at a remembered place. */
static void __attribute__((format(printf, 3, 4)))
perr_at(struct ctx *c, const yaml_mark_t *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr(c, at, fmt, ap);
	va_end(ap);
}

static const char *
scalar(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		perr(c, n, "%s must be a single value", what);
		return (NULL);
	}
	return ((const char *)n->data.scalar.value);
}

/* Copy a scalar into a fixed buffer, refusing empty or oversize text. */
static void
take_string(struct ctx *c, yaml_node_t *n, const char *what, char *dst,
    size_t len)
{
	const char *s = scalar(c, n, what);

	if (s == NULL)
		return;
	if (*s == '\0')
		perr(c, n, "%s must not be empty", what);
	else if (strlen(s) >= len)
		perr(c, n, "%s is longer than %zu bytes", what, len - 1);
	else
		strcpy(dst, s);
}

static void
take_path(struct ctx *c, yaml_node_t *n, const char *what, char *dst,
    size_t size)
{
	const char *s = scalar(c, n, what);

	if (s == NULL)
		return;
	if (s[0] != '/') {
		perr(c, n, "%s '%s' must be an absolute path", what, s);
		return;
	}
	take_string(c, n, what, dst, size);
}

/*
 * The one number parser of the file: digits of 'base' only, at most
 * 'max'.  strtoul() and strtod() also take a sign, leading space, "0x",
 * exponents, "inf" and "nan", each a typo to report, not a number to
 * guess.  With 'end', parsing stops at the first non-digit and *end
 * points there; without, the whole string must be the number.
 */
static int
conf_number(const char *s, const char **end, unsigned int base, uint64_t max,
    uint64_t *out)
{
	uint64_t	v = 0;
	unsigned int	d;
	const char	*p;

	for (p = s; *p >= '0' && *p < '0' + (int)base; p++) {
		d = (unsigned int)(*p - '0');
		if (d > max || v > (max - d) / base)
			return (-1);
		v = v * base + d;
	}
	if (p == s || (end == NULL && *p != '\0'))
		return (-1);
	if (end != NULL)
		*end = p;
	*out = v;
	return (0);
}

long long
conf_duration_ms(const char *s)
{
	static const struct {
		const char	*unit;
		long long	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { NULL, 0 }
	};
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	if (conf_number(s, &end, 10, 86400000, &v) < 0)
		return (-1);
	for (i = 0; units[i].unit != NULL; i++)
		if (strcmp(end, units[i].unit) == 0)
			return ((long long)v * units[i].ms);
	return (-1);
}

static void
take_duration(struct ctx *c, yaml_node_t *n, const char *what,
    unsigned int *dst, long long min, long long max)
{
	const char	*s = scalar(c, n, what);
	long long	 ms;

	if (s == NULL)
		return;
	if ((ms = conf_duration_ms(s)) < 0)
		perr(c, n, "%s '%s' is not a duration "
		    "(a whole number with ms, s, m, h or d, like 500ms or 3s)",
		    what, s);
	else if (ms < min || ms > max)
		perr(c, n, "%s %s is outside %lldms..%llds", what, s, min,
		    max / 1000);
	else
		*dst = (unsigned int)ms;
}

static void
take_uint(struct ctx *c, yaml_node_t *n, const char *what, uint64_t min,
    uint64_t max, uint64_t *dst)
{
	const char	*s = scalar(c, n, what);
	uint64_t	 v;

	if (s == NULL)
		return;
	if (conf_number(s, NULL, 10, max, &v) < 0 || v < min)
		perr(c, n, "%s '%s' must be a whole number %llu..%llu", what, s,
		    (unsigned long long)min, (unsigned long long)max);
	else
		*dst = v;
}

/* "20%" or "2.5%" -> 0.2, 0.025: digits, an optional fraction, '%'. */
static int
conf_percent(const char *s, double *out)
{
	const char	*p;
	uint64_t	 whole, frac = 0;
	double		 scale = 1.0;

	if (conf_number(s, &p, 10, 100, &whole) < 0)
		return (-1);
	if (*p == '.') {
		const char *q = p + 1;

		if (conf_number(q, &p, 10, 999999, &frac) < 0)
			return (-1);
		for (; q < p; q++)
			scale *= 10.0;
	}
	if (strcmp(p, "%") != 0 || (whole == 100 && frac > 0))
		return (-1);
	*out = ((double)whole + (double)frac / scale) / 100.0;
	return (0);
}

static void
take_percent(struct ctx *c, yaml_node_t *n, const char *what, double *dst)
{
	const char *s = scalar(c, n, what);

	if (s != NULL && conf_percent(s, dst) < 0)
		perr(c, n, "%s '%s' must be a percentage 0%%..100%%, like 20%%",
		    what, s);
}

/*
 * Walk a mapping against its schema: unknown, repeated and missing
 * keys are all errors.
 */
static void
walk_map(struct ctx *c, yaml_node_t *n, const char *what,
    const struct key *keys, void *arg)
{
	yaml_node_pair_t	*p;
	unsigned int		 seen = 0;
	size_t			 i;

	if (n->type != YAML_MAPPING_NODE) {
		perr(c, n, "%s must be a mapping of keys to values", what);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t	*k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t	*v = yaml_document_get_node(c->doc, p->value);
		const char	*name = scalar(c, k, "a key");

		if (name == NULL)
			continue;
		for (i = 0; keys[i].name != NULL; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (keys[i].name == NULL) {
			char	expected[256] = "";
			size_t	j;

			for (j = 0; keys[j].name != NULL; j++) {
				strncat(expected, j ? ", " : "",
				    sizeof(expected) - strlen(expected) - 1);
				strncat(expected, keys[j].name,
				    sizeof(expected) - strlen(expected) - 1);
			}
			perr(c, k, "unknown key '%s' in %s (expected one of: %s)",
			    name, what, expected);
			continue;
		}
		if (seen & (1u << i)) {
			perr(c, k, "key '%s' appears twice in %s", name, what);
			continue;
		}
		seen |= 1u << i;
		keys[i].take(c, v, arg);
	}
	for (i = 0; keys[i].name != NULL; i++)
		if (keys[i].required && !(seen & (1u << i)))
			perr(c, n, "%s lacks required key '%s'", what,
			    keys[i].name);
}

/* plugin: */

static void
plugin_socket(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf *rc = arg;

	take_path(c, n, "plugin socket", rc->plugin_socket,
	    sizeof(rc->plugin_socket));
}

static void
plugin_stale(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "stale-after",
	    &((struct relay_conf *)arg)->stale_ms, 100, 600000);
}

static void
plugin_reconnect(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "reconnect",
	    &((struct relay_conf *)arg)->reconnect_ms, 10, 60000);
}

static const struct key plugin_keys[] = {
	{ "socket", 0, plugin_socket },
	{ "stale-after", 0, plugin_stale },
	{ "reconnect", 0, plugin_reconnect },
	{ NULL, 0, NULL }
};

/* control: */

static void
control_socket(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf *rc = arg;

	take_path(c, n, "control socket", rc->control_socket,
	    sizeof(rc->control_socket));
}

static void
control_mode(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char	*s = scalar(c, n, "mode");
	uint64_t	 m;

	if (s == NULL)
		return;
	if (conf_number(s, NULL, 8, 0777, &m) < 0 || (m & 0600) != 0600)
		perr(c, n, "mode '%s' is not an octal mode of at most 0777 "
		    "with owner read and write (quote it: \"0660\")", s);
	else
		((struct relay_conf *)arg)->control_mode = (mode_t)m;
}

static void
control_group(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char	*s = scalar(c, n, "group");
	struct group	*gr;

	if (s == NULL)
		return;
	if ((gr = getgrnam(s)) == NULL)
		perr(c, n, "group '%s' does not exist", s);
	else
		((struct relay_conf *)arg)->control_gid = gr->gr_gid;
}

static void
control_admin_group(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf	*rc = arg;
	const char		*s = scalar(c, n, "admin-group");
	struct group		*gr;

	if (s == NULL)
		return;
	if ((gr = getgrnam(s)) == NULL)
		perr(c, n, "admin-group '%s' does not exist", s);
	else {
		take_string(c, n, "admin-group", rc->admin_group,
		    sizeof(rc->admin_group));
		rc->admin_gid = gr->gr_gid;
	}
}

/* ADDRESS:PORT, an IPv6 address in brackets: 127.0.0.1:9153, [::1]:9153. */
static void
control_metrics_listen(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf	*rc = arg;
	const char		*s = scalar(c, n, "metrics-listen");
	char			 addr[64], *end;
	unsigned char		 bin[16];
	const char		*colon;
	unsigned long		 port;
	size_t			 len;
	int			 v6;

	if (s == NULL)
		return;
	v6 = s[0] == '[';
	colon = strrchr(s, ':');
	if (colon == NULL || (v6 && colon[-1] != ']'))
		goto bad;
	len = (size_t)(colon - s) - (v6 ? 2 : 0);
	if (len == 0 || len >= sizeof(addr))
		goto bad;
	memcpy(addr, s + v6, len);
	addr[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		goto bad;
	take_string(c, n, "metrics-listen", rc->metrics_listen,
	    sizeof(rc->metrics_listen));
	return;
bad:
	perr(c, n, "metrics-listen '%s' is not ADDRESS:PORT (like "
	    "127.0.0.1:9153 or [::1]:9153)", s);
}

static void
control_state_file(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf	*rc = arg;

	take_path(c, n, "state-file", rc->state_file, sizeof(rc->state_file));
}

static const struct key control_keys[] = {
	{ "socket", 0, control_socket },
	{ "mode", 0, control_mode },
	{ "group", 0, control_group },
	{ "admin-group", 0, control_admin_group },
	{ "metrics-listen", 0, control_metrics_listen },
	{ "state-file", 0, control_state_file },
	{ NULL, 0, NULL }
};

/* services: - prefixes: - */

static void
prefix_prefix(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct prefix_conf	*p = arg;
	const char		*s = scalar(c, n, "prefix");
	char			 addr[64], *slash;
	unsigned char		 bin[16];
	uint64_t		 len;
	int			 max, i;

	if (s == NULL)
		return;
	if (strlen(s) >= sizeof(addr) || (slash = strchr(s, '/')) == NULL) {
		perr(c, n, "prefix '%s' must be ADDRESS/LENGTH", s);
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
		perr(c, n, "prefix '%s': '%s' is not an IPv4 or IPv6 address",
		    s, addr);
		return;
	}
	if (conf_number(slash + 1, NULL, 10, (uint64_t)max, &len) < 0) {
		perr(c, n, "prefix '%s': length must be 0..%d", s, max);
		return;
	}
	/* Host bits set are almost always a typo for another prefix. */
	for (i = (int)len; i < max; i++)
		if (bin[i / 8] & (0x80 >> (i % 8))) {
			perr(c, n, "prefix '%s' has host bits set", s);
			return;
		}
	inet_ntop(p->family, bin, addr, sizeof(addr));
	snprintf(p->prefix, sizeof(p->prefix), "%s/%llu", addr,
	    (unsigned long long)len);
}

static void
prefix_next_hop(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct prefix_conf	*p = arg;
	const char		*s = scalar(c, n, "next-hop");
	unsigned char		 bin[16];

	if (s == NULL)
		return;
	if (strcmp(s, "self") != 0 && inet_pton(AF_INET, s, bin) != 1 &&
	    inet_pton(AF_INET6, s, bin) != 1) {
		perr(c, n, "next-hop '%s' must be 'self' or an address", s);
		return;
	}
	p->next_hop_at = n->start_mark;
	take_string(c, n, "next-hop", p->next_hop, sizeof(p->next_hop));
}

static void
prefix_med(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "med", 0, 4294967295ULL, &v);
	((struct prefix_conf *)arg)->med = (int64_t)v;
}

static int
valid_community(const char *s)
{
	const char	*colon;
	uint64_t	 v;

	return (conf_number(s, &colon, 10, 65535, &v) == 0 && *colon == ':' &&
	    conf_number(colon + 1, NULL, 10, 65535, &v) == 0);
}

static void
prefix_communities(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct prefix_conf	*p = arg;
	yaml_node_item_t	*it;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, "communities must be a list, like [\"65000:53\"]");
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		yaml_node_t	*v = yaml_document_get_node(c->doc, *it);
		const char	*s = scalar(c, v, "a community");

		if (s == NULL)
			continue;
		if (strlen(s) >= sizeof(p->communities[0]) ||
		    !valid_community(s))
			perr(c, v, "community '%s' must be ASN:VALUE, "
			    "each 0..65535", s);
		else if (p->ncommunities == AH_COMM_MAX)
			perr(c, v, "more than %d communities", AH_COMM_MAX);
		else
			strcpy(p->communities[p->ncommunities++], s);
	}
}

static void
prefix_neighbor(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct prefix_conf	*p = arg;
	const char		*s = scalar(c, n, "neighbor");
	unsigned char		 bin[16];

	if (s == NULL)
		return;
	if (inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1)
		perr(c, n, "neighbor '%s' must be the peer's address", s);
	else
		take_string(c, n, "neighbor", p->neighbor, sizeof(p->neighbor));
	p->neighbor_line = n->start_mark.line + 1;
	p->neighbor_col = n->start_mark.column + 1;
}

static const struct key prefix_keys[] = {
	{ "prefix", 1, prefix_prefix },
	{ "next-hop", 0, prefix_next_hop },
	{ "med", 0, prefix_med },
	{ "communities", 0, prefix_communities },
	{ "neighbor", 0, prefix_neighbor },
	{ NULL, 0, NULL }
};

/*
 * Calls 'each' for every item of sequence 'n' with a zeroed element of
 * a freshly allocated array.
 */
static void *
walk_seq(struct ctx *c, yaml_node_t *n, const char *what, size_t size,
    size_t *count, void (*each)(struct ctx *, yaml_node_t *, void *))
{
	yaml_node_item_t	*it;
	char			*arr;
	size_t			 i = 0, len;

	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, "%s must be a list", what);
		return (NULL);
	}
	len = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (len == 0) {
		perr(c, n, "%s must not be empty", what);
		return (NULL);
	}
	if ((arr = calloc(len, size)) == NULL) {
		perr(c, n, "out of memory");
		return (NULL);
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++)
		each(c, yaml_document_get_node(c->doc, *it), arr + size * i++);
	*count = len;
	return (arr);
}

static void
one_prefix(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct prefix_conf *p = arg;

	p->med = -1;
	p->at = n->start_mark;
	strcpy(p->next_hop, "self");
	walk_map(c, n, "a prefix", prefix_keys, p);
	/* ExaBGP would send it; the router would reject or misroute it. */
	if (p->prefix[0] != '\0' && strcmp(p->next_hop, "self") != 0 &&
	    (strchr(p->next_hop, ':') != NULL) != (p->family == AF_INET6))
		perr_at(c, &p->next_hop_at, "next-hop %s is %s, prefix %s is %s",
		    p->next_hop, p->family == AF_INET6 ? "IPv4" : "IPv6",
		    p->prefix, p->family == AF_INET6 ? "IPv6" : "IPv4");
}

/*
 * Names appear in logs, on the control socket and in ExaBGP commands
 * as one token.
 */
static void
take_token(struct ctx *c, yaml_node_t *n, const char *what, char *dst,
    size_t len)
{
	const char *v = scalar(c, n, what), *q;

	if (v == NULL)
		return;
	for (q = v; *q != '\0'; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' ||
		    *q == '.')) {
			perr(c, n, "%s '%s' may use only letters, digits, '-', "
			    "'_' and '.'", what, v);
			return;
		}
	take_string(c, n, what, dst, len);
}

static void
service_name(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct service_conf *s = arg;

	take_token(c, n, "service name", s->name, sizeof(s->name));
}

static void
service_watchdog(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct service_conf *s = arg;

	take_token(c, n, "watchdog", s->watchdog, sizeof(s->watchdog));
}

static void
service_view(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct service_conf *s = arg;

	take_string(c, n, "view", s->view, sizeof(s->view));
}

static void
service_prefixes(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct service_conf *s = arg;

	s->has_prefixes = 1;
	s->prefixes = walk_seq(c, n, "prefixes", sizeof(*s->prefixes),
	    &s->nprefixes, one_prefix);
}

/* checks: */

static void
check_servfail(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_percent(c, n, "servfail-ratio",
	    &((struct checks_conf *)arg)->servfail_max);
}

static void
check_recfail(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_percent(c, n, "recursion-failure-ratio",
	    &((struct checks_conf *)arg)->recfail_max);
}

static void
check_grace(struct ctx *c, yaml_node_t *n, void *arg)
{
	unsigned int ms = 0;

	take_duration(c, n, "unanswered-after", &ms, 50, 60000);
	((struct checks_conf *)arg)->grace_ms = ms;
}

static void
latency_quantile_key(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct checks_conf *k = arg;

	take_percent(c, n, "quantile", &k->latency_quantile);
	if (k->latency_quantile == 0.0)
		perr(c, n, "quantile must be above 0%%");
}

static void
latency_max_key(struct ctx *c, yaml_node_t *n, void *arg)
{
	unsigned int ms = 0;

	take_duration(c, n, "max", &ms, 1, 60000);
	((struct checks_conf *)arg)->latency_max_ms = ms;
}

static const struct key latency_keys[] = {
	{ "quantile", 1, latency_quantile_key },
	{ "max", 1, latency_max_key },
	{ NULL, 0, NULL }
};

static void
check_latency(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "recursion-latency", latency_keys, arg);
}

static void
check_zones(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct checks_conf	*k = arg;
	yaml_node_item_t	*it;
	size_t			 i;

	if (n->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)n->data.scalar.value, "all") == 0) {
		k->all_zones = 1;
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, "zones must be a list of zone names, or 'all'");
		return;
	}
	if (n->data.sequence.items.top == n->data.sequence.items.start) {
		perr(c, n, "zones must not be empty (leave the key out to "
		    "check no zone)");
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		yaml_node_t	*v = yaml_document_get_node(c->doc, *it);
		const char	*z = scalar(c, v, "a zone name");
		char		*d;
		size_t		 len;

		if (z == NULL)
			continue;
		if (k->nzones == AH_ZONES_MAX) {
			perr(c, v, "more than %d zones", AH_ZONES_MAX);
			return;
		}
		/* As the plugin prints names: lower case, no final dot. */
		len = strlen(z);
		if (len == 0 || len >= AH_VIEW_LEN || strchr(z, ' ') != NULL) {
			perr(c, v, "zone '%s' is not a zone name", z);
			continue;
		}
		d = k->zones[k->nzones];
		strcpy(d, z);
		if (len > 1 && d[len - 1] == '.')
			d[len - 1] = '\0';
		for (i = 0; d[i] != '\0'; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] - 'A' + 'a');
		for (i = 0; i < k->nzones; i++)
			if (strcmp(k->zones[i], d) == 0)
				break;
		if (i < k->nzones)
			perr(c, v, "zone '%s' is listed twice", z);
		else
			k->nzones++;
	}
}

static void
check_serial_age(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char	*s = scalar(c, n, "max-serial-age");
	long long	 ms;

	if (s == NULL)
		return;
	if ((ms = conf_duration_ms(s)) <= 0)
		perr(c, n, "max-serial-age '%s' is not a duration, like 1d", s);
	else {
		((struct checks_conf *)arg)->serial_age_max_ms = ms;
		((struct checks_conf *)arg)->serial_age_at = n->start_mark;
	}
}

static const struct key check_keys[] = {
	{ "servfail-ratio", 0, check_servfail },
	{ "recursion-failure-ratio", 0, check_recfail },
	{ "unanswered-after", 0, check_grace },
	{ "recursion-latency", 0, check_latency },
	{ "zones", 0, check_zones },
	{ "max-serial-age", 0, check_serial_age },
	{ NULL, 0, NULL }
};

/* canary: */

/* The canary talks to the local named over loopback, and nothing else. */
static int
is_loopback(const char *s)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, s, bin) == 1)
		return (bin[0] == 127);
	return (inet_pton(AF_INET6, s, bin) == 1 &&
	    memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
}

/* The canary and the liveness probe ask the local named, nothing else. */
static void
take_loopback(struct ctx *c, yaml_node_t *n, const char *what, char *dst,
    size_t len)
{
	const char *s = scalar(c, n, what);

	if (s == NULL)
		return;
	if (!is_loopback(s)) {
		perr(c, n, "%s '%s' must be a loopback address "
		    "(127.0.0.0/8 or ::1): it asks the local named", what, s);
		return;
	}
	take_string(c, n, what, dst, len);
}

static void
canary_server(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct canary_conf *k = arg;

	take_loopback(c, n, "canary server", k->server, sizeof(k->server));
}

/* A source address lets the canary land in a view matched by client. */
static void
canary_source(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct canary_conf *k = arg;

	take_loopback(c, n, "canary source", k->source, sizeof(k->source));
}

static void
canary_port(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "port", 1, 65535, &v);
	((struct canary_conf *)arg)->port = (uint16_t)v;
}

static void
canary_name(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct canary_conf	*k = arg;
	const char		*s = scalar(c, n, "name");
	const char		*l;
	size_t			 len;

	if (s == NULL)
		return;
	/* Labels of 1..63 bytes; "." alone is the root. */
	for (l = s; *l != '\0' && strcmp(l, ".") != 0;) {
		len = strcspn(l, ".");
		if (len == 0 || len > 63) {
			perr(c, n, "canary name '%s' is not a domain name", s);
			return;
		}
		l += len;
		if (*l == '.')
			l++;
	}
	take_string(c, n, "name", k->qname, sizeof(k->qname));
}

static const struct {
	const char	*name;
	uint16_t	 type;
} qtypes[] = {
	{ "A", 1 }, { "NS", 2 }, { "SOA", 6 }, { "MX", 15 }, { "TXT", 16 },
	{ "AAAA", 28 }, { "SRV", 33 }, { NULL, 0 }
};

static void
canary_type(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char	*s = scalar(c, n, "type");
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; qtypes[i].name != NULL; i++)
		if (strcasecmp(qtypes[i].name, s) == 0) {
			((struct canary_conf *)arg)->qtype = qtypes[i].type;
			return;
		}
	perr(c, n, "canary type '%s' is not one of A, NS, SOA, MX, TXT, AAAA,"
	    " SRV", s);
}

static void
take_bool(struct ctx *c, yaml_node_t *n, const char *what, int *dst)
{
	const char *s = scalar(c, n, what);

	if (s == NULL)
		return;
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)
		*dst = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0)
		*dst = 0;
	else
		perr(c, n, "%s '%s' must be yes or no", what, s);
}

static void
canary_recursion(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_bool(c, n, "recursion", &((struct canary_conf *)arg)->recursion);
}

static void
canary_interval(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "canary interval",
	    &((struct canary_conf *)arg)->interval_ms, 100, 600000);
}

static void
canary_timeout(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "canary timeout",
	    &((struct canary_conf *)arg)->timeout_ms, 10, 60000);
}

static const struct key canary_keys[] = {
	{ "server", 0, canary_server },
	{ "source", 0, canary_source },
	{ "port", 0, canary_port },
	{ "name", 1, canary_name },
	{ "type", 0, canary_type },
	{ "recursion", 0, canary_recursion },
	{ "interval", 0, canary_interval },
	{ "timeout", 0, canary_timeout },
	{ NULL, 0, NULL }
};

/* liveness: */

static void
liveness_server(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct liveness_conf *l = arg;

	take_loopback(c, n, "liveness server", l->server, sizeof(l->server));
}

static void
liveness_source(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct liveness_conf *l = arg;

	take_loopback(c, n, "liveness source", l->source, sizeof(l->source));
}

static void
liveness_port(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "port", 1, 65535, &v);
	((struct liveness_conf *)arg)->port = (uint16_t)v;
}

static const struct key liveness_keys[] = {
	{ "server", 0, liveness_server },
	{ "source", 0, liveness_source },
	{ "port", 0, liveness_port },
	{ NULL, 0, NULL }
};

/* depref: */

static void
depref_med(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "med", 0, 4294967295ULL, &v);
	((struct depref_conf *)arg)->med = (int64_t)v;
}

static void
depref_path(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct depref_conf	*d = arg;
	yaml_node_item_t	*it;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, "as-path must be a list of AS numbers to prepend");
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		uint64_t v = 0;

		if (d->npath == AH_PATH_LEN) {
			perr(c, n, "as-path longer than %d", AH_PATH_LEN);
			return;
		}
		take_uint(c, yaml_document_get_node(c->doc, *it), "an AS number",
		    1, 4294967295ULL, &v);
		d->path[d->npath++] = (uint32_t)v;
	}
}

static void
depref_communities(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct depref_conf	*d = arg;
	struct prefix_conf	 tmp;

	memset(&tmp, 0, sizeof(tmp));
	prefix_communities(c, n, &tmp);
	d->ncommunities = tmp.ncommunities;
	memcpy(d->communities, tmp.communities, sizeof(d->communities));
}

static void
depref_gshut(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_bool(c, n, "graceful-shutdown",
	    &((struct depref_conf *)arg)->graceful_shutdown);
}

static const struct key depref_keys[] = {
	{ "med", 0, depref_med },
	{ "as-path", 0, depref_path },
	{ "communities", 0, depref_communities },
	{ "graceful-shutdown", 0, depref_gshut },
	{ NULL, 0, NULL }
};

/* drain: */

static void
drain_timeout(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "drain timeout",
	    &((struct drain_conf *)arg)->timeout_ms, 1000,
	    AH_DRAIN_TIMEOUT_MAX_MS);
}

static void
drain_share(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_percent(c, n, "drain share", &((struct drain_conf *)arg)->share);
}

static void
drain_qps(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_uint(c, n, "drain qps", 0, 1000000000ULL,
	    &((struct drain_conf *)arg)->qps);
}

/* The relay keeps 1024 snapshots: 30 s fits at the shortest interval. */
static void
drain_hold(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "drain hold", &((struct drain_conf *)arg)->hold_ms,
	    100, 30000);
}

static const struct key drain_keys[] = {
	{ "timeout", 0, drain_timeout },
	{ "share", 0, drain_share },
	{ "qps", 0, drain_qps },
	{ "hold", 0, drain_hold },
	{ NULL, 0, NULL }
};

/* damping: */

static void
damp_changes(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "max-changes", 2, 64, &v);
	((struct service_conf *)arg)->max_changes = (unsigned int)v;
}

static void
damp_period(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "period", &((struct service_conf *)arg)->period_ms,
	    1000, 86400000);
}

static void
damp_hold(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "hold", &((struct service_conf *)arg)->hold_ms,
	    100, 86400000);
}

static void
damp_max_hold(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "max-hold",
	    &((struct service_conf *)arg)->max_hold_ms, 100, 86400000);
}

static const struct key damping_keys[] = {
	{ "max-changes", 1, damp_changes },
	{ "period", 0, damp_period },
	{ "hold", 0, damp_hold },
	{ "max-hold", 0, damp_max_hold },
	{ NULL, 0, NULL }
};

/* service: */

static void
service_window(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "window", &((struct service_conf *)arg)->window_ms,
	    500, 3600000);
}

static void
service_min_queries(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_uint(c, n, "min-queries", 1, 1000000000ULL,
	    &((struct service_conf *)arg)->min_queries);
}

static void
service_low_traffic(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char *s = scalar(c, n, "low-traffic");

	if (s == NULL)
		return;
	if (strcmp(s, "keep") == 0)
		((struct service_conf *)arg)->low_traffic = LOW_KEEP;
	else if (strcmp(s, "canary") == 0)
		((struct service_conf *)arg)->low_traffic = LOW_CANARY;
	else
		perr(c, n, "low-traffic '%s' must be keep or canary", s);
}

static void
service_rise(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "rise", 1, 100, &v);
	((struct service_conf *)arg)->rise = (unsigned int)v;
}

static void
service_fall(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "fall", 1, 100, &v);
	((struct service_conf *)arg)->fall = (unsigned int)v;
}

static void
service_retry(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "retry", &((struct service_conf *)arg)->retry_ms,
	    100, 86400000);
}

static void
service_max_retry(struct ctx *c, yaml_node_t *n, void *arg)
{
	take_duration(c, n, "max-retry",
	    &((struct service_conf *)arg)->max_retry_ms, 100, 86400000);
}

static void
service_damping(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "damping", damping_keys, arg);
}

static void
service_checks(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct checks_conf *k = &((struct service_conf *)arg)->checks;

	walk_map(c, n, "checks", check_keys, k);
	/* The plugin publishes load times only of zones it lists. */
	if (k->serial_age_max_ms > 0 && (k->all_zones || k->nzones == 0))
		perr_at(c, &k->serial_age_at, "max-serial-age needs zones "
		    "listed by name in 'zones'%s", k->all_zones ?
		    " ('all' publishes no load times)" : "");
}

static void
service_canary(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct canary_conf *k = &((struct service_conf *)arg)->canary;

	k->enabled = 1;
	walk_map(c, n, "canary", canary_keys, k);
}

static void
service_liveness(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct liveness_conf *l = &((struct service_conf *)arg)->liveness;

	l->set = 1;
	walk_map(c, n, "liveness", liveness_keys, l);
}

static void
service_when_down(struct ctx *c, yaml_node_t *n, void *arg)
{
	const char *s = scalar(c, n, "when-down");

	if (s == NULL)
		return;
	((struct service_conf *)arg)->when_down_at = n->start_mark;
	if (strcmp(s, "depref") == 0)
		((struct service_conf *)arg)->when_down = DOWN_DEPREF;
	else if (strcmp(s, "withdraw") == 0)
		((struct service_conf *)arg)->when_down = DOWN_WITHDRAW;
	else if (strcmp(s, "keep") == 0)
		((struct service_conf *)arg)->when_down = DOWN_KEEP;
	else
		perr(c, n, "when-down '%s' must be depref, withdraw or keep", s);
}

static void
service_drain(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "drain", drain_keys,
	    &((struct service_conf *)arg)->drain);
}

static void
service_depref(struct ctx *c, yaml_node_t *n, void *arg)
{
	((struct service_conf *)arg)->depref.at = n->start_mark;
	((struct service_conf *)arg)->has_depref = 1;
	walk_map(c, n, "depref", depref_keys,
	    &((struct service_conf *)arg)->depref);
}

/*
 * A service drives its own prefixes or a watchdog of exabgp.conf
 * (ExaBGP 4: routes declared '... watchdog NAME withdraw').  A watchdog
 * only announces or withdraws what is declared, so it cannot be
 * depreferred: soft trouble keeps it announced by default, the nearest
 * thing to a depref that cannot empty the fleet (doc/fleet.md).
 */
static void
watchdog_finish(struct ctx *c, yaml_node_t *n, struct service_conf *s)
{
	if (s->watchdog[0] != '\0' && s->has_prefixes)
		perr(c, n, "service '%s' has both prefixes and a watchdog",
		    s->name);
	else if (s->watchdog[0] == '\0' && !s->has_prefixes)
		perr(c, n, "service '%s' needs prefixes or a watchdog",
		    s->name);
	if (s->watchdog[0] == '\0') {
		if (s->when_down == DOWN_UNSET)
			s->when_down = DOWN_DEPREF;
		return;
	}
	if (s->when_down == DOWN_UNSET)
		s->when_down = DOWN_KEEP;
	else if (s->when_down == DOWN_DEPREF)
		perr_at(c, &s->when_down_at, "when-down depref is impossible "
		    "through a watchdog (it only announces or withdraws): use "
		    "keep or withdraw");
	if (s->has_depref)
		perr_at(c, &s->depref.at, "service '%s': a watchdog cannot carry "
		    "depref attributes", s->name);
	s->depref.graceful_shutdown = 0;
}

/*
 * RFC 8326 GRACEFUL_SHUTDOWN joins the depref communities unless turned
 * off: routers that honour it move traffic to the other nodes, and
 * when every node is depreferred at once they keep using them all.
 */
static void
depref_finish(struct ctx *c, yaml_node_t *n, struct service_conf *s)
{
	struct depref_conf	*d = &s->depref;
	size_t			 i;

	for (i = 0; i < d->ncommunities; i++)
		if (strcmp(d->communities[i], AH_GRACEFUL_SHUTDOWN) == 0)
			break;
	if (d->graceful_shutdown && i == d->ncommunities) {
		if (d->ncommunities == AH_COMM_MAX)
			perr_at(c, &d->at, "depref: no room for %s after %d "
			    "communities", AH_GRACEFUL_SHUTDOWN, AH_COMM_MAX);
		else
			strcpy(d->communities[d->ncommunities++],
			    AH_GRACEFUL_SHUTDOWN);
	}
	if (s->when_down == DOWN_DEPREF && d->med < 0 && d->npath == 0 &&
	    d->ncommunities == 0)
		perr(c, n, "service '%s': when-down depref with "
		    "graceful-shutdown no needs med, as-path or communities "
		    "in depref: the announcement would not change", s->name);
}

/* shared-fault: */

static void
fault_groups(struct ctx *c, yaml_node_t *n, void *arg)
{
	uint64_t v = 0;

	take_uint(c, n, "max-groups", 0, DOM_BUCKETS, &v);
	((struct service_conf *)arg)->fault_groups = (unsigned int)v;
}

static void
fault_share(struct ctx *c, yaml_node_t *n, void *arg)
{
	double *share = &((struct service_conf *)arg)->fault_share;

	take_percent(c, n, "share", share);
	if (*share < 0.5)
		perr(c, n, "share must be at least 50%%: most failures in "
		    "few domain groups");
}

static const struct key fault_keys[] = {
	{ "max-groups", 0, fault_groups },
	{ "share", 0, fault_share },
	{ NULL, 0, NULL }
};

static void
service_fault(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "shared-fault", fault_keys, arg);
}

static const struct key service_keys[] = {
	{ "name", 1, service_name },
	{ "view", 0, service_view },
	{ "prefixes", 0, service_prefixes },
	{ "watchdog", 0, service_watchdog },
	{ "window", 0, service_window },
	{ "min-queries", 0, service_min_queries },
	{ "low-traffic", 0, service_low_traffic },
	{ "rise", 0, service_rise },
	{ "fall", 0, service_fall },
	{ "retry", 0, service_retry },
	{ "max-retry", 0, service_max_retry },
	{ "damping", 0, service_damping },
	{ "checks", 0, service_checks },
	{ "canary", 0, service_canary },
	{ "liveness", 0, service_liveness },
	{ "when-down", 0, service_when_down },
	{ "depref", 0, service_depref },
	{ "drain", 0, service_drain },
	{ "shared-fault", 0, service_fault },
	{ NULL, 0, NULL }
};

static void
one_service(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct service_conf *s = arg;

	strcpy(s->view, "_default");
	s->at = n->start_mark;
	s->window_ms = 10000;
	s->min_queries = 100;
	s->low_traffic = LOW_KEEP;
	s->rise = 2;
	s->fall = 2;
	s->period_ms = 60000;
	s->hold_ms = 30000;
	s->max_hold_ms = 600000;
	s->retry_ms = 10000;
	s->max_retry_ms = 600000;
	s->checks.servfail_max = -1;
	s->checks.recfail_max = -1;
	s->checks.grace_ms = 500;
	strcpy(s->canary.server, "127.0.0.1");
	s->canary.port = 53;
	s->canary.qtype = 6;
	s->canary.interval_ms = 1000;
	s->canary.timeout_ms = 1000;
	strcpy(s->liveness.server, "127.0.0.1");
	s->liveness.port = 53;
	s->depref.med = -1;
	s->depref.graceful_shutdown = 1;
	s->depref.at = n->start_mark;
	s->fault_groups = 3;
	s->fault_share = 0.8;
	s->drain = (struct drain_conf){ .timeout_ms = 60000, .share = 0.01,
	    .qps = 5, .hold_ms = 2000 };
	walk_map(c, n, "a service", service_keys, s);

	/* Rules that join several keys. */
	if (s->low_traffic == LOW_CANARY && !s->canary.enabled)
		perr(c, n, "service '%s': low-traffic canary needs a canary",
		    s->name);
	watchdog_finish(c, n, s);
	depref_finish(c, n, s);
	if (s->max_hold_ms < s->hold_ms)
		perr(c, n, "service '%s': damping max-hold is shorter than hold",
		    s->name);
	if (s->max_retry_ms < s->retry_ms)
		perr(c, n, "service '%s': max-retry is shorter than retry",
		    s->name);
	if (s->canary.enabled && s->canary.timeout_ms > s->canary.interval_ms)
		perr(c, n, "service '%s': canary timeout exceeds its interval",
		    s->name);
	if (s->canary.source[0] != '\0' &&
	    (strchr(s->canary.source, ':') == NULL) !=
	    (strchr(s->canary.server, ':') == NULL))
		perr(c, n, "service '%s': canary source and server must be of "
		    "one address family", s->name);
	if (s->liveness.source[0] != '\0' &&
	    (strchr(s->liveness.source, ':') == NULL) !=
	    (strchr(s->liveness.server, ':') == NULL))
		perr(c, n, "service '%s': liveness source and server must be "
		    "of one address family", s->name);
}

static void
top_plugin(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "'plugin'", plugin_keys, arg);
}

static void
top_control(struct ctx *c, yaml_node_t *n, void *arg)
{
	walk_map(c, n, "'control'", control_keys, arg);
}

static void
top_services(struct ctx *c, yaml_node_t *n, void *arg)
{
	struct relay_conf *rc = arg;

	rc->services = walk_seq(c, n, "services", sizeof(*rc->services),
	    &rc->nservices, one_service);
}

static const struct key top_keys[] = {
	{ "plugin", 0, top_plugin },
	{ "control", 0, top_control },
	{ "services", 1, top_services },
	{ NULL, 0, NULL }
};

/*
 * Checks that need the whole config: names, prefixes and watchdogs are
 * unique.
 */
static void
check_unique(struct ctx *c, struct relay_conf *rc)
{
	size_t i, j, k, l;

	for (i = 0; i < rc->nservices; i++) {
		struct service_conf *s = &rc->services[i];

		for (j = 0; j < i; j++)
			if (s->name[0] != '\0' &&
			    strcmp(s->name, rc->services[j].name) == 0)
				perr_at(c, &s->at, "service name '%s' is used "
				    "twice", s->name);
		for (j = 0; j < i; j++)
			if (s->watchdog[0] != '\0' &&
			    strcmp(s->watchdog, rc->services[j].watchdog) == 0)
				perr_at(c, &s->at, "watchdog '%s' is driven by "
				    "two services", s->watchdog);
		for (k = 0; k < s->nprefixes; k++)
			for (j = 0; j <= i; j++)
				for (l = 0; l < (j == i ? k :
				    rc->services[j].nprefixes); l++)
					if (s->prefixes[k].prefix[0] != '\0' &&
					    strcmp(s->prefixes[k].prefix,
					    rc->services[j].prefixes[l].prefix)
					    == 0)
						perr_at(c,
						    &s->prefixes[k].at,
						    "prefix %s is listed "
						    "twice",
						    s->prefixes[k].prefix);
	}
}

struct relay_conf *
conf_load(const char *path, FILE *errf)
{
	struct ctx		 c = { .file = path, .errf = errf };
	struct relay_conf	*rc;
	yaml_parser_t		 parser;
	yaml_document_t		 doc;
	yaml_node_t		*root;
	FILE			*f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(errf, "%s: %s\n", path, strerror(errno));
		return (NULL);
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL) {
		fclose(f);
		fprintf(errf, "%s: out of memory\n", path);
		return (NULL);
	}
	snprintf(rc->path, sizeof(rc->path), "%s", path);
	strcpy(rc->plugin_socket, AH_DEFAULT_PLUGIN_SOCKET);
	rc->stale_ms = 0;
	rc->reconnect_ms = 200;
	strcpy(rc->control_socket, AH_DEFAULT_CONTROL_SOCKET);
	strcpy(rc->state_file, AH_DEFAULT_STATE_FILE);
	rc->control_mode = 0660;
	rc->control_gid = (gid_t)-1;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(errf, "%s:%lu:%lu: %s%s%s\n", path,
		    (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1,
		    parser.context ? parser.context : "",
		    parser.context ? ": " : "",
		    parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		conf_free(rc);
		return (NULL);
	}
	c.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		fprintf(errf, "%s:1:1: the configuration is empty\n", path);
		c.errors++;
	} else {
		walk_map(&c, root, "the configuration", top_keys, rc);
		if (c.errors == 0)
			check_unique(&c, rc);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (c.errors > 0) {
		conf_free(rc);
		return (NULL);
	}
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
	free(rc);
}
