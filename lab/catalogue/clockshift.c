/* SPDX-License-Identifier: MPL-2.0 */
/*
 * clockshift: one process's wall clock moved, for the lab (issue 13's
 * "the node's clock a day wrong").  Preloaded into a node's named
 * (LD_PRELOAD), it adds to every CLOCK_REALTIME reading the seconds
 * written in the file $CLOCKSHIFT_FILE ("86400", "-86400", "0"),
 * re-read at most once every SLOT_MS, so that a test steps the clock
 * while named runs, and the step lands when the test says it did (the
 * catalogue times the node's verdict from that moment; read once a
 * second, the step came up to a second late).  A hundred small reads a
 * second cost named nothing it would notice.  Monotonic clocks are left alone, as a real clock step
 * leaves them.  lab/catalogue/actions.py builds it with cc.
 *
 * Why not Debian's libfaketime (0.9.10): under named and dig of BIND
 * 9.18 it never initialises ("Cannot recover from unexpected recursive
 * calls to clock_gettime()"): its set-up calls dlsym(), which calls
 * calloc(), which is BIND's jemalloc, whose own set-up reads the clock
 * through the interposed clock_gettime().  Here every real clock
 * reading is a raw system call and nothing allocates, so there is
 * nothing to recurse into.
 */

#include <sys/syscall.h>
#include <sys/time.h>

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long	shift_s;		/* the offset, seconds */
#define SLOT_MS	10
static long	shift_read_at = -1;	/* monotonic slot it was read in */

static int
raw_clock(clockid_t clock, struct timespec *ts)
{
	return (syscall(SYS_clock_gettime, clock, ts));
}

/*
 * Threads race here only to read the file twice in one slot; each
 * word is written whole (relaxed atomics).
 */
static long
shift(void)
{
	struct timespec	 now;
	const char	*path;
	char		 buf[32], *end;
	ssize_t		 n;
	long		 v, slot;
	int		 fd;

	if (raw_clock(CLOCK_MONOTONIC_COARSE, &now) == -1)
		return (__atomic_load_n(&shift_s, __ATOMIC_RELAXED));
	slot = now.tv_sec * (1000 / SLOT_MS) + now.tv_nsec / (SLOT_MS * 1000000);
	if (__atomic_load_n(&shift_read_at, __ATOMIC_RELAXED) == slot)
		return (__atomic_load_n(&shift_s, __ATOMIC_RELAXED));
	__atomic_store_n(&shift_read_at, slot, __ATOMIC_RELAXED);
	if ((path = getenv("CLOCKSHIFT_FILE")) == NULL ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (__atomic_load_n(&shift_s, __ATOMIC_RELAXED));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		v = strtol(buf, &end, 10);
		if (end != buf)
			__atomic_store_n(&shift_s, v, __ATOMIC_RELAXED);
	}
	return (__atomic_load_n(&shift_s, __ATOMIC_RELAXED));
}

int
clock_gettime(clockid_t clock, struct timespec *ts)
{
	int	r;

	r = raw_clock(clock, ts);
	if (r == 0 && (clock == CLOCK_REALTIME ||
	    clock == CLOCK_REALTIME_COARSE))
		ts->tv_sec += shift();
	return (r);
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec	ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (-1);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return (0);
}

time_t
time(time_t *t)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return ((time_t)-1);
	if (t != NULL)
		*t = ts.tv_sec;
	return (ts.tv_sec);
}
