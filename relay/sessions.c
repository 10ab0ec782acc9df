/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sessions.c - ExaBGP's neighbors and their BGP sessions.
 *
 * ExaBGP tells a process about a session only when it changes
 * (neighbor-changes), so a relay it respawned would know of none, and
 * without neighbor-changes no relay would.  exabgp.c therefore asks
 * 'show neighbor extensive', whose answer lists every neighbor ExaBGP
 * has: its FSM state, how long it has been up, its AS numbers and its
 * families, as configured and as agreed with the peer.  ExaBGP writes
 * the answer a neighbor at a time and runs its sessions in between: a
 * change it reports after a neighbor's first line is newer than the
 * rest of that neighbor's part, which then gives way to it.
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahclock.h"
#include "log.h"
#include "parse.h"
#include "sessions.h"

#define SESSIONS_MAX	64

static struct {
	struct bgp_session	 s[SESSIONS_MAX];
	size_t			 n;
	int64_t			 listed;	/* realtime ms; 0: never */
	unsigned int		 as_gen;	/* AS numbers changed */
	int			 as_new;	/* ... in the answer read */
	int			 full;		/* the last answer overflowed */
	/* The answer being read. */
	int			 reading;
	int			 overflow;
	char			 peer[64];	/* the neighbor it is at */
	struct bgp_session	*cur;		/* ... in the table */
	int			 cur_new;	/* ... whose state it changed */
	int			 cur_agreed;	/* ... its agreed families */
	unsigned char		 seen[SESSIONS_MAX];
	unsigned char		 changed[SESSIONS_MAX];	/* reported since */
} ss;

static struct bgp_session *
find(const char *peer)
{
	size_t i;

	for (i = 0; i < ss.n; i++)
		if (strcmp(ss.s[i].peer, peer) == 0)
			return (&ss.s[i]);
	return (NULL);
}

static struct bgp_session *
add(const char *peer)
{
	struct bgp_session *s;

	if ((s = find(peer)) != NULL)
		return (s);
	if (ss.n == SESSIONS_MAX)
		return (NULL);
	s = &ss.s[ss.n];
	ss.seen[ss.n] = ss.changed[ss.n] = 0;
	ss.n++;
	memset(s, 0, sizeof(*s));
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	return (s);
}

/* A session's new state, logged; 1 if it changed. */
static int
set_state(struct bgp_session *s, const char *state, const char *reason)
{
	int changed = strcmp(s->state, state) != 0;

	if (changed) {
		log_info("BGP session %s %s%s%s", s->peer, state,
		    reason[0] != '\0' ? " - " : "", reason);
		s->since = ah_real_ms();
		/* What the OPENs agreed is of the session that ended. */
		s->agreed_known = 0;
		s->agreed = 0;
	}
	snprintf(s->state, sizeof(s->state), "%s", state);
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	return (changed);
}

void
sessions_event(const struct said *said)
{
	struct bgp_session *s;

	if ((s = add(said->peer)) == NULL)
		return;
	if (ss.reading)
		ss.changed[s - ss.s] = 1;
	(void)set_state(s, said->state, said->reason);
}

static void
answer_begin(void)
{
	ss.reading = 1;
	ss.overflow = 0;
	ss.peer[0] = '\0';
	ss.cur = NULL;
	memset(ss.seen, 0, sizeof(ss.seen));
	memset(ss.changed, 0, sizeof(ss.changed));
}

/* ExaBGP's FSM state in the words of neighbor-changes. */
static void
fsm_state(struct bgp_session *s, const char *fsm)
{
	char	reason[64];

	if (strcmp(fsm, "ESTABLISHED") == 0)
		ss.cur_new = set_state(s, "up", "");
	else if (strcmp(fsm, "OPENSENT") == 0 ||
	    strcmp(fsm, "OPENCONFIRM") == 0)
		ss.cur_new = set_state(s, "connected", "");
	else if (strcmp(s->state, "down") != 0) {
		/* Down already: the reason ExaBGP gave then says more. */
		snprintf(reason, sizeof(reason), "ExaBGP reports it %s", fsm);
		ss.cur_new = set_state(s, "down", reason);
	}
}

/*
 * A neighbor's part of the answer begins with its name; a neighbor new
 * to the table joins it with its state, the next line, so that the
 * table never holds a session without one.
 */
static struct bgp_session *
answer_peer(enum exabgp_said kind, const struct said *said)
{
	struct bgp_session *s;

	if (kind == SAID_PEER) {
		snprintf(ss.peer, sizeof(ss.peer), "%s", said->peer);
		ss.cur_new = ss.cur_agreed = 0;
		if ((ss.cur = find(said->peer)) != NULL) {
			ss.seen[ss.cur - ss.s] = 1;
			ss.changed[ss.cur - ss.s] = 0;
			ss.cur->families = 0;
		}
		return (NULL);
	}
	if (ss.cur != NULL || ss.peer[0] == '\0' || kind != SAID_PEER_STATE)
		return (ss.cur);
	/* Reported since its name: that report is newer. */
	if ((s = find(ss.peer)) != NULL) {
		ss.seen[s - ss.s] = ss.changed[s - ss.s] = 1;
		return (ss.cur = s);
	}
	if ((s = add(ss.peer)) == NULL) {
		ss.overflow = 1;
		return (NULL);
	}
	ss.seen[s - ss.s] = 1;
	return (ss.cur = s);
}

void
sessions_answer(enum exabgp_said kind, const struct said *said)
{
	struct bgp_session	*s;
	int			 fresh;

	if (!ss.reading)
		answer_begin();
	if ((s = answer_peer(kind, said)) == NULL)
		return;
	fresh = !ss.changed[s - ss.s];
	switch (kind) {
	case SAID_PEER_STATE:
		if (fresh)
			fsm_state(s, said->state);
		break;
	case SAID_PEER_UP:
		/* Up before this relay knew: since when ExaBGP says. */
		if (fresh && ss.cur_new && strcmp(s->state, "up") == 0)
			s->since = ah_real_ms() - said->up_ms;
		break;
	case SAID_PEER_AS:
		/* Configured, not negotiated: true of any state. */
		if (s->local_as != said->local_as ||
		    s->peer_as != said->peer_as)
			ss.as_new = 1;
		s->local_as = said->local_as;
		s->peer_as = said->peer_as;
		break;
	case SAID_PEER_FAMILY:
		s->families |= said->family;
		if (!fresh || said->agreed < 0 || strcmp(s->state, "up") != 0)
			break;
		/* This answer's agreement replaces the last one's. */
		if (!ss.cur_agreed)
			s->agreed = 0;
		ss.cur_agreed = s->agreed_known = 1;
		if (said->agreed)
			s->agreed |= said->family;
		break;
	default:
		break;
	}
}

void
sessions_answered(int complete)
{
	size_t i;

	if (!ss.reading)
		answer_begin();		/* no neighbor at all */
	ss.reading = 0;
	ss.cur = NULL;
	if (!complete)
		return;
	/* Gone from ExaBGP's configuration (a reload of ExaBGP). */
	for (i = 0; i < ss.n; ) {
		if (ss.seen[i] || ss.changed[i]) {
			i++;
			continue;
		}
		log_info("BGP session %s: ExaBGP no longer has this neighbor",
		    ss.s[i].peer);
		memmove(&ss.s[i], &ss.s[i + 1],
		    (ss.n - i - 1) * sizeof(ss.s[0]));
		memmove(&ss.seen[i], &ss.seen[i + 1], ss.n - i - 1);
		memmove(&ss.changed[i], &ss.changed[i + 1], ss.n - i - 1);
		ss.n--;
	}
	ss.full = ss.overflow;
	ss.listed = ah_real_ms();
	if (ss.as_new)
		ss.as_gen++;
	ss.as_new = 0;
}

const struct bgp_session *
sessions_list(size_t *n)
{
	*n = ss.n;
	return (ss.s);
}

int64_t
sessions_listed(void)
{
	return (ss.listed);
}

int
sessions_has(const char *peer)
{
	if (find(peer) != NULL)
		return (1);
	return (ss.listed == 0 || ss.full ? -1 : 0);
}

static int
by_peer(const void *a, const void *b)
{
	return (strcmp((*(const struct bgp_session *const *)a)->peer,
	    (*(const struct bgp_session *const *)b)->peer));
}

/* In order, whichever order ExaBGP reported them in. */
void
sessions_names(char *buf, size_t len)
{
	const struct bgp_session	*sorted[SESSIONS_MAX];
	size_t				 i, n = 0;

	for (i = 0; i < ss.n; i++)
		sorted[i] = &ss.s[i];
	qsort(sorted, ss.n, sizeof(sorted[0]), by_peer);
	snprintf(buf, len, "%s", ss.n == 0 ? "none" : "");
	for (i = 0; i < ss.n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		    sorted[i]->peer);
}

static const char *
family_name(unsigned int family)
{
	return (family == FAM_IPV6 ? "ipv6 unicast" : "ipv4 unicast");
}

/*
 * The families as ExaBGP has them: agreed with the peer once ExaBGP
 * said so for this session, else as configured; before ExaBGP has
 * answered at all, the peer address's own family.
 */
static int
carries(const struct bgp_session *s, unsigned int family)
{
	unsigned char bin[16];

	if (family == 0)
		return (1);
	if (s->agreed_known)
		return ((s->agreed & family) != 0);
	if (s->families != 0)
		return ((s->families & family) != 0);
	return (family == (inet_pton(AF_INET6, s->peer, bin) == 1 ?
	    FAM_IPV6 : FAM_IPV4));
}

unsigned int
sessions_as_gen(void)
{
	return (ss.as_gen);
}

void
sessions_path_text(const uint32_t *path, size_t npath, char *buf, size_t len)
{
	size_t	i;
	int	n = snprintf(buf, len, "[");

	for (i = 0; i < npath && n >= 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%u", i ? " " : "",
		    path[i]);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "]");
}

/*
 * What the peer of 's' does with an announcement whose AS_PATH is
 * 'path', which ExaBGP sends as it is, without its own AS before it.
 * Every router drops one holding its own AS (a loop; over iBGP that
 * is ExaBGP's AS too).  Over eBGP one that does not start with
 * ExaBGP's AS is dropped by routers that check the first AS (RFC 4271
 * section 6.3; FRR and Cisco IOS do by default, BIRD with 'enforce
 * first as'): it may be carried or not.  *asn is the AS at fault.
 */
enum path_fate
sessions_path_fate(const struct bgp_session *s, const uint32_t *path,
    size_t npath, uint32_t *asn)
{
	size_t	i;

	if (npath == 0 || s->local_as == 0)
		return (PATH_TAKEN);
	for (i = 0; s->peer_as != 0 && i < npath; i++)
		if (path[i] == s->peer_as) {
			*asn = s->peer_as;
			return (PATH_LOOP);
		}
	if (s->peer_as != 0 && s->peer_as != s->local_as &&
	    path[0] != s->local_as) {
		*asn = path[0];
		return (PATH_FIRST);
	}
	return (PATH_TAKEN);
}

/* A loop: "sent, but neighbor N (AS P) drops it as a loop: ..." */
static void
dropped(const struct bgp_session *s, const uint32_t *path, size_t npath,
    char *why, size_t len)
{
	char	text[AH_PATH_TEXT];

	sessions_path_text(path, npath, text, sizeof(text));
	snprintf(why, len, "sent, but neighbor %s (AS %u) drops it as a loop: "
	    "its as-path %s holds AS %u", s->peer, s->peer_as, text,
	    s->peer_as);
}

int
sessions_carry(const char *neighbor, unsigned int family,
    const uint32_t *path, size_t npath, int64_t *since, char *why,
    size_t len)
{
	const struct bgp_session	*s, *looped = NULL;
	int64_t				 up = 0, down = 0;
	uint32_t			 asn;
	size_t				 i;

	*since = 0;
	if (neighbor[0] != '\0') {
		if ((s = find(neighbor)) == NULL) {
			snprintf(why, len, "sent, session down: ExaBGP %s %s",
			    ss.listed ? "reports no session" :
			    "has not reported session", neighbor);
			return (0);
		}
		*since = s->since;
		if (strcmp(s->state, "up") != 0)
			snprintf(why, len, "sent, session down: %s %s%s%s",
			    s->peer, s->state, s->reason[0] ? " - " : "",
			    s->reason);
		else if (!carries(s, family))
			snprintf(why, len, "sent, but session %s does not "
			    "carry %s", s->peer, family_name(family));
		else if (sessions_path_fate(s, path, npath, &asn) == PATH_LOOP)
			dropped(s, path, npath, why, len);
		else
			return (1);
		return (0);
	}
	/* Out since the first of them came up; not since the last left. */
	for (i = 0; i < ss.n; i++) {
		s = &ss.s[i];
		if (!carries(s, family))
			continue;
		if (strcmp(s->state, "up") != 0)
			down = s->since > down ? s->since : down;
		else if (sessions_path_fate(s, path, npath, &asn) ==
		    PATH_LOOP) {
			if (looped == NULL)
				looped = s;
		} else if (up == 0 || s->since < up)
			up = s->since;
	}
	if (up != 0) {
		*since = up;
		return (1);
	}
	*since = down;
	if (looped != NULL)
		dropped(looped, path, npath, why, len);
	else
		snprintf(why, len, "sent, session down: no session up carries "
		    "%s", family ? family_name(family) : "routes");
	return (0);
}

/* The neighbor ExaBGP has that is the same address spelled otherwise. */
static const char *
spelled(const char *neighbor)
{
	unsigned char	a[16], b[16];
	int		af;
	size_t		i;

	af = strchr(neighbor, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, neighbor, a) != 1)
		return (NULL);
	for (i = 0; i < ss.n; i++)
		if (inet_pton(af, ss.s[i].peer, b) == 1 &&
		    memcmp(a, b, af == AF_INET6 ? 16 : 4) == 0)
			return (ss.s[i].peer);
	return (NULL);
}

static int
by_name(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * The neighbors of rc's prefixes, sorted, for bsearch(): its prefixes
 * may be 30,000.  NULL (*n 0) without memory: then none is known.
 */
static const char **
neighbors_of(const struct relay_conf *rc, size_t *n)
{
	const char	**v;
	size_t		  i, j, all = 0;

	*n = 0;
	for (i = 0; rc != NULL && i < rc->nservices; i++)
		all += rc->services[i].nprefixes;
	if (all == 0 || (v = calloc(all, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < rc->nservices; i++)
		for (j = 0; j < rc->services[i].nprefixes; j++)
			v[(*n)++] = rc->services[i].prefixes[j].neighbor;
	qsort(v, *n, sizeof(*v), by_name);
	return (v);
}

/* Does service 's' send routes that session 'b' carries? */
static int
sends_to(const struct service_conf *s, const struct bgp_session *b)
{
	const struct prefix_conf	*p;
	size_t				 i;

	for (i = 0; s != NULL && i < s->nprefixes; i++) {
		p = &s->prefixes[i];
		if ((p->neighbor[0] == '\0' ||
		    strcmp(p->neighbor, b->peer) == 0) &&
		    carries(b, p->family == AF_INET6 ? FAM_IPV6 : FAM_IPV4))
			return (1);
	}
	return (0);
}

/* The service of 'was' named as 's' with the same depref as-path. */
static const struct service_conf *
had_path(const struct relay_conf *was, const struct service_conf *s)
{
	const struct depref_conf	*d;
	size_t				 i;

	for (i = 0; was != NULL && i < was->nservices; i++) {
		if (strcmp(was->services[i].name, s->name) != 0)
			continue;
		d = &was->services[i].depref;
		if (d->npath == s->depref.npath && memcmp(d->path,
		    s->depref.path, d->npath * sizeof(d->path[0])) == 0)
			return (&was->services[i]);
		break;
	}
	return (NULL);
}

/*
 * A service's depref as-path against each session it sends to: a drain
 * or a depref announces with it, and a peer that drops the announcement
 * takes the prefix out where the operator chose to keep it (fleet-wide,
 * if every node does).  One line per session; how many errors.
 */
static size_t
paths_check(const struct relay_conf *rc, const struct relay_conf *was,
    FILE *out)
{
	const struct service_conf	*s, *had;
	const struct bgp_session	*b;
	const struct conf_pos		*at;
	enum path_fate			 fate;
	char				 text[AH_PATH_TEXT];
	uint32_t			 asn;
	size_t				 i, j, n = 0;
	int				 old;

	for (i = 0; i < rc->nservices; i++) {
		s = &rc->services[i];
		if (s->depref.npath == 0)
			continue;
		sessions_path_text(s->depref.path, s->depref.npath, text,
		    sizeof(text));
		at = &s->depref.path_at;
		had = had_path(was, s);
		for (j = 0; j < ss.n; j++) {
			b = &ss.s[j];
			if (!sends_to(s, b) || (fate = sessions_path_fate(b,
			    s->depref.path, s->depref.npath, &asn)) ==
			    PATH_TAKEN)
				continue;
			/* Running so already: refusing would change nothing. */
			old = sends_to(had, b);
			fprintf(out, "%s%s:%lu:%lu: depref as-path %s of "
			    "service %s ", old || fate == PATH_FIRST ?
			    "warning: " : "", rc->path, at->line, at->column,
			    text, s->name);
			if (fate == PATH_LOOP)
				fprintf(out, "holds AS %u, the AS of neighbor "
				    "%s: it drops the depreferred "
				    "announcements as a loop\n", asn, b->peer);
			else
				fprintf(out, "starts with AS %u, not %u, "
				    "ExaBGP's AS on neighbor %s: a router that "
				    "checks the first AS (RFC 4271 section "
				    "6.3; FRR and Cisco IOS do by default) "
				    "drops the depreferred announcements\n",
				    asn, b->local_as, b->peer);
			if (fate == PATH_LOOP && !old)
				n++;
		}
	}
	return (n);
}

int
sessions_known(void)
{
	return (ss.listed != 0 && !ss.full);
}

void
sessions_paths(const struct relay_conf *rc, FILE *out)
{
	if (sessions_known())
		(void)paths_check(rc, rc, out);
}

size_t
sessions_check(const struct relay_conf *rc, const struct relay_conf *was,
    FILE *out)
{
	const struct prefix_conf	*p;
	const char			*other, *key, **had = NULL;
	char				 names[512];
	size_t				 i, j, n = 0, nhad = 0;
	int				 old, looked = 0;

	if (ss.listed == 0 || ss.full)
		return (0);
	sessions_names(names, sizeof(names));
	for (i = 0; i < rc->nservices; i++)
		for (j = 0; j < rc->services[i].nprefixes; j++) {
			p = &rc->services[i].prefixes[j];
			if (p->neighbor[0] == '\0' || find(p->neighbor) != NULL)
				continue;
			other = spelled(p->neighbor);
			/*
			 * Already in the configuration running: refusing the
			 * file would change nothing but block every other
			 * change; said, not counted.
			 */
			if (!looked++)
				had = neighbors_of(was, &nhad);
			key = p->neighbor;
			old = nhad > 0 && bsearch(&key, had, nhad,
			    sizeof(*had), by_name) != NULL;
			fprintf(out, "%s%s:%lu:%lu: neighbor '%s' is not one of "
			    "ExaBGP's neighbors (%s): ", old ? "warning: " : "",
			    rc->path, p->neighbor_at.line, p->neighbor_at.column,
			    p->neighbor, names);
			if (old) {
				fprintf(out, "ExaBGP rejects its routes, as it "
				    "did before this reload\n");
				continue;
			}
			if (other != NULL)
				fprintf(out, "ExaBGP matches neighbors by "
				    "their text: write it %s\n", other);
			else
				fprintf(out, "ExaBGP would reject its routes; "
				    "add it to ExaBGP's configuration "
				    "first\n");
			n++;
		}
	free(had);
	return (n + paths_check(rc, was, out));
}
