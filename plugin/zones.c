/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zones.c - the zone state of a view: the zones a plugin instance
 * watches, read on the publisher thread.
 *
 * Once per zone-interval one query thread takes a reference to its
 * view's zone table (an atomic increment) and hands it over; the
 * publisher thread walks the table, through the table and never
 * through the view, fills the view's zone fields (view.h, struct
 * ah_view) and drops the reference.  With 'all-zones', a walk counts
 * every zone and keeps only the unhealthy ones in detail.
 */

#include <config.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isc/mem.h>
#include <isc/result.h>
#include <isc/time.h>

#include <dns/fixedname.h>
#include <dns/name.h>
#include <dns/view.h>
#include <dns/zone.h>
#include <dns/zt.h>

#include "bindcompat.h"
#include "params.h"
#include "publisher.h"
#include "view.h"
#include "zones.h"

struct ah_zones {
	isc_mem_t *mctx;
	struct ah_walker walker;
	bool all_zones;
	size_t nwatched;
	char (*watched)[AH_ZONENAME_MAX]; /* zone names, as configured */
};

static int64_t
zone_time(isc_result_t (*get)(dns_zone_t *, isc_time_t *), dns_zone_t *zone) {
	isc_time_t t;

	if (get(zone, &t) != ISC_R_SUCCESS || isc_time_isepoch(&t)) {
		return (0);
	}
	return ((int64_t)isc_time_seconds(&t));
}

static void
read_zone(dns_zone_t *zone, struct ah_zone *z, int64_t now) {
	dns_zonetype_t type = dns_zone_gettype(zone);
	uint32_t serial = 0;

	z->found = true;
	snprintf(z->type, sizeof(z->type), "%s", dns_zonetype_name(type));
	z->loaded = dns_zone_isloaded(zone);
	z->has_serial = dns_zone_getserial(zone, &serial) == ISC_R_SUCCESS;
	z->serial = serial;
	z->loaded_at = zone_time(dns_zone_getloadtime, zone);
	z->refresh = 0;
	z->expire = 0;
	/* Only transferred zones refresh and expire. */
	if (type == dns_zone_secondary || type == dns_zone_mirror ||
	    type == dns_zone_stub)
	{
		z->refresh = zone_time(dns_zone_getrefreshtime, zone);
		z->expire = zone_time(dns_zone_getexpiretime, zone);
	}
	z->expired = z->expire != 0 && now >= z->expire;
}

/* Room for one more zone; grows rarely, never in the steady state. */
static struct ah_zone *
zone_slot(struct ah_view *v) {
	if (v->nzones == v->zcap) {
		size_t cap = v->zcap == 0 ? 16 : v->zcap * 2;
		struct ah_zone *z = realloc(v->zones, cap * sizeof(*z));
		if (z == NULL) {
			return (NULL);
		}
		v->zones = z;
		v->zcap = cap;
	}
	memset(&v->zones[v->nzones], 0, sizeof(v->zones[0]));
	return (&v->zones[v->nzones++]);
}

typedef struct {
	struct ah_view *v;
	int64_t now;
} walk_t;

static void
count_zone(struct ah_view *v, const struct ah_zone *z) {
	v->zwatched++;
	v->zhealthy += z->found && z->loaded && !z->expired;
	v->zmissing += !z->found;
	v->zexpired += z->found && z->expired;
	v->zunloaded += z->found && !z->expired && !z->loaded;
}

/*
 * Ends 'text', a name as named writes it, with "..." where it must end
 * to fit 'size' bytes, before any escape ("\\(", "\\032") cut in two.
 */
static void
cut(char *text, size_t size) {
	size_t keep = size - 4, i = 0;

	if (strlen(text) < size) {
		return;
	}
	while (i < keep) {
		size_t n = text[i] != '\\'			 ? 1
			   : isdigit((unsigned char)text[i + 1]) ? 4
								 : 2;
		if (i + n > keep) {
			break;
		}
		i += n;
	}
	strcpy(text + i, "...");
}

/*
 * One zone of an all-zones walk.  Most zones are healthy and need only
 * counting: the cheap tests come first, and the name and serial (the
 * costly parts) are read only for the few kept in detail.
 */
static isc_result_t
walk_one(dns_zone_t *zone, void *arg) {
	walk_t *w = arg;
	struct ah_view *v = w->v;
	dns_zonetype_t type;
	struct ah_zone *z, quick = { .found = true };
	isc_time_t t;

	/* named's automatic empty zones are not the operator's zones. */
	if (dns_zone_getautomatic(zone)) {
		return (ISC_R_SUCCESS);
	}
	type = dns_zone_gettype(zone);
	quick.loaded = dns_zone_isloaded(zone);
	if ((type == dns_zone_secondary || type == dns_zone_mirror ||
	     type == dns_zone_stub) &&
	    dns_zone_getexpiretime(zone, &t) == ISC_R_SUCCESS &&
	    !isc_time_isepoch(&t))
	{
		quick.expired = w->now >= (int64_t)isc_time_seconds(&t);
	}
	count_zone(v, &quick);
	if (quick.loaded && !quick.expired) {
		return (ISC_R_SUCCESS);
	}
	if (v->nzones < AH_UNHEALTHY_DETAIL_MAX && (z = zone_slot(v)) != NULL) {
		char text[DNS_NAME_FORMATSIZE];

		/*
		 * Escapes can make a name four times longer than the 255
		 * bytes a published name has: its start, marked, says more
		 * than dns_name_format()'s "<unknown>".
		 */
		dns_name_format(dns_zone_getorigin(zone), text, sizeof(text));
		cut(text, sizeof(z->name));
		strcpy(z->name, text);
		ah_lower(z->name);
		read_zone(zone, z, w->now);
	}
	return (ISC_R_SUCCESS);
}

/*
 * When named loaded a zone's present data.  BIND's load time is the
 * zone file's modification time (named reloads a file only when it is
 * newer), which says when the data was written, not when named took
 * it.  A zone keeps the time of the first walk that saw it loaded with
 * its present serial and load time: to within zone-interval, as walks
 * follow queries and the relay's probes query every interval.  The
 * view's zones outlive a reconfig, so one that loads nothing changes
 * nothing.  'prev' is the last walk's zones, tried at the same index
 * first: the listed zones come in the same order every walk.
 */
static int64_t
loaded_seen(const struct ah_zone *z, const struct ah_zone *prev, size_t nprev,
	    size_t k, int64_t now) {
	const struct ah_zone *p = NULL;

	if (!z->found || !z->loaded) {
		return (0);
	}
	if (k < nprev && strcmp(prev[k].name, z->name) == 0) {
		p = &prev[k];
	}
	for (size_t i = 0; p == NULL && i < nprev; i++) {
		if (strcmp(prev[i].name, z->name) == 0) {
			p = &prev[i];
		}
	}
	if (p != NULL && p->loaded_seen != 0 && p->loaded_at == z->loaded_at &&
	    p->has_serial == z->has_serial && p->serial == z->serial)
	{
		return (p->loaded_seen);
	}
	return (now);
}

/*
 * A walk of the zone table a query thread handed over (struct
 * ah_walker), on the publisher thread: it reads zones through the
 * table, never through the view.
 */
static void
walk_zones(void *table, void *arg, struct ah_view *v) {
	ah_zones_t *zones = arg;
	dns_zt_t *zt = table;
	walk_t w = { .v = v, .now = (int64_t)time(NULL) };
	struct ah_zone *prev = NULL;
	size_t nprev = 0;

	pthread_mutex_lock(&v->zlock);
	/* Without memory for the last walk, every zone is seen anew. */
	if (v->nzones > 0 && (prev = malloc(v->nzones * sizeof(*prev))) != NULL)
	{
		memmove(prev, v->zones, v->nzones * sizeof(*prev));
		nprev = v->nzones;
	}
	v->nzones = 0;
	v->zwatched = v->zhealthy = v->zexpired = v->zunloaded = v->zmissing =
		0;
	if (zones->all_zones) {
		(void)ah_zt_apply(zt, walk_one, &w);
	}
	for (size_t i = 0; i < zones->nwatched; i++) {
		struct ah_zone *z = zone_slot(v);
		dns_fixedname_t fn;
		dns_zone_t *zone = NULL;
		isc_result_t result;

		if (z == NULL) {
			break;
		}
		snprintf(z->name, sizeof(z->name), "%s", zones->watched[i]);
		z->listed = true;
		dns_fixedname_init(&fn);
		result = ah_name_fromstring(dns_fixedname_name(&fn),
					    zones->watched[i]);
		if (result == ISC_R_SUCCESS) {
			result = ah_zt_find(zt, dns_fixedname_name(&fn), &zone);
		}
		if (result == ISC_R_SUCCESS) {
			read_zone(zone, z, w.now);
			dns_zone_detach(&zone);
		}
		count_zone(v, z);
	}
	for (size_t k = 0; k < v->nzones; k++) {
		v->zones[k].loaded_seen = loaded_seen(&v->zones[k], prev, nprev,
						      k, w.now);
	}
	free(prev);
	v->walked = (int64_t)time(NULL) * 1000;
	v->watching = true;
	pthread_mutex_unlock(&v->zlock);
}

static void
release_zonetable(void *table) {
	dns_zt_t *zt = table;

	dns_zt_detach(&zt);
}

ah_zones_t *
ah_zones_create(isc_mem_t *mctx, const ah_params_t *p, struct ah_view *view) {
	ah_zones_t *zones = NULL;

	if (!p->all_zones && p->nwatched == 0) {
		return (NULL);
	}
	zones = isc_mem_get(mctx, sizeof(*zones));
	*zones = (ah_zones_t){ .all_zones = p->all_zones,
			       .walker = { .view = view,
					   .walk = walk_zones,
					   .release = release_zonetable } };
	isc_mem_attach(mctx, &zones->mctx);
	zones->walker.arg = zones;
	if (p->nwatched > 0) {
		zones->watched = isc_mem_get(
			mctx, p->nwatched * sizeof(zones->watched[0]));
		memmove(zones->watched, p->watched,
			p->nwatched * sizeof(zones->watched[0]));
		zones->nwatched = p->nwatched;
	}
	ah_pub_walker_add(&zones->walker);
	return (zones);
}

void
ah_zones_destroy(ah_zones_t **zonesp) {
	ah_zones_t *zones = *zonesp;

	*zonesp = NULL;
	ah_pub_walker_remove(&zones->walker);
	if (zones->watched != NULL) {
		isc_mem_put(zones->mctx, zones->watched,
			    zones->nwatched * sizeof(zones->watched[0]));
	}
	isc_mem_putanddetach(&zones->mctx, zones, sizeof(*zones));
}

/*
 * The walk itself is the publisher's: this thread only takes a
 * reference to the view's zone table, an atomic increment (how it
 * reads the pointer depends on the BIND version: bindcompat.h).
 */
void
ah_zones_hand_over(ah_zones_t *zones, dns_view_t *view) {
	dns_zt_t *zt = NULL, *old = NULL;

	ah_zonetable_attach(view, &zt);
	if (zt == NULL) {
		return;
	}
	old = atomic_exchange(&zones->walker.pending, zt);
	if (old != NULL) {
		dns_zt_detach(&old); /* not walked yet: the newer one will be */
	}
}
