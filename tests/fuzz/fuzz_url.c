/*
 * The URL codec.  Parsed spans are ordered and inside the text; any bytes
 * percent-encoded for a userinfo decode back to themselves unless they
 * hold a NUL, and the encoded form parses as the password of a URL.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/url.h"

static void check_parse(const char *text, size_t size)
{
    struct rotarr_url_parts p;

    if (rotarr_url_parse(text, size, &p) < 0) {
        return;
    }
    if (p.end > size || p.scheme_end > p.user_start ||
        p.user_start > p.user_end || p.host_start > p.host_end ||
        p.host_end > p.path_start || p.path_start > p.end ||
        p.password_start > p.password_end || p.port < -1 ||
        p.port > 65535) {
        abort();
    }
    if (p.has_password && (p.user_end > p.password_start ||
                           p.password_end > p.host_start)) {
        abort();
    }
}

static void check_decode(const char *text, size_t size)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err;

    if (rotarr_url_decode(text, size, &out, &err) < 0 &&
        err.code != ROTARR_EFILE) {
        abort();
    }
    rotarr_buf_release(&out);
}

static void check_round_trip(const char *text, size_t size)
{
    struct rotarr_buf enc = ROTARR_BUF_INIT, url = ROTARR_BUF_INIT;
    struct rotarr_buf dec = ROTARR_BUF_INIT;
    struct rotarr_url_parts p;
    struct rotarr_error err;

    if (rotarr_url_encode_userinfo(text, size, &enc, &err) < 0 ||
        rotarr_buf_puts(&url, "postgres://u:", &err) < 0 ||
        rotarr_buf_append(&url, enc.data ? enc.data : "", enc.len,
                          &err) < 0 ||
        rotarr_buf_puts(&url, "@db:5432/app", &err) < 0) {
        abort();
    }
    if (rotarr_url_parse(url.data, url.len, &p) < 0 || !p.has_password ||
        p.password_end - p.password_start != enc.len || p.port != 5432) {
        abort();
    }
    if (memchr(text, '\0', size) == NULL &&
        (rotarr_url_decode(enc.data ? enc.data : "", enc.len, &dec,
                           &err) < 0 ||
         dec.len != size || memcmp(dec.data ? dec.data : "", text,
                                   size) != 0)) {
        abort();
    }
    rotarr_buf_release(&dec);
    rotarr_buf_release(&url);
    rotarr_buf_release(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    check_parse(text, size);
    check_decode(text, size);
    check_round_trip(text, size);
    return 0;
}
