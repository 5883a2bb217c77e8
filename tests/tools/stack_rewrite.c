/*
 * Test tool: rewrites one stack the way a rotation's commit step does,
 * without a server, so the corpus test can check what the rewrite leaves.
 *
 *   stack_rewrite DIR COMPOSE-FILE SERVICE
 *
 * First writes every file of the stack back with no change (an empty
 * patch through the atomic replace).  Then plans the Postgres rotation of
 * SERVICE, replaces every occurrence of its password with the value of
 * the environment variable ROTARR_NEW_VALUE, and writes the files.
 * Prints the old password on the first line and each changed file on the
 * lines after it.  Exit 0 on success, 1 on any error (message on stderr).
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/buf.h"
#include "rotarr/fileio.h"
#include "rotarr/patch.h"
#include "rotarr/pgrot.h"
#include "rotarr/stack.h"

static int rewrite_unchanged(const struct rotarr_stack *stack,
                             struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    struct rotarr_patch *patch = rotarr_patch_new();
    struct rotarr_buf out = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    for (i = 0; patch != NULL && i < rotarr_stack_file_count(stack); i++) {
        file = rotarr_stack_file(stack, i);
        rotarr_buf_reset(&out);
        if (rotarr_patch_apply(patch, file->bytes, file->len, &out, err) < 0 ||
            rotarr_file_replace(rotarr_stack_dir(stack), file->path,
                                out.data, out.len, 0, NULL, NULL, err) < 0) {
            goto out;
        }
    }
    ret = patch != NULL ? 0 : -1;

out:
    rotarr_buf_release(&out);
    rotarr_patch_free(patch);
    return ret;
}

static int rotate_files(const struct rotarr_stack *stack, const char *service,
                        const char *new_value, struct rotarr_error *err)
{
    struct rotarr_pgrot_request req;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    size_t i;
    int ret = -1;

    memset(&req, 0, sizeof(req));
    req.service = service;
    req.dry_run = 1;
    if (rotarr_pgrot_plan(stack, &req, &plan, err) < 0) {
        goto out;
    }
    plan.next = rotarr_secret_new(new_value, strlen(new_value), err);
    if (plan.next == NULL ||
        rotarr_stack_plan_edits(stack, &plan.occurrences, plan.next,
                                &plan.edits, err) < 0 ||
        rotarr_stack_write_edits(stack, &plan.edits, NULL, NULL, err) < 0) {
        goto out;
    }
    printf("%s\n", rotarr_secret_data(plan.current));
    for (i = 0; i < plan.edits.count; i++) {
        printf("%s\n", rotarr_stack_file(stack, plan.edits.items[i].file)->path);
    }
    ret = 0;

out:
    rotarr_pgrot_plan_release(&plan);
    return ret;
}

int main(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack_options opts;
    struct rotarr_stack *stack = NULL;
    const char *files[1];
    const char *new_value = getenv("ROTARR_NEW_VALUE");
    int ret = 1;

    if (argc != 4 || new_value == NULL) {
        fprintf(stderr, "usage: ROTARR_NEW_VALUE=... stack_rewrite DIR "
                        "COMPOSE-FILE SERVICE\n");
        return 2;
    }
    if (rotarr_secret_init(&err) < 0) {
        goto out;
    }
    memset(&opts, 0, sizeof(opts));
    files[0] = argv[2];
    opts.dir = argv[1];
    opts.compose_files = files;
    opts.compose_file_count = 1;
    stack = rotarr_stack_load(&opts, &err);
    if (stack == NULL || rewrite_unchanged(stack, &err) < 0 ||
        rotate_files(stack, argv[3], new_value, &err) < 0) {
        goto out;
    }
    ret = 0;

out:
    if (ret != 0) {
        fprintf(stderr, "stack_rewrite: %s\n", err.msg);
    }
    rotarr_stack_free(stack);
    return ret;
}
