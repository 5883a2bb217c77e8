#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit_private.h"

static int check_umask(struct audit_ctx *ctx, size_t i)
{
    static const char *const keys[] = { "UMASK", "UMASK_SET", NULL };
    static const char *const open[] = { "0", "00", "000", "0000", NULL };
    struct rotarr_buf value = ROTARR_BUF_INIT;
    char why[AUDIT_TEXT_MAX];
    const char *file;
    size_t line;
    size_t k;
    size_t o;
    int ret = 0;

    for (k = 0; keys[k] != NULL && ret == 0; k++) {
        if (audit_service_value(ctx, i, keys[k], &value, &file, &line) != 1) {
            continue;
        }
        for (o = 0; open[o] != NULL; o++) {
            if (strcmp(value.data, open[o]) != 0) {
                continue;
            }
            audit_format(why, sizeof(why),
                         "%s=%s makes every file the service creates "
                         "writable by every user and container",
                         keys[k], value.data);
            ret = audit_add(ctx, &audit_umask_open, i, NULL, file, line, why,
                            "set UMASK=0002: files stay writable by the "
                            "shared group (PGID), not by everyone");
            break;
        }
    }
    rotarr_buf_release(&value);
    return ret;
}

/* Returns the tag of image, "" when it has none, or NULL when it is
 * pinned by digest. */
static const char *image_tag(const char *image)
{
    const char *slash = strrchr(image, '/');
    const char *last = slash != NULL ? slash + 1 : image;
    const char *colon;

    if (strchr(image, '@') != NULL) {
        return NULL;
    }
    colon = strchr(last, ':');
    return colon != NULL ? colon + 1 : "";
}

static int check_tag(struct audit_ctx *ctx, size_t i)
{
    const struct rotarr_compose_service *svc;
    const char *tag;
    char why[AUDIT_TEXT_MAX];

    svc = rotarr_compose_service(ctx->compose, i);
    if (ctx->images[i][0] == '\0') {
        return 0;
    }
    tag = image_tag(ctx->images[i]);
    if (tag == NULL || (tag[0] != '\0' && strcmp(tag, "latest") != 0)) {
        return 0;
    }
    audit_format(why, sizeof(why),
                 "'%s' has %s: each pull may bring a new major version "
                 "(a database upgrade, a changed config format) and a "
                 "rollback has no tag to go back to",
                 ctx->images[i],
                 tag[0] == '\0' ? "no tag" : "the tag ':latest'");
    return audit_add(ctx, &audit_image_latest, i, audit_service_anchor(svc),
                     NULL, 0, why,
                     "pin a version tag and update it on purpose; a moving "
                     "tag is acceptable where the project publishes no "
                     "version tag");
}

static int is_true(const struct rotarr_ynode *node)
{
    return rotarr_ynode_equals(node, "true") ||
           rotarr_ynode_equals(node, "True") ||
           rotarr_ynode_equals(node, "TRUE");
}

static int check_privileged(struct audit_ctx *ctx, size_t i)
{
    const struct rotarr_compose_service *svc;
    const struct rotarr_ynode *privileged;
    const struct rotarr_ynode *cap_add;
    int vpn = audit_image_needs_privileged(ctx->images[i]);

    svc = rotarr_compose_service(ctx->compose, i);
    privileged = audit_service_get(svc, "privileged");
    cap_add = audit_service_get(svc, "cap_add");
    if (!is_true(privileged)) {
        return 0;
    }
    if (cap_add != NULL && cap_add->count > 0) {
        return audit_add(
            ctx, &audit_privileged_cap_add, i, privileged, NULL, 0,
            "privileged: true already grants every capability, so cap_add "
            "adds nothing",
            vpn ? "keep 'privileged: true', which this VPN image needs for "
                  "its WireGuard tunnel, and remove the redundant cap_add"
                : "remove 'privileged: true' and keep cap_add, with "
                  "devices: for the devices the service uses");
    }
    if (vpn) {
        return 0;
    }
    return audit_add(ctx, &audit_privileged, i, privileged, NULL, 0,
                     "privileged: true gives the container every capability "
                     "and every host device: a compromise is root on the "
                     "host",
                     "remove it and grant only what the service uses, e.g. "
                     "'devices: [/dev/dri:/dev/dri]' for hardware "
                     "transcoding or 'cap_add: [NET_ADMIN]' for a tunnel");
}

static int check_gpu(struct audit_ctx *ctx, size_t i)
{
    const struct audit_image *known = audit_image_lookup(ctx->images[i]);
    struct rotarr_buf value = ROTARR_BUF_INIT;
    char fix[AUDIT_TEXT_MAX];
    const char *caps;
    const char *file;
    size_t line;
    int ret = 0;

    if (audit_service_value(ctx, i, "NVIDIA_DRIVER_CAPABILITIES", &value,
                            &file, &line) == 1 &&
        strcmp(value.data, "all") == 0) {
        caps = known != NULL && known->gpu_caps != NULL ? known->gpu_caps
                                                        : "compute,utility";
        audit_format(fix, sizeof(fix),
                     "set NVIDIA_DRIVER_CAPABILITIES=%s, what %s", caps,
                     known != NULL && known->gpu_caps != NULL
                         ? "this image uses"
                         : "GPU computing needs (add video for encoding)");
        ret = audit_add(ctx, &audit_nvidia_caps_all, i, NULL, file, line,
                        "NVIDIA_DRIVER_CAPABILITIES=all mounts every driver "
                        "library and tool into the container, display and "
                        "graphics included",
                        fix);
    }
    rotarr_buf_release(&value);
    return ret;
}

static int healthcheck_disabled(const struct rotarr_ynode *healthcheck)
{
    return healthcheck == NULL ||
           is_true(rotarr_ynode_get(healthcheck, "disable"));
}

static int check_healthcheck(struct audit_ctx *ctx, size_t i)
{
    const struct rotarr_compose_service *svc;
    const struct audit_image *known = audit_image_lookup(ctx->images[i]);
    const char *tool;
    char why[AUDIT_TEXT_MAX];
    char fix[AUDIT_TEXT_MAX];

    svc = rotarr_compose_service(ctx->compose, i);
    if (known == NULL || known->health_path == NULL ||
        !healthcheck_disabled(svc->healthcheck) ||
        audit_image_has_healthcheck(ctx->images[i])) {
        return 0;
    }
    tool = audit_image_has_root_init(ctx->images[i]) ? "curl"
                                                     : known->health_tool;
    audit_format(why, sizeof(why),
                 "the image answers %s without authentication, but no "
                 "healthcheck uses it: Docker cannot tell a hung %s from "
                 "a working one, and depends_on cannot wait for it",
                 known->health_path, known->name);
    audit_format(fix, sizeof(fix),
                 "add 'healthcheck: {test: [\"CMD\", %s\"http://localhost:"
                 "%d%s\"], interval: 30s, timeout: 10s, retries: 3}' "
                 "(%s is in the image)",
                 strcmp(tool, "curl") == 0 ? "\"curl\", \"-fsS\", "
                                           : "\"wget\", \"-q\", \"--spider\", ",
                 known->port, known->health_path, tool);
    return audit_add(ctx, &audit_healthcheck_missing, i,
                     audit_service_anchor(svc), NULL, 0, why, fix);
}

int audit_settings(struct audit_ctx *ctx)
{
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(ctx->compose); i++) {
        if (check_umask(ctx, i) < 0 || check_tag(ctx, i) < 0 ||
            check_privileged(ctx, i) < 0 || check_gpu(ctx, i) < 0 ||
            check_healthcheck(ctx, i) < 0) {
            return -1;
        }
    }
    return 0;
}

const struct audit_check audit_umask_open = {
    "umask-open",
    ROTARR_AUDIT_MEDIUM,
    "UMASK=000 makes every file and directory the service creates\n"
    "writable by every user of the host and every container that mounts\n"
    "it, so one compromised container can change another's media,\n"
    "configuration and scripts.  0002 keeps files writable by the owner\n"
    "and the shared group (PGID), which is what media stacks need.\n",
};

const struct audit_check audit_image_latest = {
    "image-latest",
    ROTARR_AUDIT_LOW,
    "An image with no tag or ':latest' changes whenever it is pulled:\n"
    "a new major version can migrate a database or change a config\n"
    "format with no way back, and two hosts may run different code.  Pin\n"
    "a version tag (or a digest) and update on purpose.  Some images\n"
    "publish only a moving tag; for those the finding can be ignored.\n",
};

const struct audit_check audit_privileged = {
    "privileged",
    ROTARR_AUDIT_MEDIUM,
    "privileged: true turns off the container's isolation: every\n"
    "capability, every host device, no seccomp or AppArmor profile.  Root\n"
    "in the container is then root on the host.  Media stacks rarely need\n"
    "it: hardware transcoding needs only the GPU device, a VPN client\n"
    "only NET_ADMIN and /dev/net/tun.  VPN images that need privileged\n"
    "mode (the binhex *vpn images, for WireGuard) are not reported.\n",
};

const struct audit_check audit_privileged_cap_add = {
    "privileged-cap-add",
    ROTARR_AUDIT_LOW,
    "A privileged container already has every capability, so cap_add\n"
    "next to privileged: true does nothing, and suggests that the\n"
    "capabilities alone were meant.  For VPN images that need privileged\n"
    "mode the fix keeps it and drops cap_add; for other images it drops\n"
    "privileged: true and keeps the listed capabilities.\n",
};

const struct audit_check audit_nvidia_caps_all = {
    "nvidia-caps-all",
    ROTARR_AUDIT_LOW,
    "NVIDIA_DRIVER_CAPABILITIES=all mounts every part of the host driver\n"
    "into the container: compute, video, graphics, display and utility.\n"
    "A media server needs compute,video,utility for transcoding, machine\n"
    "learning needs compute,utility.  Fewer driver libraries means less\n"
    "host code reachable from the container.\n",
};

const struct audit_check audit_healthcheck_missing = {
    "healthcheck-missing",
    ROTARR_AUDIT_LOW,
    "The image has an endpoint that reports its health without an API\n"
    "key (/ping for the Servarr apps, /health for Jellyfin,\n"
    "/api/v1/status for Jellyseerr and Overseerr, /identity for Plex),\n"
    "but the service has no healthcheck.  Without one, Docker shows a hung\n"
    "app as running, 'depends_on: condition: service_healthy' cannot wait\n"
    "for it, and autoheal tools cannot restart it.  The suggested test\n"
    "uses a tool the image ships.\n",
};
