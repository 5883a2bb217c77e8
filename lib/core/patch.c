#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/patch.h"

struct patch_edit {
    size_t start;
    size_t end;
    char *text;
    size_t text_len;
};

/* Edits are kept sorted by (start, end), so apply needs no sort. */
struct rotarr_patch {
    struct patch_edit *edits;
    size_t count;
    size_t cap;
};

struct rotarr_patch *rotarr_patch_new(void)
{
    return calloc(1, sizeof(struct rotarr_patch));
}

static int edit_equal(const struct patch_edit *edit, size_t start,
                      size_t end, const char *text, size_t text_len)
{
    return edit->start == start && edit->end == end
           && edit->text_len == text_len
           && (text_len == 0 || memcmp(edit->text, text, text_len) == 0);
}

/* Returns the index where (start, end) goes, after any equal ranges. */
static size_t insert_position(const struct rotarr_patch *p, size_t start,
                              size_t end)
{
    size_t i = p->count;

    while (i > 0 && (p->edits[i - 1].start > start
                     || (p->edits[i - 1].start == start
                         && p->edits[i - 1].end > end))) {
        i--;
    }
    return i;
}

static int reserve_edit(struct rotarr_patch *p, struct rotarr_error *err)
{
    struct patch_edit *edits;
    size_t cap;

    if (p->count < p->cap) {
        return 0;
    }
    cap = p->cap > 0 ? p->cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof(*edits)) {
        return rotarr_error_set(err, ROTARR_EFILE, "too many edits");
    }
    edits = realloc(p->edits, cap * sizeof(*edits));
    if (edits == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    p->edits = edits;
    p->cap = cap;
    return 0;
}

int rotarr_patch_add(struct rotarr_patch *p, size_t start, size_t end,
                     const char *text, size_t text_len,
                     struct rotarr_error *err)
{
    struct patch_edit edit = { start, end, NULL, text_len };
    size_t i;

    if (start > end) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "edit at bytes %zu..%zu ends before it "
                                "starts", start, end);
    }
    for (i = 0; i < p->count; i++) {
        if (edit_equal(&p->edits[i], start, end, text, text_len)) {
            return 0;
        }
    }
    if (reserve_edit(p, err) < 0) {
        return -1;
    }
    edit.text = malloc(text_len > 0 ? text_len : 1);
    if (edit.text == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (text_len > 0) {
        memcpy(edit.text, text, text_len);
    }

    i = insert_position(p, start, end);
    memmove(p->edits + i + 1, p->edits + i,
            (p->count - i) * sizeof(*p->edits));
    p->edits[i] = edit;
    p->count++;
    return 0;
}

size_t rotarr_patch_count(const struct rotarr_patch *p)
{
    return p->count;
}

/* Checks the edits against len and each other, and sums the result size. */
static int check_edits(const struct rotarr_patch *p, size_t len,
                       size_t *total, struct rotarr_error *err)
{
    const struct patch_edit *prev = NULL;
    const struct patch_edit *edit;
    size_t i;

    *total = len;
    for (i = 0; i < p->count; i++) {
        edit = &p->edits[i];
        if (edit->end > len) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "edit at bytes %zu..%zu ends past the "
                                    "end of the text (%zu bytes)",
                                    edit->start, edit->end, len);
        }
        if (prev != NULL && (edit->start < prev->end
                             || (edit->end == prev->start
                                 && prev->start == prev->end
                                 && edit->start == edit->end))) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "edits at bytes %zu..%zu and %zu..%zu "
                                    "overlap", prev->start, prev->end,
                                    edit->start, edit->end);
        }
        *total -= edit->end - edit->start;
        if (edit->text_len > SIZE_MAX - *total) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "patched text too large");
        }
        *total += edit->text_len;
        prev = edit;
    }
    return 0;
}

int rotarr_patch_apply(const struct rotarr_patch *p, const char *bytes,
                       size_t len, struct rotarr_buf *out,
                       struct rotarr_error *err)
{
    const struct patch_edit *edit;
    size_t total;
    size_t done = 0;
    size_t i;

    if (check_edits(p, len, &total, err) < 0
        || rotarr_buf_grow(out, total, err) < 0) {
        return -1;
    }
    for (i = 0; i < p->count; i++) {
        edit = &p->edits[i];
        if (edit->start > done) {
            memcpy(out->data + out->len, bytes + done, edit->start - done);
            out->len += edit->start - done;
        }
        if (edit->text_len > 0) {
            memcpy(out->data + out->len, edit->text, edit->text_len);
        }
        out->len += edit->text_len;
        done = edit->end;
    }
    if (len > done) {
        memcpy(out->data + out->len, bytes + done, len - done);
        out->len += len - done;
    }
    out->data[out->len] = '\0';
    return 0;
}

void rotarr_patch_free(struct rotarr_patch *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->count; i++) {
        sodium_memzero(p->edits[i].text, p->edits[i].text_len);
        free(p->edits[i].text);
    }
    free(p->edits);
    free(p);
}
