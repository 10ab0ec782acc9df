/* SPDX-License-Identifier: MPL-2.0 */
/*
 * groups.c - the fleet sensor's groups of names.
 *
 * The relay tells a fault of external names (one domain, one TLD)
 * from a fault of this node by where failures sit in the name space
 * while other names resolve (doc/fleet.md).  So every name behind a
 * failure or a recursion is counted in two groups: its registrable
 * domain ('example.co.uk' for 'a.b.example.co.uk') and its public
 * suffix ('co.uk'), each hashed into one of AH_DOM_BUCKETS buckets.
 *
 * Registrable domains follow the public suffix list's ICANN section,
 * not its private one: a zone's servers are those of the domain
 * registered under a registry's suffix, so 'x.blogspot.com' and
 * 'd1.cloudfront.net' fail with 'blogspot.com' and 'cloudfront.net'.
 * Names under a TLD the list does not know ('test', a lab's own) take
 * its '*' rule: the TLD is the suffix.
 *
 * The list is read at registration (named's start and each reconfig,
 * so a newer publicsuffix package is picked up then), never in the
 * query path, and only read afterwards, from any thread.  Instances
 * share it: named registers one per view, and a list takes 56 KiB
 * (3.5 MiB for 64 views); a new instance reads the file again only if
 * it changed since the list in use was read.
 * Grouping costs a name's text and a few lookups in the list's DAFSA:
 * paid on the failure and recursion paths only.
 */

#include <config.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <isc/log.h>
#include <isc/mem.h>
#include <isc/util.h>

#include <dns/name.h>

#include <ns/log.h>

#include "ahwire.h"
#include "counters.h"
#include "groups.h"
#include "view.h"

/*
 * The labels of a name that can matter, the root included: the list's
 * longest ICANN suffix has 4 labels ('schools.nsw.edu.au'), a
 * registrable domain one more.  Longer names are cut to their tail
 * before they are written out, so an attack's long random labels cost
 * nothing.
 */
#define TAIL_LABELS 8

/* A list as read from the file, shared by the instances that use it. */
struct list {
	psl_ctx_t *psl; /* NULL: none could be read */
	unsigned int refs;
	struct stat file; /* of psl_dist_filename(); zeroed: none */
};

/*
 * The list new instances take; process-wide, because named gives
 * instances no shared context.  Older lists live on while instances
 * of an earlier configuration use them.
 */
static struct {
	pthread_mutex_t lock;
	struct list *current;
} lists = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct ah_groups {
	isc_mem_t *mctx;
	struct list *list;
	const psl_ctx_t *psl; /* list->psl; NULL: last two labels, last label */
};

static bool
same_file(const struct stat *a, const struct stat *b) {
	return (a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

static void
list_free(struct list *l) {
	if (l->psl != NULL) {
		psl_free(l->psl);
	}
	free(l);
}

/*
 * The current list, read again if the file changed (then *readp is
 * true); NULL: no memory.
 */
static struct list *
list_attach(bool *readp) {
	struct stat file;
	struct list *l = NULL;

	memset(&file, 0, sizeof(file));
	(void)stat(psl_dist_filename(), &file);
	pthread_mutex_lock(&lists.lock);
	if (lists.current != NULL && same_file(&lists.current->file, &file)) {
		l = lists.current;
		l->refs++;
	} else if ((l = calloc(1, sizeof(*l))) != NULL) {
		l->psl = psl_latest(NULL);
		*readp = true;
		l->refs = 2; /* the caller's, and as the current one */
		l->file = file;
		if (lists.current != NULL && --lists.current->refs == 0) {
			list_free(lists.current);
		}
		lists.current = l;
	}
	pthread_mutex_unlock(&lists.lock);
	return (l);
}

static void
list_detach(struct list *l) {
	pthread_mutex_lock(&lists.lock);
	if (--l->refs == 1 && lists.current == l) {
		/* Only the current one's reference: the last instance went. */
		lists.current = NULL;
		l->refs = 0;
	}
	if (l->refs == 0) {
		list_free(l);
	}
	pthread_mutex_unlock(&lists.lock);
}

ah_groups_t *
ah_groups_create(isc_mem_t *mctx, isc_log_t *lctx) {
	ah_groups_t *groups = isc_mem_get(mctx, sizeof(*groups));
	bool read = false;

	groups->mctx = NULL;
	isc_mem_attach(mctx, &groups->mctx);
	groups->list = list_attach(&read);
	groups->psl = groups->list != NULL ? groups->list->psl : NULL;
	if (read && groups->psl != NULL) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_INFO,
			      "anycast-health: public suffix list read (%s, "
			      "libpsl %s), for every view",
			      psl_dist_filename(), psl_get_version());
	}
	if (groups->psl == NULL) {
		isc_log_write(lctx, NS_LOGCATEGORY_GENERAL, NS_LOGMODULE_HOOKS,
			      ISC_LOG_WARNING,
			      "anycast-health: no public suffix list (%s, "
			      "libpsl %s): failures are grouped by the last "
			      "two labels of names",
			      psl_dist_filename(), psl_get_version());
	}
	return (groups);
}

void
ah_groups_destroy(ah_groups_t **groupsp) {
	ah_groups_t *groups = *groupsp;

	*groupsp = NULL;
	if (groups->list != NULL) {
		list_detach(groups->list);
	}
	isc_mem_putanddetach(&groups->mctx, groups, sizeof(*groups));
}

/*
 * 'text' (lower case, no final dot) split at its public suffix:
 * '*suffix' is that, '*domain' one label more, or the name itself
 * when it is no longer than its suffix.  Labels are tried left to
 * right, so the first one the list calls a suffix is the longest;
 * '\.' inside a label is no boundary.  Without a list: the last label
 * and the last two.
 */
static void
split(const ah_groups_t *groups, const char *text, const char **domain,
      const char **suffix) {
	const char *label = text, *before = text, *p;

	for (;;) {
		if (groups->psl != NULL &&
		    psl_is_public_suffix2(groups->psl, label, PSL_TYPE_ICANN))
		{
			break;
		}
		for (p = label; *p != '\0' && *p != '.'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
			}
		}
		/* The last label: the suffix, whatever the list says. */
		if (*p == '\0' || p[1] == '\0') {
			break;
		}
		before = label;
		label = p + 1;
	}
	*domain = before;
	*suffix = label;
}

/* FNV-1a: a fixed hash, so a name's bucket is the same in every run. */
static unsigned int
bucket_of(const char *s) {
	uint32_t h = 2166136261U;

	for (; *s != '\0'; s++) {
		h = (h ^ (unsigned char)*s) * 16777619U;
	}
	return (h % AH_DOM_BUCKETS);
}

static void
count(struct ah_tally t, enum ah_level level, const char *key,
      unsigned int kinds, bool sample) {
	unsigned int b = bucket_of(key);

	for (int k = 0; k < AH_DOM_COUNT; k++) {
		if ((kinds & (1U << k)) != 0) {
			ah_add(t, &t.g->dom[level][k][b]);
		}
	}
	if (sample && strlen(key) < AH_DOMAIN_MAX) {
		ah_sample_write(&t.v->sample[level][b], key);
	}
}

void
ah_groups_count(const ah_groups_t *groups, struct ah_tally t,
		const dns_name_t *name, unsigned int kinds, bool sample) {
	char text[DNS_NAME_FORMATSIZE];
	const char *domain = NULL, *suffix = NULL;
	dns_name_t tail;
	unsigned int labels;

	if (name == NULL || (labels = dns_name_countlabels(name)) == 0) {
		return;
	}
	dns_name_init(&tail, NULL);
	if (labels > TAIL_LABELS) {
		dns_name_getlabelsequence(name, labels - TAIL_LABELS,
					  TAIL_LABELS, &tail);
	} else {
		dns_name_clone(name, &tail);
	}
	dns_name_format(&tail, text, sizeof(text));
	ah_lower(text);
	split(groups, text, &domain, &suffix);
	count(t, AH_LVL_DOMAIN, domain, kinds, sample);
	count(t, AH_LVL_SUFFIX, suffix, kinds, sample);
}
