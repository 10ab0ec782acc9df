/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahwire.c - the vocabulary of the plugin's snapshots (see ahwire.h).
 */
#include <config.h>

#include "ahwire.h"

const unsigned int ah_lat_bounds[AH_LAT_BUCKETS - 1] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000
};

const char *const ah_source_names[AH_SRC_COUNT] = {
	[AH_SRC_AUTH] = "auth",
	[AH_SRC_CACHE] = "cache",
	[AH_SRC_RECURSION] = "recursion"
};

const char *const ah_rcode_names[AH_RC_COUNT] = {
	[AH_RC_NOERROR] = "noerror",
	[AH_RC_NXDOMAIN] = "nxdomain",
	[AH_RC_SERVFAIL] = "servfail",
	[AH_RC_REFUSED] = "refused",
	[AH_RC_OTHER] = "other"
};

const char *const ah_recursion_names[AH_REC_COUNT] = {
	[AH_REC_STARTED] = "started",
	[AH_REC_SUCCESS] = "success",
	[AH_REC_FAILURE] = "failure",
	[AH_REC_TIMEOUT] = "timeout",
	[AH_REC_CANCELED] = "canceled",
	[AH_REC_QUOTA] = "quota"
};

const char *const ah_dom_names[AH_DOM_COUNT] = {
	[AH_DOM_FAIL] = "fail",
	[AH_DOM_RSTART] = "rstart",
	[AH_DOM_RDONE] = "rdone",
	[AH_DOM_ROK] = "rok",
	[AH_DOM_RBAD] = "rbad",
	[AH_DOM_RTMO] = "rtmo",
	[AH_DOM_RVAL] = "rval"
};

/* In words, as the relay's reasons name them. */
const char *const ah_level_names[AH_LVL_COUNT] = {
	[AH_LVL_DOMAIN] = "domain",
	[AH_LVL_SUFFIX] = "public-suffix"
};

/* The record types of each level: its counters, its sample names. */
const char *const ah_level_counts[AH_LVL_COUNT] = {
	[AH_LVL_DOMAIN] = "domains",
	[AH_LVL_SUFFIX] = "suffixes"
};

const char *const ah_level_samples[AH_LVL_COUNT] = {
	[AH_LVL_DOMAIN] = "domain",
	[AH_LVL_SUFFIX] = "suffix"
};
