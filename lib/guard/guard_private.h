/*
 * Shared by the files of lib/guard: the multi-pattern matcher, the git
 * child processes and the guard object's internals.
 */
#ifndef ROTARR_GUARD_PRIVATE_H
#define ROTARR_GUARD_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rotarr/buf.h"
#include "rotarr/guard.h"

/* The pre-commit template, embedded at build time from hooks/pre-commit
 * (hooks/embed.sh writes the definition). */
extern const char rotarr_hook_template[];
extern const size_t rotarr_hook_template_len;

/* Text in the template that marks a hook as rotarr's. */
#define GUARD_HOOK_MARKER "rotarr-pre-commit-guard"

/* The kind of a pattern, which decides the finding's text. */
enum guard_pattern_kind {
    GUARD_PATTERN_SECRET,  /* a secret value as it is */
    GUARD_PATTERN_ENCODED, /* a secret value percent-encoded */
    GUARD_PATTERN_AGE_KEY, /* "AGE-SECRET-KEY-1", checked further */
    GUARD_PATTERN_KEY,     /* a private key block's first line */
};

/* Characters after "AGE-SECRET-KEY-1": 32 key bytes and a 6-character
 * checksum in bech32. */
#define GUARD_AGE_KEY_TAIL 58

/* Bytes of the window that the filter looks at: every pattern is at
 * least this long, because shorter values are placeholders. */
#define GUARD_WINDOW 8

struct guard_pattern {
    size_t offset, len; /* bytes in the matcher's arena */
    size_t need;        /* bytes a match spans: len, more for an age key */
    uint64_t prefix;    /* the first GUARD_WINDOW bytes */
    enum guard_pattern_kind kind;
    const char *origin; /* borrowed: the finding text after the kind */
    int duplicate;      /* same bytes as an earlier pattern */
};

/* Patterns that share their first window. */
struct guard_bucket {
    uint64_t prefix;
    uint32_t start, count; /* in the matcher's order */
};

/*
 * A search for many byte strings at once.  At each position the next 8
 * bytes are hashed and looked up in a bit filter that fits in the L1
 * cache.  Only where the filter hits are the table of first windows read
 * and the rest of each pattern compared.  The work per position does not
 * depend on the previous one, so the loop runs at the speed of the
 * loads, unlike an automaton's chain of dependent transitions.  Expected
 * time is linear in the input; a window that equals a pattern's first 8
 * bytes also costs a comparison with that pattern.  The arena spells out
 * the secrets, so it is wiped when freed.
 */
struct guard_matcher {
    struct guard_pattern *patterns;
    size_t count, alloc;
    unsigned char *arena; /* pattern bytes; wiped on free */
    size_t arena_len, arena_cap;

    uint64_t *filter;
    unsigned filter_shift; /* 64 minus the filter's bit count's log2 */
    uint32_t *order;       /* pattern indices sorted by prefix */
    struct guard_bucket *buckets;
    size_t bucket_mask;
    size_t max_need;
    int built;
};

/* Adds a pattern; the bytes are copied.  origin is borrowed. */
int guard_matcher_add(struct guard_matcher *m, const void *bytes, size_t len,
                      enum guard_pattern_kind kind, const char *origin,
                      struct rotarr_error *err);

/* Builds the filter and the table; later adds are rejected. */
int guard_matcher_build(struct guard_matcher *m, struct rotarr_error *err);

/* Wipes and frees the patterns and the tables. */
void guard_matcher_release(struct guard_matcher *m);

/* Returns the hash of a window, as an index into the filter. */
static inline uint64_t guard_window_hash(const struct guard_matcher *m,
                                         uint64_t window)
{
    return (window * 0x9e3779b97f4a7c15u) >> m->filter_shift;
}

/* Returns the bucket of patterns starting with window, or NULL. */
const struct guard_bucket *guard_matcher_bucket(const struct guard_matcher *m,
                                                uint64_t window);

struct rotarr_guard {
    struct guard_matcher matcher;
    char **origins; /* owned texts that patterns borrow */
    size_t origin_count;
    char **env_paths; /* env_file: paths, relative to the working tree */
    size_t env_path_count;
    struct rotarr_progress progress; /* report is NULL for none */
    struct rotarr_progress history_progress; /* commits of a range */
    uint64_t files_done, files_total; /* of the current scan */
};


/* A finished child process's output. */
struct guard_git_result {
    struct rotarr_buf out;
    int status; /* exit status, or -1 when killed by a signal */
};

/* Largest output read from a git command other than cat-file. */
#define GUARD_GIT_MAX_OUTPUT ((size_t)512 << 20)

/*
 * Runs git with argv (argv[0] is "git"; NULL-terminated) in the current
 * directory, writes input (may be NULL) to its standard input and
 * collects its standard output.  Returns 0 when git exited with status 0.
 * When ok_status is not NULL, a non-zero exit status is stored there and
 * is not an error.  Returns -1 with err set (ROTARR_EFILE, with git's
 * first line of standard error) otherwise.
 */
int guard_git_run(const char *const *argv, const char *input,
                  size_t input_len, struct rotarr_buf *out, int *ok_status,
                  struct rotarr_error *err);

/* Runs git with input (NULL for none) and returns its first output line,
 * without the line break, as a new string, or NULL with err set. */
char *guard_git_line(const char *const *argv, const char *input,
                     struct rotarr_error *err);

/*
 * A 'git cat-file --batch' process that blobs are read from.  All the
 * requests are sent while the output is read, so that git inflates the
 * next blob while the last one is scanned.
 */
struct guard_cat_file {
    pid_t pid;
    int to_git, from_git;
    const char *requests; /* "OID\n" lines, borrowed */
    size_t request_len, request_sent;
    char *buf; /* blob bytes: wiped on close */
    size_t start, end, cap;
};

/* Starts git with the requests ("OID\n" for each blob, in the order they
 * will be read), which must stay valid until close. */
int guard_cat_file_open(struct guard_cat_file *cf, const char *requests,
                        size_t len, struct rotarr_error *err);

/*
 * Reads the next blob from the output, which must be blob oid, and feeds its bytes to
 * scan in pieces.  Returns 0, or -1 with err set when git reports the
 * object missing or not a blob, or the pipe fails.
 */
int guard_cat_file_scan(struct guard_cat_file *cf, const char *oid,
                        struct rotarr_guard_scan *scan,
                        struct rotarr_error *err);

/* Ends the process and wipes the buffer.  Returns -1 with err set when
 * git failed; err may be NULL on a path that already failed. */
int guard_cat_file_close(struct guard_cat_file *cf, struct rotarr_error *err);

/* One blob of a diff or a tree to scan. */
struct guard_entry {
    const char *path; /* points into the git output */
    char oid[ROTARR_GUARD_OID_SIZE];
    unsigned mode;
    const char *commit; /* NULL outside a range */
    int skip;           /* seen before at the same path */
};

struct guard_entries {
    struct guard_entry *items;
    size_t count, alloc;
};

struct guard_worktree;

/* Scans each entry not marked skip: from the working tree when wt is not
 * NULL and the file there is the blob, else through one cat-file
 * process. */
int guard_scan_entries(struct rotarr_guard *guard,
                       struct guard_entries *entries,
                       struct guard_worktree *wt,
                       struct rotarr_guard_findings *findings,
                       struct rotarr_error *err);

/* Looks at the env file buf (len bytes) line by line and adds a finding
 * for each value that counts as a secret.  sops: skip encrypted values
 * and sops_ keys. */
int guard_check_env_values(const char *path, const char *commit,
                           const char *buf, size_t len, int sops,
                           struct rotarr_guard_findings *findings,
                           struct rotarr_error *err);

/* Appends a finding; counts it in dropped past the limit. */
int guard_findings_add(struct rotarr_guard_findings *findings,
                       enum rotarr_guard_kind kind, const char *path,
                       size_t line, const char *commit, const char *what,
                       struct rotarr_error *err);

/* Returns 1 when path is one of the guard's env_file: paths. */
int guard_is_env_path(const struct rotarr_guard *guard, const char *path);

/* Adds each URL password inside value (len bytes) that is not a
 * placeholder, as written and decoded. */
int guard_learn_url_passwords(struct rotarr_guard *guard, const char *value,
                              size_t len, const char *origin,
                              struct rotarr_error *err);

/*
 * Finds the next URL with a password in value (len bytes) from *pos on.
 * Returns 1 and the password's span, as written, or 0 when there is
 * none; *pos moves past what was read.
 */
int guard_next_url_password(const char *value, size_t len, size_t *pos,
                            size_t *pw_start, size_t *pw_len);

/* SHA-1, for the object ids of SHA-1 repositories. */
struct guard_sha1 {
    uint32_t state[5];
    uint64_t length;
    unsigned char block[64];
    size_t used;
};

void guard_sha1_init(struct guard_sha1 *ctx);

/* Set by tests to check the portable code on machines with SHA
 * instructions. */
extern int guard_sha1_portable_only;

/* Compresses count 64-byte blocks with the CPU's SHA instructions and
 * returns 1, or returns 0 without touching state when it has none. */
int guard_sha1_blocks_fast(uint32_t state[5], const unsigned char *blocks,
                           size_t count);
void guard_sha1_update(struct guard_sha1 *ctx, const void *bytes, size_t len);
void guard_sha1_final(struct guard_sha1 *ctx, unsigned char digest[20]);

/*
 * Files of the working tree that have exactly the bytes of a staged blob.
 * Reading them is much faster than having git inflate the blob, and the
 * object id, a hash of the bytes, proves that they are the same.
 */
struct guard_worktree {
    char *top;  /* NULL: every blob comes from git */
    char *buf;  /* the last file read; wiped */
    size_t cap;
};

/*
 * Returns 1 and points *bytes and *len at the working-tree file path
 * (relative to top) when its bytes hash to blob oid, 0 when they do not
 * or it cannot be read, -1 with err set when memory runs out.  The bytes
 * stay valid until the next call.
 */
int guard_worktree_read(struct guard_worktree *wt, const char *path,
                        const char *oid, const char **bytes, size_t *len,
                        struct rotarr_error *err);

void guard_worktree_release(struct guard_worktree *wt);

/* Returns "dir/path" as a new string, or NULL when memory runs out. */
char *guard_path_join(const char *dir, const char *path);

/* Returns the top of the git working tree of the current directory, with
 * symlinks resolved, as a new string, or NULL with err set. */
char *guard_working_tree_top(struct rotarr_error *err);

/* Stores text as an origin owned by the guard and returns it. */
const char *guard_keep_origin(struct rotarr_guard *guard, char *text,
                              struct rotarr_error *err);

#endif
