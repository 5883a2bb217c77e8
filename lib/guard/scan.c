#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "guard_private.h"

struct rotarr_guard_scan {
    struct rotarr_guard *guard;
    char *path;
    char commit[ROTARR_GUARD_OID_SIZE];
    struct rotarr_guard_findings *dest;
    struct rotarr_guard_findings found; /* this blob's, moved at finish */
    enum rotarr_guard_name name;
    int env_path; /* an env_file: path */

    size_t lines;             /* line breaks in the bytes fed so far */
    size_t *last_line;        /* per pattern: line last reported, + 1 */
    /* Bytes whose positions wait for enough of what follows, at most
     * 2 * max_need; wiped. */
    unsigned char *tail;
    size_t tail_len, tail_lines; /* line breaks before the tail */

    char *env;               /* an env file's bytes; wiped */
    size_t env_len, env_cap;
    int env_overflow;
};

/* A position in a buffer being searched and the line breaks before it,
 * so that lines are counted once however many matches there are. */
struct line_cursor {
    const unsigned char *buf;
    size_t pos;
    size_t lines; /* line breaks before buf[pos] */
};

/* Counts line breaks eight bytes at a time: a byte of x is zero exactly
 * where the input has '\n'. */
static size_t count_newlines(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
    size_t n = 0;
    uint64_t w, x;

    for (; p + 8 <= end; p += 8) {
        memcpy(&w, p, 8);
        x = w ^ (ones * '\n');
        x = ~(((x & low7) + low7) | x) & high;
        /* One bit per line break at the top of its byte: sum the bytes. */
        n += (size_t)(((x >> 7) * ones) >> 56);
    }
    for (; p < end; p++) {
        n += *p == '\n';
    }
    return n;
}

/* Returns the 1-based line of cursor->buf[pos]. */
static size_t line_at(struct line_cursor *cursor, size_t pos)
{
    cursor->lines += count_newlines(cursor->buf + cursor->pos,
                                    cursor->buf + pos);
    cursor->pos = pos;
    return cursor->lines + 1;
}

static int is_bech32_upper(unsigned char c)
{
    return c != '\0' && strchr("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", c) != NULL;
}

static int add_found(struct rotarr_guard_scan *scan,
                     enum rotarr_guard_kind kind, size_t line,
                     const char *prefix, const char *origin,
                     struct rotarr_error *err)
{
    struct rotarr_buf what = ROTARR_BUF_INIT;
    int ret;

    if (rotarr_buf_printf(&what, err, "%s%s", prefix, origin) < 0) {
        return -1;
    }
    ret = guard_findings_add(&scan->found, kind, scan->path, line,
                             scan->commit[0] != '\0' ? scan->commit : NULL,
                             what.data, err);
    rotarr_buf_release(&what);
    return ret;
}

/* Returns 1 when the len bytes at p are all bech32 (upper case). */
static int all_bech32(const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!is_bech32_upper(p[i])) {
            return 0;
        }
    }
    return 1;
}

/* Reports pattern index found at buf[pos]. */
static int report(struct rotarr_guard_scan *scan, uint32_t index,
                  struct line_cursor *cursor, size_t pos,
                  struct rotarr_error *err)
{
    const struct guard_pattern *p = &scan->guard->matcher.patterns[index];
    size_t line = line_at(cursor, pos);

    if (p->kind == GUARD_PATTERN_AGE_KEY || p->kind == GUARD_PATTERN_KEY) {
        return add_found(scan, ROTARR_GUARD_PRIVATE_KEY, line, "", p->origin,
                         err);
    }
    if (scan->last_line[index] == line + 1) {
        return 0;
    }
    scan->last_line[index] = line + 1;
    return add_found(scan, ROTARR_GUARD_SECRET_COPY, line,
                     p->kind == GUARD_PATTERN_ENCODED
                         ? "percent-encoded copy of "
                         : "copy of ",
                     p->origin, err);
}

/* Compares the patterns whose first window is at buf[pos]; a pattern
 * matches only when all the bytes it spans are in buf. */
static int verify(struct rotarr_guard_scan *scan,
                  const struct guard_bucket *bucket, const unsigned char *buf,
                  size_t len, size_t pos, struct line_cursor *cursor,
                  struct rotarr_error *err)
{
    const struct guard_matcher *m = &scan->guard->matcher;
    const struct guard_pattern *p;
    uint32_t i, index;

    for (i = 0; i < bucket->count; i++) {
        index = m->order[bucket->start + i];
        p = &m->patterns[index];
        if (p->duplicate || p->need > len - pos ||
            memcmp(buf + pos + GUARD_WINDOW,
                   m->arena + p->offset + GUARD_WINDOW,
                   p->len - GUARD_WINDOW) != 0) {
            continue;
        }
        if (p->kind == GUARD_PATTERN_AGE_KEY &&
            !all_bech32(buf + pos + p->len, p->need - p->len)) {
            continue;
        }
        if (report(scan, index, cursor, pos, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Looks for patterns starting at buf[from] to buf[to - 1].  buf has len
 * bytes, and lines line breaks come before it.  The filter test is the
 * only work at most positions.
 */
static int search(struct rotarr_guard_scan *scan, const unsigned char *buf,
                  size_t len, size_t from, size_t to, size_t lines,
                  struct rotarr_error *err)
{
    const struct guard_matcher *m = &scan->guard->matcher;
    const struct guard_bucket *bucket;
    struct line_cursor cursor = { buf, 0, lines };
    uint64_t window, h;
    size_t pos;

    if (len < GUARD_WINDOW) {
        return 0;
    }
    to = to < len - GUARD_WINDOW + 1 ? to : len - GUARD_WINDOW + 1;
    for (pos = from; pos < to; pos++) {
        memcpy(&window, buf + pos, GUARD_WINDOW);
        h = guard_window_hash(m, window);
        if ((m->filter[h >> 6] & ((uint64_t)1 << (h & 63))) == 0) {
            continue;
        }
        bucket = guard_matcher_bucket(m, window);
        if (bucket != NULL &&
            verify(scan, bucket, buf, len, pos, &cursor, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Keeps an env file's bytes, wiping every buffer it leaves behind. */
static int keep_env_bytes(struct rotarr_guard_scan *scan, const char *bytes,
                          size_t len, struct rotarr_error *err)
{
    size_t cap;
    char *grown;

    if (scan->env_overflow ||
        len > ROTARR_GUARD_MAX_ENV_BYTES - scan->env_len) {
        scan->env_overflow = 1;
        return 0;
    }
    if (scan->env_len + len > scan->env_cap) {
        cap = scan->env_cap > 0 ? scan->env_cap : 4096;
        while (cap < scan->env_len + len) {
            cap *= 2;
        }
        grown = malloc(cap);
        if (grown == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        if (scan->env != NULL) {
            memcpy(grown, scan->env, scan->env_len);
            sodium_memzero(scan->env, scan->env_cap);
            free(scan->env);
        }
        scan->env = grown;
        scan->env_cap = cap;
    }
    memcpy(scan->env + scan->env_len, bytes, len);
    scan->env_len += len;
    return 0;
}

/* Drops the first n bytes of the tail, whose positions are done. */
static void drop_tail(struct rotarr_guard_scan *scan, size_t n)
{
    scan->tail_lines += count_newlines(scan->tail, scan->tail + n);
    memmove(scan->tail, scan->tail + n, scan->tail_len - n);
    sodium_memzero(scan->tail + scan->tail_len - n, n);
    scan->tail_len -= n;
}

/*
 * Searches the positions kept in the tail now that the piece gives the
 * bytes after them.  Returns 1 when the piece was too short and went
 * into the tail whole, 0 when the piece is still to search.
 */
static int search_tail(struct rotarr_guard_scan *scan,
                       const unsigned char *piece, size_t len,
                       struct rotarr_error *err)
{
    size_t max_need = scan->guard->matcher.max_need;
    size_t old = scan->tail_len, take, ready;

    take = len < max_need - 1 ? len : max_need - 1;
    memcpy(scan->tail + scan->tail_len, piece, take);
    scan->tail_len += take;
    ready = scan->tail_len >= max_need ? scan->tail_len - max_need + 1 : 0;
    ready = ready < old ? ready : old;
    if (search(scan, scan->tail, scan->tail_len, 0, ready, scan->tail_lines,
               err) < 0) {
        return -1;
    }
    if (ready < old) {
        drop_tail(scan, ready); /* the piece is in the tail, unsearched */
        return 1;
    }
    drop_tail(scan, scan->tail_len); /* the piece is searched in place */
    return 0;
}

int rotarr_guard_scan_feed(struct rotarr_guard_scan *scan, const char *bytes,
                           size_t len, struct rotarr_error *err)
{
    const unsigned char *piece = (const unsigned char *)bytes;
    size_t max_need = scan->guard->matcher.max_need;
    size_t lines = scan->lines, ready;
    int absorbed = 0;

    if (len == 0) {
        return 0;
    }
    if (scan->name != ROTARR_GUARD_NAME_OTHER &&
        keep_env_bytes(scan, bytes, len, err) < 0) {
        return -1;
    }
    scan->lines += count_newlines(piece, piece + len);
    if (scan->tail_len > 0) {
        absorbed = search_tail(scan, piece, len, err);
        if (absorbed != 0) {
            return absorbed < 0 ? -1 : 0;
        }
    }
    ready = len >= max_need ? len - max_need + 1 : 0;
    if (search(scan, piece, len, 0, ready, lines, err) < 0) {
        return -1;
    }
    memcpy(scan->tail, piece + ready, len - ready);
    scan->tail_len = len - ready;
    scan->tail_lines = lines + count_newlines(piece, piece + ready);
    return 0;
}

struct rotarr_guard_scan *
rotarr_guard_scan_begin(struct rotarr_guard *guard, const char *path,
                        const char *commit,
                        struct rotarr_guard_findings *findings,
                        struct rotarr_error *err)
{
    struct rotarr_guard_scan *scan;

    if (guard_matcher_build(&guard->matcher, err) < 0) {
        return NULL;
    }
    scan = calloc(1, sizeof(*scan));
    if (scan == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    scan->guard = guard;
    scan->dest = findings;
    scan->path = strdup(path);
    scan->last_line = calloc(guard->matcher.count + 1, sizeof(size_t));
    scan->tail = malloc(2 * guard->matcher.max_need);
    if (scan->path == NULL || scan->last_line == NULL || scan->tail == NULL) {
        rotarr_guard_scan_abort(scan);
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (commit != NULL && strlen(commit) < sizeof(scan->commit)) {
        memcpy(scan->commit, commit, strlen(commit) + 1);
    }
    scan->env_path = guard_is_env_path(guard, path);
    scan->name = scan->env_path ? ROTARR_GUARD_NAME_ENV
                                : rotarr_guard_classify_name(path);
    return scan;
}

/* Decides on an env file once all of it is known.  Sets *rejected when
 * the file is rejected as a whole. */
static int judge_env_file(struct rotarr_guard_scan *scan,
                          struct rotarr_guard_findings *values, int *rejected,
                          struct rotarr_error *err)
{
    enum rotarr_guard_envelope envelope;
    const char *commit = scan->commit[0] != '\0' ? scan->commit : NULL;

    envelope = rotarr_guard_envelope_of(scan->env != NULL ? scan->env : "",
                                        scan->env_len);
    if (envelope == ROTARR_GUARD_AGE || envelope == ROTARR_GUARD_AGE_ARMOR) {
        return 0;
    }
    if (scan->env_overflow) {
        return guard_findings_add(values, ROTARR_GUARD_UNCHECKED, scan->path,
                                  1, commit,
                                  "env file larger than 16 MiB and not "
                                  "age-encrypted; encrypt it with age",
                                  err);
    }
    if (envelope == ROTARR_GUARD_SOPS ||
        scan->name == ROTARR_GUARD_NAME_EXAMPLE) {
        return guard_check_env_values(scan->path, commit, scan->env,
                                      scan->env_len,
                                      envelope == ROTARR_GUARD_SOPS, values,
                                      err);
    }
    *rejected = 1;
    if (commit != NULL) {
        /* Unstaging cannot help a file that a commit already holds. */
        return guard_findings_add(values, ROTARR_GUARD_PLAINTEXT_ENV,
                                  scan->path, 1, commit,
                                  "plaintext env file in a commit; rotate "
                                  "its secrets and rewrite the history",
                                  err);
    }
    return guard_findings_add(values, ROTARR_GUARD_PLAINTEXT_ENV, scan->path,
                              1, commit,
                              "plaintext env file; encrypt it with age or "
                              "sops, or unstage it with 'git rm --cached'",
                              err);
}

static int has_line(const struct rotarr_guard_findings *f, size_t line)
{
    size_t i;

    for (i = 0; i < f->count; i++) {
        if (f->items[i].line == line) {
            return 1;
        }
    }
    return 0;
}

static int compare_lines(const void *a, const void *b)
{
    const struct rotarr_guard_finding *x = a, *y = b;

    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return strcmp(x->what, y->what);
}

/*
 * Moves the blob's findings to the caller's list in line order.  A file
 * rejected as a whole keeps its private keys but not its copies of
 * secrets, which would repeat every line.  A value finding on a line that
 * already has a copy of a secret, and a finding equal to the one before
 * it, are dropped for the same reason.
 */
static int move_findings(struct rotarr_guard_scan *scan,
                         struct rotarr_guard_findings *values, int rejected,
                         struct rotarr_error *err)
{
    struct rotarr_guard_findings *all = &scan->found;
    struct rotarr_guard_finding *f;
    size_t i;

    for (i = 0; i < values->count; i++) {
        f = &values->items[i];
        if ((f->kind != ROTARR_GUARD_NOT_PLACEHOLDER ||
             !has_line(all, f->line)) &&
            guard_findings_add(all, f->kind, f->path, f->line,
                               f->commit[0] != '\0' ? f->commit : NULL,
                               f->what, err) < 0) {
            return -1;
        }
    }
    if (all->count > 1) {
        qsort(all->items, all->count, sizeof(*all->items), compare_lines);
    }
    for (i = 0; i < all->count; i++) {
        f = &all->items[i];
        if (rejected && f->kind == ROTARR_GUARD_SECRET_COPY) {
            continue;
        }
        /* A password found as written and decoded on one line. */
        if (i > 0 && f->line == f[-1].line &&
            strcmp(f->what, f[-1].what) == 0) {
            continue;
        }
        if (guard_findings_add(scan->dest, f->kind, f->path, f->line,
                               f->commit[0] != '\0' ? f->commit : NULL,
                               f->what, err) < 0) {
            return -1;
        }
    }
    scan->dest->dropped += all->dropped + values->dropped;
    return 0;
}

int rotarr_guard_scan_finish(struct rotarr_guard_scan *scan,
                             struct rotarr_error *err)
{
    struct rotarr_guard_findings values = ROTARR_GUARD_FINDINGS_INIT;
    int rejected = 0;
    int ret = -1;

    /* The last positions, with only the bytes that the blob has. */
    if (search(scan, scan->tail, scan->tail_len, 0, scan->tail_len,
               scan->tail_lines, err) < 0) {
        goto out;
    }
    if (scan->name != ROTARR_GUARD_NAME_OTHER &&
        judge_env_file(scan, &values, &rejected, err) < 0) {
        goto out;
    }
    if (move_findings(scan, &values, rejected, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    rotarr_guard_findings_release(&values);
    rotarr_guard_scan_abort(scan);
    return ret;
}

void rotarr_guard_scan_abort(struct rotarr_guard_scan *scan)
{
    if (scan == NULL) {
        return;
    }
    if (scan->env != NULL) {
        sodium_memzero(scan->env, scan->env_cap);
        free(scan->env);
    }
    if (scan->tail != NULL) {
        sodium_memzero(scan->tail, 2 * scan->guard->matcher.max_need);
        free(scan->tail);
    }
    rotarr_guard_findings_release(&scan->found);
    free(scan->last_line);
    free(scan->path);
    free(scan);
}

int rotarr_guard_check_blob(struct rotarr_guard *guard, const char *path,
                            const char *bytes, size_t len,
                            struct rotarr_guard_findings *findings,
                            struct rotarr_error *err)
{
    struct rotarr_guard_scan *scan;

    scan = rotarr_guard_scan_begin(guard, path, NULL, findings, err);
    if (scan == NULL) {
        return -1;
    }
    if (rotarr_guard_scan_feed(scan, bytes, len, err) < 0) {
        rotarr_guard_scan_abort(scan);
        return -1;
    }
    return rotarr_guard_scan_finish(scan, err);
}
