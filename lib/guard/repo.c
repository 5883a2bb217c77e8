#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include "guard_private.h"

/* Regular files only: symlinks hold a path and submodules a commit. */
#define MODE_TYPE_MASK 0170000u
#define MODE_REGULAR 0100000u

static int push_entry(struct guard_entries *entries, const char *path,
                      const char *oid, size_t oid_len, unsigned mode,
                      const char *commit, struct rotarr_error *err)
{
    struct guard_entry *e;

    if ((mode & MODE_TYPE_MASK) != MODE_REGULAR) {
        return 0;
    }
    if (oid_len == 0 || oid_len >= ROTARR_GUARD_OID_SIZE) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "invalid object id in git output");
    }
    if (entries->count == entries->alloc) {
        size_t alloc = entries->alloc > 0 ? entries->alloc * 2 : 64;

        e = realloc(entries->items, alloc * sizeof(*e));
        if (e == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        entries->items = e;
        entries->alloc = alloc;
    }
    e = &entries->items[entries->count++];
    memset(e, 0, sizeof(*e));
    e->path = path;
    memcpy(e->oid, oid, oid_len);
    e->mode = mode;
    e->commit = commit;
    return 0;
}

/* Returns the next NUL-terminated token of [*p, end), or NULL. */
static char *next_token(char **p, char *end)
{
    char *token = *p;
    char *nul;

    if (token >= end) {
        return NULL;
    }
    nul = memchr(token, '\0', (size_t)(end - token));
    if (nul == NULL) {
        return NULL;
    }
    *p = nul + 1;
    return token;
}

/*
 * Parses one raw diff record, ":SRCMODE DSTMODE SRCOID DSTOID STATUS",
 * and its one path, or two for a rename or copy, of which the second is
 * the new path.  Deleted files are skipped.
 */
static int parse_record(char *header, char **p, char *end,
                        const char *commit, struct guard_entries *entries,
                        struct rotarr_error *err)
{
    char *fields[5];
    char *path, *space;
    unsigned long mode;
    size_t i;

    fields[0] = header + 1;
    for (i = 1; i < 5; i++) {
        space = strchr(fields[i - 1], ' ');
        if (space == NULL) {
            break;
        }
        *space = '\0';
        fields[i] = space + 1;
    }
    path = next_token(p, end);
    if (i < 5 || path == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "invalid raw diff output from git");
    }
    if (fields[4][0] == 'R' || fields[4][0] == 'C') {
        path = next_token(p, end);
        if (path == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "invalid raw diff output from git");
        }
    }
    if (fields[4][0] == 'D') {
        return 0;
    }
    mode = strtoul(fields[1], NULL, 8);
    return push_entry(entries, path, fields[3], strlen(fields[3]),
                      (unsigned)mode, commit, err);
}

/* Parses 'git diff-index' or 'git diff-tree --stdin' raw output with -z.
 * In diff-tree output, a token that is not a record names the commit of
 * the records after it. */
static int parse_raw(struct rotarr_buf *out, struct guard_entries *entries,
                     struct rotarr_error *err)
{
    char *p = out->data, *end = out->data + out->len;
    char *token;
    const char *commit = NULL;

    while ((token = next_token(&p, end)) != NULL) {
        if (token[0] != ':') {
            commit = token;
            continue;
        }
        if (parse_record(token, &p, end, commit, entries, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Parses 'git ls-tree -r -z': "MODE TYPE OID<TAB>PATH". */
static int parse_tree(struct rotarr_buf *out, struct guard_entries *entries,
                      struct rotarr_error *err)
{
    char *p = out->data, *end = out->data + out->len;
    char *token, *tab, *oid;

    while ((token = next_token(&p, end)) != NULL) {
        tab = strchr(token, '\t');
        oid = tab != NULL ? memrchr(token, ' ', (size_t)(tab - token)) : NULL;
        if (oid == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "invalid 'git ls-tree' output");
        }
        oid++;
        if (push_entry(entries, tab + 1, oid, (size_t)(tab - oid),
                       (unsigned)strtoul(token, NULL, 8), NULL, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Writes "OID\n" for each entry to scan. */
static int list_requests(const struct guard_entries *entries,
                         struct rotarr_buf *requests,
                         struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < entries->count; i++) {
        if (!entries->items[i].skip &&
            rotarr_buf_printf(requests, err, "%s\n",
                              entries->items[i].oid) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Reports the start of a scan of the entries not marked skip. */
static void progress_begin(struct rotarr_guard *guard,
                           const struct guard_entries *entries)
{
    size_t i;

    guard->files_done = 0;
    guard->files_total = 0;
    if (guard->progress.report == NULL) {
        return;
    }
    for (i = 0; i < entries->count; i++) {
        guard->files_total += !entries->items[i].skip;
    }
    guard->progress.report(guard->progress.ctx, 0, guard->files_total);
}

static void progress_step(struct rotarr_guard *guard)
{
    guard->files_done++;
    if (guard->progress.report != NULL) {
        guard->progress.report(guard->progress.ctx, guard->files_done,
                               guard->files_total);
    }
}

static int scan_bytes(struct rotarr_guard *guard, const struct guard_entry *e,
                      const char *bytes, size_t len,
                      struct rotarr_guard_findings *findings,
                      struct rotarr_error *err)
{
    struct rotarr_guard_scan *scan;

    scan = rotarr_guard_scan_begin(guard, e->path, e->commit, findings, err);
    if (scan == NULL) {
        return -1;
    }
    if (rotarr_guard_scan_feed(scan, bytes, len, err) < 0) {
        rotarr_guard_scan_abort(scan);
        return -1;
    }
    return rotarr_guard_scan_finish(scan, err);
}

/* Scans the entries whose working-tree file is the blob, and marks them
 * done. */
static int scan_worktree(struct rotarr_guard *guard,
                         struct guard_entries *entries,
                         struct guard_worktree *wt,
                         struct rotarr_guard_findings *findings,
                         struct rotarr_error *err)
{
    struct guard_entry *e;
    const char *bytes;
    size_t i, len;
    int same;

    for (i = 0; i < entries->count; i++) {
        e = &entries->items[i];
        if (e->skip) {
            continue;
        }
        same = guard_worktree_read(wt, e->path, e->oid, &bytes, &len, err);
        if (same < 0 ||
            (same && scan_bytes(guard, e, bytes, len, findings, err) < 0)) {
            return -1;
        }
        if (same) {
            progress_step(guard);
        }
        e->skip = same;
    }
    return 0;
}

/* NEEDSWORK: git inflating the blobs (about 0.6 s per 100 MB here) is
 * the floor of this path; running two cat-file processes would use both
 * cores of a small machine. */
static int scan_from_git(struct rotarr_guard *guard,
                         const struct guard_entries *entries,
                         const struct rotarr_buf *requests,
                         struct rotarr_guard_findings *findings,
                         struct rotarr_error *err)
{
    struct guard_cat_file cf;
    struct rotarr_guard_scan *scan;
    const struct guard_entry *e;
    size_t i;

    if (guard_cat_file_open(&cf, requests->data, requests->len, err) < 0) {
        return -1;
    }
    for (i = 0; i < entries->count; i++) {
        e = &entries->items[i];
        if (e->skip) {
            continue;
        }
        scan = rotarr_guard_scan_begin(guard, e->path, e->commit, findings,
                                       err);
        if (scan == NULL) {
            goto fail;
        }
        if (guard_cat_file_scan(&cf, e->oid, scan, err) < 0) {
            rotarr_guard_scan_abort(scan);
            goto fail;
        }
        if (rotarr_guard_scan_finish(scan, err) < 0) {
            goto fail;
        }
        progress_step(guard);
    }
    return guard_cat_file_close(&cf, err);

fail:
    guard_cat_file_close(&cf, NULL);
    return -1;
}

int guard_scan_entries(struct rotarr_guard *guard,
                       struct guard_entries *entries,
                       struct guard_worktree *wt,
                       struct rotarr_guard_findings *findings,
                       struct rotarr_error *err)
{
    struct rotarr_buf requests = ROTARR_BUF_INIT;
    int ret = -1;

    progress_begin(guard, entries);
    if (guard_matcher_build(&guard->matcher, err) < 0 ||
        (wt != NULL &&
         scan_worktree(guard, entries, wt, findings, err) < 0) ||
        list_requests(entries, &requests, err) < 0) {
        goto out;
    }
    ret = requests.len == 0
              ? 0
              : scan_from_git(guard, entries, &requests, findings, err);

out:
    rotarr_buf_release(&requests);
    return ret;
}

static int compare_findings(const void *a, const void *b)
{
    const struct rotarr_guard_finding *x = a, *y = b;
    int c = strcmp(x->path, y->path);

    if (c == 0 && x->line != y->line) {
        c = x->line < y->line ? -1 : 1;
    }
    return c != 0 ? c : strcmp(x->what, y->what);
}

/*
 * Scans the entries of a staged or tree scan, reading the working tree
 * where it matches, and sorts the findings by path and line, since the
 * files come in two passes.
 */
static int scan_current(struct rotarr_guard *guard,
                        struct guard_entries *entries,
                        struct rotarr_guard_findings *findings,
                        struct rotarr_error *err)
{
    struct guard_worktree wt;
    size_t first = findings->count;
    int ret;

    memset(&wt, 0, sizeof(wt));
    wt.top = guard_working_tree_top(err);
    if (wt.top == NULL) {
        return -1;
    }
    ret = guard_scan_entries(guard, entries, &wt, findings, err);
    guard_worktree_release(&wt);
    if (ret == 0 && findings->count - first > 1) {
        qsort(findings->items + first, findings->count - first,
              sizeof(*findings->items), compare_findings);
    }
    return ret;
}

/* Returns 1 when rev names a commit, 0 when it does not. */
static int has_commit(const char *rev, struct rotarr_error *err)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_buf spec = ROTARR_BUF_INIT;
    const char *argv[] = { "git", "rev-parse", "--verify", "-q", NULL, NULL };
    int status = 0, ret = -1;

    if (rotarr_buf_printf(&spec, err, "%s^{commit}", rev) < 0) {
        goto out;
    }
    argv[4] = spec.data;
    if (guard_git_run(argv, NULL, 0, &out, &status, err) < 0) {
        goto out;
    }
    ret = status == 0;

out:
    rotarr_buf_release(&out);
    rotarr_buf_release(&spec);
    return ret;
}

static int check_entries(struct rotarr_guard *guard, struct rotarr_buf *out,
                         int tree, struct rotarr_guard_findings *findings,
                         struct rotarr_error *err)
{
    struct guard_entries entries = { NULL, 0, 0 };
    int ret;

    ret = tree ? parse_tree(out, &entries, err)
               : parse_raw(out, &entries, err);
    if (ret == 0) {
        ret = scan_current(guard, &entries, findings, err);
    }
    free(entries.items);
    return ret;
}

int rotarr_guard_check_staged(struct rotarr_guard *guard,
                              struct rotarr_guard_findings *findings,
                              struct rotarr_error *err)
{
    static const char *const empty_tree_argv[] = {
        "git", "hash-object", "-t", "tree", "--stdin", NULL,
    };
    const char *argv[] = { "git", "diff-index", "--cached", "-z", "-M",
                           "--raw", "--no-abbrev", NULL, "--", NULL };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    char *empty_tree = NULL;
    int head, ret = -1;

    head = has_commit("HEAD", err);
    if (head < 0) {
        return -1;
    }
    if (!head) {
        /* Before the first commit everything in the index is new. */
        empty_tree = guard_git_line(empty_tree_argv, "", err);
        if (empty_tree == NULL) {
            return -1;
        }
    }
    argv[7] = head ? "HEAD" : empty_tree;
    if (guard_git_run(argv, NULL, 0, &out, NULL, err) == 0) {
        ret = check_entries(guard, &out, 0, findings, err);
    }
    rotarr_buf_release(&out);
    free(empty_tree);
    return ret;
}

static int reject_option(const char *rev, struct rotarr_error *err)
{
    if (rev[0] == '-') {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "'%s' is not a revision; a revision or "
                                "range cannot start with '-'",
                                rev);
    }
    return 0;
}

int rotarr_guard_check_tree(struct rotarr_guard *guard, const char *rev,
                            struct rotarr_guard_findings *findings,
                            struct rotarr_error *err)
{
    const char *argv[] = { "git", "ls-tree", "-r", "-z", "--full-tree",
                           NULL, NULL };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    int found, ret = -1;

    if (rev == NULL) {
        found = has_commit("HEAD", err);
        if (found <= 0) {
            return found; /* nothing committed yet */
        }
        rev = "HEAD";
    }
    if (reject_option(rev, err) < 0) {
        return -1;
    }
    argv[5] = rev;
    if (guard_git_run(argv, NULL, 0, &out, NULL, err) == 0) {
        ret = check_entries(guard, &out, 1, findings, err);
    }
    rotarr_buf_release(&out);
    return ret;
}

static int compare_entries(const void *a, const void *b)
{
    const struct guard_entry *const *x = a, *const *y = b;
    int c = strcmp((*x)->oid, (*y)->oid);

    if (c == 0) {
        c = strcmp((*x)->path, (*y)->path);
    }
    if (c == 0) {
        c = *x < *y ? -1 : *x > *y;
    }
    return c;
}

/* Marks every entry whose blob and path an earlier entry has. */
static int skip_repeats(struct guard_entries *entries,
                        struct rotarr_error *err)
{
    struct guard_entry **order;
    size_t i;

    if (entries->count < 2) {
        return 0;
    }
    order = malloc(entries->count * sizeof(*order));
    if (order == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < entries->count; i++) {
        order[i] = &entries->items[i];
    }
    qsort(order, entries->count, sizeof(*order), compare_entries);
    for (i = 1; i < entries->count; i++) {
        if (strcmp(order[i]->oid, order[i - 1]->oid) == 0 &&
            strcmp(order[i]->path, order[i - 1]->path) == 0) {
            order[i]->skip = 1;
        }
    }
    free(order);
    return 0;
}

/* Returns the number of lines (commit ids) in the rev-list output. */
static uint64_t count_lines(const struct rotarr_buf *text)
{
    uint64_t count = 0;
    size_t i;

    for (i = 0; i < text->len; i++) {
        count += text->data[i] == '\n';
    }
    return count;
}

/*
 * Lists the changes of every commit in commits (one id a line) into out,
 * ROTARR_GUARD_HISTORY_BATCH commits per 'git diff-tree', so that the
 * history progress advances during a long walk.  Each commit is compared
 * with its first parent alone, so batches give the same output as one
 * run.
 */
static int list_changes(struct rotarr_guard *guard,
                        const struct rotarr_buf *commits,
                        struct rotarr_buf *out, struct rotarr_error *err)
{
    static const char *const diff_tree[] = {
        "git", "diff-tree", "--stdin", "-r", "-z", "-M", "--raw",
        "--no-abbrev", "--root", "-m", "--first-parent", NULL,
    };
    const struct rotarr_progress *progress = &guard->history_progress;
    uint64_t total = count_lines(commits), done = 0, in_batch;
    size_t start = 0, end;

    if (progress->report != NULL) {
        progress->report(progress->ctx, 0, total);
    }
    while (start < commits->len) {
        end = start;
        for (in_batch = 0;
             end < commits->len && in_batch < ROTARR_GUARD_HISTORY_BATCH;
             end++) {
            in_batch += commits->data[end] == '\n';
        }
        if (guard_git_run(diff_tree, commits->data + start, end - start, out,
                          NULL, err) < 0) {
            return -1;
        }
        done += in_batch;
        if (progress->report != NULL) {
            progress->report(progress->ctx, done, total);
        }
        start = end;
    }
    return 0;
}

/*
 * Lists the commits of range, oldest first, one id a line.  When git
 * rejects the range inside a repository, the range is what is wrong, so
 * the error is ROTARR_EUSAGE; outside one, git's own message stays.
 */
static int list_commits(const char *range, struct rotarr_buf *commits,
                        struct rotarr_error *err)
{
    const char *rev_list[] = { "git", "rev-list", "--reverse",
                               "--end-of-options", range, NULL };
    const char *git_dir[] = { "git", "rev-parse", "--git-dir", NULL };
    struct rotarr_buf ignored = ROTARR_BUF_INIT;
    int status = 0;
    int ret;

    if (guard_git_run(rev_list, NULL, 0, commits, &status, err) < 0) {
        return -1;
    }
    if (status == 0) {
        return 0;
    }
    ret = guard_git_run(git_dir, NULL, 0, &ignored, NULL, err);
    rotarr_buf_release(&ignored);
    if (ret < 0) {
        return -1;
    }
    return rotarr_error_set(err, ROTARR_EUSAGE,
                            "invalid range '%s': git cannot resolve it to "
                            "commits; check it with 'git log %s'",
                            range, range);
}

int rotarr_guard_check_range(struct rotarr_guard *guard, const char *range,
                             struct rotarr_guard_findings *findings,
                             struct rotarr_error *err)
{
    struct rotarr_buf commits = ROTARR_BUF_INIT, out = ROTARR_BUF_INIT;
    struct guard_entries entries = { NULL, 0, 0 };
    int ret = -1;

    if (reject_option(range, err) < 0 ||
        list_commits(range, &commits, err) < 0) {
        goto out;
    }
    if (commits.len == 0) {
        ret = 0;
        goto out;
    }
    if (list_changes(guard, &commits, &out, err) < 0 ||
        parse_raw(&out, &entries, err) < 0 ||
        skip_repeats(&entries, err) < 0) {
        goto out;
    }
    ret = guard_scan_entries(guard, &entries, NULL, findings, err);

out:
    free(entries.items);
    rotarr_buf_release(&commits);
    rotarr_buf_release(&out);
    return ret;
}
