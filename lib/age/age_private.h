/*
 * Shared by the files of lib/age: the layers between a byte source and
 * the file format (armor, header, stanzas, STREAM) and the key types.
 */
#ifndef ROTARR_AGE_PRIVATE_H
#define ROTARR_AGE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rotarr/age.h"
#include "rotarr/age_format.h"
#include "rotarr/buf.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

#define AGE_INTRO "age-encryption.org/v1"
#define AGE_ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define AGE_ARMOR_END "-----END AGE ENCRYPTED FILE-----"

/* Base64 columns of a stanza body line and of an armor line, and the
 * bytes each holds. */
#define AGE_COLUMNS 64
#define AGE_LINE_BYTES 48

/* Leading or trailing whitespace accepted around the armor, as in age. */
#define AGE_ARMOR_SPACE_MAX 1024

#define AGE_FILE_KEY_SIZE 16
#define AGE_NONCE_SIZE 16
#define AGE_KEY_SIZE 32
#define AGE_MAC_SIZE 32
#define AGE_WRAPPED_SIZE (AGE_FILE_KEY_SIZE + ROTARR_AGE_TAG_SIZE)
#define AGE_CIPHER_CHUNK (ROTARR_AGE_CHUNK_SIZE + ROTARR_AGE_TAG_SIZE)

/* Wire form of an ssh-ed25519 public key: string "ssh-ed25519", then
 * string of the 32 key bytes, each string with a 4-byte length. */
#define AGE_SSH_BLOB_SIZE (4 + 11 + 4 + 32)
#define AGE_SSH_TAG_SIZE 4
#define AGE_SSH_TAG_TEXT 8 /* its 6 base64 characters and a NUL */

/* One "-> type args..." stanza with its decoded body. */
struct age_stanza {
    char *line;     /* the arguments, NUL-separated, owned */
    char **args;    /* args[0] is the type */
    size_t argc;
    unsigned char *body;
    size_t body_len;
};

struct age_header {
    struct age_stanza *stanzas;
    size_t count;
    size_t cap;
    unsigned char mac[AGE_MAC_SIZE];
    /* Bytes from "age-encryption.org/v1" through the "---" of the MAC
     * line: what the MAC covers. */
    struct rotarr_buf raw;
};

/*
 * The bytes of an age file as read from a source: buffered, with the
 * armor removed when the file has one.
 */
struct age_input {
    const struct rotarr_age_source *source;
    unsigned char raw[16384];
    size_t raw_pos;
    size_t raw_len;
    int raw_eof;
    int armored;
    /* Decoded bytes of the current armor line. */
    unsigned char decoded[AGE_LINE_BYTES];
    size_t dec_pos;
    size_t dec_len;
    int armor_end;   /* the END line was read */
    int armor_last;  /* the last data line was read; END must follow */
    unsigned long armor_line;
    /* Set when a read fails: ROTARR_AGE_FAIL_ARMOR or _IO. */
    enum rotarr_age_failure failure;
};

/* A regular file's payload, read chunk by chunk with pread() (pread.c). */
struct age_pread {
    int active;
    int fd;
    off_t start; /* file offset of chunk 0 */
    off_t end;   /* file size when the payload began */
    size_t chunk_size;
};

/* The bytes of an age file on their way to a sink, armored or not. */
struct age_output {
    const struct rotarr_age_sink *sink;
    int armored;
    unsigned char pending[AGE_LINE_BYTES];
    size_t pending_len;
};

enum age_identity_type {
    AGE_ID_X25519,
    AGE_ID_SSH_ED25519,
    AGE_ID_PASSPHRASE,
};

struct age_identity {
    enum age_identity_type type;
    /* X25519: the 32-byte scalar.  ssh-ed25519: the X25519 scalar of the
     * Ed25519 key.  Passphrase: its bytes. */
    struct rotarr_secret *secret;
    unsigned char public_key[AGE_KEY_SIZE]; /* X25519 form */
    unsigned char ssh_blob[AGE_SSH_BLOB_SIZE];
    char ssh_tag[AGE_SSH_TAG_TEXT];
};

struct rotarr_age_identities {
    struct age_identity *items;
    size_t count;
    size_t cap;
    rotarr_age_passphrase_fn prompt;
    void *prompt_ctx;
};

enum age_recipient_type {
    AGE_RCPT_X25519,
    AGE_RCPT_SSH_ED25519,
    AGE_RCPT_SCRYPT,
};

struct age_recipient {
    enum age_recipient_type type;
    unsigned char public_key[AGE_KEY_SIZE]; /* X25519 form */
    unsigned char ssh_blob[AGE_SSH_BLOB_SIZE];
    struct rotarr_secret *passphrase;
    int work_factor;
};

struct rotarr_age_recipients {
    struct age_recipient *items;
    size_t count;
    size_t cap;
};

/* Result of trying one identity on one stanza. */
enum age_unwrap {
    AGE_UNWRAP_ERROR = -1, /* a stanza for us is malformed: err is set */
    AGE_UNWRAP_SKIP = 0,   /* not ours, or its tag did not verify */
    AGE_UNWRAP_OK = 1,     /* the file key was stored */
};

/* input.c */
void age_input_init(struct age_input *in, const struct rotarr_age_source *src);
int age_input_detect_armor(struct age_input *in, int armored,
                           struct rotarr_error *err);
int age_input_read_line(struct age_input *in, struct rotarr_buf *line,
                        size_t max, struct rotarr_error *err);
int age_input_read(struct age_input *in, unsigned char *buf, size_t len,
                   size_t *got, struct rotarr_error *err);

/* output.c */
int age_output_begin(struct age_output *out,
                     const struct rotarr_age_sink *sink, int armored,
                     struct rotarr_error *err);
int age_output_write(struct age_output *out, const void *bytes, size_t len,
                     struct rotarr_error *err);
int age_output_finish(struct age_output *out, struct rotarr_error *err);

/* header.c */
int age_header_read(struct age_input *in, struct age_header *header,
                     struct rotarr_error *err);
int age_stanza_add(struct age_header *header, const char *const *args,
                   size_t argc, const unsigned char *body, size_t body_len,
                   struct rotarr_error *err);
int age_header_write(struct age_header *header,
                     const unsigned char file_key[AGE_FILE_KEY_SIZE],
                     struct rotarr_buf *out, struct rotarr_error *err);
int age_header_verify(const struct age_header *header,
                      const unsigned char file_key[AGE_FILE_KEY_SIZE]);
void age_header_release(struct age_header *header);

/* Opens a 32-byte stanza body under key with a zero nonce; 0 or -1. */
int age_body_open(const unsigned char key[AGE_KEY_SIZE],
                  const unsigned char *body,
                  unsigned char file_key[AGE_FILE_KEY_SIZE]);
void age_body_seal(const unsigned char key[AGE_KEY_SIZE],
                   const unsigned char file_key[AGE_FILE_KEY_SIZE],
                   unsigned char body[AGE_WRAPPED_SIZE]);
int age_b64_arg(const char *arg, unsigned char *out, size_t size);

/* x25519.c */
int age_x25519_parse_identity(const char *text, size_t len,
                              struct age_identity *id,
                              struct rotarr_error *err);
int age_x25519_parse_recipient(const char *text, size_t len,
                               struct age_recipient *rcpt,
                               struct rotarr_error *err);
int age_x25519_recipient_string(const unsigned char key[AGE_KEY_SIZE],
                                char out[ROTARR_AGE_RECIPIENT_SIZE]);
int age_x25519_wrap(const struct age_recipient *rcpt,
                    const unsigned char file_key[AGE_FILE_KEY_SIZE],
                    struct age_header *header, struct rotarr_error *err);
enum age_unwrap age_x25519_unwrap(const struct age_identity *id,
                                  const struct age_stanza *stanza,
                                  unsigned char file_key[AGE_FILE_KEY_SIZE],
                                  struct rotarr_error *err);

/* scrypt.c */
int age_scrypt_check(const struct age_stanza *stanza,
                     struct rotarr_error *err);
int age_scrypt_wrap(const struct age_recipient *rcpt,
                    const unsigned char file_key[AGE_FILE_KEY_SIZE],
                    struct age_header *header, struct rotarr_error *err);
enum age_unwrap age_scrypt_unwrap(const struct rotarr_secret *passphrase,
                                  const struct age_stanza *stanza,
                                  unsigned char file_key[AGE_FILE_KEY_SIZE],
                                  struct rotarr_error *err);

/* ssh.c */
int age_ssh_parse_recipient(const char *text, size_t len,
                            struct age_recipient *rcpt,
                            struct rotarr_error *err);
int age_ssh_parse_identity(const char *text, size_t len, const char *name,
                           struct age_identity *id, struct rotarr_error *err);
int age_ssh_recipient_string(const unsigned char blob[AGE_SSH_BLOB_SIZE],
                             struct rotarr_buf *out, struct rotarr_error *err);
int age_ssh_wrap(const struct age_recipient *rcpt,
                 const unsigned char file_key[AGE_FILE_KEY_SIZE],
                 struct age_header *header, struct rotarr_error *err);
enum age_unwrap age_ssh_unwrap(const struct age_identity *id,
                               const struct age_stanza *stanza,
                               unsigned char file_key[AGE_FILE_KEY_SIZE],
                               struct rotarr_error *err);

/* pread.c */
int age_pread_open(struct age_pread *pr, const struct age_input *in,
                   size_t chunk_size);
void age_pread_locate(const struct age_pread *pr, uint64_t index,
                      off_t *offset, size_t *len);
int age_pread_chunk(const struct age_pread *pr, unsigned char *buf,
                    size_t len, off_t offset);

/* A sink that counts the payload for progress reports, then passes the
 * bytes on to next (progress.c). */
struct age_progress {
    struct rotarr_age_sink sink; /* what the payload is written to */
    struct rotarr_age_sink next;
    const struct rotarr_progress *progress;
    int sealed;           /* the bytes are sealed chunks, not plaintext */
    uint64_t bytes;       /* passed on to next */
    uint64_t next_report; /* value of bytes that triggers a report */
    uint64_t total;
};

/* progress.c */
void age_progress_begin(struct age_progress *counter,
                        const struct rotarr_progress *progress,
                        const struct rotarr_age_sink *next, int sealed,
                        uint64_t total);
void age_progress_report(struct age_progress *counter);
/* Bytes of a regular file source not yet used, or 0 when the source is
 * not one. */
uint64_t age_input_remaining(const struct age_input *in);
/* Plaintext size of the payload that follows in a binary age file, or 0
 * when it is unknown. */
uint64_t age_payload_plaintext_size(const struct age_input *in);

/* stream.c */
int age_stream_encrypt(const unsigned char key[AGE_KEY_SIZE],
                       struct age_input *in, struct age_output *out,
                       struct rotarr_error *err);
int age_stream_decrypt(const unsigned char key[AGE_KEY_SIZE],
                       struct age_input *in, const struct rotarr_age_sink *out,
                       enum rotarr_age_failure *failure,
                       struct rotarr_error *err);
void age_payload_key(const unsigned char file_key[AGE_FILE_KEY_SIZE],
                     const unsigned char nonce[AGE_NONCE_SIZE],
                     unsigned char key[AGE_KEY_SIZE]);

/* keys.c */
int age_identity_push(struct rotarr_age_identities *ids,
                      struct age_identity *id, struct rotarr_error *err);
int age_recipient_push(struct rotarr_age_recipients *recipients,
                       struct age_recipient *rcpt, struct rotarr_error *err);
void age_identity_release(struct age_identity *id);

#endif
