#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_private.h"

static const struct audit_check *const checks[] = {
    &audit_secret_literal,
    &audit_secret_weak,
    &audit_secret_shared,
    &audit_env_file_readable,
    &audit_secret_overdue,
    &audit_db_no_password,
    &audit_mount_docker_socket,
    &audit_mount_broad_appdata,
    &audit_mount_media_rw,
    &audit_mount_media_api_only,
    &audit_mount_hardlink_split,
    &audit_network_db_shared,
    &audit_network_db_not_internal,
    &audit_port_db_public,
    &audit_umask_open,
    &audit_image_latest,
    &audit_privileged,
    &audit_privileged_cap_add,
    &audit_nvidia_caps_all,
    &audit_healthcheck_missing,
    &audit_no_new_privileges,
};

#define CHECK_COUNT (sizeof(checks) / sizeof(checks[0]))

size_t rotarr_audit_check_count(void)
{
    return CHECK_COUNT;
}

const char *rotarr_audit_check_id(size_t i)
{
    return i < CHECK_COUNT ? checks[i]->id : NULL;
}

const char *rotarr_audit_explain(const char *id)
{
    size_t i;

    if (strcmp(id, "linuxserver") == 0) {
        return audit_linuxserver_explain;
    }
    for (i = 0; i < CHECK_COUNT; i++) {
        if (strcmp(checks[i]->id, id) == 0) {
            return checks[i]->explain;
        }
    }
    return NULL;
}

const char *rotarr_audit_severity_name(enum rotarr_audit_severity severity)
{
    switch (severity) {
    case ROTARR_AUDIT_LOW:
        return "low";
    case ROTARR_AUDIT_MEDIUM:
        return "medium";
    case ROTARR_AUDIT_HIGH:
        return "high";
    }
    return "?";
}

int rotarr_audit_severity_parse(const char *text,
                                enum rotarr_audit_severity *severity)
{
    if (strcmp(text, "low") == 0) {
        *severity = ROTARR_AUDIT_LOW;
    } else if (strcmp(text, "medium") == 0) {
        *severity = ROTARR_AUDIT_MEDIUM;
    } else if (strcmp(text, "high") == 0) {
        *severity = ROTARR_AUDIT_HIGH;
    } else {
        return -1;
    }
    return 0;
}

void audit_format(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dst[0] = '\0';
    } else if ((size_t)n >= size && size > 4) {
        memcpy(dst + size - 4, "...", 4);
    }
}

/* Returns the display path of the stack file that holds doc. */
static const char *doc_display(const struct audit_ctx *ctx,
                               const struct rotarr_ydoc *doc)
{
    const struct rotarr_stack_file *file;
    size_t i;

    for (i = 0; i < rotarr_stack_file_count(ctx->stack); i++) {
        file = rotarr_stack_file(ctx->stack, i);
        if (file->yaml == doc) {
            return file->display;
        }
    }
    return rotarr_ydoc_path(doc);
}

int audit_add(struct audit_ctx *ctx, const struct audit_check *check,
              size_t i, const struct rotarr_ynode *node, const char *file,
              size_t line, const char *why, const char *fix)
{
    struct rotarr_audit *out = ctx->out;
    struct rotarr_finding *grown;
    struct rotarr_finding *f;
    int in_service = i != (size_t)-1;

    if (out->count == out->alloc) {
        grown = realloc(out->items, (out->alloc * 2 + 16) * sizeof(*grown));
        if (grown == NULL) {
            return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
        }
        out->items = grown;
        out->alloc = out->alloc * 2 + 16;
    }
    if (node != NULL) {
        file = doc_display(ctx, node->doc);
        line = node->line;
    }
    f = &out->items[out->count];
    f->id = check->id;
    f->severity = check->severity;
    f->service = strdup(
        in_service ? rotarr_compose_service(ctx->compose, i)->name : "");
    f->image = strdup(in_service ? ctx->images[i] : "");
    f->file = strdup(file != NULL ? file : "");
    f->line = line;
    f->why = strdup(why);
    f->fix = strdup(fix);
    out->count++;
    if (f->service == NULL || f->image == NULL || f->file == NULL ||
        f->why == NULL || f->fix == NULL) {
        return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

size_t rotarr_audit_count_at_least(const struct rotarr_audit *audit,
                                   enum rotarr_audit_severity min)
{
    size_t n = 0;
    size_t i;

    for (i = 0; i < audit->count; i++) {
        n += audit->items[i].severity >= min;
    }
    return n;
}

/* Sort key of a service's group: its most severe finding. */
static enum rotarr_audit_severity
group_severity(const struct rotarr_audit *audit, const char *service)
{
    enum rotarr_audit_severity max = ROTARR_AUDIT_LOW;
    size_t i;

    for (i = 0; i < audit->count; i++) {
        if (strcmp(audit->items[i].service, service) == 0 &&
            audit->items[i].severity > max) {
            max = audit->items[i].severity;
        }
    }
    return max;
}

struct sort_entry {
    struct rotarr_finding finding;
    enum rotarr_audit_severity group;
};

static int compare_entries(const void *pa, const void *pb)
{
    const struct sort_entry *a = pa;
    const struct sort_entry *b = pb;
    int c;

    if (a->group != b->group) {
        return a->group > b->group ? -1 : 1;
    }
    c = strcmp(a->finding.service, b->finding.service);
    if (c != 0) {
        return c;
    }
    if (a->finding.severity != b->finding.severity) {
        return a->finding.severity > b->finding.severity ? -1 : 1;
    }
    c = strcmp(a->finding.file, b->finding.file);
    if (c != 0) {
        return c;
    }
    if (a->finding.line != b->finding.line) {
        return a->finding.line < b->finding.line ? -1 : 1;
    }
    return strcmp(a->finding.id, b->finding.id);
}

void rotarr_audit_sort(struct rotarr_audit *audit)
{
    struct sort_entry *entries;
    size_t i;

    entries = calloc(audit->count + 1, sizeof(*entries));
    if (entries == NULL) {
        /* NEEDSWORK: without memory the findings stay in check order. */
        return;
    }
    for (i = 0; i < audit->count; i++) {
        entries[i].finding = audit->items[i];
        entries[i].group = group_severity(audit, audit->items[i].service);
    }
    qsort(entries, audit->count, sizeof(*entries), compare_entries);
    for (i = 0; i < audit->count; i++) {
        audit->items[i] = entries[i].finding;
    }
    free(entries);
}

static int expand_images(struct audit_ctx *ctx)
{
    const struct rotarr_compose_service *svc;
    struct rotarr_buf image = ROTARR_BUF_INIT;
    size_t n = rotarr_compose_service_count(ctx->compose);
    size_t i;
    int ret = -1;

    ctx->images = calloc(n + 1, sizeof(*ctx->images));
    if (ctx->images == NULL) {
        return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < n; i++) {
        svc = rotarr_compose_service(ctx->compose, i);
        rotarr_buf_reset(&image);
        if (svc->image != NULL &&
            audit_expand(ctx, svc->image, strlen(svc->image), &image) < 0) {
            goto out;
        }
        ctx->images[i] = strdup(image.data != NULL ? image.data : "");
        if (ctx->images[i] == NULL) {
            rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
            goto out;
        }
    }
    ret = 0;
out:
    rotarr_buf_release(&image);
    return ret;
}

int rotarr_audit_run(const struct rotarr_stack *stack,
                     const struct rotarr_audit_options *opts,
                     struct rotarr_audit *out, struct rotarr_error *err)
{
    struct audit_ctx ctx;
    size_t i;
    int ret = -1;

    memset(&ctx, 0, sizeof(ctx));
    ctx.stack = stack;
    ctx.compose = rotarr_stack_compose(stack);
    ctx.now = opts != NULL && opts->now != 0 ? opts->now : time(NULL);
    ctx.max_age = opts != NULL && opts->max_age != 0
                      ? opts->max_age
                      : ROTARR_AUDIT_DEFAULT_MAX_AGE;
    ctx.out = out;
    ctx.err = err;
    if (expand_images(&ctx) < 0 || audit_secrets(&ctx) < 0 ||
        audit_mounts(&ctx) < 0 || audit_networks(&ctx) < 0 ||
        audit_settings(&ctx) < 0 || audit_images(&ctx) < 0) {
        goto out;
    }
    rotarr_audit_sort(out);
    ret = 0;
out:
    for (i = 0; ctx.images != NULL && ctx.images[i] != NULL; i++) {
        free(ctx.images[i]);
    }
    free(ctx.images);
    return ret;
}

void rotarr_audit_release(struct rotarr_audit *audit)
{
    size_t i;

    if (audit == NULL) {
        return;
    }
    for (i = 0; i < audit->count; i++) {
        free(audit->items[i].service);
        free(audit->items[i].image);
        free(audit->items[i].file);
        free(audit->items[i].why);
        free(audit->items[i].fix);
    }
    free(audit->items);
    audit->items = NULL;
    audit->count = 0;
    audit->alloc = 0;
}
