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

#include <stdint.h>

int64_t	ah_mono_ms(void);	/* CLOCK_MONOTONIC */
int64_t	ah_real_ms(void);	/* CLOCK_REALTIME: ms since the epoch */

#endif /* AHCLOCK_H */
