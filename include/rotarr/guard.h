/*
 * The pre-commit guard: finds what must not reach git in the blobs of a
 * commit, and installs the git hook that runs it.
 *
 * A blob is rejected for three reasons:
 *   - Its path names an env file and its content is plaintext.  Env file
 *     names are ".env", ".env.*" and "*.env" (compared without regard to
 *     case) and every env_file: path of the stack's compose files.  Age
 *     files (binary or armored) and sops-encrypted dotenv files pass.  A
 *     name with an example, sample, template, tmpl or dist component
 *     (".env.example", "example.env", "app.env.sample") is an example env
 *     file: it passes unless one of its values counts as a secret by the
 *     rule below.  An env_file: path is never an example file.
 *   - It contains a copy of a secret value of the stack's local env files.
 *     A copy is the bytes as they are, or percent-encoded as in a URL's
 *     userinfo with upper- or lower-case hex digits.  The password of a
 *     URL in such a value counts as a secret value, as written and
 *     decoded.
 *   - It contains private key material: an age secret key
 *     ("AGE-SECRET-KEY-1" and 58 bech32 characters), or a PEM, OpenSSH or
 *     PGP private key block ("-----BEGIN ... PRIVATE KEY-----" at the end
 *     of a line).
 *
 * A value counts as a secret when it is not a placeholder and either its
 * key names a credential or the value looks generated (see
 * rotarr_guard_is_secret_value).  Nothing in the repository, the
 * environment or a comment switches a check off: a placeholder passes
 * because its value is not a secret.
 *
 * Findings never contain a secret: they name the file, the line and the
 * key whose value was found.  Git runs as a child process ("git" on PATH,
 * in the current directory, with the caller's environment so that
 * GIT_INDEX_FILE and GIT_DIR set by git for a hook are honoured); no
 * secret is ever passed on its command line.  Callers ignore SIGPIPE, so
 * that a git child that exits early turns into an error instead of
 * killing the process.
 */
#ifndef ROTARR_GUARD_H
#define ROTARR_GUARD_H

#include <stddef.h>

#include "rotarr/compat.h"
#include "rotarr/dotenv.h"
#include "rotarr/error.h"
#include "rotarr/progress.h"
#include "rotarr/stack.h"

/* Findings kept by one scan; later ones are only counted. */
#define ROTARR_GUARD_MAX_FINDINGS 1000

/* Largest env file whose values are checked (example and sops files). */
#define ROTARR_GUARD_MAX_ENV_BYTES ((size_t)16 << 20)

/* Shortest value that can count as a secret. */
#define ROTARR_GUARD_MIN_SECRET 8

/* Maximum length of a secret value; longer values are not looked for. */
#define ROTARR_GUARD_MAX_SECRET 4096

/* Room for a hex object id (SHA-256) and its NUL. */
#define ROTARR_GUARD_OID_SIZE 65

enum rotarr_guard_kind {
    ROTARR_GUARD_PLAINTEXT_ENV, /* env file by name, not encrypted */
    ROTARR_GUARD_NOT_PLACEHOLDER, /* example or sops value is a secret */
    ROTARR_GUARD_SECRET_COPY,   /* copy of a local secret value */
    ROTARR_GUARD_PRIVATE_KEY,   /* age, PEM, OpenSSH or PGP private key */
    ROTARR_GUARD_UNCHECKED,     /* env file too large to check */
};

struct rotarr_guard_finding {
    enum rotarr_guard_kind kind;
    char *path;  /* path in the repository */
    size_t line; /* 1-based */
    char *what;  /* "copy of the value of 'DB_PASSWORD' in '.env'" */
    char commit[ROTARR_GUARD_OID_SIZE]; /* "" outside a range check */
};

struct rotarr_guard_findings {
    struct rotarr_guard_finding *items;
    size_t count;
    size_t alloc;
    size_t dropped; /* findings past ROTARR_GUARD_MAX_FINDINGS */
};

#define ROTARR_GUARD_FINDINGS_INIT { NULL, 0, 0, 0 }

void rotarr_guard_findings_release(struct rotarr_guard_findings *findings);

/* The kind of file that a path names. */
enum rotarr_guard_name {
    ROTARR_GUARD_NAME_OTHER,
    ROTARR_GUARD_NAME_ENV,
    ROTARR_GUARD_NAME_EXAMPLE, /* an env file name with an example part */
};

/* Classifies path by its last component alone (env_file: paths aside). */
enum rotarr_guard_name rotarr_guard_classify_name(const char *path)
    ROTARR_NONNULL(1);

enum rotarr_guard_envelope {
    ROTARR_GUARD_PLAIN,
    ROTARR_GUARD_AGE,       /* "age-encryption.org/v1" header and MAC */
    ROTARR_GUARD_AGE_ARMOR, /* "-----BEGIN AGE ENCRYPTED FILE-----" */
    ROTARR_GUARD_SOPS,      /* dotenv with sops_version= and sops_mac=ENC[ */
};

/* Tells, without decrypting, whether the len bytes are encrypted. */
enum rotarr_guard_envelope rotarr_guard_envelope_of(const char *bytes,
                                                    size_t len);

/*
 * Returns 1 when value (len bytes) is a placeholder rather than a secret:
 * shorter than ROTARR_GUARD_MIN_SECRET bytes; one byte repeated
 * ("********"); wrapped in <...>, or starting with "${" or "{{"; starting,
 * without regard to case, with changeme, change_me, change-me,
 * changethis, change_this, change-this, example, placeholder, replace,
 * your, xxx, dummy, fixme, todo or insert; or one of the values everyone
 * guesses (password, passw0rd, secret, 12345678, 123456789, 1234567890).
 */
int rotarr_guard_is_placeholder(const char *value, size_t len);

/*
 * Returns 1 when key names a credential: it contains, without regard to
 * case, PASS, PWD, SECRET, TOKEN, KEY, SALT, CREDENTIAL, PRIVATE, AUTH or
 * DSN.
 */
int rotarr_guard_is_credential_key(const char *key) ROTARR_NONNULL(1);

/*
 * Returns 1 when the value of key counts as a secret: it is not a
 * placeholder and either key names a credential or the value looks
 * generated (at least 20 bytes of [A-Za-z0-9+/=_-] with a letter and a
 * digit).  The password of a URL inside a value is judged on its own.
 */
int rotarr_guard_is_secret_value(const char *key, const char *value,
                                 size_t len) ROTARR_NONNULL(1);

/* The secrets and env file names to look for, and the matcher built
 * from them on the first scan. */
struct rotarr_guard;

/* Returns a new empty guard, or NULL with err set when memory runs out. */
struct rotarr_guard *rotarr_guard_new(struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Adds a secret (len bytes, copied into memory that is wiped on free) to
 * look for, with its percent-encoded forms.  origin names it in findings
 * ("the value of 'DB_PASSWORD' in '.env'") and must not contain it.  A
 * value that is a placeholder or longer than ROTARR_GUARD_MAX_SECRET is
 * skipped.  Returns 0, or -1 with err set when memory runs out or the
 * guard has already scanned (ROTARR_EUSAGE).
 */
int rotarr_guard_add_secret(struct rotarr_guard *guard, const char *value,
                            size_t len, const char *origin,
                            struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2, 4);

/*
 * Adds path (relative to the top of the working tree, '/'-separated) to
 * the names rejected as env files, like an env_file: entry.
 */
int rotarr_guard_add_env_path(struct rotarr_guard *guard, const char *path,
                              struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2);

/*
 * Adds the secrets of one local env file: every value that counts as a
 * secret (rotarr_guard_is_secret_value) and every URL password inside a
 * value that is not a placeholder.  display names the file in findings.
 */
int rotarr_guard_learn_env(struct rotarr_guard *guard,
                           const struct rotarr_dotenv *env,
                           const char *display, struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2, 3);

/*
 * Returns 1 when the directory of opts has a compose file (or -f or
 * COMPOSE_FILE names one) or an env file, so that the guard can learn
 * secret values from it, and 0 otherwise.
 */
int rotarr_guard_stack_present(const struct rotarr_stack_options *opts)
    ROTARR_NONNULL(1);

/*
 * Learns the stack that opts describes: the secrets of its env files and
 * secret files, and the env_file: paths of its compose files, made
 * relative to the top of the git working tree.  A directory without a
 * compose file (no -f, no COMPOSE_FILE and none of the default names) is
 * read as its env file alone.  Returns 0, or -1 with err set: ROTARR_EFILE
 * when the stack cannot be loaded or git cannot find the working tree.
 */
int rotarr_guard_learn_stack(struct rotarr_guard *guard,
                             const struct rotarr_stack_options *opts,
                             struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2);

/* Returns the number of byte strings looked for (secrets, their
 * encodings and the private key markers). */
size_t rotarr_guard_pattern_count(const struct rotarr_guard *guard);

/*
 * A scan of one blob fed in pieces, so that a blob of any size is checked
 * in constant memory.  begin takes the blob's path in the repository and
 * the commit to name in findings (NULL for none).  feed takes the bytes
 * in order.  finish adds the blob's findings to findings, which must
 * outlive the scan, and frees the scan.  abort frees a scan without
 * adding anything, and accepts NULL.  Each returns -1 with err set when memory
 * runs out.  The bytes may hold secrets: the scan wipes what it keeps.
 */
struct rotarr_guard_scan;

struct rotarr_guard_scan *
rotarr_guard_scan_begin(struct rotarr_guard *guard, const char *path,
                        const char *commit,
                        struct rotarr_guard_findings *findings,
                        struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2, 4);
int rotarr_guard_scan_feed(struct rotarr_guard_scan *scan, const char *bytes,
                           size_t len, struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1);
int rotarr_guard_scan_finish(struct rotarr_guard_scan *scan,
                             struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1);
void rotarr_guard_scan_abort(struct rotarr_guard_scan *scan);

/* Scans one blob held in memory: begin, one feed, finish. */
int rotarr_guard_check_blob(struct rotarr_guard *guard, const char *path,
                            const char *bytes, size_t len,
                            struct rotarr_guard_findings *findings,
                            struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2, 5);

/*
 * Scans what the next commit would add: the blobs of the index (the file
 * GIT_INDEX_FILE names, when set) that differ from HEAD, added, changed,
 * renamed or copied, with renames found as 'git diff -M' does.  Every
 * blob is read from git, never from the working tree.  Symbolic links and
 * submodules are skipped.  Returns 0 whether or not anything was found,
 * or -1 with err set (ROTARR_EFILE) when git fails.
 */
int rotarr_guard_check_staged(struct rotarr_guard *guard,
                              struct rotarr_guard_findings *findings,
                              struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2);

/* Scans every blob of the tree of rev (HEAD when NULL); a repository
 * without commits has nothing to scan. */
int rotarr_guard_check_tree(struct rotarr_guard *guard, const char *rev,
                            struct rotarr_guard_findings *findings,
                            struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 3);

/*
 * Scans the blobs that each commit of range ('git rev-list' syntax, such
 * as "origin/main..HEAD") adds or changes, oldest commit first.  A merge
 * is compared with its first parent.  A blob seen before at the same path
 * is not scanned again.  Findings name their commit.  A range starting
 * with '-', and one that git cannot resolve inside a repository, are
 * rejected with ROTARR_EUSAGE.
 */
int rotarr_guard_check_range(struct rotarr_guard *guard, const char *range,
                             struct rotarr_guard_findings *findings,
                             struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 2, 3);

/*
 * Sets the receiver of progress reports for the scans that follow, or
 * none when progress is NULL (the struct is copied).  The unit is files:
 * the blobs that rotarr_guard_check_staged, _check_tree and _check_range
 * read, a file seen before at the same path not counted.  One report
 * follows each file.  A range check lists the blobs of every commit
 * (with 'git diff-tree') before it reports any file: see
 * rotarr_guard_set_history_progress for that part.
 */
void rotarr_guard_set_progress(struct rotarr_guard *guard,
                               const struct rotarr_progress *progress)
    ROTARR_NONNULL(1);

/* Commits that a range check lists at a time, between two reports. */
#define ROTARR_GUARD_HISTORY_BATCH 256

/*
 * Sets the receiver of the reports of a range check's first part, or
 * none when progress is NULL (the struct is copied).  The unit is
 * commits: the total is the number of commits in the range, and a report
 * follows every ROTARR_GUARD_HISTORY_BATCH commits whose changes have
 * been listed, and the last one.
 */
void rotarr_guard_set_history_progress(struct rotarr_guard *guard,
                                       const struct rotarr_progress *progress)
    ROTARR_NONNULL(1);

/* Wipes the secrets and frees the guard.  Accepts NULL. */
void rotarr_guard_free(struct rotarr_guard *guard);

/* Name of the hook file and of the saved hook that rotarr's runs first. */
#define ROTARR_HOOK_NAME "pre-commit"
#define ROTARR_HOOK_SAVED_NAME "pre-commit.before-rotarr"

/* The outcome of rotarr_hook_install and rotarr_hook_uninstall. */
struct rotarr_hook_status {
    char *hooks_dir; /* absolute, from 'git rev-parse --git-path hooks' */
    /* The config scope ("global", "system", "local", "worktree") that
     * sets core.hooksPath, or NULL when it is not set. */
    char *hooks_path_scope;
    int updated;   /* install: rotarr's hook was already there */
    int kept;      /* install: the hook found was saved and runs first */
    int restored;  /* uninstall: the saved hook was put back */
    /* Set when another tool manages the hooks and nothing was written:
     * the tool's name, the file to edit and the line to add to it. */
    const char *manager;
    char *manager_file;
    char *manager_line;
};

#define ROTARR_HOOK_STATUS_INIT { NULL, NULL, 0, 0, 0, NULL, NULL, NULL }

/*
 * Installs the pre-commit hook in the directory where git runs hooks for
 * the repository of the current directory ('git rev-parse --git-path
 * hooks', which follows core.hooksPath, linked worktrees and submodules),
 * creating it when missing.  The hook runs 'rotarr -C STACK hook run',
 * with STACK the stack directory stack_dir relative to the top of the
 * working tree.
 *
 * A pre-commit hook that rotarr did not write is renamed to
 * ROTARR_HOOK_SAVED_NAME, unchanged, and rotarr's hook runs it first.
 * When the hooks belong to another tool (husky's .husky directory, or a
 * hook written by the pre-commit framework) nothing is written unless
 * force is set: the function returns 1 and fills manager, manager_file
 * and manager_line.  Returns 0 when the hook is installed, or -1 with err
 * set: ROTARR_EFILE when git or a file operation fails, when the stack
 * directory is outside the working tree, or when a saved hook already
 * exists beside a hook rotarr did not write.
 */
int rotarr_hook_install(const char *stack_dir, int force,
                        struct rotarr_hook_status *status,
                        struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1, 3);

/*
 * Removes rotarr's pre-commit hook and renames the saved hook, when there
 * is one, back to its place, so that it is the same file, byte for byte
 * and with its mode.  Returns 0, or -1 with err set: ROTARR_NO when the
 * pre-commit hook is missing or rotarr did not write it (it is left
 * alone), ROTARR_EFILE when git or a file operation fails.
 */
int rotarr_hook_uninstall(struct rotarr_hook_status *status,
                          struct rotarr_error *err)
    ROTARR_MUST_CHECK ROTARR_NONNULL(1);

/* Frees the strings of status and resets it.  Accepts NULL. */
void rotarr_hook_status_release(struct rotarr_hook_status *status);

/* Returns the hook script as installed for the stack directory stack_rel
 * (relative to the top of the working tree), as a new string to free, or
 * NULL when memory runs out. */
char *rotarr_hook_script(const char *stack_rel);

#endif
