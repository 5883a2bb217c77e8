/*
 * The .env dialect exactly as Docker Compose v2 reads it (compose-go's
 * dotenv package, v2.13.0), with the position of every value so that a
 * single value can be replaced and every other byte kept.
 *
 * How Compose reads the file, statement after statement:
 *   - A UTF-8 byte order mark is dropped at the very start only.  Blank
 *     space (any Unicode space, '\r' included) and lines starting with
 *     '#' separate statements.
 *   - "export" followed by a blank or line break is dropped.
 *   - The key runs to the first '=', ':' or line break.  It contains Unicode
 *     letters and digits, '_', '.', '-', '[', ']' and blanks, which are
 *     trimmed at its end; an inner space is an error.  A key alone on its
 *     line takes its value from the shell environment (the lookup) and
 *     sets nothing when the lookup has none.  A last line that contains only
 *     a name and no line break sets the empty key to that name instead.
 *   - Blanks after '=' are skipped.  An unquoted value runs to the end of
 *     the line, is cut at the first space followed by '#', is trimmed at
 *     the end, and is interpolated (rotarr/interp.h).
 *   - A single-quoted value ends at the next "'" not escaped by a
 *     backslash, may span lines, and is literal except that "\'" becomes
 *     "'".
 *   - A double-quoted value ends likewise at '"', decodes \a \b \f \n \r
 *     \t \v \\ \" \$ and \0 followed by three octal digits (the code point
 *     in UTF-8), keeps any other backslash, and is interpolated ("\$"
 *     gives a '$' that is not).
 *   - Text after a closing quote is read as the next statement, unless it
 *     is a '#' comment.  A key set twice keeps its last value.
 *   - Interpolation looks a name up in the shell environment first, then
 *     in the keys set earlier in the file, then in earlier files.
 *
 * Error messages read "PATH:LINE: what" with code ROTARR_EFILE, where
 * Compose writes "line LINE: what".  They never quote a value, which may
 * be a secret, so two differ from Compose: an invalid key character
 * quotes the line only up to its '=' or ':', and an unterminated quote
 * names no text; LINE is then the line of the opening quote, where
 * Compose gives the line where its scan stopped.
 */
#ifndef ROTARR_DOTENV_H
#define ROTARR_DOTENV_H

#include <stddef.h>

#include "rotarr/compat.h"
#include "rotarr/buf.h"
#include "rotarr/error.h"
#include "rotarr/interp.h"

/* Largest file rotarr_dotenv_parse accepts. */
#define ROTARR_DOTENV_MAX_BYTES ((size_t)16 * 1024 * 1024)

/* Largest total of decoded keys and values (interpolation can make the
 * values of a file larger than the file). */
#define ROTARR_DOTENV_MAX_DECODED ((size_t)64 * 1024 * 1024)

enum rotarr_quote {
    ROTARR_QUOTE_NONE,
    ROTARR_QUOTE_SINGLE,
    ROTARR_QUOTE_DOUBLE,
};

/* One statement of the file; owned by the struct rotarr_dotenv. */
struct rotarr_dotenv_entry {
    const char *key; /* decoded key */
    /*
     * Value exactly as Compose reads it (escapes and interpolation
     * applied), NUL-terminated; NULL for a key alone on its line that the
     * lookup does not define.  It contains a NUL byte only when written as
     * "\0000" in double quotes.
     */
    const char *value;
    size_t value_len;
    /*
     * Byte span of the value text in the file, quotes included.  For an
     * empty unquoted value it is empty, after the blanks that follow
     * '='; for a key alone on its line it is empty, right after the key.
     */
    size_t value_start, value_end;
    size_t line, column; /* 1-based; column counts bytes */
    enum rotarr_quote quote;
    int exported;  /* the statement started with "export" */
    int inherited; /* a key alone on its line, no '=' or ':' */
    /*
     * 1 when '$' handling (interpolation or "$$") made value differ from
     * the text as written.  For a double-quoted value that text has its
     * backslash escapes decoded.
     */
    int dollar_changed;
    /*
     * 1 when an unquoted value contains '#': Compose reads it as data
     * because no space precedes it, but Compose releases before the
     * space rule cut the value at the first '#'.
     */
    int hash_warning;
};

struct rotarr_dotenv;

/*
 * Parses the len bytes at bytes (copied, so the caller may free them)
 * read from path, which is used only in messages.  Interpolation looks a
 * name up in lookup(ctx, name) first, which is the shell environment (a
 * NULL lookup finds nothing).  Then it tries the keys set earlier in this
 * file, then prior, the result for the env files before this one (or
 * NULL).  prior is borrowed and must outlive the result.
 *
 * Returns a new object to free with rotarr_dotenv_free, or NULL with err
 * set: ROTARR_EFILE for a file larger than ROTARR_DOTENV_MAX_BYTES, for
 * a syntax or interpolation error ("PATH:LINE: ..."), or when memory
 * runs out.
 */
struct rotarr_dotenv *rotarr_dotenv_parse(
    const char *path, const char *bytes, size_t len, rotarr_lookup_fn lookup,
    void *ctx, const struct rotarr_dotenv *prior,
    struct rotarr_error *err) ROTARR_MUST_CHECK ROTARR_NONNULL(1);

/* Returns the number of entries, in file order. */
size_t rotarr_dotenv_count(const struct rotarr_dotenv *env);

/* Returns entry i (i < rotarr_dotenv_count(env)). */
const struct rotarr_dotenv_entry *
rotarr_dotenv_entry(const struct rotarr_dotenv *env, size_t i);

/*
 * Returns the entry that gives key its value in this file, which is the
 * last one that sets it (a key alone on its line that the lookup does
 * not define sets nothing), or NULL when no entry does.
 */
const struct rotarr_dotenv_entry *
rotarr_dotenv_find(const struct rotarr_dotenv *env, const char *key);

/*
 * Returns the value Compose gives name after reading this file and the
 * files before it (prior), or NULL when none sets it.  Shaped as a
 * rotarr_lookup_fn: ctx is a const struct rotarr_dotenv *.
 */
const char *rotarr_dotenv_lookup(void *ctx, const char *name);

/* Returns the path given to rotarr_dotenv_parse. */
const char *rotarr_dotenv_path(const struct rotarr_dotenv *env);

/* Returns the original bytes, unchanged, and their number in *len. */
const char *rotarr_dotenv_bytes(const struct rotarr_dotenv *env, size_t *len);

/*
 * Appends to out the text to put in place of an entry's value span so
 * that Compose reads back exactly the len bytes at value.
 *
 * The current quoting style is kept when it can carry the value: bare
 * text when the value is not empty and every byte is one of
 * [A-Za-z0-9_.~+=,/:@%-], double quotes
 * when the value contains no '$'.  A value with a line break goes in
 * double quotes with \n, \r, \\, \", \$ escapes, and so does one that
 * single quotes cannot carry (a backslash right before a quote or at the
 * end).  Any other value goes in single quotes with \' for a quote, so a
 * value with '$' is single-quoted whenever possible.
 *
 * Returns 0, or -1 with err set to ROTARR_EUSAGE when the value contains a
 * NUL byte, which no environment variable can carry.
 */
int rotarr_dotenv_encode_value(const char *value, size_t len,
                               enum rotarr_quote current,
                               struct rotarr_buf *out, struct rotarr_error *err)
    ROTARR_NONNULL(4);

/* Wipes the bytes, keys and values (values may be secrets) and frees env.
 * Accepts NULL. */
void rotarr_dotenv_free(struct rotarr_dotenv *env);

#endif
