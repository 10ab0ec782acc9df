/*
 * handover.h - the routes of the relay this one replaces, taken over
 * rather than withdrawn ('anycastctl restart'; doc/cli.md).
 *
 * The note is written by anycastctl and read by the relay: its path,
 * its first record and how long it is believed are defined here for
 * both.
 */
#ifndef AH_HANDOVER_H
#define AH_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

/* Beside the control socket: "/run/anycast-health/relay.sock.handover". */
#define HANDOVER_SUFFIX		".handover"
#define HANDOVER_VERSION	1
/* Believed this long after it was written (realtime ms), and once. */
#define HANDOVER_FRESH_MS	10000

struct relay;

/*
 * At start, once state_load() has restored the drains: the services the
 * note says were announced, depreferred or kept go on so (the commands
 * re-sent, the judge where the predecessor left it); the others stay
 * withdrawn.  The note is removed whatever it says; one that is stale,
 * from another ExaBGP or malformed is logged and taken over from not
 * at all.  'now' is monotonic ms.
 */
void	handover_read(struct relay *, int64_t now);
/*
 * 1 while service i keeps the routes it took over only because this
 * relay's feed has not come up yet: the plugin's hello due, no
 * snapshot yet, or its view not yet seen active; never longer than
 * FEED_HELLO_MS and stale-after from the start.  0 once named is found
 * gone or refusing, or a verdict of its own is due (health.c).
 */
int	handover_waiting(const struct relay *, size_t i, int64_t now);

#endif /* AH_HANDOVER_H */
