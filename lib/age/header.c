/*
 * The age header: the version line, one or more stanzas and the MAC
 * line.  A stanza is a "-> " argument line, then base64 body lines of 64
 * columns that end with a shorter one.  Parsing is strict (canonical
 * base64, single spaces, printable ASCII), so the raw bytes that the MAC
 * covers are the ones a re-encoding would produce.
 */
#include "rotarr/compat.h"

#include <sodium.h>
#include <string.h>

#include "age_private.h"

#define MAC_LINE_LEN (3 + 1 + 43 + 1) /* "--- " MAC "\n" */

struct parser {
    struct age_input *in;
    struct age_header *header;
    struct rotarr_buf line;
    unsigned long lineno;
};

static int header_error(struct parser *p, struct rotarr_error *err,
                        const char *what)
{
    return rotarr_error_set(err, ROTARR_EDECRYPT,
                            "invalid age header: line %lu: %s", p->lineno,
                            what);
}

/*
 * Reads the next header line with its LF and adds it to the raw header.
 * Returns 0, or -1 with err set, for a line that is too long or cut off
 * by the end of the file as well.
 */
static int next_line(struct parser *p, struct rotarr_error *err)
{
    int status;

    p->lineno++;
    status = age_input_read_line(p->in, &p->line, ROTARR_AGE_LINE_MAX, err);
    if (status == -2) {
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "invalid age header: line %lu is longer "
                                "than %d bytes", p->lineno,
                                ROTARR_AGE_LINE_MAX);
    }
    if (status < 0) {
        return -1;
    }
    if (status == 0 || p->line.data[p->line.len - 1] != '\n') {
        return header_error(p, err, "the file ends inside the header; it "
                            "is truncated");
    }
    if (p->header->raw.len + p->line.len > ROTARR_AGE_HEADER_MAX) {
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "invalid age header: longer than %zu bytes",
                                ROTARR_AGE_HEADER_MAX);
    }
    return 0;
}

static int read_intro(struct parser *p, struct rotarr_error *err)
{
    const char *line;
    int status;

    p->lineno = 1;
    status = age_input_read_line(p->in, &p->line, strlen(AGE_INTRO) + 2,
                                 err);
    if (status == -1) {
        return -1;
    }
    line = p->line.data;
    if (status == 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the file is empty");
    }
    if (status == 1 && strcmp(line, AGE_INTRO "\n") == 0) {
        return rotarr_buf_append(&p->header->raw, line, p->line.len, err);
    }
    if (status == 1 && strcmp(line, AGE_INTRO "\r\n") == 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "the age header has CR LF line ends: the "
                                "file was converted as text and cannot be "
                                "repaired; copy it in binary mode, or "
                                "use armor ('-a') for text channels");
    }
    if (status == 1 && strncmp(line, "age-encryption.org/", 19) == 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "unsupported age format version; only "
                                "'" AGE_INTRO "' is supported");
    }
    return rotarr_error_set(err, ROTARR_EDECRYPT,
                            "not an age file: it does not start with '"
                            AGE_INTRO "'");
}

static int valid_arg_char(char c)
{
    return c >= 0x21 && c <= 0x7e;
}

/* Splits the arguments of a "-> " line (len bytes, no LF) into s. */
static int split_args(struct parser *p, const char *text, size_t len,
                      struct age_stanza *s, struct rotarr_error *err)
{
    size_t i, n = 1;

    for (i = 0; i < len; i++) {
        if (text[i] == ' ') {
            n++;
        } else if (!valid_arg_char(text[i])) {
            return header_error(p, err, "stanza argument with a character "
                                "that is not printable ASCII");
        }
    }
    s->line = malloc(len + 1);
    s->args = calloc(n, sizeof(*s->args));
    if (s->line == NULL || s->args == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    memcpy(s->line, text, len);
    s->line[len] = '\0';
    s->args[s->argc++] = s->line;
    for (i = 0; i < len; i++) {
        if (s->line[i] == ' ') {
            s->line[i] = '\0';
            s->args[s->argc++] = s->line + i + 1;
        }
    }
    for (i = 0; i < s->argc; i++) {
        if (s->args[i][0] == '\0') {
            return header_error(p, err, len == 0 ? "stanza with no "
                                "arguments" : "empty stanza argument "
                                "(two spaces in a row, or a space at an "
                                "end)");
        }
    }
    return 0;
}

/* Reads the body lines of a stanza, up to and including the short one. */
static int read_body(struct parser *p, struct age_stanza *s,
                     struct rotarr_error *err)
{
    struct rotarr_buf body = ROTARR_BUF_INIT;
    unsigned char bytes[AGE_LINE_BYTES];
    size_t len, n;
    int ret = -1;

    for (;;) {
        if (next_line(p, err) < 0 ||
            rotarr_buf_append(&p->header->raw, p->line.data, p->line.len,
                              err) < 0) {
            goto out;
        }
        len = p->line.len - 1;
        if (len > AGE_COLUMNS) {
            header_error(p, err, "stanza body line longer than 64 columns");
            goto out;
        }
        if (rotarr_age_b64_decode(p->line.data, len, 0, bytes, sizeof(bytes),
                                  &n) < 0) {
            header_error(p, err, "invalid base64 in a stanza body (a body "
                         "ends with a line shorter than 64 columns)");
            goto out;
        }
        if (rotarr_buf_append(&body, bytes, n, err) < 0) {
            goto out;
        }
        if (len < AGE_COLUMNS) {
            break;
        }
    }
    s->body_len = body.len;
    s->body = (unsigned char *)rotarr_buf_detach(&body, NULL);
    ret = s->body == NULL ? rotarr_error_set(err, ROTARR_EFILE,
                                             "out of memory") : 0;

out:
    rotarr_buf_release(&body);
    return ret;
}

static int grow_stanzas(struct age_header *h, struct rotarr_error *err)
{
    struct age_stanza *grown;
    size_t cap = h->cap == 0 ? 4 : h->cap * 2;

    if (h->count < h->cap) {
        return 0;
    }
    if (h->count >= ROTARR_AGE_STANZA_MAX) {
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "invalid age header: more than %d stanzas",
                                ROTARR_AGE_STANZA_MAX);
    }
    grown = realloc(h->stanzas, cap * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    h->stanzas = grown;
    h->cap = cap;
    return 0;
}

static int read_stanza(struct parser *p, struct rotarr_error *err)
{
    struct age_stanza *s;

    if (grow_stanzas(p->header, err) < 0 ||
        rotarr_buf_append(&p->header->raw, p->line.data, p->line.len,
                          err) < 0) {
        return -1;
    }
    s = &p->header->stanzas[p->header->count++];
    memset(s, 0, sizeof(*s));
    if (split_args(p, p->line.data + 3, p->line.len - 4, s, err) < 0) {
        return -1;
    }
    return read_body(p, s, err);
}

static int read_mac(struct parser *p, struct rotarr_error *err)
{
    size_t n;

    if (p->header->count == 0) {
        return header_error(p, err, "no recipient stanza before the MAC");
    }
    if (p->line.len != MAC_LINE_LEN || p->line.data[3] != ' ' ||
        rotarr_age_b64_decode(p->line.data + 4, MAC_LINE_LEN - 5, 0,
                              p->header->mac, AGE_MAC_SIZE, &n) < 0 ||
        n != AGE_MAC_SIZE) {
        return header_error(p, err, "invalid MAC line ('--- ' and 43 "
                            "base64 characters expected)");
    }
    return rotarr_buf_append(&p->header->raw, "---", 3, err);
}

int age_header_read(struct age_input *in, struct age_header *header,
                    struct rotarr_error *err)
{
    struct parser p = { in, header, ROTARR_BUF_INIT, 0 };
    int ret = -1;

    memset(header, 0, sizeof(*header));
    if (read_intro(&p, err) < 0) {
        goto out;
    }
    for (;;) {
        if (next_line(&p, err) < 0) {
            goto out;
        }
        if (strncmp(p.line.data, "---", 3) == 0) {
            ret = read_mac(&p, err);
            goto out;
        }
        if (strncmp(p.line.data, "-> ", 3) != 0) {
            header_error(&p, err, "a stanza ('-> ') or the MAC line ('---') "
                         "expected");
            goto out;
        }
        if (read_stanza(&p, err) < 0) {
            goto out;
        }
    }

out:
    rotarr_buf_release(&p.line);
    return ret;
}

int age_stanza_add(struct age_header *header, const char *const *args,
                   size_t argc, const unsigned char *body, size_t body_len,
                   struct rotarr_error *err)
{
    struct age_stanza *s;
    struct rotarr_buf line = ROTARR_BUF_INIT;
    size_t i;

    if (grow_stanzas(header, err) < 0) {
        return -1;
    }
    for (i = 0; i < argc; i++) {
        if (rotarr_buf_puts(&line, args[i], err) < 0 ||
            (i + 1 < argc && rotarr_buf_puts(&line, " ", err) < 0)) {
            rotarr_buf_release(&line);
            return -1;
        }
    }
    s = &header->stanzas[header->count];
    memset(s, 0, sizeof(*s));
    s->body = malloc(body_len > 0 ? body_len : 1);
    if (s->body == NULL) {
        rotarr_buf_release(&line);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    memcpy(s->body, body, body_len);
    s->body_len = body_len;
    s->line = rotarr_buf_detach(&line, NULL);
    header->count++;
    return s->line != NULL ? 0 : rotarr_error_set(err, ROTARR_EFILE,
                                                  "out of memory");
}

static int write_body(const struct age_stanza *s, struct rotarr_buf *out,
                      struct rotarr_error *err)
{
    char text[AGE_COLUMNS + 2];
    size_t pos = 0, n;

    /* The last line is always shorter than 64 columns, even empty. */
    do {
        n = s->body_len - pos < AGE_LINE_BYTES ? s->body_len - pos
                                               : AGE_LINE_BYTES;
        rotarr_age_b64_encode(s->body + pos, n, 0, text);
        if (rotarr_buf_puts(out, text, err) < 0 ||
            rotarr_buf_puts(out, "\n", err) < 0) {
            return -1;
        }
        pos += n;
    } while (n == AGE_LINE_BYTES);
    return 0;
}

static void header_mac(const struct rotarr_buf *raw,
                       const unsigned char file_key[AGE_FILE_KEY_SIZE],
                       unsigned char mac[AGE_MAC_SIZE])
{
    crypto_auth_hmacsha256_state state;
    unsigned char key[AGE_KEY_SIZE];

    rotarr_hkdf_sha256(file_key, AGE_FILE_KEY_SIZE, NULL, 0, "header", 6, key);
    crypto_auth_hmacsha256_init(&state, key, sizeof(key));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)raw->data,
                                  raw->len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(&state, sizeof(state));
}

/*
 * Writes the header of stanzas (added with age_stanza_add) and its MAC
 * under file_key to out.  Each stanza line, built by age_stanza_add,
 * contains the arguments joined by spaces.
 */
int age_header_write(struct age_header *header,
                     const unsigned char file_key[AGE_FILE_KEY_SIZE],
                     struct rotarr_buf *out, struct rotarr_error *err)
{
    char mac_text[44];
    size_t i, start = out->len;

    if (rotarr_buf_puts(out, AGE_INTRO "\n", err) < 0) {
        return -1;
    }
    for (i = 0; i < header->count; i++) {
        if (rotarr_buf_printf(out, err, "-> %s\n",
                              header->stanzas[i].line) < 0 ||
            write_body(&header->stanzas[i], out, err) < 0) {
            return -1;
        }
    }
    if (rotarr_buf_puts(out, "---", err) < 0) {
        return -1;
    }
    rotarr_buf_reset(&header->raw);
    if (rotarr_buf_append(&header->raw, out->data + start, out->len - start,
                          err) < 0) {
        return -1;
    }
    header_mac(&header->raw, file_key, header->mac);
    rotarr_age_b64_encode(header->mac, AGE_MAC_SIZE, 0, mac_text);
    return rotarr_buf_printf(out, err, " %s\n", mac_text);
}

/* Returns 0 when the header's MAC verifies under file_key, else -1. */
int age_header_verify(const struct age_header *header,
                      const unsigned char file_key[AGE_FILE_KEY_SIZE])
{
    unsigned char mac[AGE_MAC_SIZE];
    int ret;

    header_mac(&header->raw, file_key, mac);
    ret = crypto_verify_32(mac, header->mac);
    sodium_memzero(mac, sizeof(mac));
    return ret == 0 ? 0 : -1;
}

void age_header_release(struct age_header *header)
{
    size_t i;

    for (i = 0; i < header->count; i++) {
        free(header->stanzas[i].line);
        free(header->stanzas[i].args);
        free(header->stanzas[i].body);
    }
    free(header->stanzas);
    rotarr_buf_release(&header->raw);
    memset(header, 0, sizeof(*header));
}

int age_body_open(const unsigned char key[AGE_KEY_SIZE],
                  const unsigned char *body,
                  unsigned char file_key[AGE_FILE_KEY_SIZE])
{
    static const unsigned char zero_nonce[12];

    return crypto_aead_chacha20poly1305_ietf_decrypt(
        file_key, NULL, NULL, body, AGE_WRAPPED_SIZE, NULL, 0, zero_nonce,
        key);
}

void age_body_seal(const unsigned char key[AGE_KEY_SIZE],
                   const unsigned char file_key[AGE_FILE_KEY_SIZE],
                   unsigned char body[AGE_WRAPPED_SIZE])
{
    static const unsigned char zero_nonce[12];

    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key,
                                              AGE_FILE_KEY_SIZE, NULL, 0,
                                              NULL, zero_nonce, key);
}

/* Decodes a stanza argument that must be exactly size bytes of canonical
 * unpadded base64; returns 0 or -1. */
int age_b64_arg(const char *arg, unsigned char *out, size_t size)
{
    size_t n;

    if (rotarr_age_b64_decode(arg, strlen(arg), 0, out, size, &n) < 0) {
        return -1;
    }
    return n == size ? 0 : -1;
}
