/*
 * Unit tests of the stack audit (rotarr/audit.h).  Each test writes a
 * small compose file (and env file) to a temporary directory, runs the
 * audit and looks for one finding by check, service and line.  Each check
 * has a twin where the fault is fixed and the finding is gone.
 */
#include "rotarr/compat.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/audit.h"
#include "rotarr/secret.h"

/* 2026-01-01T00:00:00Z, the audit's "now" in every test. */
#define TEST_NOW ((time_t)1767225600)

static char scratch[64];
static struct rotarr_audit audit;

static const char *no_shell(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void scratch_setup(void)
{
    snprintf(scratch, sizeof(scratch), "/tmp/rotarr-audit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
    memset(&audit, 0, sizeof(audit));
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void scratch_teardown(void)
{
    rotarr_audit_release(&audit);
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    FILE *f;

    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", scratch, name),
                     (int)sizeof(path));
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* Audits compose (and env as .env when not NULL) in the scratch dir. */
static void run(const char *compose, const char *env)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack_options opts;
    struct rotarr_audit_options aopts = { TEST_NOW, 0 };
    struct rotarr_stack *stack;

    write_file("compose.yaml", compose, 0644);
    if (env != NULL) {
        write_file(".env", env, 0600);
    }
    memset(&opts, 0, sizeof(opts));
    opts.dir = scratch;
    opts.shell_lookup = no_shell;
    stack = rotarr_stack_load(&opts, &err);
    ck_assert_msg(stack != NULL, "load failed: %s", err.msg);
    ck_assert_msg(rotarr_audit_run(stack, &aopts, &audit, &err) == 0,
                  "audit failed: %s", err.msg);
    rotarr_stack_free(stack);
}

/* Returns the finding of check id about service, or NULL. */
static const struct rotarr_finding *find(const char *id, const char *service)
{
    size_t i;

    for (i = 0; i < audit.count; i++) {
        if (strcmp(audit.items[i].id, id) == 0 &&
            strcmp(audit.items[i].service, service) == 0) {
            return &audit.items[i];
        }
    }
    return NULL;
}

/* Asserts a finding of id about service at line of compose.yaml. */
static void expect(const char *id, const char *service, size_t line)
{
    const struct rotarr_finding *f = find(id, service);

    ck_assert_msg(f != NULL, "no %s finding for '%s'", id, service);
    ck_assert_uint_eq(f->line, line);
}

static void expect_none(const char *id)
{
    size_t i;

    for (i = 0; i < audit.count; i++) {
        ck_assert_msg(strcmp(audit.items[i].id, id) != 0,
                      "unexpected %s finding for '%s': %s", id,
                      audit.items[i].service, audit.items[i].why);
    }
}

#define PG_CLIENT                                                            \
    "  app:\n"                                                               \
    "    image: ghcr.io/example/app:1.0\n"                                   \
    "    environment:\n"                                                     \
    "      DB_HOST: db\n"                                                    \
    "      DB_PASSWORD: ${POSTGRES_PASSWORD}\n"

START_TEST(test_audit__flags_literal_password)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: Xv9TqL2mR7wKp4ZcN8hB\n", NULL);
    expect("secret-literal", "db", 5);
}
END_TEST

START_TEST(test_audit__accepts_referenced_password)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n",
        "POSTGRES_PASSWORD=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("secret-literal");
}
END_TEST

START_TEST(test_audit__flags_default_password_in_env_file)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n",
        "TZ=UTC\nPOSTGRES_PASSWORD=changeme\n");
    ck_assert_ptr_nonnull(find("secret-weak", "db"));
    ck_assert_str_eq(find("secret-weak", "db")->file, ".env");
    ck_assert_uint_eq(find("secret-weak", "db")->line, 2);
}
END_TEST

START_TEST(test_audit__flags_short_password)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n",
        "POSTGRES_PASSWORD=Xv9TqL2mR7wK\n");
    ck_assert_ptr_nonnull(find("secret-weak", "db"));
    ck_assert_ptr_null(strstr(find("secret-weak", "db")->why,
                              "Xv9TqL2mR7wK"));
}
END_TEST

START_TEST(test_audit__accepts_strong_password)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n",
        "POSTGRES_PASSWORD=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("secret-weak");
}
END_TEST

START_TEST(test_audit__ignores_settings_and_switches)
{
    run("services:\n  app:\n    image: example/app:1\n    environment:\n"
        "      API_KEY_RATE_LIMIT: 60/minute\n"
        "      OAUTHLIB_RELAX_TOKEN_SCOPE: \"1\"\n", NULL);
    expect_none("secret-weak");
    expect_none("secret-literal");
}
END_TEST

START_TEST(test_audit__flags_short_token)
{
    run("services:\n  app:\n    image: example/app:1\n    environment:\n"
        "      APP_TOKEN: ${APP_TOKEN}\n", "APP_TOKEN=a1b2c3\n");
    ck_assert_ptr_nonnull(find("secret-weak", "app"));
}
END_TEST

START_TEST(test_audit__flags_secret_shared_by_unrelated)
{
    run("services:\n"
        "  a:\n    image: example/a:1\n    environment:\n"
        "      A_TOKEN: ${SHARED}\n"
        "  b:\n    image: example/b:1\n    environment:\n"
        "      B_SECRET: ${SHARED}\n",
        "SHARED=Xv9TqL2mR7wKp4ZcN8hB\n");
    ck_assert_ptr_nonnull(find("secret-shared", "b"));
}
END_TEST

START_TEST(test_audit__accepts_secret_of_client_and_server)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n" PG_CLIENT,
        "POSTGRES_PASSWORD=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("secret-shared");
}
END_TEST

START_TEST(test_audit__flags_readable_env_file)
{
    write_file(".env", "A=1\n", 0644);
    run("services:\n  a:\n    image: example/a:1\n", NULL);
    ck_assert_ptr_nonnull(find("env-file-readable", ""));
    ck_assert_str_eq(find("env-file-readable", "")->file, ".env");
}
END_TEST

START_TEST(test_audit__accepts_private_env_file)
{
    run("services:\n  a:\n    image: example/a:1\n", "A=1\n");
    expect_none("env-file-readable");
}
END_TEST

static void write_state(time_t when)
{
    char line[128];
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/.rotarr", scratch);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(line, sizeof(line), "postgres db POSTGRES_PASSWORD %lld\n",
             (long long)when);
    write_file(".rotarr/state", line, 0600);
}

START_TEST(test_audit__flags_overdue_rotation)
{
    write_state(TEST_NOW - 100 * 86400);
    run("services:\n  db:\n    image: postgres:16.8\n", NULL);
    expect("secret-overdue", "db", 1);
}
END_TEST

START_TEST(test_audit__accepts_recent_rotation)
{
    write_state(TEST_NOW - 10 * 86400);
    run("services:\n  db:\n    image: postgres:16.8\n", NULL);
    expect_none("secret-overdue");
}
END_TEST

START_TEST(test_audit__flags_open_redis)
{
    run("services:\n  cache:\n    image: redis:7.4.2\n"
        "    command: redis-server --save 60 1\n", NULL);
    expect("db-no-password", "cache", 3);
}
END_TEST

START_TEST(test_audit__accepts_redis_with_requirepass)
{
    run("services:\n  cache:\n    image: redis:7.4.2\n"
        "    command: redis-server --requirepass ${REDIS_PASSWORD}\n",
        "REDIS_PASSWORD=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("db-no-password");
}
END_TEST

START_TEST(test_audit__flags_trust_auth_postgres)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_HOST_AUTH_METHOD: trust\n", NULL);
    ck_assert_ptr_nonnull(find("db-no-password", "db"));
}
END_TEST

START_TEST(test_audit__flags_docker_socket)
{
    run("services:\n  tower:\n    image: containrrr/watchtower:1.7.1\n"
        "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n",
        NULL);
    expect("mount-docker-socket", "tower", 5);
}
END_TEST

START_TEST(test_audit__accepts_service_without_socket)
{
    run("services:\n  tower:\n    image: containrrr/watchtower:1.7.1\n"
        "    volumes:\n      - ./tower:/config\n", NULL);
    expect_none("mount-docker-socket");
}
END_TEST

#define ARR_CONFIG(name)                                                     \
    "  " name ":\n"                                                          \
    "    image: lscr.io/linuxserver/" name ":1.0.0\n"                        \
    "    healthcheck: {test: [\"CMD\", \"true\"]}\n"                         \
    "    volumes:\n"                                                         \
    "      - ./appdata/" name ":/config\n"

START_TEST(test_audit__flags_broad_appdata_mount)
{
    run("services:\n" ARR_CONFIG("sonarr")
        "  files:\n    image: filebrowser/filebrowser:v2.31.2\n"
        "    volumes:\n      - ./appdata:/srv\n", NULL);
    expect("mount-broad-appdata", "files", 10);
}
END_TEST

START_TEST(test_audit__accepts_own_appdata_mount)
{
    run("services:\n" ARR_CONFIG("sonarr")
        "  files:\n    image: filebrowser/filebrowser:v2.31.2\n"
        "    volumes:\n      - ./appdata/files:/srv\n", NULL);
    expect_none("mount-broad-appdata");
}
END_TEST

START_TEST(test_audit__accepts_media_under_data)
{
    /* /data is where media apps keep the library, not configuration. */
    run("services:\n"
        "  tdarr:\n    image: ghcr.io/haveagitgat/tdarr:2.27.02\n"
        "    volumes:\n      - /srv/media:/data\n"
        "  sonarr:\n    image: lscr.io/linuxserver/sonarr:4.0.14\n"
        "    volumes:\n      - /srv:/srv\n", NULL);
    expect_none("mount-broad-appdata");
}
END_TEST

START_TEST(test_audit__flags_media_mounted_read_write)
{
    run("services:\n  jellyfin:\n    image: jellyfin/jellyfin:10.10.6\n"
        "    volumes:\n      - ./jf:/config\n      - /srv/media:/media\n",
        NULL);
    expect("mount-media-rw", "jellyfin", 6);
}
END_TEST

START_TEST(test_audit__accepts_media_mounted_read_only)
{
    run("services:\n  jellyfin:\n    image: jellyfin/jellyfin:10.10.6\n"
        "    volumes:\n      - ./jf:/config\n      - /srv/media:/media:ro\n",
        NULL);
    expect_none("mount-media-rw");
}
END_TEST

START_TEST(test_audit__flags_media_mount_of_api_only_service)
{
    run("services:\n  prowlarr:\n"
        "    image: lscr.io/linuxserver/prowlarr:1.32.2\n"
        "    volumes:\n      - ./p:/config\n      - /srv/data:/data\n",
        NULL);
    expect("mount-media-api-only", "prowlarr", 6);
}
END_TEST

START_TEST(test_audit__accepts_blackhole_of_indexer)
{
    run("services:\n  jackett:\n"
        "    image: lscr.io/linuxserver/jackett:0.22.1\n"
        "    volumes:\n      - ./j:/config\n"
        "      - /srv/torrent-blackhole:/downloads\n", NULL);
    expect_none("mount-media-api-only");
}
END_TEST

START_TEST(test_audit__flags_hardlink_breaking_layout)
{
    run("services:\n  radarr:\n"
        "    image: lscr.io/linuxserver/radarr:5.21.1\n"
        "    volumes:\n      - ./r:/config\n"
        "      - /srv/downloads:/downloads\n      - /srv/movies:/movies\n",
        NULL);
    expect("mount-hardlink-split", "radarr", 6);
}
END_TEST

START_TEST(test_audit__accepts_single_data_mount)
{
    run("services:\n  radarr:\n"
        "    image: lscr.io/linuxserver/radarr:5.21.1\n"
        "    volumes:\n      - ./r:/config\n      - /srv/data:/data\n",
        NULL);
    expect_none("mount-hardlink-split");
}
END_TEST

START_TEST(test_audit__flags_database_reachable_by_bystander)
{
    run("services:\n  db:\n    image: postgres:16.8\n" PG_CLIENT
        "  web:\n    image: nginx:1.27\n", NULL);
    ck_assert_ptr_nonnull(find("network-db-shared", "db"));
    ck_assert_ptr_nonnull(strstr(find("network-db-shared", "db")->why,
                                 "'web'"));
    ck_assert_ptr_null(strstr(find("network-db-shared", "db")->why,
                              "'app'"));
}
END_TEST

START_TEST(test_audit__accepts_database_with_only_clients)
{
    run("services:\n  db:\n    image: postgres:16.8\n" PG_CLIENT, NULL);
    expect_none("network-db-shared");
}
END_TEST

START_TEST(test_audit__accepts_same_variable_in_app_parts)
{
    run("services:\n"
        "  api:\n    image: example/api:1\n    environment:\n"
        "      LIVE_SECRET_KEY: ${LIVE_SECRET_KEY}\n"
        "  live:\n    image: example/live:1\n    environment:\n"
        "      LIVE_SECRET_KEY: ${LIVE_SECRET_KEY}\n",
        "LIVE_SECRET_KEY=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("secret-shared");
}
END_TEST

START_TEST(test_audit__accepts_database_password_under_client_name)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${PW}\n"
        "  web:\n    image: example/web:1\n    environment:\n"
        "      POSTGRESQL_PASS: ${PW}\n",
        "PW=Xv9TqL2mR7wKp4ZcN8hB\n");
    expect_none("secret-shared");
}
END_TEST

START_TEST(test_audit__flags_database_password_under_other_name)
{
    run("services:\n  db:\n    image: postgres:16.8\n    environment:\n"
        "      POSTGRES_PASSWORD: ${PW}\n"
        "  mq:\n    image: rabbitmq:4.0\n    environment:\n"
        "      RABBITMQ_DEFAULT_PASS: ${PW}\n",
        "PW=Xv9TqL2mR7wKp4ZcN8hB\n");
    ck_assert_ptr_nonnull(find("secret-shared", "mq"));
}
END_TEST

START_TEST(test_audit__ignores_other_servers_and_clients)
{
    /* The worker sets REDIS_HOST empty for the app's default host; a
     * Redis server never connects to Postgres. */
    run("services:\n  db:\n    image: postgres:16.8\n"
        "  cache:\n    image: redis:7.4.2\n"
        "  worker:\n    image: example/worker:1\n    environment:\n"
        "      REDIS_HOST:\n      DATABASE_HOST:\n", NULL);
    expect_none("network-db-shared");
}
END_TEST

START_TEST(test_audit__flags_bystander_with_pgid)
{
    run("services:\n  db:\n    image: postgres:16.8\n"
        "  jellyfin:\n    image: lscr.io/linuxserver/jellyfin:10.10.6\n"
        "    environment:\n      PGID: \"1000\"\n", NULL);
    ck_assert_ptr_nonnull(find("network-db-shared", "db"));
}
END_TEST

START_TEST(test_audit__accepts_network_made_for_one_client)
{
    run("services:\n  cache:\n    image: valkey/valkey:8.1\n"
        "    networks: [search]\n"
        "  search:\n    image: searxng/searxng:2025.1.1\n"
        "    networks: [search]\nnetworks:\n  search: {}\n", NULL);
    expect_none("network-db-shared");
}
END_TEST

START_TEST(test_audit__flags_named_network_with_two_bystanders)
{
    run("services:\n  cache:\n    image: valkey/valkey:8.1\n"
        "    networks: [back]\n"
        "  a:\n    image: example/a:1\n    networks: [back]\n"
        "  b:\n    image: example/b:1\n    networks: [back]\n"
        "networks:\n  back: {}\n", NULL);
    ck_assert_ptr_nonnull(find("network-db-shared", "cache"));
}
END_TEST

START_TEST(test_audit__flags_database_network_not_internal)
{
    run("services:\n  db:\n    image: postgres:16.8\n"
        "    networks: [back]\nnetworks:\n  back: {}\n", NULL);
    expect("network-db-not-internal", "db", 4);
}
END_TEST

START_TEST(test_audit__accepts_internal_database_network)
{
    run("services:\n  db:\n    image: postgres:16.8\n"
        "    networks: [back]\nnetworks:\n  back:\n    internal: true\n",
        NULL);
    expect_none("network-db-not-internal");
}
END_TEST

START_TEST(test_audit__flags_database_port_on_all_interfaces)
{
    run("services:\n  db:\n    image: postgres:16.8\n    ports:\n"
        "      - \"5432:5432\"\n", NULL);
    expect("port-db-public", "db", 5);
}
END_TEST

START_TEST(test_audit__accepts_database_port_on_loopback)
{
    run("services:\n  db:\n    image: postgres:16.8\n    ports:\n"
        "      - \"127.0.0.1:5432:5432\"\n", NULL);
    expect_none("port-db-public");
}
END_TEST

START_TEST(test_audit__flags_open_umask)
{
    run("services:\n  qb:\n    image: lscr.io/linuxserver/qbittorrent:5.0.4\n"
        "    environment:\n      - UMASK=000\n", NULL);
    expect("umask-open", "qb", 5);
    ck_assert_ptr_nonnull(strstr(find("umask-open", "qb")->fix, "0002"));
}
END_TEST

START_TEST(test_audit__accepts_group_umask)
{
    run("services:\n  qb:\n    image: lscr.io/linuxserver/qbittorrent:5.0.4\n"
        "    environment:\n      - UMASK=002\n", NULL);
    expect_none("umask-open");
}
END_TEST

START_TEST(test_audit__flags_latest_and_untagged_images)
{
    run("services:\n  a:\n    image: nginx:latest\n  b:\n    image: nginx\n",
        NULL);
    expect("image-latest", "a", 3);
    expect("image-latest", "b", 5);
}
END_TEST

START_TEST(test_audit__accepts_pinned_images)
{
    run("services:\n  a:\n    image: nginx:1.27\n  b:\n"
        "    image: nginx@sha256:0123456789abcdef\n"
        "  c:\n    image: registry.example:5000/nginx:1.27\n", NULL);
    expect_none("image-latest");
}
END_TEST

START_TEST(test_audit__keeps_privileged_for_vpn_image)
{
    run("services:\n  vpn:\n    image: binhex/arch-qbittorrentvpn:5.0.4\n"
        "    privileged: true\n    cap_add: [NET_ADMIN]\n", NULL);
    expect("privileged-cap-add", "vpn", 4);
    ck_assert_ptr_nonnull(strstr(find("privileged-cap-add", "vpn")->fix,
                                 "keep 'privileged: true'"));
    expect_none("privileged");
}
END_TEST

START_TEST(test_audit__drops_privileged_for_other_image)
{
    run("services:\n  vpn:\n    image: qmcgaw/gluetun:v3.40.0\n"
        "    privileged: true\n    cap_add: [NET_ADMIN]\n", NULL);
    expect("privileged-cap-add", "vpn", 4);
    ck_assert_ptr_nonnull(strstr(find("privileged-cap-add", "vpn")->fix,
                                 "remove 'privileged: true'"));
}
END_TEST

START_TEST(test_audit__accepts_cap_add_without_privileged)
{
    run("services:\n  vpn:\n    image: qmcgaw/gluetun:v3.40.0\n"
        "    cap_add: [NET_ADMIN]\n", NULL);
    expect_none("privileged-cap-add");
    expect_none("privileged");
}
END_TEST

START_TEST(test_audit__flags_all_nvidia_capabilities)
{
    run("services:\n  jf:\n    image: jellyfin/jellyfin:10.10.6\n"
        "    environment:\n      NVIDIA_DRIVER_CAPABILITIES: all\n", NULL);
    expect("nvidia-caps-all", "jf", 5);
    ck_assert_ptr_nonnull(strstr(find("nvidia-caps-all", "jf")->fix,
                                 "compute,video,utility"));
}
END_TEST

START_TEST(test_audit__accepts_nvidia_capability_subset)
{
    run("services:\n  jf:\n    image: jellyfin/jellyfin:10.10.6\n"
        "    environment:\n      NVIDIA_DRIVER_CAPABILITIES: compute,video\n",
        NULL);
    expect_none("nvidia-caps-all");
}
END_TEST

START_TEST(test_audit__flags_missing_healthcheck)
{
    run("services:\n  sonarr:\n    image: lscr.io/linuxserver/sonarr:4.0.14\n",
        NULL);
    expect("healthcheck-missing", "sonarr", 3);
    ck_assert_ptr_nonnull(strstr(find("healthcheck-missing", "sonarr")->fix,
                                 "http://localhost:8989/ping"));
}
END_TEST

START_TEST(test_audit__accepts_image_with_own_healthcheck)
{
    run("services:\n  jf:\n    image: jellyfin/jellyfin:10.10.6\n", NULL);
    expect_none("healthcheck-missing");
}
END_TEST

START_TEST(test_audit__suggests_no_new_privileges_for_postgres)
{
    run("services:\n  db:\n    image: postgres:16.8\n", NULL);
    expect("no-new-privileges", "db", 3);
}
END_TEST

START_TEST(test_audit__accepts_postgres_with_no_new_privileges)
{
    run("services:\n  db:\n    image: postgres:16.8\n"
        "    security_opt: [\"no-new-privileges:true\"]\n", NULL);
    expect_none("no-new-privileges");
}
END_TEST

START_TEST(test_audit__never_breaks_linuxserver_images)
{
    static const char *const banned[] = { "no-new-privileges", "cap_drop",
                                          "read_only", "user:", NULL };
    size_t i;
    size_t b;

    run("services:\n"
        "  s:\n    image: lscr.io/linuxserver/sonarr:latest\n"
        "    privileged: true\n    environment:\n      UMASK: \"000\"\n"
        "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n"
        "  j:\n    image: ghcr.io/linuxserver/jellyfin\n"
        "    volumes:\n      - /srv:/srv\n", NULL);
    ck_assert_uint_gt(audit.count, 3);
    for (i = 0; i < audit.count; i++) {
        for (b = 0; banned[b] != NULL; b++) {
            ck_assert_ptr_null(strstr(audit.items[i].fix, banned[b]));
            ck_assert_ptr_null(strstr(audit.items[i].why, banned[b]));
        }
    }
}
END_TEST

START_TEST(test_audit__detects_linuxserver_images)
{
    ck_assert_int_eq(rotarr_image_is_linuxserver("lscr.io/linuxserver/a:1"),
                     1);
    ck_assert_int_eq(rotarr_image_is_linuxserver("linuxserver/a"), 1);
    ck_assert_int_eq(rotarr_image_is_linuxserver("ghcr.io/linuxserver/a"), 1);
    ck_assert_int_eq(rotarr_image_is_linuxserver("docker.io/linuxserver/a"),
                     1);
}
END_TEST

START_TEST(test_audit__rejects_other_images_as_linuxserver)
{
    ck_assert_int_eq(rotarr_image_is_linuxserver("ghcr.io/hotio/sonarr"), 0);
    ck_assert_int_eq(rotarr_image_is_linuxserver("postgres:16"), 0);
    ck_assert_int_eq(rotarr_image_is_linuxserver("example/linuxserver"), 0);
}
END_TEST

START_TEST(test_audit__sorts_most_severe_service_first)
{
    run("services:\n  a:\n    image: nginx:latest\n"
        "  b:\n    image: containrrr/watchtower:1.7.1\n"
        "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n",
        NULL);
    ck_assert_uint_ge(audit.count, 2);
    ck_assert_str_eq(audit.items[0].service, "b");
    ck_assert_str_eq(audit.items[audit.count - 1].service, "a");
}
END_TEST

START_TEST(test_audit__parses_severity_names)
{
    enum rotarr_audit_severity s = ROTARR_AUDIT_LOW;

    ck_assert_int_eq(rotarr_audit_severity_parse("high", &s), 0);
    ck_assert_int_eq(s, ROTARR_AUDIT_HIGH);
    ck_assert_int_eq(rotarr_audit_severity_parse("medium", &s), 0);
    ck_assert_int_eq(s, ROTARR_AUDIT_MEDIUM);
}
END_TEST

START_TEST(test_audit__rejects_unknown_severity)
{
    enum rotarr_audit_severity s = ROTARR_AUDIT_LOW;

    ck_assert_int_eq(rotarr_audit_severity_parse("critical", &s), -1);
    ck_assert_int_eq(rotarr_audit_severity_parse("HIGH", &s), -1);
    ck_assert_int_eq(s, ROTARR_AUDIT_LOW);
}
END_TEST

START_TEST(test_audit__explains_every_check)
{
    size_t i;

    for (i = 0; i < rotarr_audit_check_count(); i++) {
        ck_assert_ptr_nonnull(rotarr_audit_explain(rotarr_audit_check_id(i)));
    }
    ck_assert_ptr_nonnull(strstr(rotarr_audit_explain("linuxserver"),
                                 "s6"));
}
END_TEST

START_TEST(test_audit__rejects_unknown_explain_id)
{
    ck_assert_ptr_null(rotarr_audit_explain("no-such-check"));
    ck_assert_ptr_null(rotarr_audit_check_id(rotarr_audit_check_count()));
}
END_TEST

static TCase *checks_case(void)
{
    TCase *tc = tcase_create("checks");

    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_audit__flags_literal_password);
    tcase_add_test(tc, test_audit__accepts_referenced_password);
    tcase_add_test(tc, test_audit__flags_default_password_in_env_file);
    tcase_add_test(tc, test_audit__flags_short_password);
    tcase_add_test(tc, test_audit__accepts_strong_password);
    tcase_add_test(tc, test_audit__ignores_settings_and_switches);
    tcase_add_test(tc, test_audit__flags_short_token);
    tcase_add_test(tc, test_audit__flags_secret_shared_by_unrelated);
    tcase_add_test(tc, test_audit__accepts_secret_of_client_and_server);
    tcase_add_test(tc, test_audit__flags_readable_env_file);
    tcase_add_test(tc, test_audit__accepts_private_env_file);
    tcase_add_test(tc, test_audit__flags_overdue_rotation);
    tcase_add_test(tc, test_audit__accepts_recent_rotation);
    tcase_add_test(tc, test_audit__flags_open_redis);
    tcase_add_test(tc, test_audit__accepts_redis_with_requirepass);
    tcase_add_test(tc, test_audit__flags_trust_auth_postgres);
    tcase_add_test(tc, test_audit__flags_docker_socket);
    tcase_add_test(tc, test_audit__accepts_service_without_socket);
    tcase_add_test(tc, test_audit__flags_broad_appdata_mount);
    tcase_add_test(tc, test_audit__accepts_own_appdata_mount);
    tcase_add_test(tc, test_audit__accepts_media_under_data);
    tcase_add_test(tc, test_audit__flags_media_mounted_read_write);
    tcase_add_test(tc, test_audit__accepts_media_mounted_read_only);
    tcase_add_test(tc, test_audit__flags_media_mount_of_api_only_service);
    tcase_add_test(tc, test_audit__accepts_blackhole_of_indexer);
    tcase_add_test(tc, test_audit__flags_hardlink_breaking_layout);
    tcase_add_test(tc, test_audit__accepts_single_data_mount);
    tcase_add_test(tc, test_audit__flags_database_reachable_by_bystander);
    tcase_add_test(tc, test_audit__accepts_database_with_only_clients);
    tcase_add_test(tc, test_audit__accepts_same_variable_in_app_parts);
    tcase_add_test(tc,
                   test_audit__accepts_database_password_under_client_name);
    tcase_add_test(tc, test_audit__flags_database_password_under_other_name);
    tcase_add_test(tc, test_audit__ignores_other_servers_and_clients);
    tcase_add_test(tc, test_audit__flags_bystander_with_pgid);
    tcase_add_test(tc, test_audit__accepts_network_made_for_one_client);
    tcase_add_test(tc, test_audit__flags_named_network_with_two_bystanders);
    tcase_add_test(tc, test_audit__flags_database_network_not_internal);
    tcase_add_test(tc, test_audit__accepts_internal_database_network);
    tcase_add_test(tc, test_audit__flags_database_port_on_all_interfaces);
    tcase_add_test(tc, test_audit__accepts_database_port_on_loopback);
    tcase_add_test(tc, test_audit__flags_open_umask);
    tcase_add_test(tc, test_audit__accepts_group_umask);
    tcase_add_test(tc, test_audit__flags_latest_and_untagged_images);
    tcase_add_test(tc, test_audit__accepts_pinned_images);
    tcase_add_test(tc, test_audit__keeps_privileged_for_vpn_image);
    tcase_add_test(tc, test_audit__drops_privileged_for_other_image);
    tcase_add_test(tc, test_audit__accepts_cap_add_without_privileged);
    tcase_add_test(tc, test_audit__flags_all_nvidia_capabilities);
    tcase_add_test(tc, test_audit__accepts_nvidia_capability_subset);
    tcase_add_test(tc, test_audit__flags_missing_healthcheck);
    tcase_add_test(tc, test_audit__accepts_image_with_own_healthcheck);
    tcase_add_test(tc, test_audit__suggests_no_new_privileges_for_postgres);
    tcase_add_test(tc,
                   test_audit__accepts_postgres_with_no_new_privileges);
    tcase_add_test(tc, test_audit__never_breaks_linuxserver_images);
    tcase_add_test(tc, test_audit__sorts_most_severe_service_first);
    return tc;
}

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *names = tcase_create("names");

    suite_add_tcase(s, checks_case());
    tcase_add_test(names, test_audit__detects_linuxserver_images);
    tcase_add_test(names, test_audit__rejects_other_images_as_linuxserver);
    tcase_add_test(names, test_audit__parses_severity_names);
    tcase_add_test(names, test_audit__rejects_unknown_severity);
    tcase_add_test(names, test_audit__explains_every_check);
    tcase_add_test(names, test_audit__rejects_unknown_explain_id);
    suite_add_tcase(s, names);
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
    runner = srunner_create(audit_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
