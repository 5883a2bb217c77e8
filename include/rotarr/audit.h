/*
 * The security review of a stack ('rotarr audit'): checks of the secrets,
 * the mounts, the networks and the container settings, read from the
 * compose files, the env files and the rotation state alone, without a
 * Docker engine.
 *
 * Every finding names its check, a severity, the service, the place in a
 * file, the reason and the fix.  The checks know the images of a media
 * stack.  LinuxServer images (lscr.io/linuxserver/..., linuxserver/...,
 * ghcr.io/linuxserver/...), hotio and binhex images start an s6 init as
 * root, which needs setuid and capability changes to drop to PUID/PGID.
 * So no fix for them suggests no-new-privileges, dropping every
 * capability, a read-only root file system or another user.
 */
#ifndef ROTARR_AUDIT_H
#define ROTARR_AUDIT_H

#include <stddef.h>
#include <time.h>

#include "rotarr/error.h"
#include "rotarr/stack.h"

enum rotarr_audit_severity {
    ROTARR_AUDIT_LOW = 1,
    ROTARR_AUDIT_MEDIUM = 2,
    ROTARR_AUDIT_HIGH = 3,
};

/* One finding.  Its strings are owned by the audit. */
struct rotarr_finding {
    const char *id; /* the check, e.g. "mount-docker-socket"; static */
    enum rotarr_audit_severity severity;
    char *service; /* "" for a finding about the whole stack */
    char *image;   /* the service's image after interpolation, or "" */
    char *file;    /* display path, or "" when no file applies */
    size_t line;   /* 1-based, 0 when the finding is about a whole file */
    char *why;
    char *fix;
};

struct rotarr_audit {
    struct rotarr_finding *items;
    size_t count;
    size_t alloc;
};

#define ROTARR_AUDIT_INIT { NULL, 0, 0 }

/* Default maximum age of a rotated secret: 90 days. */
#define ROTARR_AUDIT_DEFAULT_MAX_AGE ((time_t)90 * 24 * 60 * 60)

/* Passwords shorter than this are reported as weak. */
#define ROTARR_AUDIT_MIN_PASSWORD_LEN 16

struct rotarr_audit_options {
    time_t now;     /* 0: time(NULL) */
    time_t max_age; /* 0: ROTARR_AUDIT_DEFAULT_MAX_AGE */
};

/*
 * Runs every check on stack and appends the findings to out, sorted by
 * rotarr_audit_sort().  opts may be NULL for the defaults.  A value that
 * cannot be interpolated is audited as written or as unset.  Returns 0,
 * or -1 with err set to ROTARR_EFILE when the state file is unreadable or
 * memory runs out.  No finding contains a secret's value.
 */
int rotarr_audit_run(const struct rotarr_stack *stack,
                     const struct rotarr_audit_options *opts,
                     struct rotarr_audit *out, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Sorts the findings into groups by service: the group with the most
 * severe finding first (ties in the order of the services' names), and
 * within a group by severity, most severe first, then by file and line.
 */
void rotarr_audit_sort(struct rotarr_audit *audit);

/* Returns the number of findings at or above severity min. */
size_t rotarr_audit_count_at_least(const struct rotarr_audit *audit,
                                   enum rotarr_audit_severity min);

/* Returns "low", "medium" or "high". */
const char *rotarr_audit_severity_name(enum rotarr_audit_severity severity);

/* Parses "low", "medium" or "high"; returns 0, or -1 for another text. */
int rotarr_audit_severity_parse(const char *text,
                                enum rotarr_audit_severity *severity);

/*
 * Returns the long explanation of check id (or of the topic
 * "linuxserver"), or NULL when there is no such check.
 */
const char *rotarr_audit_explain(const char *id);

/* Returns the number of checks, and the id of check i, for listings. */
size_t rotarr_audit_check_count(void);
const char *rotarr_audit_check_id(size_t i);

/*
 * Returns 1 when image (interpolated) is a LinuxServer image:
 * lscr.io/linuxserver/..., linuxserver/... or ghcr.io/linuxserver/..., with or
 * without docker.io/ in front.
 */
int rotarr_image_is_linuxserver(const char *image);

void rotarr_audit_release(struct rotarr_audit *audit);

#endif
