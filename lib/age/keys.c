/*
 * Lists of recipients and identities, and the text files that contain
 * them.  A file has one entry a line.  Empty lines and lines whose first
 * byte is '#' are skipped, and one CR before each line break is ignored.
 * Nothing else is trimmed, so a trailing space makes a key invalid, as
 * in age.
 */
#include "rotarr/compat.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "age_private.h"
#include "rotarr/fileio.h"

/* Maximum length of a recipients file line, as in age. */
#define RECIPIENT_LINE_MAX 8192

#define PEM_PREFIX "-----BEGIN "
#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"

static int starts_with(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(text, prefix, n) == 0;
}

static int grow(void **items, size_t *cap, size_t count, size_t size,
                struct rotarr_error *err)
{
    size_t new_cap = *cap == 0 ? 4 : *cap * 2;
    void *grown;

    if (count < *cap) {
        return 0;
    }
    grown = realloc(*items, new_cap * size);
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    *items = grown;
    *cap = new_cap;
    return 0;
}

int age_recipient_push(struct rotarr_age_recipients *recipients,
                       struct age_recipient *rcpt, struct rotarr_error *err)
{
    void *items = recipients->items;

    if (grow(&items, &recipients->cap, recipients->count,
             sizeof(*rcpt), err) < 0) {
        rotarr_secret_free(rcpt->passphrase);
        return -1;
    }
    recipients->items = items;
    recipients->items[recipients->count++] = *rcpt;
    return 0;
}

int age_identity_push(struct rotarr_age_identities *ids,
                      struct age_identity *id, struct rotarr_error *err)
{
    void *items = ids->items;

    if (grow(&items, &ids->cap, ids->count, sizeof(*id), err) < 0) {
        age_identity_release(id);
        return -1;
    }
    ids->items = items;
    ids->items[ids->count++] = *id;
    return 0;
}

void age_identity_release(struct age_identity *id)
{
    rotarr_secret_free(id->secret);
    sodium_memzero(id, sizeof(*id));
}

struct rotarr_age_recipients *rotarr_age_recipients_new(
    struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients = calloc(1, sizeof(*recipients));

    if (recipients == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return recipients;
}

/* Explains why an "age1..." string that is not X25519 is rejected, when
 * the reason is a kind rotarr does not support. */
static void age1_error(const char *text, size_t len, struct rotarr_error *err)
{
    const char *last = NULL;
    size_t i;

    for (i = 0; i < len; i++) {
        last = text[i] == '1' ? text + i : last;
    }
    if (starts_with(text, len, "age1pq1")) {
        rotarr_error_set(err, ROTARR_EUSAGE, "post-quantum recipients "
                         "(age1pq1...) are not supported; use an X25519 "
                         "recipient (age1...)");
    } else if (starts_with(text, len, "age1") && last != NULL &&
               last > text + 4 && last - text < 40) {
        rotarr_error_set(err, ROTARR_EUSAGE, "plugin recipients ('%.*s...') "
                         "are not supported", (int)(last - text + 1), text);
    }
}

static int parse_recipient(const char *text, size_t len,
                           struct age_recipient *rcpt,
                           struct rotarr_error *err)
{
    if (starts_with(text, len, "ssh-ed25519 ")) {
        return age_ssh_parse_recipient(text, len, rcpt, err);
    }
    if (starts_with(text, len, "ssh-rsa ")) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "ssh-rsa recipients "
                                "are not supported; use an ssh-ed25519 key "
                                "or an age recipient");
    }
    if (starts_with(text, len, "ssh-") || starts_with(text, len, "ecdsa-")) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "unsupported SSH key "
                                "type; only ssh-ed25519 keys work with age");
    }
    if (starts_with(text, len, "AGE-")) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "this is an identity "
                                "(a secret key), not a recipient; 'rotarr "
                                "keygen -y' prints its recipient");
    }
    if (age_x25519_parse_recipient(text, len, rcpt, err) == 0) {
        return 0;
    }
    age1_error(text, len, err);
    return -1;
}

int rotarr_age_recipients_add(struct rotarr_age_recipients *recipients,
                              const char *text, struct rotarr_error *err)
{
    struct age_recipient rcpt;

    if (parse_recipient(text, strlen(text), &rcpt, err) < 0) {
        return -1;
    }
    return age_recipient_push(recipients, &rcpt, err);
}

/* Calls fn on each line of a key or recipients file that is not empty or
 * a comment, with its 1-based number. */
static int each_line(const char *text, size_t len,
                     int (*fn)(void *ctx, const char *line, size_t len,
                               size_t lineno, struct rotarr_error *err),
                     void *ctx, struct rotarr_error *err)
{
    const char *p = text, *end = text + len, *lf;
    size_t n, lineno = 0;

    while (p < end) {
        lf = memchr(p, '\n', (size_t)(end - p));
        n = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);
        lineno++;
        /* age also takes a last line that ends in CR without LF. */
        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }
        if (n > 0 && p[0] != '#' && fn(ctx, p, n, lineno, err) < 0) {
            return -1;
        }
        p = lf != NULL ? lf + 1 : end;
    }
    return 0;
}

/* A key or recipient that is invalid in a file is a file error, not a
 * usage error. */
static void file_error_code(int ret, struct rotarr_error *err)
{
    if (ret < 0 && err != NULL && err->code == ROTARR_EUSAGE) {
        err->code = ROTARR_EFILE;
    }
}

struct file_ctx {
    const char *name;
    void *list;
    size_t added;
};

static int add_recipient_line(void *ctx, const char *line, size_t len,
                              size_t lineno, struct rotarr_error *err)
{
    struct file_ctx *file = ctx;
    struct age_recipient rcpt;

    if (len > RECIPIENT_LINE_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s' line %zu: longer "
                                "than %d bytes", file->name, lineno,
                                RECIPIENT_LINE_MAX);
    }
    if (parse_recipient(line, len, &rcpt, err) < 0) {
        return rotarr_error_prefix(err, "'%s' line %zu", file->name, lineno);
    }
    file->added++;
    return age_recipient_push(file->list, &rcpt, err);
}

int rotarr_age_recipients_add_file(struct rotarr_age_recipients *recipients,
                                   const char *path,
                                   struct rotarr_error *err)
{
    struct file_ctx file = { path, recipients, 0 };
    char *text;
    size_t len;
    int ret;

    if (rotarr_file_read(path, ROTARR_READ_UTF8, &text, &len, err) < 0) {
        return -1;
    }
    ret = each_line(text, len, add_recipient_line, &file, err);
    free(text);
    file_error_code(ret, err);
    if (ret == 0 && file.added == 0) {
        ret = rotarr_error_set(err, ROTARR_EFILE, "'%s' contains no "
                               "recipients; add one 'age1...' or "
                               "'ssh-ed25519 ...' line", path);
    }
    return ret;
}

int rotarr_age_recipients_add_passphrase(
    struct rotarr_age_recipients *recipients,
    const struct rotarr_secret *passphrase, int work_factor,
    struct rotarr_error *err)
{
    struct age_recipient rcpt;

    if (rotarr_secret_len(passphrase) == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "empty passphrase");
    }
    if (work_factor < 1 || work_factor > ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "scrypt work factor %d "
                                "is outside 1 to %d", work_factor,
                                ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR);
    }
    memset(&rcpt, 0, sizeof(rcpt));
    rcpt.type = AGE_RCPT_SCRYPT;
    rcpt.work_factor = work_factor;
    rcpt.passphrase = rotarr_secret_new(rotarr_secret_data(passphrase),
                                        rotarr_secret_len(passphrase), err);
    if (rcpt.passphrase == NULL) {
        return -1;
    }
    return age_recipient_push(recipients, &rcpt, err);
}

size_t rotarr_age_recipients_count(
    const struct rotarr_age_recipients *recipients)
{
    return recipients->count;
}

void rotarr_age_recipients_free(struct rotarr_age_recipients *recipients)
{
    size_t i;

    if (recipients == NULL) {
        return;
    }
    for (i = 0; i < recipients->count; i++) {
        rotarr_secret_free(recipients->items[i].passphrase);
    }
    free(recipients->items);
    free(recipients);
}

struct rotarr_age_identities *rotarr_age_identities_new(
    struct rotarr_error *err)
{
    struct rotarr_age_identities *ids = calloc(1, sizeof(*ids));

    if (ids == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return ids;
}

/* Sets err and returns 1 for a line that is a kind of key rotarr does
 * not take as an identity. */
static int rejected_identity(const char *line, size_t len,
                             struct rotarr_error *err)
{
    if (starts_with(line, len, "AGE-SECRET-KEY-PQ-1")) {
        rotarr_error_set(err, ROTARR_EUSAGE, "post-quantum identities "
                         "(AGE-SECRET-KEY-PQ-1...) are not supported");
        return 1;
    }
    if (starts_with(line, len, "AGE-PLUGIN-")) {
        rotarr_error_set(err, ROTARR_EUSAGE, "plugin identities "
                         "(AGE-PLUGIN-...) are not supported");
        return 1;
    }
    if (starts_with(line, len, "age1") || starts_with(line, len, "ssh-")) {
        rotarr_error_set(err, ROTARR_EUSAGE, "this is a recipient, not an "
                         "identity; give the secret key file");
        return 1;
    }
    return 0;
}

static int add_identity_line(void *ctx, const char *line, size_t len,
                             size_t lineno, struct rotarr_error *err)
{
    struct file_ctx *file = ctx;
    struct age_identity id;

    if (rejected_identity(line, len, err) ||
        age_x25519_parse_identity(line, len, &id, err) < 0) {
        return rotarr_error_prefix(err, "'%s' line %zu", file->name, lineno);
    }
    file->added++;
    return age_identity_push(file->list, &id, err);
}

static int add_key_text(struct rotarr_age_identities *ids, const char *text,
                        size_t len, const char *name, int nested,
                        struct rotarr_error *err);

/*
 * Adds the identities of a passphrase-encrypted identity file, as age
 * reads them: the passphrase comes from the prompt.
 */
static int add_encrypted(struct rotarr_age_identities *ids, const char *text,
                         size_t len, const char *name,
                         struct rotarr_error *err)
{
    struct rotarr_age_identities *inner;
    struct rotarr_secret *plain = NULL;
    int ret = -1;

    if (ids->prompt == NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s' is an encrypted "
                                "identity file and no passphrase can be "
                                "asked for; give the unencrypted key file",
                                name);
    }
    inner = rotarr_age_identities_new(err);
    if (inner == NULL) {
        return -1;
    }
    rotarr_age_identities_set_prompt(inner, ids->prompt, ids->prompt_ctx);
    plain = rotarr_age_decrypt_buf(inner, text, len, NULL, err);
    if (plain == NULL) {
        rotarr_error_prefix(err, "cannot decrypt the identity file '%s'",
                            name);
        goto out;
    }
    ret = add_key_text(ids, rotarr_secret_data(plain),
                       rotarr_secret_len(plain), name, 1, err);

out:
    rotarr_secret_free(plain);
    rotarr_age_identities_free(inner);
    return ret;
}

/* nested is set for the content of an encrypted identity file, which
 * must not be encrypted again. */
static int add_key_text(struct rotarr_age_identities *ids, const char *text,
                        size_t len, const char *name, int nested,
                        struct rotarr_error *err)
{
    struct file_ctx file = { name, ids, 0 };
    struct age_identity id;

    if (starts_with(text, len, OPENSSH_BEGIN)) {
        if (age_ssh_parse_identity(text, len, name, &id, err) < 0) {
            return -1;
        }
        return age_identity_push(ids, &id, err);
    }
    if (rotarr_age_is_encrypted(text, len)) {
        if (nested) {
            return rotarr_error_set(err, ROTARR_EUSAGE, "'%s' is encrypted "
                                    "twice", name);
        }
        return add_encrypted(ids, text, len, name, err);
    }
    if (starts_with(text, len, PEM_PREFIX)) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s': unsupported key "
                                "file; age identity files and unencrypted "
                                "OpenSSH ed25519 keys are supported", name);
    }
    if (each_line(text, len, add_identity_line, &file, err) < 0) {
        return -1;
    }
    if (file.added == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s' contains no "
                                "identities (AGE-SECRET-KEY-1... lines)",
                                name);
    }
    return 0;
}

int rotarr_age_identities_add_text(struct rotarr_age_identities *ids,
                                   const char *text, size_t len,
                                   const char *name,
                                   struct rotarr_error *err)
{
    return add_key_text(ids, text, len, name, 0, err);
}

int rotarr_age_identities_add_file(struct rotarr_age_identities *ids,
                                   const char *path,
                                   struct rotarr_error *err)
{
    char *text;
    size_t len;
    int ret;

    /* Not ROTARR_READ_UTF8: an encrypted identity file may be binary. */
    if (rotarr_file_read(path, 0, &text, &len, err) < 0) {
        return -1;
    }
    ret = rotarr_age_identities_add_text(ids, text, len, path, err);
    sodium_memzero(text, len);
    free(text);
    file_error_code(ret, err);
    return ret;
}

/* Stores the path of sops's default key file in path. */
static int default_path(struct rotarr_buf *path, struct rotarr_error *err)
{
    const char *file = getenv("SOPS_AGE_KEY_FILE");
    const char *config = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (file != NULL && file[0] != '\0') {
        return rotarr_buf_puts(path, file, err);
    }
    if (config != NULL && config[0] == '/') {
        return rotarr_buf_printf(path, err, "%s/sops/age/keys.txt", config);
    }
    if (home != NULL && home[0] != '\0') {
        return rotarr_buf_printf(path, err, "%s/.config/sops/age/keys.txt",
                                 home);
    }
    return rotarr_error_set(err, ROTARR_EFILE, "no identity given and HOME "
                            "is not set; give an identity file with '-i' "
                            "or set SOPS_AGE_KEY_FILE");
}

int rotarr_age_identities_add_default(struct rotarr_age_identities *ids,
                                      struct rotarr_error *err)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;
    struct stat st;
    int ret = -1;

    if (default_path(&path, err) < 0) {
        goto out;
    }
    if (stat(path.data, &st) != 0 && errno == ENOENT) {
        rotarr_error_set(err, ROTARR_EFILE, "no identity file at '%s'; "
                         "set SOPS_AGE_KEY_FILE to the key file that "
                         "opens the file ('decrypt' and 'edit' also take "
                         "'-i'), or, to encrypt new files, create a key "
                         "with 'rotarr keygen -o %s'",
                         path.data, path.data);
        ret = 1;
        goto out;
    }
    ret = rotarr_age_identities_add_file(ids, path.data, err);

out:
    rotarr_buf_release(&path);
    return ret;
}

int rotarr_age_identities_add_passphrase(
    struct rotarr_age_identities *ids,
    const struct rotarr_secret *passphrase, struct rotarr_error *err)
{
    struct age_identity id;

    memset(&id, 0, sizeof(id));
    id.type = AGE_ID_PASSPHRASE;
    id.secret = rotarr_secret_new(rotarr_secret_data(passphrase),
                                  rotarr_secret_len(passphrase), err);
    if (id.secret == NULL) {
        return -1;
    }
    return age_identity_push(ids, &id, err);
}

void rotarr_age_identities_set_prompt(struct rotarr_age_identities *ids,
                                      rotarr_age_passphrase_fn prompt,
                                      void *ctx)
{
    ids->prompt = prompt;
    ids->prompt_ctx = ctx;
}

size_t rotarr_age_identities_count(const struct rotarr_age_identities *ids)
{
    return ids->count;
}

int rotarr_age_identities_recipients(const struct rotarr_age_identities *ids,
                                     struct rotarr_buf *out,
                                     struct rotarr_error *err)
{
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    size_t i;
    int ret = 0;

    for (i = 0; i < ids->count && ret == 0; i++) {
        const struct age_identity *id = &ids->items[i];

        if (id->type == AGE_ID_X25519) {
            ret = age_x25519_recipient_string(id->public_key, recipient) < 0
                      ? rotarr_error_set(err, ROTARR_EFILE, "cannot encode "
                                         "a recipient")
                      : rotarr_buf_printf(out, err, "%s\n", recipient);
        } else if (id->type == AGE_ID_SSH_ED25519) {
            ret = age_ssh_recipient_string(id->ssh_blob, out, err) < 0
                      ? -1 : rotarr_buf_puts(out, "\n", err);
        }
    }
    return ret;
}

void rotarr_age_identities_free(struct rotarr_age_identities *ids)
{
    size_t i;

    if (ids == NULL) {
        return;
    }
    for (i = 0; i < ids->count; i++) {
        age_identity_release(&ids->items[i]);
    }
    free(ids->items);
    free(ids);
}
