/*
 * The compose model: any file either loads or fails with ROTARR_EFILE,
 * and the services of a loaded one can be read.  The input is written to
 * compose.yaml in a directory of its own, because the loader reads
 * files; a second file, other.yaml, gives "include:" and "extends:" a
 * target.  Variables are looked up in a fixed table, never in the
 * process environment.
 */
#include "rotarr/compat.h"

#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "rotarr/compose.h"

#define FUZZ_DIR_TEMPLATE "/tmp/rotarr-fuzz-compose.XXXXXX"

static char fuzz_dir[] = FUZZ_DIR_TEMPLATE;
static char compose_path[sizeof(FUZZ_DIR_TEMPLATE) + 16];

static const char other_yaml[] =
    "services:\n"
    "  base:\n"
    "    image: postgres:16\n"
    "    environment:\n"
    "      POSTGRES_PASSWORD: ${PW:-x}\n";

static const char *lookup(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "PW") == 0) {
        return "s3cret";
    }
    if (strcmp(name, "PORT") == 0) {
        return "5433";
    }
    return NULL;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, bytes, len) != (ssize_t)len || close(fd) < 0) {
        abort();
    }
}

/* Creates the directory and other.yaml on the first input. */
static void setup(void)
{
    char other[sizeof(compose_path)];

    if (compose_path[0] != '\0') {
        return;
    }
    if (mkdtemp(fuzz_dir) == NULL ||
        snprintf(other, sizeof(other), "%s/other.yaml", fuzz_dir) >=
            (int)sizeof(other) ||
        snprintf(compose_path, sizeof(compose_path), "%s/compose.yaml",
                 fuzz_dir) >= (int)sizeof(compose_path)) {
        abort();
    }
    write_file(other, other_yaml, sizeof(other_yaml) - 1);
}

static void read_services(const struct rotarr_compose *c)
{
    const struct rotarr_compose_service *svc;
    char host[64];
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(c); i++) {
        svc = rotarr_compose_service(c, i);
        if (rotarr_compose_find_service(c, svc->name) == NULL) {
            abort();
        }
        (void)rotarr_compose_published_port(c, svc, 5432, lookup, NULL,
                                            host, sizeof(host));
    }
    (void)rotarr_compose_secret_file(c, "db_password");
    (void)rotarr_compose_secret_environment(c, "db_password");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const files[] = { "compose.yaml" };
    struct rotarr_compose *c;
    struct rotarr_error err;

    setup();
    write_file(compose_path, data, size);
    c = rotarr_compose_load(fuzz_dir, files, 1, lookup, NULL, &err);
    if (c == NULL) {
        if (err.code != ROTARR_EFILE) {
            abort();
        }
        return 0;
    }
    read_services(c);
    rotarr_compose_free(c);
    return 0;
}
