/*
 * Unit tests of the guard's scanner (rotarr/guard.h): file names, the
 * placeholder rules, encrypted envelopes and the multi-pattern search,
 * on blobs held in memory.  The git side is tested by
 * tests/integration/test_hook.sh.
 */
#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rotarr/dotenv.h"
#include "rotarr/guard.h"
#include "rotarr/secret.h"

/* For the SHA-1 that turns working-tree files into object ids. */
#include "../../lib/guard/guard_private.h"

#define SECRET "Xk9vQ2mP7rLs4TnW8yZb3cJd"
#define SPECIAL_SECRET "pa/ss:w@rd%long"
/* A made-up age identity, split so that this file holds no key. */
#define AGE_KEY \
    "AGE-SECRET-KEY-" \
    "1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ4FQ2K"

/* A binary age file: the version line, one stanza, the MAC line and a
 * payload.  The bytes are made up: only the shape counts. */
static const char age_file[] =
    "age-encryption.org/v1\n"
    "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
    "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
    "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n"
    "\xee\x9a\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f";

static struct rotarr_guard *guard;
static struct rotarr_guard_findings found;
static struct rotarr_error err;

static void setup(void)
{
    memset(&err, 0, sizeof(err));
    guard = rotarr_guard_new(&err);
    ck_assert_ptr_nonnull(guard);
    ck_assert_int_eq(rotarr_guard_add_secret(guard, SECRET, strlen(SECRET),
                                             "the value of 'DB_PASSWORD' "
                                             "in '.env'",
                                             &err),
                     0);
    memset(&found, 0, sizeof(found));
}

static void teardown(void)
{
    rotarr_guard_findings_release(&found);
    rotarr_guard_free(guard);
}

/* Scans text as the blob at path. */
static void scan(const char *path, const char *text)
{
    ck_assert_int_eq(rotarr_guard_check_blob(guard, path, text, strlen(text),
                                             &found, &err),
                     0);
}

/* Scans text fed one byte at a time. */
static void scan_bytewise(const char *path, const char *text)
{
    struct rotarr_guard_scan *s;
    size_t i;

    s = rotarr_guard_scan_begin(guard, path, NULL, &found, &err);
    ck_assert_ptr_nonnull(s);
    for (i = 0; text[i] != '\0'; i++) {
        ck_assert_int_eq(rotarr_guard_scan_feed(s, text + i, 1, &err), 0);
    }
    ck_assert_int_eq(rotarr_guard_scan_finish(s, &err), 0);
}

/* ---- file names ---- */

START_TEST(test_name__dotenv_is_env)
{
    ck_assert_int_eq(rotarr_guard_classify_name(".env"),
                     ROTARR_GUARD_NAME_ENV);
    ck_assert_int_eq(rotarr_guard_classify_name("stack/.env.prod"),
                     ROTARR_GUARD_NAME_ENV);
    ck_assert_int_eq(rotarr_guard_classify_name("app.env"),
                     ROTARR_GUARD_NAME_ENV);
    ck_assert_int_eq(rotarr_guard_classify_name("deploy/.ENV"),
                     ROTARR_GUARD_NAME_ENV);
}
END_TEST

START_TEST(test_name__other_names_are_not_env)
{
    ck_assert_int_eq(rotarr_guard_classify_name(".envrc"),
                     ROTARR_GUARD_NAME_OTHER);
    ck_assert_int_eq(rotarr_guard_classify_name("env"),
                     ROTARR_GUARD_NAME_OTHER);
    ck_assert_int_eq(rotarr_guard_classify_name("environment.yml"),
                     ROTARR_GUARD_NAME_OTHER);
    ck_assert_int_eq(rotarr_guard_classify_name(".env/notes.txt"),
                     ROTARR_GUARD_NAME_OTHER);
    ck_assert_int_eq(rotarr_guard_classify_name("app.env.bak"),
                     ROTARR_GUARD_NAME_OTHER);
}
END_TEST

START_TEST(test_name__example_suffix_is_example)
{
    ck_assert_int_eq(rotarr_guard_classify_name(".env.example"),
                     ROTARR_GUARD_NAME_EXAMPLE);
    ck_assert_int_eq(rotarr_guard_classify_name(".env.local.sample"),
                     ROTARR_GUARD_NAME_EXAMPLE);
    ck_assert_int_eq(rotarr_guard_classify_name("example.env"),
                     ROTARR_GUARD_NAME_EXAMPLE);
    ck_assert_int_eq(rotarr_guard_classify_name("app.env.dist"),
                     ROTARR_GUARD_NAME_EXAMPLE);
    ck_assert_int_eq(rotarr_guard_classify_name("x/.env.template"),
                     ROTARR_GUARD_NAME_EXAMPLE);
}
END_TEST

START_TEST(test_name__other_suffix_is_not_example)
{
    ck_assert_int_eq(rotarr_guard_classify_name(".env.examples-old"),
                     ROTARR_GUARD_NAME_ENV);
    ck_assert_int_eq(rotarr_guard_classify_name(".env.production"),
                     ROTARR_GUARD_NAME_ENV);
}
END_TEST

/* ---- placeholders and secrets ---- */

START_TEST(test_placeholder__common_placeholders)
{
    static const char *const values[] = {
        "", "short", "changeme", "CHANGE_ME_PLEASE", "<your password>",
        "your-db-password", "xxxxxxxxxxxx", "********", "example-secret",
        "${POSTGRES_PASSWORD}", "password", "12345678",
    };
    size_t i;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        ck_assert_msg(rotarr_guard_is_placeholder(values[i],
                                                  strlen(values[i])),
                      "'%s' is not a placeholder", values[i]);
    }
}
END_TEST

START_TEST(test_placeholder__real_values_are_not)
{
    static const char *const values[] = {
        SECRET, "hunter2hunter2", "correct-horse-battery", "paperless",
    };
    size_t i;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        ck_assert_msg(!rotarr_guard_is_placeholder(values[i],
                                                   strlen(values[i])),
                      "'%s' is a placeholder", values[i]);
    }
}
END_TEST

START_TEST(test_secret__credential_key_value_is_secret)
{
    ck_assert(rotarr_guard_is_credential_key("POSTGRES_PASSWORD"));
    ck_assert(rotarr_guard_is_credential_key("PAPERLESS_DBPASS"));
    ck_assert(rotarr_guard_is_credential_key("outline_secret_key"));
    ck_assert(rotarr_guard_is_secret_value("DB_PASSWORD", "hunter2hunter2",
                                           14));
}
END_TEST

START_TEST(test_secret__plain_setting_is_not_secret)
{
    ck_assert(!rotarr_guard_is_credential_key("POSTGRES_USER"));
    ck_assert(!rotarr_guard_is_credential_key("TZ"));
    ck_assert(!rotarr_guard_is_secret_value("POSTGRES_USER", "paperless",
                                            9));
    ck_assert(!rotarr_guard_is_secret_value("IMAGE", "postgres:16.4-bookworm",
                                            22));
    ck_assert(!rotarr_guard_is_secret_value("DB_PASSWORD", "changeme", 8));
}
END_TEST

START_TEST(test_secret__generated_value_is_secret)
{
    ck_assert(rotarr_guard_is_secret_value("UMAMI_HASH",
                                           "f177333001f27503955c2748206cc1c9",
                                           32));
}
END_TEST

START_TEST(test_secret__long_word_value_is_not_generated)
{
    ck_assert(!rotarr_guard_is_secret_value("DOMAIN",
                                            "cloud.example-family.org", 24));
    ck_assert(!rotarr_guard_is_secret_value("NAME",
                                            "paperless_consumer_worker", 25));
}
END_TEST

/* ---- envelopes ---- */

START_TEST(test_envelope__age_binary)
{
    ck_assert_int_eq(rotarr_guard_envelope_of(age_file, sizeof(age_file) - 1),
                     ROTARR_GUARD_AGE);
}
END_TEST

START_TEST(test_envelope__age_header_alone_is_plain)
{
    static const char fake[] = "age-encryption.org/v1\nDB_PASSWORD=" SECRET
                               "\n";

    ck_assert_int_eq(rotarr_guard_envelope_of(fake, sizeof(fake) - 1),
                     ROTARR_GUARD_PLAIN);
}
END_TEST

START_TEST(test_envelope__age_armor)
{
    static const char armor[] = "\n-----BEGIN AGE ENCRYPTED FILE-----\n"
                                "YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n"
                                "-----END AGE ENCRYPTED FILE-----\n";

    ck_assert_int_eq(rotarr_guard_envelope_of(armor, sizeof(armor) - 1),
                     ROTARR_GUARD_AGE_ARMOR);
}
END_TEST

START_TEST(test_envelope__armor_in_text_is_plain)
{
    static const char text[] = "A=1\n-----BEGIN AGE ENCRYPTED FILE-----\n";

    ck_assert_int_eq(rotarr_guard_envelope_of(text, sizeof(text) - 1),
                     ROTARR_GUARD_PLAIN);
}
END_TEST

START_TEST(test_envelope__sops_dotenv)
{
    static const char sops[] =
        "DB_PASSWORD=ENC[AES256_GCM,data:q8c=,iv:a,tag:b,type:str]\n"
        "sops_version=3.8.1\n"
        "sops_mac=ENC[AES256_GCM,data:abc,iv:d,tag:e,type:str]\n";

    ck_assert_int_eq(rotarr_guard_envelope_of(sops, sizeof(sops) - 1),
                     ROTARR_GUARD_SOPS);
}
END_TEST

START_TEST(test_envelope__sops_without_mac_is_plain)
{
    static const char sops[] = "DB_PASSWORD=" SECRET "\n"
                               "sops_version=3.8.1\n";

    ck_assert_int_eq(rotarr_guard_envelope_of(sops, sizeof(sops) - 1),
                     ROTARR_GUARD_PLAIN);
}
END_TEST

/* ---- copies of secrets ---- */

START_TEST(test_scan__finds_copy_with_line)
{
    scan("compose.yaml", "services:\n  db:\n    environment:\n"
                         "      POSTGRES_PASSWORD: " SECRET "\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_str_eq(found.items[0].path, "compose.yaml");
    ck_assert_uint_eq(found.items[0].line, 4);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_SECRET_COPY);
    ck_assert_str_eq(found.items[0].what,
                     "copy of the value of 'DB_PASSWORD' in '.env'");
}
END_TEST

START_TEST(test_scan__other_value_passes)
{
    scan("compose.yaml", "      POSTGRES_PASSWORD: ${DB_PASSWORD}\n"
                         "      OTHER: Xk9vQ2mP7rLs4TnW8yZb3cJe\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_scan__finding_never_holds_secret)
{
    scan("notes.txt", "password is " SECRET "\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_ptr_null(strstr(found.items[0].what, SECRET));
    ck_assert_ptr_null(strstr(found.items[0].path, SECRET));
}
END_TEST

START_TEST(test_scan__finds_percent_encoded_copy)
{
    ck_assert_int_eq(rotarr_guard_add_secret(guard, SPECIAL_SECRET,
                                             strlen(SPECIAL_SECRET),
                                             "the value of 'X' in '.env'",
                                             &err),
                     0);
    scan("compose.yaml", "url: postgres://app:pa%2Fss%3Aw%40rd%25long@db/x\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_str_eq(found.items[0].what,
                     "percent-encoded copy of the value of 'X' in '.env'");
}
END_TEST

START_TEST(test_scan__finds_lower_case_hex_copy)
{
    ck_assert_int_eq(rotarr_guard_add_secret(guard, SPECIAL_SECRET,
                                             strlen(SPECIAL_SECRET),
                                             "the value of 'X' in '.env'",
                                             &err),
                     0);
    scan("a.txt", "pa%2fss%3aw%40rd%25long\n");
    ck_assert_uint_eq(found.count, 1);
}
END_TEST

START_TEST(test_scan__partial_encoding_passes)
{
    ck_assert_int_eq(rotarr_guard_add_secret(guard, SPECIAL_SECRET,
                                             strlen(SPECIAL_SECRET),
                                             "the value of 'X' in '.env'",
                                             &err),
                     0);
    scan("a.txt", "pa%2Fss%3Aw%40rd%25lonG\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_scan__placeholder_secret_is_not_looked_for)
{
    ck_assert_int_eq(rotarr_guard_add_secret(guard, "changeme", 8,
                                             "the value of 'X' in '.env'",
                                             &err),
                     0);
    scan("README.md", "set POSTGRES_PASSWORD=changeme first\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_scan__copy_across_pieces)
{
    scan_bytewise("notes.txt", "one\ntwo\nthree " SECRET " four\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_uint_eq(found.items[0].line, 3);
}
END_TEST

/* Every piece size gives the findings of the whole blob. */
START_TEST(test_scan__any_piece_size_same_findings)
{
    static const char text[] = "a\n" SECRET "\nb " SECRET "\n"
                               "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"
                               "k=" AGE_KEY "\n" SECRET;
    struct rotarr_guard_scan *s;
    size_t piece, at, take, len = sizeof(text) - 1;

    for (piece = 1; piece <= len; piece += 3) {
        rotarr_guard_findings_release(&found);
        s = rotarr_guard_scan_begin(guard, "x", NULL, &found, &err);
        ck_assert_ptr_nonnull(s);
        for (at = 0; at < len; at += take) {
            take = len - at < piece ? len - at : piece;
            ck_assert_int_eq(rotarr_guard_scan_feed(s, text + at, take, &err),
                             0);
        }
        ck_assert_int_eq(rotarr_guard_scan_finish(s, &err), 0);
        ck_assert_uint_eq(found.count, 5);
        ck_assert_uint_eq(found.items[0].line, 2);
        ck_assert_uint_eq(found.items[1].line, 3);
        ck_assert_uint_eq(found.items[2].line, 4);
        ck_assert_uint_eq(found.items[3].line, 6);
        ck_assert_uint_eq(found.items[4].line, 7);
    }
}
END_TEST

START_TEST(test_scan__one_finding_per_line_and_secret)
{
    scan("notes.txt", SECRET " " SECRET "\n\n" SECRET "\n");
    ck_assert_uint_eq(found.count, 2);
    ck_assert_uint_eq(found.items[0].line, 1);
    ck_assert_uint_eq(found.items[1].line, 3);
}
END_TEST

START_TEST(test_scan__add_after_scan_rejected)
{
    scan("a.txt", "nothing\n");
    ck_assert_int_eq(rotarr_guard_add_secret(guard, "another-long-secret",
                                             19, "x", &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
}
END_TEST

START_TEST(test_scan__findings_capped)
{
    char *text = malloc((sizeof(SECRET) + 1) * (ROTARR_GUARD_MAX_FINDINGS + 5)
                        + 1);
    size_t i, len = 0;

    ck_assert_ptr_nonnull(text);
    for (i = 0; i < ROTARR_GUARD_MAX_FINDINGS + 5; i++) {
        memcpy(text + len, SECRET "\n", sizeof(SECRET));
        len += sizeof(SECRET);
    }
    text[len] = '\0';
    scan("dump.sql", text);
    free(text);
    ck_assert_uint_eq(found.count, ROTARR_GUARD_MAX_FINDINGS);
    ck_assert_uint_eq(found.dropped, 5);
}
END_TEST

/* ---- private keys ---- */

START_TEST(test_key__age_secret_key)
{
    scan("key.txt", "# created: 2024-01-01\n" AGE_KEY "\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_uint_eq(found.items[0].line, 2);
    ck_assert_str_eq(found.items[0].what, "age secret key");
}
END_TEST

START_TEST(test_key__age_key_mention_passes)
{
    scan("README.md", "An identity looks like AGE-SECRET-KEY-1... and\n"
                      "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGP is cut short.\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_key__age_key_across_pieces)
{
    scan_bytewise("key.txt", "x\n" AGE_KEY);
    ck_assert_uint_eq(found.count, 1);
    ck_assert_uint_eq(found.items[0].line, 2);
}
END_TEST

START_TEST(test_key__openssh_private_key)
{
    scan("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                       "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n"
                       "-----END OPENSSH PRIVATE KEY-----\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_str_eq(found.items[0].what, "OpenSSH private key");
}
END_TEST

START_TEST(test_key__marker_inside_line_passes)
{
    scan("guard.c", "static const char m[] = "
                    "\"-----BEGIN OPENSSH PRIVATE KEY-----\";\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_key__pem_key_with_crlf)
{
    scan("tls/key.pem", "\r\n-----BEGIN PRIVATE KEY-----\r\nMIIE\r\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_uint_eq(found.items[0].line, 2);
    ck_assert_str_eq(found.items[0].what, "PEM private key");
}
END_TEST

START_TEST(test_key__public_key_passes)
{
    scan("tls/cert.pem", "-----BEGIN CERTIFICATE-----\nMIIE\n"
                         "-----BEGIN PUBLIC KEY-----\nMIIB\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

/* ---- env files ---- */

START_TEST(test_env__plaintext_env_rejected)
{
    scan("stack/.env", "TZ=UTC\nDB_PASSWORD=" SECRET "\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_PLAINTEXT_ENV);
    ck_assert_uint_eq(found.items[0].line, 1);
}
END_TEST

START_TEST(test_env__age_env_passes)
{
    ck_assert_int_eq(rotarr_guard_check_blob(guard, ".env.age", age_file,
                                             sizeof(age_file) - 1, &found,
                                             &err),
                     0);
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_env__armored_env_passes)
{
    scan(".env", "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n"
                 "-----END AGE ENCRYPTED FILE-----\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_env__rejected_env_keeps_private_key)
{
    scan(".env", "DB_PASSWORD=" SECRET "\nKEY=" AGE_KEY "\n");
    ck_assert_uint_eq(found.count, 2);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_PLAINTEXT_ENV);
    ck_assert_int_eq(found.items[1].kind, ROTARR_GUARD_PRIVATE_KEY);
}
END_TEST

START_TEST(test_env__sops_env_passes)
{
    scan(".env", "DB_PASSWORD=ENC[AES256_GCM,data:q8c=,iv:a,tag:b,type:str]\n"
                 "TZ=Europe/Berlin\n"
                 "sops_version=3.8.1\n"
                 "sops_mac=ENC[AES256_GCM,data:abc,iv:d,tag:e,type:str]\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_env__sops_plaintext_secret_rejected)
{
    scan(".env", "DB_PASSWORD=ENC[AES256_GCM,data:q8c=,iv:a,tag:b,type:str]\n"
                 "API_TOKEN=tok-8f3kd93ldk3\n"
                 "sops_version=3.8.1\n"
                 "sops_mac=ENC[AES256_GCM,data:abc,iv:d,tag:e,type:str]\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_NOT_PLACEHOLDER);
    ck_assert_uint_eq(found.items[0].line, 2);
}
END_TEST

START_TEST(test_env__example_with_placeholders_passes)
{
    scan(".env.example", "# copy to .env\n"
                         "POSTGRES_USER=paperless\n"
                         "POSTGRES_PASSWORD=changeme\n"
                         "export SECRET_KEY=\"<generate one>\"\n"
                         "API_TOKEN=\n"
                         "DATABASE_URL=postgres://app:"
                         "${POSTGRES_PASSWORD}@db/x\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

START_TEST(test_env__example_with_real_secret_rejected)
{
    scan(".env.example", "POSTGRES_USER=paperless\n"
                         "POSTGRES_PASSWORD='hunter2hunter2'\n"
                         "DATABASE_URL=postgres://app:s3cr3t-pw@db/x\n");
    ck_assert_uint_eq(found.count, 2);
    ck_assert_uint_eq(found.items[0].line, 2);
    ck_assert_uint_eq(found.items[1].line, 3);
}
END_TEST

START_TEST(test_env__example_copy_reported_once)
{
    scan(".env.example", "DB_PASSWORD=" SECRET "\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_SECRET_COPY);
}
END_TEST

START_TEST(test_env__env_file_path_rejected)
{
    ck_assert_int_eq(rotarr_guard_add_env_path(guard, "config/app.conf",
                                               &err),
                     0);
    scan("config/app.conf", "A=1\n");
    ck_assert_uint_eq(found.count, 1);
    ck_assert_int_eq(found.items[0].kind, ROTARR_GUARD_PLAINTEXT_ENV);
}
END_TEST

START_TEST(test_env__same_name_elsewhere_passes)
{
    ck_assert_int_eq(rotarr_guard_add_env_path(guard, "config/app.conf",
                                               &err),
                     0);
    scan("other/app.conf", "A=1\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

/* ---- learning a local env file ---- */

static void learn(const char *text)
{
    struct rotarr_dotenv *env;

    env = rotarr_dotenv_parse(".env", text, strlen(text), NULL, NULL, NULL,
                              &err);
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(rotarr_guard_learn_env(guard, env, ".env", &err), 0);
    rotarr_dotenv_free(env);
}

START_TEST(test_learn__secret_values_and_url_passwords)
{
    learn("PAPERLESS_DBPASS=hunter2hunter2\n"
          "DATABASE_URL=postgres://app:p%40ss-word-9@db/app\n");
    scan("compose.yaml", "a: hunter2hunter2\nb: p@ss-word-9\n"
                         "c: redis://:p%40ss-word-9@cache\n");
    ck_assert_uint_eq(found.count, 3);
    ck_assert_str_eq(found.items[0].what,
                     "copy of the value of 'PAPERLESS_DBPASS' in '.env'");
    ck_assert_str_eq(found.items[1].what,
                     "copy of the password of a URL in 'DATABASE_URL' in "
                     "'.env'");
}
END_TEST

START_TEST(test_learn__plain_settings_not_learned)
{
    learn("POSTGRES_USER=paperless\nTZ=Europe/Berlin\n"
          "POSTGRES_PASSWORD=changeme\n");
    scan("compose.yaml", "image: paperless\nTZ: Europe/Berlin\n"
                         "pw: changeme\n");
    ck_assert_uint_eq(found.count, 0);
}
END_TEST

/* ---- the hook script ---- */

START_TEST(test_hook__script_quotes_stack_dir)
{
    char *script = rotarr_hook_script("it's here");

    ck_assert_ptr_nonnull(script);
    ck_assert_ptr_nonnull(strstr(script, "stack_dir='it'\\''s here'\n"));
    ck_assert_ptr_nonnull(strstr(script, "rotarr-pre-commit-guard"));
    ck_assert_ptr_null(strstr(script, "@ROTARR_STACK_DIR@"));
    free(script);
}
END_TEST

START_TEST(test_hook__script_fails_closed)
{
    char *script = rotarr_hook_script(".");

    ck_assert_ptr_nonnull(script);
    ck_assert_ptr_nonnull(strstr(script, "command -v rotarr"));
    ck_assert_ptr_nonnull(strstr(script, "exit 1"));
    ck_assert_ptr_nonnull(strstr(script, "exec rotarr -C \"$stack_dir\" "
                                         "hook run"));
    free(script);
}
END_TEST

/* ---- object ids ---- */

static void sha1_hex(const char *text, size_t repeat, char hex[41])
{
    static const char digits[] = "0123456789abcdef";
    struct guard_sha1 ctx;
    unsigned char digest[20];
    size_t i;

    guard_sha1_init(&ctx);
    for (i = 0; i < repeat; i++) {
        guard_sha1_update(&ctx, text, strlen(text));
    }
    guard_sha1_final(&ctx, digest);
    for (i = 0; i < 20; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[40] = '\0';
}

/* Known answers from FIPS 180-2, appendix A, and the id git gives the
 * empty blob ("blob 0" and a NUL). */
START_TEST(test_sha1__known_answers)
{
    char hex[41];

    sha1_hex("abc", 1, hex);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
             hex);
    ck_assert_str_eq(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    sha1_hex("a", 1000000, hex);
    ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

START_TEST(test_sha1__portable_code_known_answers)
{
    char hex[41];

    guard_sha1_portable_only = 1;
    sha1_hex("abc", 1, hex);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("a", 1000000, hex);
    guard_sha1_portable_only = 0;
    ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

START_TEST(test_sha1__one_bit_changes_digest)
{
    char hex[41];

    sha1_hex("abd", 1, hex);
    ck_assert_str_ne(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

static Suite *guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *names = tcase_create("names");
    TCase *values = tcase_create("values");
    TCase *scans = tcase_create("scan");

    tcase_add_test(names, test_name__dotenv_is_env);
    tcase_add_test(names, test_name__other_names_are_not_env);
    tcase_add_test(names, test_name__example_suffix_is_example);
    tcase_add_test(names, test_name__other_suffix_is_not_example);
    suite_add_tcase(s, names);

    tcase_add_test(values, test_placeholder__common_placeholders);
    tcase_add_test(values, test_placeholder__real_values_are_not);
    tcase_add_test(values, test_secret__credential_key_value_is_secret);
    tcase_add_test(values, test_secret__plain_setting_is_not_secret);
    tcase_add_test(values, test_secret__generated_value_is_secret);
    tcase_add_test(values, test_secret__long_word_value_is_not_generated);
    tcase_add_test(values, test_envelope__age_binary);
    tcase_add_test(values, test_envelope__age_header_alone_is_plain);
    tcase_add_test(values, test_envelope__age_armor);
    tcase_add_test(values, test_envelope__armor_in_text_is_plain);
    tcase_add_test(values, test_envelope__sops_dotenv);
    tcase_add_test(values, test_envelope__sops_without_mac_is_plain);
    tcase_add_test(values, test_hook__script_quotes_stack_dir);
    tcase_add_test(values, test_hook__script_fails_closed);
    tcase_add_test(values, test_sha1__known_answers);
    tcase_add_test(values, test_sha1__portable_code_known_answers);
    tcase_add_test(values, test_sha1__one_bit_changes_digest);
    suite_add_tcase(s, values);

    tcase_add_checked_fixture(scans, setup, teardown);
    tcase_add_test(scans, test_scan__finds_copy_with_line);
    tcase_add_test(scans, test_scan__other_value_passes);
    tcase_add_test(scans, test_scan__finding_never_holds_secret);
    tcase_add_test(scans, test_scan__finds_percent_encoded_copy);
    tcase_add_test(scans, test_scan__finds_lower_case_hex_copy);
    tcase_add_test(scans, test_scan__partial_encoding_passes);
    tcase_add_test(scans, test_scan__placeholder_secret_is_not_looked_for);
    tcase_add_test(scans, test_scan__copy_across_pieces);
    tcase_add_test(scans, test_scan__any_piece_size_same_findings);
    tcase_add_test(scans, test_scan__one_finding_per_line_and_secret);
    tcase_add_test(scans, test_scan__add_after_scan_rejected);
    tcase_add_test(scans, test_scan__findings_capped);
    tcase_add_test(scans, test_key__age_secret_key);
    tcase_add_test(scans, test_key__age_key_mention_passes);
    tcase_add_test(scans, test_key__age_key_across_pieces);
    tcase_add_test(scans, test_key__openssh_private_key);
    tcase_add_test(scans, test_key__marker_inside_line_passes);
    tcase_add_test(scans, test_key__pem_key_with_crlf);
    tcase_add_test(scans, test_key__public_key_passes);
    tcase_add_test(scans, test_env__plaintext_env_rejected);
    tcase_add_test(scans, test_env__age_env_passes);
    tcase_add_test(scans, test_env__armored_env_passes);
    tcase_add_test(scans, test_env__rejected_env_keeps_private_key);
    tcase_add_test(scans, test_env__sops_env_passes);
    tcase_add_test(scans, test_env__sops_plaintext_secret_rejected);
    tcase_add_test(scans, test_env__example_with_placeholders_passes);
    tcase_add_test(scans, test_env__example_with_real_secret_rejected);
    tcase_add_test(scans, test_env__example_copy_reported_once);
    tcase_add_test(scans, test_env__env_file_path_rejected);
    tcase_add_test(scans, test_env__same_name_elsewhere_passes);
    tcase_add_test(scans, test_learn__secret_values_and_url_passwords);
    tcase_add_test(scans, test_learn__plain_settings_not_learned);
    suite_add_tcase(s, scans);
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
    runner = srunner_create(guard_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
