/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahclock.c - the clocks in milliseconds (see ahclock.h).
 */
#include <config.h>

#include <time.h>

#include "ahclock.h"

static int64_t
ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
ah_mono_ms(void)
{
	return (ms(CLOCK_MONOTONIC));
}

int64_t
ah_real_ms(void)
{
	return (ms(CLOCK_REALTIME));
}
