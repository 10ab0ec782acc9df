/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rcureaders.c - an LD_PRELOAD shim for named that tells which threads
 * take liburcu's read lock, and whether each had registered with
 * liburcu first (tests/system/test_rcu.py).
 *
 * liburcu checks this itself only when built with debugging, which
 * Debian's is not: an unregistered reader is silently left out of the
 * grace periods, and what it reads may be freed under it.  BIND's
 * libraries call the flavour's functions through the PLT, so a shim
 * preloaded into named sees every call from BIND and from the plugin.
 *
 * Writes one line per thread and kind to the file named by
 * AH_RCU_READERS, the first time that thread reads:
 *	registered NAME
 *	unregistered NAME
 * where NAME is the thread's name (pthread_setname_np).
 *
 * Built with BIND's flags, so rcu_read_lock() and the others are the
 * flavour named uses (isc/urcu.h maps them, say to urcu_memb_*).
 */
#include <config.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <isc/urcu.h>

#define NAME_OF(f)	STRING_OF(f)
#define STRING_OF(f)	#f

static __thread int registered;
static __thread int told[2];	/* per kind: already written */

/*
 * The next definition of 'name' (liburcu's).  Looked up on first use:
 * liburcu's own constructor registers a thread before this shim's
 * constructor would run.  Threads racing here store the same pointer.
 */
static void
call_real(void (**fp)(void), const char *name)
{
	void (*f)(void) = __atomic_load_n(fp, __ATOMIC_ACQUIRE);

	if (f == NULL) {
		f = (void (*)(void))dlsym(RTLD_NEXT, name);
		if (f == NULL) {
			fprintf(stderr, "rcureaders: no %s after the shim\n",
			    name);
			abort();
		}
		__atomic_store_n(fp, f, __ATOMIC_RELEASE);
	}
	f();
}

static void
tell(int reg)
{
	static const char *kind[] = { "unregistered", "registered" };
	const char *path = getenv("AH_RCU_READERS");
	char name[32] = "?", line[64];
	int fd, n;

	if (told[reg] || path == NULL)
		return;
	told[reg] = 1;
	(void)pthread_getname_np(pthread_self(), name, sizeof(name));
	n = snprintf(line, sizeof(line), "%s %s\n", kind[reg], name);
	/* One write(2) per line: O_APPEND keeps threads' lines whole. */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) >= 0) {
		(void)write(fd, line, (size_t)n);
		close(fd);
	}
}

void
rcu_register_thread(void)
{
	static void (*f)(void);

	call_real(&f, NAME_OF(rcu_register_thread));
	registered = 1;
}

void
rcu_unregister_thread(void)
{
	static void (*f)(void);

	registered = 0;
	call_real(&f, NAME_OF(rcu_unregister_thread));
}

void
rcu_read_lock(void)
{
	static void (*f)(void);

	tell(registered);
	call_real(&f, NAME_OF(rcu_read_lock));
}
