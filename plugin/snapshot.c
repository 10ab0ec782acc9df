/* SPDX-License-Identifier: MPL-2.0 */
/*
 * snapshot.c - the records of a snapshot, encoded with the codec
 * (ahproto.h) from the counters (summed over the threads' shards:
 * counters.h) and zone state of struct ah_view.  Every record fits in
 * one line whatever the values (doc/protocol.md, section 5), and a
 * view goes out whole or not at all.
 */
#include <config.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahproto.h"
#include "ahwire.h"
#include "counters.h"
#include "snapshot.h"
#include "view.h"

/* Appends an encoded record; 0 if it did not fit in one line. */
static int
put(struct ah_snapshot *sc, struct ah_enc *e) {
	int n = ah_enc_end(e);

	if (n < 0) {
		return (0);
	}
	if (sc->len + (size_t)n > sc->cap) {
		size_t cap = sc->cap == 0 ? 65536 : sc->cap * 2;
		char *p = realloc(sc->buf, cap);

		if (p == NULL) {
			sc->failed = true;
			return (0);
		}
		sc->buf = p;
		sc->cap = cap;
	}
	memcpy(sc->buf + sc->len, e->buf, (size_t)n);
	sc->len += (size_t)n;
	return (1);
}

static uint64_t
get(atomic_uint_fast64_t *c) {
	return (atomic_load_explicit(c, memory_order_relaxed));
}

/* Starts a record that belongs to view 'id' of snapshot 'seq'. */
static void
begin(struct ah_enc *e, char *line, const char *type, uint64_t seq, size_t id) {
	ah_enc_begin(e, line, AH_LINE_MAX, type);
	ah_enc_u64(e, "seq", seq);
	ah_enc_u64(e, "view", id);
}

/*
 * Query outcomes; rcode totals are sums over sources, and 'queries'
 * is every answer and drop (view.h).
 */
static int
put_outcomes(struct ah_snapshot *sc, struct ah_counters *c, uint64_t seq,
	     size_t id) {
	char line[AH_LINE_MAX], key[AH_NAME_MAX + 1];
	struct ah_enc e;
	uint64_t rcodes[AH_RC_COUNT] = { 0 }, queries = get(&c->dropped);

	for (int r = 0; r < AH_RC_COUNT; r++) {
		for (int src = 0; src < AH_SRC_COUNT; src++) {
			rcodes[r] += get(&c->answers[src][r]);
		}
		queries += rcodes[r];
	}
	begin(&e, line, "outcomes", seq, id);
	ah_enc_u64(&e, "queries", queries);
	ah_enc_u64(&e, "probes", get(&c->probes));
	ah_enc_u64(&e, "dropped", get(&c->dropped));
	for (int r = 0; r < AH_RC_COUNT; r++) {
		ah_enc_u64(&e, ah_rcode_names[r], rcodes[r]);
	}
	for (int src = 0; src < AH_SRC_COUNT; src++) {
		for (int r = 0; r < AH_RC_COUNT; r++) {
			snprintf(key, sizeof(key), "%s_%s",
				 ah_source_names[src], ah_rcode_names[r]);
			ah_enc_u64(&e, key, get(&c->answers[src][r]));
		}
	}
	return (put(sc, &e));
}

/* Recursion results and a cumulative latency histogram, Prometheus-style. */
static int
put_recursion(struct ah_snapshot *sc, struct ah_view *v, struct ah_counters *c,
	      uint64_t seq, size_t id) {
	char line[AH_LINE_MAX], key[AH_NAME_MAX + 1];
	struct ah_enc e;
	uint64_t cum = 0;

	begin(&e, line, "recursion", seq, id);
	for (int k = 0; k < AH_REC_COUNT; k++) {
		ah_enc_u64(&e, ah_recursion_names[k], get(&c->recursion[k]));
	}
	ah_enc_u64(&e, "clients", get(&v->recursive_clients));
	for (int b = 0; b < AH_LAT_BUCKETS; b++) {
		cum += get(&c->latency[b]);
		if (b < AH_LAT_BUCKETS - 1) {
			snprintf(key, sizeof(key), "le_%u", ah_lat_bounds[b]);
		} else {
			snprintf(key, sizeof(key), "le_inf");
		}
		ah_enc_u64(&e, key, cum);
	}
	return (put(sc, &e));
}

/*
 * The groups of each level: one record per kind of counter ('domains',
 * 'suffixes'), 16 buckets each.
 */
static int
put_groups(struct ah_snapshot *sc, struct ah_groupcounters *g, uint64_t seq,
	   size_t id) {
	char line[AH_LINE_MAX], key[AH_NAME_MAX + 1];
	struct ah_enc e;

	for (int l = 0; l < AH_LVL_COUNT; l++) {
		for (int k = 0; k < AH_DOM_COUNT; k++) {
			begin(&e, line, ah_level_counts[l], seq, id);
			ah_enc_str(&e, "kind", ah_dom_names[k]);
			for (int b = 0; b < AH_DOM_BUCKETS; b++) {
				snprintf(key, sizeof(key), "b%d", b);
				ah_enc_u64(&e, key, get(&g->dom[l][k][b]));
			}
			if (!put(sc, &e)) {
				return (0);
			}
		}
	}
	return (AH_LVL_COUNT * AH_DOM_COUNT);
}

/* Reader side of the seqlock; 0 while a write is under way. */
static int
sample_read(struct ah_sample *s, char *out) {
	unsigned int seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	size_t i;

	if (seq & 1) {
		return (0);
	}
	for (i = 0; i < AH_DOMAIN_MAX; i++) {
		if ((out[i] = atomic_load_explicit(
			     &s->name[i], memory_order_relaxed)) == '\0') {
			break;
		}
	}
	out[AH_DOMAIN_MAX - 1] = '\0';
	atomic_thread_fence(memory_order_acquire);
	return (atomic_load_explicit(&s->seq, memory_order_relaxed) == seq);
}

/*
 * FNV-1a of a sample name, never 0 but for the empty name: a changed
 * name that collides with the last one told (one chance in 2^64) is
 * published with the next change.
 */
static uint64_t
name_hash(const char *name) {
	uint64_t h = UINT64_C(14695981039346656037);

	if (*name == '\0') {
		return (0);
	}
	for (; *name != '\0'; name++) {
		h = (h ^ (unsigned char)*name) * UINT64_C(1099511628211);
	}
	return (h != 0 ? h : 1);
}

/*
 * Sample names of each level ('domain', 'suffix'), only those that
 * changed since the last periodic snapshot, or all of them for a new
 * subscriber ('told' NULL).  'cur' receives the hashes of what was
 * read, for the caller to commit.
 */
static int
put_samples(struct ah_snapshot *sc, struct ah_view *v, uint64_t seq, size_t id,
	    const uint64_t (*told)[AH_DOM_BUCKETS],
	    uint64_t (*cur)[AH_DOM_BUCKETS]) {
	char line[AH_LINE_MAX], name[AH_DOMAIN_MAX];
	struct ah_enc e;
	int n = 0;

	for (int l = 0; l < AH_LVL_COUNT; l++) {
		for (int b = 0; b < AH_DOM_BUCKETS; b++) {
			if (!sample_read(&v->sample[l][b], name)) {
				/* Being written: next time; keep the old. */
				if (told != NULL) {
					cur[l][b] = told[l][b];
				}
				continue;
			}
			cur[l][b] = name_hash(name);
			if (told != NULL ? cur[l][b] == told[l][b]
					 : cur[l][b] == 0) {
				continue;
			}
			begin(&e, line, ah_level_samples[l], seq, id);
			ah_enc_u64(&e, "bucket", (uint64_t)b);
			ah_enc_str(&e, "name", name);
			if (!put(sc, &e)) {
				return (-1);
			}
			n++;
		}
	}
	return (n);
}

static void
encode_zone(struct ah_enc *e, const struct ah_zone *z, int64_t walked) {
	ah_enc_str(e, "name", z->name);
	ah_enc_u64(e, "found", z->found);
	if (z->found) {
		ah_enc_str(e, "type", z->type);
		ah_enc_u64(e, "loaded", z->loaded);
		ah_enc_u64(e, "expired", z->expired);
		if (z->has_serial) {
			ah_enc_u64(e, "serial", z->serial);
		}
		ah_enc_i64(e, "loaded_at", z->loaded_at);
		ah_enc_i64(e, "loaded_seen", z->loaded_seen);
		ah_enc_i64(e, "refresh", z->refresh);
		ah_enc_i64(e, "expire", z->expire);
	}
	ah_enc_i64(e, "checked", walked);
}

/*
 * A view's zones: one 'zones' summary, then a 'zone' record for each
 * zone the walk kept in detail.  Returns the records put, or -1 if one
 * did not fit (it always does: names are at most 255 bytes).
 */
static int
put_zones(struct ah_snapshot *sc, struct ah_view *v, uint64_t seq, size_t id) {
	char line[AH_LINE_MAX];
	struct ah_enc e;
	int n = 1;

	pthread_mutex_lock(&v->zlock);
	if (!v->watching) {
		pthread_mutex_unlock(&v->zlock);
		return (0);
	}
	begin(&e, line, "zones", seq, id);
	ah_enc_u64(&e, "watched", v->zwatched);
	ah_enc_u64(&e, "healthy", v->zhealthy);
	ah_enc_u64(&e, "expired", v->zexpired);
	ah_enc_u64(&e, "unloaded", v->zunloaded);
	ah_enc_u64(&e, "missing", v->zmissing);
	ah_enc_i64(&e, "checked", v->walked);
	if (!put(sc, &e)) {
		n = -1;
	}
	for (size_t z = 0; n > 0 && z < v->nzones; z++) {
		begin(&e, line, "zone", seq, id);
		encode_zone(&e, &v->zones[z], v->walked);
		n = put(sc, &e) ? n + 1 : -1;
	}
	pthread_mutex_unlock(&v->zlock);
	return (n);
}

/*
 * All records of view slot 'id', or none: a record that does not fit
 * takes the whole view out of the snapshot, so the relay never sees a
 * view's counters without its name (or the reverse).  Returns the
 * number of records, or -1 if the view was left out.
 */
static int
put_view(struct ah_snapshot *sc, struct ah_view *v, size_t id, uint64_t seq,
	 bool fresh) {
	char line[AH_LINE_MAX];
	uint64_t cur[AH_LVL_COUNT][AH_DOM_BUCKETS];
	struct ah_counters sum;
	struct ah_groupcounters gsum;
	struct ah_enc e;
	size_t start = sc->len;
	int n = 0, k;

	ah_counters_sum(v->slot, &sum, &gsum);
	ah_enc_begin(&e, line, sizeof(line), "view");
	ah_enc_u64(&e, "seq", seq);
	ah_enc_u64(&e, "id", id);
	ah_enc_str(&e, "name", v->name);
	if (!put(sc, &e) || !put_outcomes(sc, &sum, seq, id) ||
	    !put_recursion(sc, v, &sum, seq, id) ||
	    !put_groups(sc, &gsum, seq, id))
	{
		goto out;
	}
	n = 3 + AH_LVL_COUNT * AH_DOM_COUNT;
	if ((k = put_samples(sc, v, seq, id, fresh ? NULL : sc->told[id],
			     cur)) < 0) {
		goto out;
	}
	n += k;
	if ((k = put_zones(sc, v, seq, id)) < 0) {
		goto out;
	}
	if (!fresh) {
		memcpy(sc->told[id], cur, sizeof(cur));
	}
	return (n + k);
out:
	sc->len = start;
	return (-1);
}

/*
 * A snapshot: each attached view's records (see put_view), then a
 * 'tick' that closes it and says how many views and records came
 * before it.  Counters are cumulative, so a lost snapshot loses
 * nothing.  Built whole before it is queued anywhere.
 */
int
ah_snapshot_build(struct ah_snapshot *sc, struct ah_view views[AH_VIEWS_MAX],
		  uint64_t seq, bool fresh, int64_t time, int64_t reconfig) {
	char line[AH_LINE_MAX];
	struct ah_enc e;
	uint64_t nviews = 0, nrecords = 0;
	int k;

	sc->len = 0;
	sc->failed = false;
	for (size_t i = 0; i < AH_VIEWS_MAX; i++) {
		if (views[i].refs == 0) {
			continue;
		}
		if ((k = put_view(sc, &views[i], i, seq, fresh)) < 0) {
			continue;
		}
		nviews++;
		nrecords += (uint64_t)k;
	}
	if (sc->failed) {
		return (-1); /* out of memory: the next one, then */
	}

	ah_enc_begin(&e, line, sizeof(line), "tick");
	ah_enc_u64(&e, "seq", seq);
	ah_enc_u64(&e, "views", nviews);
	ah_enc_u64(&e, "records", nrecords);
	ah_enc_i64(&e, "time", time);
	if (reconfig >= 0) {
		ah_enc_i64(&e, "reconfig", reconfig);
	}
	return (put(sc, &e) ? 0 : -1);
}

void
ah_snapshot_free(struct ah_snapshot *sc) {
	free(sc->buf);
	sc->buf = NULL;
	sc->len = sc->cap = 0;
}
