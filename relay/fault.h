/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fault.h - the shared-fault rule: whose fault a failing check is, the
 * node's or the world's, from where in the name space its failures sit
 * while other names resolve.  A pure function of a service's window
 * (policy.h), like the rest of the judge's arithmetic, tested with it
 * in tests/unit/test_policy.c.
 */
#ifndef AH_FAULT_H
#define AH_FAULT_H

#include <stdint.h>

#include "ahwire.h"
#include "policy.h"

/*
 * Is a failing check this node's fault, or the world's?  The plugin
 * groups the names behind failures and recursions at two levels, by
 * registrable domain and by public suffix (ahwire.h).  The question is
 * relative to the node's own past: does it still resolve as well as it
 * usually does?  A resolver's recursions are not all meant to succeed:
 * a background of broken, lame and slow domains fails a share of them
 * every day, on some nodes half.  So the judge keeps, per service, a
 * slow baseline of how the recursions of each group usually end
 * (struct fault_base, updated on the evaluations that find the node
 * healthy, kept in memory only), and asks at each level:
 *
 * 1. Leaving out the h groups with the most failures of the check's
 *    kind (h = 0, 1, ... up to 'max_groups'), do the others resolve
 *    as usual?  Their recursions' successes, over spans grown back
 *    from the newest snapshot until they hold FAULT_MIN_ELSE outcomes
 *    and on until FAULT_MIN_RES (within the window), must on every
 *    span be at least 'share' of the usual rate, or not be so far
 *    below it that a node resolving as usual would fall there once in
 *    1/FAULT_P.  Every span is asked, the shortest first, so a node
 *    whose uplink has just gone is not excused by what resolved before.
 *    Concentrated: at most 'max_groups' groups, those failing most
 *    beyond their share of the usual recursions (of the usual
 *    failures, for latency's overdue), hold FAULT_CONC_HELD of the
 *    failures at FAULT_CONC_LIFT times the rest's rate or more
 *    (by count alone, a node failing everywhere fails most in its
 *    largest groups, .com's half of a resolver), and, for failures,
 *    more than chance would put in the groups failing most of a node
 *    failing everywhere (FAULT_CONC_P: its first failures fall
 *    unevenly).  Failures spread, but beside groups gone silent
 *    (nothing back from their recursions while the others' finish,
 *    beyond FAULT_SILENT_P): concentrated in those.
 *    Beside failures concentrated in the groups left out, the others
 *    are judged on their finished recursions alone, over spans of
 *    FAULT_CONC_MS or more: names elsewhere
 *    wait on the failing ones' servers (every domain under .com or .de
 *    whose name servers are named under a dead .nl waits with .nl), so
 *    their unanswered say nothing of the node, and when named gives up
 *    on them (10 s after they began) they fail together, a burst that
 *    a short span would take for the node; a clock or trust anchor
 *    gone wrong fails finished ones, and a node that stopped hearing
 *    back or answers late is 'stopped' or slower than usual below.
 *    Beside concentrated failures under load (named shedding
 *    recursions in the window, or twice its usual queries or
 *    recursions started a second over a span of grace_ms or more), a
 *    shortfall elsewhere down to FAULT_LOAD_SHARE of the usual does
 *    not count against the node (fault_level's 'load'): an attack's
 *    victim keeps named busy, and moving the node moves the attack.
 *    A quarter, not half: 1.2 s into the catalogue's attack, named
 *    finished 34 of the other names' recursions in 2.1 s, 35 % of
 *    them resolved where 75 % was usual (0.47), and the node moved;
 *    an uplink gone under an attack resolves next to none.
 * 2. h = 0 passes: the whole node resolves as usual, and the breach is
 *    its usual background (FAULT_USUAL).  A larger h passes: the
 *    failures are in those groups, the world's (FAULT_EXTERNAL).  None
 *    passes: this node's (FAULT_NO_RESOLUTION).  Fewer than
 *    FAULT_MIN_ELSE outcomes elsewhere within the window, some of them
 *    successes: nobody can tell yet (FAULT_UNSURE), and the check is not
 *    held against the node; none at all: this node's.
 * 3. None passes, every failure counted: from a plugin that counts the
 *    failures' causes (rtmo, rval) and once a usual is learnt, the same
 *    again with what the servers gave (neither a timeout nor validation:
 *    lame, refusing, failing or unreachable servers) left out of the
 *    others' recursions and of their usual rate.  A dead TLD's servers,
 *    marked unreachable once named gives up on them (10 s on), fail at
 *    once every name they serve, in every group, as a provider's failing
 *    servers do, and no node resolves those better: passing so is the
 *    world's (FAULT_EXTERNAL, 'servers').  A node whose route is gone
 *    fails every name so, at once, and is 'stopped' (below); a clock or
 *    trust anchor wrong fails validation, an uplink gone or lossy times
 *    out: those stay the node's.  Timeouts too are left out while the
 *    servers' failures over the window are FAULT_CONC_LIFT times their
 *    usual and FAULT_MIN_BAD more (SRV_SILENT): a TLD dead for a minute
 *    alternates, named marking its servers unreachable and failing
 *    their names at once, then trying them again, and the names
 *    waiting on them, in every group, time out together 10 s later.
 *    Without such servers, timeouts everywhere are the node's; beside
 *    them, only a collapse of the fast answers (the slow rule below)
 *    or a route gone ('stopped', over 2 s) is: a lossy uplink during
 *    such an outage is taken for the world's (doc/fleet.md).  A
 *    level excusing by its groups decides before one excusing by the
 *    servers.
 *
 * Whatever a level says, a node that stopped hearing back is this
 * node's at once: its recursions that ended with an answer (success or
 * failure, not a timeout; from a plugin that counts the causes, success
 * or validation's failure: what the servers gave includes servers named
 * could not reach, all a node whose route is gone gets) over the newest
 * spans under FAULT_STOPPED of
 * what their usual rate a second expects, and so few that chance
 * cannot explain it (FAULT_P).  Its uplink gone, it hears nothing; a
 * broken TLD still answers, bogus.  Real answers come in bursts (an
 * attack starving recursive-clients, cache expiry waves): only a
 * collapse is taken for one, and none while named sheds recursions for
 * its recursive-clients quota anywhere in the window (load, doc/fleet.md
 * section 2: named that shed until a second ago may still answer
 * nothing for half a second).  That
 * needs no unanswered-after, and no groups: a thin rest of other names
 * cannot excuse an uplink that has just gone.  Beside a fault of the
 * world's far beyond the usual (a level excusing failures as for the
 * slow rule below, or servers that failed, and timeouts, far beyond
 * their usual before the newest FAULT_BESIDE_MS), only over
 * that span or
 * more: a TLD dead for a minute makes its waiting names take the place
 * of others, a fifth of the usual succeeds, and named answered two
 * recursions in 0.6 s where 43 were usual.  Before a baseline exists,
 * the rates over the window stand for the usual ones.
 *
 * A node slower than usual is this node's too, though its names resolve:
 * every round trip of its uplink delayed, or lost and sent again.  For
 * latency, its recursions answered within a bound (FAULT_SLOW_MS, or two
 * buckets above the usual median when that is slower) over the newest
 * spans, against what its usual would have given, as for 'stopped':
 * under FAULT_SLOW_SHARE of it, beyond chance (FAULT_P), or, counted
 * against the recursions started (each as likely to be fast as usual;
 * in lots of FAULT_SLOW_LOT, for names wait on one another), under
 * FAULT_SLOW_OF of it beyond chance (a lossy uplink's first 0.8 s, 60 %
 * of the usual fast answers, before named's retries come in); beside
 * a fault of the world's (a level excusing failures FAULT_CONC_LIFT
 * times what those groups, or the servers, usually fail, and
 * FAULT_MIN_BAD more: not the background's broken domains), under
 * FAULT_SLOW_COLLAPSE of it, as a Poisson count only.  A TLD dead for
 * a minute makes names wait in every group, wave after wave (named
 * tries its servers again every ten seconds or so, and
 * the domains hosted under it wait the full 10 s each time), while the
 * clients asking again take the place of other names: the fast answers
 * fell to a third of the usual, as a lossy uplink's do, and both nodes
 * moved.  A delayed uplink or one gone brings next to none.  Beside
 * such a fault (or servers failing, and timeouts, far beyond their
 * usual: 'stopped''s case), the collapse must last FAULT_BESIDE_MS, as
 * for 'stopped': amid a wave of timeouts, 52 s into a dead TLD, named
 * answered one recursion within the bound in 0.5 s where 17 were
 * usual.  A node down for it (fault_conf's 'hold') stays slow under
 * FAULT_HOLD_LIFT times the share, beyond FAULT_HOLD_P, over spans
 * expecting twice the answers: a lossy uplink's fast answers hover
 * about half the usual, and judged as on the way down it came back up
 * and down again within 0.4 s.  The usual:
 * fast answers per recursion started, times the recursions started in
 * each group, each capped a little above the group's usual rate (a surge
 * of one group's names brings no fast answers, and fewer clients fewer),
 * every group but those gone silent (a dead TLD's, flushed and started
 * again at five times its rate): the fast answers are the whole node's,
 * so a group left out that still answers fast would count on one side
 * only, and a slow domain or the CDN is a small share of the recursions;
 * the least of the levels.  A count, not a share: the tail of an outage
 * brings its late answers all at once, beside the usual fast ones.  The
 * p95 cannot say it: a resolver's tail is its broken domains' timeouts
 * every day.  Not under load (named shedding recursions anywhere in the
 * window, or twice its usual queries or recursions started a second: an
 * attack's fresh names stall named's answers for all): a saturated node
 * answers late, and moving it moves its load; nor is load learnt as the
 * usual.  A node whose bound would be above FAULT_SLOW_MAX_MS (its usual
 * median over 100 ms) is not judged so.
 *
 * A node failing far beyond its usual everywhere is this node's, though
 * the recursion check's ratio stays within its limit (fault_worse()):
 * every level FAULT_NO_RESOLUTION, its failures concentrated nowhere,
 * and not under load.  check.c asks only when the ratio is at half its
 * limit or more and failures that finished are most of it: a clock a
 * day behind fails the fresh names it must validate while the cache
 * answers the rest, and sat at the operator's limit for seconds; a
 * pause of named or a provider's outage leave recursions unanswered,
 * which the limit keeps for the operator.
 *
 * A step of named's wall clock moves what validation accepts: a day
 * back, every signature made since yesterday is not yet valid; forward,
 * those expiring before the new time have expired.  The cache answers
 * what it validated before, and only the fresh names of signed domains
 * fail: in the lab, for the first second, a bogus popular.com (half the
 * failures, at three times the rest's rate), judged as concentrated,
 * the others' resolution over FAULT_CONC_MS reaching back before the
 * step (0.5-2.0 s to decide, doc/benchmarks.md).  Within the window
 * after a step of FAULT_STEP_MS or more (signers date signatures an hour
 * back, dnssec-signzone's and dnssec-policy's default, so a smaller step
 * back fails no good signature), recursions failing validation since
 * it, FAULT_STEP_BAD or more in FAULT_STEP_GROUPS domain groups or
 * more (each FAULT_CONC_LIFT times its usual), beyond what the usual
 * would give by chance (FAULT_STEP_P: asked for the window after a step
 * of an hour, a few times a year, where FAULT_P serves rules asked every
 * snapshot, all day), are this node's (fault_stepped()):
 * validation failing in several domains at once, just after the clock
 * moved, is the clock.  The usual is each group's usual share of its
 * recursions, of those that ended since the step: a forward step
 * expires the cache and the recursions surge, the background's bogus
 * domains with them (and a host resumed from suspend shows as one: the
 * monotonic clock stops while suspended).  Needs a usual learnt
 * (FAULT_BASE_MIN).  Later in the window, and without a step, the
 * rules above decide as before.
 *
 * Before a baseline exists (FAULT_BASE_MIN outcomes since the relay
 * started), the usual rate is taken to be FAULT_FRESH_OK: only a
 * collapse (a node that resolves almost nothing: its uplink gone, its
 * clock or trust anchor wrong) is this node's.  For latency, the
 * recursions overdue now must also be concentrated (else FAULT_SPREAD:
 * a slow uplink delays every group); concentrated, or none overdue, the
 * rest's question is the recursion check's, at every level (overdue
 * is a count, and a large group's quick answers may hide it at one
 * level).  A fault is external when either level finds it so;
 * SERVFAIL answered from the node's own zones never is.  doc/fleet.md
 * explains the rule and where it fails.
 */
#define FAULT_MIN_BAD	20
#define FAULT_MIN_ELSE	20
#define FAULT_MIN_RES	200
#define FAULT_CONC_MS	2000
#define FAULT_P		1e-6
#define FAULT_FRESH_OK	0.3
#define FAULT_STOPPED	0.05
#define FAULT_BESIDE_MS	2000
#define FAULT_BASE_MIN	300
#define FAULT_BASE_TAU_MS 60000
#define FAULT_SLOW_MS	100
#define FAULT_SLOW_MAX_MS 500
#define FAULT_SLOW_SHARE 0.5
#define FAULT_SLOW_OF	0.7
#define FAULT_SLOW_LOT	3
#define FAULT_SLOW_COLLAPSE 0.15
#define FAULT_HOLD_LIFT	1.5
#define FAULT_HOLD_P	1e-3
#define FAULT_LOAD_SHARE 0.25
#define FAULT_CONC_HELD	0.5
#define FAULT_CONC_LIFT	3.0
#define FAULT_CONC_FLOOR 0.05
#define FAULT_CONC_P	1e-4
#define FAULT_SILENT_P	1e-3
#define FAULT_STEP_MS	3600000
#define FAULT_STEP_BAD	10
#define FAULT_STEP_GROUPS 3
#define FAULT_STEP_P	1e-4

/*
 * How a node's recursions usually end, per level and group: sums of
 * their outcomes (successes; successes, failures and unanswered), each
 * snapshot's added to the old ones decayed with FAULT_BASE_TAU_MS.
 */
struct fault_base {
	double		ok[AH_LVL_COUNT][DOM_BUCKETS];
	double		n[AH_LVL_COUNT][DOM_BUCKETS];
	double		st[AH_LVL_COUNT][DOM_BUCKETS];	/* started */
	/* Of n, what the servers gave: servers_failed(). */
	double		srv[AH_LVL_COUNT][DOM_BUCKETS];
	/* ... and of n, the timeouts */
	double		tmo[AH_LVL_COUNT][DOM_BUCKETS];
	/* ... and of n, validation's failures (AH_DOM_RVAL) */
	double		val[AH_LVL_COUNT][DOM_BUCKETS];
	/*
	 * The whole node's recursions that ended with an answer (success
	 * or failure, not a timeout), and those started, over 'secs'.
	 */
	double		answered, started, secs;
	/* Recursions finished within each latency bound (cumulative). */
	double		lat[LAT_BUCKETS];
	double		queries;	/* over 'secs' */
	int64_t		t;		/* the last sample taken in; 0: none */
};

struct fault_conf {
	unsigned int	max_groups;	/* 0: never excuse */
	double		share;
	int64_t		window_ms;	/* evidence grows to this */
	int64_t		grace_ms;	/* as for unanswered recursions */
	int		v2;		/* a protocol 2 plugin's groups */
	int		causes;		/* the plugin counts rtmo and rval */
	/*
	 * The latency check failed as this node's at its last evaluation,
	 * and the node is down since: slower than usual is asked more
	 * loosely (fault.h), so a slow node stays down while it is slow.
	 */
	int		hold;
	const struct fault_base *base;	/* NULL: none yet */
};

enum fault_verdict {
	FAULT_USUAL,		/* the node resolves as usual: no fault */
	FAULT_EXTERNAL,		/* excused: not this node */
	FAULT_UNSURE,		/* too little evidence elsewhere to tell */
	FAULT_OFF,		/* max_groups 0 */
	FAULT_NO_DATA,		/* no failure seen in the groups */
	FAULT_SPREAD,		/* overdue in more than max_groups groups */
	FAULT_NO_RESOLUTION,	/* other names do not resolve as usual */
	FAULT_OWN_ZONES		/* SERVFAIL from zones the node serves */
};

/* What the servers' pass leaves out (fault.h, step 3). */
#define SRV_GAVE	1
#define SRV_SILENT	2

/* What one level of groups says. */
struct fault_level {
	enum fault_verdict verdict;
	unsigned int	ngroups;	/* groups left out ('held'), or with
					   failures when not excused */
	unsigned int	group[DOM_BUCKETS];	/* most failures first */
	unsigned int	failing;	/* ... how many have any */
	double		held;		/* share of failures in ngroups; with
					   none, the servers' share */
	uint64_t	bad;		/* failures over 'span' */
	uint64_t	srv;		/* ... what the servers gave */
	uint64_t	ok_else, bad_else;	/* elsewhere, over span_else */
	uint64_t	srv_else;	/* ... the servers' failures, left
					   out of bad_else */
	double		usual;		/* elsewhere's usual success rate */
	int		fresh;		/* ... assumed: no baseline yet */
	int		load;		/* ... far below it, under load */
	int		spread;		/* failures concentrated nowhere */
	int		servers;	/* excused with the servers' failures
					   left out of the others': SRV_GAVE,
					   or SRV_SILENT with their timeouts */
	double		load_q, load_r;	/* ... queries, recursions started:
					   times the usual */
	int64_t		span, span_else;
};

struct fault {
	enum fault_verdict verdict;
	enum ah_level	level;		/* the level that decided */
	unsigned int	nlevels;	/* 1 for a protocol 2 plugin */
	int		stopped;	/* successes stopped: this node's */
	uint64_t	stop_ok;	/* ... so many over stop_span */
	double		stop_expected;	/* ... where this many were usual */
	int64_t		stop_span;
	int		slow;		/* slower than usual: this node's */
	unsigned int	slow_ms;	/* ... answered within this bound */
	uint64_t	slow_fast;	/* ... so many over slow_span */
	double		slow_expected;	/* ... where this many were usual */
	int64_t		slow_span;
	int		slow_asked;	/* slower() had a usual to judge by */
	int		stepped;	/* validation failing since a step
					   of named's clock: this node's */
	uint64_t	step_bad;	/* ... so many over step_span */
	double		step_expected;	/* ... where this many were usual */
	unsigned int	step_groups;	/* ... in so many domain groups */
	int64_t		step_span;
	struct fault_level l[AH_LVL_COUNT];
};

void	fault_judge(const struct window *, const struct evidence *,
	    enum ev_kind, const struct fault_conf *, struct fault *);
/*
 * Slower than usual, whatever the latency check's quantile says (a
 * delay that keeps it under its limit): 1, with f's verdict
 * FAULT_SPREAD and f->slow set.
 */
int	fault_slow(const struct window *, const struct evidence *,
	    const struct fault_conf *, struct fault *);
/*
 * Recursions failing far beyond the usual everywhere, whatever the
 * recursion check's ratio says: every level FAULT_NO_RESOLUTION with
 * its failures concentrated nowhere.  1, with f's verdict so.
 */
int	fault_worse(const struct window *, const struct evidence *,
	    const struct fault_conf *, struct fault *);
/*
 * Named's wall clock stepped by FAULT_STEP_MS or more at 'since'
 * (monotonic ms, feed.h) within the window: recursions failing
 * validation since then, beyond the usual and beyond chance (FAULT_P),
 * FAULT_STEP_BAD of them or more in FAULT_STEP_GROUPS domain groups or
 * more, are this node's.  1, with f's verdict FAULT_NO_RESOLUTION and
 * f->stepped set.
 */
int	fault_stepped(const struct window *, const struct fault_conf *,
	    int64_t since, struct fault *);
/*
 * Take the newest snapshot's recursions into the baseline; called on
 * the evaluations that find the node healthy.  A gap (an evaluation
 * not taken in, a reset window) is skipped, not averaged over.
 */
void	fault_base_update(struct fault_base *, const struct window *,
	    const struct fault_conf *);
/* Outcomes in the baseline, all groups of one level. */
double	fault_base_count(const struct fault_base *);

#endif /* AH_FAULT_H */
