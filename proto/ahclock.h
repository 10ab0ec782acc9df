/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahclock.h - the two clocks of anycast-health, in milliseconds.
 *
 * Monotonic time for every interval, deadline and timeout, so that a
 * step of the wall clock (NTP, a VM resumed) never fires or holds one;
 * realtime only for what a person or another process reads as a date:
 * 'since' and 'at' in replies, the state file, logs.
 */
#ifndef AHCLOCK_H
#define AHCLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t	ah_mono_ms(void);	/* CLOCK_MONOTONIC */
int64_t	ah_real_ms(void);	/* CLOCK_REALTIME: ms since the epoch */
/*
 * A list of realtime ms, "T1,T2,...", oldest first (the relays' starts,
 * relay/handover.h): the times in (now - window, now], the newest 'max'
 * of them into 'out' in their order; returns how many.  The list ends at
 * the first thing that is not such a time.
 */
size_t	ah_times_within(const char *, int64_t now, int64_t window,
	    int64_t *out, size_t max);

#endif /* AHCLOCK_H */
