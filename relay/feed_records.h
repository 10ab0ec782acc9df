/*
 * feed_records.h - what feed.c asks of feed_records.c: each line of the
 * plugin's feed taken, and the staleness its hello sets.
 */
#ifndef AH_FEED_RECORDS_H
#define AH_FEED_RECORDS_H

#include <stddef.h>
#include <stdint.h>

struct feed;

/*
 * One line from the plugin: 1 when a snapshot completed (its tick, or
 * the hello), 0 otherwise, -1 and why when the connection must close.
 */
int	feed_record(struct feed *, const char *, size_t, int64_t now, char *,
	    size_t);
/* stale-after from the configuration and the plugin's interval. */
void	feed_set_stale(struct feed *);

#endif /* AH_FEED_RECORDS_H */
