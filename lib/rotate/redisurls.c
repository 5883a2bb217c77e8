#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "redis_private.h"
#include "rotarr/url.h"

/* Deepest compose node searched for URLs. */
#define MAX_DEPTH 64

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

static void add_name(struct redis_scan *scan, const char *name)
{
    if (name != NULL && name[0] != '\0' &&
        scan->name_count < REDIS_MAX_NAMES) {
        snprintf(scan->names[scan->name_count++], ROTARR_NAME_MAX, "%s",
                 name);
    }
}

/* Collects the names the server has: its service name, container_name
 * and hostname. */
void redis_server_names(struct redis_scan *scan,
                         const struct redis_server *server)
{
    static const char *const keys[] = { "container_name", "hostname" };
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const struct rotarr_ynode *node;
    size_t i;
    size_t j;

    add_name(scan, server->svc->name);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        node = NULL;
        for (j = 0; j < server->svc->layer_count; j++) {
            if (rotarr_ynode_get(server->svc->layers[j], keys[i]) != NULL) {
                node = rotarr_ynode_get(server->svc->layers[j], keys[i]);
            }
        }
        rotarr_buf_reset(&value);
        if (node != NULL && node->kind == ROTARR_YNODE_SCALAR &&
            rotarr_stack_expand(scan->stack, node->value, node->value_len,
                                &value, NULL) == 0) {
            add_name(scan, value.data);
        }
    }
    rotarr_buf_release(&value);
}

/* Returns 1 when the len bytes at host (before interpolation) name the
 * server. */
int redis_names_server(const struct redis_scan *scan, const char *host,
                        size_t len)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *text = host;
    size_t i;
    int found = 0;

    if (memchr(host, '$', len) != NULL) {
        if (rotarr_stack_expand(scan->stack, host, len, &value, NULL) < 0) {
            goto out;
        }
        text = value.data != NULL ? value.data : "";
        len = value.len;
    }
    for (i = 0; i < scan->name_count && !found; i++) {
        found = strlen(scan->names[i]) == len &&
                strncasecmp(scan->names[i], text, len) == 0;
    }

out:
    rotarr_buf_release(&value);
    return found;
}

/* Returns 1 when the password part of a URL, as written, is the new or
 * the old password (directly, encoded, or through variables). */
static int password_ok(const struct redis_scan *scan, const char *text,
                       size_t len)
{
    struct rotarr_buf expanded = ROTARR_BUF_INIT;
    struct rotarr_buf decoded = ROTARR_BUF_INIT;
    int ok = 0;

    if (rotarr_stack_expand(scan->stack, text, len, &expanded, NULL) < 0 ||
        rotarr_url_decode(expanded.data != NULL ? expanded.data : "",
                          expanded.len, &decoded, NULL) < 0) {
        goto out;
    }
    ok = decoded.len > 0 &&
         (redis_equals(decoded.data, decoded.len, scan->plan->next) ||
          redis_equals(decoded.data, decoded.len, scan->old));

out:
    wipe_buf(&expanded);
    wipe_buf(&decoded);
    return ok;
}

/* The userinfo a URL for this server must carry. */
static int wanted_userinfo(const struct redis_scan *scan, int compose,
                           struct rotarr_buf *out, struct rotarr_error *err)
{
    int literal = 1;

    if (rotarr_buf_puts(out,
                        scan->plan->major > 0 && scan->plan->major < 6
                            ? ":"
                            : "default:",
                        err) < 0) {
        return -1;
    }
    if (compose) {
        if (redis_password_text(scan->stack, scan->plan, 1, out, &literal,
                                err) < 0) {
            return -1;
        }
    } else if (rotarr_url_encode_userinfo(rotarr_secret_data(scan->plan->next),
                                          rotarr_secret_len(scan->plan->next),
                                          out, err) < 0) {
        return -1;
    }
    return rotarr_buf_puts(out, "@", err);
}

void redis_fixes_release(struct redis_url_fixes *fixes)
{
    size_t i;

    for (i = 0; i < fixes->count; i++) {
        wipe_buf(&fixes->items[i].text);
    }
    fixes->count = 0;
}

struct expression_limit {
    size_t at;
    size_t limit;
};

static int find_limit(void *ctx, const struct rotarr_interp_ref *ref)
{
    struct expression_limit *el = ctx;

    if (!ref->nested && ref->start < el->at && el->at < ref->end) {
        el->limit = ref->end - 1;
    }
    return 0;
}

/* Returns where a URL starting at at ends at the latest: the closing
 * brace when it sits inside a ${VAR:-default} expression. */
static size_t url_limit(const char *text, size_t len, size_t at)
{
    struct expression_limit el = { at, len };

    (void)rotarr_interp_refs(text, len, find_limit, &el, NULL);
    return el.limit;
}

/* Returns 1 for the redis:// or rediss:// scheme ending at sep. */
static int redis_scheme(const char *text, size_t sep, size_t *start)
{
    size_t s = sep;

    while (s > 0 && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                           "VWXYZ0123456789+.-",
                           text[s - 1]) != NULL) {
        s--;
    }
    while (s < sep && !((text[s] >= 'a' && text[s] <= 'z') ||
                        (text[s] >= 'A' && text[s] <= 'Z'))) {
        s++; /* a scheme starts with a letter: skip the ":-" of ${X:-...} */
    }
    *start = s;
    return (sep - s == 5 && strncasecmp(text + s, "redis", 5) == 0) ||
           (sep - s == 6 && strncasecmp(text + s, "rediss", 6) == 0);
}

/* Plans the fix of one URL found at [start, ...) of text, if needed. */
static int check_url(const struct redis_scan *scan, const char *text,
                     size_t len, size_t start, int compose,
                     struct redis_url_fixes *fixes, int *found,
                     struct rotarr_error *err)
{
    struct rotarr_url_parts parts;
    struct redis_url_fix *fix;
    const char *user;
    size_t user_len;
    int user_ok;

    if (rotarr_url_parse(text + start, url_limit(text, len, start) - start,
                         &parts) < 0 ||
        !redis_names_server(scan, text + start + parts.host_start,
                      parts.host_end - parts.host_start)) {
        return 0;
    }
    *found = 1;
    user = text + start + parts.user_start;
    user_len = parts.user_end - parts.user_start;
    user_ok = scan->plan->major > 0 && scan->plan->major < 6
                  ? user_len == 0
                  : user_len == 7 && strncmp(user, "default", 7) == 0;
    if (parts.has_password && user_ok &&
        password_ok(scan, text + start + parts.password_start,
                    parts.password_end - parts.password_start)) {
        return 0;
    }
    if (fixes->count == REDIS_MAX_FIXES) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "a value holds more than %d Redis URLs",
                                REDIS_MAX_FIXES);
    }
    fix = &fixes->items[fixes->count++];
    memset(fix, 0, sizeof(*fix));
    fix->start = start + parts.scheme_end + 3;
    fix->end = start + parts.host_start;
    return wanted_userinfo(scan, compose, &fix->text, err);
}

/* Finds the Redis URLs of this server in text and the fixes they need. */
int redis_scan_text(const struct redis_scan *scan, const char *text,
                     size_t len, int compose, struct redis_url_fixes *fixes,
                     int *found, struct rotarr_error *err)
{
    const char *sep;
    size_t from = 0;
    size_t start;

    while ((sep = memmem(text + from, len - from, "://", 3)) != NULL) {
        from = (size_t)(sep - text) + 3;
        if (redis_scheme(text, (size_t)(sep - text), &start) &&
            check_url(scan, text, len, start, compose, fixes, found, err) <
                0) {
            return -1;
        }
    }
    return 0;
}

static int note_url(struct redis_scan *scan, const char *file,
                    size_t line, const char *where,
                    struct rotarr_error *err)
{
    return redis_plan_note(scan->plan, err,
                           "%s:%zu: %s: the Redis URL gets the password",
                           file, line, where);
}

/* Fixes the URLs of one env file entry in place. */
static int scan_env_entry(struct redis_scan *scan, size_t index,
                          const struct rotarr_dotenv_entry *entry,
                          struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf = rotarr_stack_file(scan->stack,
                                                           index);
    struct rotarr_redis_file *file;
    struct redis_url_fixes fixes;
    size_t start = entry->value_start;
    size_t end = entry->value_end;
    int found = 0;
    size_t i;
    int ret = -1;

    fixes.count = 0;
    if (entry->quote != ROTARR_QUOTE_NONE && end - start >= 2) {
        start++;
        end--;
    }
    if (redis_scan_text(scan, sf->bytes + start, end - start, 0, &fixes,
                        &found, err) < 0) {
        goto out;
    }
    if (fixes.count == 0) {
        ret = 0;
        goto out;
    }
    file = redis_plan_file(scan->stack, scan->plan, index, err);
    for (i = 0; file != NULL && i < fixes.count; i++) {
        if (rotarr_text_edits_add(&file->edits, start + fixes.items[i].start,
                                  start + fixes.items[i].end,
                                  fixes.items[i].text.data,
                                  fixes.items[i].text.len, err) < 0) {
            goto out;
        }
    }
    ret = file != NULL ? note_url(scan, sf->display, entry->line, entry->key,
                                  err)
                       : -1;

out:
    redis_fixes_release(&fixes);
    return ret;
}

/* Returns 1 when a scalar's bytes in the file are its decoded text. */
static int stored_as_is(const struct rotarr_stack_file *sf,
                        const struct rotarr_ynode *node, size_t *offset)
{
    size_t start = node->start;
    size_t end = node->end;

    if (node->style == ROTARR_YSTYLE_SINGLE ||
        node->style == ROTARR_YSTYLE_DOUBLE) {
        start++;
        end--;
    } else if (node->style != ROTARR_YSTYLE_PLAIN) {
        return 0;
    }
    *offset = start;
    return end >= start && end - start == node->value_len &&
           memcmp(sf->bytes + start, node->value, node->value_len) == 0;
}

/* Builds the scalar's whole new text with every fix applied. */
static int rebuilt_scalar(const struct rotarr_ynode *node,
                          const struct redis_url_fixes *fixes,
                          struct rotarr_buf *out, struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    size_t at = 0;
    size_t i;
    int ret = -1;

    for (i = 0; i < fixes->count; i++) {
        if (rotarr_buf_append(&value, node->value + at,
                              fixes->items[i].start - at, err) < 0 ||
            rotarr_buf_append(&value, fixes->items[i].text.data,
                              fixes->items[i].text.len, err) < 0) {
            goto out;
        }
        at = fixes->items[i].end;
    }
    if (rotarr_buf_append(&value, node->value + at, node->value_len - at,
                          err) < 0) {
        goto out;
    }
    ret = rotarr_yaml_encode_scalar(value.data, value.len,
                                    node->style == ROTARR_YSTYLE_DOUBLE
                                        ? ROTARR_YSTYLE_DOUBLE
                                        : ROTARR_YSTYLE_SINGLE,
                                    out, err);

out:
    wipe_buf(&value);
    return ret;
}

static int apply_scalar_fixes(struct redis_scan *scan, size_t index,
                              const struct rotarr_ynode *node, int in_flow,
                              const struct redis_url_fixes *fixes,
                              struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf = rotarr_stack_file(scan->stack,
                                                           index);
    struct rotarr_redis_file *file;
    struct rotarr_buf whole = ROTARR_BUF_INIT;
    int in_place = 1;
    size_t offset = 0;
    size_t i;
    int ret = -1;

    file = redis_plan_file(scan->stack, scan->plan, index, err);
    if (file == NULL) {
        return -1;
    }
    for (i = 0; i < fixes->count; i++) {
        /* Braces end a plain scalar inside a flow collection. */
        in_place = in_place &&
                   (node->style != ROTARR_YSTYLE_PLAIN || !in_flow ||
                    memchr(fixes->items[i].text.data, '{',
                           fixes->items[i].text.len) == NULL);
    }
    if (in_place && stored_as_is(sf, node, &offset)) {
        for (i = 0; i < fixes->count; i++) {
            if (rotarr_text_edits_add(&file->edits,
                                      offset + fixes->items[i].start,
                                      offset + fixes->items[i].end,
                                      fixes->items[i].text.data,
                                      fixes->items[i].text.len, err) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (rebuilt_scalar(node, fixes, &whole, err) == 0) {
        ret = rotarr_text_edits_add(&file->edits, node->start, node->end,
                                    whole.data, whole.len, err);
    }
    wipe_buf(&whole);
    return ret;
}

struct yaml_walk {
    struct redis_scan *scan;
    size_t index;
    struct rotarr_buf path;
    int in_flow; /* the node sits in a flow collection */
};

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err);

static int scan_scalar(struct yaml_walk *walk, const struct rotarr_ynode *node,
                       struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf = rotarr_stack_file(walk->scan->stack,
                                                           walk->index);
    struct redis_url_fixes fixes;
    int found = 0;
    int ret = -1;

    fixes.count = 0;
    if (node->doc != sf->yaml || memmem(node->value, node->value_len, "://",
                                        3) == NULL) {
        return 0;
    }
    if (redis_scan_text(walk->scan, node->value, node->value_len, 1, &fixes,
                  &found, err) < 0) {
        goto out;
    }
    ret = 0;
    if (fixes.count > 0 &&
        (apply_scalar_fixes(walk->scan, walk->index, node, walk->in_flow,
                            &fixes, err) < 0 ||
         note_url(walk->scan, sf->display, node->line,
                  walk->path.data != NULL ? walk->path.data : "", err) < 0)) {
        ret = -1;
    }

out:
    redis_fixes_release(&fixes);
    return ret;
}

static int walk_child(struct yaml_walk *walk, const char *name,
                      const struct rotarr_ynode *parent,
                      const struct rotarr_ynode *child, int depth,
                      struct rotarr_error *err)
{
    size_t saved = walk->path.len;
    int saved_flow = walk->in_flow;
    int ret;

    if ((saved > 0 && rotarr_buf_puts(&walk->path, ".", err) < 0) ||
        rotarr_buf_puts(&walk->path, name, err) < 0) {
        return -1;
    }
    walk->in_flow = parent->flow;
    ret = walk_node(walk, child, depth + 1, err);
    walk->in_flow = saved_flow;
    walk->path.len = saved;
    walk->path.data[saved] = '\0';
    return ret;
}

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err)
{
    char index[32];
    size_t i;

    if (node == NULL || depth > MAX_DEPTH) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return scan_scalar(walk, node, err);
    }
    for (i = 0; i < node->count; i++) {
        if (node->kind == ROTARR_YNODE_MAPPING) {
            /* An alias (its node lies before the key) or a merge key
             * leads to nodes that are searched where they are written. */
            if (node->items[2 * i + 1]->start < node->items[2 * i]->end ||
                rotarr_ynode_equals(node->items[2 * i], "<<") ||
                walk_child(walk, node->items[2 * i]->value, node,
                           node->items[2 * i + 1], depth, err) == 0) {
                continue;
            }
            return -1;
        }
        if (node->items[i]->start < node->start) {
            continue;
        }
        snprintf(index, sizeof(index), "%zu", i);
        if (walk_child(walk, index, node, node->items[i], depth, err) < 0) {
            return -1;
        }
    }
    return 0;
}


int redis_fix_all_urls(struct redis_scan *scan, struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf;
    const struct rotarr_dotenv_entry *entry;
    struct yaml_walk walk;
    size_t i;
    size_t j;
    int ret = 0;

    for (i = 0; i < rotarr_stack_file_count(scan->stack) && ret == 0; i++) {
        sf = rotarr_stack_file(scan->stack, i);
        if (sf->kind == ROTARR_STACK_FILE_ENV) {
            for (j = 0; j < rotarr_dotenv_count(sf->env) && ret == 0; j++) {
                entry = rotarr_dotenv_entry(sf->env, j);
                if (!entry->inherited &&
                    entry->value_end > entry->value_start) {
                    ret = scan_env_entry(scan, i, entry, err);
                }
            }
        } else if (sf->kind == ROTARR_STACK_FILE_COMPOSE) {
            walk.scan = scan;
            walk.index = i;
            walk.in_flow = 0;
            memset(&walk.path, 0, sizeof(walk.path));
            ret = walk_node(&walk, rotarr_ydoc_root(sf->yaml), 0, err);
            rotarr_buf_release(&walk.path);
        }
    }
    return ret;
}
