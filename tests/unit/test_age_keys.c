/*
 * Unit tests of age keys and files: identity and recipient parsing, the
 * default identity file, key generation, encrypting to a stack's
 * recipients file and the output file that appears only when complete.
 * Each test works in a fresh temporary directory; SSH keys are made
 * there with ssh-keygen, so that no private key is kept in the
 * repository.
 */
#include "rotarr/compat.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rotarr/fileio.h"
#include "test_age.h"

static char root[] = "/tmp/rotarr-age-keys.XXXXXX";

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Returns root/name in one of a few rotating buffers. */
static const char *in_root(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    int n = snprintf(path, sizeof(paths[0]), "%s/%s", root, name);

    ck_assert(n > 0 && (size_t)n < sizeof(paths[0]));
    return path;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

/* Makes an SSH key pair at path with ssh-keygen. */
static void ssh_keygen(const char *type, const char *passphrase,
                       const char *path)
{
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execlp("ssh-keygen", "ssh-keygen", "-q", "-t", type, "-N", passphrase,
               "-C", "rotarr test key", "-f", path, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "ssh-keygen failed; the tests need OpenSSH's ssh-keygen");
}

static struct rotarr_age_identities *new_ids(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);

    ck_assert_ptr_nonnull(ids);
    return ids;
}

static struct rotarr_age_recipients *new_recipients(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = rotarr_age_recipients_new(&err);

    ck_assert_ptr_nonnull(r);
    return r;
}

/* Returns a new key file text and its recipient. */
static struct rotarr_secret *new_key(char recipient[ROTARR_AGE_RECIPIENT_SIZE])
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *text = rotarr_age_keygen(time(NULL), recipient,
                                                   &err);

    ck_assert_msg(text != NULL, "%s", err.msg);
    return text;
}

/* Returns the identity line of a key file text, in a static buffer. */
static const char *identity_line(const struct rotarr_secret *text)
{
    static char line[128];
    const char *start = strstr(rotarr_secret_data(text), "AGE-SECRET-KEY-1");

    ck_assert_ptr_nonnull(start);
    ck_assert_uint_eq(strcspn(start, "\n"), 74);
    memcpy(line, start, 74);
    line[74] = '\0';
    return line;
}

static int add_text(struct rotarr_age_identities *ids, const char *text,
                    struct rotarr_error *err)
{
    return rotarr_age_identities_add_text(ids, text, strlen(text), "keys",
                                          err);
}

START_TEST(test_keygen__writes_age_keygen_format)
{
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *text = new_key(recipient);
    const char *data = rotarr_secret_data(text);
    char expected[128];

    ck_assert_int_eq(strncmp(data, "# created: ", 11), 0);
    /* RFC 3339: 2006-01-02T15:04:05 and Z or an offset. */
    ck_assert_int_eq(data[11 + 10], 'T');
    snprintf(expected, sizeof(expected), "\n# public key: %s\n", recipient);
    ck_assert_ptr_nonnull(strstr(data, expected));
    ck_assert_uint_eq(strlen(recipient), 62);
    ck_assert_int_eq(strncmp(recipient, "age1", 4), 0);
    ck_assert_int_eq(data[rotarr_secret_len(text) - 1], '\n');
    identity_line(text);
    rotarr_secret_free(text);
}
END_TEST

START_TEST(test_keygen__makes_a_new_key_each_time)
{
    char a[ROTARR_AGE_RECIPIENT_SIZE], b[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *first = new_key(a), *second = new_key(b);

    ck_assert_str_ne(a, b);
    ck_assert_str_ne(identity_line(first), "");
    rotarr_secret_free(first);
    rotarr_secret_free(second);
}
END_TEST

START_TEST(test_identities__read_keygen_output)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    char recipient[ROTARR_AGE_RECIPIENT_SIZE], expected[80];
    struct rotarr_secret *text = new_key(recipient);

    ck_assert_int_eq(rotarr_age_identities_add_text(
                         ids, rotarr_secret_data(text),
                         rotarr_secret_len(text), "keys", &err), 0);
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 1);
    ck_assert_int_eq(rotarr_age_identities_recipients(ids, &lines, &err), 0);
    snprintf(expected, sizeof(expected), "%s\n", recipient);
    ck_assert_str_eq(lines.data, expected);
    rotarr_buf_release(&lines);
    rotarr_secret_free(text);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_identities__read_several_keys_crlf_and_comments)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    char a[ROTARR_AGE_RECIPIENT_SIZE], b[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *first = new_key(a), *second = new_key(b);
    char text[512];

    /* CRLF line ends, a comment, an empty line, no final line break. */
    snprintf(text, sizeof(text), "# keys\r\n%s\r\n\r\n#x\n%s",
             identity_line(first), identity_line(second));
    ck_assert_int_eq(add_text(ids, text, &err), 0);
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 2);
    rotarr_secret_free(first);
    rotarr_secret_free(second);
    rotarr_age_identities_free(ids);
}
END_TEST

/* Each line is a key that age 1.1.1 rejects too. */
START_TEST(test_identities__reject_invalid_lines)
{
    static const char *suffixes[] = { " ", "\t", "x" };
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char recipient[ROTARR_AGE_RECIPIENT_SIZE], text[256], lower[80];
    struct rotarr_secret *key = new_key(recipient);
    const char *line = identity_line(key);
    struct rotarr_age_identities *ids;
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        ids = new_ids();
        snprintf(text, sizeof(text), "%s%s\n", line, suffixes[i]);
        ck_assert_int_lt(add_text(ids, text, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "'keys' line 1"));
        rotarr_age_identities_free(ids);
    }
    /* An indented comment is not a comment. */
    ids = new_ids();
    snprintf(text, sizeof(text), "%s\n  # note\n", line);
    ck_assert_int_lt(add_text(ids, text, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
    rotarr_age_identities_free(ids);
    /* age accepts identities in upper case only. */
    for (i = 0; line[i] != '\0'; i++) {
        lower[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32
                                                           : line[i]);
    }
    lower[i] = '\0';
    ids = new_ids();
    ck_assert_int_lt(add_text(ids, lower, &err), 0);
    rotarr_age_identities_free(ids);
    rotarr_secret_free(key);
}
END_TEST

START_TEST(test_identities__name_unsupported_kinds)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "AGE-SECRET-KEY-PQ-1QQQQ\n", "post-quantum" },
        { "AGE-PLUGIN-YUBIKEY-1QQQQ\n", "plugin" },
        { "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n",
          "recipient, not an identity" },
        { "# only a comment\n", "contains no identities" },
        { "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n", "unsupported key file" },
        { "age-encryption.org/v1\n-> scrypt x 18\n", "no passphrase can be "
          "asked for" },
    };
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ids = new_ids();
        ck_assert_int_lt(add_text(ids, cases[i].text, &err), 0);
        ck_assert_msg(strstr(err.msg, cases[i].message) != NULL,
                      "case %zu: %s", i, err.msg);
        rotarr_age_identities_free(ids);
    }
}
END_TEST

static char key_passphrase[] = "key file passphrase";

static struct rotarr_secret *key_prompt(void *ctx, struct rotarr_error *err)
{
    return rotarr_secret_new(ctx, strlen(ctx), err);
}

/* An identity file encrypted with a passphrase, as age reads it. */
START_TEST(test_identities__read_passphrase_encrypted_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    struct rotarr_age_recipients *r = new_recipients();
    struct rotarr_secret *pass = rotarr_secret_new(key_passphrase,
                                                   strlen(key_passphrase),
                                                   &err);
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);
    struct rotarr_buf encrypted = ROTARR_BUF_INIT;
    static char wrong[] = "wrong";

    ck_assert_int_eq(rotarr_age_recipients_add_passphrase(r, pass, 10, &err),
                     0);
    test_encrypt(r, rotarr_secret_data(key), rotarr_secret_len(key),
                 ROTARR_AGE_ARMOR, &encrypted);
    rotarr_age_identities_set_prompt(ids, key_prompt, wrong);
    ck_assert_int_lt(add_text(ids, encrypted.data, &err), 0);
    ck_assert_msg(strstr(err.msg, "incorrect passphrase") != NULL, "%s",
                  err.msg);
    rotarr_age_identities_set_prompt(ids, key_prompt, key_passphrase);
    ck_assert_int_eq(add_text(ids, encrypted.data, &err), 0);
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 1);
    rotarr_buf_release(&encrypted);
    rotarr_secret_free(key);
    rotarr_secret_free(pass);
    rotarr_age_recipients_free(r);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_identities__read_openssh_ed25519_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    char *pub;
    size_t len;

    ssh_keygen("ed25519", "", in_root("id"));
    ck_assert_int_eq(rotarr_age_identities_add_file(ids, in_root("id"),
                                                    &err), 0);
    ck_assert_int_eq(rotarr_age_identities_recipients(ids, &lines, &err), 0);
    ck_assert_int_eq(rotarr_file_read(in_root("id.pub"), 0, &pub, &len,
                                      &err), 0);
    /* The .pub line is the recipient followed by the comment. */
    ck_assert_int_eq(strncmp(pub, lines.data, lines.len - 1), 0);
    ck_assert_int_eq(pub[lines.len - 1], ' ');
    free(pub);
    rotarr_buf_release(&lines);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_identities__reject_other_ssh_keys)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();

    ssh_keygen("ed25519", "test passphrase", in_root("locked"));
    ck_assert_int_lt(rotarr_age_identities_add_file(ids, in_root("locked"),
                                                    &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "passphrase-protected"));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ssh_keygen("ecdsa", "", in_root("ecdsa"));
    ck_assert_int_lt(rotarr_age_identities_add_file(ids, in_root("ecdsa"),
                                                    &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "only ssh-ed25519"));
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 0);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_identities__default_reads_sops_age_key_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);

    write_text(in_root("keys.txt"), rotarr_secret_data(key));
    ck_assert_int_eq(setenv("SOPS_AGE_KEY_FILE", in_root("keys.txt"), 1), 0);
    ck_assert_int_eq(rotarr_age_identities_add_default(ids, &err), 0);
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 1);
    rotarr_secret_free(key);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_identities__default_falls_back_to_home)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);

    unsetenv("SOPS_AGE_KEY_FILE");
    unsetenv("XDG_CONFIG_HOME");
    ck_assert_int_eq(setenv("HOME", root, 1), 0);
    /* Missing: 1, and a message with the path to put the key at. */
    ck_assert_int_eq(rotarr_age_identities_add_default(ids, &err), 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "/.config/sops/age/keys.txt"));
    ck_assert_int_eq(mkdir(in_root(".config"), 0700), 0);
    ck_assert_int_eq(mkdir(in_root(".config/sops"), 0700), 0);
    ck_assert_int_eq(mkdir(in_root(".config/sops/age"), 0700), 0);
    write_text(in_root(".config/sops/age/keys.txt"), rotarr_secret_data(key));
    ck_assert_int_eq(rotarr_age_identities_add_default(ids, &err), 0);
    ck_assert_uint_eq(rotarr_age_identities_count(ids), 1);
    rotarr_secret_free(key);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_recipients__accept_x25519_and_ssh)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);
    char *pub;
    size_t len;

    ck_assert_int_eq(rotarr_age_recipients_add(r, recipient, &err), 0);
    ssh_keygen("ed25519", "", in_root("id"));
    ck_assert_int_eq(rotarr_file_read(in_root("id.pub"), 0, &pub, &len,
                                      &err), 0);
    pub[strcspn(pub, "\n")] = '\0';
    ck_assert_int_eq(rotarr_age_recipients_add(r, pub, &err), 0);
    ck_assert_uint_eq(rotarr_age_recipients_count(r), 2);
    free(pub);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__reject_other_kinds)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "ssh-rsa AAAAB3NzaC1yc2E", "ssh-rsa recipients" },
        { "ecdsa-sha2-nistp256 AAAA", "unsupported SSH key type" },
        { "AGE-SECRET-KEY-1QQQQ", "identity (a secret key)" },
        { "age1pq1qqqqqqqqqqqqqqqqqq", "post-quantum" },
        { "age1yubikey1qqqqqqqqqqqqqqq", "plugin recipients ('age1yubikey1" },
        { "age1qqqq", "invalid age recipient" },
        { "ssh-ed25519 AAAA", "invalid ssh-ed25519" },
    };
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_lt(rotarr_age_recipients_add(r, cases[i].text, &err),
                         0);
        ck_assert_msg(strstr(err.msg, cases[i].message) != NULL,
                      "case %zu: %s", i, err.msg);
        ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    }
    ck_assert_uint_eq(rotarr_age_recipients_count(r), 0);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__reject_upper_case)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);
    size_t i;

    for (i = 0; recipient[i] != '\0'; i++) {
        if (recipient[i] >= 'a' && recipient[i] <= 'z') {
            recipient[i] = (char)(recipient[i] - 32);
        }
    }
    ck_assert_int_lt(rotarr_age_recipients_add(r, recipient, &err), 0);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__read_file_with_comments)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char a[ROTARR_AGE_RECIPIENT_SIZE], b[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *first = new_key(a), *second = new_key(b);
    char text[256];

    snprintf(text, sizeof(text), "# team\n%s\r\n\n# ops\n%s", a, b);
    write_text(in_root("recipients"), text);
    ck_assert_int_eq(rotarr_age_recipients_add_file(r, in_root("recipients"),
                                                    &err), 0);
    ck_assert_uint_eq(rotarr_age_recipients_count(r), 2);
    rotarr_secret_free(first);
    rotarr_secret_free(second);
    rotarr_age_recipients_free(r);
}
END_TEST

/* A last line that ends in CR with no LF after it, as age takes it. */
START_TEST(test_recipients__read_last_line_ending_in_cr)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char a[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(a);
    char text[256];

    snprintf(text, sizeof(text), "%s\r", a);
    write_text(in_root("recipients"), text);
    ck_assert_msg(rotarr_age_recipients_add_file(r, in_root("recipients"),
                                                 &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(rotarr_age_recipients_count(r), 1);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

/* Twin: a CR inside the line still makes it invalid. */
START_TEST(test_recipients__reject_cr_inside_line)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char a[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(a);
    char text[256];

    snprintf(text, sizeof(text), "%.20s\r%s\r", a, a + 20);
    write_text(in_root("recipients"), text);
    ck_assert_int_lt(rotarr_age_recipients_add_file(r, in_root("recipients"),
                                                    &err), 0);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__reject_file_without_recipients)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();

    write_text(in_root("recipients"), "# nobody yet\n\n");
    ck_assert_int_lt(rotarr_age_recipients_add_file(r, in_root("recipients"),
                                                    &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "contains no recipients"));
    write_text(in_root("recipients"), "# one bad line\nage1bad\n");
    ck_assert_int_lt(rotarr_age_recipients_add_file(r, in_root("recipients"),
                                                    &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__reject_passphrase_with_others)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    struct rotarr_secret *pass = rotarr_secret_new("pass", 4, &err);
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *key = new_key(recipient);
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ck_assert_int_eq(rotarr_age_recipients_add_passphrase(r, pass, 10, &err),
                     0);
    ck_assert_int_eq(rotarr_age_recipients_add(r, recipient, &err), 0);
    ck_assert_int_lt(rotarr_age_encrypt_buf(r, "x", 1, 0, &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot be combined"));
    ck_assert_uint_eq(out.len, 0);
    rotarr_buf_release(&out);
    rotarr_secret_free(pass);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_recipients__reject_empty_list_and_bad_work_factor)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    struct rotarr_secret *pass = rotarr_secret_new("pass", 4, &err);
    struct rotarr_secret *empty = rotarr_secret_new("", 0, &err);
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ck_assert_int_lt(rotarr_age_encrypt_buf(r, "x", 1, 0, &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "no recipients"));
    ck_assert_int_lt(rotarr_age_recipients_add_passphrase(r, pass, 23, &err),
                     0);
    ck_assert_int_lt(rotarr_age_recipients_add_passphrase(r, pass, 0, &err),
                     0);
    ck_assert_int_lt(rotarr_age_recipients_add_passphrase(r, empty, 10,
                                                          &err), 0);
    ck_assert_uint_eq(rotarr_age_recipients_count(r), 0);
    rotarr_buf_release(&out);
    rotarr_secret_free(pass);
    rotarr_secret_free(empty);
    rotarr_age_recipients_free(r);
}
END_TEST

/* The functions that encrypted stacks call: a round trip through a file
 * with the recipients in a recipients file. */
START_TEST(test_files__round_trip_through_recipients_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE], line[80];
    struct rotarr_secret *key = new_key(recipient), *plain = NULL;
    struct stat st;

    snprintf(line, sizeof(line), "%s\n", recipient);
    write_text(in_root("recipients"), line);
    ck_assert_int_eq(add_text(ids, rotarr_secret_data(key), &err), 0);
    ck_assert_int_eq(rotarr_age_encrypt_buf_to_file(
                         in_root(".env.age"), in_root("recipients"),
                         "A=1\n", 4, &err), 0);
    ck_assert_int_eq(stat(in_root(".env.age"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(rotarr_age_decrypt_file_to_buf(in_root(".env.age"), ids,
                                                    &plain, &err), 0);
    ck_assert_uint_eq(rotarr_secret_len(plain), 4);
    ck_assert_int_eq(memcmp(rotarr_secret_data(plain), "A=1\n", 4), 0);
    rotarr_secret_free(plain);
    rotarr_secret_free(key);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_files__replace_keeps_armor_and_mode)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = new_recipients();
    char recipient[ROTARR_AGE_RECIPIENT_SIZE], line[80];
    struct rotarr_secret *key = new_key(recipient);
    struct rotarr_buf armored = ROTARR_BUF_INIT;
    char *bytes;
    size_t len;
    struct stat st;

    snprintf(line, sizeof(line), "%s\n", recipient);
    write_text(in_root("recipients"), line);
    ck_assert_int_eq(rotarr_age_recipients_add(r, recipient, &err), 0);
    test_encrypt(r, "A=1\n", 4, ROTARR_AGE_ARMOR, &armored);
    write_text(in_root(".env.age"), armored.data);
    ck_assert_int_eq(chmod(in_root(".env.age"), 0640), 0);
    ck_assert_int_eq(rotarr_age_encrypt_buf_to_file(
                         in_root(".env.age"), in_root("recipients"),
                         "A=2\n", 4, &err), 0);
    ck_assert_int_eq(rotarr_file_read(in_root(".env.age"), 0, &bytes, &len,
                                      &err), 0);
    ck_assert_int_eq(strncmp(bytes, "-----BEGIN AGE ENCRYPTED FILE-----\n",
                             35), 0);
    ck_assert_str_ne(bytes, armored.data);
    ck_assert_int_eq(stat(in_root(".env.age"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0640);
    free(bytes);
    rotarr_buf_release(&armored);
    rotarr_secret_free(key);
    rotarr_age_recipients_free(r);
}
END_TEST

START_TEST(test_files__failed_encryption_leaves_file_as_it_was)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes;
    size_t len;

    write_text(in_root(".env.age"), "old bytes");
    write_text(in_root("recipients"), "age1notarecipient\n");
    ck_assert_int_lt(rotarr_age_encrypt_buf_to_file(
                         in_root(".env.age"), in_root("recipients"),
                         "A=2\n", 4, &err), 0);
    ck_assert_int_eq(rotarr_file_read(in_root(".env.age"), 0, &bytes, &len,
                                      &err), 0);
    ck_assert_str_eq(bytes, "old bytes");
    free(bytes);
}
END_TEST

START_TEST(test_files__decrypt_failure_names_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = new_ids();
    struct rotarr_secret *plain = NULL;

    write_text(in_root(".env.age"), "A=1\n");
    ck_assert_int_lt(rotarr_age_decrypt_file_to_buf(in_root(".env.age"), ids,
                                                    &plain, &err), 0);
    ck_assert_ptr_null(plain);
    ck_assert_int_eq(err.code, ROTARR_EDECRYPT);
    ck_assert_ptr_nonnull(strstr(err.msg, ".env.age"));
    ck_assert_ptr_nonnull(strstr(err.msg, "not an age file"));
    ck_assert_int_lt(rotarr_age_decrypt_file_to_buf(in_root("missing"), ids,
                                                    &plain, &err), 0);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_files__detect_encrypted_content)
{
    ck_assert_int_eq(rotarr_age_is_encrypted("age-encryption.org/v1\n-> ",
                                             25), 1);
    ck_assert_int_eq(rotarr_age_is_encrypted(
                         "\n  -----BEGIN AGE ENCRYPTED FILE-----\n", 38), 1);
    ck_assert_int_eq(rotarr_age_is_encrypted("DB_PASSWORD=x\n", 14), 0);
    ck_assert_int_eq(rotarr_age_is_encrypted("age-encryption.org/v2\n", 22),
                     0);
    ck_assert_int_eq(rotarr_age_is_encrypted("", 0), 0);
}
END_TEST

START_TEST(test_outfile__appears_only_on_commit)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_outfile *file;
    struct stat st;

    write_text(in_root("out"), "old");
    file = rotarr_age_outfile_open(in_root("out"), &err);
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(write(rotarr_age_outfile_fd(file), "new", 3), 3);
    ck_assert_int_eq(stat(in_root("out"), &st), 0);
    ck_assert_int_eq(st.st_size, 3);
    ck_assert_int_eq(rotarr_age_outfile_commit(file, &err), 0);
    ck_assert_int_eq(stat(in_root("out"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    file = rotarr_age_outfile_open(in_root("out"), &err);
    ck_assert_int_eq(write(rotarr_age_outfile_fd(file), "partial", 7), 7);
    rotarr_age_outfile_abort(file);
    ck_assert_int_eq(stat(in_root("out"), &st), 0);
    ck_assert_int_eq(st.st_size, 3);
}
END_TEST

START_TEST(test_outfile__abort_leaves_no_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_outfile *file;
    struct stat st;

    file = rotarr_age_outfile_open(in_root("new"), &err);
    ck_assert_ptr_nonnull(file);
    rotarr_age_outfile_abort(file);
    ck_assert_int_lt(stat(in_root("new"), &st), 0);
    ck_assert_int_eq(rmdir(root), 0); /* nothing else was left either */
    ck_assert_int_eq(mkdir(root, 0700), 0);
    ck_assert_ptr_null(rotarr_age_outfile_open(root, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "is a directory"));
}
END_TEST

/* A pipe or device is written in place: renaming over it would put a
 * regular file where the device was. */
START_TEST(test_outfile__writes_fifo_in_place)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_outfile *file;
    struct stat st;
    char got[4];
    int reader;

    ck_assert_int_eq(mkfifo(in_root("fifo"), 0600), 0);
    /* Read and write, so that neither open waits for the other side. */
    reader = open(in_root("fifo"), O_RDWR | O_NONBLOCK);
    ck_assert_int_ge(reader, 0);
    file = rotarr_age_outfile_open(in_root("fifo"), &err);
    ck_assert_msg(file != NULL, "%s", err.msg);
    ck_assert_int_eq(write(rotarr_age_outfile_fd(file), "abc", 3), 3);
    ck_assert_int_eq(rotarr_age_outfile_commit(file, &err), 0);
    ck_assert_int_eq(read(reader, got, sizeof(got)), 3);
    ck_assert_int_eq(memcmp(got, "abc", 3), 0);
    ck_assert_int_eq(lstat(in_root("fifo"), &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    close(reader);
}
END_TEST

Suite *age_keys_suite(void)
{
    Suite *s = suite_create("age_keys");
    TCase *keygen = tcase_create("keygen");
    TCase *identities = tcase_create("identities");
    TCase *recipients = tcase_create("recipients");
    TCase *files = tcase_create("files");

    tcase_add_test(keygen, test_keygen__writes_age_keygen_format);
    tcase_add_test(keygen, test_keygen__makes_a_new_key_each_time);
    suite_add_tcase(s, keygen);

    tcase_add_checked_fixture(identities, setup, teardown);
    tcase_add_test(identities, test_identities__read_keygen_output);
    tcase_add_test(identities,
                   test_identities__read_several_keys_crlf_and_comments);
    tcase_add_test(identities, test_identities__reject_invalid_lines);
    tcase_add_test(identities, test_identities__name_unsupported_kinds);
    tcase_add_test(identities,
                   test_identities__read_passphrase_encrypted_file);
    tcase_add_test(identities, test_identities__read_openssh_ed25519_key);
    tcase_add_test(identities, test_identities__reject_other_ssh_keys);
    tcase_add_test(identities,
                   test_identities__default_reads_sops_age_key_file);
    tcase_add_test(identities, test_identities__default_falls_back_to_home);
    suite_add_tcase(s, identities);

    tcase_add_checked_fixture(recipients, setup, teardown);
    tcase_add_test(recipients, test_recipients__accept_x25519_and_ssh);
    tcase_add_test(recipients, test_recipients__read_last_line_ending_in_cr);
    tcase_add_test(recipients, test_recipients__reject_cr_inside_line);
    tcase_add_test(recipients, test_recipients__reject_other_kinds);
    tcase_add_test(recipients, test_recipients__reject_upper_case);
    tcase_add_test(recipients, test_recipients__read_file_with_comments);
    tcase_add_test(recipients,
                   test_recipients__reject_file_without_recipients);
    tcase_add_test(recipients, test_recipients__reject_passphrase_with_others);
    tcase_add_test(recipients,
                   test_recipients__reject_empty_list_and_bad_work_factor);
    suite_add_tcase(s, recipients);

    tcase_add_checked_fixture(files, setup, teardown);
    tcase_add_test(files, test_files__round_trip_through_recipients_file);
    tcase_add_test(files, test_files__replace_keeps_armor_and_mode);
    tcase_add_test(files, test_files__failed_encryption_leaves_file_as_it_was);
    tcase_add_test(files, test_files__decrypt_failure_names_file);
    tcase_add_test(files, test_files__detect_encrypted_content);
    tcase_add_test(files, test_outfile__appears_only_on_commit);
    tcase_add_test(files, test_outfile__abort_leaves_no_file);
    tcase_add_test(files, test_outfile__writes_fifo_in_place);
    suite_add_tcase(s, files);
    return s;
}
