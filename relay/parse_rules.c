/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse_rules.c - the rules of the relay's configuration that join
 * several keys, checked once a block's keys are read.
 *
 * They see only the configuration and positions, never the YAML
 * document: each error is reported at the block (or at the key a rule
 * remembered), after the block's other errors.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"
#include "parse_rules.h"
#include "parse_yaml.h"
#include "prefixes.h"

/* ExaBGP would send it; the router would reject or misroute it. */
void
rules_prefix(struct ctx *c, const struct conf_pos *at, void *arg)
{
	struct prefix_conf *p = arg;

	if (p->prefix[0] != '\0' && strcmp(p->next_hop, "self") != 0 &&
	    (strchr(p->next_hop, ':') != NULL) != (p->family == AF_INET6))
		conf_error_at(c, &p->next_hop_at, "next-hop %s is %s, prefix "
		    "%s is %s", p->next_hop,
		    p->family == AF_INET6 ? "IPv4" : "IPv6", p->prefix,
		    p->family == AF_INET6 ? "IPv6" : "IPv4");
}

/* The plugin publishes load times only of zones it lists. */
void
rules_checks(struct ctx *c, const struct conf_pos *at, void *arg)
{
	struct checks_conf *k = arg;

	if (k->serial_age_max_ms > 0 && (k->all_zones || k->nzones == 0))
		conf_error_at(c, &k->serial_age_at, "max-serial-age needs "
		    "zones listed by name in 'zones'%s", k->all_zones ?
		    " ('all' publishes no load times)" : "");
}

/*
 * A service drives its own prefixes or a watchdog of exabgp.conf
 * (ExaBGP 4: routes declared '... watchdog NAME withdraw').  A watchdog
 * only announces or withdraws what is declared, so it cannot be
 * depreferred: soft trouble keeps it announced by default, the nearest
 * thing to a depref that cannot empty the fleet (doc/fleet.md).
 */
static void
watchdog_rules(struct ctx *c, const struct conf_pos *at,
    struct service_conf *s)
{
	if (s->watchdog[0] != '\0' && s->has_prefixes)
		conf_error_at(c, at, "service '%s' has both prefixes and a "
		    "watchdog", s->name);
	else if (s->watchdog[0] == '\0' && !s->has_prefixes)
		conf_error_at(c, at, "service '%s' needs prefixes or a "
		    "watchdog", s->name);
	if (s->watchdog[0] == '\0') {
		if (s->when_down == DOWN_UNSET)
			s->when_down = DOWN_DEPREF;
		return;
	}
	if (s->when_down == DOWN_UNSET)
		s->when_down = DOWN_KEEP;
	else if (s->when_down == DOWN_DEPREF)
		conf_error_at(c, &s->when_down_at, "when-down depref is "
		    "impossible through a watchdog (it only announces or "
		    "withdraws): use keep or withdraw");
	if (s->has_depref)
		conf_error_at(c, &s->depref.at, "service '%s': a watchdog "
		    "cannot carry depref attributes", s->name);
	s->depref.graceful_shutdown = 0;
}

/* Does the prefix announce community 'x' already? */
static int
has_community(const struct prefix_conf *p, const char *x)
{
	size_t	i;

	for (i = 0; i < p->ncommunities; i++)
		if (strcmp(p->communities[i], x) == 0)
			return (1);
	return (0);
}

/*
 * A prefix's depreferred announcement must be less preferred than its
 * own: a MED below the prefix's draws traffic (RFC 4271 prefers the
 * lower), and one no higher, with no as-path and no community the
 * prefix lacks, leaves a failing node its traffic.  A missing MED is
 * taken as 0, as BIRD and most routers take it.
 */
static void
depref_prefix(struct ctx *c, const struct service_conf *s,
    const struct prefix_conf *p)
{
	const struct depref_conf	*d = &s->depref;
	int64_t				 own = p->med < 0 ? 0 : p->med;
	size_t				 i, added = 0;

	/* A drain announces so too, whatever when-down says. */
	if (d->med >= 0 && d->med < own) {
		conf_error_at(c, &p->at, "service '%s': prefix %s: depref med "
		    "%lld is below the prefix's %lld: depreferred, the node "
		    "would draw more traffic, not less", s->name, p->prefix,
		    (long long)d->med, (long long)own);
		return;
	}
	if (s->when_down != DOWN_DEPREF)
		return;
	for (i = 0; i < d->ncommunities; i++)
		added += !has_community(p, d->communities[i]);
	if (d->npath == 0 && added == 0 && (d->med < 0 || d->med == own))
		conf_error_at(c, &p->at, "service '%s': prefix %s: its "
		    "depreferred announcement would be the same as its own "
		    "(no higher med, no as-path, no community it lacks)",
		    s->name, p->prefix);
}

/*
 * RFC 8326 GRACEFUL_SHUTDOWN joins the depref communities unless turned
 * off: routers that honour it move traffic to the other nodes, and
 * when every node is depreferred at once they keep using them all.
 */
static void
depref_rules(struct ctx *c, const struct conf_pos *at, struct service_conf *s)
{
	struct depref_conf	*d = &s->depref;
	size_t			 i;

	for (i = 0; i < d->ncommunities; i++)
		if (strcmp(d->communities[i], AH_GRACEFUL_SHUTDOWN) == 0)
			break;
	if (d->graceful_shutdown && i == d->ncommunities) {
		if (d->ncommunities == AH_COMM_MAX)
			conf_error_at(c, &d->at, "depref: no room for %s after "
			    "%d communities", AH_GRACEFUL_SHUTDOWN,
			    AH_COMM_MAX);
		else
			strcpy(d->communities[d->ncommunities++],
			    AH_GRACEFUL_SHUTDOWN);
	}
	if (s->when_down == DOWN_DEPREF && d->med < 0 && d->npath == 0 &&
	    d->ncommunities == 0)
		conf_error_at(c, at, "service '%s': when-down depref with "
		    "graceful-shutdown no needs med, as-path or communities "
		    "in depref: the announcement would not change", s->name);
	else
		for (i = 0; i < s->nprefixes; i++)
			depref_prefix(c, s, &s->prefixes[i]);
}

/* A drain ends when its rate stays low for 'hold', else at 'timeout'. */
void
rules_drain(struct ctx *c, const struct conf_pos *at, void *arg)
{
	const struct drain_conf *d = arg;

	if (d->timeout_ms < d->hold_ms)
		conf_error_at(c, at, "drain timeout %ums is shorter than hold "
		    "%ums: no drain could end by its traffic, only at its "
		    "timeout", d->timeout_ms, d->hold_ms);
}

/* A probe's source must be of its server's address family. */
static int
mixed_families(const char *source, const char *server)
{
	return (source[0] != '\0' &&
	    (strchr(source, ':') == NULL) != (strchr(server, ':') == NULL));
}

void
rules_service(struct ctx *c, const struct conf_pos *at, void *arg)
{
	struct service_conf *s = arg;

	if (s->low_traffic == LOW_CANARY && !s->canary.enabled)
		conf_error_at(c, at, "service '%s': low-traffic canary needs a "
		    "canary", s->name);
	watchdog_rules(c, at, s);
	depref_rules(c, at, s);
	if (s->max_hold_ms < s->hold_ms)
		conf_error_at(c, at, "service '%s': damping max-hold is "
		    "shorter than hold", s->name);
	if (s->max_retry_ms < s->retry_ms)
		conf_error_at(c, at, "service '%s': max-retry is shorter than "
		    "retry", s->name);
	if (s->canary.enabled && s->canary.timeout_ms > s->canary.interval_ms)
		conf_error_at(c, at, "service '%s': canary timeout exceeds its "
		    "interval", s->name);
	if (mixed_families(s->canary.source, s->canary.server))
		conf_error_at(c, at, "service '%s': canary source and server "
		    "must be of one address family", s->name);
	if (mixed_families(s->liveness.source, s->liveness.server))
		conf_error_at(c, at, "service '%s': liveness source and server "
		    "must be of one address family", s->name);
}

/*
 * The prefixes listed before, anywhere in the file: dup[order] set for
 * every copy but the first.  NULL without memory (no prefix refused).
 */
static char *
listed_before(const struct relay_conf *rc)
{
	struct prefix_index	 ix;
	size_t			 i, n;
	char			*dup;

	if (prefix_index_make(&ix, rc->services, rc->nservices) < 0)
		return (NULL);
	if ((dup = calloc(ix.n + 1, 1)) != NULL)
		for (i = 0; i < ix.n; i += n)
			for (n = 1; i + n < ix.n && strcmp(ix.ref[i].p->prefix,
			    ix.ref[i + n].p->prefix) == 0; n++)
				dup[ix.ref[i + n].order] = 1;
	prefix_index_free(&ix);
	return (dup);
}

/*
 * Across services: names, watchdogs and prefixes are unique.  Only for
 * a file with no other error, where every name and prefix is known.
 */
void
rules_top(struct ctx *c, const struct conf_pos *at, void *arg)
{
	struct relay_conf	*rc = arg;
	struct service_conf	*s, *o;
	size_t			 i, j, k, order = 0;
	char			*dup;

	if (conf_errors(c) > 0)
		return;
	if ((dup = listed_before(rc)) == NULL) {
		conf_error_at(c, at, "out of memory");
		return;
	}
	for (i = 0; i < rc->nservices; i++) {
		s = &rc->services[i];
		for (j = 0; j < i; j++) {
			o = &rc->services[j];
			if (s->name[0] != '\0' && strcmp(s->name, o->name) == 0)
				conf_error_at(c, &s->at, "service name '%s' is "
				    "used twice", s->name);
		}
		for (j = 0; j < i; j++) {
			o = &rc->services[j];
			if (s->watchdog[0] != '\0' &&
			    strcmp(s->watchdog, o->watchdog) == 0)
				conf_error_at(c, &s->at, "watchdog '%s' is "
				    "driven by two services", s->watchdog);
		}
		/* A prefix repeated: once per repeat, not per earlier copy. */
		for (k = 0; k < s->nprefixes; k++, order++)
			if (s->prefixes[k].prefix[0] != '\0' && dup[order])
				conf_error_at(c, &s->prefixes[k].at, "prefix %s "
				    "is listed twice", s->prefixes[k].prefix);
	}
	free(dup);
}
