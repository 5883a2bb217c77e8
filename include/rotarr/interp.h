/*
 * Variable interpolation as Docker Compose v2 applies it to compose files
 * and to .env values (compose-go's template package, v2.13.0).
 *
 * Syntax, after a '$':
 *   $               a literal '$' ("$$" is the escape)
 *   NAME            the value of NAME, NAME = [A-Za-z_][A-Za-z0-9_]*
 *   {NAME}          the same
 *   {NAME:-text}    text when NAME is unset or empty, else its value
 *   {NAME-text}     text when NAME is unset
 *   {NAME:+text}    text when NAME is set and not empty, else its value
 *   {NAME+text}     text when NAME is set, else ""
 *   {NAME:?text}    an error naming NAME with the message text when NAME
 *                   is unset or empty, else its value
 *   {NAME?text}     the same when NAME is unset
 * text may hold further expressions and is expanded only when it is used.
 * An unset name expands to "".  Any other character after '$' keeps the
 * '$' as it is ("$1", "$ ", a final '$'), but a "${" that starts no valid
 * braced expression is an error.
 *
 * Two details follow from compose-go's regular expression and are kept
 * because Compose reads files that way:
 *   - A braced expression with an operator runs to the first '}' that
 *     balances the '{' characters after "${" (the character right after
 *     each '{' is skipped while counting), and it needs a '}' later on the
 *     same line; when the count never balances, it ends at the last '}'
 *     of the line.
 *   - Names match case-insensitively in Go, so the Kelvin sign U+212A and
 *     the long s U+017F count as name letters.
 */
#ifndef ROTARR_INTERP_H
#define ROTARR_INTERP_H

#include <stddef.h>

#include "rotarr/compat.h"
#include "rotarr/buf.h"
#include "rotarr/error.h"

/* Deepest nesting of expressions inside operator text ("${A:-${B:-x}}"
 * has depth 2). */
#define ROTARR_INTERP_MAX_DEPTH 32

/* Largest text one rotarr_interp_expand call may append. */
#define ROTARR_INTERP_MAX_OUTPUT ((size_t)16 * 1024 * 1024)

/*
 * Returns the value of the variable name (a NUL-terminated copy), or NULL
 * when it is unset.  The returned string must stay valid until the next
 * call.
 */
typedef const char *(*rotarr_lookup_fn)(void *ctx, const char *name);

/* One variable reference found by rotarr_interp_refs. */
struct rotarr_interp_ref {
    const char *name; /* points into the text; not NUL-terminated */
    size_t name_len;
    size_t start, end; /* byte span of the whole $NAME or ${...} */
    int nested;        /* 1 when inside another expression's text */
};

/*
 * Expands the len bytes at text as Compose does, looking names up with
 * lookup(ctx, name) (a NULL lookup finds nothing), and appends the result
 * to out.  Memory that out
 * leaves behind when it grows is wiped, because values may be secrets.
 *
 * Returns 0, or -1 with err set to ROTARR_EFILE for an invalid "${"
 * ("invalid interpolation format ..."), for "${X:?msg}" or "${X?msg}"
 * with X missing ("required variable X is missing a value: msg" in
 * Compose's words), for nesting deeper than ROTARR_INTERP_MAX_DEPTH, or
 * for a result larger than ROTARR_INTERP_MAX_OUTPUT.  Messages quote no
 * value, which may be a secret: msg appears as written, unexpanded.  On
 * error out keeps what was appended so far.
 */
int rotarr_interp_expand(const char *text, size_t len, rotarr_lookup_fn lookup,
                         void *ctx, struct rotarr_buf *out,
                         struct rotarr_error *err) ROTARR_NONNULL(5);

/*
 * Calls cb for each variable reference in the len bytes at text, in text
 * order.  References inside an operator's text come right after the
 * expression that contains them, with nested set.  "$$" is no reference.
 *
 * Returns 0 after the last reference.  When cb returns non-zero, the walk
 * stops and that value is returned.  Returns -1 with err set to
 * ROTARR_EFILE when the text is invalid as for rotarr_interp_expand.
 */
int rotarr_interp_refs(const char *text, size_t len,
                       int (*cb)(void *cbctx,
                                 const struct rotarr_interp_ref *ref),
                       void *cbctx, struct rotarr_error *err) ROTARR_NONNULL(3);

#endif
