/* SPDX-License-Identifier: MPL-2.0 */
/*
 * publisher.h - the process-wide side of the plugin: the views' state
 * (view.h), which outlives plugin instances, and the thread that
 * publishes it on the Unix socket.
 *
 * named registers one plugin instance per view, and on every reconfig
 * registers the new instances before destroying the old ones.  The
 * counters and the socket therefore belong to the loaded module, not
 * to an instance: a reconfig must neither reset a counter nor drop a
 * subscriber.  Nothing here includes BIND headers: the only BIND
 * objects the publisher thread touches are the zone tables handed to
 * it, through the callbacks of struct ah_walker, and the thread
 * prepares for them with the 'enter' and 'leave' callbacks of struct
 * ah_pub_params (see zones.c and bindcompat.h).
 */
#ifndef AH_PUBLISHER_H
#define AH_PUBLISHER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "view.h"

/*
 * A view's zone walk, off the query path.  Once per zone-interval one
 * query thread takes a reference to its view's zone table (O(1): an
 * atomic increment) and hands it over in 'pending'; the publisher
 * thread walks it with 'walk' and drops it with 'release'.  A newer
 * table handed over before the publisher took the older one replaces
 * it, and the query thread drops the older one.  A walk holds no lock
 * that registering or destroying another instance takes; removing a
 * walker waits for its own walk in progress, so no reference outlives
 * the plugin instance.
 */
struct ah_walker {
	_Atomic(void *) pending;
	struct ah_view *view;
	void *arg;
	void (*walk)(void *table, void *arg, struct ah_view *);
	void (*release)(void *table);
	/* The publisher's, under its lock. */
	struct ah_walker *next;
	uint64_t turn; /* the last turn it was walked in */
};

struct ah_pub_params {
	char path[108]; /* sizeof(sun_path) */
	/*
	 * The file of the plugin statement (named.conf, or a file it
	 * includes): named opens it when a reconfig or reload begins.
	 * "" or relative: not watched.
	 */
	char conf_file[PATH_MAX];
	unsigned int interval_ms;
	unsigned int zone_interval_ms;
	mode_t mode;
	gid_t gid; /* (gid_t)-1: leave the group */
	char named_version[64];
	/*
	 * Run on the publisher thread, 'enter' before its first walk and
	 * 'leave' after its last: BIND 9.20 reads zone tables under RCU,
	 * which a thread must join first.
	 */
	void (*enter)(void);
	void (*leave)(void);
};

/*
 * What one instance asked of the running publisher: its intervals and
 * the socket's mode and group.  The instance keeps it, from attach to
 * detach; the publisher's, under its lock.
 */
struct ah_pub_asked {
	uint64_t gen; /* the order of attaching */
	unsigned int interval_ms;
	unsigned int zone_interval_ms;
	mode_t mode; /* what named may give the socket of what it asked */
	gid_t gid;
	struct ah_pub_asked *next;
};

/*
 * Attach an instance for view 'name'.  The first attach creates the
 * socket and starts the thread with 'p'; later ones must agree with
 * the running publisher on the path, and are a reconfig under way:
 * named registers new instances inside the pause of its worker
 * threads, which the snapshots then say (the tick's 'reconfig').
 *
 * What else 'p' asks (the intervals, the socket's mode and group) takes
 * effect once every instance attached before it has detached: that is,
 * when named has committed the configuration that registered it.  A
 * reconfig named rejects detaches its new instances instead, and
 * changes nothing.  A mode or group named may not give the socket
 * (not its owner, not in the group) is not taken, the reconfig's other
 * changes are: then the return is 1, with why in 'err'.  Returns 0, or
 * -1 with a message in 'err'.
 */
int
ah_pub_attach(const struct ah_pub_params *p, const char *name,
	      struct ah_pub_asked *asked, struct ah_view **vp, char *err,
	      size_t errlen);
/* Walks for an attached view; remove before detaching the view. */
void
ah_pub_walker_add(struct ah_walker *);
void
ah_pub_walker_remove(struct ah_walker *);
/* The last detach says goodbye, stops the thread and removes the socket. */
void
ah_pub_detach(struct ah_view *, struct ah_pub_asked *);

#endif /* AH_PUBLISHER_H */
