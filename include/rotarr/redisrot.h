/*
 * Protecting and rotating the password of a Redis-compatible service
 * (Redis, Valkey, KeyDB, Dragonfly, Redis Stack, Bitnami's images) and
 * every copy of it in the stack, driven by the same journal and lock as
 * the Postgres rotation (rotarr/journal.h).
 *
 * A run depends on the server's configuration in the files:
 *   - an open server (no --requirepass, no requirepass line, no
 *     REDIS_PASSWORD) gets a new password: the env file, the server's
 *     command or config file, REDISCLI_AUTH and a healthcheck that proves
 *     authentication, and every client;
 *   - a protected server with --enable keeps its password, and only the
 *     files that lack it are fixed (nothing at all when up to date);
 *   - a protected server otherwise gets a new password.  With overlap
 *     ("ACL SETUSER default >new") the old one keeps working until
 *     rotarr_redisrot_finish(), so clients can be recreated one by one.
 *
 * Steps as for Postgres: plan, pending (journal), set, test (an
 * unauthenticated PING gets NOAUTH, AUTH with the new password gets PONG),
 * commit (every file atomically), done.
 */
#ifndef ROTARR_REDISROT_H
#define ROTARR_REDISROT_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compose_edit.h"
#include "rotarr/error.h"
#include "rotarr/pgrot.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

/* Place the server's password comes from in the files. */
enum rotarr_redis_auth {
    ROTARR_REDIS_AUTH_NONE,    /* no password: the server is open */
    ROTARR_REDIS_AUTH_COMMAND, /* --requirepass in the command */
    ROTARR_REDIS_AUTH_CONF,    /* a requirepass line of a mounted file */
    ROTARR_REDIS_AUTH_ENV,     /* REDIS_PASSWORD (Bitnami), REDIS_ARGS */
};

/* Kind of run. */
enum rotarr_redis_mode {
    ROTARR_REDIS_ENABLE,  /* open server: new password */
    ROTARR_REDIS_FIX,     /* protected, --enable: same password */
    ROTARR_REDIS_OVERLAP, /* new password, old one kept until finish */
    ROTARR_REDIS_REPLACE, /* new password, old one dropped at once */
    ROTARR_REDIS_FINISH,  /* drop every password but the files' one */
};

/* Request from the command line; NULL or 0 fields take their
 * defaults. */
struct rotarr_redisrot_request {
    const char *service; /* default: the only Redis service */
    const char *var;     /* default: the variable the server reads, else
                          * REDIS_PASSWORD */
    const char *host;    /* default: the published port's host */
    int port;            /* default: the published port of 6379 */
    int enable;          /* --enable */
    int overlap;         /* 1 --overlap, 0 --no-overlap, -1 default */
    int finish;          /* --finish */
    int offline;         /* change the files only */
    int dry_run;
};

/* A service that connects to the Redis server. */
struct rotarr_redis_client {
    char *service;
    char *how;      /* "REDIS_URL", "REDIS_HOST_PASSWORD (added)", or why
                     * rotarr cannot configure it */
    int configured; /* 0 when rotarr cannot give it the password */
};

/* Marks a file that is not one of the stack's (a config file). */
#define ROTARR_REDIS_NOT_IN_STACK ((size_t)-1)

/* Maximum number of changed lines kept per file. */
#define ROTARR_REDIS_CHANGED_LINES_MAX 64

/* One file the run writes. */
struct rotarr_redis_file {
    char *path;
    char *display;        /* relative to the stack directory */
    size_t stack_file;    /* its index, or ROTARR_REDIS_NOT_IN_STACK */
    const char *old_bytes; /* as loaded; NULL for a file to create */
    size_t old_len;
    char *owned;          /* old_bytes when the plan read the file */
    int create;           /* the file does not exist yet */
    int is_env;           /* an env file (checked with the env parser) */
    int is_yaml;          /* a compose file */
    struct rotarr_text_edits edits;
    struct rotarr_buf bytes; /* the new contents; wiped on release */
    int secret;              /* contains the password: mode <= 0600 */
    size_t changed_lines[ROTARR_REDIS_CHANGED_LINES_MAX];
    size_t changed_line_count;
};

/* Findings of the plan, and after a run the changes made. */
struct rotarr_redisrot_plan {
    char service[ROTARR_NAME_MAX];
    char image[ROTARR_NAME_MAX]; /* interpolated */
    char var[ROTARR_NAME_MAX];   /* variable holding the password, or "" */
    char source[ROTARR_NAME_MAX]; /* "file:line" of the password */
    char host[ROTARR_NAME_MAX];
    int port;
    int major; /* Redis major version from the image tag; 0 if unknown */
    enum rotarr_redis_auth auth;
    enum rotarr_redis_mode mode;
    int live;            /* the server was changed (not offline) */
    int config_rewritten; /* CONFIG REWRITE ran */
    struct rotarr_secret *current; /* NULL for an open server */
    struct rotarr_secret *next;    /* the password the files end with */
    struct rotarr_redis_client *clients;
    size_t client_count;
    struct rotarr_redis_file *files;
    size_t file_count;
    char **changes; /* one line per planned change, for the plan */
    size_t change_count;
    char **restart; /* services to recreate */
    size_t restart_count;
    struct rotarr_buf notices; /* warnings and mode changes, one a line */
};

#define ROTARR_REDISROT_PLAN_INIT { .port = 0 }

/*
 * Finds the Redis service and how it is protected, chooses the mode,
 * computes the new password (generated: 32 of [A-Za-z0-9]) and every file
 * change, and finds the clients.  Touches no server and no file.  Fails
 * with ROTARR_EUSAGE when the service is ambiguous or missing, or when a
 * file cannot be changed the way the mode needs (the message names what
 * to change by hand).  Clients rotarr cannot configure are listed in
 * plan->clients with configured 0; rotarr_redisrot_run refuses them.
 */
int rotarr_redisrot_plan(const struct rotarr_stack *stack,
                         const struct rotarr_redisrot_request *req,
                         struct rotarr_redisrot_plan *plan,
                         struct rotarr_error *err);

/* Returns the number of clients of the plan that rotarr cannot configure. */
size_t rotarr_redisrot_unconfigured(const struct rotarr_redisrot_plan *plan);

/*
 * Runs a plan: with req->dry_run only lists the services to recreate.
 * Error codes: ROTARR_NO when a client cannot be configured.
 * ROTARR_EUNREACHABLE when the server cannot be reached, and nothing
 * changed (req->offline changes the files of a stopped stack).
 * ROTARR_EAUTH when the server rejects the current password.
 * ROTARR_EPARTIAL when files could not all be written after the server
 * changed (run 'rotarr resume').  A plan with no change and a server that already
 * accepts the password succeeds without writing anything.
 */
int rotarr_redisrot_run(const struct rotarr_stack *stack,
                        const struct rotarr_redisrot_request *req,
                        struct rotarr_redisrot_plan *plan,
                        struct rotarr_error *err);

/*
 * Ends an overlap: makes the files' password the server's only one
 * ("CONFIG SET requirepass"), and writes the server's config file with
 * "CONFIG REWRITE" when it runs from one.  Idempotent.
 */
int rotarr_redisrot_finish(const struct rotarr_stack *stack,
                           const struct rotarr_redisrot_request *req,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err);

/*
 * Finishes a Redis rotation that stopped part-way, from the journal in
 * stack_opts->dir.  Returns 1 when there was one, 0 when there was none
 * or it belongs to another kind of rotation.
 */
int rotarr_redisrot_resume(const struct rotarr_stack_options *stack_opts,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err);

/* Returns "enable", "fix", "overlap", "replace" or "finish". */
const char *rotarr_redis_mode_name(enum rotarr_redis_mode mode);

void rotarr_redisrot_plan_release(struct rotarr_redisrot_plan *plan);

#endif
