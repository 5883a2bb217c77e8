/*
 * Included first by every rotarr source file: feature macros, attribute
 * shorthands, and the list of libc calls that rotarr must not use.
 */
#ifndef ROTARR_COMPAT_H
#define ROTARR_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#define ROTARR_MUST_CHECK __attribute__((warn_unused_result))
#define ROTARR_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define ROTARR_UNUSED __attribute__((unused))

/* The system headers whose declarations banned.h renames must be read
 * before it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rotarr/banned.h"

#endif
