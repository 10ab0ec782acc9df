/* SPDX-License-Identifier: MPL-2.0 */
/*
 * metrics.h - the relay's state as a Prometheus text exposition, for
 * 'anycastctl metrics' and for the HTTP endpoint (http.h).
 */
#ifndef AH_METRICS_H
#define AH_METRICS_H

#include <stddef.h>

struct relay;

struct buf {
	char		*p;
	size_t		 len, cap;
	int		 bad;		/* out of memory: sticky */
};
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_free(struct buf *);
/* The Prometheus text exposition of everything the relay knows. */
void	metrics_render(struct relay *, struct buf *);

#endif /* AH_METRICS_H */
