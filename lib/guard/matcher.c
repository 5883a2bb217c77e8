#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "guard_private.h"

/* Most patterns: a bound on the table whatever the secrets are. */
#define GUARD_MAX_PATTERNS ((size_t)1 << 20)

static int grow_arena(struct guard_matcher *m, size_t len,
                      struct rotarr_error *err)
{
    unsigned char *grown;
    size_t cap;

    if (len <= m->arena_cap - m->arena_len) {
        return 0;
    }
    cap = m->arena_cap > 0 ? m->arena_cap : 4096;
    while (cap - m->arena_len < len) {
        if (cap > SIZE_MAX / 2) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        cap *= 2;
    }
    /* Moved by hand so that no copy of a secret is left in freed memory. */
    grown = malloc(cap);
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (m->arena_len > 0) {
        memcpy(grown, m->arena, m->arena_len);
        sodium_memzero(m->arena, m->arena_cap);
    }
    free(m->arena);
    m->arena = grown;
    m->arena_cap = cap;
    return 0;
}

/* Patterns hold their first 8 bytes, so they move like the arena. */
static int grow_patterns(struct guard_matcher *m, struct rotarr_error *err)
{
    struct guard_pattern *grown;
    size_t alloc;

    if (m->count < m->alloc) {
        return 0;
    }
    alloc = m->alloc > 0 ? m->alloc * 2 : 64;
    grown = malloc(alloc * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (m->count > 0) {
        memcpy(grown, m->patterns, m->count * sizeof(*grown));
        sodium_memzero(m->patterns, m->alloc * sizeof(*grown));
    }
    free(m->patterns);
    m->patterns = grown;
    m->alloc = alloc;
    return 0;
}

/* Bounds of the filter's size in bits, as powers of two: 256 bits per
 * pattern keep false hits below 1 in 200 positions, and 2^18 bits is
 * 32 KiB, an L1 data cache. */
#define FILTER_MIN_BITS 12
#define FILTER_MAX_BITS 18

int guard_matcher_add(struct guard_matcher *m, const void *bytes, size_t len,
                      enum guard_pattern_kind kind, const char *origin,
                      struct rotarr_error *err)
{
    struct guard_pattern *p;

    if (m->built) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "patterns added after the first scan");
    }
    if (len < GUARD_WINDOW) {
        return 0; /* shorter values are placeholders, never secrets */
    }
    if (m->count == GUARD_MAX_PATTERNS) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "too many secret values to look for");
    }
    if (grow_patterns(m, err) < 0 || grow_arena(m, len, err) < 0) {
        return -1;
    }
    p = &m->patterns[m->count++];
    memset(p, 0, sizeof(*p));
    p->offset = m->arena_len;
    p->len = len;
    p->need = kind == GUARD_PATTERN_AGE_KEY ? len + GUARD_AGE_KEY_TAIL : len;
    p->kind = kind;
    p->origin = origin;
    memcpy(&p->prefix, bytes, GUARD_WINDOW);
    memcpy(m->arena + m->arena_len, bytes, len);
    m->arena_len += len;
    return 0;
}

static int compare_prefixes(const void *a, const void *b, void *ctx)
{
    const struct guard_matcher *m = ctx;
    const struct guard_pattern *x = &m->patterns[*(const uint32_t *)a];
    const struct guard_pattern *y = &m->patterns[*(const uint32_t *)b];

    if (x->prefix != y->prefix) {
        return x->prefix < y->prefix ? -1 : 1;
    }
    return x < y ? -1 : x > y;
}

static int same_bytes(const struct guard_matcher *m,
                      const struct guard_pattern *a,
                      const struct guard_pattern *b)
{
    return a->len == b->len &&
           memcmp(m->arena + a->offset, m->arena + b->offset, a->len) == 0;
}

/* Marks patterns equal to an earlier one, so that a copy is reported
 * once, under the first origin. */
static void mark_duplicates(struct guard_matcher *m, uint32_t start,
                            uint32_t count)
{
    struct guard_pattern *p, *q;
    uint32_t i, j;

    for (i = 1; i < count; i++) {
        p = &m->patterns[m->order[start + i]];
        for (j = 0; j < i && !p->duplicate; j++) {
            q = &m->patterns[m->order[start + j]];
            p->duplicate = !q->duplicate && same_bytes(m, p, q);
        }
    }
}

static void insert_bucket(struct guard_matcher *m, uint64_t prefix,
                          uint32_t start, uint32_t count)
{
    size_t slot = (size_t)guard_window_hash(m, prefix) & m->bucket_mask;

    while (m->buckets[slot].count != 0) {
        slot = (slot + 1) & m->bucket_mask;
    }
    m->buckets[slot].prefix = prefix;
    m->buckets[slot].start = start;
    m->buckets[slot].count = count;
    mark_duplicates(m, start, count);
}

/* Groups the sorted patterns by first window into an open-addressing
 * table at most half full. */
static int build_buckets(struct guard_matcher *m, struct rotarr_error *err)
{
    size_t size = 2, i, start;

    while (size < m->count * 2) {
        size *= 2;
    }
    m->buckets = calloc(size, sizeof(*m->buckets));
    if (m->buckets == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    m->bucket_mask = size - 1;
    for (start = 0; start < m->count; start = i) {
        for (i = start + 1; i < m->count &&
                            m->patterns[m->order[i]].prefix ==
                                m->patterns[m->order[start]].prefix;
             i++) {
        }
        insert_bucket(m, m->patterns[m->order[start]].prefix,
                      (uint32_t)start, (uint32_t)(i - start));
    }
    return 0;
}

static int build_filter(struct guard_matcher *m, struct rotarr_error *err)
{
    unsigned bits = FILTER_MIN_BITS;
    uint64_t h;
    size_t i;

    while (bits < FILTER_MAX_BITS && ((size_t)1 << bits) < m->count * 256) {
        bits++;
    }
    m->filter_shift = 64 - bits;
    m->filter = calloc(((size_t)1 << bits) / 64, sizeof(uint64_t));
    if (m->filter == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < m->count; i++) {
        h = guard_window_hash(m, m->patterns[i].prefix);
        m->filter[h >> 6] |= (uint64_t)1 << (h & 63);
        if (m->patterns[i].need > m->max_need) {
            m->max_need = m->patterns[i].need;
        }
    }
    return 0;
}

int guard_matcher_build(struct guard_matcher *m, struct rotarr_error *err)
{
    size_t i;

    if (m->built) {
        return 0;
    }
    if (build_filter(m, err) < 0) {
        return -1;
    }
    m->order = malloc((m->count + 1) * sizeof(uint32_t));
    if (m->order == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < m->count; i++) {
        m->order[i] = (uint32_t)i;
    }
    qsort_r(m->order, m->count, sizeof(uint32_t), compare_prefixes, m);
    if (build_buckets(m, err) < 0) {
        return -1;
    }
    m->built = 1;
    return 0;
}

const struct guard_bucket *guard_matcher_bucket(const struct guard_matcher *m,
                                                uint64_t window)
{
    size_t slot = (size_t)guard_window_hash(m, window) & m->bucket_mask;

    while (m->buckets[slot].count != 0) {
        if (m->buckets[slot].prefix == window) {
            return &m->buckets[slot];
        }
        slot = (slot + 1) & m->bucket_mask;
    }
    return NULL;
}

void guard_matcher_release(struct guard_matcher *m)
{
    if (m->arena != NULL) {
        sodium_memzero(m->arena, m->arena_cap);
        free(m->arena);
    }
    if (m->buckets != NULL) {
        /* The first windows are the first 8 bytes of each secret. */
        sodium_memzero(m->buckets, (m->bucket_mask + 1) * sizeof(*m->buckets));
        free(m->buckets);
    }
    if (m->patterns != NULL) {
        sodium_memzero(m->patterns, m->alloc * sizeof(*m->patterns));
        free(m->patterns);
    }
    free(m->filter);
    free(m->order);
    memset(m, 0, sizeof(*m));
}
