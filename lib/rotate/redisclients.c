#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "redis_private.h"
#include "rotarr/url.h"

/* Names the server answers to on the compose network. */
#define MAX_NAMES 4

/* Deepest compose node searched for URLs. */
#define MAX_DEPTH 64

/* Apps that read the Redis password from a fixed variable, by the end of
 * their image repository. */
static const struct {
    const char *image;
    const char *var;
} known_apps[] = {
    { "immich-server", "REDIS_PASSWORD" },
    { "nextcloud", "REDIS_HOST_PASSWORD" },
    { "mastodon", "REDIS_PASSWORD" },
    { "mastodon-streaming", "REDIS_PASSWORD" },
    { "goauthentik/server", "AUTHENTIK_REDIS__PASSWORD" },
    { "n8n", "QUEUE_BULL_REDIS_PASSWORD" },
    { "ghostfolio", "REDIS_PASSWORD" },
};

struct client_scan {
    const struct rotarr_stack *stack;
    struct rotarr_redisrot_plan *plan;
    char names[MAX_NAMES][ROTARR_NAME_MAX];
    size_t name_count;
    const struct rotarr_secret *old;
};

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

static void add_name(struct client_scan *scan, const char *name)
{
    if (name != NULL && name[0] != '\0' && scan->name_count < MAX_NAMES) {
        snprintf(scan->names[scan->name_count++], ROTARR_NAME_MAX, "%s",
                 name);
    }
}

/* Collects the names the server has: its service name, container_name
 * and hostname. */
static void server_names(struct client_scan *scan,
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
static int names_server(const struct client_scan *scan, const char *host,
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
static int password_ok(const struct client_scan *scan, const char *text,
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
static int wanted_userinfo(const struct client_scan *scan, int compose,
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

/* One URL fix: replace [start, end) of the searched text. */
struct url_fix {
    size_t start, end;
    struct rotarr_buf text;
};

#define MAX_FIXES 16

struct url_fixes {
    struct url_fix items[MAX_FIXES];
    size_t count;
};

static void fixes_release(struct url_fixes *fixes)
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
static int check_url(const struct client_scan *scan, const char *text,
                     size_t len, size_t start, int compose,
                     struct url_fixes *fixes, int *found,
                     struct rotarr_error *err)
{
    struct rotarr_url_parts parts;
    struct url_fix *fix;
    const char *user;
    size_t user_len;
    int user_ok;

    if (rotarr_url_parse(text + start, url_limit(text, len, start) - start,
                         &parts) < 0 ||
        !names_server(scan, text + start + parts.host_start,
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
    if (fixes->count == MAX_FIXES) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "a value holds more than %d Redis URLs",
                                MAX_FIXES);
    }
    fix = &fixes->items[fixes->count++];
    memset(fix, 0, sizeof(*fix));
    fix->start = start + parts.scheme_end + 3;
    fix->end = start + parts.host_start;
    return wanted_userinfo(scan, compose, &fix->text, err);
}

/* Finds the Redis URLs of this server in text and the fixes they need. */
static int scan_text(const struct client_scan *scan, const char *text,
                     size_t len, int compose, struct url_fixes *fixes,
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

static int note_url(struct client_scan *scan, const char *file,
                    size_t line, const char *where,
                    struct rotarr_error *err)
{
    return redis_plan_note(scan->plan, err,
                           "%s:%zu: %s: the Redis URL gets the password",
                           file, line, where);
}

/* Fixes the URLs of one env file entry in place. */
static int scan_env_entry(struct client_scan *scan, size_t index,
                          const struct rotarr_dotenv_entry *entry,
                          struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf = rotarr_stack_file(scan->stack,
                                                           index);
    struct rotarr_redis_file *file;
    struct url_fixes fixes;
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
    if (scan_text(scan, sf->bytes + start, end - start, 0, &fixes, &found,
                  err) < 0) {
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
    fixes_release(&fixes);
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
                          const struct url_fixes *fixes,
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

static int apply_scalar_fixes(struct client_scan *scan, size_t index,
                              const struct rotarr_ynode *node, int in_flow,
                              const struct url_fixes *fixes,
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
    struct client_scan *scan;
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
    struct url_fixes fixes;
    int found = 0;
    int ret = -1;

    fixes.count = 0;
    if (node->doc != sf->yaml || memmem(node->value, node->value_len, "://",
                                        3) == NULL) {
        return 0;
    }
    if (scan_text(walk->scan, node->value, node->value_len, 1, &fixes,
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
    fixes_release(&fixes);
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

/* Fixes every URL of this server in the stack's env and compose files,
 * whoever reads it. */
static int fix_all_urls(struct client_scan *scan, struct rotarr_error *err)
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
                if (!entry->inherited && entry->value_end > entry->value_start) {
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

/* What one client service shows about its use of the server. */
struct client_view {
    const struct rotarr_compose_service *svc;
    int url;       /* a value holds a URL of the server */
    int depends;   /* depends_on names the server */
    char host_var[ROTARR_NAME_MAX];  /* REDIS_HOST-style variable */
    size_t host_file; /* env file index defining it, or not in stack */
    char password_vars[4][ROTARR_NAME_MAX]; /* existing password vars */
    size_t password_var_count;
    const char *known_var; /* from the image */
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int is_redis_name(const char *key)
{
    return strcasestr(key, "REDIS") != NULL &&
           strcasestr(key, "SENTINEL") == NULL;
}

static int is_host_var(const char *key)
{
    return is_redis_name(key) &&
           (ends_with(key, "HOST") || ends_with(key, "HOSTNAME") ||
            ends_with(key, "SERVER"));
}

static int is_password_var(const char *key)
{
    return is_redis_name(key) &&
           (ends_with(key, "PASSWORD") || ends_with(key, "_PASS"));
}

/* Looks at one variable of the client: key and its expanded value. */
static void view_variable(const struct client_scan *scan,
                          struct client_view *view, const char *key,
                          const char *value, size_t file)
{
    struct url_fixes fixes;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    int found = 0;
    size_t i;

    fixes.count = 0;
    if (value != NULL && strstr(value, "://") != NULL &&
        scan_text(scan, value, strlen(value), 0, &fixes, &found, &ignored) ==
            0 &&
        found) {
        view->url = 1;
    }
    fixes_release(&fixes);
    if (value != NULL && is_host_var(key) && view->host_var[0] == '\0' &&
        names_server(scan, value, strcspn(value, ":"))) {
        snprintf(view->host_var, sizeof(view->host_var), "%s", key);
        view->host_file = file;
    }
    for (i = 0; i < view->password_var_count; i++) {
        if (strcmp(view->password_vars[i], key) == 0) {
            return;
        }
    }
    if (is_password_var(key) && view->password_var_count < 4) {
        snprintf(view->password_vars[view->password_var_count++],
                 ROTARR_NAME_MAX, "%s", key);
    }
}

static int view_env_files(const struct client_scan *scan,
                          struct client_view *view)
{
    const struct rotarr_stack_file *sf;
    const struct rotarr_dotenv_entry *entry;
    size_t index;
    size_t i;
    size_t j;

    for (i = 0; i < rotarr_stack_file_count(scan->stack); i++) {
        sf = rotarr_stack_file(scan->stack, i);
        for (j = 0; sf->kind == ROTARR_STACK_FILE_ENV &&
                    j < rotarr_dotenv_count(sf->env);
             j++) {
            entry = rotarr_dotenv_entry(sf->env, j);
            if (entry->value != NULL &&
                redis_service_env_entry(scan->stack, view->svc, entry->key,
                                        &index) == entry) {
                view_variable(scan, view, entry->key, entry->value, i);
            }
        }
    }
    return 0;
}

static void view_known_app(const struct client_scan *scan,
                           struct client_view *view)
{
    struct rotarr_buf image = ROTARR_BUF_INIT;
    size_t len;
    size_t n;
    size_t i;

    if (view->svc->image == NULL ||
        rotarr_stack_expand(scan->stack, view->svc->image,
                            strlen(view->svc->image), &image, NULL) < 0) {
        goto out;
    }
    len = strcspn(image.data, ":@");
    for (i = 0; i < sizeof(known_apps) / sizeof(known_apps[0]); i++) {
        n = strlen(known_apps[i].image);
        if (len >= n && strncmp(image.data + len - n, known_apps[i].image,
                                n) == 0 &&
            (len == n || image.data[len - n - 1] == '/')) {
            view->known_var = known_apps[i].var;
        }
    }

out:
    rotarr_buf_release(&image);
}

static void view_client(const struct client_scan *scan,
                        const struct rotarr_compose_service *svc,
                        struct client_view *view)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *inherited;
    size_t i;

    memset(view, 0, sizeof(*view));
    view->svc = svc;
    view->host_file = ROTARR_REDIS_NOT_IN_STACK;
    for (i = 0; i < svc->depends_count; i++) {
        view->depends = view->depends || strcmp(svc->depends[i],
                                                scan->plan->service) == 0;
    }
    view_env_files(scan, view);
    for (i = 0; i < svc->env_count; i++) {
        rotarr_buf_reset(&value);
        if (svc->env[i].raw == NULL) {
            inherited = rotarr_stack_lookup(scan->stack, svc->env[i].key);
            view_variable(scan, view, svc->env[i].key, inherited,
                          ROTARR_REDIS_NOT_IN_STACK);
        } else if (rotarr_stack_expand(scan->stack, svc->env[i].raw,
                                       svc->env[i].raw_len, &value,
                                       NULL) == 0) {
            view_variable(scan, view, svc->env[i].key,
                          value.data != NULL ? value.data : "",
                          ROTARR_REDIS_NOT_IN_STACK);
        } else {
            /* "${X:?}" with X still empty: the name alone counts. */
            view_variable(scan, view, svc->env[i].key, NULL,
                          ROTARR_REDIS_NOT_IN_STACK);
        }
    }
    view_known_app(scan, view);
    wipe_buf(&value);
}

/* Returns the compose variable of svc called key, or NULL. */
static const struct rotarr_compose_env *
compose_var(const struct rotarr_compose_service *svc, const char *key)
{
    const struct rotarr_compose_env *found = NULL;
    size_t i;

    for (i = 0; i < svc->env_count; i++) {
        if (strcmp(svc->env[i].key, key) == 0) {
            found = &svc->env[i];
        }
    }
    return found;
}

/* Returns the mapping of svc whose environment gets new entries. */
static const struct rotarr_ynode *
env_layer(const struct rotarr_compose_service *svc)
{
    size_t i;

    for (i = svc->layer_count; i > 0; i--) {
        if (rotarr_ynode_get(svc->layers[i - 1], "environment") != NULL) {
            return svc->layers[i - 1];
        }
    }
    return svc->layer_count > 0 ? svc->layers[svc->layer_count - 1]
                                : svc->node;
}

/* Adds key to the client's compose environment, or to the env file that
 * holds its host variable. */
static int add_client_var(struct client_scan *scan,
                          const struct client_view *view, const char *key,
                          struct rotarr_error *err)
{
    const struct rotarr_ynode *layer = env_layer(view->svc);
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file;
    int literal;
    int ret = -1;

    if (view->host_file != ROTARR_REDIS_NOT_IN_STACK) {
        if (redis_env_append(scan->stack, scan->plan, view->host_file, key,
                             rotarr_secret_data(scan->plan->next),
                             rotarr_secret_len(scan->plan->next), err) < 0) {
            return -1;
        }
        return redis_plan_note(
            scan->plan, err, "%s: add %s for service '%s'",
            rotarr_stack_file(scan->stack, view->host_file)->display, key,
            view->svc->name);
    }
    file = redis_plan_file(scan->stack, scan->plan,
                           redis_yaml_file(scan->stack, layer), err);
    if (file == NULL ||
        redis_password_text(scan->stack, scan->plan, 0, &text, &literal,
                            err) < 0 ||
        rotarr_compose_env_set(&file->edits, layer, key, text.data, "image",
                               err) < 0) {
        goto out;
    }
    ret = redis_plan_note(scan->plan, err, "services.%s.environment: set %s",
                          view->svc->name, key);

out:
    wipe_buf(&text);
    return ret;
}

/* Returns 1 when the client reads the project env file as an env_file. */
static int reads_project_env(const struct client_scan *scan,
                             const struct client_view *view)
{
    const struct rotarr_stack_file *env = rotarr_stack_env_file(scan->stack);
    size_t index = 0;
    size_t i;

    for (i = 0; env != NULL && i < rotarr_dotenv_count(env->env); i++) {
        if (redis_service_env_entry(scan->stack, view->svc,
                                    rotarr_dotenv_entry(env->env, i)->key,
                                    &index) != NULL &&
            rotarr_stack_file(scan->stack, index) == env) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when a compose variable's value is the new or old password. */
static int literal_holds(const struct client_scan *scan,
                         const struct rotarr_compose_env *var)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    int holds = 0;

    if (rotarr_stack_expand(scan->stack, var->raw, var->raw_len, &value,
                            NULL) == 0) {
        holds = redis_equals(value.data, value.len, scan->plan->next) ||
                redis_equals(value.data, value.len, scan->old);
    }
    wipe_buf(&value);
    return holds;
}

/* Gives the client's variable key the password: "set", "added" or
 * "kept" goes in *action. */
static int ensure_client_var(struct client_scan *scan,
                             const struct client_view *view, const char *key,
                             const char **action, struct rotarr_error *err)
{
    const struct rotarr_compose_env *var = compose_var(view->svc, key);
    const struct rotarr_dotenv_entry *entry;
    char name[ROTARR_NAME_MAX] = "";
    size_t index;

    *action = "kept";
    if (var != NULL && var->raw == NULL) {
        return strcmp(key, scan->plan->var) == 0
                   ? 0
                   : redis_project_ensure(scan->stack, scan->plan, key,
                                          scan->old, err);
    }
    if (var != NULL) {
        redis_sole_variable(var->raw, var->raw_len, name, sizeof(name));
    }
    if (var != NULL && name[0] != '\0') {
        return strcmp(name, scan->plan->var) == 0
                   ? 0
                   : redis_project_ensure(scan->stack, scan->plan, name,
                                          scan->old, err);
    }
    if (var != NULL && literal_holds(scan, var)) {
        return 0;
    }
    if (var != NULL) {
        *action = "set";
        return add_client_var(scan, view, key, err);
    }
    entry = redis_service_env_entry(scan->stack, view->svc, key, &index);
    if (entry != NULL) {
        return redis_env_ensure(scan->stack, scan->plan, index, entry,
                                scan->old, err);
    }
    if (strcmp(key, scan->plan->var) == 0 && reads_project_env(scan, view)) {
        return 0; /* the project env file gets the variable */
    }
    *action = "added";
    return add_client_var(scan, view, key, err);
}

/* Derives the password variable from the host variable's name:
 * REDIS_HOST gives REDIS_PASSWORD, AUTHENTIK_REDIS__HOST gives
 * AUTHENTIK_REDIS__PASSWORD. */
static void derived_var(const char *host_var, char *out, size_t size)
{
    size_t n = strlen(host_var);

    if (ends_with(host_var, "HOSTNAME")) {
        n -= 8;
    } else {
        n -= ends_with(host_var, "HOST") ? 4 : 6;
    }
    snprintf(out, size, "%.*sPASSWORD", (int)n, host_var);
}

static int add_client(struct rotarr_redisrot_plan *plan, const char *service,
                      const char *how, int configured,
                      struct rotarr_error *err)
{
    struct rotarr_redis_client *grown;
    struct rotarr_redis_client *client;

    grown = realloc(plan->clients, (plan->client_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    plan->clients = grown;
    client = &grown[plan->client_count];
    client->service = strdup(service);
    client->how = strdup(how);
    client->configured = configured;
    if (client->service == NULL || client->how == NULL) {
        free(client->service);
        free(client->how);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    plan->client_count++;
    return configured ? redis_plan_restart(plan, service, err) : 0;
}

static int configure_client(struct client_scan *scan,
                            const struct client_view *view,
                            struct rotarr_error *err)
{
    char target[ROTARR_NAME_MAX] = "";
    char how[2 * ROTARR_NAME_MAX];
    const char *action = "kept";
    size_t i;

    for (i = 0; i < view->password_var_count; i++) {
        if (ensure_client_var(scan, view, view->password_vars[i], &action,
                              err) < 0) {
            return -1;
        }
        snprintf(target, sizeof(target), "%s", view->password_vars[i]);
    }
    if (view->url) {
        snprintf(how, sizeof(how), "Redis URL%s%s", target[0] ? ", " : "",
                 target);
        return add_client(scan->plan, view->svc->name, how, 1, err);
    }
    if (target[0] == '\0' && view->known_var != NULL) {
        snprintf(target, sizeof(target), "%s", view->known_var);
    } else if (target[0] == '\0' && view->host_var[0] != '\0') {
        derived_var(view->host_var, target, sizeof(target));
    }
    if (target[0] == '\0') {
        return add_client(scan->plan, view->svc->name,
                          "depends on the server but sets no Redis URL, "
                          "host or password variable rotarr knows",
                          0, err);
    }
    if (view->password_var_count == 0 &&
        ensure_client_var(scan, view, target, &action, err) < 0) {
        return -1;
    }
    snprintf(how, sizeof(how), "%s (%s)", target, action);
    return add_client(scan->plan, view->svc->name, how, 1, err);
}

int redis_plan_clients(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    struct client_scan scan;
    struct client_view view;
    size_t i;

    memset(&scan, 0, sizeof(scan));
    scan.stack = stack;
    scan.plan = plan;
    scan.old = plan->mode == ROTARR_REDIS_OVERLAP ||
                       plan->mode == ROTARR_REDIS_REPLACE
                   ? plan->current
                   : NULL;
    server_names(&scan, server);
    if (fix_all_urls(&scan, err) < 0) {
        return -1;
    }
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        if (svc == server->svc ||
            rotarr_stack_service_kind(stack, svc) != ROTARR_SERVICE_OTHER) {
            /* Database servers share env files with apps, not clients. */
            continue;
        }
        view_client(&scan, svc, &view);
        if ((view.url || view.depends || view.host_var[0] != '\0' ||
             view.password_var_count > 0) &&
            configure_client(&scan, &view, err) < 0) {
            return -1;
        }
    }
    if (plan->client_count == 0) {
        redis_plan_notice(plan, "no service of the stack connects to '%s' "
                                "that rotarr can see; give the password to "
                                "clients configured elsewhere by hand",
                          plan->service);
    }
    return 0;
}
