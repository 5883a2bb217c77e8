/*
 * The guard's scanner.  A blob fed in two pieces, split where the first
 * input byte says, gives the same findings as the whole blob fed at once,
 * so a secret or key marker across a read boundary is still found.  The
 * second byte chooses the blob's path: a plain file, an env file or an
 * example env file.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/guard.h"

static const char *const paths[] = { "src/main.c", ".env",
                                      "app.env.example" };

static struct rotarr_guard *guard;

static void setup(void)
{
    struct rotarr_error err;

    if (guard != NULL) {
        return;
    }
    guard = rotarr_guard_new(&err);
    if (guard == NULL ||
        rotarr_guard_add_secret(guard, "Xk9-pw/42@db:5432", 17,
                                "the value of 'DB_PASSWORD' in '.env'",
                                &err) < 0 ||
        rotarr_guard_add_secret(guard, "s3cr3t-T0ken-value", 18,
                                "the value of 'API_TOKEN' in '.env'",
                                &err) < 0) {
        abort();
    }
}

static void scan_split(const char *path, const char *bytes, size_t len,
                       size_t split, struct rotarr_guard_findings *found)
{
    struct rotarr_guard_scan *scan;
    struct rotarr_error err;

    scan = rotarr_guard_scan_begin(guard, path, NULL, found, &err);
    if (scan == NULL || rotarr_guard_scan_feed(scan, bytes, split, &err) < 0 ||
        rotarr_guard_scan_feed(scan, bytes + split, len - split, &err) < 0 ||
        rotarr_guard_scan_finish(scan, &err) < 0) {
        abort();
    }
}

static void compare(const struct rotarr_guard_findings *a,
                    const struct rotarr_guard_findings *b)
{
    size_t i;

    if (a->count != b->count || a->dropped != b->dropped) {
        abort();
    }
    for (i = 0; i < a->count; i++) {
        if (a->items[i].kind != b->items[i].kind ||
            a->items[i].line != b->items[i].line ||
            strcmp(a->items[i].what, b->items[i].what) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rotarr_guard_findings whole = ROTARR_GUARD_FINDINGS_INIT;
    struct rotarr_guard_findings split = ROTARR_GUARD_FINDINGS_INIT;
    struct rotarr_error err;
    const char *bytes = (const char *)data + 2;
    const char *path;
    size_t len, at;

    if (size < 2) {
        return 0;
    }
    setup();
    len = size - 2;
    at = len == 0 ? 0 : data[0] % (len + 1);
    path = paths[data[1] % 3];
    if (rotarr_guard_check_blob(guard, path, bytes, len, &whole, &err) < 0) {
        abort();
    }
    scan_split(path, bytes, len, at, &split);
    compare(&whole, &split);
    rotarr_guard_findings_release(&split);
    rotarr_guard_findings_release(&whole);
    return 0;
}
