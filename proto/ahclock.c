/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahclock.c - the clocks in milliseconds (see ahclock.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
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

size_t
ah_times_within(const char *list, int64_t now, int64_t window, int64_t *out,
    size_t max)
{
	const char	*p = list;
	char		*end;
	int64_t		 v;
	size_t		 n = 0;

	while (max > 0 && *p != '\0') {
		v = strtoll(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0'))
			break;
		if (v <= now && now - v < window) {
			if (n == max) {
				memmove(out, out + 1, (n - 1) * sizeof(out[0]));
				n--;
			}
			out[n++] = v;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return (n);
}
