#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "rotarr/url.h"

#define MASK "********"

/* The texts a diff line must not show: each secret as is and encoded. */
struct masks {
    struct rotarr_buf texts[4];
    size_t count;
    int failed;
};

static void masks_add(struct masks *m, const struct rotarr_secret *secret)
{
    struct rotarr_buf *plain = &m->texts[m->count++];
    struct rotarr_buf *encoded = &m->texts[m->count++];

    /* A mask that fails to build leaves the buffer empty, and print_diff
     * then prints nothing for lines it cannot mask. */
    if (rotarr_buf_append(plain, rotarr_secret_data(secret),
                          rotarr_secret_len(secret), NULL) < 0 ||
        rotarr_url_encode_userinfo(rotarr_secret_data(secret),
                                   rotarr_secret_len(secret), encoded,
                                   NULL) < 0) {
        m->failed = 1;
    }
}

static void masks_release(struct masks *m)
{
    size_t i;

    for (i = 0; i < m->count; i++) {
        if (m->texts[i].data != NULL) {
            sodium_memzero(m->texts[i].data, m->texts[i].len);
        }
        rotarr_buf_release(&m->texts[i]);
    }
}

/* Returns the length of the longest mask text that starts at s. */
static size_t mask_at(const struct masks *m, const char *s, size_t len)
{
    size_t best = 0;
    size_t i;

    for (i = 0; i < m->count; i++) {
        if (m->texts[i].len > best && m->texts[i].len <= len &&
            memcmp(s, m->texts[i].data, m->texts[i].len) == 0) {
            best = m->texts[i].len;
        }
    }
    return best;
}

static void print_masked(const char *prefix, const char *line, size_t len,
                         const struct masks *m)
{
    char text[2];
    size_t i = 0;
    size_t hit;

    fputs(prefix, stdout);
    text[1] = '\0';
    while (i < len) {
        hit = mask_at(m, line + i, len - i);
        if (hit > 0) {
            fputs(MASK, stdout);
            i += hit;
            continue;
        }
        text[0] = line[i++];
        cmd_fputs_safe(text, stdout);
    }
    fputc('\n', stdout);
}

void cmd_print_masked(const char *prefix, const char *line, size_t len,
                      const struct rotarr_secret *const *secrets,
                      size_t count)
{
    struct masks m;
    size_t i;

    memset(&m, 0, sizeof(m));
    for (i = 0; i < count && i < 2; i++) {
        if (secrets[i] != NULL) {
            masks_add(&m, secrets[i]);
        }
    }
    if (m.failed) {
        fprintf(stdout, "%s(line not shown: out of memory)\n", prefix);
    } else {
        print_masked(prefix, line, len, &m);
    }
    masks_release(&m);
}

/* Finds line number line (1-based) of bytes; returns its start or NULL. */
static const char *find_line(const char *bytes, size_t len, size_t line,
                             size_t *line_len)
{
    const char *p = bytes;
    const char *end = bytes + len;
    const char *nl;

    while (line > 1 && p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            return NULL;
        }
        p = nl + 1;
        line--;
    }
    if (p >= end && len > 0) {
        return NULL;
    }
    nl = memchr(p, '\n', (size_t)(end - p));
    *line_len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    if (*line_len > 0 && p[*line_len - 1] == '\r') {
        (*line_len)--;
    }
    return p;
}

static void print_diff(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_plan *plan)
{
    const struct rotarr_file_edit *edit;
    const struct rotarr_stack_file *file;
    struct masks m;
    const char *line;
    size_t line_len;
    size_t i;
    size_t j;

    memset(&m, 0, sizeof(m));
    masks_add(&m, plan->current);
    masks_add(&m, plan->next);
    if (m.failed) {
        cmd_error("out of memory while masking the diff; not shown");
        masks_release(&m);
        return;
    }
    for (i = 0; i < plan->edits.count; i++) {
        edit = &plan->edits.items[i];
        file = rotarr_stack_file(stack, edit->file);
        printf("--- %s\n+++ %s\n", file->display, file->display);
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("@@ line %zu @@\n", edit->changed_lines[j]);
            line = find_line(file->bytes, file->len, edit->changed_lines[j],
                             &line_len);
            if (line != NULL) {
                print_masked("-", line, line_len, &m);
            }
            line = find_line(edit->bytes.data, edit->bytes.len,
                             edit->changed_lines[j], &line_len);
            if (line != NULL) {
                print_masked("+", line, line_len, &m);
            }
        }
    }
    masks_release(&m);
}

static const char *occurrence_kind_name(enum rotarr_occurrence_kind kind)
{
    switch (kind) {
    case ROTARR_OCC_VALUE:
        return "value";
    case ROTARR_OCC_URL:
        return "URL password";
    case ROTARR_OCC_TEXT:
        return "copy inside a value";
    case ROTARR_OCC_REFERENCE:
        return "reference";
    }
    return "?";
}

static void print_plan(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_plan *plan)
{
    const struct rotarr_occurrence *occ;
    size_t i;

    printf("plan: rotate role '%s' of service '%s' at %s:%d\n", plan->role,
           plan->service, plan->host, plan->port);
    printf("password: %s (%s)\n", plan->var, plan->source);
    printf("occurrences:\n");
    for (i = 0; i < plan->occurrences.count; i++) {
        occ = &plan->occurrences.items[i];
        printf("  %s:%zu:%zu  ", rotarr_stack_file(stack, occ->file)->display,
               occ->line, occ->column);
        cmd_fputs_safe(occ->where, stdout);
        printf("  (%s)\n", occurrence_kind_name(occ->kind));
    }
    print_diff(stack, plan);
}

void cmd_print_compose_up(FILE *out, char *const *services, size_t count)
{
    size_t i;

    fputs("docker compose", out);
    if (strcmp(cmd_globals.dir, ".") != 0) {
        fprintf(out, " --project-directory %s", cmd_globals.dir);
    }
    for (i = 0; i < cmd_globals.compose_file_count; i++) {
        fprintf(out, " -f %s", cmd_globals.compose_files[i]);
    }
    fputs(" up -d --no-deps", out);
    for (i = 0; i < count; i++) {
        fprintf(out, " %s", services[i]);
    }
    fputc('\n', out);
}

/* Returns 1 when an executable named name is on PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char candidate[4096];
    const char *start;
    const char *end;
    int n;

    for (start = path; start != NULL && *start != '\0'; start = end + 1) {
        end = strchr(start, ':');
        if (end == NULL) {
            end = start + strlen(start);
        }
        n = snprintf(candidate, sizeof(candidate), "%.*s/%s",
                     (int)(end - start), start, name);
        if (n > 0 && (size_t)n < sizeof(candidate) &&
            access(candidate, X_OK) == 0) {
            return 1;
        }
        if (*end == '\0') {
            break;
        }
    }
    return 0;
}

/* Secrets stay out of argv: only service names and paths are passed. */
int cmd_restart_services(char *const *services, size_t count)
{
    const char *argv[CMD_MAX_COMPOSE_FILES * 2 + 64];
    size_t argc = 0;
    size_t i;
    pid_t pid;
    int status;

    if (!on_path("docker")) {
        cmd_error("'docker' is not on PATH; run the command above by hand");
        return ROTARR_NO;
    }
    argv[argc++] = "docker";
    argv[argc++] = "compose";
    if (strcmp(cmd_globals.dir, ".") != 0) {
        argv[argc++] = "--project-directory";
        argv[argc++] = cmd_globals.dir;
    }
    for (i = 0; i < cmd_globals.compose_file_count; i++) {
        argv[argc++] = "-f";
        argv[argc++] = cmd_globals.compose_files[i];
    }
    argv[argc++] = "up";
    argv[argc++] = "-d";
    argv[argc++] = "--no-deps";
    for (i = 0; i < count && argc + 1 < 64 + 2 * CMD_MAX_COMPOSE_FILES; i++) {
        argv[argc++] = services[i];
    }
    argv[argc] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execvp("docker", (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        cmd_error("'docker compose up' failed; the files are rewritten, so "
                  "run it again by hand");
        return ROTARR_NO;
    }
    return ROTARR_OK;
}

static void print_json(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_plan *plan)
{
    const struct rotarr_file_edit *edit;
    const char *sep = "";
    size_t i;
    size_t j;

    printf("{\"service\":");
    cmd_json_string(stdout, plan->service);
    printf(",\"role\":");
    cmd_json_string(stdout, plan->role);
    printf(",\"dry_run\":%s,\"changed\":[", cmd_globals.dry_run ? "true"
                                                              : "false");
    for (i = 0; i < plan->edits.count; i++) {
        edit = &plan->edits.items[i];
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("%s{\"file\":", sep);
            cmd_json_string(stdout,
                            rotarr_stack_file(stack, edit->file)->display);
            printf(",\"line\":%zu}", edit->changed_lines[j]);
            sep = ",";
        }
    }
    printf("],\"restart\":[");
    for (i = 0; i < plan->restart_count; i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->restart[i]);
    }
    printf("]}\n");
}

static void print_text(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_plan *plan)
{
    const struct rotarr_file_edit *edit;
    size_t i;
    size_t j;

    printf("role '%s' of service '%s' at %s:%d has a new password\n",
           plan->role, plan->service, plan->host, plan->port);
    if (plan->had_md5) {
        printf("its md5 hash was replaced by a SCRAM-SHA-256 verifier\n");
    }
    for (i = 0; i < plan->edits.count; i++) {
        edit = &plan->edits.items[i];
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("changed %s:%zu\n",
                   rotarr_stack_file(stack, edit->file)->display,
                   edit->changed_lines[j]);
        }
    }
}

/* Prints the wall time of each step under -v, for benchmarks. */
static void print_step_times(const struct rotarr_pgrot_plan *plan)
{
    static const char *const names[ROTARR_PGROT_TIME_COUNT] = {
        "", "connect", "pending", "set", "test", "commit", "finish",
    };
    int i;

    fputs("rotarr: step times (ms):", stderr);
    for (i = ROTARR_PGROT_TIME_CONNECT; i < ROTARR_PGROT_TIME_COUNT; i++) {
        fprintf(stderr, " %s %.3f", names[i], plan->step_ms[i]);
    }
    fputc('\n', stderr);
}

int cmd_report_rotation(const struct rotarr_stack *stack,
                        const struct rotarr_pgrot_plan *plan, int show,
                        int restart)
{
    if (cmd_globals.verbosity > 0 && !cmd_globals.dry_run) {
        print_step_times(plan);
    }
    if (plan->notices.data != NULL) {
        fputs(plan->notices.data, stderr);
    }
    if (cmd_globals.json) {
        print_json(stack, plan);
    } else if (cmd_globals.dry_run) {
        print_plan(stack, plan);
    } else {
        print_text(stack, plan);
    }
    if (show && !cmd_globals.dry_run) {
        printf("%s\n", rotarr_secret_data(plan->next));
    }
    if (plan->restart_count == 0 || cmd_globals.json) {
        return ROTARR_OK;
    }
    printf(cmd_globals.dry_run ? "then recreate the services that read it:\n  "
                               : "recreate the services that read it:\n  ");
    cmd_print_compose_up(stdout, plan->restart, plan->restart_count);
    if (restart && !cmd_globals.dry_run) {
        return cmd_restart_services(plan->restart, plan->restart_count);
    }
    return ROTARR_OK;
}
