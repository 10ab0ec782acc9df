/*
 * check.c - the checks a service is judged by (see check.h).
 */
#include <config.h>

#include "check.h"

/* As the checks are spelled in the configuration. */
const char *const check_names[CHK_COUNT] = {
	[CHK_SERVFAIL] = "servfail-ratio",
	[CHK_RECFAIL] = "recursion-failure-ratio",
	[CHK_LATENCY] = "recursion-latency",
	[CHK_ZONES] = "zones",
	[CHK_CANARY] = "canary",
};
