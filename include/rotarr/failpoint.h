/*
 * Crash points for recovery tests.  In a build configured with
 * -Dfailpoints=true, ROTARR_FAILPOINT("after-set") kills the process
 * with SIGKILL when the environment variable ROTARR_FAILPOINT equals
 * "after-set", so a test can stop a rotation right after any step and
 * check that 'rotarr resume' recovers.  When ROTARR_FAILPOINT equals
 * "sleep-after-set", the process sleeps one second there instead, so
 * that a test can read its /proc files in the middle of a rotation.
 * With "stop-after-set", it stops itself with SIGSTOP, so that a test
 * can change files or run another rotarr before it sends SIGCONT.  In
 * every other build the macro compiles to nothing.
 */
#ifndef ROTARR_FAILPOINT_H
#define ROTARR_FAILPOINT_H

#ifdef ROTARR_FAILPOINTS

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void rotarr_failpoint(const char *name)
{
    const char *chosen = getenv("ROTARR_FAILPOINT");

    if (chosen != NULL && strcmp(chosen, name) == 0) {
        raise(SIGKILL);
    }
    if (chosen != NULL && strncmp(chosen, "sleep-", 6) == 0 &&
        strcmp(chosen + 6, name) == 0) {
        sleep(1);
    }
    if (chosen != NULL && strncmp(chosen, "stop-", 5) == 0 &&
        strcmp(chosen + 5, name) == 0) {
        raise(SIGSTOP);
    }
}

#define ROTARR_FAILPOINT(name) rotarr_failpoint(name)

/*
 * ROTARR_FAILPOINT_ERROR("test", ok, 0) sets ok to 0 when
 * ROTARR_FAILPOINT is "fail-test", so a test can make one step report a
 * failure without crashing.
 */
#define ROTARR_FAILPOINT_ERROR(name, var, value)                        \
    do {                                                                \
        const char *chosen_ = getenv("ROTARR_FAILPOINT");               \
        if (chosen_ != NULL && strncmp(chosen_, "fail-", 5) == 0 &&     \
            strcmp(chosen_ + 5, (name)) == 0) {                         \
            (var) = (value);                                            \
        }                                                               \
    } while (0)

#else

#define ROTARR_FAILPOINT(name) ((void)0)
#define ROTARR_FAILPOINT_ERROR(name, var, value) ((void)0)

#endif

#endif
