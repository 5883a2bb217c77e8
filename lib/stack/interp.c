#include "rotarr/compat.h"

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/interp.h"
#include "wipe_buf.h"

/* Maximum length of a ":?" message quoted in an error. */
#define INTERP_MAX_QUOTED_MESSAGE 200

enum interp_op {
    OP_NONE,
    OP_DEFAULT_IF_EMPTY, /* ":-" */
    OP_DEFAULT_IF_UNSET, /* "-" */
    OP_ALT_IF_NONEMPTY,  /* ":+" */
    OP_ALT_IF_SET,       /* "+" */
    OP_REQUIRE_NONEMPTY, /* ":?" */
    OP_REQUIRE_SET,      /* "?" */
};

enum interp_token_kind {
    TOKEN_LITERAL, /* a '$' that starts nothing */
    TOKEN_ESCAPE,  /* "$$" */
    TOKEN_VAR,     /* $NAME or ${...} */
};

/* The token that starts at one '$', with offsets into the whole text. */
struct interp_token {
    enum interp_token_kind kind;
    size_t start, end;
    size_t name, name_end;
    enum interp_op op;
    size_t arg, arg_end; /* operator text, for op != OP_NONE */
};

/*
 * The end and the last '}' of the line being scanned, found once per line
 * so that a long line full of expressions still costs linear time.
 */
struct interp_line {
    int valid;
    size_t end;
    size_t last_brace; /* SIZE_MAX when the line has none */
};

struct interp_walk {
    const char *text;
    rotarr_lookup_fn lookup;
    void *ctx;
    struct rotarr_buf *out; /* NULL when only listing references */
    size_t out_base;
    struct rotarr_buf *name; /* NUL-terminated copy for lookup */
    int (*cb)(void *cbctx, const struct rotarr_interp_ref *ref);
    void *cbctx;
    int cb_result;
    struct rotarr_error *err;
};

static int walk(struct interp_walk *w, size_t begin, size_t end, int depth);

/*
 * Returns the byte length of the name character at s[p], or 0.  Go's
 * case-insensitive [a-z] also matches U+017F (long s) and U+212A (Kelvin
 * sign), which fold to 's' and 'k'.
 */
static size_t name_char_len(const char *s, size_t p, size_t end, int first)
{
    unsigned char c = (unsigned char)s[p];

    if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return 1;
    }
    if (!first && c >= '0' && c <= '9') {
        return 1;
    }
    if (c == 0xC5 && p + 1 < end && (unsigned char)s[p + 1] == 0xBF) {
        return 2;
    }
    if (c == 0xE2 && p + 2 < end && (unsigned char)s[p + 1] == 0x84 &&
        (unsigned char)s[p + 2] == 0xAA) {
        return 3;
    }
    return 0;
}

/* Returns the end of the name starting at p (p itself when none). */
static size_t name_end(const char *s, size_t p, size_t end)
{
    size_t q = p;
    size_t n;

    while (q < end && (n = name_char_len(s, q, end, q == p)) > 0) {
        q += n;
    }
    return q;
}

static int invalid_format(struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE,
                            "invalid interpolation format: a '${' needs a "
                            "name and a closing '}' on the same line; you "
                            "may need to escape any $ with another $");
}

/* Reads the operator at s[n]; returns the offset of its text, or 0. */
static size_t scan_op(const char *s, size_t n, size_t end, enum interp_op *op)
{
    static const enum interp_op plain[] = {OP_DEFAULT_IF_UNSET, OP_ALT_IF_SET,
                                           OP_REQUIRE_SET};
    static const enum interp_op colon[] = {
        OP_DEFAULT_IF_EMPTY, OP_ALT_IF_NONEMPTY, OP_REQUIRE_NONEMPTY};
    static const char ops[] = "-+?";
    const char *hit;

    if (n >= end) {
        return 0;
    }
    if (s[n] == ':' && n + 1 < end &&
        (hit = memchr(ops, s[n + 1], 3)) != NULL) {
        *op = colon[hit - ops];
        return n + 2;
    }
    if ((hit = memchr(ops, s[n], 3)) != NULL) {
        *op = plain[hit - ops];
        return n + 1;
    }
    return 0;
}

/* Returns the last '}' at or after a on a's line, or SIZE_MAX. */
static size_t last_brace(const char *s, struct interp_line *line, size_t a,
                         size_t end)
{
    const char *nl;
    const char *brace;

    if (!line->valid || a > line->end) {
        nl = memchr(s + a, '\n', end - a);
        line->end = nl != NULL ? (size_t)(nl - s) : end;
        brace = memrchr(s + a, '}', line->end - a);
        line->last_brace = brace != NULL ? (size_t)(brace - s) : SIZE_MAX;
        line->valid = 1;
    }
    if (line->last_brace == SIZE_MAX || line->last_brace < a) {
        return SIZE_MAX;
    }
    return line->last_brace;
}

/*
 * Returns the '}' that balances the "${" at d, counting every '{' and
 * skipping the character after it as compose-go does, or last when the
 * count never balances before it.
 */
static size_t balanced_close(const char *s, size_t d, size_t last)
{
    size_t open = 0;
    size_t i;

    for (i = d; i <= last; i++) {
        if (s[i] == '}') {
            open--;
            if (open == 0) {
                return i;
            }
        }
        if (s[i] == '{') {
            open++;
            i++;
        }
    }
    return last;
}

static int scan_braced(const char *s, struct interp_line *line, size_t d,
                       size_t end, struct interp_token *tok,
                       struct rotarr_error *err)
{
    size_t n = name_end(s, d + 2, end);
    size_t a;
    size_t last;

    if (n == d + 2) {
        return invalid_format(err);
    }
    tok->kind = TOKEN_VAR;
    tok->name = d + 2;
    tok->name_end = n;
    tok->op = OP_NONE;
    if (n < end && s[n] == '}') {
        tok->end = n + 1;
        return 0;
    }
    a = scan_op(s, n, end, &tok->op);
    if (a == 0) {
        return invalid_format(err);
    }
    last = last_brace(s, line, a, end);
    if (last == SIZE_MAX) {
        return invalid_format(err);
    }
    tok->arg = a;
    tok->arg_end = balanced_close(s, d, last);
    tok->end = tok->arg_end + 1;
    return 0;
}

/* Reads the token that starts at the '$' at s[d]. */
static int scan_token(const char *s, struct interp_line *line, size_t d,
                      size_t end, struct interp_token *tok,
                      struct rotarr_error *err)
{
    size_t p = d + 1;
    size_t n;

    tok->start = d;
    tok->op = OP_NONE;
    if (p < end && s[p] == '$') {
        tok->kind = TOKEN_ESCAPE;
        tok->end = p + 1;
        return 0;
    }
    n = name_end(s, p, end);
    if (n > p) {
        tok->kind = TOKEN_VAR;
        tok->name = p;
        tok->name_end = n;
        tok->end = n;
        return 0;
    }
    if (p < end && s[p] == '{') {
        return scan_braced(s, line, d, end, tok, err);
    }
    tok->kind = TOKEN_LITERAL;
    tok->end = p;
    return 0;
}

static int emit(struct interp_walk *w, const char *bytes, size_t n)
{
    size_t used;

    if (w->out == NULL || n == 0) {
        return 0;
    }
    used = w->out->len - w->out_base;
    if (n > ROTARR_INTERP_MAX_OUTPUT || used > ROTARR_INTERP_MAX_OUTPUT - n) {
        return rotarr_error_set(w->err, ROTARR_EFILE,
                                "interpolated text exceeds %zu MiB",
                                ROTARR_INTERP_MAX_OUTPUT >> 20);
    }
    return rotarr_wipe_buf_append(w->out, bytes, n, w->err);
}

static int emit_value(struct interp_walk *w, const char *value)
{
    return value != NULL ? emit(w, value, strlen(value)) : 0;
}

static int lookup_name(struct interp_walk *w, const struct interp_token *tok,
                       const char **value)
{
    rotarr_buf_reset(w->name);
    if (rotarr_buf_append(w->name, w->text + tok->name,
                          tok->name_end - tok->name, w->err) < 0) {
        return -1;
    }
    *value = w->lookup != NULL ? w->lookup(w->ctx, w->name->data) : NULL;
    return 0;
}

static int walk_arg(struct interp_walk *w, const struct interp_token *tok,
                    int depth)
{
    if (depth >= ROTARR_INTERP_MAX_DEPTH) {
        return rotarr_error_set(w->err, ROTARR_EFILE,
                                "interpolation nested deeper than %d levels",
                                ROTARR_INTERP_MAX_DEPTH);
    }
    return walk(w, tok->arg, tok->arg_end, depth + 1);
}

/*
 * Raises the error of a ":?" or "?" operator.  The message text is
 * expanded first, as Compose does, so that an error inside it wins.  The
 * error then quotes the text as written, because an expanded reference
 * could be a secret.
 */
static int missing_required(struct interp_walk *w,
                            const struct interp_token *tok, int depth)
{
    struct rotarr_buf scratch = ROTARR_BUF_INIT;
    struct interp_walk sub = *w;
    size_t name_len = tok->name_end - tok->name;
    size_t msg_len = tok->arg_end - tok->arg;
    int ret;

    sub.out = &scratch;
    sub.out_base = 0;
    ret = walk_arg(&sub, tok, depth);
    rotarr_wipe_buf_release(&scratch);
    if (ret < 0) {
        return -1;
    }
    if (msg_len > INTERP_MAX_QUOTED_MESSAGE) {
        msg_len = INTERP_MAX_QUOTED_MESSAGE;
    }
    if (msg_len == 0) {
        return rotarr_error_set(w->err, ROTARR_EFILE,
                                "required variable %.*s is missing a value",
                                (int)name_len, w->text + tok->name);
    }
    return rotarr_error_set(
        w->err, ROTARR_EFILE, "required variable %.*s is missing a value: %.*s",
        (int)name_len, w->text + tok->name, (int)msg_len, w->text + tok->arg);
}

static int is_empty(const char *value)
{
    return value == NULL || value[0] == '\0';
}

/*
 * NEEDSWORK: operator text is expanded only when it is used, as in a
 * vendored copy of compose-go v2.13.0.  Older releases expanded it first
 * and so also failed on an error inside unused text ("${A:-${}}" with A
 * set).  No test case at hand tells the two apart.
 */
static int expand_var(struct interp_walk *w, const struct interp_token *tok,
                      int depth)
{
    const char *value;

    if (lookup_name(w, tok, &value) < 0) {
        return -1;
    }
    switch (tok->op) {
    case OP_DEFAULT_IF_EMPTY:
        return is_empty(value) ? walk_arg(w, tok, depth) : emit_value(w, value);
    case OP_DEFAULT_IF_UNSET:
        return value == NULL ? walk_arg(w, tok, depth) : emit_value(w, value);
    case OP_ALT_IF_NONEMPTY:
        return !is_empty(value) ? walk_arg(w, tok, depth)
                                : emit_value(w, value);
    case OP_ALT_IF_SET:
        return value != NULL ? walk_arg(w, tok, depth) : 0;
    case OP_REQUIRE_NONEMPTY:
        return is_empty(value) ? missing_required(w, tok, depth)
                               : emit_value(w, value);
    case OP_REQUIRE_SET:
        return value == NULL ? missing_required(w, tok, depth)
                             : emit_value(w, value);
    case OP_NONE:
        break;
    }
    return emit_value(w, value);
}

static int report_var(struct interp_walk *w, const struct interp_token *tok,
                      int depth)
{
    struct rotarr_interp_ref ref;

    ref.name = w->text + tok->name;
    ref.name_len = tok->name_end - tok->name;
    ref.start = tok->start;
    ref.end = tok->end;
    ref.nested = depth > 0;
    w->cb_result = w->cb(w->cbctx, &ref);
    if (w->cb_result != 0) {
        return -1;
    }
    return tok->op != OP_NONE ? walk_arg(w, tok, depth) : 0;
}

static int apply_token(struct interp_walk *w, const struct interp_token *tok,
                       int depth)
{
    if (tok->kind != TOKEN_VAR) {
        return emit(w, "$", 1);
    }
    if (w->out != NULL) {
        return expand_var(w, tok, depth);
    }
    return report_var(w, tok, depth);
}

/* Expands or lists the text between begin and end, a template of its own
 * as in compose-go, where operator text is substituted separately. */
static int walk(struct interp_walk *w, size_t begin, size_t end, int depth)
{
    struct interp_line line = {0, 0, 0};
    struct interp_token tok;
    const char *dollar;
    size_t pos = begin;
    size_t d;

    while (pos < end) {
        dollar = memchr(w->text + pos, '$', end - pos);
        d = dollar != NULL ? (size_t)(dollar - w->text) : end;
        if (emit(w, w->text + pos, d - pos) < 0) {
            return -1;
        }
        if (d == end) {
            break;
        }
        if (scan_token(w->text, &line, d, end, &tok, w->err) < 0 ||
            apply_token(w, &tok, depth) < 0) {
            return -1;
        }
        pos = tok.end;
    }
    return 0;
}

int rotarr_interp_expand(const char *text, size_t len, rotarr_lookup_fn lookup,
                         void *ctx, struct rotarr_buf *out,
                         struct rotarr_error *err)
{
    struct rotarr_buf name = ROTARR_BUF_INIT;
    struct interp_walk w;
    int ret;

    memset(&w, 0, sizeof(w));
    w.text = text;
    w.lookup = lookup;
    w.ctx = ctx;
    w.out = out;
    w.out_base = out->len;
    w.name = &name;
    w.err = err;
    ret = walk(&w, 0, len, 0);
    rotarr_buf_release(&name);
    return ret;
}

int rotarr_interp_refs(const char *text, size_t len,
                       int (*cb)(void *cbctx,
                                 const struct rotarr_interp_ref *ref),
                       void *cbctx, struct rotarr_error *err)
{
    struct rotarr_buf name = ROTARR_BUF_INIT;
    struct interp_walk w;
    int ret;

    memset(&w, 0, sizeof(w));
    w.text = text;
    w.name = &name;
    w.cb = cb;
    w.cbctx = cbctx;
    w.err = err;
    ret = walk(&w, 0, len, 0);
    rotarr_buf_release(&name);
    if (ret < 0 && w.cb_result != 0) {
        return w.cb_result;
    }
    return ret;
}
