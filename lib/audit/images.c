#include "rotarr/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "audit_private.h"

/* Maximum length of an image reference compared; longer ones are cut. */
#define IMAGE_NAME_MAX 256

/*
 * Images of a media stack.  Health endpoints respond without an API key:
 * /ping on the Servarr apps (v3 and later), /health on Jellyfin,
 * /api/v1/status on Overseerr and Jellyseerr, /identity on Plex.
 */
static const struct audit_image images[] = {
    { "bazarr", AUDIT_ROLE_SUBTITLES, 6767, NULL, NULL, NULL },
    { "deluge", AUDIT_ROLE_DOWNLOADER, 8112, NULL, NULL, NULL },
    { "delugevpn", AUDIT_ROLE_VPN, 8112, NULL, NULL, NULL },
    { "emby", AUDIT_ROLE_MEDIA_SERVER, 8096, NULL, NULL,
      "compute,video,utility" },
    { "embyserver", AUDIT_ROLE_MEDIA_SERVER, 8096, NULL, NULL,
      "compute,video,utility" },
    { "flaresolverr", AUDIT_ROLE_SOLVER, 8191, NULL, NULL, NULL },
    { "gluetun", AUDIT_ROLE_VPN, 0, NULL, NULL, NULL },
    { "immich-machine-learning", AUDIT_ROLE_OTHER, 0, NULL, NULL,
      "compute,utility" },
    { "jackett", AUDIT_ROLE_INDEXER, 9117, NULL, NULL, NULL },
    { "jellyfin", AUDIT_ROLE_MEDIA_SERVER, 8096, "/health", "curl",
      "compute,video,utility" },
    { "jellyseerr", AUDIT_ROLE_REQUEST, 5055, "/api/v1/status", "wget",
      NULL },
    { "lidarr", AUDIT_ROLE_ARR, 8686, "/ping", "curl", NULL },
    { "nzbget", AUDIT_ROLE_DOWNLOADER, 6789, NULL, NULL, NULL },
    { "ombi", AUDIT_ROLE_REQUEST, 3579, NULL, NULL, NULL },
    { "openvpn-client", AUDIT_ROLE_VPN, 0, NULL, NULL, NULL },
    { "overseerr", AUDIT_ROLE_REQUEST, 5055, "/api/v1/status", "wget",
      NULL },
    { "plex", AUDIT_ROLE_MEDIA_SERVER, 32400, "/identity", "curl",
      "compute,video,utility" },
    { "pms-docker", AUDIT_ROLE_MEDIA_SERVER, 32400, "/identity", "curl",
      "compute,video,utility" },
    { "prowlarr", AUDIT_ROLE_INDEXER, 9696, "/ping", "curl", NULL },
    { "qbittorrent", AUDIT_ROLE_DOWNLOADER, 8080, NULL, NULL, NULL },
    { "qbittorrent-nox", AUDIT_ROLE_DOWNLOADER, 8080, NULL, NULL, NULL },
    { "qbittorrentvpn", AUDIT_ROLE_VPN, 8080, NULL, NULL, NULL },
    { "radarr", AUDIT_ROLE_ARR, 7878, "/ping", "curl", NULL },
    { "readarr", AUDIT_ROLE_ARR, 8787, "/ping", "curl", NULL },
    { "sabnzbd", AUDIT_ROLE_DOWNLOADER, 8080, NULL, NULL, NULL },
    { "sabnzbdvpn", AUDIT_ROLE_VPN, 8080, NULL, NULL, NULL },
    { "sonarr", AUDIT_ROLE_ARR, 8989, "/ping", "curl", NULL },
    { "tdarr", AUDIT_ROLE_OTHER, 8265, NULL, NULL, "compute,video,utility" },
    { "tdarr_node", AUDIT_ROLE_OTHER, 0, NULL, NULL,
      "compute,video,utility" },
    { "transmission", AUDIT_ROLE_DOWNLOADER, 9091, NULL, NULL, NULL },
    { "transmission-openvpn", AUDIT_ROLE_VPN, 9091, NULL, NULL, NULL },
    { "whisparr", AUDIT_ROLE_ARR, 6969, "/ping", "curl", NULL },
    { "wireguard", AUDIT_ROLE_VPN, 0, NULL, NULL, NULL },
};

/* Repositories whose image declares a HEALTHCHECK of its own. */
static const char *const healthy_repositories[] = {
    "jellyfin/jellyfin",
    "plexinc/pms-docker",
    NULL,
};

/*
 * Copies image in lower case without "docker.io/", "index.docker.io/",
 * its digest and its tag; stores the start of the last path component in
 * *name.
 */
static void image_repository(const char *image, char *repo, size_t size,
                             const char **name)
{
    static const char *const hubs[] = { "docker.io/", "index.docker.io/",
                                        NULL };
    char *slash;
    char *colon;
    size_t i;

    for (i = 0; hubs[i] != NULL; i++) {
        if (strncmp(image, hubs[i], strlen(hubs[i])) == 0) {
            image += strlen(hubs[i]);
        }
    }
    for (i = 0; image[i] != '\0' && image[i] != '@' && i + 1 < size; i++) {
        repo[i] = (char)tolower((unsigned char)image[i]);
    }
    repo[i] = '\0';
    slash = strrchr(repo, '/');
    colon = strrchr(repo, ':');
    if (colon != NULL && (slash == NULL || colon > slash)) {
        *colon = '\0';
    }
    *name = slash != NULL ? slash + 1 : repo;
}

const struct audit_image *audit_image_lookup(const char *image)
{
    char repo[IMAGE_NAME_MAX];
    const char *name;
    size_t i;

    image_repository(image, repo, sizeof(repo), &name);
    if (strncmp(name, "arch-", 5) == 0) {
        name += 5; /* binhex/arch-sonarr */
    }
    for (i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
        if (strcmp(images[i].name, name) == 0) {
            return &images[i];
        }
    }
    return NULL;
}

/* Returns 1 when the image's repository starts with one of prefixes. */
static int repository_starts(const char *image,
                             const char *const *prefixes)
{
    char repo[IMAGE_NAME_MAX];
    const char *name;
    size_t i;

    image_repository(image, repo, sizeof(repo), &name);
    for (i = 0; prefixes[i] != NULL; i++) {
        if (strncmp(repo, prefixes[i], strlen(prefixes[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

int rotarr_image_is_linuxserver(const char *image)
{
    static const char *const prefixes[] = {
        "lscr.io/linuxserver/", "linuxserver/", "ghcr.io/linuxserver/",
        NULL,
    };

    return repository_starts(image, prefixes);
}

int audit_image_has_root_init(const char *image)
{
    static const char *const prefixes[] = {
        "hotio/", "ghcr.io/hotio/", "cr.hotio.dev/hotio/", "binhex/", NULL,
    };

    return rotarr_image_is_linuxserver(image) ||
           repository_starts(image, prefixes);
}

int audit_image_needs_privileged(const char *image)
{
    static const char *const prefixes[] = { "binhex/", NULL };
    const struct audit_image *known = audit_image_lookup(image);

    return known != NULL && known->role == AUDIT_ROLE_VPN &&
           repository_starts(image, prefixes);
}

/* Returns 1 when the image has a HEALTHCHECK of its own. */
int audit_image_has_healthcheck(const char *image)
{
    return repository_starts(image, healthy_repositories);
}

/* Returns 1 when image is known to run with no-new-privileges: the
 * official Postgres and Redis images drop to their user with setuid
 * system calls made as root, which the setting does not block. */
static int image_takes_no_new_privileges(const char *image)
{
    static const char *const repositories[] = {
        "postgres", "library/postgres", "redis", "library/redis",
        "valkey/valkey", NULL,
    };
    char repo[IMAGE_NAME_MAX];
    const char *name;
    size_t i;

    image_repository(image, repo, sizeof(repo), &name);
    for (i = 0; repositories[i] != NULL; i++) {
        if (strcmp(repo, repositories[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when security_opt contains no-new-privileges:true. */
static int has_no_new_privileges(const struct rotarr_ynode *opts)
{
    size_t i;

    if (opts == NULL || opts->kind != ROTARR_YNODE_SEQUENCE) {
        return 0;
    }
    for (i = 0; i < opts->count; i++) {
        if (opts->items[i]->kind == ROTARR_YNODE_SCALAR &&
            strncmp(opts->items[i]->value, "no-new-privileges", 17) == 0 &&
            strstr(opts->items[i]->value, "false") == NULL) {
            return 1;
        }
    }
    return 0;
}

int audit_images(struct audit_ctx *ctx)
{
    const struct rotarr_compose_service *svc;
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(ctx->compose); i++) {
        svc = rotarr_compose_service(ctx->compose, i);
        if (!image_takes_no_new_privileges(ctx->images[i]) ||
            has_no_new_privileges(audit_service_get(svc, "security_opt"))) {
            continue;
        }
        if (audit_add(ctx, &audit_no_new_privileges, i,
                      audit_service_anchor(svc), NULL, 0,
                      "the service's processes may gain privileges through "
                      "setuid binaries",
                      "add 'security_opt: [\"no-new-privileges:true\"]' to "
                      "the service; the official image drops to its own "
                      "user without setuid binaries") < 0) {
            return -1;
        }
    }
    return 0;
}

const struct audit_check audit_no_new_privileges = {
    "no-new-privileges",
    ROTARR_AUDIT_LOW,
    "A process in the container can gain privileges by running a setuid\n"
    "or setgid binary, or one with file capabilities.  The security\n"
    "option no-new-privileges:true makes the kernel ignore those bits.\n"
    "rotarr suggests it only for images known to work with it: the\n"
    "official Postgres, Redis and Valkey images, which drop to their user\n"
    "with setuid system calls made as root.  It never suggests it for\n"
    "LinuxServer, hotio or binhex images: see 'rotarr audit --explain\n"
    "linuxserver'.\n",
};

const char audit_linuxserver_explain[] =
    "LinuxServer images (lscr.io/linuxserver/*, linuxserver/*,\n"
    "ghcr.io/linuxserver/*), like hotio and binhex images, start as root\n"
    "under the s6-overlay init.  The init changes the owner of /config,\n"
    "applies PUID, PGID and UMASK, and then drops to the abc user with\n"
    "s6-setuidgid.  Generic hardening advice breaks that start:\n"
    "\n"
    "  no-new-privileges  blocks the setuid helpers the init relies on\n"
    "  cap_drop: [ALL]    removes CHOWN, SETUID, SETGID and DAC_OVERRIDE,\n"
    "                     so the init cannot fix owners or change user\n"
    "  read_only: true    the init writes to /run, /etc and /var at start\n"
    "  user:              skips the init's user switch, so PUID/PGID and\n"
    "                     the ownership fixes no longer apply\n"
    "\n"
    "rotarr audit therefore never suggests these four settings for such\n"
    "images.  Use PUID/PGID to choose the user, keep the mounts narrow and\n"
    "read-only where the app only reads, and isolate the networks instead.\n";
