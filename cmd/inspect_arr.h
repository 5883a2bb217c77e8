/*
 * The Servarr part of 'rotarr inspect': the secrets kept in the apps'
 * settings files and, for each app, the Postgres role it uses and where
 * it reads its API key.
 */
#ifndef ROTARR_CMD_INSPECT_ARR_H
#define ROTARR_CMD_INSPECT_ARR_H

#include <stddef.h>

#include "rotarr/error.h"
#include "rotarr/stack.h"

/* Receives one secret: a name for it, the service it belongs to and
 * its value. */
typedef int (*inspect_add_fn)(void *ctx, const char *name,
                              const char *service, const char *value,
                              size_t len, struct rotarr_error *err);

/* Calls add for each password or key setting of the stack's app
 * settings files ("prowlarr: ApiKey"). */
int inspect_app_secrets(const struct rotarr_stack *stack, inspect_add_fn add,
                        void *ctx, struct rotarr_error *err);

/* Prints the "apps:" section, or with json the value of "apps" (an
 * array).  Returns 0, or -1 with err set. */
int inspect_print_apps(const struct rotarr_stack *stack, int json,
                       struct rotarr_error *err);

#endif
