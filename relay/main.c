/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main.c - anycast-relay: ExaBGP's API process, the judge of
 * anycast-health.
 *
 * ExaBGP starts it, reads commands from its stdout and writes acks to
 * its stdin.  It subscribes to the plugin inside named and turns the
 * verdict for each service into announce/withdraw commands, one per
 * state change.  Written for ExaBGP's habits: a dead process's routes
 * stay announced and the process is respawned without being told
 * what is announced, so the relay keeps a note of its routes, and its
 * successor takes them over from it; without a note to believe, a
 * relay starts by withdrawing everything it owns and announces only on
 * evidence (handover.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ahclock.h"
#include "ahproto.h"
#include "ahtext.h"
#include "canary.h"
#include "control.h"
#include "drain.h"
#include "exabgp.h"
#include "feed.h"
#include "handover.h"
#include "health.h"
#include "lastgood.h"
#include "liveness.h"
#include "log.h"
#include "parse.h"
#include "relay.h"
#include "reload.h"
#include "state.h"

static int sigpipe_fds[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	(void)write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/*
	 * Not for the relay, but a habit elsewhere (a log reopened on
	 * SIGUSR1): their default would kill it, leaving its routes to a
	 * respawn that ExaBGP counts towards giving up.
	 */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
judge_all(struct relay *r, int64_t now, int snapshot)
{
	size_t i;

	for (i = 0; i < r->conf->nservices; i++)
		(void)health_judge(r, i, now, snapshot);
}

/* On the way out: withdraw what is announced, as at start-up. */
static void
withdraw_all(struct relay *r)
{
	size_t i;

	/* Before the withdrawals, so that no note outlives them. */
	handover_forget(r);
	for (i = 0; i < r->conf->nservices; i++) {
		if (r->svc[i].route.mode == ROUTE_WITHDRAWN)
			continue;
		r->svc[i].route.mode = ROUTE_WITHDRAWN;
		exabgp_service(&r->conf->services[i], ROUTE_WITHDRAWN);
	}
}

/* SIGHUP: what 'anycastctl reload' does, with the log for a reply. */
static void
on_sighup(struct relay *r)
{
	struct reload_result	 res;
	char			*text = NULL;

	log_info("SIGHUP: reloading %s", r->conf->path);
	(void)reload(r, &text, &res);
	free(text);
}

/*
 * ExaBGP has told AS numbers of its sessions new to the relay: the
 * running configuration's depref as-paths against them, said as a
 * reload says them; the start could not, ExaBGP answers after it.
 */
static void
paths_said(const struct relay *r)
{
	static unsigned int	 gen;
	char			*text = NULL;
	size_t			 len;
	FILE			*out;

	/* Not known (more neighbors than the table): not yet said. */
	if (sessions_as_gen() == gen || !sessions_known())
		return;
	gen = sessions_as_gen();
	if ((out = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	sessions_paths(r->conf, out);
	if (fclose(out) != 0 || text == NULL)
		fatal("open_memstream");
	log_text(1, "", text);
	free(text);
}

static int
next_timeout(const struct relay *r, int64_t now)
{
	int64_t	t = 1000, d;
	size_t	i;

	if (r->feed.fd < 0) {
		d = r->feed.next_attempt - now;
		t = d < t ? d : t;
	} else if (r->feed.state == FEED_HELLO) {
		d = r->feed.hello_by - now;
		t = d < t ? d : t;
	}
	for (i = 0; i < r->conf->nservices; i++) {
		/* Wake just after the service would go stale or silent. */
		d = health_deadline(r, i, now) - now;
		t = d < t ? d : t;
		d = liveness_next(&r->svc[i].live) - now;
		t = d < t ? d : t;
		d = drain_deadline(&r->svc[i].drain) - now;
		t = d < t ? d : t;
		if (!r->conf->services[i].canary.enabled)
			continue;
		d = canary_next(&r->svc[i].canary) - now;
		t = d < t ? d : t;
	}
	return (t < 0 ? 0 : (int)t);
}

/*
 * Everything the plugin has already sent is read and judged before any
 * verdict on staleness: a relay that was itself not scheduled for a
 * while must not withdraw a node whose snapshots sit unread.  Bounded,
 * so a flood cannot keep the relay from its other duties.
 */
static void
pump_feed(struct relay *r)
{
	int64_t	now;
	int	i;

	/* Time of reading, not of the loop: the relay may have stalled. */
	for (i = 0; i < 64; i++) {
		now = ah_mono_ms();
		while (feed_next(&r->feed, now))
			judge_all(r, now, 1);
		if (r->feed.fd < 0 || feed_read(&r->feed, now) <= 0)
			break;
	}
	now = ah_mono_ms();
	while (feed_next(&r->feed, now))
		judge_all(r, now, 1);
}

/* --check: the file alone, no last good copy to fall back on. */
static int
check_file(const char *path)
{
	struct relay_conf	*rc;
	size_t			 i, nprefixes = 0;

	if ((rc = conf_load(path, stderr)) == NULL) {
		fprintf(stderr, "%s: configuration rejected, nothing "
		    "announced\n", path);
		return (1);
	}
	for (i = 0; i < rc->nservices; i++)
		nprefixes += rc->services[i].nprefixes;
	if (rc->nservices > RELAY_SERVICES_MAX) {
		fprintf(stderr, "%s: more than %d services\n", path,
		    RELAY_SERVICES_MAX);
		conf_free(rc);
		return (1);
	}
	printf("%s: OK, %zu service%s, %zu prefix%s\n", path, rc->nservices,
	    ah_plural(rc->nservices), nprefixes, nprefixes == 1 ? "" : "es");
	conf_free(rc);
	return (0);
}

static __attribute__((noreturn)) void
usage(FILE *f, int code)
{
	fprintf(f, "usage: anycast-relay [--check] CONFIG\n"
	    "       anycast-relay --version\n"
	    "Run by ExaBGP as an API process (text encoder); see "
	    "doc/cli.md and doc/config.md.\n");
	exit(code);
}

static __attribute__((noreturn)) void
run(struct relay *r)
{
	struct pollfd	pfd[64 + 2 * RELAY_SERVICES_MAX];
	size_t		i, n, ctl0, can0, live0;
	int64_t		now;
	unsigned int	probe_ms;
	int		feedfd;

	for (;;) {
		now = ah_mono_ms();
		feedfd = feed_poll_fd(&r->feed, now);
		pump_feed(r);
		/*
		 * Catches staleness, silence and a feed that went down.  The
		 * clock was read before the feed was: should the relay stall
		 * in between, its verdict is on what it had read by then.
		 */
		judge_all(r, now, 0);

		n = 0;
		pfd[n++] = (struct pollfd){ .fd = sigpipe_fds[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = exabgp_want_write(now) ?
		    STDOUT_FILENO : -1, .events = POLLOUT };
		pfd[n++] = (struct pollfd){ .fd = feedfd, .events = POLLIN };
		can0 = n;
		for (i = 0; i < r->conf->nservices; i++)
			pfd[n++] = (struct pollfd){ .fd =
			    r->conf->services[i].canary.enabled ?
			    canary_poll_fd(&r->svc[i].canary, now) : -1,
			    .events = POLLIN };
		/* One probe per plugin interval, 100 ms until it is known. */
		probe_ms = r->feed.interval_ms > 0 ?
		    (unsigned int)r->feed.interval_ms : 100;
		live0 = n;
		for (i = 0; i < r->conf->nservices; i++)
			pfd[n++] = (struct pollfd){ .fd = liveness_poll_fd(
			    &r->svc[i].live, now, probe_ms), .events = POLLIN };
		ctl0 = n;
		control_fds(pfd, &n);

		if (poll(pfd, n, next_timeout(r, now)) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		now = ah_mono_ms();

		if (pfd[0].revents & POLLIN) {
			unsigned char	sig;
			int		hup = 0;

			while (read(sigpipe_fds[0], &sig, 1) == 1) {
				if (sig == SIGHUP) {
					hup = 1;
					continue;
				}
				if (sig == SIGUSR1 || sig == SIGUSR2) {
					log_warnx("SIGUSR%d ignored: SIGHUP "
					    "reloads, SIGTERM withdraws and "
					    "exits", sig == SIGUSR1 ? 1 : 2);
					continue;
				}
				log_info("signal %d: withdrawing and exiting",
				    sig);
				withdraw_all(r);
				exabgp_drain(1000);
				control_cleanup(r->conf);
				exit(0);
			}
			/* The poll set is of the old services: start over. */
			if (hup) {
				on_sighup(r);
				continue;
			}
		}
		/* Acks first, always: ExaBGP blocks writing them. */
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (exabgp_read() < 0) {
				log_info("stdin closed: ExaBGP is gone, exiting");
				handover_forget(r);
				control_cleanup(r->conf);
				exit(0);
			}
			paths_said(r);
		}
		if (pfd[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
			if (exabgp_flush() < 0) {
				log_warn("stdout to ExaBGP");
				handover_forget(r);
				control_cleanup(r->conf);
				exit(1);
			}
		}
		for (i = 0; i < r->conf->nservices; i++)
			if (pfd[can0 + i].fd >= 0 && pfd[can0 + i].revents)
				canary_read(&r->svc[i].canary, now);
		for (i = 0; i < r->conf->nservices; i++)
			if (pfd[live0 + i].fd >= 0 && pfd[live0 + i].revents)
				liveness_read(&r->svc[i].live, now);
		/*
		 * Whatever poll() said: after a stall it may report only its
		 * timeout while snapshots wait unread, and judging then
		 * would call a live feed stale.
		 */
		if (r->feed.fd >= 0)
			pump_feed(r);
		judge_all(r, now, 0);		/* 'now' is before the reading */
		exabgp_tick(now);
		control_dispatch(r, pfd + ctl0, n - ctl0);
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct relay r;	/* large: off the stack */
	int		 ch, check = 0;
	size_t		 i, nprefixes = 0;

	log_init("anycast-relay");
	while ((ch = getopt_long(argc, argv, "nVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("anycast-relay %s (protocol %d)\n",
			    PACKAGE_VERSION, AH_PROTO_VERSION);
			return (0);
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (argc - optind != 1)
		usage(stderr, 2);
	srandom((unsigned int)(getpid() ^ time(NULL)));

	if (check)
		return (check_file(argv[optind]));

	/*
	 * Before the file is read: reading a large one and keeping its
	 * copy (fsync) takes a while, and a SIGHUP or SIGUSR1 meanwhile
	 * would kill the relay by default.  Signals wait in the pipe.
	 */
	setup_signals();
	/*
	 * Never exit for a bad file: ExaBGP would give up on the relay and
	 * drop every session of the node.  Run on the last good copy, or
	 * on nothing (lastgood.c).
	 */
	memset(&r, 0, sizeof(r));
	if ((r.conf = lastgood_start(&r.lastgood, argv[optind])) == NULL)
		fatal("lastgood_start");
	for (i = 0; i < r.conf->nservices; i++)
		nprefixes += r.conf->services[i].nprefixes;

	exabgp_init();
	r.started = ah_real_ms();
	/* One more: none without a good configuration. */
	if ((r.svc = calloc(r.conf->nservices + 1, sizeof(*r.svc))) == NULL)
		fatal("calloc");
	log_info("starting: %zu service%s, %zu prefix%s, plugin socket %s",
	    r.conf->nservices, ah_plural(r.conf->nservices), nprefixes,
	    nprefixes == 1 ? "" : "es", r.conf->plugin_socket);

	for (i = 0; i < r.conf->nservices; i++) {
		health_init(&r.svc[i], &r.conf->services[i]);
		r.svc[i].route.since = r.started;
	}
	/*
	 * Before anything can be announced: what an operator drained.
	 * Without a configuration, at the reload that brings one.
	 */
	if (r.lastgood.source != CONF_NONE)
		state_load(&r);
	/*
	 * ExaBGP does not tell a respawned relay what it still announces
	 * on behalf of its dead predecessor: what the predecessor's note
	 * (or anycastctl's) says was out goes on while we start, and the
	 * rest is withdrawn (handover.c).
	 */
	handover_read(&r, ah_mono_ms());
	for (i = 0; i < r.conf->nservices; i++)
		if (r.svc[i].route.mode == ROUTE_WITHDRAWN)
			exabgp_service(&r.conf->services[i], ROUTE_WITHDRAWN);
	if (control_init(&r) < 0)
		log_warnx("continuing without a control socket: anycastctl "
		    "will not reach this relay");
	feed_init(&r.feed, r.conf);
	run(&r);
}
