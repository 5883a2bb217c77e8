#include "rotarr/compat.h"

#include <ctype.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "inspect_arr.h"
#include "rotarr/stack.h"

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

/* One password found in the stack, with every place that contains it. */
struct found_secret {
    char variable[128];
    char service[128]; /* the server it belongs to, or "" */
    struct rotarr_secret *value;
    struct rotarr_occurrences occurrences;
};

struct inspection {
    const struct rotarr_stack *stack;
    enum rotarr_service_kind *kinds; /* by service index */
    struct rotarr_secret_pool *pool; /* holds every value listed */
    struct found_secret *secrets;
    size_t count;
    size_t alloc;
    size_t *buckets; /* index + 1 of a listed secret, by hash of value */
    size_t bucket_mask;
};

static int parse_options(int argc, char **argv)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, INSPECT_SYNOPSIS);
            fputs("\nShows the services, which are Postgres or Redis "
                  "servers, each password\nvariable and every place that "
                  "holds its value (file:line:column),\nwith secrets "
                  "masked, and warnings about the stack's files.\n",
                  stdout);
            return -1;
        }
        handled = cmd_global_option(opt, optarg, INSPECT_SYNOPSIS);
        if (handled <= 0) {
            return handled < 0 ? ROTARR_EUSAGE
                               : cmd_usage_error(INSPECT_SYNOPSIS,
                                                 "unknown option '%s'",
                                                 argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(INSPECT_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

static const char *kind_name(enum rotarr_service_kind kind)
{
    switch (kind) {
    case ROTARR_SERVICE_POSTGRES:
        return "postgres";
    case ROTARR_SERVICE_REDIS:
        return "redis";
    default:
        return "other";
    }
}

/* Returns 1 when a variable name suggests a password or key. */
static int looks_secret(const char *name)
{
    static const char *const words[] = {
        "PASSWORD", "PASSWD", "_PASS", "SECRET", "TOKEN", "APIKEY",
        "API_KEY",  "PRIVATE_KEY", NULL,
    };
    char upper[128];
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < sizeof(upper); i++) {
        upper[i] = (char)toupper((unsigned char)name[i]);
    }
    upper[i] = '\0';
    if (i > 5 && strcmp(upper + i - 5, "_FILE") == 0) {
        return 0;
    }
    for (i = 0; words[i] != NULL; i++) {
        if (strstr(upper, words[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

static size_t value_hash(const char *value, size_t len)
{
    size_t h = 14695981039346656037ULL; /* FNV-1a */
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)value[i]) * 1099511628211ULL;
    }
    return h;
}

/* Returns the bucket that holds value, or the empty one where it goes. */
static size_t *value_bucket(const struct inspection *in, const char *value,
                            size_t len)
{
    size_t slot = value_hash(value, len) & in->bucket_mask;
    const struct rotarr_secret *listed;

    for (;; slot = (slot + 1) & in->bucket_mask) {
        if (in->buckets[slot] == 0) {
            return &in->buckets[slot];
        }
        listed = in->secrets[in->buckets[slot] - 1].value;
        if (rotarr_secret_len(listed) == len &&
            memcmp(rotarr_secret_data(listed), value, len) == 0) {
            return &in->buckets[slot];
        }
    }
}

/* Keeps the table of listed values at most half full. */
static int grow_buckets(struct inspection *in, struct rotarr_error *err)
{
    size_t size = in->bucket_mask + 1;
    const struct rotarr_secret *value;
    size_t i;

    if (in->buckets != NULL && (in->count + 1) * 2 <= size) {
        return 0;
    }
    size = in->buckets == NULL ? 64 : size * 2;
    free(in->buckets);
    in->buckets = calloc(size, sizeof(*in->buckets));
    if (in->buckets == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    in->bucket_mask = size - 1;
    for (i = 0; i < in->count; i++) {
        value = in->secrets[i].value;
        *value_bucket(in, rotarr_secret_data(value),
                      rotarr_secret_len(value)) = i + 1;
    }
    return 0;
}

static int add_secret(struct inspection *in, const char *variable,
                      const char *service, const char *value, size_t len,
                      struct rotarr_error *err)
{
    struct found_secret *grown;
    struct found_secret *secret;
    size_t *bucket;

    if (len == 0 || grow_buckets(in, err) < 0) {
        return len == 0 ? 0 : -1;
    }
    bucket = value_bucket(in, value, len);
    if (*bucket != 0) {
        return 0;
    }
    if (in->count == in->alloc) {
        in->alloc = in->alloc > 0 ? in->alloc * 2 : 64;
        grown = realloc(in->secrets, in->alloc * sizeof(*grown));
        if (grown == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        in->secrets = grown;
    }
    secret = &in->secrets[in->count];
    memset(secret, 0, sizeof(*secret));
    snprintf(secret->variable, sizeof(secret->variable), "%s", variable);
    snprintf(secret->service, sizeof(secret->service), "%s", service);
    secret->value = rotarr_secret_pool_add(in->pool, value, len, err);
    if (secret->value == NULL) {
        return -1;
    }
    *bucket = ++in->count;
    return 0;
}

static int add_server_secrets(struct inspection *in,
                              const struct rotarr_compose_service *svc,
                              enum rotarr_service_kind kind,
                              struct rotarr_error *err)
{
    static const char *const postgres_vars[] = { "POSTGRES_PASSWORD", NULL };
    static const char *const redis_vars[] = { "REDIS_PASSWORD",
                                              "REDIS_HOST_PASSWORD", NULL };
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    const char *const *vars;
    int found;
    int ret = 0;

    if (kind == ROTARR_SERVICE_OTHER) {
        return 0;
    }
    vars = kind == ROTARR_SERVICE_POSTGRES ? postgres_vars : redis_vars;
    for (; *vars != NULL && ret == 0; vars++) {
        rotarr_buf_reset(&value);
        found = rotarr_stack_service_var(in->stack, svc, *vars, &value,
                                         &origin, err);
        if (found < 0) {
            ret = -1;
        } else if (found == 1) {
            ret = add_secret(in, *vars, svc->name, value.data, value.len,
                             err);
        }
    }
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

static int add_env_secrets(struct inspection *in, struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    const struct rotarr_dotenv_entry *entry;
    size_t i;
    size_t j;

    for (i = 0; i < rotarr_stack_file_count(in->stack); i++) {
        file = rotarr_stack_file(in->stack, i);
        if (file->kind != ROTARR_STACK_FILE_ENV) {
            continue;
        }
        for (j = 0; j < rotarr_dotenv_count(file->env); j++) {
            entry = rotarr_dotenv_entry(file->env, j);
            if (entry->value != NULL && looks_secret(entry->key) &&
                add_secret(in, entry->key, "", entry->value,
                           entry->value_len, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int add_app_secret(void *ctx, const char *name, const char *service,
                          const char *value, size_t len,
                          struct rotarr_error *err)
{
    return add_secret(ctx, name, service, value, len, err);
}

/* Finds the occurrences of every listed secret in one pass. */
static int find_occurrences(struct inspection *in, struct rotarr_error *err)
{
    const struct rotarr_secret **values;
    struct rotarr_occurrences *outs;
    size_t i;
    int ret;

    values = calloc(in->count + 1, sizeof(*values));
    outs = calloc(in->count + 1, sizeof(*outs));
    if (values == NULL || outs == NULL) {
        free(values);
        free(outs);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < in->count; i++) {
        values[i] = in->secrets[i].value;
    }
    ret = rotarr_stack_find_occurrences_many(in->stack, values, in->count,
                                             outs, err);
    for (i = 0; i < in->count; i++) {
        in->secrets[i].occurrences = outs[i];
    }
    free(values);
    free(outs);
    return ret;
}

/* Finds each service's kind once: it interpolates the image name. */
static int find_kinds(struct inspection *in, struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(in->stack);
    size_t count = rotarr_compose_service_count(compose);
    size_t i;

    in->kinds = calloc(count + 1, sizeof(*in->kinds));
    if (in->kinds == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < count; i++) {
        in->kinds[i] = rotarr_stack_service_kind(
            in->stack, rotarr_compose_service(compose, i));
    }
    return 0;
}

static int inspect_stack(struct inspection *in, struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(in->stack);
    size_t i;

    if (find_kinds(in, err) < 0) {
        return -1;
    }
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        if (add_server_secrets(in, rotarr_compose_service(compose, i),
                               in->kinds[i], err) < 0) {
            return -1;
        }
    }
    if (add_env_secrets(in, err) < 0 ||
        inspect_app_secrets(in->stack, add_app_secret, in, err) < 0) {
        return -1;
    }
    return find_occurrences(in, err);
}

static const char *occurrence_kind(enum rotarr_occurrence_kind kind)
{
    switch (kind) {
    case ROTARR_OCC_VALUE:
        return "value";
    case ROTARR_OCC_URL:
        return "url";
    case ROTARR_OCC_TEXT:
        return "copy";
    case ROTARR_OCC_REFERENCE:
        return "reference";
    }
    return "?";
}

static void print_service_json(const struct rotarr_compose_service *svc,
                               enum rotarr_service_kind kind)
{
    printf("{\"name\":");
    cmd_json_string(stdout, svc->name);
    printf(",\"image\":");
    if (svc->image != NULL) {
        cmd_json_string(stdout, svc->image);
    } else {
        printf("null");
    }
    printf(",\"kind\":\"%s\"}", kind_name(kind));
}

static void print_occurrence_json(const struct inspection *in,
                                  const struct rotarr_occurrence *occ)
{
    printf("{\"file\":");
    cmd_json_string(stdout, rotarr_stack_file(in->stack, occ->file)->display);
    printf(",\"line\":%zu,\"column\":%zu,\"where\":", occ->line, occ->column);
    cmd_json_string(stdout, occ->where);
    printf(",\"kind\":\"%s\"}", occurrence_kind(occ->kind));
}

static void print_json(const struct inspection *in)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(in->stack);
    size_t i;
    size_t j;

    printf("{\"services\":[");
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        printf("%s", i > 0 ? "," : "");
        print_service_json(rotarr_compose_service(compose, i), in->kinds[i]);
    }
    printf("],\"apps\":");
    (void)inspect_print_apps(in->stack, 1, NULL);
    printf(",\"secrets\":[");
    for (i = 0; i < in->count; i++) {
        printf("%s{\"variable\":", i > 0 ? "," : "");
        cmd_json_string(stdout, in->secrets[i].variable);
        printf(",\"service\":");
        cmd_json_string(stdout, in->secrets[i].service);
        printf(",\"occurrences\":[");
        for (j = 0; j < in->secrets[i].occurrences.count; j++) {
            printf("%s", j > 0 ? "," : "");
            print_occurrence_json(in, &in->secrets[i].occurrences.items[j]);
        }
        printf("]}");
    }
    printf("],\"warnings\":[");
    for (i = 0; i < rotarr_stack_warning_count(in->stack); i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, rotarr_stack_warning(in->stack, i));
    }
    printf("]}\n");
}

static void print_text(const struct inspection *in)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(in->stack);
    const struct rotarr_compose_service *svc;
    const struct rotarr_occurrence *occ;
    size_t i;
    size_t j;

    printf("services:\n");
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        printf("  %-20s %-9s ", svc->name, kind_name(in->kinds[i]));
        cmd_fputs_safe(svc->image != NULL ? svc->image : "(no image)",
                       stdout);
        fputc('\n', stdout);
    }
    (void)inspect_print_apps(in->stack, 0, NULL);
    printf("secrets:\n");
    for (i = 0; i < in->count; i++) {
        printf("  %s = ******** (%zu bytes)%s%s\n", in->secrets[i].variable,
               rotarr_secret_len(in->secrets[i].value),
               in->secrets[i].service[0] != '\0' ? ", service " : "",
               in->secrets[i].service);
        for (j = 0; j < in->secrets[i].occurrences.count; j++) {
            occ = &in->secrets[i].occurrences.items[j];
            printf("    %s:%zu:%zu  ",
                   rotarr_stack_file(in->stack, occ->file)->display,
                   occ->line, occ->column);
            cmd_fputs_safe(occ->where, stdout);
            printf(" (%s)\n", occurrence_kind(occ->kind));
        }
    }
    for (i = 0; i < rotarr_stack_warning_count(in->stack); i++) {
        printf("%s", i == 0 ? "warnings:\n" : "");
        printf("  ");
        cmd_fputs_safe(rotarr_stack_warning(in->stack, i), stdout);
        fputc('\n', stdout);
    }
}

/*
 * The stack and the inspection stay allocated until the process exits,
 * right after the output.  The exit returns their pages in one go, while
 * freeing them piece by piece, and wiping the file bytes and values
 * first, took about 4 ms on the 4.97 MB benchmark stack.  Wiping at exit
 * protects nothing, because the kernel clears freed pages before any
 * other process gets them.  The static pointers keep leak checkers from
 * reporting the memory as lost.
 */
static struct inspection inspection;
static struct rotarr_stack *inspected_stack;

/*
 * Keeps the heap's freed memory for reuse during the run.  By default
 * glibc returns free memory at the top of a heap to the kernel once it
 * passes 128 KiB, and later allocations fault the pages in again.  On
 * the 4.97 MB benchmark stack that cost about 1,200 of 13,800 page
 * faults.  Heaps also grow 16 MiB at a time, which saves system calls,
 * because the pages take memory only once written.
 */
static void keep_freed_memory(void)
{
    (void)mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    (void)mallopt(M_TOP_PAD, 16 * 1024 * 1024);
}

int cmd_inspect(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct inspection *in = &inspection;
    int status;

    status = parse_options(argc, argv);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    keep_freed_memory();
    inspected_stack = cmd_load_stack(&err);
    if (inspected_stack == NULL) {
        return cmd_report(&err);
    }
    in->stack = inspected_stack;
    in->pool = rotarr_secret_pool_new(&err);
    if (in->pool == NULL) {
        return cmd_report(&err);
    }
    if (inspect_stack(in, &err) < 0) {
        return cmd_report(&err);
    }
    /* One lock for the whole output: the parser's worker thread made
     * stdio lock the stream at every character otherwise. */
    flockfile(stdout);
    if (cmd_globals.json) {
        print_json(in);
    } else {
        print_text(in);
    }
    funlockfile(stdout);
    return ROTARR_OK;
}
