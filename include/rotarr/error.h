/*
 * Status codes and the error record that every library call fills.
 *
 * The library never prints and never exits.  A failing call stores a code
 * and a one-line message in a caller-supplied struct rotarr_error and
 * returns -1 (or NULL); the command layer prints the message and turns the
 * code into the process exit status.  Messages never contain a secret.
 */
#ifndef ROTARR_ERROR_H
#define ROTARR_ERROR_H

#include <stddef.h>

/* Exit statuses of the rotarr binary, in the order the manual lists them. */
enum rotarr_status {
    ROTARR_OK = 0,          /* done */
    ROTARR_NO = 1,          /* the answer is no: a check found something */
    ROTARR_EUSAGE = 2,      /* invalid command line or request */
    ROTARR_EFILE = 3,       /* a file could not be read, parsed or written */
    ROTARR_EUNREACHABLE = 4, /* a server could not be reached */
    ROTARR_EAUTH = 5,       /* a server rejected the credentials */
    ROTARR_EPARTIAL = 6,    /* a rotation stopped part-way; journal kept */
    ROTARR_EDECRYPT = 7,    /* decryption failed */
};

/* Bound of a stored message, terminating NUL included. */
#define ROTARR_ERROR_MSG_MAX 1024

struct rotarr_error {
    enum rotarr_status code;
    char msg[ROTARR_ERROR_MSG_MAX];
};

#define ROTARR_ERROR_INIT { ROTARR_OK, "" }

/*
 * Stores code and the formatted message in err (which may be NULL) and
 * returns -1, so that a failing function can end with
 * "return rotarr_error_set(...)".  A message longer than the bound is cut
 * and ends with "...".
 */
int rotarr_error_set(struct rotarr_error *err, enum rotarr_status code,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Puts "prefix: " in front of the message already stored in err, keeping
 * its code, and returns -1.  Used to add the file name or step to an error
 * raised by a lower layer.
 */
int rotarr_error_prefix(struct rotarr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to ROTARR_OK with an empty message. */
void rotarr_error_clear(struct rotarr_error *err);

#endif
