#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_private.h"
#include "rotarr/fileio.h"
#include "rotarr/secret.h"

/* A password variable of a service with its value. */
struct held_secret {
    size_t service;
    char key[128];
    struct rotarr_secret *value;
};

struct held_secrets {
    struct held_secret *items;
    size_t count;
};

/*
 * Defaults of images and sample env files that attackers try first:
 * generic words and the sample values of popular self-hosted projects.
 */
static const char *const known_defaults[] = {
    "admin", "changeme", "change_me", "changeit", "example", "letmein",
    "mysecretpassword", "pass", "passw0rd", "password", "password1",
    "password123", "postgres", "qwerty", "redis", "root", "secret",
    "supersecret", "123456", "12345678", "immich", "paperless",
    "nextcloud", "mastodon", "authentik", "gitea", "outline", "n8n",
    "listmonk", "docmost", "baserow", "mattermost", "zammad", "plane",
    "openproject", "invidious", "kemal", "airflow", "hedgedoc",
    "ghostfolio", "dawarich", "tandoor", "mediastack", NULL,
};

static int is_known_default(const char *value, size_t len)
{
    size_t i;

    for (i = 0; known_defaults[i] != NULL; i++) {
        if (strlen(known_defaults[i]) == len &&
            strncasecmp(known_defaults[i], value, len) == 0) {
            return 1;
        }
    }
    return len >= 8 && (strncasecmp(value, "changeme", 8) == 0 ||
                        strncasecmp(value, "change_me", 9) == 0 ||
                        strncasecmp(value, "changethis", 10) == 0 ||
                        strncasecmp(value, "replace", 7) == 0);
}

/* Returns 1 when value is a switch (OAUTHLIB_RELAX_TOKEN_SCOPE=1), not
 * a secret. */
static int is_flag(const char *value)
{
    static const char *const flags[] = { "true", "false", "yes", "no",
                                         "on", "off", "0", "1", NULL };
    size_t i;

    for (i = 0; flags[i] != NULL; i++) {
        if (strcasecmp(value, flags[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when a compose value is written out instead of ${VAR}. */
static int is_literal(const struct rotarr_compose_env *env)
{
    if (env->raw == NULL || env->raw_len == 0 ||
        memchr(env->raw, '$', env->raw_len) != NULL || env->node == NULL) {
        return 0;
    }
    return !is_flag(env->raw) && env->raw[0] != '/';
}

/* NEEDSWORK: only environment: entries are checked; a literal password
 * in command: (--requirepass, a URL) or labels: is not reported. */
static int check_literals(struct audit_ctx *ctx, size_t i)
{
    const struct rotarr_compose_service *svc;
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];
    size_t e;

    svc = rotarr_compose_service(ctx->compose, i);
    for (e = 0; e < svc->env_count; e++) {
        if (!audit_name_is_secret(svc->env[e].key) ||
            !is_literal(&svc->env[e])) {
            continue;
        }
        audit_format(why, sizeof(why),
                     "'%s' is written in the compose file, which is "
                     "usually committed to git and shared",
                     svc->env[e].key);
        audit_format(fix, sizeof(fix),
                     "move the value to the env file (mode 0600) and write "
                     "'%s: ${%s}', then rotate it because it was exposed",
                     svc->env[e].key, svc->env[e].key);
        if (audit_add(ctx, &audit_secret_literal, i, svc->env[e].node, NULL,
                      0, why, fix) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Returns 1 when a weak value at file:line was already reported, for
 * another service reading the same env file entry. */
static int weak_reported(const struct audit_ctx *ctx, const char *file,
                         size_t line)
{
    const struct rotarr_finding *f;
    size_t i;

    for (i = 0; file != NULL && i < ctx->out->count; i++) {
        f = &ctx->out->items[i];
        if (f->id == audit_secret_weak.id && f->line == line &&
            strcmp(f->file, file) == 0) {
            return 1;
        }
    }
    return 0;
}

static int report_weak(struct audit_ctx *ctx, size_t i, const char *key,
                       size_t len, int known, const char *file, size_t line)
{
    char why[AUDIT_TEXT_MAX];

    if (weak_reported(ctx, file, line)) {
        return 0;
    }
    if (known) {
        audit_format(why, sizeof(why),
                     "'%s' is a well-known default or sample value, the "
                     "first one an attacker tries", key);
    } else {
        audit_format(why, sizeof(why),
                     "'%s' has only %zu characters; at least %d random "
                     "ones resist guessing", key, len,
                     ROTARR_AUDIT_MIN_PASSWORD_LEN);
    }
    return audit_add(ctx, &audit_secret_weak, i, NULL, file, line, why,
                     "replace it with 'rotarr gen' output (32 random "
                     "characters); for a Postgres or Redis server use "
                     "'rotarr postgres' or 'rotarr redis', which also "
                     "change the live server and every copy");
}

static int hold(struct held_secrets *held, size_t i, const char *key,
                const struct rotarr_buf *value, struct rotarr_error *err)
{
    struct held_secret *grown;
    struct held_secret *h;

    grown = realloc(held->items, (held->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    held->items = grown;
    h = &grown[held->count];
    h->service = i;
    audit_format(h->key, sizeof(h->key), "%s", key);
    h->value = rotarr_secret_new(value->data, value->len, err);
    if (h->value == NULL) {
        return -1;
    }
    held->count++;
    return 0;
}

/* Checks the strength of each password of service i and keeps it. */
static int check_values(struct audit_ctx *ctx, size_t i,
                        struct held_secrets *held)
{
    const struct rotarr_compose_service *svc;
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *file;
    size_t line;
    size_t e;
    int known;
    int ret = -1;

    svc = rotarr_compose_service(ctx->compose, i);
    for (e = 0; e < svc->env_count; e++) {
        if (!audit_name_is_secret(svc->env[e].key) ||
            audit_service_value(ctx, i, svc->env[e].key, &value, &file,
                                &line) != 1 ||
            value.len == 0 || is_flag(value.data)) {
            continue;
        }
        known = is_known_default(value.data, value.len);
        if ((known || value.len < ROTARR_AUDIT_MIN_PASSWORD_LEN) &&
            report_weak(ctx, i, svc->env[e].key, value.len, known, file,
                        line) < 0) {
            goto out;
        }
        if (hold(held, i, svc->env[e].key, &value, ctx->err) < 0) {
            goto out;
        }
    }
    ret = 0;
out:
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

static int depends_on(const struct rotarr_compose_service *a,
                      const struct rotarr_compose_service *b)
{
    size_t i;

    for (i = 0; i < a->depends_count; i++) {
        if (strcmp(a->depends[i], b->name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when key names a client setting of the server kind of
 * service i: DB_PASSWORD, POSTGRESQL_PASS for Postgres, REDIS_* for
 * Redis. */
static int names_client_of(struct audit_ctx *ctx, size_t i, const char *key)
{
    static const char *const postgres[] = { "POSTGRES", "DB_", "DATABASE",
                                            "PG", NULL };
    static const char *const redis[] = { "REDIS", "VALKEY", NULL };
    const char *const *words;
    enum rotarr_service_kind kind;
    size_t w;

    kind = rotarr_stack_service_kind(ctx->stack,
                                     rotarr_compose_service(ctx->compose, i));
    if (kind == ROTARR_SERVICE_OTHER) {
        return 0;
    }
    words = kind == ROTARR_SERVICE_POSTGRES ? postgres : redis;
    for (w = 0; words[w] != NULL; w++) {
        if (strstr(key, words[w]) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when services a and b may share a secret: one uses the
 * other, they run the same image, or they depend on the same service. */
static int related(struct audit_ctx *ctx, size_t a, size_t b)
{
    const struct rotarr_compose_service *sa;
    const struct rotarr_compose_service *sb;
    size_t i;
    size_t j;

    sa = rotarr_compose_service(ctx->compose, a);
    sb = rotarr_compose_service(ctx->compose, b);
    if (depends_on(sa, sb) || depends_on(sb, sa) ||
        strcmp(ctx->images[a], ctx->images[b]) == 0 ||
        audit_service_uses(ctx, a, b) || audit_service_uses(ctx, b, a)) {
        return 1;
    }
    for (i = 0; i < sa->depends_count; i++) {
        for (j = 0; j < sb->depends_count; j++) {
            if (strcmp(sa->depends[i], sb->depends[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int report_shared(struct audit_ctx *ctx, const struct held_secret *a,
                         const struct held_secret *b)
{
    const struct rotarr_compose_service *first;
    struct rotarr_buf value = ROTARR_BUF_INIT;
    char why[AUDIT_TEXT_MAX];
    const char *file = NULL;
    size_t line = 0;
    int ret;

    first = rotarr_compose_service(ctx->compose, a->service);
    if (audit_service_value(ctx, b->service, b->key, &value, &file,
                            &line) < 0) {
        file = NULL;
    }
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    audit_format(why, sizeof(why),
                 "'%s' has the same value as '%s' of service '%s', which "
                 "has nothing to do with this one: one leak opens both",
                 b->key, a->key, first->name);
    ret = audit_add(ctx, &audit_secret_shared, b->service, NULL, file, line,
                    why,
                    "give each service its own secret: set a new value "
                    "with 'rotarr gen' in one of them");
    return ret;
}

static int check_shared(struct audit_ctx *ctx, struct held_secrets *held)
{
    size_t i;
    size_t j;

    for (i = 0; i < held->count; i++) {
        for (j = 0; j < i; j++) {
            /* The same variable in two services is one application's
             * setting passed to its parts, not a reused secret. */
            if (held->items[i].service == held->items[j].service ||
                strcmp(held->items[i].key, held->items[j].key) == 0 ||
                !rotarr_secret_equal(held->items[i].value,
                                     held->items[j].value)) {
                continue;
            }
            if (!related(ctx, held->items[i].service,
                         held->items[j].service) &&
                !names_client_of(ctx, held->items[j].service,
                                 held->items[i].key) &&
                !names_client_of(ctx, held->items[i].service,
                                 held->items[j].key)) {
                if (report_shared(ctx, &held->items[j], &held->items[i]) <
                    0) {
                    return -1;
                }
            }
            break;
        }
    }
    return 0;
}

static int check_file_modes(struct audit_ctx *ctx)
{
    const struct rotarr_stack_file *file;
    struct stat st;
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];
    size_t i;

    for (i = 0; i < rotarr_stack_file_count(ctx->stack); i++) {
        file = rotarr_stack_file(ctx->stack, i);
        if ((file->kind != ROTARR_STACK_FILE_ENV &&
             file->kind != ROTARR_STACK_FILE_SECRET) ||
            stat(file->path, &st) != 0 || (st.st_mode & 077) == 0) {
            continue;
        }
        audit_format(why, sizeof(why),
                     "'%s' holds secrets and has mode %04o: other users "
                     "of the host can read it",
                     file->display, (unsigned)(st.st_mode & 07777));
        audit_format(fix, sizeof(fix), "chmod 600 '%s'", file->display);
        if (audit_add(ctx, &audit_env_file_readable, (size_t)-1, NULL,
                      file->display, 0, why, fix) < 0) {
            return -1;
        }
    }
    return 0;
}

static size_t find_service(struct audit_ctx *ctx, const char *name)
{
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(ctx->compose); i++) {
        if (strcmp(rotarr_compose_service(ctx->compose, i)->name, name) ==
            0) {
            return i;
        }
    }
    return (size_t)-1;
}

/* Reports one line of the state file when its secret is overdue. */
static int check_state_line(struct audit_ctx *ctx, const char *text,
                            size_t line)
{
    char kind[32];
    char service[128];
    char var[128];
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];
    long long when;
    time_t age;

    if (sscanf(text, "%31s %127s %127s %lld", kind, service, var, &when) !=
        4) {
        return 0;
    }
    age = ctx->now - (time_t)when;
    if (age <= ctx->max_age) {
        return 0;
    }
    audit_format(why, sizeof(why),
                 "the %s password in '%s' was last rotated %lld days ago, "
                 "more than the maximum age of %lld days",
                 kind, var, (long long)(age / 86400),
                 (long long)(ctx->max_age / 86400));
    audit_format(fix, sizeof(fix), "run 'rotarr %s --service %s'", kind,
                 service);
    return audit_add(ctx, &audit_secret_overdue, find_service(ctx, service),
                     NULL, ".rotarr/state", line, why, fix);
}

static int check_rotation_age(struct audit_ctx *ctx)
{
    char path[AUDIT_PATH_MAX];
    char *bytes = NULL;
    char *line;
    char *next;
    size_t len;
    size_t n = 0;
    int ret = -1;

    audit_format(path, sizeof(path), "%s/.rotarr/state",
                 rotarr_stack_dir(ctx->stack) != NULL
                     ? rotarr_stack_dir(ctx->stack)
                     : ".");
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        return 0;
    }
    if (rotarr_file_read(path, 0, &bytes, &len, ctx->err) < 0) {
        return -1;
    }
    for (line = bytes; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (check_state_line(ctx, line, ++n) < 0) {
            goto out;
        }
    }
    ret = 0;
out:
    free(bytes);
    return ret;
}

/* Returns 1 when a Redis command sets a password or names a config file.
 * NEEDSWORK: a mounted config file is taken to set requirepass without
 * reading it. */
static int command_sets_password(const struct rotarr_ynode *node)
{
    size_t i;

    if (node == NULL) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return strstr(node->value, "requirepass") != NULL ||
               strstr(node->value, ".conf") != NULL;
    }
    for (i = 0; i < node->count; i++) {
        if (command_sets_password(node->items[i])) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when service i sets variable key to a value containing
 * needle (any value when needle is NULL). */
static int value_contains(struct audit_ctx *ctx, size_t i, const char *key,
                          const char *needle)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *file;
    size_t line;
    int found;

    found = audit_service_value(ctx, i, key, &value, &file, &line) == 1 &&
            value.len > 0 &&
            (needle == NULL || strstr(value.data, needle) != NULL);
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return found;
}

static int check_open_server(struct audit_ctx *ctx, size_t i)
{
    const struct rotarr_compose_service *svc;
    enum rotarr_service_kind kind;
    const char *why = NULL;
    const char *fix = NULL;

    svc = rotarr_compose_service(ctx->compose, i);
    kind = rotarr_stack_service_kind(ctx->stack, svc);
    if (value_contains(ctx, i, "ALLOW_EMPTY_PASSWORD", "yes")) {
        why = "ALLOW_EMPTY_PASSWORD=yes starts the server without a "
              "password";
        fix = "remove ALLOW_EMPTY_PASSWORD and set a password with "
              "'rotarr redis --enable' or 'rotarr postgres'";
    } else if (kind == ROTARR_SERVICE_POSTGRES &&
               value_contains(ctx, i, "POSTGRES_HOST_AUTH_METHOD",
                              "trust")) {
        why = "POSTGRES_HOST_AUTH_METHOD=trust lets every client in "
              "without a password";
        fix = "remove POSTGRES_HOST_AUTH_METHOD (the image then uses "
              "scram-sha-256) and set POSTGRES_PASSWORD";
    } else if (kind == ROTARR_SERVICE_REDIS &&
               !command_sets_password(svc->command) &&
               !command_sets_password(svc->entrypoint) &&
               !value_contains(ctx, i, "REDIS_PASSWORD", NULL) &&
               !value_contains(ctx, i, "REDIS_ARGS", "requirepass")) {
        why = "the Redis server has no password: any container on its "
              "networks can read and change every key";
        fix = "run 'rotarr redis --enable', which sets --requirepass and "
              "gives every client the password";
    }
    if (why == NULL) {
        return 0;
    }
    return audit_add(ctx, &audit_db_no_password, i,
                     audit_service_anchor(svc), NULL, 0, why, fix);
}

static void release_held(struct held_secrets *held)
{
    size_t i;

    for (i = 0; i < held->count; i++) {
        rotarr_secret_free(held->items[i].value);
    }
    free(held->items);
}

int audit_secrets(struct audit_ctx *ctx)
{
    struct held_secrets held = { NULL, 0 };
    size_t i;
    int pass;
    int server;
    int ret = -1;

    /* Servers first, so that a weak password read by a server and its
     * clients is reported once, for the server. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < rotarr_compose_service_count(ctx->compose); i++) {
            server = rotarr_stack_service_kind(
                         ctx->stack,
                         rotarr_compose_service(ctx->compose, i)) !=
                     ROTARR_SERVICE_OTHER;
            if (server != (pass == 0)) {
                continue;
            }
            if (check_literals(ctx, i) < 0 ||
                check_values(ctx, i, &held) < 0 ||
                check_open_server(ctx, i) < 0) {
                goto out;
            }
        }
    }
    if (check_shared(ctx, &held) < 0 || check_file_modes(ctx) < 0 ||
        check_rotation_age(ctx) < 0) {
        goto out;
    }
    ret = 0;
out:
    release_held(&held);
    return ret;
}

const struct audit_check audit_secret_literal = {
    "secret-literal",
    ROTARR_AUDIT_HIGH,
    "A password, token or key is written in the compose file itself.\n"
    "Compose files are committed to git, pasted into forums and copied\n"
    "between hosts, so the secret leaves with them.  Keep the value in\n"
    "the env file (mode 0600, never committed, or encrypted with 'rotarr\n"
    "encrypt') and write ${VAR} in the compose file.  A secret that was\n"
    "committed must be rotated: removing it from the file does not remove\n"
    "it from the history.\n",
};

const struct audit_check audit_secret_weak = {
    "secret-weak",
    ROTARR_AUDIT_HIGH,
    "The value is a well-known default (postgres, password, changeme, the\n"
    "sample value of a popular project) or has fewer than 16 characters.\n"
    "Defaults are the first guesses of every scanner, and short values\n"
    "fall to offline guessing once a hash or a backup leaks.  Use 32\n"
    "random characters ('rotarr gen').\n",
};

const struct audit_check audit_secret_shared = {
    "secret-shared",
    ROTARR_AUDIT_MEDIUM,
    "Two services that do not talk to each other hold the same secret.\n"
    "A leak from either (a log, a backup, a compromised container) opens\n"
    "both, and rotating one breaks the other.  Not reported, because they\n"
    "are expected to share: a client and its server (a service that\n"
    "depends on the other or names it as a host); services of the same\n"
    "image or with a common dependency; a service holding a database\n"
    "server's password under a variable for that kind of server\n"
    "(DB_PASSWORD, POSTGRESQL_PASS, REDIS_PASSWORD); and two services\n"
    "reading the same variable name, which is one application's setting\n"
    "passed to its parts.\n",
};

const struct audit_check audit_env_file_readable = {
    "env-file-readable",
    ROTARR_AUDIT_MEDIUM,
    "An env file or secret file can be read by the group or by every user\n"
    "of the host.  It holds the stack's passwords, so any local account,\n"
    "and any container that mounts the directory, can take them.  Set the\n"
    "mode to 0600; rotarr keeps it there when it rewrites the file.\n",
};

const struct audit_check audit_secret_overdue = {
    "secret-overdue",
    ROTARR_AUDIT_MEDIUM,
    "The last rotation recorded in .rotarr/state is older than the\n"
    "maximum age (90 days by default).  A secret that never changes keeps\n"
    "working for whoever copied it.  Run the rotation, or 'rotarr rotate'\n"
    "from a timer so that it happens on its own.\n",
};

const struct audit_check audit_db_no_password = {
    "db-no-password",
    ROTARR_AUDIT_HIGH,
    "A Redis or Postgres server accepts clients without a password: a\n"
    "Redis with no requirepass, a Postgres with\n"
    "POSTGRES_HOST_AUTH_METHOD=trust, or a Bitnami image with\n"
    "ALLOW_EMPTY_PASSWORD=yes.  Every container on its networks, and the\n"
    "host when a port is published, can read and change its data; an open\n"
    "Redis can even be made to write files.  A Redis with a config file\n"
    "in its command is not reported, because its requirepass line cannot\n"
    "be seen from the compose file.\n",
};
