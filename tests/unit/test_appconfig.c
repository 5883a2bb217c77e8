/*
 * Unit tests of the apps' settings files (rotarr/appconfig.h), the
 * Servarr view of a stack (rotarr/servarr.h) and the API key rotation
 * plan (rotarr/arrkey.h).  Stacks are written to a temporary directory
 * by each test.
 */
#include "rotarr/compat.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/appconfig.h"
#include "rotarr/arrkey.h"
#include "rotarr/secret.h"
#include "rotarr/servarr.h"
#include "rotarr/stack.h"

#define CONFIG_XML                                                          \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                          \
    "<!-- written by Radarr -->\n"                                          \
    "<Config>\n"                                                            \
    "  <Port>7878</Port>\n"                                                 \
    "  <ApiKey>0123456789abcdef0123456789abcdef</ApiKey>\n"                 \
    "  <PostgresUser>radarr</PostgresUser>\n"                               \
    "  <PostgresPassword>p&amp;ss&lt;w&quot;rd-long-enough"                 \
    "</PostgresPassword>\n"                                                 \
    "  <PostgresHost>db</PostgresHost>\n"                                   \
    "  <UrlBase></UrlBase>\n"                                               \
    "  <SslCertPath />\n"                                                   \
    "</Config>\n"

static char stack_dir[256];

static struct rotarr_appconfig *parse_xml(const char *text,
                                          struct rotarr_error *err)
{
    return rotarr_appconfig_parse("config.xml", ROTARR_APPCONFIG_XML, text,
                                  strlen(text), err);
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", stack_dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void make_dir(const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", stack_dir, name);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup_stack(void)
{
    snprintf(stack_dir, sizeof(stack_dir), "%s/rotarr-appconfig.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(stack_dir));
}

static void teardown_stack(void)
{
    nftw(stack_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A stack with Radarr (short bind syntax, ${VAR} source) and Sonarr
 * (long syntax, key from the override variable) on Postgres. */
static void write_servarr_stack(void)
{
    write_file("compose.yaml",
               "services:\n"
               "  db:\n"
               "    image: postgres:16\n"
               "  radarr:\n"
               "    image: lscr.io/linuxserver/radarr:5\n"
               "    volumes:\n"
               "      - ${APPDATA:-./appdata}/radarr:/config\n"
               "  sonarr:\n"
               "    image: ghcr.io/hotio/sonarr:release\n"
               "    environment:\n"
               "      SONARR__AUTH__APIKEY: ${SONARR_KEY}\n"
               "    volumes:\n"
               "      - type: bind\n"
               "        source: ./appdata/sonarr\n"
               "        target: /config\n");
    write_file(".env", "SONARR_KEY=fedcba9876543210fedcba9876543210\n");
    make_dir("appdata");
    make_dir("appdata/radarr");
    make_dir("appdata/sonarr");
    write_file("appdata/radarr/config.xml", CONFIG_XML);
    write_file("appdata/sonarr/config.xml",
               "<Config>\n  <ApiKey>11112222333344445555666677778888"
               "</ApiKey>\n</Config>\n");
}

static struct rotarr_stack *load_stack(struct rotarr_error *err)
{
    struct rotarr_stack_options opts;

    memset(&opts, 0, sizeof(opts));
    opts.dir = stack_dir;
    return rotarr_stack_load(&opts, err);
}

START_TEST(test_appconfig__xml_reads_elements_below_root)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_appconfig *config = parse_xml(CONFIG_XML, &err);
    const struct rotarr_appconfig_setting *key;

    ck_assert_msg(config != NULL, "%s", err.msg);
    ck_assert_str_eq(rotarr_appconfig_root(config), "Config");
    key = rotarr_appconfig_find(config, "ApiKey");
    ck_assert_ptr_nonnull(key);
    ck_assert_str_eq(key->value, "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(key->line, 5);
    ck_assert_uint_eq(key->column, 11);
    ck_assert_int_eq(memcmp(CONFIG_XML + key->start, key->value, 32), 0);
    ck_assert_uint_eq(key->end - key->start, 32);
    rotarr_appconfig_free(config);
}
END_TEST

START_TEST(test_appconfig__xml_rejects_mismatched_end_tag)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<Config>\n  <ApiKey>x</Apikey>\n"
                                 "</Config>\n",
                                 &err));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "config.xml:2:"));
    ck_assert_ptr_nonnull(strstr(err.msg, "expected '</ApiKey>'"));
}
END_TEST

START_TEST(test_appconfig__xml_decodes_references)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_appconfig *config = parse_xml(CONFIG_XML, &err);
    const struct rotarr_appconfig_setting *pw;

    ck_assert_msg(config != NULL, "%s", err.msg);
    pw = rotarr_appconfig_find(config, "postgrespassword");
    ck_assert_ptr_nonnull(pw);
    ck_assert_str_eq(pw->value, "p&ss<w\"rd-long-enough");
    ck_assert_int_eq(strncmp(CONFIG_XML + pw->start, "p&amp;ss", 8), 0);
    rotarr_appconfig_free(config);
}
END_TEST

START_TEST(test_appconfig__xml_rejects_bare_ampersand)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<Config><A>a&b</A></Config>", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "character reference"));
}
END_TEST

START_TEST(test_appconfig__xml_decodes_numeric_references)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_appconfig *config;

    config = parse_xml("<Config><A>&#38;&#x3c;&#233;</A></Config>", &err);
    ck_assert_msg(config != NULL, "%s", err.msg);
    ck_assert_str_eq(rotarr_appconfig_find(config, "A")->value,
                     "&<\xc3\xa9");
    rotarr_appconfig_free(config);
}
END_TEST

START_TEST(test_appconfig__xml_rejects_invalid_numeric_reference)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<Config><A>&#xd800;</A></Config>", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid character reference"));
}
END_TEST

START_TEST(test_appconfig__xml_rejects_doctype)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<!DOCTYPE x [<!ENTITY a \"b\">]>\n"
                                 "<Config/>",
                                 &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "DOCTYPE"));
}
END_TEST

START_TEST(test_appconfig__xml_rejects_text_after_root)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<Config></Config>\n<Config>", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "after the root element"));
}
END_TEST

START_TEST(test_appconfig__xml_rejects_unclosed_root)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(parse_xml("<Config>\n  <Port>1</Port>\n", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "missing '</Config>'"));
}
END_TEST

START_TEST(test_appconfig__xml_skips_empty_elements)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_appconfig *config = parse_xml(CONFIG_XML, &err);

    ck_assert_msg(config != NULL, "%s", err.msg);
    ck_assert_ptr_null(rotarr_appconfig_find(config, "SslCertPath"));
    ck_assert_uint_eq(rotarr_appconfig_find(config, "UrlBase")->value_len,
                      0);
    rotarr_appconfig_free(config);
}
END_TEST

START_TEST(test_appconfig__escape_round_trips)
{
    static const char value[] = "a&b<c>d\"e'f";
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf doc = ROTARR_BUF_INIT;
    struct rotarr_appconfig *config;

    ck_assert_int_eq(rotarr_buf_puts(&doc, "<Config><P>", &err), 0);
    ck_assert_int_eq(rotarr_xml_escape(value, strlen(value), &doc, &err),
                     0);
    ck_assert_int_eq(rotarr_buf_puts(&doc, "</P></Config>", &err), 0);
    ck_assert_ptr_nonnull(strstr(doc.data, "a&amp;b&lt;c&gt;d&quot;e"));
    config = parse_xml(doc.data, &err);
    ck_assert_msg(config != NULL, "%s", err.msg);
    ck_assert_str_eq(rotarr_appconfig_find(config, "P")->value, value);
    rotarr_appconfig_free(config);
    rotarr_buf_release(&doc);
}
END_TEST

START_TEST(test_appconfig__escape_rejects_control_character)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ck_assert_int_eq(rotarr_xml_escape("a\x01" "b", 3, &out, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_appconfig__json_keys_by_path)
{
    static const char json[] =
        "{\n  \"radarr\": [\n    {\"apiKey\": \"abc\", \"port\": 7878}\n"
        "  ],\n  \"main\": {\"apiKey\": \"k\\\"ey\"}\n}\n";
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_appconfig *config;
    const struct rotarr_appconfig_setting *key;

    config = rotarr_appconfig_parse("settings.json", ROTARR_APPCONFIG_JSON,
                                    json, strlen(json), &err);
    ck_assert_msg(config != NULL, "%s", err.msg);
    key = rotarr_appconfig_find(config, "radarr.0.apiKey");
    ck_assert_ptr_nonnull(key);
    ck_assert_str_eq(key->value, "abc");
    ck_assert_uint_eq(key->line, 3);
    ck_assert_ptr_nonnull(key->node);
    ck_assert_str_eq(rotarr_appconfig_find(config, "main.apiKey")->value,
                     "k\"ey");
    rotarr_appconfig_free(config);
}
END_TEST

START_TEST(test_appconfig__json_rejects_invalid_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(rotarr_appconfig_parse("settings.json",
                                              ROTARR_APPCONFIG_JSON,
                                              "{\"a\": [1,", 9, &err));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "settings.json"));
}
END_TEST

START_TEST(test_appconfig__stack_follows_bind_mounts)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack;
    size_t apps = 0;
    size_t i;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    for (i = 0; i < rotarr_stack_file_count(stack); i++) {
        if (rotarr_stack_file(stack, i)->kind ==
            ROTARR_STACK_FILE_APPCONFIG) {
            apps++;
        }
    }
    ck_assert_uint_eq(apps, 2);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__stack_rejects_broken_config)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_servarr_stack();
    write_file("appdata/radarr/config.xml", "<Config>\n<ApiKey>x\n");
    ck_assert_ptr_null(load_stack(&err));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "appdata/radarr/config.xml:"));
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid XML"));
}
END_TEST

START_TEST(test_appconfig__edit_escapes_and_keeps_other_bytes)
{
    static const char new_pw[] = "N3w&<\"pass-word";
    static const char expected[] =
        "<PostgresPassword>N3w&amp;&lt;&quot;pass-word</PostgresPassword>\n"
        "  <PostgresHost>db</PostgresHost>\n";
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_occurrences occs = ROTARR_OCCURRENCES_INIT;
    struct rotarr_file_edits edits = ROTARR_FILE_EDITS_INIT;
    struct rotarr_secret *old_pw;
    struct rotarr_secret *next;
    struct rotarr_stack *stack;
    const char *after;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    old_pw = rotarr_secret_new("p&ss<w\"rd-long-enough", 21, &err);
    next = rotarr_secret_new(new_pw, strlen(new_pw), &err);
    ck_assert_int_eq(rotarr_stack_find_occurrences(stack, old_pw, &occs,
                                                   &err), 0);
    ck_assert_uint_eq(occs.count, 1);
    ck_assert_uint_eq(occs.items[0].line, 7);
    ck_assert_uint_eq(occs.items[0].column, 21);
    ck_assert_int_eq(rotarr_stack_plan_edits(stack, &occs, next, &edits,
                                             &err), 0);
    ck_assert_uint_eq(edits.count, 1);
    after = strstr(edits.items[0].bytes.data, "<PostgresPassword>");
    ck_assert_ptr_nonnull(after);
    ck_assert_int_eq(strncmp(after, expected, strlen(expected)), 0);
    ck_assert_int_eq(memcmp(edits.items[0].bytes.data, CONFIG_XML,
                            (size_t)(strstr(CONFIG_XML, "<PostgresPassword>") -
                                     CONFIG_XML)), 0);
    rotarr_file_edits_release(&edits);
    rotarr_occurrences_release(&occs);
    rotarr_secret_free(old_pw);
    rotarr_secret_free(next);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__write_keeps_mode)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_occurrences occs = ROTARR_OCCURRENCES_INIT;
    struct rotarr_file_edits edits = ROTARR_FILE_EDITS_INIT;
    struct rotarr_secret *old_key;
    struct rotarr_secret *next;
    struct rotarr_stack *stack;
    char path[512];
    struct stat st;

    write_servarr_stack();
    snprintf(path, sizeof(path), "%s/appdata/radarr/config.xml", stack_dir);
    ck_assert_int_eq(chmod(path, 0640), 0);
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    old_key = rotarr_secret_new("0123456789abcdef0123456789abcdef", 32, &err);
    next = rotarr_secret_new("ffffffffffffffffffffffffffffffff", 32, &err);
    ck_assert_int_eq(rotarr_stack_find_occurrences(stack, old_key, &occs,
                                                   &err), 0);
    ck_assert_int_eq(rotarr_stack_plan_edits(stack, &occs, next, &edits,
                                             &err), 0);
    ck_assert_int_eq(rotarr_stack_write_edits(stack, &edits, NULL, NULL,
                                              &err), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    rotarr_file_edits_release(&edits);
    rotarr_occurrences_release(&occs);
    rotarr_secret_free(old_key);
    rotarr_secret_free(next);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__unchanged_stack_passes_check)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_stack_check_unchanged(stack, &err), 0);
    ck_assert_int_eq(err.code, ROTARR_OK);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__changed_config_fails_check)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    /* Same length, one byte changed, as an app saving its settings. */
    write_file("appdata/sonarr/config.xml",
               "<Config>\n  <ApiKey>11112222333344445555666677778889"
               "</ApiKey>\n</Config>\n");
    ck_assert_int_eq(rotarr_stack_check_unchanged(stack, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_str_eq(err.msg, "'appdata/sonarr/config.xml' changed after "
                              "rotarr read it, perhaps in another rotarr; "
                              "nothing was written, so run the command "
                              "again");
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__removed_env_fails_check)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack;
    char path[512];

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    snprintf(path, sizeof(path), "%s/.env", stack_dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rotarr_stack_check_unchanged(stack, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_msg(strncmp(err.msg, "cannot read '.env' again before "
                                   "writing it; nothing was written: ",
                          strlen("cannot read '.env' again before "
                                 "writing it; nothing was written: ")) == 0,
                  "%s", err.msg);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__override_variable_wins)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_apps apps = ROTARR_ARR_APPS_INIT;
    struct rotarr_buf key = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arr_apps_find(stack, &apps, &err), 0);
    ck_assert_uint_eq(apps.count, 2);
    ck_assert_str_eq(apps.items[1].name, "sonarr");
    ck_assert_int_eq(rotarr_arr_value(stack, &apps.items[1],
                                      ROTARR_ARR_API_KEY, &key, &origin,
                                      &err),
                     1);
    ck_assert_str_eq(key.data, "fedcba9876543210fedcba9876543210");
    ck_assert_str_eq(origin.variable, "SONARR__AUTH__APIKEY");
    rotarr_buf_release(&key);
    rotarr_arr_apps_release(&apps);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__config_xml_used_without_variable)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_apps apps = ROTARR_ARR_APPS_INIT;
    struct rotarr_buf key = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arr_apps_find(stack, &apps, &err), 0);
    ck_assert_str_eq(apps.items[0].name, "radarr");
    ck_assert_int_eq(rotarr_arr_value(stack, &apps.items[0],
                                      ROTARR_ARR_API_KEY, &key, &origin,
                                      &err),
                     1);
    ck_assert_str_eq(key.data, "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(origin.variable, "");
    ck_assert_uint_eq(origin.line, 5);
    rotarr_buf_release(&key);
    rotarr_arr_apps_release(&apps);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__postgres_roles_by_host)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_roles roles = ROTARR_ARR_ROLES_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arr_postgres_roles(stack, NULL, &roles, &err),
                     0);
    ck_assert_uint_eq(roles.count, 1);
    ck_assert_str_eq(roles.items[0].role, "radarr");
    ck_assert_str_eq(roles.items[0].service, "db");
    ck_assert_str_eq(roles.items[0].main_db, "radarr-main");
    ck_assert_str_eq(rotarr_secret_data(roles.items[0].password),
                     "p&ss<w\"rd-long-enough");
    rotarr_arr_roles_release(&roles);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__postgres_roles_skip_other_services)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_roles roles = ROTARR_ARR_ROLES_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arr_postgres_roles(stack, "radarr", &roles,
                                               &err),
                     0);
    ck_assert_uint_eq(roles.count, 0);
    rotarr_arr_roles_release(&roles);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__arrkey_draws_lowercase_hex)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arrkey_request req = { "radarr", 1 };
    struct rotarr_arrkey_plan plan = ROTARR_ARRKEY_PLAN_INIT;
    struct rotarr_stack *stack;
    const char *key;
    size_t i;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_msg(rotarr_arrkey_plan(stack, &req, &plan, &err) == 0, "%s",
                  err.msg);
    key = rotarr_secret_data(plan.next);
    ck_assert_uint_eq(rotarr_secret_len(plan.next), ROTARR_ARRKEY_LEN);
    for (i = 0; i < ROTARR_ARRKEY_LEN; i++) {
        ck_assert_ptr_nonnull(strchr("0123456789abcdef", key[i]));
    }
    ck_assert_int_eq(rotarr_secret_equal(plan.next, plan.current), 0);
    ck_assert_uint_eq(plan.occurrences.count, 1);
    rotarr_arrkey_plan_release(&plan);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__arrkey_rejects_config_without_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arrkey_request req = { "radarr", 1 };
    struct rotarr_arrkey_plan plan = ROTARR_ARRKEY_PLAN_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    write_file("appdata/radarr/config.xml",
               "<Config>\n  <Port>7878</Port>\n</Config>\n");
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arrkey_plan(stack, &req, &plan, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "has no <ApiKey> element"));
    rotarr_arrkey_plan_release(&plan);
    rotarr_stack_free(stack);
}
END_TEST

START_TEST(test_appconfig__arrkey_rejects_several_apps)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arrkey_request req = { NULL, 1 };
    struct rotarr_arrkey_plan plan = ROTARR_ARRKEY_PLAN_INIT;
    struct rotarr_stack *stack;

    write_servarr_stack();
    stack = load_stack(&err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_arrkey_plan(stack, &req, &plan, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "'radarr', 'sonarr'"));
    rotarr_arrkey_plan_release(&plan);
    rotarr_stack_free(stack);
}
END_TEST

static Suite *appconfig_suite(void)
{
    Suite *s = suite_create("appconfig");
    TCase *xml = tcase_create("xml");
    TCase *json = tcase_create("json");
    TCase *stack = tcase_create("stack");

    tcase_add_test(xml, test_appconfig__xml_reads_elements_below_root);
    tcase_add_test(xml, test_appconfig__xml_rejects_mismatched_end_tag);
    tcase_add_test(xml, test_appconfig__xml_decodes_references);
    tcase_add_test(xml, test_appconfig__xml_rejects_bare_ampersand);
    tcase_add_test(xml, test_appconfig__xml_decodes_numeric_references);
    tcase_add_test(xml,
                   test_appconfig__xml_rejects_invalid_numeric_reference);
    tcase_add_test(xml, test_appconfig__xml_rejects_doctype);
    tcase_add_test(xml, test_appconfig__xml_rejects_text_after_root);
    tcase_add_test(xml, test_appconfig__xml_rejects_unclosed_root);
    tcase_add_test(xml, test_appconfig__xml_skips_empty_elements);
    tcase_add_test(xml, test_appconfig__escape_round_trips);
    tcase_add_test(xml, test_appconfig__escape_rejects_control_character);
    suite_add_tcase(s, xml);

    tcase_add_test(json, test_appconfig__json_keys_by_path);
    tcase_add_test(json, test_appconfig__json_rejects_invalid_file);
    suite_add_tcase(s, json);

    tcase_add_checked_fixture(stack, setup_stack, teardown_stack);
    tcase_add_test(stack, test_appconfig__stack_follows_bind_mounts);
    tcase_add_test(stack, test_appconfig__stack_rejects_broken_config);
    tcase_add_test(stack, test_appconfig__edit_escapes_and_keeps_other_bytes);
    tcase_add_test(stack, test_appconfig__write_keeps_mode);
    tcase_add_test(stack, test_appconfig__unchanged_stack_passes_check);
    tcase_add_test(stack, test_appconfig__changed_config_fails_check);
    tcase_add_test(stack, test_appconfig__removed_env_fails_check);
    tcase_add_test(stack, test_appconfig__override_variable_wins);
    tcase_add_test(stack, test_appconfig__config_xml_used_without_variable);
    tcase_add_test(stack, test_appconfig__postgres_roles_by_host);
    tcase_add_test(stack, test_appconfig__postgres_roles_skip_other_services);
    tcase_add_test(stack, test_appconfig__arrkey_draws_lowercase_hex);
    tcase_add_test(stack, test_appconfig__arrkey_rejects_config_without_key);
    tcase_add_test(stack, test_appconfig__arrkey_rejects_several_apps);
    suite_add_tcase(s, stack);
    return s;
}

int main(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&err) < 0) {
        fprintf(stderr, "test_appconfig: %s\n", err.msg);
        return 1;
    }
    runner = srunner_create(appconfig_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
