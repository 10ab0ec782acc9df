/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sessions.h - ExaBGP's neighbors and their BGP sessions, as ExaBGP
 * reports them: a 'neighbor-changes' line when one changes, and its
 * answer to 'show neighbor extensive', which exabgp.c asks for at
 * start-up, every ASK_EVERY_MS, and when a session comes up.
 */
#ifndef AH_SESSIONS_H
#define AH_SESSIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct relay_conf;

/* The unicast families a session carries, as a set. */
#define FAM_IPV4	0x1
#define FAM_IPV6	0x2

struct bgp_session {
	char		 peer[64];	/* as ExaBGP spells it */
	char		 state[16];	/* connected, up, down */
	char		 reason[128];	/* why it went down */
	int64_t		 since;		/* realtime ms */
	unsigned int	 families;	/* configured in ExaBGP; 0: not known */
	unsigned int	 agreed;	/* ... and agreed in the OPENs */
	int		 agreed_known;	/* 'agreed' is of this session */
	uint32_t	 local_as;	/* ExaBGP's; 0: not known */
	uint32_t	 peer_as;	/* the peer's; 0: not known */
};

/*
 * What one line from ExaBGP says (exabgp_said()): an answer to a
 * command, 'shutdown', a session's change (NEIGHBOR), or a line of the
 * answer to 'show neighbor extensive': a neighbor's first line (PEER),
 * its FSM state, how long it has been up, its AS numbers, a family it
 * has.
 */
enum exabgp_said { SAID_DONE, SAID_ERROR, SAID_SHUTDOWN, SAID_NEIGHBOR,
	SAID_PEER, SAID_PEER_STATE, SAID_PEER_UP, SAID_PEER_AS,
	SAID_PEER_FAMILY, SAID_OTHER };

struct said {
	char		 peer[64];	/* NEIGHBOR, PEER */
	/* NEIGHBOR: up, down or connected; PEER_STATE: ESTABLISHED, ... */
	char		 state[16];
	char		 reason[128];	/* NEIGHBOR: why it went down */
	int64_t		 up_ms;		/* PEER_UP */
	unsigned int	 family;	/* PEER_FAMILY: FAM_IPV4 or FAM_IPV6 */
	int		 agreed;	/* ... with the peer: 1, 0; -1: n/a */
	uint32_t	 local_as;	/* PEER_AS: ExaBGP's */
	uint32_t	 peer_as;	/* ... the peer's; 0: not known */
};

void	sessions_event(const struct said *);
/* The answer's lines, in order, then its end: complete, or 'error'. */
void	sessions_answer(enum exabgp_said, const struct said *);
void	sessions_answered(int complete);

const struct bgp_session *sessions_list(size_t *);
/* Realtime ms of ExaBGP's last complete answer; 0: none yet. */
int64_t	sessions_listed(void);
/* 1: ExaBGP has this neighbor; 0: it has not; -1: not known. */
int	sessions_has(const char *peer);
/* "127.0.0.1, ::1": ExaBGP's neighbors, for messages. */
void	sessions_names(char *, size_t);
/*
 * Whether a session that is up carries 'family' (FAM_*, or 0 for any)
 * to 'neighbor' ("" for every neighbor), with the AS_PATH 'path' (none
 * if 'npath' is 0): 1, or 0 with why not in 'why', "sent, session
 * down: ..." or "sent, but ...".  *since is when that became so
 * (realtime ms; 0 if not known).
 */
int	sessions_carry(const char *neighbor, unsigned int family,
	    const uint32_t *path, size_t npath, int64_t *since, char *why,
	    size_t len);

/* What a session's peer does with an AS_PATH (sessions_path_fate()). */
enum path_fate { PATH_TAKEN, PATH_FIRST, PATH_LOOP };

#define AH_PATH_TEXT	192	/* "[4294967295 ...]", 16 of them */

/* An AS_PATH as ExaBGP writes and reads it: "[65053 65000]". */
void	sessions_path_text(const uint32_t *path, size_t npath, char *buf,
	    size_t len);

enum path_fate sessions_path_fate(const struct bgp_session *,
	    const uint32_t *path, size_t npath, uint32_t *asn);
/* Changes at the end of an answer that told AS numbers new to the relay. */
unsigned int sessions_as_gen(void);
/*
 * Each neighbor of 'rc' that ExaBGP does not have, and each depref
 * as-path a peer drops as a loop, as one line "FILE:LINE:COLUMN:
 * message" on 'out'; how many, but for those the configuration running
 * ('was') already has, only said ("warning: "), as is a path that does
 * not start with ExaBGP's AS.  0 while ExaBGP has not said which
 * neighbors it has, or has more than the table holds.
 */
size_t	sessions_check(const struct relay_conf *,
	    const struct relay_conf *was, FILE *out);
/* ExaBGP has said which neighbors it has, all of them in the table. */
int	sessions_known(void);
/*
 * The as-path lines of sessions_check() for the configuration running,
 * all warnings; none while the sessions are not known.
 */
void	sessions_paths(const struct relay_conf *, FILE *out);

#endif /* AH_SESSIONS_H */
