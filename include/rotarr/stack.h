/*
 * A Compose stack as rotarr sees it: the compose files, the project env
 * file, each service's env_file files, the secret files that
 * *_PASSWORD_FILE variables point at and the apps' settings files below
 * the services' bind mounts, all loaded from one stack directory.
 *
 * The stack answers two questions.  What value does a service's variable
 * have, and where does that value come from?  And where does a given
 * secret value occur, byte for byte, in the stack's files?  Occurrences
 * are then rewritten in place: every other byte of every file is kept.
 */
#ifndef ROTARR_STACK_H
#define ROTARR_STACK_H

#include <stddef.h>

#include "rotarr/age.h"
#include "rotarr/appconfig.h"
#include "rotarr/buf.h"
#include "rotarr/compose.h"
#include "rotarr/dotenv.h"
#include "rotarr/error.h"
#include "rotarr/interp.h"
#include "rotarr/secret.h"
#include "rotarr/yamldoc.h"

struct rotarr_stack;

struct rotarr_stack_options {
    const char *dir;                  /* stack directory; NULL means "." */
    const char *const *compose_files; /* -f files, or NULL for discovery */
    size_t compose_file_count;
    const char *env_file; /* NULL: DIR/.env when it exists */
    /* The shell environment, consulted before the env file as Compose
     * does; NULL means getenv().  The occurrence search of a large
     * compose file calls it from two threads at once, so it must only
     * read shared state. */
    rotarr_lookup_fn shell_lookup;
    void *shell_ctx;
    /* Identities for an age-encrypted env file; NULL makes such a file
     * an error (ROTARR_EDECRYPT).  Kept by the stack: it must outlive
     * the stack. */
    const struct rotarr_age_keyring *keys;
};

enum rotarr_stack_file_kind {
    ROTARR_STACK_FILE_COMPOSE,
    ROTARR_STACK_FILE_ENV,    /* the project env file or an env_file */
    ROTARR_STACK_FILE_SECRET, /* a whole file holding one secret */
    /* An app's settings file in a bind-mounted config directory
     * (rotarr/appconfig.h); rewritten with its mode kept. */
    ROTARR_STACK_FILE_APPCONFIG,
};

/* One file of the stack; owned by the stack. */
struct rotarr_stack_file {
    enum rotarr_stack_file_kind kind;
    char *path;    /* as opened: DIR joined with the relative name */
    char *display; /* relative to the stack directory when inside it */
    const char *bytes;
    size_t len;
    const struct rotarr_dotenv *env; /* ROTARR_STACK_FILE_ENV */
    const struct rotarr_ydoc *yaml;  /* ROTARR_STACK_FILE_COMPOSE */
    const struct rotarr_appconfig *app; /* ROTARR_STACK_FILE_APPCONFIG */
    size_t service; /* APPCONFIG: index of the service that mounts it */
    /* ENV: set when the file on disk is age-encrypted, and armored when
     * it is armored.  bytes is then the plaintext, which writes encrypt
     * again to the recipients in ROTARR_AGE_RECIPIENTS_FILE. */
    int encrypted;
    int armored;
    int passphrase; /* encrypted with a passphrase, not to keys */
    /* ENV when encrypted: BLAKE2b-256 of the age file as read, for
     * rotarr_stack_check_unchanged, since bytes is the plaintext. */
    unsigned char sealed_hash[32];
};

enum rotarr_service_kind {
    ROTARR_SERVICE_OTHER,
    ROTARR_SERVICE_POSTGRES,
    ROTARR_SERVICE_REDIS,
};

/* The form in which an occurrence contains the secret. */
enum rotarr_occurrence_kind {
    ROTARR_OCC_VALUE,     /* the whole value is the secret */
    ROTARR_OCC_URL,       /* the password of a URL, percent-encoded */
    ROTARR_OCC_TEXT,      /* a literal copy inside a longer value */
    ROTARR_OCC_REFERENCE, /* ${VAR} that Compose fills with the secret */
};

/*
 * One place where a secret occurs.  A value is the text that Compose reads
 * as one string: an env file value or a compose scalar.
 */
struct rotarr_occurrence {
    size_t file; /* index for rotarr_stack_file() */
    enum rotarr_occurrence_kind kind;
    size_t line, column; /* 1-based, in the file */
    char *where;         /* "DB_PASSWORD" or "services.app.environment.X" */
    /* Bytes of the occurrence in the file (for REFERENCE, the ${...}
     * expression); valid only when direct is 1, which means the file
     * holds the value's text unescaped so the occurrence can be replaced
     * in place. */
    int direct;
    size_t start, end;
    /* The whole value in the file, quotes included, and the occurrence's
     * place in the value as read (before interpolation for compose). */
    size_t value_start, value_end;
    size_t sub_start, sub_end;
    const struct rotarr_dotenv_entry *entry; /* env file values */
    const struct rotarr_ynode *node;         /* compose scalars */
    const struct rotarr_appconfig_setting *setting; /* app settings */
    int in_url; /* REFERENCE: the ${VAR} is inside a URL's userinfo */
};

struct rotarr_occurrences {
    struct rotarr_occurrence *items;
    size_t count;
    size_t alloc;
};

#define ROTARR_OCCURRENCES_INIT { NULL, 0, 0 }

/*
 * Loads the stack described by opts.  Errors name the file, and the line
 * and column for parse errors: ROTARR_EFILE for anything unreadable,
 * invalid, over 16 MiB or a symlink leaving the stack directory.  Without
 * opts->env_file, the project env file is DIR/.env, or DIR/.env.age when
 * only that exists.  An env file that is an age file is decrypted in
 * memory with opts->keys (ROTARR_EDECRYPT when that fails).
 */
struct rotarr_stack *rotarr_stack_load(const struct rotarr_stack_options *opts,
                                       struct rotarr_error *err);

/* Returns the stack directory as given. */
const char *rotarr_stack_dir(const struct rotarr_stack *stack);

/* Returns the loaded compose project (borrowed). */
const struct rotarr_compose *
rotarr_stack_compose(const struct rotarr_stack *stack);

size_t rotarr_stack_file_count(const struct rotarr_stack *stack);
const struct rotarr_stack_file *
rotarr_stack_file(const struct rotarr_stack *stack, size_t i);

/* Returns the keyring of the options the stack was loaded with. */
const struct rotarr_age_keyring *
rotarr_stack_keys(const struct rotarr_stack *stack);

/* Returns 1 when one of the stack's env files is age-encrypted. */
int rotarr_stack_encrypted(const struct rotarr_stack *stack);

/*
 * Checks, before a rotation changes anything, that the stack's files can
 * be written back without losing track of a password.  The default env
 * file must not have both forms, .env and .env.age, and no file may have
 * several hard links.  Encrypted files must
 * not use a passphrase, and DIR/ROTARR_AGE_RECIPIENTS_FILE must list
 * valid recipients, one of them a key that decrypted the files.  Returns
 * 0, or -1 with err set (ROTARR_EFILE) saying what to do.
 */
int rotarr_stack_check_writable(const struct rotarr_stack *stack,
                                struct rotarr_error *err);

/*
 * Checks that every file of the stack still has the bytes it was loaded
 * from.  Writes are planned from those bytes, so a command calls this
 * after it takes the stack lock, because a file that another rotarr
 * rewrote meanwhile would be written back with that change undone.
 * Returns 0, or -1 with err set (ROTARR_EFILE) naming the file.
 */
int rotarr_stack_check_unchanged(const struct rotarr_stack *stack,
                                 struct rotarr_error *err);

/*
 * Replaces the file at index with the len bytes at bytes, as
 * rotarr_file_replace does with flags, below the stack directory.  An
 * encrypted file is encrypted again first, to the recipients in
 * DIR/ROTARR_AGE_RECIPIENTS_FILE, armored if it was, and keeps its mode
 * whatever the flags.  old_mode and new_mode are as for
 * rotarr_file_replace.
 */
int rotarr_stack_replace_file(const struct rotarr_stack *stack, size_t index,
                              const void *bytes, size_t len, unsigned flags,
                              unsigned *old_mode, unsigned *new_mode,
                              struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the project env file, or NULL when the stack has none. */
const struct rotarr_stack_file *
rotarr_stack_env_file(const struct rotarr_stack *stack);

/* Returns what a service is, judged from its image name after
 * interpolation. */
enum rotarr_service_kind
rotarr_stack_service_kind(const struct rotarr_stack *stack,
                          const struct rotarr_compose_service *svc);

/*
 * Returns the service called name, or without a name the only service of
 * the given kind.  Fails with ROTARR_EUSAGE when the name is unknown, or
 * when no service or several services are of that kind (listing them).
 */
const struct rotarr_compose_service *
rotarr_stack_choose_server(const struct rotarr_stack *stack,
                           enum rotarr_service_kind kind, const char *name,
                           struct rotarr_error *err);

/* Returns 1 when image names a Postgres server image. */
int rotarr_image_is_postgres(const char *image);

/* Returns 1 when image names a Redis-compatible server image. */
int rotarr_image_is_redis(const char *image);

/*
 * Warnings found while loading (a readable env file, an unquoted '#',
 * a shell variable that overrides the env file), one line each, in the
 * order found.  Borrowed.
 */
size_t rotarr_stack_warning_count(const struct rotarr_stack *stack);
const char *rotarr_stack_warning(const struct rotarr_stack *stack, size_t i);

/* The definition site of a service variable's value. */
struct rotarr_var_origin {
    int from_env_file;    /* defined in an env_file: entry */
    size_t file;          /* file index of the definition */
    /* The env file key when the value is a plain ${KEY} or comes from an
     * env_file; "" otherwise. */
    char env_key[128];
    const char *raw;      /* compose text before interpolation, or NULL */
    size_t raw_len;
};

/*
 * Computes the value Compose gives to variable key in service svc:
 * environment: wins over env_file:, ${...} expanded with the shell and
 * project env file.  Returns 1 and appends the value to value when the
 * variable is set, 0 when it is not, -1 on error (an interpolation error,
 * ROTARR_EFILE).  value may hold a secret: the caller wipes it.
 */
int rotarr_stack_service_var(const struct rotarr_stack *stack,
                             const struct rotarr_compose_service *svc,
                             const char *key, struct rotarr_buf *value,
                             struct rotarr_var_origin *origin,
                             struct rotarr_error *err);

/*
 * Expands a compose text the way Compose does, with the shell environment
 * first and the project env file second.
 */
int rotarr_stack_expand(const struct rotarr_stack *stack, const char *text,
                        size_t len, struct rotarr_buf *out,
                        struct rotarr_error *err);

/* Returns the project variable name's value as Compose reads it, or NULL. */
const char *rotarr_stack_lookup(const struct rotarr_stack *stack,
                                const char *name);

/*
 * Finds the occurrences of count secrets in one pass over the stack:
 * outs[i] receives those of secrets[i].  Faster than one call of
 * rotarr_stack_find_occurrences per secret when there are many.  A large
 * compose file is searched by two threads, with the same result.
 */
int rotarr_stack_find_occurrences_many(const struct rotarr_stack *stack,
                                       const struct rotarr_secret *const *secrets,
                                       size_t count,
                                       struct rotarr_occurrences *outs,
                                       struct rotarr_error *err);

/* rotarr_stack_lookup as a rotarr_lookup_fn; ctx is the stack. */
const char *rotarr_stack_project_lookup(void *ctx, const char *name);

/*
 * Finds every occurrence of secret in the stack's files: env file values
 * equal to it or holding it as a URL password or as a literal copy, the
 * same in compose scalars and secret files, and the compose ${VAR}
 * references whose value is the secret.  Appends to out in file order.
 * Copies inside a longer value are only looked for when the secret has
 * at least 12 bytes, so that short values do not match by chance.  A
 * value stored under a name for a user, database, host or path
 * (POSTGRES_USER, POSTGRES_DB, ...) is not taken for a copy even when it
 * equals the secret, as stacks often use one word for all of them; and a
 * secret shorter than 12 bytes counts as copied only under a password
 * variable that names no other kind of server, never as a list item.
 */
int rotarr_stack_find_occurrences(const struct rotarr_stack *stack,
                                  const struct rotarr_secret *secret,
                                  struct rotarr_occurrences *out,
                                  struct rotarr_error *err);

/*
 * Returns 1 when service svc reads one of the occurrences: in its own
 * compose entry, in one of its env_file files, in an app settings file
 * below one of its bind mounts, or through a variable of the project env
 * file that holds the secret.
 */
int rotarr_stack_service_uses(const struct rotarr_stack *stack,
                              const struct rotarr_compose_service *svc,
                              const struct rotarr_occurrences *occs);

void rotarr_occurrences_release(struct rotarr_occurrences *occs);

/* The new contents of one file after replacing a secret. */
struct rotarr_file_edit {
    size_t file;
    struct rotarr_buf bytes; /* may hold secrets: wiped on release */
    size_t changed_lines[64];
    size_t changed_line_count;
};

struct rotarr_file_edits {
    struct rotarr_file_edit *items;
    size_t count;
};

#define ROTARR_FILE_EDITS_INIT { NULL, 0 }

/*
 * Computes the new contents of every file that holds an occurrence of old
 * once it is replaced by new: a URL password gets new percent-encoded, a
 * value is quoted so that Compose reads back exactly new, and a compose
 * scalar keeps its style when it can.  References are left alone, but
 * when new needs percent-encoding and a ${VAR} reference is spliced into a
 * URL, the edit is rejected with ROTARR_EUSAGE naming the place, since
 * Compose would paste the raw password into the URL.
 */
int rotarr_stack_plan_edits(const struct rotarr_stack *stack,
                            const struct rotarr_occurrences *occs,
                            const struct rotarr_secret *new_secret,
                            struct rotarr_file_edits *edits,
                            struct rotarr_error *err);

/* Receives one byte-range replacement in file index file; returns 0, or
 * -1 with err set to stop the caller. */
typedef int (*rotarr_edit_fn)(void *ctx, size_t file, size_t start,
                              size_t end, const char *text, size_t len,
                              struct rotarr_error *err);

/*
 * Calls add with each byte-range replacement that rotarr_stack_plan_edits
 * makes, in file order, instead of applying them, so that a caller can
 * combine them with edits of its own.  Offsets refer to the files as
 * loaded.  Fails as rotarr_stack_plan_edits does, and with the first
 * error add returns.  text may hold the new secret: add copies it.
 */
int rotarr_stack_occurrence_edits(const struct rotarr_stack *stack,
                                  const struct rotarr_occurrences *occs,
                                  const struct rotarr_secret *new_secret,
                                  rotarr_edit_fn add, void *ctx,
                                  struct rotarr_error *err);

/*
 * Writes every edited file with an atomic replace, keeping owner and
 * tightening the mode of files holding secrets to at most 0600, except
 * app settings files, which keep their mode because the app's user
 * (PUID/PGID of LinuxServer images) may read them through its group.  Calls
 * notice (when not NULL) for each mode change with a message such as
 * ".env: mode 0644 -> 0600".  Stops at the first failure: files written
 * before it stay written, and the error names the failed file.
 */
int rotarr_stack_write_edits(const struct rotarr_stack *stack,
                             const struct rotarr_file_edits *edits,
                             void (*notice)(void *ctx, const char *msg),
                             void *ctx, struct rotarr_error *err);

void rotarr_file_edits_release(struct rotarr_file_edits *edits);

void rotarr_stack_free(struct rotarr_stack *stack);

#endif
