/*
 * The last step of loading a project: each service's model is built from
 * its layers (compose_svc_finish).  Services do not depend on each other,
 * so a project with many services is finished by two threads, each
 * taking half of the list.  The error reported is the one of the first
 * failing service in list order, as a single thread would report it.
 */
#include "rotarr/compat.h"

#include <pthread.h>

#include "compose_private.h"
#include "worker.h"

/* Projects with fewer services are finished on the calling thread. */
#define FINISH_THREAD_MIN_SERVICES 256

/* The second half of the list, finished by the worker. */
struct finish_half {
    struct compose_svc_list *list;
    const struct compose_vars *vars;
    struct rotarr_error err;
    int ret;
};

static int finish_range(struct compose_svc_list *list, size_t from,
                        size_t to, const struct compose_vars *vars,
                        struct rotarr_error *err)
{
    size_t i;

    for (i = from; i < to; i++) {
        if (compose_svc_finish(list->items[i], vars, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static void *finish_second_half(void *arg)
{
    struct finish_half *half = arg;

    half->ret = finish_range(half->list, half->list->count / 2,
                             half->list->count, half->vars, &half->err);
    return NULL;
}

int compose_svc_list_finish(struct compose_svc_list *list,
                            const struct compose_vars *vars,
                            struct rotarr_error *err)
{
    struct finish_half half = { list, vars, ROTARR_ERROR_INIT, 0 };
    pthread_t thread;
    size_t i;
    int ret;

    for (i = 0; i < list->count; i++) {
        list->items[i]->index = i;
    }
    if (list->count < FINISH_THREAD_MIN_SERVICES || !worker_useful() ||
        worker_start(&thread, finish_second_half, &half) < 0) {
        return finish_range(list, 0, list->count, vars, err);
    }
    ret = finish_range(list, 0, list->count / 2, vars, err);
    pthread_join(thread, NULL);
    if (ret == 0 && half.ret < 0) {
        *err = half.err;
        ret = -1;
    }
    return ret;
}
