/* SPDX-License-Identifier: MPL-2.0 */
/*
 * handover.h - the routes of the relay this one replaces, taken over
 * rather than withdrawn: one stopped by 'anycastctl restart', or one
 * that died and that ExaBGP respawned (doc/cli.md, 2.6 and 2.7).
 *
 * Two notes beside the control socket, of one format: anycastctl
 * writes the first and the relay reads it; the relay writes the second
 * and its successor reads it.  Their paths, their first record and how
 * long the first is believed are defined here for both programs.
 */
#ifndef AH_HANDOVER_H
#define AH_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

/* Beside the control socket: "/run/anycast-health/relay.sock.handover". */
#define HANDOVER_SUFFIX		".handover"
/* The relay's own: "/run/anycast-health/relay.sock.routes". */
#define ROUTES_SUFFIX		".routes"
#define HANDOVER_VERSION	1
/* anycastctl's is believed this long after it was written, and once. */
#define HANDOVER_FRESH_MS	10000
/*
 * ExaBGP 4.2 stops, dropping every BGP session of the node, when it
 * starts a process for the sixth time within 64 seconds: the relays
 * keep the starts under one ExaBGP (the notes carry them, 'spawns'),
 * and anycastctl restart will not make the sixth.
 */
#define SPAWN_WINDOW_MS		64000
#define SPAWN_LIMIT		5
#define SPAWNS_MAX		8

struct relay;

/*
 * At start, once state_load() has restored the drains: the services a
 * note says were announced, depreferred or kept go on so (the commands
 * re-sent, the judge where the predecessor left it); the others stay
 * withdrawn.  anycastctl's note, if there is one, decides, and is
 * removed whatever it says; else the note the dead predecessor kept.
 * One that is not to be believed is logged and taken over from not at
 * all.  Then this relay writes its own note, and keeps it from then on
 * (route_on_change()).  'now' is monotonic ms.
 */
void	handover_read(struct relay *, int64_t now);
/*
 * The relay's note, rewritten whole: every service's route mode, for
 * the relay ExaBGP respawns should this one die.  Called by route.c
 * before each change reaches ExaBGP, and after a reload.  A note that
 * cannot be written is removed, and that logged: a successor then
 * withdraws first rather than believe an old one.
 */
void	handover_save(void *relay);
/*
 * The starts of relays under this ExaBGP within SPAWN_WINDOW_MS, as far
 * as the notes tell, this one's last: "T1,T2" (realtime ms).
 */
void	handover_spawns(const struct relay *, char *, size_t);
/* At a clean exit: the relay withdraws, or ExaBGP is gone. */
void	handover_forget(const struct relay *);
/*
 * 1 while service i keeps the routes it took over only because this
 * relay's feed has not come up yet: the plugin's hello due, no
 * snapshot yet, or its view not yet seen active; never longer than
 * FEED_HELLO_MS and stale-after from the start.  0 once named is found
 * gone or refusing, or a verdict of its own is due (health.c).
 */
int	handover_waiting(const struct relay *, size_t i, int64_t now);

#endif /* AH_HANDOVER_H */
