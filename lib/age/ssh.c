/*
 * ssh-ed25519 recipients and identities as the age reference
 * implementation reads them: OpenSSH public key lines and unencrypted
 * OpenSSH private key files.  The Ed25519 key is converted to X25519, and
 * the shared secret is tweaked with a key derived from the public key,
 * so that a stanza is bound to that SSH key.
 */
#include "rotarr/compat.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "age_private.h"

#define SSH_LABEL "age-encryption.org/v1/ssh-ed25519"
#define SSH_TYPE "ssh-ed25519"
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----"
#define KEY_MAGIC "openssh-key-v1"

/* A read position in SSH wire data. */
struct wire {
    const unsigned char *p;
    size_t left;
};

static int wire_u32(struct wire *w, uint32_t *value)
{
    if (w->left < 4) {
        return -1;
    }
    *value = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 |
             (uint32_t)w->p[2] << 8 | w->p[3];
    w->p += 4;
    w->left -= 4;
    return 0;
}

static int wire_string(struct wire *w, const unsigned char **s, size_t *len)
{
    uint32_t n;

    if (wire_u32(w, &n) < 0 || n > w->left) {
        return -1;
    }
    *s = w->p;
    *len = n;
    w->p += n;
    w->left -= n;
    return 0;
}

/* Reads a string and checks that it equals text. */
static int wire_expect(struct wire *w, const char *text)
{
    const unsigned char *s;
    size_t len;

    return wire_string(w, &s, &len) == 0 && len == strlen(text) &&
                   memcmp(s, text, len) == 0 ? 0 : -1;
}

static void make_blob(const unsigned char pk[32],
                      unsigned char blob[AGE_SSH_BLOB_SIZE])
{
    static const unsigned char prefix[] = {
        0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
        0, 0, 0, 32,
    };

    memcpy(blob, prefix, sizeof(prefix));
    memcpy(blob + sizeof(prefix), pk, 32);
}

/* The stanza tag of a key: base64 of the first 4 bytes of SHA-256 of its
 * wire form. */
static void tag_text(const unsigned char blob[AGE_SSH_BLOB_SIZE],
                     char text[AGE_SSH_TAG_TEXT])
{
    unsigned char hash[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(hash, blob, AGE_SSH_BLOB_SIZE);
    rotarr_age_b64_encode(hash, AGE_SSH_TAG_SIZE, 0, text);
}

int age_ssh_parse_recipient(const char *text, size_t len,
                            struct age_recipient *rcpt,
                            struct rotarr_error *err)
{
    const char *b64 = text + strlen(SSH_TYPE " ");
    const char *end;
    unsigned char blob[AGE_SSH_BLOB_SIZE + 1];
    size_t n;

    memset(rcpt, 0, sizeof(*rcpt));
    end = memchr(b64, ' ', len - (size_t)(b64 - text));
    end = end != NULL ? end : text + len;
    if (rotarr_age_b64_decode(b64, (size_t)(end - b64), 1, blob,
                              sizeof(blob), &n) < 0 ||
        n != AGE_SSH_BLOB_SIZE) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "invalid ssh-ed25519 "
                                "public key");
    }
    make_blob(blob + AGE_SSH_BLOB_SIZE - 32, rcpt->ssh_blob);
    if (memcmp(blob, rcpt->ssh_blob, AGE_SSH_BLOB_SIZE) != 0 ||
        crypto_sign_ed25519_pk_to_curve25519(rcpt->public_key,
                                             blob + AGE_SSH_BLOB_SIZE - 32)
            != 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "invalid ssh-ed25519 "
                                "public key");
    }
    rcpt->type = AGE_RCPT_SSH_ED25519;
    return 0;
}

int age_ssh_recipient_string(const unsigned char blob[AGE_SSH_BLOB_SIZE],
                             struct rotarr_buf *out, struct rotarr_error *err)
{
    char text[80];

    rotarr_age_b64_encode(blob, AGE_SSH_BLOB_SIZE, 1, text);
    return rotarr_buf_printf(out, err, SSH_TYPE " %s", text);
}

/* Decodes the base64 between the PEM lines into secret memory. */
static struct rotarr_secret *pem_decode(const char *text, size_t len,
                                        const char *name,
                                        struct rotarr_error *err)
{
    struct rotarr_secret *b64 = NULL, *bytes = NULL;
    const char *p = text + strlen(PEM_BEGIN);
    const char *end = p;
    size_t n = 0, got;
    char *dst;

    while (end + strlen(PEM_END) <= text + len &&
           memcmp(end, PEM_END, strlen(PEM_END)) != 0) {
        end++;
    }
    if (end + strlen(PEM_END) > text + len) {
        rotarr_error_set(err, ROTARR_EUSAGE, "'%s': invalid OpenSSH "
                         "private key: no END line", name);
        return NULL;
    }
    b64 = rotarr_secret_alloc((size_t)(end - p), err);
    if (b64 == NULL) {
        return NULL;
    }
    dst = rotarr_secret_data(b64);
    for (; p < end; p++) {
        if (*p != '\n' && *p != '\r') {
            dst[n++] = *p;
        }
    }
    bytes = rotarr_secret_alloc(n, err);
    if (bytes != NULL &&
        rotarr_age_b64_decode(dst, n, 1, (unsigned char *)
                              rotarr_secret_data(bytes), n, &got) < 0) {
        rotarr_secret_free(bytes);
        bytes = NULL;
        rotarr_error_set(err, ROTARR_EUSAGE, "'%s': invalid OpenSSH "
                         "private key: bad base64", name);
    }
    if (bytes != NULL) {
        rotarr_secret_truncate(bytes, got);
    }
    rotarr_secret_free(b64);
    return bytes;
}

/* Finds the Ed25519 public and private key in the decoded key file. */
static int parse_key(struct wire *w, const char *name,
                     const unsigned char **pk, const unsigned char **sk,
                     struct rotarr_error *err)
{
    const unsigned char *s;
    size_t len;
    uint32_t count, check1, check2;

    if (w->left < sizeof(KEY_MAGIC) ||
        memcmp(w->p, KEY_MAGIC, sizeof(KEY_MAGIC)) != 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s': not an OpenSSH "
                                "private key", name);
    }
    w->p += sizeof(KEY_MAGIC);
    w->left -= sizeof(KEY_MAGIC);
    if (wire_expect(w, "none") < 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s' is a "
                                "passphrase-protected SSH key, which rotarr "
                                "cannot read; use an age identity or an "
                                "SSH key without a passphrase", name);
    }
    if (wire_expect(w, "none") < 0 || wire_string(w, &s, &len) < 0 ||
        wire_u32(w, &count) < 0 || count != 1 ||
        wire_string(w, &s, &len) < 0 || wire_string(w, &s, &len) < 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s': invalid OpenSSH "
                                "private key (one unencrypted key "
                                "expected)", name);
    }
    w->p = s;
    w->left = len;
    if (wire_u32(w, &check1) < 0 || wire_u32(w, &check2) < 0 ||
        check1 != check2 || wire_expect(w, SSH_TYPE) < 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s': unsupported SSH "
                                "key; only ssh-ed25519 keys work with age",
                                name);
    }
    if (wire_string(w, pk, &len) < 0 || len != 32 ||
        wire_string(w, sk, &len) < 0 || len != 64 ||
        memcmp(*sk + 32, *pk, 32) != 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "'%s': invalid "
                                "ssh-ed25519 private key", name);
    }
    return 0;
}

int age_ssh_parse_identity(const char *text, size_t len, const char *name,
                           struct age_identity *id, struct rotarr_error *err)
{
    struct rotarr_secret *bytes;
    struct wire w;
    const unsigned char *pk, *sk;
    unsigned char scalar[AGE_KEY_SIZE];
    int ret = -1;

    memset(id, 0, sizeof(*id));
    bytes = pem_decode(text, len, name, err);
    if (bytes == NULL) {
        return -1;
    }
    w.p = (const unsigned char *)rotarr_secret_data(bytes);
    w.left = rotarr_secret_len(bytes);
    if (parse_key(&w, name, &pk, &sk, err) < 0 ||
        crypto_sign_ed25519_sk_to_curve25519(scalar, sk) != 0 ||
        (id->secret = rotarr_secret_new(scalar, sizeof(scalar), err))
            == NULL) {
        goto out;
    }
    id->type = AGE_ID_SSH_ED25519;
    crypto_scalarmult_base(id->public_key, scalar);
    make_blob(pk, id->ssh_blob);
    tag_text(id->ssh_blob, id->ssh_tag);
    ret = 0;

out:
    sodium_memzero(scalar, sizeof(scalar));
    rotarr_secret_free(bytes);
    return ret;
}

/*
 * Derives the wrapping key from the X25519 shared secret: tweaked with a
 * scalar derived from the SSH public key, then HKDF with the share and
 * the recipient's X25519 key as salt.  Returns -1 for an all-zero point.
 */
static int wrap_key(const unsigned char shared[AGE_KEY_SIZE],
                    const unsigned char blob[AGE_SSH_BLOB_SIZE],
                    const unsigned char share[AGE_KEY_SIZE],
                    const unsigned char recipient[AGE_KEY_SIZE],
                    unsigned char key[AGE_KEY_SIZE])
{
    unsigned char tweak[AGE_KEY_SIZE], tweaked[AGE_KEY_SIZE];
    unsigned char salt[2 * AGE_KEY_SIZE];
    int ret = -1;

    /* The SSH key is the HKDF salt here, with an empty input key. */
    rotarr_hkdf_sha256(NULL, 0, blob, AGE_SSH_BLOB_SIZE, SSH_LABEL,
                       strlen(SSH_LABEL), tweak);
    if (crypto_scalarmult(tweaked, tweak, shared) != 0) {
        goto out;
    }
    memcpy(salt, share, AGE_KEY_SIZE);
    memcpy(salt + AGE_KEY_SIZE, recipient, AGE_KEY_SIZE);
    rotarr_hkdf_sha256(tweaked, AGE_KEY_SIZE, salt, sizeof(salt), SSH_LABEL,
                       strlen(SSH_LABEL), key);
    ret = 0;

out:
    sodium_memzero(tweak, sizeof(tweak));
    sodium_memzero(tweaked, sizeof(tweaked));
    return ret;
}

int age_ssh_wrap(const struct age_recipient *rcpt,
                 const unsigned char file_key[AGE_FILE_KEY_SIZE],
                 struct age_header *header, struct rotarr_error *err)
{
    unsigned char ephemeral[AGE_KEY_SIZE], share[AGE_KEY_SIZE];
    unsigned char shared[AGE_KEY_SIZE], key[AGE_KEY_SIZE];
    unsigned char body[AGE_WRAPPED_SIZE];
    char tag[AGE_SSH_TAG_TEXT], share_text[44];
    const char *args[3] = { SSH_TYPE, tag, share_text };
    int ret = -1;

    randombytes_buf(ephemeral, sizeof(ephemeral));
    crypto_scalarmult_base(share, ephemeral);
    if (crypto_scalarmult(shared, ephemeral, rcpt->public_key) != 0 ||
        wrap_key(shared, rcpt->ssh_blob, share, rcpt->public_key, key) < 0) {
        rotarr_error_set(err, ROTARR_EUSAGE, "invalid ssh-ed25519 "
                         "recipient: a low-order point");
        goto out;
    }
    age_body_seal(key, file_key, body);
    tag_text(rcpt->ssh_blob, tag);
    rotarr_age_b64_encode(share, sizeof(share), 0, share_text);
    ret = age_stanza_add(header, args, 3, body, sizeof(body), err);

out:
    sodium_memzero(ephemeral, sizeof(ephemeral));
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(key, sizeof(key));
    return ret;
}

static enum age_unwrap unwrap_error(struct rotarr_error *err, const char *what)
{
    rotarr_error_set(err, ROTARR_EDECRYPT, "invalid ssh-ed25519 stanza: %s",
                     what);
    return AGE_UNWRAP_ERROR;
}

enum age_unwrap age_ssh_unwrap(const struct age_identity *id,
                               const struct age_stanza *stanza,
                               unsigned char file_key[AGE_FILE_KEY_SIZE],
                               struct rotarr_error *err)
{
    unsigned char share[AGE_KEY_SIZE], shared[AGE_KEY_SIZE];
    unsigned char key[AGE_KEY_SIZE];
    enum age_unwrap ret = AGE_UNWRAP_ERROR;

    if (strcmp(stanza->args[0], SSH_TYPE) != 0) {
        return AGE_UNWRAP_SKIP;
    }
    if (stanza->argc != 3 || age_b64_arg(stanza->args[2], share,
                                         sizeof(share)) < 0) {
        return unwrap_error(err, "a tag and a 32-byte share expected");
    }
    if (strcmp(stanza->args[1], id->ssh_tag) != 0) {
        return AGE_UNWRAP_SKIP;
    }
    if (stanza->body_len != AGE_WRAPPED_SIZE) {
        return unwrap_error(err, "the body is not 32 bytes");
    }
    if (crypto_scalarmult(shared, (const unsigned char *)
                          rotarr_secret_data(id->secret), share) != 0 ||
        wrap_key(shared, id->ssh_blob, share, id->public_key, key) < 0) {
        unwrap_error(err, "the share is a low-order point");
        goto out;
    }
    /* The tag matched this key, so a body that does not open is damage,
     * not someone else's stanza (the reference implementation agrees). */
    ret = age_body_open(key, stanza->body, file_key) == 0
              ? AGE_UNWRAP_OK : unwrap_error(err, "the body does not open "
                                             "with this key");

out:
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(key, sizeof(key));
    return ret;
}
