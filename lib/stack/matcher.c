#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "matcher.h"

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64-bit */
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Hash of the first MATCHER_MIN_TEXT bytes; called at every position of
 * every searched value, so it is one load and one multiply. */
static uint64_t hash_prefix(const char *s)
{
    uint64_t word;

    memcpy(&word, s, sizeof(word));
    return (word * 0x9e3779b97f4a7c15ULL) >> 17;
}

static int table_init(struct matcher_table *t, size_t count,
                      struct rotarr_error *err)
{
    size_t size = 16;

    while (size < count * 2) {
        size *= 2;
    }
    t->mask = size - 1;
    t->head = calloc(size, sizeof(*t->head));
    t->next = calloc(count + 1, sizeof(*t->next));
    if (t->head == NULL || t->next == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

static void table_add(struct matcher_table *t, uint64_t hash, size_t index)
{
    size_t bucket = (size_t)hash & t->mask;

    t->next[index] = t->head[bucket];
    t->head[bucket] = index + 1;
}

static void table_release(struct matcher_table *t)
{
    free(t->head);
    free(t->next);
}

static struct rotarr_secret *compose_form(const struct rotarr_secret *secret,
                                          struct rotarr_error *err)
{
    const char *s = rotarr_secret_data(secret);
    size_t len = rotarr_secret_len(secret);
    struct rotarr_secret *form;
    size_t dollars = 0;
    size_t i;
    size_t j = 0;

    for (i = 0; i < len; i++) {
        dollars += s[i] == '$';
    }
    form = rotarr_secret_alloc(len + dollars, err);
    for (i = 0; form != NULL && i < len; i++) {
        rotarr_secret_data(form)[j++] = s[i];
        if (s[i] == '$') {
            rotarr_secret_data(form)[j++] = '$';
        }
    }
    return form;
}

static int index_secret(struct matcher *m, size_t i, struct rotarr_error *err)
{
    const char *needle;
    size_t len;
    int form;

    /* Guarded memory costs system calls, so a secret without '$', whose
     * compose form is itself, gets no copy. */
    if (memchr(rotarr_secret_data(m->secrets[i]), '$',
               rotarr_secret_len(m->secrets[i])) != NULL) {
        m->compose[i] = compose_form(m->secrets[i], err);
        if (m->compose[i] == NULL) {
            return -1;
        }
    }
    for (form = 0; form < 2; form++) {
        needle = matcher_needle(m, i, form, &len);
        if (len == 0) {
            continue;
        }
        table_add(&m->whole[form], hash_bytes(needle, len), i);
        if (len >= MATCHER_MIN_TEXT) {
            table_add(&m->prefix[form], hash_prefix(needle), i);
        }
    }
    return 0;
}

int matcher_init(struct matcher *m, const struct rotarr_secret *const *secrets,
                 size_t count, struct rotarr_error *err)
{
    size_t i;
    int form;

    memset(m, 0, sizeof(*m));
    m->count = count;
    m->secrets = secrets;
    m->compose = calloc(count + 1, sizeof(*m->compose));
    if (m->compose == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (form = 0; form < 2; form++) {
        if (table_init(&m->whole[form], count, err) < 0 ||
            table_init(&m->prefix[form], count, err) < 0) {
            return -1;
        }
    }
    for (i = 0; i < count; i++) {
        if (index_secret(m, i, err) < 0) {
            return -1;
        }
    }
    return 0;
}

void matcher_release(struct matcher *m)
{
    size_t i;
    int form;

    for (i = 0; m->compose != NULL && i < m->count; i++) {
        rotarr_secret_free(m->compose[i]);
    }
    free(m->compose);
    for (form = 0; form < 2; form++) {
        table_release(&m->whole[form]);
        table_release(&m->prefix[form]);
    }
    memset(m, 0, sizeof(*m));
}

const char *matcher_needle(const struct matcher *m, size_t index,
                           int compose, size_t *len)
{
    const struct rotarr_secret *s = m->secrets[index];

    if (compose && m->compose[index] != NULL) {
        s = m->compose[index];
    }

    *len = rotarr_secret_len(s);
    return rotarr_secret_data(s);
}

size_t matcher_find_whole(const struct matcher *m, const char *text,
                          size_t len, int compose)
{
    const struct matcher_table *t = &m->whole[compose != 0];
    size_t candidate;
    const char *needle;
    size_t needle_len;

    if (len == 0) {
        return 0;
    }
    candidate = t->head[(size_t)hash_bytes(text, len) & t->mask];
    for (; candidate != 0; candidate = t->next[candidate - 1]) {
        needle = matcher_needle(m, candidate - 1, compose, &needle_len);
        if (needle_len == len && sodium_memcmp(needle, text, len) == 0) {
            return candidate;
        }
    }
    return 0;
}

size_t matcher_first_prefix(const struct matcher *m, const char *text,
                            int compose)
{
    const struct matcher_table *t = &m->prefix[compose != 0];

    return t->head[(size_t)hash_prefix(text) & t->mask];
}

size_t matcher_next_prefix(const struct matcher *m, size_t candidate,
                           int compose)
{
    return m->prefix[compose != 0].next[candidate - 1];
}
