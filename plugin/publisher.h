/*
 * publisher.h - the process-wide side of the plugin: per-view counters
 * that outlive plugin instances, and the thread that publishes them on
 * the Unix socket.
 *
 * named registers one plugin instance per view, and on every reconfig
 * registers the new instances before destroying the old ones.  The
 * counters and the socket therefore belong to the loaded module, not
 * to an instance: a reconfig must neither reset a counter nor drop a
 * subscriber.  Nothing here includes BIND headers, so the publisher
 * thread cannot touch a BIND object by accident.
 */
#ifndef AH_PUBLISHER_H
#define AH_PUBLISHER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* Counters per view.  Order matches ah_counter_names[]. */
enum ah_counter {
	AH_C_QUERIES,
	AH_C_NOERROR,
	AH_C_NXDOMAIN,
	AH_C_SERVFAIL,
	AH_C_REFUSED,
	AH_C_OTHER,
	AH_C_DROPPED,
	AH_C_COUNT
};

#define AH_VIEWS_MAX	 64
#define AH_VIEWNAME_MAX	 256

struct ah_view {
	/* Written by query threads with relaxed atomic adds only. */
	atomic_uint_fast64_t	c[AH_C_COUNT];
	/* Guarded by the publisher's lock; name is set once. */
	char			name[AH_VIEWNAME_MAX];
	unsigned int		refs;
};

struct ah_pub_params {
	char		path[108];	/* sizeof(sun_path) */
	unsigned int	interval_ms;
	mode_t		mode;
	gid_t		gid;		/* (gid_t)-1: leave the group */
	char		named_version[64];
};

/*
 * Attach an instance for view 'name'.  The first attach creates the
 * socket and starts the thread with 'p'; later ones must agree with
 * the running publisher.  Returns 0, or -1 with a message in 'err'.
 */
int	ah_pub_attach(const struct ah_pub_params *p, const char *name,
		      struct ah_view **vp, char *err, size_t errlen);
/* The last detach says goodbye, stops the thread and removes the socket. */
void	ah_pub_detach(struct ah_view *);

static inline void
ah_count(struct ah_view *v, enum ah_counter c)
{
	atomic_fetch_add_explicit(&v->c[c], 1, memory_order_relaxed);
}

#endif /* AH_PUBLISHER_H */
