/*
 * The rotation record in STACKDIR/.rotarr/state: one line per managed
 * secret, "<kind> <service> <variable> <unix time of the last rotation>".
 * It holds no secret.
 */
#ifndef ROTARR_STATE_H
#define ROTARR_STATE_H

#include <time.h>

#include "rotarr/error.h"

/*
 * Records that the secret of kind ("postgres", "redis") held by variable
 * var of service was rotated at when, replacing the earlier line for the
 * same secret.  The file is replaced atomically.
 */
int rotarr_state_record(const char *stackdir, const char *kind,
                        const char *service, const char *var, time_t when,
                        struct rotarr_error *err);

/*
 * Returns the last rotation time of a secret in *when: 1 when recorded,
 * 0 when not, -1 on error.
 */
int rotarr_state_lookup(const char *stackdir, const char *kind,
                        const char *service, const char *var, time_t *when,
                        struct rotarr_error *err);

#endif
