/*
 * The occurrence finder's internals, shared by occurrence.c, which scans
 * values, env files and secret files, and occurrence_yaml.c, which walks
 * compose files.  Not installed.
 */
#ifndef ROTARR_OCCURRENCE_PRIVATE_H
#define ROTARR_OCCURRENCE_PRIVATE_H

#include <stddef.h>

#include "matcher.h"
#include "rotarr/error.h"
#include "stack_private.h"

/* A known line of the file being scanned. */
struct line_cursor {
    size_t offset;
    size_t line; /* 1-based, of offset */
};

/* Memory that the scans of one file on one thread reuse. */
struct scan_scratch {
    char *claimed; /* bytes of the value claimed by a URL password */
    size_t cap;
    struct line_cursor cursor;
};

struct yaml_walk;

/* State of one value search: the value, its place in the file, and the
 * secrets looked for. */
struct value_scan {
    const struct rotarr_stack *stack;
    const struct matcher *matcher;
    struct rotarr_occurrences *outs; /* one list per secret */
    size_t file;
    struct scan_scratch *scratch;
    const char *where;      /* NULL for compose values: see walk */
    struct yaml_walk *walk; /* builds the path of a compose value */
    const char *text;       /* the value as searched */
    size_t len;
    size_t value_start, value_end; /* in the file */
    /* File offset of text[0] when direct, else -1; found when the first
     * occurrence needs it, since most values hold none. */
    long raw_offset;
    int raw_known;
    int compose;     /* compose text: '$' is written '$$' */
    int in_sequence; /* a compose sequence item */
    int marked;      /* scratch->claimed marks this value's claimed bytes */
    int key_checked; /* identity holds the answer for the value's name */
    int identity;    /* the value's name says it is no secret */
    const struct rotarr_dotenv_entry *entry;
    const struct rotarr_ynode *node;
    const struct rotarr_appconfig_setting *setting;
};

/* Adds to scan->outs every secret found in the value scan describes:
 * URL passwords, whole values, copies and, when references is 1, ${VAR}
 * references.  Returns 0, or -1 with err set. */
int occurrence_scan_value(struct value_scan *scan, int references,
                          struct rotarr_error *err);

/*
 * Moves to into each occurrence of from that into does not hold yet, in
 * order, and frees the others; from is left empty.  Returns 0, or -1
 * with err set when memory runs out.
 */
int occurrence_merge(struct rotarr_occurrences *into,
                     struct rotarr_occurrences *from,
                     struct rotarr_error *err);

/* Returns the path of the compose value being scanned, such as
 * "services.db.environment.PW", or NULL with err set. */
const char *occurrence_walk_path(struct yaml_walk *walk,
                                 struct rotarr_error *err);

/* Scans every scalar of the compose file base->file. */
int occurrence_scan_compose(const struct value_scan *base,
                            struct rotarr_error *err);

#endif
