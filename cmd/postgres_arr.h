/*
 * 'rotarr postgres' on a stack whose Servarr apps keep their data in the
 * Postgres service: one rotation per role the apps use.
 */
#ifndef ROTARR_CMD_POSTGRES_ARR_H
#define ROTARR_CMD_POSTGRES_ARR_H

#include "rotarr/pgrot.h"

/* The options of 'rotarr postgres' that the app rotation reads. */
struct postgres_arr_options {
    const struct rotarr_pgrot_request *req; /* --service, --user, ... */
    int password_stdin;
    int show;
    int restart;
};

/*
 * Rotates every role that the stack's Servarr apps use on the Postgres
 * service (req->service, or the one the apps name), or only req->user's
 * when it is one of them, and prints what changed and which apps to
 * restart.  Returns -1 when no app role applies, so that the caller
 * rotates the service's own role; else the exit status.
 */
int postgres_rotate_app_roles(const struct postgres_arr_options *o);

#endif
