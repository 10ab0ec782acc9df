/*
 * ctl.c - anycastctl: ask a running anycast-relay how things stand.
 *
 * Exit status, as with unbound-control: 0 all is well, 1 an error
 * (usage, or the relay refused the request), 2 the relay answered but
 * something is withdrawn, 3 the relay is not running.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ahproto.h"
#include "parse.h"

#define EXIT_WITHDRAWN	2
#define EXIT_NORELAY	3

static __attribute__((noreturn)) void
usage(FILE *f, int code)
{
	fprintf(f, "usage: anycastctl [-c CONFIG | -s SOCKET] COMMAND\n"
	    "commands:\n"
	    "  status    the relay, its feed from named, each service and "
	    "prefix\n"
	    "The control socket is read from CONFIG (the relay's YAML), "
	    "else -s,\nelse %s.\n", AH_DEFAULT_CONTROL_SOCKET);
	exit(code);
}

/* "3m ago", for people. */
static void
ago(char *buf, size_t len, int64_t then_ms)
{
	int64_t s = (int64_t)time(NULL) - then_ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%llds ago", (long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm ago", (long long)s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%lldh ago", (long long)s / 3600);
	else
		snprintf(buf, len, "%lldd ago", (long long)s / 86400);
}

static void
stamp(char *buf, size_t len, const struct ah_msg *m, const char *key)
{
	uint64_t	ms;
	time_t		t;
	struct tm	tm;
	char		a[32], rel[32];

	if (ah_get_u64(m, key, &ms) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	t = (time_t)(ms / 1000);
	localtime_r(&t, &tm);
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
	ago(rel, sizeof(rel), (int64_t)ms);
	snprintf(buf, len, "%s (%s)", a, rel);
}

static const char *
get(const struct ah_msg *m, const char *key)
{
	const char *v = ah_get(m, key);

	return (v != NULL ? v : "?");
}

/* Print one status record for people; returns 1 for a withdrawn prefix. */
static int
print_status(const struct ah_msg *m)
{
	char	when[80];
	int	bad = 0;
	size_t	i;

	if (strcmp(m->type, "relay") == 0) {
		stamp(when, sizeof(when), m, "started");
		printf("relay:    pid %s, version %s, up since %s\n",
		    get(m, "pid"), get(m, "version"), when);
		printf("config:   %s\n", get(m, "config"));
	} else if (strcmp(m->type, "feed") == 0) {
		stamp(when, sizeof(when), m, "since");
		if (strcmp(get(m, "state"), "up") == 0) {
			printf("named:    connected since %s\n", when);
			printf("          pid %s, BIND %s, snapshot every %s ms,"
			    " last %s ms ago (seq %s)\n", get(m, "named_pid"),
			    get(m, "named"), get(m, "interval"),
			    get(m, "age_ms"), get(m, "seq"));
		} else
			printf("named:    NOT CONNECTED since %s: %s\n", when,
			    get(m, "error"));
		printf("socket:   %s\n", get(m, "socket"));
	} else if (strcmp(m->type, "counters") == 0) {
		printf("view %s:", get(m, "view"));
		for (i = 0; i < m->nfields; i++)
			if (strcmp(m->f[i].key, "view") != 0)
				printf(" %s %s", m->f[i].key, m->f[i].val);
		printf("\n");
	} else if (strcmp(m->type, "service") == 0) {
		const char *state = get(m, "state");

		stamp(when, sizeof(when), m, "since");
		printf("service %s (view %s): %s since %s\n  reason: %s\n",
		    get(m, "name"), get(m, "view"),
		    strcmp(state, "up") == 0 ? "UP" :
		    strcmp(state, "degraded") == 0 ? "DEGRADED" : "DOWN", when,
		    get(m, "reason"));
		printf("  checks: %s good, %s bad in a row (rise %s, fall %s)",
		    get(m, "good"), get(m, "bad"), get(m, "rise"),
		    get(m, "fall"));
		if (ah_get(m, "held_ms") != NULL)
			printf("; flap damping holds it down for %s ms more",
			    get(m, "held_ms"));
		printf("\n");
		if (ah_get(m, "canary") != NULL)
			printf("  canary: %s\n", get(m, "canary"));
	} else if (strcmp(m->type, "prefix") == 0) {
		stamp(when, sizeof(when), m, "since");
		bad = strcmp(get(m, "state"), "announced") != 0;
		printf("  %-24s %-11s since %s\n", get(m, "prefix"),
		    get(m, "state"), when);
	}
	return (bad);
}

static int
connect_relay(const char *path)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "anycastctl: socket path too long: %s\n", path);
		exit(1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		perror("anycastctl: socket");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "anycastctl: cannot reach the relay at %s: "
		    "%s (is anycast-relay running?)\n", path, strerror(errno));
		exit(EXIT_NORELAY);
	}
	return (fd);
}

int
main(int argc, char *argv[])
{
	static struct ah_lines	 in;
	struct relay_conf	*rc;
	const char		*sock = NULL, *conf = NULL, *line, *err;
	char			 req[AH_LINE_MAX], *space;
	struct ah_enc		 e;
	struct ah_msg		 m;
	size_t			 room, n;
	ssize_t			 k;
	int			 ch, fd, len, withdrawn = 0, rc2;
	static char		 sockbuf[AH_PATH_MAX];

	while ((ch = getopt(argc, argv, "c:s:hV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("anycastctl %s (protocol %d)\n", PACKAGE_VERSION,
			    AH_PROTO_VERSION);
			return (0);
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(stderr, 1);
	if (conf != NULL && sock != NULL) {
		fprintf(stderr, "anycastctl: -c and -s are exclusive\n");
		return (1);
	}
	if (strcmp(argv[0], "status") != 0) {
		fprintf(stderr, "anycastctl: unknown command '%s'\n", argv[0]);
		usage(stderr, 1);
	}
	if (argc > 1) {
		fprintf(stderr, "anycastctl: %s takes no arguments\n", argv[0]);
		return (1);
	}
	if (conf != NULL) {
		if ((rc = conf_load(conf, stderr)) == NULL)
			return (1);
		snprintf(sockbuf, sizeof(sockbuf), "%s", rc->control_socket);
		conf_free(rc);
		sock = sockbuf;
	}
	if (sock == NULL)
		sock = AH_DEFAULT_CONTROL_SOCKET;

	fd = connect_relay(sock);
	ah_enc_begin(&e, req, sizeof(req), argv[0]);
	ah_enc_u64(&e, "proto", AH_PROTO_VERSION);
	if ((len = ah_enc_end(&e)) < 0 || write(fd, req, (size_t)len) != len) {
		fprintf(stderr, "anycastctl: cannot send request\n");
		return (1);
	}
	ah_lines_init(&in);
	for (;;) {
		space = ah_lines_space(&in, &room);
		if ((k = read(fd, space, room)) <= 0) {
			fprintf(stderr, "anycastctl: relay closed the connection"
			    " before answering\n");
			return (1);
		}
		ah_lines_fill(&in, (size_t)k);
		while ((rc2 = ah_lines_next(&in, &line, &n)) == 1) {
			if (ah_decode(&m, line, n, &err) < 0) {
				fprintf(stderr, "anycastctl: bad reply from "
				    "relay: %s\n", err);
				return (1);
			}
			if (strcmp(m.type, "done") == 0) {
				if (strcmp(get(&m, "status"), "ok") != 0) {
					fprintf(stderr, "anycastctl: relay: %s\n",
					    get(&m, "msg"));
					return (1);
				}
				return (withdrawn ? EXIT_WITHDRAWN : 0);
			}
			withdrawn |= print_status(&m);
		}
		if (rc2 < 0) {
			fprintf(stderr, "anycastctl: reply line too long\n");
			return (1);
		}
	}
}
