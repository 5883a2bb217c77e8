#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "rotarr/redis.h"

struct rotarr_redis {
    redisContext *ctx;
    char where[ROTARR_REDIS_HOST_MAX + 16];
};

/* Maximum length of a server error text quoted in a message. */
#define SERVER_TEXT_MAX 200

/* Prefix of a reply that means "log in first". */
#define NOAUTH "NOAUTH"

static int valid_target(const struct rotarr_redis_target *t,
                        struct rotarr_error *err)
{
    if (t->host == NULL || t->host[0] == '\0' ||
        strlen(t->host) > ROTARR_REDIS_HOST_MAX || t->host[0] == '/') {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "invalid Redis host; give a DNS name or an "
                                "IP address with '--host'");
    }
    if (t->port < 1 || t->port > 65535) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "invalid Redis port %d; give one from 1 to "
                                "65535 with '--port'",
                                t->port);
    }
    return 0;
}

/* Reports a failed or lost connection as ROTARR_EUNREACHABLE. */
static int context_error(const struct rotarr_redis *r,
                         struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EUNREACHABLE,
                            "%s: %s; check that the Redis service runs and "
                            "that the address is right",
                            r->where,
                            r->ctx->errstr[0] != '\0' ? r->ctx->errstr
                                                      : "no reply");
}

/* Reports an error reply: ROTARR_EAUTH for a login or rights problem,
 * ROTARR_EUSAGE for anything else (a missing or renamed command). */
static int reply_error(const struct rotarr_redis *r, const redisReply *reply,
                       const char *command, struct rotarr_error *err)
{
    const char *text = reply->str != NULL ? reply->str : "";
    enum rotarr_status code = ROTARR_EUSAGE;

    if (strncmp(text, NOAUTH, strlen(NOAUTH)) == 0 ||
        strncmp(text, "NOPERM", 6) == 0 ||
        strncmp(text, "WRONGPASS", 9) == 0) {
        code = ROTARR_EAUTH;
    }
    return rotarr_error_set(err, code, "%s: '%s' failed: %.*s", r->where,
                            command, SERVER_TEXT_MAX, text);
}

/*
 * Sends argv as one command.  Returns the reply, or NULL with err set
 * when the connection failed.  The caller frees the reply.
 */
static redisReply *run(struct rotarr_redis *r, int argc, const char **argv,
                       const size_t *lens, struct rotarr_error *err)
{
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, lens);

    if (reply == NULL) {
        context_error(r, err);
    }
    return reply;
}

/* Runs a command whose only good reply is a status such as OK. */
static int run_status(struct rotarr_redis *r, int argc, const char **argv,
                      const size_t *lens, const char *name,
                      struct rotarr_error *err)
{
    redisReply *reply = run(r, argc, argv, lens, err);
    int ret = -1;

    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        reply_error(r, reply, name, err);
    } else if (reply->type != REDIS_REPLY_STATUS) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE,
                         "%s: unexpected reply to '%s'", r->where, name);
    } else {
        ret = 0;
    }
    freeReplyObject(reply);
    return ret;
}

static int authenticate(struct rotarr_redis *r,
                        const struct rotarr_secret *password,
                        struct rotarr_error *err)
{
    const char *argv[2] = { "AUTH", rotarr_secret_data(password) };
    size_t lens[2] = { 4, rotarr_secret_len(password) };
    redisReply *reply = run(r, 2, argv, lens, err);
    const char *text;
    int ret = -1;

    if (reply == NULL) {
        return -1;
    }
    text = reply->str != NULL ? reply->str : "";
    if (reply->type == REDIS_REPLY_STATUS) {
        ret = 0;
    } else if (reply->type == REDIS_REPLY_ERROR &&
               (strstr(text, "no password is set") != NULL ||
                strstr(text, "without any password configured") != NULL)) {
        rotarr_error_set(err, ROTARR_EAUTH,
                         "%s: the server has no password set, so it "
                         "cannot check one",
                         r->where);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        rotarr_error_set(err, ROTARR_EAUTH,
                         "%s: the server rejected the password of the "
                         "default user",
                         r->where);
    } else {
        rotarr_error_set(err, ROTARR_EUNREACHABLE,
                         "%s: unexpected reply to 'AUTH'", r->where);
    }
    freeReplyObject(reply);
    return ret;
}

static struct rotarr_redis *
open_connection(const struct rotarr_redis_target *t, struct rotarr_error *err)
{
    struct rotarr_redis *r;
    struct timeval tv;

    if (valid_target(t, err) < 0) {
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE, "out of memory");
        return NULL;
    }
    snprintf(r->where, sizeof(r->where), "%s:%d", t->host, t->port);
    tv.tv_sec = t->timeout > 0 ? t->timeout : ROTARR_REDIS_TIMEOUT;
    tv.tv_usec = 0;
    r->ctx = redisConnectWithTimeout(t->host, t->port, tv);
    if (r->ctx == NULL) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE, "%s: out of memory",
                         r->where);
        goto fail;
    }
    if (r->ctx->err != 0) {
        context_error(r, err);
        goto fail;
    }
    if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
        context_error(r, err);
        goto fail;
    }
    return r;

fail:
    rotarr_redis_close(r);
    return NULL;
}

struct rotarr_redis *rotarr_redis_connect(const struct rotarr_redis_target *t,
                                          const struct rotarr_secret *password,
                                          struct rotarr_error *err)
{
    struct rotarr_redis *r = open_connection(t, err);

    if (r == NULL) {
        return NULL;
    }
    if (password != NULL && authenticate(r, password, err) < 0) {
        rotarr_redis_close(r);
        return NULL;
    }
    return r;
}

/* Returns 1 for PONG, 0 for NOAUTH, -1 with err set otherwise. */
static int ping_reply(struct rotarr_redis *r, struct rotarr_error *err)
{
    const char *argv[1] = { "PING" };
    size_t lens[1] = { 4 };
    redisReply *reply = run(r, 1, argv, lens, err);
    int ret = -1;

    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_STATUS && reply->str != NULL &&
        strcmp(reply->str, "PONG") == 0) {
        ret = 1;
    } else if (reply->type == REDIS_REPLY_ERROR && reply->str != NULL &&
               strncmp(reply->str, NOAUTH, strlen(NOAUTH)) == 0) {
        ret = 0;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        reply_error(r, reply, "PING", err);
    } else {
        rotarr_error_set(err, ROTARR_EUNREACHABLE,
                         "%s: unexpected reply to 'PING'", r->where);
    }
    freeReplyObject(reply);
    return ret;
}

int rotarr_redis_ping(struct rotarr_redis *r, struct rotarr_error *err)
{
    int pong = ping_reply(r, err);

    if (pong == 0) {
        return rotarr_error_set(err, ROTARR_EAUTH,
                                "%s: 'PING' was refused with NOAUTH",
                                r->where);
    }
    return pong == 1 ? 0 : -1;
}

int rotarr_redis_probe(const struct rotarr_redis_target *t,
                       struct rotarr_error *err)
{
    struct rotarr_redis *r = open_connection(t, err);
    int pong;

    if (r == NULL) {
        return -1;
    }
    pong = ping_reply(r, err);
    rotarr_redis_close(r);
    if (pong < 0) {
        return -1;
    }
    return pong == 1 ? ROTARR_REDIS_OPEN : ROTARR_REDIS_PROTECTED;
}

int rotarr_redis_try_auth(const struct rotarr_redis_target *t,
                          const struct rotarr_secret *password,
                          struct rotarr_error *err)
{
    struct rotarr_error local = ROTARR_ERROR_INIT;
    struct rotarr_redis *r = rotarr_redis_connect(t, password, &local);
    int ret = 1;

    if (r == NULL) {
        ret = local.code == ROTARR_EAUTH ? 0 : -1;
    } else if (rotarr_redis_ping(r, &local) < 0) {
        ret = local.code == ROTARR_EAUTH ? 0 : -1;
    }
    if (ret != 1 && err != NULL) {
        *err = local;
    }
    rotarr_redis_close(r);
    return ret;
}

/*
 * Runs "ACL SETUSER default <op><password>" where op is '>' or '<'.  The
 * argument is built in guarded memory because it contains the password.
 */
static int acl_password(struct rotarr_redis *r, char op,
                        const struct rotarr_secret *password,
                        struct rotarr_error *err)
{
    struct rotarr_secret *rule;
    const char *argv[4];
    size_t lens[4];
    size_t len = rotarr_secret_len(password);
    int ret;

    rule = rotarr_secret_alloc(len + 1, err);
    if (rule == NULL) {
        return -1;
    }
    rotarr_secret_data(rule)[0] = op;
    memcpy(rotarr_secret_data(rule) + 1, rotarr_secret_data(password), len);
    argv[0] = "ACL";
    argv[1] = "SETUSER";
    argv[2] = "default";
    argv[3] = rotarr_secret_data(rule);
    lens[0] = 3;
    lens[1] = 7;
    lens[2] = 7;
    lens[3] = len + 1;
    ret = run_status(r, 4, argv, lens, "ACL SETUSER", err);
    rotarr_secret_free(rule);
    return ret;
}

int rotarr_redis_add_password(struct rotarr_redis *r,
                              const struct rotarr_secret *password,
                              struct rotarr_error *err)
{
    return acl_password(r, '>', password, err);
}

int rotarr_redis_remove_password(struct rotarr_redis *r,
                                 const struct rotarr_secret *password,
                                 struct rotarr_error *err)
{
    return acl_password(r, '<', password, err);
}

int rotarr_redis_set_requirepass(struct rotarr_redis *r,
                                 const struct rotarr_secret *password,
                                 struct rotarr_error *err)
{
    const char *argv[4] = { "CONFIG", "SET", "requirepass",
                            rotarr_secret_data(password) };
    size_t lens[4] = { 6, 3, 11, rotarr_secret_len(password) };

    return run_status(r, 4, argv, lens, "CONFIG SET requirepass", err);
}

int rotarr_redis_config_rewrite(struct rotarr_redis *r,
                                struct rotarr_error *err)
{
    const char *argv[2] = { "CONFIG", "REWRITE" };
    size_t lens[2] = { 6, 7 };

    return run_status(r, 2, argv, lens, "CONFIG REWRITE", err);
}

/* Returns the element after the name field of a flat name/value array. */
static const redisReply *field_of(const redisReply *reply, const char *name)
{
    size_t i;

    for (i = 0; i + 1 < reply->elements; i += 2) {
        if (reply->element[i]->str != NULL &&
            strcmp(reply->element[i]->str, name) == 0) {
            return reply->element[i + 1];
        }
    }
    return NULL;
}

int rotarr_redis_password_count(struct rotarr_redis *r,
                                struct rotarr_error *err)
{
    const char *argv[3] = { "ACL", "GETUSER", "default" };
    size_t lens[3] = { 3, 7, 7 };
    redisReply *reply = run(r, 3, argv, lens, err);
    const redisReply *passwords;
    int count = -1;

    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        reply_error(r, reply, "ACL GETUSER", err);
    } else if (reply->type != REDIS_REPLY_ARRAY ||
               (passwords = field_of(reply, "passwords")) == NULL ||
               passwords->type != REDIS_REPLY_ARRAY) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE,
                         "%s: unexpected reply to 'ACL GETUSER'", r->where);
    } else {
        count = (int)passwords->elements;
    }
    freeReplyObject(reply);
    return count;
}

/* Reads "name:value" lines of an INFO reply into info. */
static void parse_info(const char *text, size_t len,
                       struct rotarr_redis_info *info)
{
    const char *line = text;
    const char *end = text + len;
    const char *next;

    memset(info, 0, sizeof(*info));
    for (; line < end; line = next + 1) {
        next = memchr(line, '\n', (size_t)(end - line));
        if (next == NULL) {
            next = end;
        }
        if (strncmp(line, "redis_version:", 14) == 0) {
            if (sscanf(line + 14, "%d.%d", &info->major, &info->minor) < 1) {
                info->major = 0;
            }
        } else if (strncmp(line, "config_file:", 12) == 0) {
            info->has_config_file =
                next > line + 12 && line[12] != '\r' && line[12] != '\n';
        }
    }
}

/* A bulk string; RESP3 servers may send INFO as verbatim text. */
static int is_text_reply(const redisReply *reply)
{
#ifdef REDIS_REPLY_VERB
    if (reply->type == REDIS_REPLY_VERB) {
        return 1;
    }
#endif
    return reply->type == REDIS_REPLY_STRING && reply->str != NULL;
}

int rotarr_redis_server_info(struct rotarr_redis *r,
                             struct rotarr_redis_info *info,
                             struct rotarr_error *err)
{
    const char *argv[2] = { "INFO", "server" };
    size_t lens[2] = { 4, 6 };
    redisReply *reply = run(r, 2, argv, lens, err);
    int ret = -1;

    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        reply_error(r, reply, "INFO", err);
    } else if (!is_text_reply(reply)) {
        rotarr_error_set(err, ROTARR_EUNREACHABLE,
                         "%s: unexpected reply to 'INFO'", r->where);
    } else {
        parse_info(reply->str,
                   (size_t)reply->len < ROTARR_REDIS_REPLY_MAX
                       ? (size_t)reply->len
                       : ROTARR_REDIS_REPLY_MAX,
                   info);
        ret = 0;
    }
    freeReplyObject(reply);
    return ret;
}

const char *rotarr_redis_where(const struct rotarr_redis *r)
{
    return r->where;
}

void rotarr_redis_close(struct rotarr_redis *r)
{
    if (r == NULL) {
        return;
    }
    if (r->ctx != NULL) {
        redisFree(r->ctx);
    }
    free(r);
}
