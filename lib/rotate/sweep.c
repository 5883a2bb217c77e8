#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include "rotarr/buf.h"
#include "rotarr/failpoint.h"
#include "rotarr/fileio.h"
#include "rotarr/journal.h"
#include "rotarr/sweep.h"

/*
 * Sweeps the directory of the real file that path leads to, for the
 * temporary files named after it: rotarr_file_replace writes beside the
 * file a symlink leads to.  A path that does not resolve has nothing to
 * sweep.
 */
static int sweep_beside(const char *path, size_t *removed,
                        struct rotarr_error *err)
{
    char *real = realpath(path, NULL);
    char *slash;
    const char *base;
    int ret;

    if (real == NULL) {
        return 0;
    }
    slash = strrchr(real, '/');
    base = slash + 1;
    *slash = '\0';
    ret = rotarr_temp_sweep(real[0] != '\0' ? real : "/", &base, 1, removed,
                            err);
    free(real);
    return ret;
}

static int sweep_files(const char *stackdir,
                       const struct rotarr_stack *stack, size_t *removed,
                       struct rotarr_error *err)
{
    struct rotarr_buf state = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    if (rotarr_buf_printf(&state, err, "%s/" ROTARR_STATE_DIR,
                          stackdir) < 0 ||
        rotarr_temp_sweep(state.data, NULL, 0, removed, err) < 0) {
        goto out;
    }
    for (i = 0; stack != NULL && i < rotarr_stack_file_count(stack); i++) {
        if (sweep_beside(rotarr_stack_file(stack, i)->path, removed,
                         err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&state);
    return ret;
}

int rotarr_sweep_stack(const char *stackdir, const struct rotarr_stack *stack,
                       struct rotarr_buf *notices, struct rotarr_error *err)
{
    size_t removed = 0;

    if (sweep_files(stackdir, stack, &removed, err) < 0) {
        return -1;
    }
    if (removed > 0) {
        return rotarr_buf_printf(notices, err,
                                 "removed %zu temporary file%s that an "
                                 "interrupted rotarr left\n",
                                 removed, removed == 1 ? "" : "s");
    }
    return 0;
}

int rotarr_sweep_stack_options(const struct rotarr_stack_options *opts,
                               struct rotarr_buf *notices,
                               struct rotarr_error *err)
{
    struct rotarr_error load_err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack = rotarr_stack_load(opts, &load_err);
    int ret;

    ret = rotarr_sweep_stack(opts->dir != NULL ? opts->dir : ".", stack,
                             notices, err);
    rotarr_stack_free(stack);
    return ret;
}

struct rotarr_lock *rotarr_stack_lock_for_write(
    const struct rotarr_stack *stack, struct rotarr_buf *notices,
    struct rotarr_error *err)
{
    const char *dir = rotarr_stack_dir(stack);
    struct rotarr_journal *journal = NULL;
    struct rotarr_lock *lock;
    int found;

    ROTARR_FAILPOINT("lock");
    lock = rotarr_lock_acquire(dir, err);
    if (lock == NULL) {
        return NULL;
    }
    found = rotarr_journal_load(dir, rotarr_stack_keys(stack), &journal, err);
    rotarr_journal_free(journal);
    if (found == 1) {
        rotarr_error_set(err, ROTARR_EPARTIAL,
                         "an earlier rotation in '%s' stopped part-way; "
                         "run 'rotarr resume' first",
                         dir);
    }
    if (found != 0 || rotarr_stack_check_unchanged(stack, err) < 0 ||
        rotarr_sweep_stack(dir, stack, notices, err) < 0) {
        rotarr_lock_release(lock);
        return NULL;
    }
    return lock;
}
