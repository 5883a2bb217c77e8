/*
 * Rotation of a Servarr app's API key.  The app reads the key at start
 * from RADARR__AUTH__APIKEY (and the like) when the service sets it, else
 * from <ApiKey> in its config.xml.  The new key is 32 lowercase hex
 * characters, the form the apps generate.  Every copy of the old key in
 * the stack (env files, compose, Bazarr's config.yaml, the settings.json
 * of Jellyseerr and Overseerr) is rewritten with it.  No server is
 * involved, so there is no journal: the files are written one by one,
 * each atomically.
 */
#ifndef ROTARR_ARRKEY_H
#define ROTARR_ARRKEY_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/pgrot.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

/* Length of a Servarr API key in hex characters. */
#define ROTARR_ARRKEY_LEN 32

struct rotarr_arrkey_request {
    const char *service; /* default: the only Servarr app */
    int dry_run;         /* plan the edits, write nothing */
};

/* A place outside the stack's files that keeps a copy of the key. */
struct rotarr_arrkey_consumer {
    char service[ROTARR_NAME_MAX];
    char place[ROTARR_NAME_MAX]; /* "Settings > Apps > Radarr > API Key" */
};

struct rotarr_arrkey_plan {
    char service[ROTARR_NAME_MAX];
    char app[32];                 /* "radarr" */
    char source[ROTARR_NAME_MAX]; /* where the app reads its key */
    struct rotarr_secret *current;
    struct rotarr_secret *next;
    struct rotarr_occurrences occurrences;
    struct rotarr_file_edits edits;
    char **restart; /* services to recreate */
    size_t restart_count;
    struct rotarr_arrkey_consumer *consumers;
    size_t consumer_count;
    struct rotarr_buf notices; /* lines for standard error */
};

#define ROTARR_ARRKEY_PLAN_INIT                                          \
    {                                                                    \
        "", "", "", NULL, NULL, ROTARR_OCCURRENCES_INIT,                 \
            ROTARR_FILE_EDITS_INIT, NULL, 0, NULL, 0, ROTARR_BUF_INIT    \
    }

/*
 * Finds the app, its key and every copy of it, and draws the new key.
 * Fails with ROTARR_EUSAGE when the stack has no Servarr app, several
 * and no req->service, or when req->service is not one; and with
 * ROTARR_EFILE when the app has no key (no <ApiKey> in config.xml and no
 * override variable), naming the file.
 */
int rotarr_arrkey_plan(const struct rotarr_stack *stack,
                       const struct rotarr_arrkey_request *req,
                       struct rotarr_arrkey_plan *plan,
                       struct rotarr_error *err) ROTARR_MUST_CHECK;

/*
 * Computes the edits of a plan and, unless req->dry_run, writes them
 * with the stack lock held (rotarr_stack_lock_for_write); fills
 * plan->restart with the services that read the key.  Stops at the
 * first file that cannot be written (ROTARR_EFILE), whose name the
 * message gives.  Files written before it keep the new key.
 */
int rotarr_arrkey_run(const struct rotarr_stack *stack,
                      const struct rotarr_arrkey_request *req,
                      struct rotarr_arrkey_plan *plan,
                      struct rotarr_error *err) ROTARR_MUST_CHECK;

void rotarr_arrkey_plan_release(struct rotarr_arrkey_plan *plan);

#endif
