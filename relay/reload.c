/* SPDX-License-Identifier: MPL-2.0 */
/*
 * reload.c - a new configuration without a restart (anycastctl reload,
 * SIGHUP).
 *
 * The file is loaded with the same code as at start, and a file with
 * any error is rejected whole: the running configuration goes on
 * untouched.  Services are matched by name.  One that is still there
 * keeps everything it has learnt: its counter history, its judge
 * (rise, fall, damping), its route, its drain, and the results of the
 * checks that did not change; a changed check is judged afresh on the
 * next snapshot, and the route stays as it is until then.  Then every
 * route is put where its service's mode says, through exabgp.c, which
 * sends only what differs from what it last sent: an unchanged file
 * sends nothing, an added prefix one command (a withdrawal, or an
 * announcement if its service is announced), a changed attribute one
 * announcement, a removed prefix one withdrawal.  A file that names a
 * neighbor ExaBGP does not have is rejected too, once ExaBGP has said
 * which it has (sessions.c): ExaBGP would reject its routes.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahclock.h"
#include "ahtext.h"
#include "canary.h"
#include "check.h"
#include "exabgp.h"
#include "feed.h"
#include "handover.h"
#include "health.h"
#include "http.h"
#include "lastgood.h"
#include "liveness.h"
#include "log.h"
#include "policy.h"
#include "prefixes.h"
#include "relay.h"
#include "reload.h"
#include "sessions.h"
#include "state.h"

/* A service's changes in words: "prefixes +1 -0; checks canary". */
struct words {
	char	 buf[400];
	size_t	 len;
};

static void
say(struct words *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct words *w, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (w->len >= sizeof(w->buf))
		return;
	if (w->len > 0)
		w->len += (size_t)snprintf(w->buf + w->len,
		    sizeof(w->buf) - w->len, "; ");
	if (w->len >= sizeof(w->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n;
}

/*
 * Service s's entry for 'prefix', through its index (prefixes.h); one
 * by one only if there was no memory for one.
 */
static const struct prefix_conf *
find_prefix(const struct service_conf *s, const struct prefix_index *ix,
    const char *prefix)
{
	const struct prefix_ref	*r;
	size_t			 i, n;

	if (ix != NULL) {
		r = prefix_index_find(ix, prefix, &n);
		return (r != NULL ? r->p : NULL);
	}
	for (i = 0; i < s->nprefixes; i++)
		if (strcmp(s->prefixes[i].prefix, prefix) == 0)
			return (&s->prefixes[i]);
	return (NULL);
}

/* An index of one service's prefixes, or NULL (then one by one). */
static struct prefix_index *
index_of(struct prefix_index *ix, const struct service_conf *s, size_t n)
{
	return (prefix_index_make(ix, s, n) == 0 ? ix : NULL);
}

/* What a route command carries; positions in the file do not count. */
static int
same_route(const struct prefix_conf *a, const struct prefix_conf *b)
{
	return (strcmp(a->next_hop, b->next_hop) == 0 && a->med == b->med &&
	    strcmp(a->neighbor, b->neighbor) == 0 &&
	    a->ncommunities == b->ncommunities &&
	    memcmp(a->communities, b->communities,
	    sizeof(a->communities)) == 0);
}

static int
same_depref(const struct depref_conf *a, const struct depref_conf *b)
{
	return (a->med == b->med && a->npath == b->npath &&
	    memcmp(a->path, b->path, sizeof(a->path)) == 0 &&
	    a->ncommunities == b->ncommunities &&
	    memcmp(a->communities, b->communities,
	    sizeof(a->communities)) == 0 &&
	    a->graceful_shutdown == b->graceful_shutdown);
}

/* Says how service 'o' became 'n'; 1 if it changed at all. */
static int
describe(FILE *out, const struct service_conf *o, const struct service_conf *n)
{
	struct words		 w = { .len = 0 };
	const struct prefix_conf *p;
	struct prefix_index	 ixo, ixn, *io, *in;
	size_t			 i, added = 0, removed = 0, attrs = 0;
	char			 names[160] = "";
	int			 c;

	io = index_of(&ixo, o, 1);
	in = index_of(&ixn, n, 1);
	for (i = 0; i < n->nprefixes; i++)
		if ((p = find_prefix(o, io, n->prefixes[i].prefix)) == NULL)
			added++;
		else if (!same_route(p, &n->prefixes[i]))
			attrs++;
	for (i = 0; i < o->nprefixes; i++)
		if (find_prefix(n, in, o->prefixes[i].prefix) == NULL)
			removed++;
	prefix_index_free(&ixo);
	prefix_index_free(&ixn);
	if (added || removed)
		say(&w, "prefixes +%zu -%zu", added, removed);
	if (attrs)
		say(&w, "attributes of %zu prefix%s", attrs,
		    attrs == 1 ? "" : "es");
	if (strcmp(o->watchdog, n->watchdog) != 0)
		say(&w, "watchdog '%s' -> '%s'", o->watchdog, n->watchdog);
	if (!same_depref(&o->depref, &n->depref))
		say(&w, "depref attributes");
	if (o->when_down != n->when_down)
		say(&w, "when-down");
	if (strcmp(o->view, n->view) != 0)
		say(&w, "view %s -> %s", o->view, n->view);
	for (c = 0; c < CHK_COUNT; c++)
		if (checks[c].changed(o, n))
			snprintf(names + strlen(names), sizeof(names) -
			    strlen(names), "%s%s", names[0] ? ", " : "",
			    checks[c].name);
	if (names[0] != '\0')
		say(&w, "checks %s (judged afresh)", names);
	if (o->rise != n->rise || o->fall != n->fall ||
	    o->max_changes != n->max_changes || o->period_ms != n->period_ms ||
	    o->hold_ms != n->hold_ms || o->max_hold_ms != n->max_hold_ms)
		say(&w, "rise, fall or damping");
	if (o->retry_ms != n->retry_ms || o->max_retry_ms != n->max_retry_ms)
		say(&w, "retry (its back-off starts over)");
	if (memcmp(&o->drain, &n->drain, sizeof(o->drain)) != 0)
		say(&w, "drain settings (for the next drain)");
	if (memcmp(&o->liveness.server, &n->liveness.server,
	    sizeof(o->liveness.server)) != 0 ||
	    memcmp(&o->liveness.source, &n->liveness.source,
	    sizeof(o->liveness.source)) != 0 ||
	    o->liveness.port != n->liveness.port ||
	    o->liveness.set != n->liveness.set)
		say(&w, "liveness probe");
	if (w.len == 0) {
		fprintf(out, "%s: unchanged\n", n->name);
		return (0);
	}
	fprintf(out, "%s: changed: %s\n", n->name, w.buf);
	return (1);
}

/*
 * The state of a service that stays, fitted to its new configuration:
 * what points into the old one is pointed at the new one, a changed
 * canary or liveness target starts afresh (a canary keeping its last
 * result until it has one of its own: check.c), and a changed check
 * (or a new view: the history is of the old one) forgets its last
 * result.
 * A changed retry starts its back-off over; a retry already set keeps
 * its time.
 */
static void
carry(struct service_state *st, const struct service_conf *o,
    const struct service_conf *n)
{
	struct liveness	 l;
	int64_t		 at;
	int		 view = strcmp(o->view, n->view) != 0, c;

	if (memcmp(&o->canary, &n->canary, sizeof(o->canary)) != 0)
		canary_renew(&st->canary, &n->canary);
	else
		st->canary.conf = &n->canary;
	liveness_init(&l, &n->liveness, &n->canary);
	if (strcmp(l.server, st->live.server) != 0 ||
	    strcmp(l.source, st->live.source) != 0 || l.port != st->live.port) {
		liveness_close(&st->live);
		st->live = l;
	}
	if (view)
		window_reset(&st->win);
	if (o->retry_ms != n->retry_ms || o->max_retry_ms != n->max_retry_ms) {
		at = st->retry.at;
		retry_init(&st->retry, &(struct retry_conf){
		    .first_ms = n->retry_ms, .max_ms = n->max_retry_ms });
		st->retry.at = at;
	}
	for (c = 0; c < CHK_COUNT; c++)
		if (view || checks[c].changed(o, n))
			check_forget(&st->chk[c]);
}

/* Does a service of rc (indexed in ix, if not NULL) route p so? */
static int
has_route(const struct relay_conf *rc, const struct prefix_index *ix,
    const struct prefix_conf *p)
{
	const struct prefix_conf	*q;
	const struct prefix_ref		*r;
	size_t				 i, n;

	if (ix != NULL) {
		r = prefix_index_find(ix, p->prefix, &n);
		for (i = 0; i < n; i++)
			if (strcmp(r[i].p->neighbor, p->neighbor) == 0)
				return (1);
		return (0);
	}
	for (i = 0; i < rc->nservices; i++)
		if ((q = find_prefix(&rc->services[i], NULL, p->prefix)) !=
		    NULL && strcmp(q->neighbor, p->neighbor) == 0)
			return (1);
	return (0);
}

static int
has_watchdog(const struct relay_conf *rc, const char *name)
{
	size_t i;

	for (i = 0; i < rc->nservices; i++)
		if (strcmp(rc->services[i].watchdog, name) == 0)
			return (1);
	return (0);
}

/* Routes of the old configuration that no service of the new one has. */
static void
withdraw_gone(const struct relay_conf *oc, const struct relay_conf *nc)
{
	const struct service_conf	*s;
	struct prefix_index		 ix, *in;
	size_t				 i, j;

	in = index_of(&ix, nc->services, nc->nservices);
	for (i = 0; i < oc->nservices; i++) {
		s = &oc->services[i];
		if (s->watchdog[0] != '\0' && !has_watchdog(nc, s->watchdog))
			exabgp_service(s, ROUTE_WITHDRAWN);
		for (j = 0; j < s->nprefixes; j++)
			if (!has_route(nc, in, &s->prefixes[j]))
				exabgp_withdraw(&s->prefixes[j]);
	}
	prefix_index_free(&ix);
}

/*
 * The control socket is in use (by this very request, maybe): moving it
 * takes a restart.  The running values stay, so that the socket the
 * relay removes at exit is the one it made.
 */
static void
keep_control(const struct relay_conf *oc, struct relay_conf *nc, FILE *out)
{
	if (strcmp(oc->control_socket, nc->control_socket) == 0 &&
	    oc->control_mode == nc->control_mode &&
	    oc->control_gid == nc->control_gid)
		return;
	fprintf(out, "control: socket, mode and group take a restart; still "
	    "listening on %s\n", oc->control_socket);
	memcpy(nc->control_socket, oc->control_socket,
	    sizeof(nc->control_socket));
	nc->control_mode = oc->control_mode;
	nc->control_gid = oc->control_gid;
}

/* The parts of the relay that hang on the configuration as a whole. */
static int
apply_relay(struct relay *r, const struct relay_conf *oc, FILE *out)
{
	struct relay_conf	*nc = r->conf;
	int			 save = 0;

	if (feed_reconfigure(&r->feed, nc, ah_mono_ms()))
		fprintf(out, "plugin: socket now %s; subscribing there "
		    "(services are withdrawn until its named gives "
		    "evidence)\n",
		    nc->plugin_socket);
	if (strcmp(oc->metrics_listen, nc->metrics_listen) != 0) {
		http_stop();
		if (nc->metrics_listen[0] == '\0')
			fprintf(out, "control: metrics endpoint off\n");
		else if (http_listen(r, nc->metrics_listen) == 0)
			fprintf(out, "control: metrics now on %s\n",
			    nc->metrics_listen);
		/*
		 * Stopped first (the new address may take the old one's
		 * port); back on the old one if the new will not do.
		 */
		else if (oc->metrics_listen[0] != '\0' &&
		    http_listen(r, oc->metrics_listen) == 0) {
			fprintf(out, "control: cannot serve metrics on %s; "
			    "still on %s\n", nc->metrics_listen,
			    oc->metrics_listen);
			memcpy(nc->metrics_listen, oc->metrics_listen,
			    sizeof(nc->metrics_listen));
		} else
			fprintf(out, "control: cannot serve metrics on %s\n",
			    nc->metrics_listen);
	}
	if (strcmp(oc->state_file, nc->state_file) != 0) {
		fprintf(out, "control: state file now %s\n", nc->state_file);
		save = 1;
	}
	return (save);
}

/* Moves the relay to 'nc'; says what changed on 'out'. */
static int
move(struct relay *r, struct relay_conf *nc, FILE *out,
    struct reload_result *res)
{
	struct relay_conf	*oc = r->conf;
	struct service_state	*svc;
	unsigned char		*kept;
	size_t			 i, j;
	int			 save = 0;

	if ((svc = calloc(nc->nservices, sizeof(*svc))) == NULL ||
	    (kept = calloc(oc->nservices + 1, 1)) == NULL) {
		free(svc);
		fprintf(out, "out of memory\n");
		return (-1);
	}
	keep_control(oc, nc, out);
	for (j = 0; j < nc->nservices; j++) {
		for (i = 0; i < oc->nservices; i++)
			if (!kept[i] && strcmp(oc->services[i].name,
			    nc->services[j].name) == 0)
				break;
		if (i == oc->nservices) {
			health_init(&svc[j], &nc->services[j]);
			svc[j].route.since = ah_real_ms();
			fprintf(out, "%s: added: starts withdrawn, announced on "
			    "evidence\n", nc->services[j].name);
			res->added++;
			continue;
		}
		kept[i] = 1;
		svc[j] = r->svc[i];
		carry(&svc[j], &oc->services[i], &nc->services[j]);
		if (describe(out, &oc->services[i], &nc->services[j]))
			res->changed++;
		else
			res->unchanged++;
	}
	for (i = 0; i < oc->nservices; i++) {
		if (kept[i])
			continue;
		fprintf(out, "%s: removed%s\n", oc->services[i].name,
		    r->svc[i].route.mode == ROUTE_WITHDRAWN ? " (it was withdrawn)" :
		    ": its routes are withdrawn");
		canary_close(&r->svc[i].canary);
		liveness_close(&r->svc[i].live);
		save |= r->svc[i].drain.state != DRAIN_NONE;
		res->removed++;
	}
	free(kept);

	withdraw_gone(oc, nc);
	r->conf = nc;
	free(r->svc);
	r->svc = svc;
	/* Ran on no configuration: what an operator drained, as at start. */
	if (r->lastgood.source == CONF_NONE)
		state_load(r);
	save |= apply_relay(r, oc, out);
	handover_save(r);
	for (j = 0; j < nc->nservices; j++)
		exabgp_service(&nc->services[j], svc[j].route.mode);
	conf_free(oc);
	if (save && state_save(r) < 0)
		fprintf(out, "%s\n", r->state_error);
	return (0);
}

int
reload(struct relay *r, char **text, struct reload_result *res)
{
	struct relay_conf	*nc;
	const char		*path = r->conf->path;
	uint64_t		 before = exabgp_commands();
	size_t			 len;
	FILE			*out;
	int			 rc = -1;

	memset(res, 0, sizeof(*res));
	if ((out = open_memstream(text, &len)) == NULL)
		fatal("open_memstream");
	if ((nc = conf_load(path, out)) == NULL)
		;
	else if (nc->nservices > RELAY_SERVICES_MAX) {
		fprintf(out, "%s: more than %d services\n", path,
		    RELAY_SERVICES_MAX);
		conf_free(nc);
	} else if (sessions_check(nc, r->conf, out) > 0)
		conf_free(nc);
	else if ((rc = move(r, nc, out, res)) < 0)
		conf_free(nc);
	else {
		res->commands = exabgp_commands() - before;
		fprintf(out, "%s: %zu service%s: %zu added, %zu removed, %zu "
		    "changed, %zu unchanged; %llu command%s to ExaBGP\n",
		    r->conf->path, r->conf->nservices,
		    ah_plural(r->conf->nservices), res->added, res->removed,
		    res->changed, res->unchanged,
		    (unsigned long long)res->commands,
		    ah_plural(res->commands));
	}
	if (fclose(out) != 0 || *text == NULL)
		fatal("open_memstream");
	if (rc < 0)
		lastgood_rejected(&r->lastgood, *text);
	else
		lastgood_accepted(&r->lastgood, r->conf);
	log_text(rc < 0, "reload: ", *text);
	if (rc < 0)
		log_warnx("reload: %s: configuration rejected; the running "
		    "configuration is unchanged", path);
	return (rc);
}
