/*
 * A progress line on standard error for long work, such as
 *
 *   encrypting backup.tar: 412 MiB / 1.0 GiB (40%), 1.4 GiB/s
 *
 * It appears only when standard error is a terminal and the caller
 * allows it (no -q), and only after the work has run for
 * CMD_PROGRESS_DELAY_MS, so that short commands print nothing.  It is
 * redrawn in place with a carriage return at most every
 * CMD_PROGRESS_REDRAW_MS and erased when the work ends or when a message
 * is printed.  It shows a name and counts, never file contents.
 */
#ifndef ROTARR_CMD_PROGRESS_H
#define ROTARR_CMD_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "rotarr/progress.h"

/* Work that runs for less than this shows no progress line. */
#define CMD_PROGRESS_DELAY_MS 500

/* Minimum time between two redraws of the line. */
#define CMD_PROGRESS_REDRAW_MS 100

/*
 * Environment variable that replaces CMD_PROGRESS_DELAY_MS (0 to 60000),
 * so that tests see the line without large inputs.
 */
#define CMD_PROGRESS_DELAY_ENV "ROTARR_PROGRESS_DELAY_MS"

/* Room for a formatted line, escape sequences excluded. */
#define CMD_PROGRESS_LINE_MAX 512

enum cmd_progress_unit {
    CMD_PROGRESS_BYTES, /* sizes in B, KiB, MiB..., with a rate */
    CMD_PROGRESS_FILES, /* a count of files */
    CMD_PROGRESS_COMMITS, /* a count of commits */
};

struct cmd_progress {
    struct rotarr_progress receiver; /* to hand to lib/ */
    const char *action; /* "encrypting" */
    const char *name;   /* borrowed; NULL for none */
    enum cmd_progress_unit unit;
    int enabled;
    int started; /* a report has come */
    int shown;   /* the line is on the terminal */
    int64_t delay_ms;
    int64_t start_ms; /* of the first report */
    int64_t drawn_ms; /* of the last redraw */
};

/*
 * Prepares a line "<action> <name>: <counts>" (name may be NULL) and
 * fills p->receiver for the library.  allowed is 0 under -q, or when the
 * output of the work goes to the same terminal.  p must stay in place
 * until cmd_progress_end.
 */
void cmd_progress_begin(struct cmd_progress *p, const char *action,
                        const char *name, enum cmd_progress_unit unit,
                        int allowed);

/*
 * Returns 1 when work that writes to output ("-" or NULL: standard
 * output) may show progress: not when quiet, and not when the output
 * goes to the terminal, where the line would break into it.
 */
int cmd_progress_allowed(int quiet, const char *output);

/* Returns the receiver to hand to lib/, or NULL when no line will be
 * drawn, so that the library skips the reports. */
const struct rotarr_progress *cmd_progress_receiver(
    const struct cmd_progress *p);

/* Erases the line, if shown, and stops drawing it.  Accepts NULL. */
void cmd_progress_end(struct cmd_progress *p);

/* Erases the line of the progress being drawn, if any, so that a message
 * can be printed; the next report draws it again. */
void cmd_progress_interrupt(void);

/* Erases the line if one is on the terminal.  Unlike the functions above
 * it is async-signal-safe, for a handler that is about to end the
 * process. */
void cmd_progress_erase_in_handler(void);

/*
 * Formats bytes for people: "512 B", "9.5 KiB", "412 MiB", "1.0 GiB",
 * with one decimal below 10 and none above.  Returns the length, or -1
 * when size is too small.
 */
int cmd_progress_format_size(char *buf, size_t size, uint64_t bytes);

/*
 * Formats the line without escape sequences, at most width - 1 columns
 * wide (width 0: no limit), with control characters in name replaced by
 * '?'.  To fit, it drops the rate, then the percent, then shortens the
 * front of name, and as a last resort cuts the line between words, so a
 * number is never cut in two.  total 0 means unknown: no total and no
 * percent.  The rate (bytes only) is left out while elapsed_ms is 0.
 * Returns the length.
 */
size_t cmd_progress_format(char *buf, size_t size, const char *action,
                           const char *name, enum cmd_progress_unit unit,
                           uint64_t done, uint64_t total,
                           int64_t elapsed_ms, size_t width);

#endif
