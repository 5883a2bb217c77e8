#include "rotarr/compat.h"

#include <unistd.h>

#include "worker.h"

/* Enough for the walk over a compose file, whose recursion the nesting
 * limits bound. */
#define WORKER_STACK_BYTES ((size_t)1 << 20)

int worker_useful(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

int worker_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    int ok;

    if (pthread_attr_init(&attr) != 0) {
        return -1;
    }
    ok = pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES) == 0 &&
         pthread_create(thread, &attr, fn, arg) == 0;
    pthread_attr_destroy(&attr);
    return ok ? 0 : -1;
}
