/*
 * Passwords that two servers of a stack share.  A rotation rewrites every
 * copy of the old password in the stack's files, so when another Postgres
 * or Redis service has the same one, its copies would change as well
 * while its server keeps the old password.
 */
#ifndef ROTARR_SHARED_H
#define ROTARR_SHARED_H

#include "rotarr/error.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

/*
 * Fails with ROTARR_EUSAGE, naming the other service and its variable,
 * when a Postgres or Redis service of stack other than service has
 * password as its own.  Services whose password cannot be found are
 * passed over.  Returns 0 or -1.
 */
int rotarr_check_unshared(const struct rotarr_stack *stack,
                          const char *service,
                          const struct rotarr_secret *password,
                          struct rotarr_error *err);

#endif
