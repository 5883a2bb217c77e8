/*
 * Unit tests of the Compose project model (rotarr/compose.h): file
 * discovery, -f and COMPOSE_FILE, merging, include, extends, environment
 * and env_file forms, depends_on, ports and secrets.  The projects live in
 * tests/data/compose; error cases write small files to a temporary
 * directory.
 */
#include "rotarr/compat.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/compose.h"
#include "rotarr/secret.h"

static struct rotarr_error err;
static char scratch[] = "/tmp/rotarr-compose.XXXXXX";

/* Variables handed to the loader: name, value pairs ending with NULL. */
static const char *const *vars;

static const char *table_lookup(void *ctx, const char *name)
{
    const char *const *v;

    (void)ctx;
    for (v = vars; v != NULL && v[0] != NULL; v += 2) {
        if (strcmp(v[0], name) == 0) {
            return v[1];
        }
    }
    return NULL;
}

/* Returns ROTARR_TEST_DATA/compose/name in a static buffer. */
static const char *data(const char *name)
{
    static char path[1024];
    const char *root = getenv("ROTARR_TEST_DATA");

    ck_assert_ptr_nonnull(root);
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/compose/%s", root,
                              name),
                     (int)sizeof(path));
    return path;
}

static struct rotarr_compose *load(const char *dir, const char *const *files,
                                   size_t count)
{
    struct rotarr_compose *c;

    rotarr_error_clear(&err);
    c = rotarr_compose_load(dir, files, count, table_lookup, NULL, &err);
    ck_assert_msg(c != NULL, "load failed: %s", err.msg);
    return c;
}

/* Loads and expects an error whose message contains part. */
static void load_fails(const char *dir, const char *const *files,
                       size_t count, const char *part)
{
    struct rotarr_compose *c;

    rotarr_error_clear(&err);
    c = rotarr_compose_load(dir, files, count, table_lookup, NULL, &err);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_msg(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'",
                  err.msg, part);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const struct rotarr_compose_service *
service(const struct rotarr_compose *c, const char *name)
{
    const struct rotarr_compose_service *svc =
        rotarr_compose_find_service(c, name);

    ck_assert_msg(svc != NULL, "no service '%s'", name);
    return svc;
}

static const struct rotarr_compose_env *
env(const struct rotarr_compose_service *svc, const char *key)
{
    size_t i;

    for (i = 0; i < svc->env_count; i++) {
        if (strcmp(svc->env[i].key, key) == 0) {
            return &svc->env[i];
        }
    }
    ck_abort_msg("no variable '%s' in '%s'", key, svc->name);
    return NULL;
}

/* Returns the file bytes of an editable entry in a static buffer. */
static const char *raw_span(const struct rotarr_compose_env *entry)
{
    static char buf[256];
    const char *bytes = rotarr_ydoc_bytes(entry->node->doc, NULL);
    size_t len = entry->raw_end - entry->raw_start;

    ck_assert_int_eq(entry->editable, 1);
    ck_assert_uint_lt(len, sizeof(buf));
    memcpy(buf, bytes + entry->raw_start, len);
    buf[len] = '\0';
    return buf;
}

static void write_scratch(const char *name, const char *text)
{
    char path[1024];
    FILE *f;

    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", scratch, name),
                     (int)sizeof(path));
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void scratch_setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(scratch));
    vars = NULL;
}

static void scratch_teardown(void)
{
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    memcpy(scratch + strlen(scratch) - 6, "XXXXXX", 6);
}

START_TEST(test_compose__discovery_prefers_compose_yaml)
{
    struct rotarr_compose *c = load(data("discover-all"), NULL, 0);
    const struct rotarr_compose_service *svc = service(c, "svc");

    ck_assert_uint_eq(rotarr_compose_file_count(c), 2);
    ck_assert(ends_with(rotarr_ydoc_path(rotarr_compose_file(c, 0)),
                        "/compose.yaml"));
    ck_assert(ends_with(rotarr_ydoc_path(rotarr_compose_file(c, 1)),
                        "/compose.override.yaml"));
    ck_assert_str_eq(svc->image, "from-compose.yaml");
    ck_assert_str_eq(env(svc, "FROM")->raw, "compose.override.yaml");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__discovery_takes_docker_compose_yml)
{
    struct rotarr_compose *c = load(data("discover-docker"), NULL, 0);
    const struct rotarr_compose_service *svc = service(c, "svc");

    ck_assert_uint_eq(rotarr_compose_file_count(c), 2);
    ck_assert(ends_with(rotarr_ydoc_path(rotarr_compose_file(c, 0)),
                        "/docker-compose.yml"));
    ck_assert_str_eq(svc->image, "from-docker-compose.yml");
    ck_assert_str_eq(env(svc, "FROM")->raw, "docker-compose.override.yaml");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__discovery_fails_without_file)
{
    load_fails(data("discover-none"), NULL, 0,
               "no compose file in '");
    ck_assert(strstr(err.msg, "pass one with -f") != NULL);
}
END_TEST

START_TEST(test_compose__files_merge_in_order)
{
    static const char *const files[] = { "base.yml", "override.yml" };
    struct rotarr_compose *c = load(data("multi"), files, 2);
    const struct rotarr_compose_service *db = service(c, "db");

    ck_assert_uint_eq(rotarr_compose_service_count(c), 3);
    ck_assert_str_eq(rotarr_compose_service(c, 0)->name, "db");
    ck_assert_str_eq(rotarr_compose_service(c, 2)->name, "cache");
    ck_assert_str_eq(rotarr_compose_name(c), "multi");
    ck_assert_str_eq(db->image, "postgres:16");
    ck_assert_str_eq(env(db, "POSTGRES_USER")->raw, "app");
    ck_assert_str_eq(env(db, "POSTGRES_PASSWORD")->raw, "override-pw");
    ck_assert(ends_with(rotarr_ydoc_path(env(db, "POSTGRES_PASSWORD")
                                             ->node->doc),
                        "override.yml"));
    ck_assert_str_eq(env(db, "EXTRA")->raw, "x");
    ck_assert_uint_eq(db->env_count, 3);
    ck_assert_uint_eq(db->layer_count, 2);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__merge_appends_env_files)
{
    static const char *const files[] = { "base.yml", "override.yml" };
    struct rotarr_compose *c = load(data("multi"), files, 2);
    const struct rotarr_compose_service *db = service(c, "db");

    ck_assert_uint_eq(db->env_file_count, 2);
    ck_assert(ends_with(db->env_files[0].path, "multi/db.env"));
    ck_assert_int_eq(db->env_files[0].required, 1);
    ck_assert(ends_with(db->env_files[1].path, "multi/extra.env"));
    ck_assert_int_eq(db->env_files[1].required, 0);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__reset_and_override_tags)
{
    static const char *const files[] = { "base.yml", "override.yml" };
    struct rotarr_compose *c = load(data("multi"), files, 2);
    const struct rotarr_compose_service *web = service(c, "web");

    ck_assert_ptr_null(web->image);
    ck_assert_uint_eq(web->env_count, 1);
    ck_assert_str_eq(env(web, "MODE")->raw, "override");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__missing_file_fails)
{
    static const char *const files[] = { "base.yml", "missing.yml" };

    load_fails(data("multi"), files, 2, "missing.yml");
}
END_TEST

START_TEST(test_compose__compose_file_lists_files)
{
    static const char *const table[] = {
        "COMPOSE_FILE", "base.yml:override.yml", NULL,
    };
    struct rotarr_compose *c;

    vars = table;
    c = load(data("multi"), NULL, 0);
    ck_assert_uint_eq(rotarr_compose_file_count(c), 2);
    ck_assert_str_eq(env(service(c, "db"), "POSTGRES_PASSWORD")->raw,
                     "override-pw");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__compose_file_uses_separator)
{
    static const char *const table[] = {
        "COMPOSE_FILE", "base.yml;;override.yml",
        "COMPOSE_PATH_SEPARATOR", ";", NULL,
    };
    struct rotarr_compose *c;

    vars = table;
    c = load(data("multi"), NULL, 0);
    ck_assert_uint_eq(rotarr_compose_file_count(c), 2);
    ck_assert(ends_with(rotarr_ydoc_path(rotarr_compose_file(c, 1)),
                        "/override.yml"));
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__compose_file_wrong_separator_fails)
{
    static const char *const table[] = {
        "COMPOSE_FILE", "base.yml;override.yml", NULL,
    };

    vars = table;
    load_fails(data("multi"), NULL, 0, "base.yml;override.yml");
}
END_TEST

START_TEST(test_compose__explicit_files_win_over_compose_file)
{
    static const char *const table[] = {
        "COMPOSE_FILE", "override.yml", NULL,
    };
    static const char *const files[] = { "base.yml" };
    struct rotarr_compose *c;

    vars = table;
    c = load(data("multi"), files, 1);
    ck_assert_uint_eq(rotarr_compose_file_count(c), 1);
    ck_assert_str_eq(env(service(c, "db"), "POSTGRES_PASSWORD")->raw,
                     "base-pw");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_map_form)
{
    struct rotarr_compose *c = load(data("env"), NULL, 0);
    const struct rotarr_compose_service *svc = service(c, "map");

    ck_assert_str_eq(env(svc, "PLAIN")->raw, "plain-value");
    ck_assert_str_eq(raw_span(env(svc, "PLAIN")), "plain-value");
    ck_assert_str_eq(env(svc, "QUOTED_KEY")->raw, "single");
    ck_assert_str_eq(raw_span(env(svc, "QUOTED_KEY")), "'single'");
    ck_assert_str_eq(env(svc, "DOUBLE")->raw, "dbl \"q\"");
    ck_assert_str_eq(raw_span(env(svc, "DOUBLE")), "\"dbl \\\"q\\\"\"");
    ck_assert_str_eq(env(svc, "NUMBER")->raw, "5432");
    ck_assert_str_eq(env(svc, "SHARED")->raw, "from-anchor");
    ck_assert_int_eq(env(svc, "PLAIN")->list_form, 0);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_map_null_and_block)
{
    struct rotarr_compose *c = load(data("env"), NULL, 0);
    const struct rotarr_compose_service *svc = service(c, "map");

    ck_assert_ptr_null(env(svc, "INHERIT")->node);
    ck_assert_ptr_null(env(svc, "INHERIT")->raw);
    ck_assert_int_eq(env(svc, "INHERIT")->editable, 0);
    ck_assert_ptr_null(env(svc, "NULLED")->raw);
    ck_assert_str_eq(env(svc, "BLOCK")->raw, "multi\nline\n");
    ck_assert_int_eq(env(svc, "BLOCK")->editable, 0);
    ck_assert_uint_eq(env(svc, "BLOCK")->raw_start, 0);
    ck_assert_uint_eq(env(svc, "BLOCK")->raw_end, 0);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_list_form)
{
    struct rotarr_compose *c = load(data("env"), NULL, 0);
    const struct rotarr_compose_service *svc = service(c, "list");

    ck_assert_uint_eq(svc->env_count, 5);
    ck_assert_int_eq(env(svc, "PLAIN")->list_form, 1);
    ck_assert_str_eq(env(svc, "PLAIN")->raw, "last wins");
    ck_assert_str_eq(raw_span(env(svc, "PLAIN")), "last wins");
    ck_assert_str_eq(env(svc, "QUOTED")->raw, "x y");
    ck_assert_int_eq(env(svc, "QUOTED")->editable, 0);
    ck_assert_ptr_null(env(svc, "INHERIT")->raw);
    ck_assert_str_eq(env(svc, "EMPTY")->raw, "");
    ck_assert_str_eq(raw_span(env(svc, "EMPTY")), "");
    ck_assert_str_eq(env(svc, "QUOTES_KEPT")->raw, "\"x\"");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_rejects_blank_before_equals)
{
    write_scratch("compose.yaml", "services:\n  a:\n    environment:\n"
                                  "      - \"KEY =value\"\n");
    load_fails(scratch, NULL, 0, "compose.yaml:4:9: environment entry of "
                                 "service 'a' has an empty key or a blank "
                                 "before '='");
}
END_TEST

START_TEST(test_compose__env_rejects_mapping_value)
{
    write_scratch("compose.yaml", "services:\n  a:\n    environment:\n"
                                  "      KEY: {nested: 1}\n");
    load_fails(scratch, NULL, 0, "compose.yaml:4:12: environment variable "
                                 "'KEY' of service 'a' must be a string");
}
END_TEST

START_TEST(test_compose__env_file_forms)
{
    struct rotarr_compose *c = load(data("envfile"), NULL, 0);
    const struct rotarr_compose_service *one = service(c, "string");
    const struct rotarr_compose_service *list = service(c, "list");
    const struct rotarr_compose_service *lng = service(c, "long");

    ck_assert_uint_eq(one->env_file_count, 1);
    ck_assert(ends_with(one->env_files[0].path, "envfile/one.env"));
    ck_assert_str_eq(one->env_files[0].node->value, "one.env");
    ck_assert_uint_eq(list->env_file_count, 2);
    ck_assert(ends_with(list->env_files[1].path, "envfile/two.env"));
    ck_assert_uint_eq(lng->env_file_count, 3);
    ck_assert_int_eq(lng->env_files[0].required, 1);
    ck_assert(ends_with(lng->env_files[1].path, "envfile/conf/two.env"));
    ck_assert_int_eq(lng->env_files[1].required, 0);
    ck_assert_int_eq(lng->env_files[2].required, 1);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_file_path_interpolated)
{
    static const char *const table[] = { "ENV_DIR", "alt", NULL };
    struct rotarr_compose *c;

    vars = table;
    c = load(data("envfile"), NULL, 0);
    ck_assert(ends_with(service(c, "long")->env_files[1].path,
                        "envfile/alt/two.env"));
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__env_file_rejects_missing_path)
{
    write_scratch("compose.yaml", "services:\n  a:\n    env_file:\n"
                                  "      - required: false\n");
    load_fails(scratch, NULL, 0, "env_file entry of service 'a' needs a "
                                 "path");
}
END_TEST

START_TEST(test_compose__env_file_rejects_bad_required)
{
    write_scratch("compose.yaml", "services:\n  a:\n    env_file:\n"
                                  "      - path: a.env\n"
                                  "        required: maybe\n");
    load_fails(scratch, NULL, 0, "'required' must be true or false");
}
END_TEST

START_TEST(test_compose__depends_list_and_map)
{
    struct rotarr_compose *c = load(data("depends"), NULL, 0);
    const struct rotarr_compose_service *app = service(c, "app");
    const struct rotarr_compose_service *worker = service(c, "worker");

    ck_assert_uint_eq(app->depends_count, 2);
    ck_assert_str_eq(app->depends[0], "db");
    ck_assert_str_eq(app->depends[1], "cache");
    ck_assert_uint_eq(worker->depends_count, 2);
    ck_assert_str_eq(worker->depends[0], "db");
    ck_assert_str_eq(worker->depends[1], "app");
    ck_assert_int_eq(worker->depends_on->kind, ROTARR_YNODE_MAPPING);
    ck_assert_uint_eq(service(c, "db")->depends_count, 0);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__depends_rejects_scalar)
{
    write_scratch("compose.yaml", "services:\n  a:\n    depends_on: b\n"
                                  "  b:\n    image: b\n");
    load_fails(scratch, NULL, 0, "depends_on of service 'a' must be a "
                                 "list or a mapping");
}
END_TEST

START_TEST(test_compose__include_adds_services)
{
    struct rotarr_compose *c = load(data("include"), NULL, 0);
    const struct rotarr_compose_service *db = service(c, "db");
    const struct rotarr_compose_service *cache = service(c, "cache");

    ck_assert_uint_eq(rotarr_compose_service_count(c), 3);
    ck_assert_str_eq(rotarr_compose_service(c, 0)->name, "app");
    ck_assert(ends_with(service(c, "app")->env_files[0].path,
                        "include/app.env"));
    ck_assert(ends_with(db->env_files[0].path, "include/db/db.env"));
    ck_assert(ends_with(cache->env_files[0].path, "include/cache/cache.env"));
    ck_assert_str_eq(env(cache, "FROM_OVERRIDE")->raw, "yes");
    ck_assert_uint_eq(rotarr_compose_file_count(c), 4);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__include_conflict_fails)
{
    load_fails(data("include-conflict"), NULL, 0,
               "included project defines service 'db', which is already "
               "defined");
}
END_TEST

START_TEST(test_compose__include_loop_fails)
{
    load_fails(data("include-loop"), NULL, 0, "include loop");
}
END_TEST

START_TEST(test_compose__extends_same_file)
{
    struct rotarr_compose *c = load(data("extends"), NULL, 0);
    const struct rotarr_compose_service *web = service(c, "web");

    ck_assert_str_eq(web->image, "base:1");
    ck_assert_str_eq(env(web, "A")->raw, "from-base");
    ck_assert_str_eq(env(web, "B")->raw, "from-web");
    ck_assert_uint_eq(web->layer_count, 2);
    ck_assert_ptr_eq(web->layers[0], service(c, "base")->node);
    ck_assert_ptr_eq(web->node, web->layers[1]);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__extends_other_file)
{
    struct rotarr_compose *c = load(data("extends"), NULL, 0);
    const struct rotarr_compose_service *worker = service(c, "worker");

    ck_assert_str_eq(worker->image, "common-app");
    ck_assert(ends_with(worker->env_files[0].path, "extends/common/app.env"));
    ck_assert_str_eq(env(worker, "W")->raw, "1");
    ck_assert_uint_eq(rotarr_compose_file_count(c), 2);
    ck_assert(ends_with(rotarr_ydoc_path(rotarr_compose_file(c, 1)),
                        "common/services.yaml"));
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__extends_loop_fails)
{
    load_fails(data("extends-loop"), NULL, 0, "loops back to it");
}
END_TEST

START_TEST(test_compose__extends_missing_service_fails)
{
    write_scratch("compose.yaml", "services:\n  a:\n    extends: nope\n");
    load_fails(scratch, NULL, 0, "compose.yaml:3:14: service 'a' extends "
                                 "'nope', which is not defined there");
}
END_TEST

START_TEST(test_compose__published_port_short_forms)
{
    struct rotarr_compose *c = load(data("ports"), NULL, 0);
    const struct rotarr_compose_service *db = service(c, "db");
    char host[64];

    ck_assert_int_eq(rotarr_compose_published_port(c, db, 5432, table_lookup,
                                                   NULL, host, sizeof(host)),
                     5433);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 6379, table_lookup,
                                                   NULL, host, sizeof(host)),
                     6379);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 80, table_lookup,
                                                   NULL, host, sizeof(host)),
                     8080);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 7001, table_lookup,
                                                   NULL, host, sizeof(host)),
                     9001);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__published_port_interpolated)
{
    static const char *const table[] = { "PG_PORT", "25432", NULL };
    struct rotarr_compose *c = load(data("ports"), NULL, 0);
    const struct rotarr_compose_service *db = service(c, "db");

    ck_assert_int_eq(rotarr_compose_published_port(c, db, 15432,
                                                   table_lookup, NULL, NULL,
                                                   0),
                     15432);
    vars = table;
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 15432,
                                                   table_lookup, NULL, NULL,
                                                   0),
                     25432);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__published_port_long_form)
{
    struct rotarr_compose *c = load(data("ports"), NULL, 0);
    const struct rotarr_compose_service *db = service(c, "db");
    char host[64];

    ck_assert_int_eq(rotarr_compose_published_port(c, db, 3000, table_lookup,
                                                   NULL, host, sizeof(host)),
                     3300);
    ck_assert_str_eq(host, "127.0.0.2");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__published_port_absent)
{
    struct rotarr_compose *c = load(data("ports"), NULL, 0);
    const struct rotarr_compose_service *db = service(c, "db");

    ck_assert_int_eq(rotarr_compose_published_port(c, db, 53, table_lookup,
                                                   NULL, NULL, 0),
                     0);
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 4000, table_lookup,
                                                   NULL, NULL, 0),
                     0);
    ck_assert_int_eq(rotarr_compose_published_port(c, db, 9999, table_lookup,
                                                   NULL, NULL, 0),
                     0);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__secret_sources)
{
    struct rotarr_compose *c = load(data("secrets"), NULL, 0);

    ck_assert(ends_with(rotarr_compose_secret_file(c, "db_password"),
                        "compose/secrets/secrets/db_password.txt"));
    ck_assert_ptr_null(rotarr_compose_secret_environment(c, "db_password"));
    ck_assert_str_eq(rotarr_compose_secret_environment(c, "api_key"),
                     "API_KEY");
    ck_assert_ptr_null(rotarr_compose_secret_file(c, "api_key"));
    ck_assert_ptr_null(rotarr_compose_secret_file(c, "unknown"));
    ck_assert_int_eq(service(c, "db")->secrets->kind, ROTARR_YNODE_SEQUENCE);
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__accepts_service_name_characters)
{
    struct rotarr_compose *c;

    write_scratch("compose.yaml", "services:\n  a.b_c-1:\n    image: x\n");
    c = load(scratch, NULL, 0);
    ck_assert_str_eq(rotarr_compose_service(c, 0)->name, "a.b_c-1");
    rotarr_compose_free(c);
}
END_TEST

START_TEST(test_compose__rejects_invalid_service_name)
{
    write_scratch("compose.yaml", "services:\n  'a b':\n    image: x\n");
    load_fails(scratch, NULL, 0, "compose.yaml:2:3: invalid service name");
}
END_TEST

START_TEST(test_compose__rejects_non_mapping_file)
{
    write_scratch("compose.yaml", "- a\n- b\n");
    load_fails(scratch, NULL, 0, "compose.yaml:1:1: a compose file must be "
                                 "a mapping");
}
END_TEST

START_TEST(test_compose__rejects_empty_file)
{
    write_scratch("compose.yaml", "# nothing yet\n");
    load_fails(scratch, NULL, 0, "compose.yaml: the file is empty");
}
END_TEST

START_TEST(test_compose__yaml_error_names_position)
{
    write_scratch("compose.yaml", "services:\n  a:\n    image: [x\n");
    load_fails(scratch, NULL, 0, "compose.yaml:4:1: did not find expected");
}
END_TEST

static int is_compose_name(const char *name)
{
    size_t len = strlen(name);

    return (len > 4 && strcmp(name + len - 4, ".yml") == 0) ||
           (len > 5 && strcmp(name + len - 5, ".yaml") == 0);
}

/* Loads each YAML file under dir as a project of its own; returns how
 * many loaded. */
static size_t load_tree(const char *dir)
{
    const char *files[1];
    struct rotarr_compose *c;
    struct dirent *entry;
    struct stat st;
    char path[1024];
    size_t count = 0;
    DIR *d = opendir(dir);

    ck_assert_ptr_nonnull(d);
    while ((entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir,
                                  entry->d_name),
                         (int)sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            count += load_tree(path);
        } else if (is_compose_name(entry->d_name)) {
            files[0] = entry->d_name;
            c = load(dir, files, 1);
            ck_assert_uint_gt(rotarr_compose_service_count(c), 0);
            rotarr_compose_free(c);
            count++;
        }
    }
    closedir(d);
    return count;
}

START_TEST(test_compose__corpus_projects_load)
{
    const char *shared = getenv("ROTARR_SHARED");
    const char *ci = getenv("CI");
    char corpus[1024];
    struct stat st;

    ck_assert_ptr_nonnull(shared);
    ck_assert_int_lt(snprintf(corpus, sizeof(corpus), "%s/corpus", shared),
                     (int)sizeof(corpus));
    if (stat(corpus, &st) != 0) {
        ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0,
                      "corpus missing at %s", corpus);
        return;
    }
    ck_assert_uint_gt(load_tree(corpus), 30);
}
END_TEST

static Suite *compose_suite(void)
{
    Suite *s = suite_create("compose");
    TCase *files = tcase_create("files");
    TCase *model = tcase_create("model");
    TCase *links = tcase_create("links");
    TCase *errors = tcase_create("errors");
    TCase *corpus = tcase_create("corpus");

    tcase_add_checked_fixture(files, scratch_setup, scratch_teardown);
    tcase_add_test(files, test_compose__discovery_prefers_compose_yaml);
    tcase_add_test(files, test_compose__discovery_takes_docker_compose_yml);
    tcase_add_test(files, test_compose__discovery_fails_without_file);
    tcase_add_test(files, test_compose__files_merge_in_order);
    tcase_add_test(files, test_compose__merge_appends_env_files);
    tcase_add_test(files, test_compose__reset_and_override_tags);
    tcase_add_test(files, test_compose__missing_file_fails);
    tcase_add_test(files, test_compose__compose_file_lists_files);
    tcase_add_test(files, test_compose__compose_file_uses_separator);
    tcase_add_test(files, test_compose__compose_file_wrong_separator_fails);
    tcase_add_test(files, test_compose__explicit_files_win_over_compose_file);
    suite_add_tcase(s, files);

    tcase_add_checked_fixture(model, scratch_setup, scratch_teardown);
    tcase_add_test(model, test_compose__env_map_form);
    tcase_add_test(model, test_compose__env_map_null_and_block);
    tcase_add_test(model, test_compose__env_list_form);
    tcase_add_test(model, test_compose__env_rejects_blank_before_equals);
    tcase_add_test(model, test_compose__env_rejects_mapping_value);
    tcase_add_test(model, test_compose__env_file_forms);
    tcase_add_test(model, test_compose__env_file_path_interpolated);
    tcase_add_test(model, test_compose__env_file_rejects_missing_path);
    tcase_add_test(model, test_compose__env_file_rejects_bad_required);
    tcase_add_test(model, test_compose__depends_list_and_map);
    tcase_add_test(model, test_compose__depends_rejects_scalar);
    tcase_add_test(model, test_compose__published_port_short_forms);
    tcase_add_test(model, test_compose__published_port_interpolated);
    tcase_add_test(model, test_compose__published_port_long_form);
    tcase_add_test(model, test_compose__published_port_absent);
    tcase_add_test(model, test_compose__secret_sources);
    suite_add_tcase(s, model);

    tcase_add_checked_fixture(links, scratch_setup, scratch_teardown);
    tcase_add_test(links, test_compose__include_adds_services);
    tcase_add_test(links, test_compose__include_conflict_fails);
    tcase_add_test(links, test_compose__include_loop_fails);
    tcase_add_test(links, test_compose__extends_same_file);
    tcase_add_test(links, test_compose__extends_other_file);
    tcase_add_test(links, test_compose__extends_loop_fails);
    tcase_add_test(links, test_compose__extends_missing_service_fails);
    suite_add_tcase(s, links);

    tcase_add_checked_fixture(errors, scratch_setup, scratch_teardown);
    tcase_add_test(errors, test_compose__accepts_service_name_characters);
    tcase_add_test(errors, test_compose__rejects_invalid_service_name);
    tcase_add_test(errors, test_compose__rejects_non_mapping_file);
    tcase_add_test(errors, test_compose__rejects_empty_file);
    tcase_add_test(errors, test_compose__yaml_error_names_position);
    suite_add_tcase(s, errors);

    tcase_add_checked_fixture(corpus, scratch_setup, scratch_teardown);
    tcase_add_test(corpus, test_compose__corpus_projects_load);
    suite_add_tcase(s, corpus);
    return s;
}

int main(void)
{
    struct rotarr_error init_err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&init_err) < 0) {
        return 1;
    }
    runner = srunner_create(compose_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
