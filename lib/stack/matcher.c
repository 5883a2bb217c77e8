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

/* Records a needle of form: its bytes, its length and its hashes. */
static void index_needle(struct matcher_form *form, size_t i,
                         const char *needle, size_t len)
{
    uint64_t prefix;
    size_t bit;

    form->needles[i] = needle;
    form->lengths[i] = len;
    if (len == 0) {
        return;
    }
    if (len < MATCHER_SHORT_LENGTHS) {
        form->short_lengths[len / 64] |= (uint64_t)1 << (len % 64);
    } else {
        form->has_long = 1;
    }
    table_add(&form->whole, hash_bytes(needle, len), i);
    if (len >= MATCHER_MIN_TEXT) {
        prefix = matcher_hash_prefix(needle);
        bit = (size_t)prefix % MATCHER_FILTER_BITS;
        form->filter[bit / 64] |= (uint64_t)1 << (bit % 64);
        table_add(&form->prefix, prefix, i);
    }
}

static int index_secret(struct matcher *m, size_t i, struct rotarr_error *err)
{
    const struct rotarr_secret *form = m->secrets[i];

    /* Guarded memory costs system calls, so a secret without '$', whose
     * compose form is itself, gets no copy. */
    if (memchr(rotarr_secret_data(m->secrets[i]), '$',
               rotarr_secret_len(m->secrets[i])) != NULL) {
        m->compose[i] = compose_form(m->secrets[i], err);
        if (m->compose[i] == NULL) {
            return -1;
        }
        form = m->compose[i];
    }
    index_needle(&m->forms[0], i, rotarr_secret_data(m->secrets[i]),
                 rotarr_secret_len(m->secrets[i]));
    index_needle(&m->forms[1], i, rotarr_secret_data(form),
                 rotarr_secret_len(form));
    return 0;
}

static int form_init(struct matcher_form *form, size_t count,
                     struct rotarr_error *err)
{
    if (table_init(&form->whole, count, err) < 0 ||
        table_init(&form->prefix, count, err) < 0) {
        return -1;
    }
    form->needles = calloc(count + 1, sizeof(*form->needles));
    form->lengths = calloc(count + 1, sizeof(*form->lengths));
    form->filter = calloc(MATCHER_FILTER_BITS / 64, sizeof(*form->filter));
    if (form->needles == NULL || form->lengths == NULL ||
        form->filter == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

static void form_release(struct matcher_form *form)
{
    table_release(&form->whole);
    table_release(&form->prefix);
    free(form->needles);
    free(form->lengths);
    free(form->filter);
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
        if (form_init(&m->forms[form], count, err) < 0) {
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
        form_release(&m->forms[form]);
    }
    memset(m, 0, sizeof(*m));
}

/* Returns 0 when no needle of form has len bytes. */
static int length_possible(const struct matcher_form *form, size_t len)
{
    if (len >= MATCHER_SHORT_LENGTHS) {
        return form->has_long;
    }
    return (form->short_lengths[len / 64] >> (len % 64) & 1) != 0;
}

size_t matcher_find_whole(const struct matcher *m, const char *text,
                          size_t len, int compose)
{
    const struct matcher_form *form = &m->forms[compose != 0];
    size_t candidate;

    if (len == 0 || !length_possible(form, len)) {
        return 0;
    }
    candidate = form->whole.head[(size_t)hash_bytes(text, len) &
                                 form->whole.mask];
    for (; candidate != 0; candidate = form->whole.next[candidate - 1]) {
        if (form->lengths[candidate - 1] == len &&
            sodium_memcmp(form->needles[candidate - 1], text, len) == 0) {
            return candidate;
        }
    }
    return 0;
}
