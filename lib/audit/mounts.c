#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include "audit_private.h"

/* Cleans a path textually: no "." components, ".." applied, no double or
 * final '/'. */
static void clean_path(char *path)
{
    char *out = path;
    const char *p = path;
    const char *end;
    size_t n;
    int absolute = path[0] == '/';

    while (*p != '\0') {
        while (*p == '/') {
            p++;
        }
        end = strchr(p, '/');
        n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing to keep */
        } else if (n == 2 && p[0] == '.' && p[1] == '.' && out > path) {
            while (out > path && *--out != '/') {
            }
        } else {
            if (out > path || absolute) {
                *out++ = '/';
            }
            memmove(out, p, n);
            out += n;
        }
        p += n;
    }
    if (out == path && absolute) {
        *out++ = '/';
    }
    *out = '\0';
}

/* Makes source absolute against the project directory when it is a
 * relative host path, and cleans it. */
static void resolve_source(struct audit_ctx *ctx, char *source, size_t size)
{
    char joined[AUDIT_PATH_MAX];

    if (source[0] == '.' || source[0] == '~') {
        audit_format(joined, sizeof(joined), "%s/%s",
                     source[0] == '~' ? "~"
                                      : rotarr_compose_project_dir(
                                            ctx->compose),
                     source + 1);
        audit_format(source, size, "%s", joined);
    }
    clean_path(source);
}

static int parse_short(struct audit_ctx *ctx, const char *text,
                       struct audit_mount *m)
{
    char copy[AUDIT_PATH_MAX * 2];
    char *first;
    char *second;
    char *mode;

    audit_format(copy, sizeof(copy), "%s", text);
    first = copy;
    second = strchr(first, ':');
    if (second == NULL) {
        audit_format(m->target, sizeof(m->target), "%s", first);
        return 0;
    }
    *second++ = '\0';
    mode = strchr(second, ':');
    if (mode != NULL) {
        *mode++ = '\0';
        m->read_only = strstr(mode, "ro") != NULL &&
                       strstr(mode, "rw") == NULL;
    }
    audit_format(m->source, sizeof(m->source), "%s", first);
    audit_format(m->written, sizeof(m->written), "%s", first);
    audit_format(m->target, sizeof(m->target), "%s", second);
    m->bind = strchr("/.~", m->source[0]) != NULL;
    if (m->bind) {
        resolve_source(ctx, m->source, sizeof(m->source));
    }
    return 0;
}

static void scalar_of(const struct rotarr_ynode *map, const char *key,
                      char *dst, size_t size)
{
    const struct rotarr_ynode *v = rotarr_ynode_get(map, key);

    dst[0] = '\0';
    if (v != NULL && v->kind == ROTARR_YNODE_SCALAR) {
        audit_format(dst, size, "%s", v->value);
    }
}

static int parse_long(struct audit_ctx *ctx, const struct rotarr_ynode *map,
                      struct audit_mount *m)
{
    struct rotarr_buf source = ROTARR_BUF_INIT;
    char type[32];
    char flag[16];
    int ret = -1;

    scalar_of(map, "type", type, sizeof(type));
    scalar_of(map, "source", m->source, sizeof(m->source));
    scalar_of(map, "target", m->target, sizeof(m->target));
    scalar_of(map, "read_only", flag, sizeof(flag));
    m->read_only = strcmp(flag, "true") == 0;
    if (audit_expand(ctx, m->source, strlen(m->source), &source) < 0) {
        goto out;
    }
    audit_format(m->source, sizeof(m->source), "%s",
                 source.data != NULL ? source.data : "");
    audit_format(m->written, sizeof(m->written), "%s", m->source);
    m->bind = strcmp(type, "bind") == 0 ||
              (type[0] == '\0' && strchr("/.~", m->source[0]) != NULL &&
               m->source[0] != '\0');
    if (m->bind) {
        resolve_source(ctx, m->source, sizeof(m->source));
    }
    ret = 0;
out:
    rotarr_buf_release(&source);
    return ret;
}

static int parse_mount(struct audit_ctx *ctx, const struct rotarr_ynode *item,
                       struct audit_mount *m)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int ret;

    memset(m, 0, sizeof(*m));
    m->node = item;
    if (item->kind == ROTARR_YNODE_MAPPING) {
        return parse_long(ctx, item, m);
    }
    if (item->kind != ROTARR_YNODE_SCALAR) {
        return 0;
    }
    ret = audit_expand(ctx, item->value, item->value_len, &text);
    if (ret == 0) {
        ret = parse_short(ctx, text.data != NULL ? text.data : "", m);
    }
    rotarr_buf_release(&text);
    return ret;
}

int audit_service_mounts(struct audit_ctx *ctx, size_t i,
                         struct audit_mounts *mounts)
{
    const struct rotarr_ynode *volumes;
    size_t k;

    mounts->items = NULL;
    mounts->count = 0;
    volumes = rotarr_compose_service(ctx->compose, i)->volumes;
    if (volumes == NULL || volumes->kind != ROTARR_YNODE_SEQUENCE ||
        volumes->count == 0) {
        return 0;
    }
    mounts->items = calloc(volumes->count, sizeof(*mounts->items));
    if (mounts->items == NULL) {
        return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
    }
    for (k = 0; k < volumes->count; k++) {
        if (parse_mount(ctx, volumes->items[k],
                        &mounts->items[mounts->count]) < 0) {
            return -1;
        }
        mounts->count++;
    }
    return 0;
}

void audit_mounts_release(struct audit_mounts *mounts)
{
    free(mounts->items);
    mounts->items = NULL;
    mounts->count = 0;
}

/* Returns 1 when the last component of path is one of words. */
static int last_component_in(const char *path, const char *const *words)
{
    const char *slash = strrchr(path, '/');
    const char *last = slash != NULL ? slash + 1 : path;
    size_t i;

    for (i = 0; words[i] != NULL; i++) {
        if (strcmp(last, words[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int audit_target_is_config(const char *target)
{
    static const char *const words[] = {
        "config", "configs", "cache", "transcode", "transcodes", "logs",
        "log", "metadata", "tmp", "run", "backups", "localtime", "timezone",
        "certs", "ssl", NULL,
    };
    static const char *const prefixes[] = { "/config/", "/dev/", "/etc/",
                                            "/sys/", "/proc/", "/run/",
                                            "/var/run/", "/tmp/", NULL };
    size_t i;

    if (target[0] == '\0' || last_component_in(target, words)) {
        return 1;
    }
    for (i = 0; prefixes[i] != NULL; i++) {
        if (strncmp(target, prefixes[i], strlen(prefixes[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when host path a is b or one of its parents. */
static int path_contains(const char *a, const char *b)
{
    size_t n = strlen(a);

    if (strcmp(a, "/") == 0) {
        return b[0] == '/';
    }
    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static int is_socket(const char *source)
{
    static const char *const names[] = { "docker.sock", "podman.sock",
                                         NULL };

    return last_component_in(source, names);
}

/* Returns 1 when a host path is a file of the host's own setup rather
 * than data: devices, clocks, sockets. */
static int is_host_plumbing(const char *source)
{
    static const char *const prefixes[] = { "/dev", "/etc/localtime",
                                            "/etc/timezone", "/proc",
                                            "/sys", "/run/udev", NULL };
    size_t i;

    for (i = 0; prefixes[i] != NULL; i++) {
        if (path_contains(prefixes[i], source)) {
            return 1;
        }
    }
    return is_socket(source);
}

static int check_socket(struct audit_ctx *ctx, size_t i,
                        const struct audit_mount *m)
{
    char why[AUDIT_TEXT_MAX];

    audit_format(why, sizeof(why),
                 "'%s' mounts the Docker socket: whoever controls the "
                 "service is root on the host, read-only mount or not",
                 rotarr_compose_service(ctx->compose, i)->name);
    return audit_add(ctx, &audit_mount_docker_socket, i, m->node, NULL, 0,
                     why,
                     "remove the mount, or put a socket proxy in front that "
                     "allows only the API calls the service needs");
}

/* The host directories mounted as configuration of every service. */
struct config_dirs {
    const char **paths;
    const char **written;
    size_t *owners;
    size_t count;
};

/* Returns 1 when m contains a service's configuration or database.  /data
 * counts only for database servers: media apps mount their library
 * there. */
static int is_config_mount(const struct audit_mount *m, int server)
{
    static const char *const words[] = { "config", "appdata", "postgresql",
                                         NULL };
    static const char *const data[] = { "data", NULL };

    return m->bind && !is_host_plumbing(m->source) &&
           (last_component_in(m->target, words) ||
            (server && last_component_in(m->target, data)) ||
            strncmp(m->target, "/var/lib/", 9) == 0);
}

static int check_broad(struct audit_ctx *ctx, size_t i,
                       const struct audit_mount *m,
                       const struct config_dirs *dirs)
{
    char why[AUDIT_TEXT_MAX];
    size_t k;

    if (!m->bind || is_host_plumbing(m->source)) {
        return 0;
    }
    for (k = 0; k < dirs->count; k++) {
        if (dirs->owners[k] == i || !path_contains(m->source, dirs->paths[k]) ||
            strcmp(m->source, dirs->paths[k]) == 0) {
            continue;
        }
        audit_format(why, sizeof(why),
                     "'%s' holds the configuration of service '%s' (%s), "
                     "with its API keys and databases",
                     m->written,
                     rotarr_compose_service(ctx->compose, dirs->owners[k])
                         ->name,
                     dirs->written[k]);
        return audit_add(ctx, &audit_mount_broad_appdata, i, m->node, NULL, 0,
                         why,
                         "mount only this service's own directories, e.g. "
                         "'<appdata>/<service>:/config'");
    }
    return 0;
}

static int check_media(struct audit_ctx *ctx, size_t i,
                       const struct audit_mount *m,
                       const struct audit_image *known)
{
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];

    if (known == NULL || !m->bind || is_host_plumbing(m->source) ||
        audit_target_is_config(m->target)) {
        return 0;
    }
    if (known->role == AUDIT_ROLE_MEDIA_SERVER && !m->read_only) {
        audit_format(why, sizeof(why),
                     "the media server only reads '%s', but may change or "
                     "delete the library", m->target);
        audit_format(fix, sizeof(fix), "mount it read-only: '%s:%s:ro'",
                     m->written, m->target);
        return audit_add(ctx, &audit_mount_media_rw, i, m->node, NULL, 0,
                         why, fix);
    }
    /* Jackett and Prowlarr may save .torrent files to a blackhole
     * folder that a downloader watches. */
    if ((known->role == AUDIT_ROLE_REQUEST ||
         known->role == AUDIT_ROLE_INDEXER ||
         known->role == AUDIT_ROLE_SOLVER) &&
        strstr(m->written, "blackhole") == NULL &&
        strstr(m->target, "blackhole") == NULL) {
        audit_format(why, sizeof(why),
                     "the service only talks to other services' APIs but "
                     "can reach '%s' through '%s'", m->written, m->target);
        return audit_add(ctx, &audit_mount_media_api_only, i, m->node, NULL,
                         0, why, "remove the mount; keep only /config");
    }
    return 0;
}

static int is_download_target(const char *target)
{
    static const char *const words[] = { "download", "torrent", "usenet",
                                         "nzb", "complete", NULL };
    size_t i;

    for (i = 0; words[i] != NULL; i++) {
        if (strstr(target, words[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

static int check_hardlinks(struct audit_ctx *ctx, size_t i,
                           const struct audit_mounts *mounts)
{
    const struct audit_mount *download = NULL;
    const struct audit_mount *media = NULL;
    char why[AUDIT_TEXT_MAX];
    size_t k;

    for (k = 0; k < mounts->count; k++) {
        const struct audit_mount *m = &mounts->items[k];

        if (!m->bind || is_host_plumbing(m->source) ||
            audit_target_is_config(m->target)) {
            continue;
        }
        if (is_download_target(m->target)) {
            download = download != NULL ? download : m;
        } else {
            media = media != NULL ? media : m;
        }
    }
    if (download == NULL || media == NULL) {
        return 0;
    }
    audit_format(why, sizeof(why),
                 "downloads ('%s') and the library ('%s') are separate "
                 "mounts, so imports copy instead of hardlinking or "
                 "moving: twice the space and a slow import",
                 download->target, media->target);
    return audit_add(ctx, &audit_mount_hardlink_split, i, download->node,
                     NULL, 0, why,
                     "mount one parent of both, e.g. '/data:/data' with "
                     "/data/torrents and /data/media below it, in the "
                     "downloader and the *arr apps alike");
}

static int add_config_dirs(struct audit_ctx *ctx, struct config_dirs *dirs,
                           struct audit_mounts *all)
{
    size_t n = rotarr_compose_service_count(ctx->compose);
    size_t total = 0;
    size_t i;
    size_t k;
    int server;

    for (i = 0; i < n; i++) {
        total += all[i].count;
    }
    dirs->paths = calloc(total + 1, sizeof(*dirs->paths));
    dirs->written = calloc(total + 1, sizeof(*dirs->written));
    dirs->owners = calloc(total + 1, sizeof(*dirs->owners));
    if (dirs->paths == NULL || dirs->written == NULL ||
        dirs->owners == NULL) {
        return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < n; i++) {
        server = rotarr_stack_service_kind(
                     ctx->stack, rotarr_compose_service(ctx->compose, i)) !=
                 ROTARR_SERVICE_OTHER;
        for (k = 0; k < all[i].count; k++) {
            if (is_config_mount(&all[i].items[k], server)) {
                dirs->paths[dirs->count] = all[i].items[k].source;
                dirs->written[dirs->count] = all[i].items[k].written;
                dirs->owners[dirs->count++] = i;
            }
        }
    }
    return 0;
}

static int check_service(struct audit_ctx *ctx, size_t i,
                         const struct audit_mounts *mounts,
                         const struct config_dirs *dirs)
{
    const struct audit_image *known = audit_image_lookup(ctx->images[i]);
    const struct audit_mount *m;
    size_t k;

    for (k = 0; k < mounts->count; k++) {
        m = &mounts->items[k];
        if (m->bind && is_socket(m->source) && check_socket(ctx, i, m) < 0) {
            return -1;
        }
        if (check_broad(ctx, i, m, dirs) < 0 ||
            check_media(ctx, i, m, known) < 0) {
            return -1;
        }
    }
    if (known != NULL && known->role == AUDIT_ROLE_ARR) {
        return check_hardlinks(ctx, i, mounts);
    }
    return 0;
}

int audit_mounts(struct audit_ctx *ctx)
{
    size_t n = rotarr_compose_service_count(ctx->compose);
    struct config_dirs dirs = { NULL, NULL, NULL, 0 };
    struct audit_mounts *all;
    size_t i;
    int ret = -1;

    all = calloc(n + 1, sizeof(*all));
    if (all == NULL) {
        return rotarr_error_set(ctx->err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < n; i++) {
        if (audit_service_mounts(ctx, i, &all[i]) < 0) {
            goto out;
        }
    }
    if (add_config_dirs(ctx, &dirs, all) < 0) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (check_service(ctx, i, &all[i], &dirs) < 0) {
            goto out;
        }
    }
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        audit_mounts_release(&all[i]);
    }
    free(all);
    free(dirs.paths);
    free(dirs.written);
    free(dirs.owners);
    return ret;
}

const struct audit_check audit_mount_docker_socket = {
    "mount-docker-socket",
    ROTARR_AUDIT_HIGH,
    "The Docker socket (/var/run/docker.sock) accepts every API call of\n"
    "the engine, which runs as root: a service that can write to it can\n"
    "start a privileged container with the host's / mounted.  ':ro' does\n"
    "not help, because it only stops the file from being replaced, not\n"
    "API calls.  Give the socket only to services that need it, through a\n"
    "socket proxy that allows just their calls.\n",
};

const struct audit_check audit_mount_broad_appdata = {
    "mount-broad-appdata",
    ROTARR_AUDIT_HIGH,
    "A host directory mounted into the service contains the configuration\n"
    "directory of another service (the whole appdata folder, a parent of\n"
    "/config mounts, or /).  Configuration directories hold API keys,\n"
    "session secrets and databases, such as a password manager's vault,\n"
    "so one compromised container reads them all.  Mount each service's\n"
    "own directory only.\n",
};

const struct audit_check audit_mount_media_rw = {
    "mount-media-rw",
    ROTARR_AUDIT_LOW,
    "A media server (Jellyfin, Plex, Emby) reads the library; it needs\n"
    "write access only to its /config, cache and transcode directories.\n"
    "Mounting media read-only keeps a compromised or buggy server from\n"
    "deleting or encrypting the library.  Features that write next to the\n"
    "media (saving artwork or subtitles into the library folders) need\n"
    "read-write and can be turned off in the server's settings.\n",
};

const struct audit_check audit_mount_media_api_only = {
    "mount-media-api-only",
    ROTARR_AUDIT_MEDIUM,
    "Request managers (Jellyseerr, Overseerr, Ombi), indexer managers\n"
    "(Prowlarr, Jackett) and FlareSolverr only talk to other services'\n"
    "APIs; they never read media or downloads.  A media or downloads\n"
    "mount only widens what a compromise of these web-facing services\n"
    "reaches.  A mount whose path names a blackhole folder (where an\n"
    "indexer saves .torrent files for a downloader) is not reported.\n",
};

const struct audit_check audit_mount_hardlink_split = {
    "mount-hardlink-split",
    ROTARR_AUDIT_MEDIUM,
    "An *arr app imports a finished download by hardlinking or moving it\n"
    "into the library.  Both work only inside one mount: with downloads\n"
    "and media in separate bind mounts (e.g. /downloads and /tv) every\n"
    "import is a full copy, which doubles the space used and slows\n"
    "imports.  Mount one common parent (e.g. /data with torrents/ and\n"
    "media/ below it) with the same path in the downloader and the apps.\n",
};
