#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/failpoint.h"
#include "rotarr/fileio.h"
#include "rotarr/patch.h"
#include "rotarr/url.h"
#include "stack_private.h"

/* Characters that need no quoting or escaping in any place rotarr writes
 * a secret: RFC 3986 unreserved characters. */
static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int all_unreserved(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!is_unreserved((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

/* Where the edits of one file go: a patch, or a caller's function. */
struct edit_sink {
    rotarr_edit_fn add;
    void *ctx;
    size_t file;
};

static int sink_add(const struct edit_sink *sink, size_t start, size_t end,
                    const char *text, size_t len, struct rotarr_error *err)
{
    return sink->add(sink->ctx, sink->file, start, end, text, len, err);
}

/*
 * Appends the text that takes the place of one occurrence in its value:
 * the new secret, percent-encoded inside a URL, with '$' doubled in
 * compose text.
 */
static int replacement_text(const struct rotarr_occurrence *occ,
                            const struct rotarr_stack_file *file,
                            const struct rotarr_secret *new_secret,
                            struct rotarr_buf *out, struct rotarr_error *err)
{
    const char *s = rotarr_secret_data(new_secret);
    size_t len = rotarr_secret_len(new_secret);
    int compose = file->kind == ROTARR_STACK_FILE_COMPOSE ||
                  (occ->entry != NULL && occ->entry->dollar_changed);
    size_t i;

    if (occ->kind == ROTARR_OCC_URL) {
        return rotarr_url_encode_userinfo(s, len, out, err);
    }
    for (i = 0; i < len; i++) {
        if (rotarr_buf_append(out, &s[i], 1, err) < 0 ||
            (compose && s[i] == '$' &&
             rotarr_buf_append(out, "$", 1, err) < 0)) {
            return -1;
        }
    }
    return 0;
}

/* Returns 1 when text can stand in place, unquoted and unescaped, at
 * offset at of a value written in the given way. */
static int fits_in_place(const struct rotarr_occurrence *occ,
                         const struct rotarr_stack_file *file,
                         const struct rotarr_buf *text)
{
    const char *s = text->data != NULL ? text->data : "";
    size_t len = text->len;

    if (!occ->direct || memchr(s, '\n', len) != NULL ||
        memchr(s, '\r', len) != NULL) {
        return 0;
    }
    if (file->kind == ROTARR_STACK_FILE_SECRET) {
        return 1;
    }
    if (file->kind == ROTARR_STACK_FILE_APPCONFIG && occ->node == NULL) {
        return strcspn(s, "&<>\"'") >= len;
    }
    if (file->kind == ROTARR_STACK_FILE_ENV) {
        switch (occ->entry->quote) {
        case ROTARR_QUOTE_NONE:
            return all_unreserved(s, len) ||
                   (occ->kind == ROTARR_OCC_URL &&
                    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                              "rstuvwxyz0123456789-._~%") == len);
        case ROTARR_QUOTE_SINGLE:
            return memchr(s, '\'', len) == NULL && memchr(s, '\\', len) == NULL;
        case ROTARR_QUOTE_DOUBLE:
            return strcspn(s, "\"\\$") >= len;
        }
        return 0;
    }
    switch (occ->node->style) {
    case ROTARR_YSTYLE_PLAIN:
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                         "xyz0123456789-._~%") == len &&
               (occ->sub_start > 0 || (len > 0 && s[0] != '%' && s[0] != '-'));
    case ROTARR_YSTYLE_SINGLE:
        return memchr(s, '\'', len) == NULL;
    case ROTARR_YSTYLE_DOUBLE:
        return strcspn(s, "\"\\") >= len;
    default:
        return 0;
    }
}

/* The value as it was searched, for rebuilding it around replacements. */
static int searched_value(const struct rotarr_occurrence *occ,
                          const struct rotarr_stack_file *file,
                          const char **text, size_t *len,
                          struct rotarr_error *err)
{
    if (occ->node != NULL) {
        *text = occ->node->value;
        *len = occ->node->value_len;
        return 0;
    }
    if (occ->setting != NULL) {
        *text = occ->setting->value;
        *len = occ->setting->value_len;
        return 0;
    }
    if (occ->entry != NULL && !occ->entry->dollar_changed) {
        *text = occ->entry->value;
        *len = occ->entry->value_len;
        return 0;
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "%s:%zu: cannot rewrite '%s' in place; quote the "
                            "value with single quotes and retry",
                            file->display, occ->line, occ->where);
}

/*
 * Re-writes a whole value holding the occurrences occs[first..last): the
 * value as read with each occurrence replaced, quoted again the way its
 * file needs.
 */
static int requote_value(const struct rotarr_occurrence *occs, size_t count,
                         const struct rotarr_stack_file *file,
                         const struct rotarr_secret *new_secret,
                         const struct edit_sink *sink,
                         struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_buf quoted = ROTARR_BUF_INIT;
    const char *text = NULL;
    size_t len = 0;
    size_t at = 0;
    size_t i;
    int ret = -1;

    if (searched_value(&occs[0], file, &text, &len, err) < 0) {
        return -1;
    }
    for (i = 0; i < count; i++) {
        if (occs[i].kind == ROTARR_OCC_REFERENCE) {
            continue;
        }
        if (rotarr_buf_append(&value, text + at, occs[i].sub_start - at,
                              err) < 0 ||
            replacement_text(&occs[i], file, new_secret, &value, err) < 0) {
            goto out;
        }
        at = occs[i].sub_end;
    }
    if (rotarr_buf_append(&value, text + at, len - at, err) < 0) {
        goto out;
    }
    if (occs[0].node != NULL) {
        ret = rotarr_yaml_encode_scalar(value.data, value.len,
                                        occs[0].node->style, &quoted, err);
    } else if (occs[0].setting != NULL) {
        ret = rotarr_xml_escape(value.data, value.len, &quoted, err);
    } else {
        ret = rotarr_dotenv_encode_value(value.data, value.len,
                                         occs[0].entry->quote, &quoted, err);
    }
    if (ret == 0) {
        ret = sink_add(sink, occs[0].value_start, occs[0].value_end,
                       quoted.data, quoted.len, err);
    }

out:
    wipe_buf(&value);
    wipe_buf(&quoted);
    return ret;
}

/* Adds the edits for the occurrences of one value, in place when every
 * replacement fits there, else by re-quoting the whole value. */
static int edit_value(const struct rotarr_occurrence *occs, size_t count,
                      const struct rotarr_stack_file *file,
                      const struct rotarr_secret *new_secret,
                      const struct edit_sink *sink, struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int in_place = 1;
    size_t i;
    int ret = -1;

    for (i = 0; i < count && in_place; i++) {
        if (occs[i].kind == ROTARR_OCC_REFERENCE) {
            continue;
        }
        rotarr_buf_reset(&text);
        if (replacement_text(&occs[i], file, new_secret, &text, err) < 0) {
            goto out;
        }
        in_place = fits_in_place(&occs[i], file, &text);
    }
    if (!in_place) {
        ret = requote_value(occs, count, file, new_secret, sink, err);
        goto out;
    }
    for (i = 0; i < count; i++) {
        if (occs[i].kind == ROTARR_OCC_REFERENCE) {
            continue;
        }
        rotarr_buf_reset(&text);
        if (replacement_text(&occs[i], file, new_secret, &text, err) < 0 ||
            sink_add(sink, occs[i].start, occs[i].end, text.data, text.len,
                     err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    wipe_buf(&text);
    return ret;
}

/*
 * Rejects a new secret that Compose would paste unencoded into a URL
 * through a ${VAR} reference.
 */
static int check_spliced_urls(const struct rotarr_stack *stack,
                              const struct rotarr_occurrences *occs,
                              const struct rotarr_secret *new_secret,
                              struct rotarr_error *err)
{
    const struct rotarr_occurrence *occ;
    size_t i;

    if (all_unreserved(rotarr_secret_data(new_secret),
                       rotarr_secret_len(new_secret))) {
        return 0;
    }
    for (i = 0; i < occs->count; i++) {
        occ = &occs->items[i];
        if (occ->kind != ROTARR_OCC_REFERENCE || !occ->in_url) {
            continue;
        }
        return rotarr_error_set(
            err, ROTARR_EUSAGE,
            "%s:%zu: '%s' puts the password into a URL through a variable, "
            "so Compose would paste it there unencoded and the new "
            "password has characters a URL reserves; use a generated "
            "password (no '--password-stdin') or write that URL out in the "
            "env file",
            rotarr_stack_file(stack, occ->file)->display, occ->line,
            occ->where);
    }
    return 0;
}

static int same_value(const struct rotarr_occurrence *a,
                      const struct rotarr_occurrence *b)
{
    return a->file == b->file && a->value_start == b->value_start;
}

static int compare_occurrences(const void *pa, const void *pb)
{
    const struct rotarr_occurrence *a = pa;
    const struct rotarr_occurrence *b = pb;

    if (a->file != b->file) {
        return a->file < b->file ? -1 : 1;
    }
    if (a->value_start != b->value_start) {
        return a->value_start < b->value_start ? -1 : 1;
    }
    if (a->sub_start != b->sub_start) {
        return a->sub_start < b->sub_start ? -1 : 1;
    }
    return 0;
}

/* Checks that the new bytes of a file still parse. */
static int check_still_parses(const struct rotarr_stack_file *file,
                              const struct rotarr_buf *bytes,
                              struct rotarr_error *err)
{
    struct rotarr_dotenv *env;
    struct rotarr_ydoc *doc;
    struct rotarr_appconfig *app;

    if (file->kind == ROTARR_STACK_FILE_ENV) {
        env = rotarr_dotenv_parse(file->display, bytes->data, bytes->len,
                                  NULL, NULL, NULL, err);
        if (env == NULL) {
            return rotarr_error_prefix(err, "rewriting would break '%s'",
                                       file->display);
        }
        rotarr_dotenv_free(env);
    } else if (file->kind == ROTARR_STACK_FILE_COMPOSE) {
        doc = rotarr_ydoc_parse(file->display, bytes->data, bytes->len, err);
        if (doc == NULL) {
            return rotarr_error_prefix(err, "rewriting would break '%s'",
                                       file->display);
        }
        rotarr_ydoc_free(doc);
    } else if (file->kind == ROTARR_STACK_FILE_APPCONFIG) {
        app = rotarr_appconfig_parse(file->display,
                                     rotarr_appconfig_format(file->app),
                                     bytes->data, bytes->len, err);
        if (app == NULL) {
            return rotarr_error_prefix(err, "rewriting would break '%s'",
                                       file->display);
        }
        rotarr_appconfig_free(app);
    }
    return 0;
}

static int add_file_edit(struct rotarr_file_edits *edits, size_t file,
                         struct rotarr_error *err)
{
    struct rotarr_file_edit *grown;

    grown = realloc(edits->items, (edits->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    edits->items = grown;
    memset(&grown[edits->count], 0, sizeof(grown[0]));
    grown[edits->count].file = file;
    edits->count++;
    return 0;
}

static void note_line(struct rotarr_file_edit *edit, size_t line)
{
    size_t i;

    for (i = 0; i < edit->changed_line_count; i++) {
        if (edit->changed_lines[i] == line) {
            return;
        }
    }
    if (edit->changed_line_count <
        sizeof(edit->changed_lines) / sizeof(edit->changed_lines[0])) {
        edit->changed_lines[edit->changed_line_count++] = line;
    }
}

/* Sends the edits of one file's sorted occurrences to sink, one value
 * at a time. */
static int edit_values(const struct rotarr_stack *stack,
                       const struct rotarr_occurrence *occs, size_t count,
                       const struct rotarr_secret *new_secret,
                       const struct edit_sink *sink, struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(stack, occs[0].file);
    size_t first = 0;
    size_t i;

    for (i = 1; i <= count; i++) {
        if (i < count && same_value(&occs[i], &occs[first])) {
            continue;
        }
        if (edit_value(&occs[first], i - first, file, new_secret, sink,
                       err) < 0) {
            return -1;
        }
        first = i;
    }
    return 0;
}

static int add_to_patch(void *ctx, size_t file, size_t start, size_t end,
                        const char *text, size_t len,
                        struct rotarr_error *err)
{
    (void)file;
    return rotarr_patch_add(ctx, start, end, text, len, err);
}

/* Builds the new bytes of one file from its sorted occurrences. */
static int edit_file(const struct rotarr_stack *stack,
                     const struct rotarr_occurrence *occs, size_t count,
                     const struct rotarr_secret *new_secret,
                     struct rotarr_file_edits *edits,
                     struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(stack, occs[0].file);
    struct rotarr_patch *patch = rotarr_patch_new();
    struct edit_sink sink = { add_to_patch, patch, occs[0].file };
    struct rotarr_file_edit *edit;
    size_t i;
    int ret = -1;

    if (patch == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (edit_values(stack, occs, count, new_secret, &sink, err) < 0) {
        goto out;
    }
    if (rotarr_patch_count(patch) == 0) {
        ret = 0;
        goto out;
    }
    if (add_file_edit(edits, occs[0].file, err) < 0) {
        goto out;
    }
    edit = &edits->items[edits->count - 1];
    for (i = 0; i < count; i++) {
        if (occs[i].kind != ROTARR_OCC_REFERENCE) {
            note_line(edit, occs[i].line);
        }
    }
    if (rotarr_patch_apply(patch, file->bytes, file->len, &edit->bytes,
                           err) < 0 ||
        check_still_parses(file, &edit->bytes, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    rotarr_patch_free(patch);
    return ret;
}

/* Returns a copy of the occurrences sorted by file and place, or NULL
 * with err set. */
static struct rotarr_occurrence *
sorted_copy(const struct rotarr_occurrences *occs, struct rotarr_error *err)
{
    struct rotarr_occurrence *sorted;

    sorted = malloc(occs->count * sizeof(*sorted));
    if (sorted == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    memcpy(sorted, occs->items, occs->count * sizeof(*sorted));
    qsort(sorted, occs->count, sizeof(*sorted), compare_occurrences);
    return sorted;
}

int rotarr_stack_plan_edits(const struct rotarr_stack *stack,
                            const struct rotarr_occurrences *occs,
                            const struct rotarr_secret *new_secret,
                            struct rotarr_file_edits *edits,
                            struct rotarr_error *err)
{
    struct rotarr_occurrence *sorted;
    size_t first = 0;
    size_t i;
    int ret = -1;

    if (check_spliced_urls(stack, occs, new_secret, err) < 0) {
        return -1;
    }
    if (occs->count == 0) {
        return 0;
    }
    sorted = sorted_copy(occs, err);
    if (sorted == NULL) {
        return -1;
    }
    for (i = 1; i <= occs->count; i++) {
        if (i < occs->count && sorted[i].file == sorted[first].file) {
            continue;
        }
        if (edit_file(stack, &sorted[first], i - first, new_secret, edits,
                      err) < 0) {
            goto out;
        }
        first = i;
    }
    ret = 0;

out:
    free(sorted);
    return ret;
}

int rotarr_stack_occurrence_edits(const struct rotarr_stack *stack,
                                  const struct rotarr_occurrences *occs,
                                  const struct rotarr_secret *new_secret,
                                  rotarr_edit_fn add, void *ctx,
                                  struct rotarr_error *err)
{
    struct rotarr_occurrence *sorted;
    struct edit_sink sink = { add, ctx, 0 };
    size_t first = 0;
    size_t i;
    int ret = -1;

    if (check_spliced_urls(stack, occs, new_secret, err) < 0) {
        return -1;
    }
    if (occs->count == 0) {
        return 0;
    }
    sorted = sorted_copy(occs, err);
    if (sorted == NULL) {
        return -1;
    }
    for (i = 1; i <= occs->count; i++) {
        if (i < occs->count && sorted[i].file == sorted[first].file) {
            continue;
        }
        sink.file = sorted[first].file;
        if (edit_values(stack, &sorted[first], i - first, new_secret, &sink,
                        err) < 0) {
            goto out;
        }
        first = i;
    }
    ret = 0;

out:
    free(sorted);
    return ret;
}

/* Crash point "commit-file-N", right after the N-th file is replaced. */
static void commit_failpoint(size_t n)
{
#ifdef ROTARR_FAILPOINTS
    char name[64];

    snprintf(name, sizeof(name), "commit-file-%zu", n);
    ROTARR_FAILPOINT(name);
#else
    (void)n;
#endif
}

int rotarr_stack_write_edits(const struct rotarr_stack *stack,
                             const struct rotarr_file_edits *edits,
                             void (*notice)(void *ctx, const char *msg),
                             void *ctx, struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    unsigned old_mode;
    unsigned new_mode;
    char msg[512];
    size_t i;

    for (i = 0; i < edits->count; i++) {
        file = rotarr_stack_file(stack, edits->items[i].file);
        if (rotarr_stack_replace_file(stack, edits->items[i].file,
                                      edits->items[i].bytes.data,
                                      edits->items[i].bytes.len,
                                      file->kind ==
                                              ROTARR_STACK_FILE_APPCONFIG
                                          ? 0
                                          : ROTARR_REPLACE_SECRET,
                                      &old_mode, &new_mode, err) < 0) {
            return -1;
        }
        if (notice != NULL && old_mode != new_mode) {
            snprintf(msg, sizeof(msg), "%s: mode %04o -> %04o", file->display,
                     old_mode, new_mode);
            notice(ctx, msg);
        }
        commit_failpoint(i + 1);
    }
    return 0;
}

void rotarr_file_edits_release(struct rotarr_file_edits *edits)
{
    size_t i;

    for (i = 0; i < edits->count; i++) {
        wipe_buf(&edits->items[i].bytes);
    }
    free(edits->items);
    edits->items = NULL;
    edits->count = 0;
}
