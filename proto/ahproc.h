/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahproc.h - what /proc/PID/stat (proc(5)) says of a process: its
 * parent, and when it started, in clock ticks since boot, which with
 * the pid says which process it is.  The relay asks of the ExaBGP that
 * started it (its handover notes), anycastctl of the relay it restarts.
 */
#ifndef AHPROC_H
#define AHPROC_H

#include <stdint.h>
#include <sys/types.h>

struct ah_proc {
	pid_t		ppid;
	uint64_t	started;
};

/* 0, or -1 when there is no such process here, or it cannot be read. */
int	ah_proc_stat(pid_t, struct ah_proc *);

#endif /* AHPROC_H */
