/*
 * A second thread for the steps of loading and searching a large stack
 * that split in two: parsing YAML beside building its tree, finishing the
 * services, and searching a compose file.  Not installed.
 */
#ifndef ROTARR_WORKER_H
#define ROTARR_WORKER_H

#include <pthread.h>

/* Returns 1 when more than one processor is online, so that a second
 * thread can run beside the calling one. */
int worker_useful(void);

/* Starts fn(arg) on a new thread.  Returns 0, or -1 when the thread
 * cannot start; the caller then does the work itself. */
int worker_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
