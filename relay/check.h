/*
 * check.h - the checks a service is judged by.
 */
#ifndef AH_CHECK_H
#define AH_CHECK_H

#include <stdint.h>

enum check_id {
	CHK_SERVFAIL, CHK_RECFAIL, CHK_LATENCY, CHK_ZONES, CHK_CANARY,
	CHK_COUNT
};

/*
 * A check's latest figures, for 'show checks' and metrics; the words
 * are in why[].  'value' and 'limit' are in the check's unit: a ratio
 * (0..1), milliseconds, or a count of unhealthy zones.
 */
struct check_value {
	int		 have;
	double		 value;
	double		 limit;
	uint64_t	 samples;	/* what the value was taken over */
	int64_t		 span_ms;	/* ... and over how long; 0: now */
};

/* As the checks are spelled in the configuration. */
extern const char *const check_names[CHK_COUNT];

#endif /* AH_CHECK_H */
