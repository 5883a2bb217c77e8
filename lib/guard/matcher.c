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

int guard_matcher_add(struct guard_matcher *m, const void *bytes, size_t len,
                      enum guard_pattern_kind kind, const char *origin,
                      struct rotarr_error *err)
{
    struct guard_pattern *p;
    const unsigned char *b = bytes;
    size_t i;

    if (m->built) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "patterns added after the first scan");
    }
    if (len == 0 || m->count == GUARD_MAX_PATTERNS) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "too many secret values to look for");
    }
    if (m->count == m->alloc) {
        size_t alloc = m->alloc > 0 ? m->alloc * 2 : 64;

        p = realloc(m->patterns, alloc * sizeof(*p));
        if (p == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        m->patterns = p;
        m->alloc = alloc;
    }
    if (grow_arena(m, len, err) < 0) {
        return -1;
    }
    p = &m->patterns[m->count++];
    p->offset = m->arena_len;
    p->len = len;
    p->kind = kind;
    p->origin = origin;
    p->newlines = 0;
    for (i = 0; i + 1 < len; i++) {
        p->newlines += b[i] == '\n';
    }
    memcpy(m->arena + m->arena_len, bytes, len);
    m->arena_len += len;
    return 0;
}

/* Numbers the bytes that occur in patterns from 1; the rest are 0. */
static void assign_classes(struct guard_matcher *m)
{
    size_t i;

    memset(m->classes, 0, sizeof(m->classes));
    m->class_count = 1;
    for (i = 0; i < m->arena_len; i++) {
        if (m->classes[m->arena[i]] == 0) {
            m->classes[m->arena[i]] = (uint16_t)m->class_count++;
        }
    }
}

static int alloc_tables(struct guard_matcher *m, struct rotarr_error *err)
{
    size_t states = m->arena_len + 1;

    if (states > GUARD_MAX_TABLE_BYTES / sizeof(uint32_t) / m->class_count) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "the secret values are too many or too "
                                "long to look for (%zu bytes)",
                                m->arena_len);
    }
    m->delta = calloc(states * m->class_count, sizeof(uint32_t));
    m->output = malloc(states * sizeof(uint32_t));
    m->dict = calloc(states, sizeof(uint32_t));
    if (m->delta == NULL || m->output == NULL || m->dict == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    memset(m->output, 0xff, states * sizeof(uint32_t));
    m->state_count = 1;
    return 0;
}

/* Adds pattern i to the trie; a pattern equal to an earlier one keeps
 * the earlier one's origin. */
static void insert_pattern(struct guard_matcher *m, uint32_t i)
{
    const struct guard_pattern *p = &m->patterns[i];
    uint32_t state = 0;
    uint32_t *slot;
    size_t k;

    for (k = 0; k < p->len; k++) {
        slot = &m->delta[(size_t)state * m->class_count +
                         m->classes[m->arena[p->offset + k]]];
        if (*slot == 0) {
            *slot = (uint32_t)m->state_count++;
        }
        state = *slot;
    }
    if (m->output[state] == GUARD_NO_PATTERN) {
        m->output[state] = i;
    }
}

/*
 * Turns the trie into the complete automaton, breadth first: a missing
 * transition takes the one of the failure state, which is already
 * complete because it is shallower.  A trie edge never leads to the root,
 * so 0 marks a missing edge until it is filled in.
 */
static int complete(struct guard_matcher *m, struct rotarr_error *err)
{
    uint32_t *fail;
    uint32_t *queue;
    size_t head = 0, tail = 0;
    uint32_t c, u, v, f;

    fail = calloc(m->state_count, sizeof(uint32_t));
    queue = malloc(m->state_count * sizeof(uint32_t));
    if (fail == NULL || queue == NULL) {
        free(fail);
        free(queue);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    queue[tail++] = 0;
    while (head < tail) {
        u = queue[head++];
        for (c = 0; c < m->class_count; c++) {
            v = m->delta[(size_t)u * m->class_count + c];
            f = u == 0 ? 0 : m->delta[(size_t)fail[u] * m->class_count + c];
            if (v == 0) {
                m->delta[(size_t)u * m->class_count + c] = f;
                continue;
            }
            fail[v] = f;
            m->dict[v] = m->output[f] != GUARD_NO_PATTERN ? f : m->dict[f];
            queue[tail++] = v;
        }
    }
    free(fail);
    free(queue);
    return 0;
}

/* Stores row offsets instead of state numbers, flagged where a pattern
 * ends, so that the scan loop needs no multiplication. */
static void encode_rows(struct guard_matcher *m)
{
    size_t i, n = m->state_count * m->class_count;
    uint32_t target;

    for (i = 0; i < n; i++) {
        target = m->delta[i];
        m->delta[i] = target * m->class_count;
        if (m->output[target] != GUARD_NO_PATTERN || m->dict[target] != 0) {
            m->delta[i] |= GUARD_MATCH_FLAG;
        }
    }
}

int guard_matcher_build(struct guard_matcher *m, struct rotarr_error *err)
{
    size_t i;

    if (m->built) {
        return 0;
    }
    assign_classes(m);
    if (alloc_tables(m, err) < 0) {
        return -1;
    }
    for (i = 0; i < m->count; i++) {
        insert_pattern(m, (uint32_t)i);
    }
    if (complete(m, err) < 0) {
        return -1;
    }
    encode_rows(m);
    m->built = 1;
    return 0;
}

static void free_wiped(void *p, size_t len)
{
    if (p != NULL) {
        sodium_memzero(p, len);
        free(p);
    }
}

void guard_matcher_release(struct guard_matcher *m)
{
    size_t states = m->arena_len + 1;

    if (m->delta != NULL) {
        free_wiped(m->delta, states * m->class_count * sizeof(uint32_t));
    }
    free(m->output);
    free(m->dict);
    free_wiped(m->arena, m->arena_cap);
    free(m->patterns);
    memset(m, 0, sizeof(*m));
}
