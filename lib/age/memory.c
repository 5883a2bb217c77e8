/*
 * Encryption and decryption of whole buffers and files, for encrypted
 * stacks: their env files and journals are small (at most
 * ROTARR_FILE_MAX) and are read and written in one piece.
 */
#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "age_private.h"
#include "rotarr/fileio.h"

struct memory_source {
    const unsigned char *next;
    size_t left;
};

static ssize_t memory_read(void *ctx, void *buf, size_t len,
                           struct rotarr_error *err)
{
    struct memory_source *src = ctx;
    size_t n = len < src->left ? len : src->left;

    (void)err;
    memcpy(buf, src->next, n);
    src->next += n;
    src->left -= n;
    return (ssize_t)n;
}

static int buf_write(void *ctx, const void *bytes, size_t len,
                     struct rotarr_error *err)
{
    return rotarr_buf_append(ctx, bytes, len, err);
}

/* Plaintext into a secret allocated with room for all of it. */
struct secret_sink {
    struct rotarr_secret *secret;
    size_t len;
};

static int secret_write(void *ctx, const void *bytes, size_t len,
                        struct rotarr_error *err)
{
    struct secret_sink *sink = ctx;

    if (len > rotarr_secret_len(sink->secret) - sink->len) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the plaintext is "
                                "larger than the file");
    }
    memcpy(rotarr_secret_data(sink->secret) + sink->len, bytes, len);
    sink->len += len;
    return 0;
}

int rotarr_age_is_encrypted(const void *bytes, size_t len)
{
    const char *text = bytes;
    size_t skip = 0;

    if (len >= strlen(AGE_INTRO "\n") &&
        memcmp(text, AGE_INTRO "\n", strlen(AGE_INTRO "\n")) == 0) {
        return 1;
    }
    while (skip < len && skip < AGE_ARMOR_SPACE_MAX &&
           strchr(" \t\r\n", text[skip]) != NULL && text[skip] != '\0') {
        skip++;
    }
    return len - skip >= strlen(AGE_ARMOR_BEGIN) &&
           memcmp(text + skip, AGE_ARMOR_BEGIN, strlen(AGE_ARMOR_BEGIN)) == 0;
}

int rotarr_age_uses_passphrase(const void *bytes, size_t len)
{
    struct memory_source src_ctx = { bytes, len };
    struct rotarr_age_source src = { memory_read, &src_ctx, NULL };
    struct age_input *in = malloc(sizeof(*in));
    struct age_header header;
    size_t i;
    int ret = -1;

    memset(&header, 0, sizeof(header));
    if (in == NULL) {
        return -1;
    }
    age_input_init(in, &src);
    if (age_input_detect_armor(in, 0, NULL) == 0 &&
        age_header_read(in, &header, NULL) == 0) {
        ret = 0;
        for (i = 0; i < header.count; i++) {
            ret |= strcmp(header.stanzas[i].args[0], "scrypt") == 0;
        }
    }
    age_header_release(&header);
    free(in);
    return ret;
}

int rotarr_age_encrypt_buf(const struct rotarr_age_recipients *recipients,
                           const void *bytes, size_t len, unsigned flags,
                           struct rotarr_buf *out, struct rotarr_error *err)
{
    struct memory_source src_ctx = { bytes, len };
    struct rotarr_age_source src = { memory_read, &src_ctx, NULL };
    struct rotarr_age_sink sink = { buf_write, out };

    return rotarr_age_encrypt(recipients, &src, &sink, flags, err);
}

struct rotarr_secret *rotarr_age_decrypt_buf(
    const struct rotarr_age_identities *ids, const void *bytes, size_t len,
    enum rotarr_age_failure *failure, struct rotarr_error *err)
{
    struct memory_source src_ctx = { bytes, len };
    struct rotarr_age_source src = { memory_read, &src_ctx, NULL };
    struct secret_sink sink_ctx = { NULL, 0 };
    struct rotarr_age_sink sink = { secret_write, &sink_ctx };

    /* The plaintext is never longer than the file. */
    sink_ctx.secret = rotarr_secret_alloc(len, err);
    if (sink_ctx.secret == NULL) {
        if (failure != NULL) {
            *failure = ROTARR_AGE_FAIL_IO;
        }
        return NULL;
    }
    if (rotarr_age_decrypt(ids, &src, &sink, 0, failure, err) < 0) {
        rotarr_secret_free(sink_ctx.secret);
        return NULL;
    }
    rotarr_secret_truncate(sink_ctx.secret, sink_ctx.len);
    return sink_ctx.secret;
}

int rotarr_age_decrypt_file_to_buf(const char *path,
                                   const struct rotarr_age_identities *ids,
                                   struct rotarr_secret **out,
                                   struct rotarr_error *err)
{
    char *bytes;
    size_t len;

    *out = NULL;
    if (rotarr_file_read(path, 0, &bytes, &len, err) < 0) {
        return -1;
    }
    *out = rotarr_age_decrypt_buf(ids, bytes, len, NULL, err);
    free(bytes);
    if (*out == NULL) {
        return rotarr_error_prefix(err, "cannot decrypt '%s'", path);
    }
    return 0;
}

/*
 * Returns 1 when the file at path exists and is armored, 0 when it is
 * binary or missing, or -1 with err set.
 */
static int existing_armor(const char *path, int *exists,
                          struct rotarr_error *err)
{
    char head[AGE_ARMOR_SPACE_MAX + sizeof(AGE_ARMOR_BEGIN)];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *exists = fd >= 0;
    if (fd < 0) {
        return errno == ENOENT ? 0 : rotarr_error_set(err, ROTARR_EFILE,
                                                      "cannot open '%s': %s",
                                                      path, strerror(errno));
    }
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot read '%s': %s",
                                path, strerror(errno));
    }
    return (size_t)n > strlen(AGE_INTRO) &&
           memcmp(head, AGE_INTRO, strlen(AGE_INTRO)) != 0 &&
           rotarr_age_is_encrypted(head, (size_t)n);
}

int rotarr_age_encrypt_buf_to_file(const char *path,
                                   const char *recipients_path,
                                   const void *bytes, size_t len,
                                   struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    int armored, exists, ret = -1;

    recipients = rotarr_age_recipients_new(err);
    if (recipients == NULL ||
        rotarr_age_recipients_add_file(recipients, recipients_path,
                                       err) < 0) {
        goto out;
    }
    armored = existing_armor(path, &exists, err);
    if (armored < 0 ||
        rotarr_age_encrypt_buf(recipients, bytes, len,
                               armored ? ROTARR_AGE_ARMOR : 0, &out,
                               err) < 0) {
        goto out;
    }
    ret = exists ? rotarr_file_replace(NULL, path, out.data, out.len, 0,
                                       NULL, NULL, err)
                 : rotarr_file_create_secret(path, out.data, out.len, err);

out:
    rotarr_buf_release(&out);
    rotarr_age_recipients_free(recipients);
    return ret;
}

struct rotarr_secret *rotarr_age_keyring_decrypt(
    const struct rotarr_age_keyring *keys, const char *name,
    const void *bytes, size_t len, struct rotarr_error *err)
{
    const struct rotarr_age_identities *ids;
    enum rotarr_age_failure failure = ROTARR_AGE_OK;
    struct rotarr_error why = ROTARR_ERROR_INIT;
    struct rotarr_secret *plain;

    if (keys == NULL) {
        rotarr_error_set(err, ROTARR_EDECRYPT, "'%s' is age-encrypted and "
                         "no identity was given to decrypt it", name);
        return NULL;
    }
    ids = keys->get(keys->ctx, &why);
    if (ids == NULL) {
        *err = why;
        rotarr_error_prefix(err, "cannot decrypt '%s'", name);
        return NULL;
    }
    plain = rotarr_age_decrypt_buf(ids, bytes, len, &failure, err);
    if (plain != NULL) {
        return plain;
    }
    if (failure == ROTARR_AGE_FAIL_NO_MATCH &&
        rotarr_age_identities_count(ids) == 0 &&
        rotarr_age_uses_passphrase(bytes, len) == 0) {
        if (why.code != ROTARR_OK) {
            rotarr_error_set(err, ROTARR_EDECRYPT, "%s", why.msg);
        } else {
            rotarr_error_set(err, ROTARR_EDECRYPT, "no identity to decrypt "
                             "with; rotarr reads the keys in the file that "
                             "SOPS_AGE_KEY_FILE names, else in "
                             "~/.config/sops/age/keys.txt");
        }
    }
    rotarr_error_prefix(err, "cannot decrypt '%s'", name);
    return NULL;
}
