/* SPDX-License-Identifier: MPL-2.0 */
/*
 * snapshot.h - a snapshot of the views, encoded (doc/protocol.md,
 * section 2): every attached view's records, then the 'tick' that
 * closes them, built whole in memory before publisher.c queues it for
 * any subscriber.  Used on the publisher thread only, under the
 * publisher's lock.
 */
#ifndef AH_SNAPSHOT_H
#define AH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahwire.h"
#include "view.h"

struct ah_snapshot {
	/* The latest snapshot, 'len' bytes of lines. */
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory while building */
	/*
	 * A hash of each sample name as last published, per view slot,
	 * level and bucket (0: none): 16 KiB where the names would be
	 * 256 KiB.
	 */
	uint64_t told[AH_VIEWS_MAX][AH_LVL_COUNT][AH_DOM_BUCKETS];
};

/*
 * Snapshot 'seq' of the views in 'views' that have instances attached,
 * its tick stamped 'time' (realtime ms) and, unless it is -1,
 * 'reconfig': the ms since named last began a reconfig.  A periodic snapshot
 * carries the sample names that changed since the last one; a 'fresh' one, for
 * a new subscriber, carries them all and leaves 'told' alone.  Returns
 * 0, or -1 if memory ran out: then nothing is to be sent.
 */
int
ah_snapshot_build(struct ah_snapshot *sc, struct ah_view views[AH_VIEWS_MAX],
		  uint64_t seq, bool fresh, int64_t time, int64_t reconfig);

/* Frees the buffer; what was told stays. */
void
ah_snapshot_free(struct ah_snapshot *sc);

#endif /* AH_SNAPSHOT_H */
