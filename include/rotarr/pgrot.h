/*
 * Rotation of a Postgres role's password: the server first, then every
 * copy in the stack's files, driven by a journal in DIR/.rotarr so that a
 * crash at any point can be finished by rotarr_pgrot_resume().
 *
 * Steps: plan (find the service, role and password; log in with it),
 * pending (journal holds old and new), set (ALTER ROLE with a SCRAM
 * verifier built here), test (a new TCP login with the new password),
 * commit (rewrite every occurrence, each file atomically), finish (remove
 * the journal, record the rotation time).
 */
#ifndef ROTARR_PGROT_H
#define ROTARR_PGROT_H

#include <stddef.h>

#include "rotarr/error.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

#define ROTARR_NAME_MAX 256

/* The user's request; NULL or 0 fields take their defaults. */
struct rotarr_pgrot_request {
    const char *service; /* default: the only Postgres service */
    const char *user;    /* default: POSTGRES_USER, else "postgres" */
    const char *var;     /* default: POSTGRES_PASSWORD(_FILE) */
    const char *host;    /* default: the published port's host */
    int port;            /* default: the published port of 5432 */
    const char *dbname;  /* default: POSTGRES_DB, else the role */
    const char *sslmode; /* passed to libpq; NULL for its default */
    const struct rotarr_secret *chosen; /* --password-stdin, or NULL */
    /* The role's current password when the caller found it elsewhere
     * (an app's config.xml), with where it is for messages; NULL to
     * read it from the service's variables. */
    const struct rotarr_secret *current;
    const char *current_source;
    const char *admin_user;             /* --adopt: who sets the role */
    const struct rotarr_secret *admin_password;
    int dry_run;
};

/* Steps whose wall time a run records in plan->step_ms. */
enum rotarr_pgrot_time {
    ROTARR_PGROT_TIME_START,   /* not a step: the first mark */
    ROTARR_PGROT_TIME_CONNECT, /* log in with the current password */
    ROTARR_PGROT_TIME_PENDING, /* write the journal */
    ROTARR_PGROT_TIME_SET,     /* ALTER ROLE */
    ROTARR_PGROT_TIME_TEST,    /* a new login with the new password */
    ROTARR_PGROT_TIME_COMMIT,  /* rewrite the files */
    ROTARR_PGROT_TIME_FINISH,  /* record the time, remove the journal */
    ROTARR_PGROT_TIME_COUNT,
};

/* The plan of a rotation and, after a run, the changes it made. */
struct rotarr_pgrot_plan {
    char service[ROTARR_NAME_MAX];
    char role[ROTARR_NAME_MAX];
    /* The role the service's files name: POSTGRES_USER, else postgres. */
    char file_role[ROTARR_NAME_MAX];
    char var[ROTARR_NAME_MAX];     /* the variable holding the password */
    char source[ROTARR_NAME_MAX];  /* "file:line" of its definition */
    char host[ROTARR_NAME_MAX];
    int port;
    char dbname[ROTARR_NAME_MAX];
    char sslmode[32];
    struct rotarr_secret *current;
    struct rotarr_secret *next; /* set by the run */
    struct rotarr_occurrences occurrences;
    struct rotarr_file_edits edits;
    char **restart;             /* services to recreate */
    size_t restart_count;
    int had_md5;                /* 1 when the role had an md5 hash */
    struct rotarr_buf notices;  /* lines such as ".env: mode 0644 -> 0600" */
    double step_ms[ROTARR_PGROT_TIME_COUNT]; /* wall time of each step */
    double mark_ms;
};

#define ROTARR_PGROT_PLAN_INIT                                            \
    {                                                                     \
        "", "", "", "", "", "", 0, "", "", NULL, NULL,                    \
            ROTARR_OCCURRENCES_INIT, ROTARR_FILE_EDITS_INIT, NULL, 0, 0,  \
            ROTARR_BUF_INIT, { 0 }, 0                                     \
    }

/*
 * Finds the Postgres service, its role and password, where to connect
 * and every occurrence of the password.  With several Postgres services
 * and no req->service, fails with ROTARR_EUSAGE listing them.
 */
int rotarr_pgrot_plan(const struct rotarr_stack *stack,
                      const struct rotarr_pgrot_request *req,
                      struct rotarr_pgrot_plan *plan,
                      struct rotarr_error *err);

/*
 * Runs the rotation of a plan (or, with req->dry_run, computes the edits
 * and stops before touching the server or a file).  On success
 * plan->edits and plan->restart say what changed.  Exit statuses: 5 when
 * the server refuses the current password (the message explains the
 * usual cause and '--adopt'), 4 when it cannot be reached, 6 when files
 * could not all be written after the server changed (run 'rotarr
 * resume').
 */
int rotarr_pgrot_run(const struct rotarr_stack *stack,
                     const struct rotarr_pgrot_request *req,
                     struct rotarr_pgrot_plan *plan,
                     struct rotarr_error *err);

/*
 * Sets the live role to the password the files hold, logging in as
 * req->admin_user, and changes no file.  For a server whose password was
 * changed by hand or that kept its first password when the env file was
 * edited later.  With req->dry_run, contacts no server and returns 0.
 */
int rotarr_pgrot_adopt(const struct rotarr_stack *stack,
                       const struct rotarr_pgrot_request *req,
                       struct rotarr_pgrot_plan *plan,
                       struct rotarr_error *err);

/*
 * Finishes or rolls back a rotation that stopped part-way, from the
 * journal in dir.  Returns 1 when there was one, 0 when there was none.
 * stack_opts loads the stack again to rewrite the files.
 */
int rotarr_pgrot_resume(const struct rotarr_stack_options *stack_opts,
                        struct rotarr_pgrot_plan *plan,
                        struct rotarr_error *err);

void rotarr_pgrot_plan_release(struct rotarr_pgrot_plan *plan);

#endif
