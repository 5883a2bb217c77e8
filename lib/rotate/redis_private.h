/*
 * Internals shared by the lib/rotate/redis*.c files: the server's
 * configuration as the stack's files give it, and the helpers that build
 * the plan's file changes.  Not installed.
 */
#ifndef ROTARR_REDIS_PRIVATE_H
#define ROTARR_REDIS_PRIVATE_H

#include <stddef.h>

#include "rotarr/redisrot.h"

/* Container port of every Redis-compatible server. */
#define REDIS_CONTAINER_PORT 6379

/* Most words read from one command line. */
#define REDIS_MAX_ARGS 128

/* Variable the password goes in when the files name none. */
#define REDIS_DEFAULT_VAR "REDIS_PASSWORD"

/* Server configuration read from the files; pointers borrow from the
 * stack. */
struct redis_server {
    const struct rotarr_compose_service *svc;
    /* The mapping new keys go in: the layer that sets the image, else the
     * service's last layer. */
    const struct rotarr_ynode *layer;
    size_t layer_file; /* stack file index of layer */
    const char *cli;   /* "redis-cli", "valkey-cli" or "keydb-cli" */
    int valkey;        /* a Valkey image: its CLI also reads VALKEYCLI_AUTH */
    int bitnami;       /* the password goes in bitnami_var */
    const char *bitnami_var;
    int args_env;      /* Redis Stack: arguments go in REDIS_ARGS */
    /* The command, word by word as written (compose text, "$$" kept).
     * command is NULL when the image's default runs. */
    const struct rotarr_ynode *command;
    int shell; /* "sh -c '...'": the words are those of the script */
    char *args[REDIS_MAX_ARGS];
    size_t arg_count;
    int requirepass; /* index of the word after --requirepass, or -1 */
    /* A config file the server starts from, when the stack mounts it. */
    char *conf_path;
    char *conf_display;
    char *conf_bytes;
    size_t conf_len;
    int conf_found;            /* conf has a requirepass line */
    size_t conf_value_start;   /* its value's bytes, quotes included */
    size_t conf_value_end;
    struct rotarr_secret *conf_secret; /* the value, quotes decoded */
    int conf_refused;          /* users or an aclfile: not handled */
};

/* Frees what redis_server_learn allocated. */
void redis_server_release(struct redis_server *server);

/*
 * Reads how the service svc gets its password into server and plan (auth,
 * var, source, current, image, major).  Returns 0, or -1 with err set.
 */
int redis_server_learn(const struct rotarr_stack *stack,
                       const struct rotarr_compose_service *svc,
                       const struct rotarr_redisrot_request *req,
                       struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err);

/* Splits a command line the way Compose and a POSIX shell do for the
 * cases Compose files use: blanks separate words, quotes group them and
 * are removed, and "${...}" is kept whole.  Returns the word count or -1
 * when there are more than max. */
int redis_split_words(const char *text, char **words, size_t max);

/* Stores in var the variable that a text made only of $NAME or
 * ${NAME...} reads ("${REDIS_PASSWORD:?missing}" gives REDIS_PASSWORD),
 * or "" for any other text. */
void redis_sole_variable(const char *text, size_t len, char *var,
                         size_t size);

/* Reads the config file a server starts from (argument of the server's
 * command) when a bind mount of the stack provides it. */
int redis_conf_load(const struct rotarr_stack *stack,
                    struct redis_server *server,
                    const char *container_path, struct rotarr_error *err);

/* Appends text to out as a config-file argument that redis-server reads
 * back as text (quoted when it must be). */
int redis_conf_quote(const char *text, size_t len, struct rotarr_buf *out,
                     struct rotarr_error *err);

/* Returns the plan's file entry for stack file index, creating it. */
struct rotarr_redis_file *redis_plan_file(const struct rotarr_stack *stack,
                                          struct rotarr_redisrot_plan *plan,
                                          size_t index,
                                          struct rotarr_error *err);

/* Returns the plan's entry for a file outside the stack model (a config
 * file, or an env file to create), creating it. */
struct rotarr_redis_file *redis_plan_extra_file(
    struct rotarr_redisrot_plan *plan, const char *path, const char *display,
    const char *bytes, size_t len, int create, struct rotarr_error *err);

/* Adds a line to the plan's list of changes. */
int redis_plan_note(struct rotarr_redisrot_plan *plan,
                    struct rotarr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a line to the plan's notices. */
void redis_plan_notice(struct rotarr_redisrot_plan *plan, const char *fmt,
                       ...) __attribute__((format(printf, 2, 3)));

/* Sets the value of env entry entry of stack file index to value. */
int redis_env_set(const struct rotarr_stack *stack,
                  struct rotarr_redisrot_plan *plan, size_t index,
                  const struct rotarr_dotenv_entry *entry, const char *value,
                  size_t len, struct rotarr_error *err);

/* Appends "key=value" to the env file of stack file index, or to the
 * project env file to create when index is ROTARR_REDIS_NOT_IN_STACK. */
int redis_env_append(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan, size_t index,
                     const char *key, const char *value, size_t len,
                     struct rotarr_error *err);

/* Returns the last entry of svc's env_file files that sets key, and
 * stores its file's stack index in *index; NULL when none does. */
const struct rotarr_dotenv_entry *
redis_service_env_entry(const struct rotarr_stack *stack,
                        const struct rotarr_compose_service *svc,
                        const char *key, size_t *index);

/* Returns the stack index of the project env file, or
 * ROTARR_REDIS_NOT_IN_STACK when the stack has none. */
size_t redis_project_env_index(const struct rotarr_stack *stack);

/* Returns 1 when the len bytes at value equal secret (NULL: never). */
int redis_equals(const char *value, size_t len,
                 const struct rotarr_secret *secret);

/* Sets an env entry to plan->next, unless it contains it already or
 * contains old, which the occurrence edits replace. */
int redis_env_ensure(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan, size_t index,
                     const struct rotarr_dotenv_entry *entry,
                     const struct rotarr_secret *old,
                     struct rotarr_error *err);

/* Makes key of the project env file hold plan->next, adding the key (and
 * the file) when missing. */
int redis_project_ensure(const struct rotarr_stack *stack,
                         struct rotarr_redisrot_plan *plan, const char *key,
                         const struct rotarr_secret *old,
                         struct rotarr_error *err);

/* Returns the stack file index of node's document. */
size_t redis_yaml_file(const struct rotarr_stack *stack,
                       const struct rotarr_ynode *node);

/* Returns 1 when the variable name is defined in the project env file. */
int redis_project_var(const struct rotarr_stack *stack, const char *name);

/*
 * Appends the password as compose text: "${VAR}" when the password is in
 * the project env file under plan->var and needs no encoding, else the
 * literal with '$' doubled (percent-encoded inside a URL when url is 1).
 * *literal is set to 1 when the secret itself was written.
 */
int redis_password_text(const struct rotarr_stack *stack,
                        const struct rotarr_redisrot_plan *plan, int url,
                        struct rotarr_buf *out, int *literal,
                        struct rotarr_error *err);

/* Returns the password the plan's mode replaces (its current one when
 * rotating), or NULL when enabling or keeping the password. */
const struct rotarr_secret *
redis_plan_old(const struct rotarr_redisrot_plan *plan);

/* Plans the server side: the variable, command or config file, the
 * CLI's password variable and the healthcheck. */
int redis_plan_server(const struct rotarr_stack *stack,
                      const struct redis_server *server,
                      struct rotarr_redisrot_plan *plan,
                      struct rotarr_error *err);

/* Maximum number of names the server has on the compose network. */
#define REDIS_MAX_NAMES 4

/* Most Redis URLs fixed in one value. */
#define REDIS_MAX_FIXES 16

/* State shared by the URL and client searches. */
struct redis_scan {
    const struct rotarr_stack *stack;
    struct rotarr_redisrot_plan *plan;
    char names[REDIS_MAX_NAMES][ROTARR_NAME_MAX];
    size_t name_count;
    const struct rotarr_secret *old; /* the password being replaced */
};

/* One URL fix: replace [start, end) of the searched text. */
struct redis_url_fix {
    size_t start, end;
    struct rotarr_buf text;
};

struct redis_url_fixes {
    struct redis_url_fix items[REDIS_MAX_FIXES];
    size_t count;
};

/* Collects the names the server has: its service name, container_name
 * and hostname. */
void redis_server_names(struct redis_scan *scan,
                        const struct redis_server *server);

/* Returns 1 when the len bytes at host (before interpolation) name the
 * server. */
int redis_names_server(const struct redis_scan *scan, const char *host,
                       size_t len);

/* Finds the Redis URLs of the server in text and the fixes they need.
 * compose is 1 for text of a compose file.  Sets *found when a URL names
 * the server. */
int redis_scan_text(const struct redis_scan *scan, const char *text,
                    size_t len, int compose, struct redis_url_fixes *fixes,
                    int *found, struct rotarr_error *err);

/* Wipes and frees the fixes' texts. */
void redis_fixes_release(struct redis_url_fixes *fixes);

/* Fixes every URL of the server in the stack's env and compose files,
 * whichever service reads it. */
int redis_fix_all_urls(struct redis_scan *scan, struct rotarr_error *err);

/* Finds the clients and plans their changes, URLs anywhere included. */
int redis_plan_clients(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err);

/* Adds the replacements of old by plan->next that no planned edit
 * covers already. */
int redis_plan_occurrences(const struct rotarr_stack *stack,
                           const struct rotarr_secret *old,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err);

/* Applies the edits of every file, checks that each still parses and
 * records the changed lines. */
int redis_plan_build(struct rotarr_redisrot_plan *plan,
                     struct rotarr_error *err);

/* Writes every changed file atomically; files with the password end
 * with at most mode 0600.  The failpoint "commit-first" stops the
 * process after the first file. */
int redis_plan_write(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan,
                     struct rotarr_error *err);

/* Adds a service to the plan's restart list once. */
int redis_plan_restart(struct rotarr_redisrot_plan *plan, const char *name,
                       struct rotarr_error *err);

/* Builds the whole plan for a known old and new password. */
int redis_plan_changes(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       const struct rotarr_secret *old,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err);

/*
 * Plans the file changes again for a rotation whose passwords and mode
 * come from a journal: old (NULL when enabling) and next.  Parts written
 * before a stop are recognised as done.
 */
int redis_replan(const struct rotarr_stack *stack,
                 const struct rotarr_redisrot_request *req,
                 enum rotarr_redis_mode mode,
                 const struct rotarr_secret *old,
                 const struct rotarr_secret *next,
                 struct rotarr_redisrot_plan *plan, struct rotarr_error *err);

#endif
