/*
 * The stack's internals, shared by the files of lib/stack/ that build and
 * search it.  Not installed.
 */
#ifndef ROTARR_STACK_PRIVATE_H
#define ROTARR_STACK_PRIVATE_H

#include "rotarr/stack.h"

struct rotarr_stack {
    char *dir;
    rotarr_lookup_fn shell_lookup;
    void *shell_ctx;
    const struct rotarr_age_keyring *keys; /* for encrypted env files */
    int both_env_files; /* .env and .env.age exist; .env was chosen */
    struct rotarr_stack_file *files;
    size_t file_count;
    size_t project_env_file; /* (size_t)-1 when there is none */
    const struct rotarr_dotenv *project_env;
    struct rotarr_compose *compose;
    /* For each service, in compose order, the indexes of its env_file
     * files (in the order Compose reads them). */
    size_t **service_env_files;
    size_t *service_env_file_count;
    char **warnings;
    size_t warning_count;
};

int stack_add_warning(struct rotarr_stack *stack, struct rotarr_error *err,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

char *stack_join(const char *dir, const char *path, struct rotarr_error *err);

long stack_load_env_file(struct rotarr_stack *stack, const char *path,
                         rotarr_lookup_fn lookup, void *ctx,
                         struct rotarr_error *err);

/* Loads every service's env_file files and the files that *_FILE
 * variables name through compose secrets. */
int stack_load_service_files(struct rotarr_stack *stack,
                             struct rotarr_error *err);

/* Appends a file of the given kind to the stack's list; the caller sets
 * its bytes.  Returns the new entry, or NULL with err set. */
struct rotarr_stack_file *stack_add_file(struct rotarr_stack *stack,
                                         enum rotarr_stack_file_kind kind,
                                         const char *path,
                                         struct rotarr_error *err);

/* Loads the settings files of apps that the services' bind mounts reach
 * (config.xml, config/config.yaml, settings.json); missing ones are
 * skipped. */
int stack_load_app_files(struct rotarr_stack *stack,
                         struct rotarr_error *err);

/* Returns the index of service svc in the compose project. */
size_t stack_service_index(const struct rotarr_stack *stack,
                           const struct rotarr_compose_service *svc);

#endif
