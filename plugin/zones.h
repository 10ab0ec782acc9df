/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zones.h - the zone state of one plugin instance's view: which zones
 * it watches, and the walks that read them on the publisher thread
 * (zones.c).
 */
#ifndef AH_ZONES_H
#define AH_ZONES_H

#include <isc/mem.h>

#include <dns/types.h>

#include "params.h"
#include "view.h"

typedef struct ah_zones ah_zones_t;

/*
 * Zone walks for 'view', of the zones 'p' names; NULL if it names none.
 * From then on the publisher thread walks what ah_zones_hand_over()
 * gives it.
 */
ah_zones_t *
ah_zones_create(isc_mem_t *mctx, const ah_params_t *p, struct ah_view *view);

/*
 * Waits for this instance's walk in progress, if one is (only that: a
 * walk of another view holds nothing); no zone table reference
 * outlives it.
 */
void
ah_zones_destroy(ah_zones_t **zonesp);

/*
 * On a query thread, once per zone-interval: hands the publisher a
 * reference to 'view''s zone table, to walk off the query path.
 */
void
ah_zones_hand_over(ah_zones_t *zones, dns_view_t *view);

#endif /* AH_ZONES_H */
