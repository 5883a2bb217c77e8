/*
 * Internals shared by the YAML document files: the record behind a
 * collection's struct rotarr_ynode and the allocation arena that owns
 * every node.
 */
#ifndef ROTARR_YAMLDOC_PRIVATE_H
#define ROTARR_YAMLDOC_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "rotarr/error.h"
#include "rotarr/yamldoc.h"

/* Memory handed out in pieces and freed all at once with the document:
 * aligned pieces for nodes, and packed ones for text. */
struct yarena {
    struct yarena_chunk *head;
    struct yarena_chunk *text_head;
};

/*
 * A sequence or mapping: the public node first, so that a node pointer
 * converts both ways.  A scalar is a bare struct rotarr_ynode, because
 * scalars are most of a document's nodes and need none of this.
 */
struct ynode_impl {
    struct rotarr_ynode pub;
    /* Mappings: effective pairs with merge keys resolved, interleaved as
     * key, value; the same array as pub.items when there is no merge. */
    const struct rotarr_ynode *const *pairs;
    size_t pair_count;
    size_t expanded;    /* nodes reached when aliases are expanded */
    size_t merge_depth; /* longest chain of mappings merged into this one */
    int complete;       /* the closing event has been seen */
};

/* Scratch set of mapping keys compared by decoded text. */
struct ykeyset {
    const struct rotarr_ynode **slots;
    size_t cap; /* a power of two, 0 before the first use */
};

/* One libyaml event that the tree is built from, without libyaml's
 * types, so that only the reader includes yaml.h.  The strings are in
 * the text arena given to yevents_read(). */
enum yevent_type {
    YEVENT_OTHER, /* nothing to build, and nothing the split checks */
    YEVENT_STREAM_START,
    YEVENT_STREAM_END,
    YEVENT_DOCUMENT_START,
    YEVENT_DOCUMENT_END,
    YEVENT_SCALAR,
    YEVENT_ALIAS,
    YEVENT_SEQUENCE_START,
    YEVENT_SEQUENCE_END,
    YEVENT_MAPPING_START,
    YEVENT_MAPPING_END,
};

/*
 * Marks count characters from the start of the text, as libyaml does;
 * line and column are 0-based.  32 bits are enough for every count
 * because no text is longer than ROTARR_YDOC_MAX_BYTES, and they keep the
 * event small: a large file has hundreds of thousands of events, and the
 * split parse may queue most of them.
 */
struct yevent {
    const char *anchor; /* for an alias, the name it refers to */
    const char *tag;
    const char *value; /* scalars: decoded text and a NUL */
    uint32_t start_index, start_line, start_column;
    uint32_t end_index;
    uint32_t length;
    unsigned char type;  /* enum yevent_type */
    unsigned char style; /* scalars: enum rotarr_yscalar_style */
    unsigned char flow;  /* collections written as [..] or {..} */
    unsigned char implicit;   /* documents: no "---" or "..." marker */
    unsigned char directives; /* document starts: %YAML or %TAG given */
};

/* An error that libyaml reported.  The strings are libyaml's
 * constants. */
struct yparse_error {
    int out_of_memory;
    int reader;          /* the text could not be decoded: see offset */
    const char *problem; /* NULL when libyaml gave none */
    size_t line, column; /* 0-based, of the problem */
    size_t offset;       /* byte of the problem, for reader errors */
    const char *context; /* NULL, or what was being parsed */
    size_t context_line;
};

/* Returns 0 to go on, or -1 to stop reading with err set by the caller. */
typedef int (*yevent_fn)(void *ctx, const struct yevent *event);

/*
 * Parses the len bytes at text with libyaml and calls on_event with each
 * event in file order.  An event is valid during the call only, but its
 * strings are copied to the text of arena and last as long as it.  For a
 * large text, on_event runs on a worker thread while the calling thread
 * parses, so on_event must not allocate text from arena.  Returns 0 after
 * the last event, or -1 when on_event returned -1.  Returns -2 with
 * *error filled when libyaml failed or memory ran out, after on_event has
 * seen every event before the failure.
 *
 * With split set, a large text may be parsed in two pieces at once (see
 * yevents_read_split()).  The call may then return YEVENTS_RETRY after
 * some events, so the caller must drop what it built and call again with
 * split unset.
 */
int yevents_read(const char *text, size_t len, struct yarena *arena,
                 int split, yevent_fn on_event, void *ctx,
                 struct yparse_error *error);

/* yevents_read() and yevents_read_split() return this when their events
 * must be thrown away and the text parsed again in one piece. */
#define YEVENTS_RETRY 2

/* yevents_read_split() returns this, before any event, when the text
 * cannot be split. */
#define YEVENTS_NO_SPLIT 1

/*
 * Parses text like yevents_read(), but in two pieces on two threads when
 * the text is one large block mapping at the top of a document, as the
 * services of a compose file are.  The calling thread parses the text
 * before a line inside that mapping and hands its events to on_event.
 * Meanwhile a worker parses the entries from that line on.  Their events
 * follow, then those of the text after the mapping.  The pieces are
 * checked to give exactly the events of a parse in one piece; when they
 * do not, or on any error, the call returns YEVENTS_RETRY.  Returns 0 or
 * YEVENTS_NO_SPLIT like yevents_read().
 */
int yevents_read_split(const char *text, size_t len, struct yarena *arena,
                       yevent_fn on_event, void *ctx);

/* Knobs and the last outcome of the split parse, for its tests: texts of
 * min_bytes and more are split at the first line that fits after byte
 * target, or after YSPLIT_HEAD_PERCENT of the text when target is 0.
 * last_result is what the last yevents_read_split() call returned. */
struct ysplit_settings {
    size_t min_bytes;
    size_t target;
    int last_result;
};

extern struct ysplit_settings ysplit_settings;

/* A libyaml parser over one text, converting its events. */
struct yreader;

/* Returns a reader of the len bytes at text (not copied), or NULL when
 * memory runs out. */
struct yreader *yreader_new(const char *text, size_t len);

/* Parses the next event into out, its strings copied to arena.  Returns
 * 1 after the stream's end, 0 otherwise, or -1 with error filled. */
int yreader_next(struct yreader *reader, struct yarena *arena,
                 struct yevent *out, struct yparse_error *error);

void yreader_free(struct yreader *reader);

/* Returns the offset of the first byte that is not part of valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included),
 * or len when every byte is. */
size_t yutf8_invalid_offset(const char *bytes, size_t len);

/* Returns size bytes aligned for nodes and arrays of pointers, not for
 * any object.  They are not wiped when freed, so they must not hold
 * text. */
void *yarena_alloc(struct yarena *arena, size_t size);

/* Returns size bytes with no alignment, for text: values, anchors and
 * tags. */
char *yarena_alloc_text(struct yarena *arena, size_t size);

/* Frees every piece, wiping the text first because values may be
 * secrets. */
void yarena_release(struct yarena *arena);

/* Moves every piece of from into into, leaving from empty. */
void yarena_join(struct yarena *into, struct yarena *from);

/* Returns 1 when key is a merge key: a plain "<<" with no tag other than
 * the merge tag. */
int ynode_is_merge_key(const struct rotarr_ynode *key);

/*
 * Checks a completed mapping for repeated keys and computes its effective
 * pairs.  Returns 0, or -1 with err set to ROTARR_EFILE naming path.
 */
int ymap_finish(struct ynode_impl *map, struct yarena *arena,
                struct ykeyset *set, const char *path,
                struct rotarr_error *err);

void ykeyset_release(struct ykeyset *set);

#endif
