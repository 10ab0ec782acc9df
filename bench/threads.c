/* SPDX-License-Identifier: MPL-2.0 */
/*
 * threads.c - what counting a query costs one of named's threads, from
 * 1, 2, 4, ... threads up to the CPUs this process may run on: the
 * plugin's per-thread shards (plugin/counters.h, the very code the
 * hooks run) beside the shared atomic counters the plugin had before
 * issue 14, and beside shards added to with locked instructions.
 *
 * Every thread counts queries as a hook does, as fast as it can, for a
 * fixed time; each query adds to one 'answers' counter from a fixed mix
 * and reads the view's walk flag.  Before issue 14 a query added to
 * 'queries' and to one 'answers' counter of the view, both shared by
 * every thread, with locked adds, and read the view's next walk time
 * (it also read a clock, left out here: it is no counting).  The figure
 * is a thread's own CPU time divided by the queries it counted, the
 * median over the threads of a run and then over rounds; the variants
 * take turns within each round, so that a change in the machine's load
 * hits them alike.  The threads are pinned one to a CPU.
 *
 * On a machine with more CPUs than threads the flat figure of the
 * shards is the point: their threads write only their own cache lines.
 * With shared counters each add must first take the line from the core
 * that wrote it last.
 *
 * --check, for 'make check': short runs of every variant, also of
 * threads without a shard of their own, and a check that every count
 * arrived in the sums the publisher makes; no timing is judged.
 *
 * usage: threads [-c] [-r rounds] [-m ms] [-t n,n,...] [-j]
 */
#include <config.h>

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "view.h"

#define THREADS_MAX	1024
#define ROUNDS_MAX	1000
#define STOP_EVERY	1024	/* queries between looks at the clock */

/* The answers of a query mix: mostly answers from a zone. */
static const unsigned int mix[16] = {
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NXDOMAIN,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_CACHE * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_REFUSED,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NXDOMAIN,
	AH_SRC_CACHE * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NXDOMAIN,
	AH_SRC_CACHE * AH_RC_COUNT + AH_RC_NOERROR,
	AH_SRC_AUTH * AH_RC_COUNT + AH_RC_NOERROR,
};

#define ANSWERS	(AH_SRC_COUNT * AH_RC_COUNT)

/* The counters a query touched before issue 14, as they were laid out. */
static struct {
	atomic_uint_fast64_t	 queries;
	atomic_uint_fast64_t	 probes;
	atomic_uint_fast64_t	 dropped;
	atomic_uint_fast64_t	 answers[ANSWERS];
	atomic_int_fast64_t	 next_walk;
} shared __attribute__((aligned(128)));

static struct ah_view view;

enum variant { V_SHARED, V_SHARDS, V_LOCKED, V_COUNT };

static const char *const variant_names[V_COUNT] = {
	"shared-atomics", "shards", "shards-locked"
};

struct worker {
	pthread_t	 thread;
	size_t		 tid;		/* named's index of the thread */
	int		 cpu;		/* -1: not pinned */
	enum variant	 variant;
	uint64_t	 queries;
	uint64_t	 cpu_ns;
} __attribute__((aligned(128)));

static struct worker	 workers[THREADS_MAX];
static pthread_barrier_t barrier;
static atomic_bool	 stop;

static uint64_t
now_ns(clockid_t clk)
{
	struct timespec	 ts;

	clock_gettime(clk, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* One query, before issue 14. */
static inline void
query_shared(unsigned int k)
{
	atomic_fetch_add_explicit(&shared.queries, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&shared.answers[k], 1,
	    memory_order_relaxed);
	if (atomic_load_explicit(&shared.next_walk, memory_order_relaxed) ==
	    INT64_MAX)
		abort();
}

/*
 * One query now, as on_qctx_destroyed counts it; with 'locked', the add
 * is a locked one (a constant at each call: the branch folds away).
 */
static inline void
query_shards(size_t tid, unsigned int k, bool locked)
{
	struct ah_tally	 t;

	if (!ah_tally_own(&view, tid, &t))
		t = ah_tally(&view, tid);
	if (locked)
		atomic_fetch_add_explicit(&t.c->answers[0][0] + k, 1,
		    memory_order_release);
	else
		ah_add(t, &t.c->answers[0][0] + k);
	if (atomic_load_explicit(&view.walk_due, memory_order_relaxed))
		abort();
}

static void *
work(void *arg)
{
	struct worker	*w = arg;
	uint64_t	 n = 0, t0;
	unsigned int	 i;

	if (w->cpu >= 0) {
		cpu_set_t	 set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set),
		    &set);
	}
	pthread_barrier_wait(&barrier);
	t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		switch (w->variant) {
		case V_SHARED:
			for (i = 0; i < STOP_EVERY; i++)
				query_shared(mix[(n + i) % 16]);
			break;
		case V_SHARDS:
			for (i = 0; i < STOP_EVERY; i++)
				query_shards(w->tid, mix[(n + i) % 16], false);
			break;
		default:
			for (i = 0; i < STOP_EVERY; i++)
				query_shards(w->tid, mix[(n + i) % 16], true);
			break;
		}
		n += STOP_EVERY;
	}
	w->cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	w->queries = n;
	return (NULL);
}

/* The answers counted so far, as the publisher sums them. */
static void
answers_now(enum variant v, uint64_t out[ANSWERS])
{
	struct ah_counters	 sum;
	struct ah_groupcounters	 gsum;
	size_t			 k;

	if (v == V_SHARED) {
		for (k = 0; k < ANSWERS; k++)
			out[k] = atomic_load(&shared.answers[k]);
		return;
	}
	ah_counters_sum(view.slot, &sum, &gsum);
	for (k = 0; k < ANSWERS; k++)
		out[k] = atomic_load(&sum.answers[0][0] + k);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static double
median(double *xs, size_t n)
{
	uint64_t	 v[ROUNDS_MAX > THREADS_MAX ? ROUNDS_MAX : THREADS_MAX];
	size_t		 i;

	/* In picoseconds, to sort as integers. */
	for (i = 0; i < n; i++)
		v[i] = (uint64_t)(xs[i] * 1000.0);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return ((n % 2 ? (double)v[n / 2] :
	    ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1000.0);
}

/*
 * One run: 'nthreads' threads of variant 'v' for 'ms' milliseconds.
 * 'first_tid' is the index of the first thread (beyond the shards:
 * threads without a shard of their own).  Returns the median of the
 * threads' ns per query, or -1 if a count went missing from the sums.
 */
static double
run(enum variant v, size_t nthreads, size_t first_tid, unsigned int ms,
    const int *cpus, size_t ncpus, uint64_t *queries)
{
	uint64_t	 before[ANSWERS], after[ANSWERS], want[ANSWERS];
	double		 ns[THREADS_MAX];
	struct timespec	 nap = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000 };
	size_t		 i, k;

	answers_now(v, before);
	atomic_store(&stop, false);
	if (pthread_barrier_init(&barrier, NULL, (unsigned int)nthreads + 1)
	    != 0) {
		fprintf(stderr, "threads: pthread_barrier_init failed\n");
		exit(1);
	}
	for (i = 0; i < nthreads; i++) {
		workers[i] = (struct worker){ .variant = v,
		    .tid = first_tid == SIZE_MAX ? SIZE_MAX : first_tid + i,
		    .cpu = ncpus > 0 ? cpus[i % ncpus] : -1 };
		if (pthread_create(&workers[i].thread, NULL, work,
		    &workers[i]) != 0) {
			fprintf(stderr, "threads: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&barrier);
	while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
		;
	atomic_store(&stop, true);
	memset(want, 0, sizeof(want));
	*queries = 0;
	for (i = 0; i < nthreads; i++) {
		pthread_join(workers[i].thread, NULL);
		/* Every STOP_EVERY queries run through the whole mix. */
		for (k = 0; k < 16; k++)
			want[mix[k]] += workers[i].queries / 16;
		ns[i] = (double)workers[i].cpu_ns /
		    (double)(workers[i].queries ? workers[i].queries : 1);
		*queries += workers[i].queries;
	}
	pthread_barrier_destroy(&barrier);
	answers_now(v, after);
	for (k = 0; k < ANSWERS; k++)
		if (after[k] - before[k] != want[k]) {
			fprintf(stderr, "threads: %s, %zu threads: answers[%zu] "
			    "grew by %llu, counted %llu\n", variant_names[v],
			    nthreads, k,
			    (unsigned long long)(after[k] - before[k]),
			    (unsigned long long)want[k]);
			return (-1);
		}
	return (median(ns, nthreads));
}

/* The CPUs this process may run on, in order. */
static size_t
allowed_cpus(int *cpus, size_t max)
{
	cpu_set_t	 set;
	size_t		 n = 0;
	int		 c;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return (0);
	for (c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return (n);
}

static void
usage(void)
{
	fprintf(stderr, "usage: threads [-c] [-r rounds] [-m ms] "
	    "[-t n,n,...] [-j]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static double	 ns[16][V_COUNT][ROUNDS_MAX];
	int		 cpus[THREADS_MAX];
	size_t		 counts[16], ncounts = 0, ncpus, i, r, rounds = 5;
	unsigned int	 ms = 200;
	uint64_t	 q;
	bool		 check = false, json = false;
	char		*list = NULL, *tok, *end, *save = NULL;
	int		 ch, v, vv;
	unsigned long	 x;

	while ((ch = getopt(argc, argv, "cjm:r:t:")) != -1) {
		switch (ch) {
		case 'c':
			check = true;
			break;
		case 'j':
			json = true;
			break;
		case 'm':
			x = strtoul(optarg, &end, 10);
			if (*end != '\0' || x < 1 || x > 60000)
				usage();
			ms = (unsigned int)x;
			break;
		case 'r':
			x = strtoul(optarg, &end, 10);
			if (*end != '\0' || x < 1 || x > ROUNDS_MAX)
				usage();
			rounds = x;
			break;
		case 't':
			list = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	ncpus = allowed_cpus(cpus, THREADS_MAX);
	if (list != NULL) {
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			x = strtoul(tok, &end, 10);
			if (*end != '\0' || x < 1 || x > THREADS_MAX ||
			    ncounts == 16)
				usage();
			counts[ncounts++] = x;
		}
	} else {
		/* 1, 2, 4, ... and the number of CPUs itself. */
		for (x = 1; x < (ncpus ? ncpus : 1) && ncounts < 15; x *= 2)
			counts[ncounts++] = x;
		counts[ncounts++] = ncpus ? ncpus : 1;
	}
	if (check) {
		rounds = 1;
		ms = 20;
	}

	/* One view, in slot 0 of every shard, as the publisher sets it. */
	view.slot = 0;
	view.cells = &ah_shards[0].view[0];
	view.groups = &ah_shards[0].groups[0];

	for (r = 0; r < rounds; r++)
		for (i = 0; i < ncounts; i++)
			for (vv = 0; vv < V_COUNT; vv++) {
				/* Turns: each variant first in some rounds. */
				v = (vv + (int)r) % V_COUNT;
				/* Thread indexes from 1, as on BIND 9.18. */
				ns[i][v][r] = run(v, counts[i], 1, ms, cpus,
				    ncpus, &q);
				if (ns[i][v][r] < 0)
					return (1);
				if (json)
					printf("{\"variant\": \"%s\", "
					    "\"threads\": %zu, \"round\": %zu, "
					    "\"ms\": %u, \"queries\": %llu, "
					    "\"ns_per_query\": %.3f}\n",
					    variant_names[v], counts[i], r, ms,
					    (unsigned long long)q,
					    ns[i][v][r]);
			}
	if (check) {
		/* Threads without a shard of their own share one. */
		if (run(V_SHARDS, 4, SIZE_MAX, ms, cpus, ncpus, &q) < 0 ||
		    run(V_SHARDS, 4, AH_SHARD_SHARED - 2, ms, cpus, ncpus,
		    &q) < 0)
			return (1);
		printf("threads: every count summed, %zu thread counts, "
		    "%zu CPUs\n", ncounts, ncpus);
		return (0);
	}
	if (json)
		return (0);
	printf("ns per query per thread (median of %zu rounds of %u ms; "
	    "%zu CPUs)\n", rounds, ms, ncpus);
	printf("%-8s", "threads");
	for (v = 0; v < V_COUNT; v++)
		printf("  %-14s %-8s", variant_names[v], "x 1 thr");
	printf("\n");
	for (i = 0; i < ncounts; i++) {
		printf("%-8zu", counts[i]);
		for (v = 0; v < V_COUNT; v++) {
			double	 m = median(ns[i][v], rounds);
			double	 one = median(ns[0][v], rounds);

			printf("  %-14.2f %-8.2f", m, m / one);
		}
		printf("\n");
	}
	return (0);
}
