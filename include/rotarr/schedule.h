/*
 * The managed secrets of a stack and when each is due: what 'rotarr
 * status' lists and 'rotarr rotate' acts on.
 *
 * A managed secret is the password of a Postgres service, or of a Redis
 * service that has one.  Its age comes from the rotation time that
 * .rotarr/state records (rotarr/state.h).  A secret with no record has an
 * unknown age and is due at once, so the first scheduled run rotates
 * every secret that rotarr has not rotated before.
 */
#ifndef ROTARR_SCHEDULE_H
#define ROTARR_SCHEDULE_H

#include <stddef.h>
#include <time.h>

#include "rotarr/error.h"
#include "rotarr/pgrot.h"
#include "rotarr/stack.h"

/* Default maximum age of a secret: 90 days, in seconds. */
#define ROTARR_SCHEDULE_MAX_AGE_DEFAULT (90L * 86400L)

/* Maximum accepted --max-age: 100 years, in seconds. */
#define ROTARR_SCHEDULE_MAX_AGE_LIMIT (36500L * 86400L)

/* Maximum number of managed secrets in one stack. */
#define ROTARR_SCHEDULE_SECRETS_MAX 256

enum rotarr_managed_kind {
    ROTARR_MANAGED_POSTGRES,
    ROTARR_MANAGED_REDIS,
};

/* Bits of rotarr_managed.warnings. */
#define ROTARR_WARN_MD5 0x1u      /* the role's password is an md5 hash */
#define ROTARR_WARN_READABLE 0x2u /* a file with the secret is not 0600 */
#define ROTARR_WARN_PLAN 0x4u     /* rotarr cannot plan its rotation */
#define ROTARR_WARN_LOGIN 0x8u    /* the probe could not log in */

/* One managed secret and its schedule. */
struct rotarr_managed {
    enum rotarr_managed_kind kind;
    char service[ROTARR_NAME_MAX];
    char var[ROTARR_NAME_MAX];    /* the key .rotarr/state uses */
    char source[ROTARR_NAME_MAX]; /* "file:line" of the password */
    int recorded;   /* 1 when .rotarr/state has a rotation time */
    time_t rotated; /* that time, when recorded */
    time_t due;     /* rotated + max age; the current time when unknown */
    int is_due;
    unsigned warnings;              /* ROTARR_WARN_* bits */
    char plan_error[ROTARR_ERROR_MSG_MAX];  /* with ROTARR_WARN_PLAN */
    enum rotarr_status plan_code;           /* its exit status */
    char login_error[ROTARR_ERROR_MSG_MAX]; /* with ROTARR_WARN_LOGIN */
};

/* Every managed secret of a stack, at one instant. */
struct rotarr_schedule {
    struct rotarr_managed *items;
    size_t count;
    time_t now;
    long max_age;         /* seconds */
    int journal_pending;  /* .rotarr/journal exists */
    char journal_kind[64]; /* its kind, "" when unreadable */
};

#define ROTARR_SCHEDULE_INIT { NULL, 0, 0, 0, 0, "" }

/* Selects which kinds rotarr_schedule_load lists. */
#define ROTARR_SCHEDULE_ONLY_POSTGRES 0x1u
#define ROTARR_SCHEDULE_ONLY_REDIS 0x2u
#define ROTARR_SCHEDULE_ALL 0x3u

/*
 * Returns the current time.  In a build with failpoints the environment
 * variable ROTARR_NOW (a unix time) replaces the clock, so a test can
 * move the schedule forward.  It does not change the times that a
 * rotation records, which always come from the system clock.
 */
time_t rotarr_schedule_now(void);

/*
 * Parses a duration such as "90d", "12h", "2w", "30m" or "3600s" (a bare
 * number means days) into seconds.  Rejects zero, a negative value, an
 * unknown unit and anything over ROTARR_SCHEDULE_MAX_AGE_LIMIT with
 * ROTARR_EUSAGE.
 */
int rotarr_parse_duration(const char *text, long *seconds,
                          struct rotarr_error *err);

/*
 * Lists the managed secrets of stack, of the kinds in only, with their
 * age against max_age seconds, the warnings that need no server, and
 * whether a journal is pending.  A secret whose rotation cannot be
 * planned is still listed, with ROTARR_WARN_PLAN and the reason.
 * Returns 0, or -1 with err set when the state file cannot be read or
 * memory runs out.
 */
int rotarr_schedule_load(const struct rotarr_stack *stack, unsigned only,
                         long max_age, struct rotarr_schedule *schedule,
                         struct rotarr_error *err);

/*
 * Logs in to the Postgres server of item with the password in the files
 * and sets ROTARR_WARN_MD5 when the role's password is stored as an md5
 * hash.  Only a role that may read pg_authid (a superuser) can tell;
 * otherwise, and for a Redis item, nothing changes.  When the server
 * cannot be reached or refuses the login, sets ROTARR_WARN_LOGIN and
 * login_error instead, so the caller has no error to handle.
 */
void rotarr_schedule_probe(const struct rotarr_stack *stack,
                           struct rotarr_managed *item);

/* Returns "postgres" or "redis". */
const char *rotarr_managed_kind_name(enum rotarr_managed_kind kind);

void rotarr_schedule_release(struct rotarr_schedule *schedule);

struct rotarr_schedule_lock;

/*
 * Takes an exclusive, non-blocking flock on STACKDIR/.rotarr/rotate.lock
 * for the length of one 'rotarr rotate'.  It is separate from the lock
 * of rotarr/journal.h, which each resume and rotation inside the run
 * takes and releases in turn, so that a second scheduled run cannot slip
 * in between them.  Returns NULL with ROTARR_EFILE when another process
 * has taken it; the message names that process.
 */
struct rotarr_schedule_lock *
rotarr_schedule_lock_acquire(const char *stackdir, struct rotarr_error *err);

/* Releases the lock and frees it.  Accepts NULL. */
void rotarr_schedule_lock_release(struct rotarr_schedule_lock *lock);

#endif
