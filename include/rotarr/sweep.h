/*
 * Removal of the temporary files that a rotarr process killed part-way
 * left beside the files of a stack.  Such a file can contain a new
 * password under an unexpected name, so a rotation and 'rotarr resume'
 * remove them first, with the stack lock of rotarr/journal.h held.
 *
 * NEEDSWORK: the journal's own temporary file in .rotarr has another
 * name form and is not removed.
 */
#ifndef ROTARR_SWEEP_H
#define ROTARR_SWEEP_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/error.h"
#include "rotarr/journal.h"
#include "rotarr/stack.h"

/*
 * Removes, with rotarr_temp_sweep (rotarr/fileio.h), every temporary file
 * of any name in STACKDIR/.rotarr and, in the directory of each file of
 * stack (of the real file, where a symlink leads elsewhere, since
 * rotarr_file_replace writes there), those named after that file.  Other
 * files of those directories, and temporary files named after files
 * that are not the stack's, are left alone, because another stack may be
 * writing them.  stack may be NULL,
 * when it could not be loaded: then only .rotarr is swept.  When it
 * removed any, appends a line with their number to notices.  Returns 0,
 * or -1 with err set.
 */
int rotarr_sweep_stack(const char *stackdir, const struct rotarr_stack *stack,
                       struct rotarr_buf *notices, struct rotarr_error *err);

/*
 * Like rotarr_sweep_stack for the stack that opts describes, loaded here.
 * A stack that cannot be loaded is swept as NULL, so that a broken stack
 * does not keep .rotarr from being cleaned.
 */
int rotarr_sweep_stack_options(const struct rotarr_stack_options *opts,
                               struct rotarr_buf *notices,
                               struct rotarr_error *err);

/*
 * Takes the stack lock before a command rewrites the files of stack,
 * which was loaded without it.  Fails when a rotation stopped part-way
 * (ROTARR_EPARTIAL, since 'rotarr resume' must finish it first) or when
 * a file changed since stack was loaded (rotarr_stack_check_unchanged).
 * Then sweeps as rotarr_sweep_stack does.  Returns the lock, which the
 * caller releases with rotarr_lock_release, or NULL with err set.
 */
struct rotarr_lock *rotarr_stack_lock_for_write(
    const struct rotarr_stack *stack, struct rotarr_buf *notices,
    struct rotarr_error *err);

#endif
