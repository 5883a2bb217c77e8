/*
 * Shared by the audit checks: the description of each check, the context
 * a check runs in, and helpers that read a service's settings, mounts and
 * values.
 */
#ifndef ROTARR_AUDIT_PRIVATE_H
#define ROTARR_AUDIT_PRIVATE_H

#include <stddef.h>

#include "rotarr/audit.h"
#include "rotarr/buf.h"
#include "rotarr/compose.h"
#include "rotarr/stack.h"
#include "rotarr/yamldoc.h"

/* Maximum length of a why or fix text; longer ones end in "...". */
#define AUDIT_TEXT_MAX 1024

/* Maximum length of a path compared by the mount checks. */
#define AUDIT_PATH_MAX 1024

struct audit_check {
    const char *id;
    enum rotarr_audit_severity severity;
    const char *explain;
};

struct audit_ctx {
    const struct rotarr_stack *stack;
    const struct rotarr_compose *compose;
    time_t now;
    time_t max_age;
    struct rotarr_audit *out;
    struct rotarr_error *err;
    char **images; /* interpolated image of each service, or "" */
};

/* Role of a service in a media stack, judged from its image. */
enum audit_role {
    AUDIT_ROLE_OTHER,
    AUDIT_ROLE_ARR,          /* Sonarr, Radarr, Lidarr, Readarr, ... */
    AUDIT_ROLE_INDEXER,      /* Prowlarr, Jackett */
    AUDIT_ROLE_REQUEST,      /* Jellyseerr, Overseerr, Ombi */
    AUDIT_ROLE_SOLVER,       /* FlareSolverr */
    AUDIT_ROLE_MEDIA_SERVER, /* Jellyfin, Plex, Emby */
    AUDIT_ROLE_DOWNLOADER,   /* qBittorrent, SABnzbd, Transmission, ... */
    AUDIT_ROLE_SUBTITLES,    /* Bazarr */
    AUDIT_ROLE_VPN,          /* Gluetun, WireGuard and OpenVPN clients */
};

/* Facts about an image that the checks use. */
struct audit_image {
    const char *name; /* last path component, without tag */
    enum audit_role role;
    int port;                /* container port of the web UI, or 0 */
    const char *health_path; /* unauthenticated endpoint, or NULL */
    const char *health_tool; /* "curl" or "wget" inside the image */
    const char *gpu_caps;    /* NVIDIA capabilities it needs, or NULL */
};

/* One volume of a service. */
struct audit_mount {
    char source[AUDIT_PATH_MAX]; /* interpolated and made absolute */
    char written[AUDIT_PATH_MAX]; /* interpolated, as written */
    char target[AUDIT_PATH_MAX];
    int bind;      /* source is a host path, not a named volume */
    int read_only;
    const struct rotarr_ynode *node;
};

struct audit_mounts {
    struct audit_mount *items;
    size_t count;
};

/* Checks, by family. */
extern const struct audit_check audit_secret_literal, audit_secret_weak,
    audit_secret_shared, audit_env_file_readable, audit_secret_overdue,
    audit_db_no_password;
extern const struct audit_check audit_mount_docker_socket,
    audit_mount_broad_appdata, audit_mount_media_rw,
    audit_mount_media_api_only, audit_mount_hardlink_split;
extern const struct audit_check audit_network_db_shared,
    audit_network_db_not_internal, audit_port_db_public;
extern const struct audit_check audit_umask_open, audit_image_latest,
    audit_privileged, audit_privileged_cap_add, audit_nvidia_caps_all,
    audit_healthcheck_missing;
extern const struct audit_check audit_no_new_privileges;
extern const char audit_linuxserver_explain[];

int audit_secrets(struct audit_ctx *ctx);
int audit_mounts(struct audit_ctx *ctx);
int audit_networks(struct audit_ctx *ctx);
int audit_settings(struct audit_ctx *ctx);
int audit_images(struct audit_ctx *ctx);

/*
 * Appends a finding of check about service i (or the stack when i is
 * (size_t)-1) at node, or at file:line when node is NULL (file NULL for
 * none).  why and fix are copied.  Returns 0, or -1 with ctx->err set.
 */
int audit_add(struct audit_ctx *ctx, const struct audit_check *check,
              size_t i, const struct rotarr_ynode *node, const char *file,
              size_t line, const char *why, const char *fix);

/* snprintf that marks a truncated text with "..." instead of failing. */
void audit_format(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the value of key in the last layer of svc that sets it. */
const struct rotarr_ynode *
audit_service_get(const struct rotarr_compose_service *svc, const char *key);

/* Returns the node to point at for a finding about the whole service:
 * its image, else its mapping. */
const struct rotarr_ynode *
audit_service_anchor(const struct rotarr_compose_service *svc);

/*
 * Expands a compose text into out; a text that cannot be interpolated
 * (a required variable that the stack leaves unset) is used as written.
 */
int audit_expand(struct audit_ctx *ctx, const char *text, size_t len,
                 struct rotarr_buf *out);

/*
 * Reads the value of variable key of service i: returns 1 with the value
 * in value (which the caller wipes) and the place where it is defined in
 * *file and *line, 0 when unset, -1 on error.
 */
int audit_service_value(struct audit_ctx *ctx, size_t i, const char *key,
                        struct rotarr_buf *value, const char **file,
                        size_t *line);

/* Lists the volumes of service i; release with audit_mounts_release. */
int audit_service_mounts(struct audit_ctx *ctx, size_t i,
                         struct audit_mounts *mounts);
void audit_mounts_release(struct audit_mounts *mounts);

/* Returns 1 when a container path contains configuration, caches or
 * logs rather than media. */
int audit_target_is_config(const char *target);

/* Returns 1 when service user connects to service server: it depends on
 * it, or names it as a host in its environment or command. */
int audit_service_uses(struct audit_ctx *ctx, size_t user, size_t server);

/* Returns 1 when a variable name marks a password, token or key. */
int audit_name_is_secret(const char *name);

/* Returns the table entry of image, or NULL when it is not known. */
const struct audit_image *audit_image_lookup(const char *image);

/* Returns 1 when image starts an init as root that drops to PUID/PGID
 * (LinuxServer, hotio, binhex), which hardening settings break. */
int audit_image_has_root_init(const char *image);

/* Returns 1 when the image declares a HEALTHCHECK of its own. */
int audit_image_has_healthcheck(const char *image);

/* Returns 1 when image is a VPN client that needs privileged mode: the
 * binhex *vpn images, whose WireGuard setup requires it. */
int audit_image_needs_privileged(const char *image);

#endif
