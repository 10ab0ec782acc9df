/* SPDX-License-Identifier: MPL-2.0 */
/*
 * lastgood.h - the configuration the relay runs on, and the copy it
 * keeps of the last one it accepted.
 */
#ifndef AH_LASTGOOD_H
#define AH_LASTGOOD_H

#include <stdint.h>

#include "parse.h"

enum conf_source {
	CONF_FILE,		/* the file, as last accepted */
	CONF_LAST_GOOD,		/* the copy: the file was rejected at start */
	CONF_NONE		/* neither: no service, nothing announced */
};

struct lastgood {
	enum conf_source source;	/* of the running configuration */
	int64_t		 accepted;	/* realtime ms it was; 0: none */
	char		 copy[AH_STATE_PATH_MAX + 16];	/* where it is kept */
	/* The last reading of the file if rejected; "" once accepted. */
	char		 error[512];	/* the first error: file:line:col: */
	unsigned int	 nerrors;
	int64_t		 rejected;	/* realtime ms */
	/* Why the copy was not written; "" if it was. */
	char		 warning[400];
};

/*
 * At start: the file if accepted (then copied), else the last good
 * copy, else conf_fallback()'s configuration without services; NULL
 * only without memory.  The file's errors are logged.
 */
struct relay_conf *lastgood_start(struct lastgood *, const char *path);
/* A reload accepted 'rc': it is copied; nothing rejected is left. */
void		 lastgood_accepted(struct lastgood *,
		    const struct relay_conf *);
/* A reload rejected the file: 'errors' is what it said, one a line. */
void		 lastgood_rejected(struct lastgood *, const char *errors);
/* "file", "last-good", "none": for anycastctl and the metrics. */
const char	*lastgood_source(const struct lastgood *);

#endif /* AH_LASTGOOD_H */
