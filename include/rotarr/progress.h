/*
 * Progress of long work (encrypting a large file, scanning a long
 * history), reported by the library to the caller, which decides whether
 * and how to show it.  The library itself never prints.
 */
#ifndef ROTARR_PROGRESS_H
#define ROTARR_PROGRESS_H

#include <stdint.h>

/*
 * A receiver of progress reports.  report(ctx, done, total) states that
 * done units of total are finished, in the unit that the reporting
 * function documents (bytes, files).  total is 0 when it is unknown, as
 * for standard input, and done may pass total when the input grew while
 * it was read.
 *
 * Reports come from the thread that called the reporting function, in
 * order, and done never decreases.  The first has done 0 and comes when
 * the work starts.  Then comes at most one per step of work that the
 * function documents, and one with the final count when the work
 * succeeds.  A failure stops the reports without a final one.
 *
 * report must be cheap, because it may run thousands of times a second.
 * A receiver that draws on a terminal limits its own redraws.
 */
struct rotarr_progress {
    void (*report)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
};

#endif
