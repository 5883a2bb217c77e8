/*
 * The .env parser and writer: any input either parses or fails with
 * ROTARR_EFILE, and a parsed file whose every value span is replaced by
 * rotarr_dotenv_encode_value() of its value parses back to the same keys
 * and values.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/dotenv.h"

/*
 * Replaces every value span of env by the encoded value in out.  These
 * keep their text: a value with a NUL byte, which no encoding carries, a
 * key that the lookup does not define, and the empty key that a last
 * line holding only a name sets, because that name is not a value that
 * quotes could carry.
 */
static void rewrite(const struct rotarr_dotenv *env, struct rotarr_buf *out)
{
    const struct rotarr_dotenv_entry *e;
    struct rotarr_error err;
    const char *bytes;
    size_t i, len, done = 0;

    bytes = rotarr_dotenv_bytes(env, &len);
    for (i = 0; i < rotarr_dotenv_count(env); i++) {
        e = rotarr_dotenv_entry(env, i);
        if (e->value_start < done || e->value_end < e->value_start ||
            e->value_end > len) {
            abort();
        }
        if (e->value == NULL || e->key[0] == '\0' ||
            memchr(e->value, '\0', e->value_len) != NULL) {
            continue;
        }
        if (rotarr_buf_append(out, bytes + done, e->value_start - done,
                              &err) < 0 ||
            rotarr_dotenv_encode_value(e->value, e->value_len, e->quote,
                                       out, &err) < 0) {
            abort();
        }
        done = e->value_end;
    }
    if (rotarr_buf_append(out, bytes + done, len - done, &err) < 0) {
        abort();
    }
}

static void compare(const struct rotarr_dotenv *a,
                    const struct rotarr_dotenv *b)
{
    const struct rotarr_dotenv_entry *x, *y;
    size_t i;

    if (rotarr_dotenv_count(a) != rotarr_dotenv_count(b)) {
        abort();
    }
    for (i = 0; i < rotarr_dotenv_count(a); i++) {
        x = rotarr_dotenv_entry(a, i);
        y = rotarr_dotenv_entry(b, i);
        if (strcmp(x->key, y->key) != 0 || (x->value == NULL) !=
            (y->value == NULL) || x->value_len != y->value_len ||
            (x->value && memcmp(x->value, y->value, x->value_len) != 0)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_dotenv *env, *again = NULL;
    struct rotarr_error err;

    env = rotarr_dotenv_parse(".env", (const char *)data, size, NULL, NULL,
                              NULL, &err);
    if (env == NULL) {
        if (err.code != ROTARR_EFILE) {
            abort();
        }
        return 0;
    }
    rewrite(env, &text);
    again = rotarr_dotenv_parse(".env", text.data ? text.data : "",
                                text.len, NULL, NULL, NULL, &err);
    if (again == NULL) {
        abort();
    }
    compare(env, again);
    rotarr_dotenv_free(again);
    rotarr_dotenv_free(env);
    rotarr_buf_release(&text);
    return 0;
}
