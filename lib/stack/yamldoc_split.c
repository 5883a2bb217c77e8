/*
 * The split parse of a large YAML text: libyaml runs on two threads at
 * once, because it takes most of the time of loading a large compose file.
 *
 * The text is cut at the start of two lines of one large block mapping M
 * that is the value of a key of the document's root mapping (the services
 * of a compose file):
 *
 *   head  [0, tail)     parsed on the calling thread, its events handed
 *                       to on_event at once;
 *   tail  [tail, rest)  the entries of M from a line at M's indentation,
 *                       parsed by a worker into a queue of batches while
 *                       the head is parsed, handed to on_event after it;
 *   rest  [rest, len)   from the next line at column 0 to the end, parsed
 *                       on the calling thread last.
 *
 * Each piece starts at a line start.  There libyaml's scanner keeps no
 * state from earlier lines but its open block collections, so a piece
 * gives the tokens of the whole text, except for the collections that
 * the cut closes and opens.  The events are checked for exactly that
 * shape.  The head must end inside M, between two of its entries, with M
 * and the root closed only by the end of the piece.  The tail must be
 * one block mapping at M's indentation, which continues M.  The rest
 * must start by continuing the root mapping.  The dropped events are the
 * head's closing of M and the root, the tail's stream, document and
 * mapping, and the rest's stream, document and mapping starts.  Marks
 * count from the piece's start, so the head's and the tail's end marks
 * are added to those of the later pieces.
 *
 * Anything else makes the whole text be parsed again in one piece: a
 * parse error, an error from on_event, directives in the head, a piece
 * of another shape, memory running out.  That parse gives the result
 * and the error message.
 */
#include "rotarr/compat.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"
#include "yamldoc_private.h"

/* Smaller texts are parsed in one piece: starting a thread and checking
 * the pieces would cost more than the second core saves. */
#define YSPLIT_MIN_BYTES ((size_t)512 * 1024)

/* Share of the text in the head.  The calling thread also builds the
 * tree from every event, which takes about 40 % of libyaml's time, so
 * the worker gets the larger piece.  35 gave the shortest 'rotarr
 * inspect' of the benchmark stack of scripts/bench, against 40 and 45. */
#define YSPLIT_HEAD_PERCENT 35

struct ysplit_settings ysplit_settings = { YSPLIT_MIN_BYTES, 0, 0 };

/* Events per batch of the worker's queue. */
#define YSPLIT_BATCH 2048

struct ysplit_batch {
    struct ysplit_batch *next;
    size_t count;
    int last; /* the tail's stream end is in this batch */
    struct yevent events[YSPLIT_BATCH];
};

struct ysplit {
    const char *text;
    size_t len;
    size_t tail;   /* byte offset of the tail's first line */
    size_t rest;   /* byte offset of the rest; the worker sets it */
    size_t indent; /* M's indentation, in spaces */
    uint32_t tail_chars; /* characters before the tail */
    yevent_fn on_event;
    void *ctx;
    struct yarena *arena;     /* the document's: head and rest strings */
    struct yarena tail_arena; /* the worker's: tail strings */

    pthread_mutex_t lock;
    pthread_cond_t cond;           /* a batch was queued, or stop set */
    struct ysplit_batch *queue;    /* filled batches, oldest first */
    struct ysplit_batch **queue_end;
    struct ysplit_batch *spare;    /* emptied batches to reuse */
    int done;                      /* the worker queued its last batch */
    int stop;                      /* the calling thread wants no more */

    /* Checks of the calling thread. */
    size_t depth;             /* collections open in the current piece */
    size_t m_children;        /* nodes completed directly in M */
    int root_ok;              /* the head's root is a block mapping */
    int m_ok;                 /* M is a block mapping at indent */
    int piece_done;           /* the current piece's root is closed */
    uint32_t base_index;      /* characters before the current piece */
    uint32_t base_line;       /* lines before the current piece */
    struct yevent closing[3]; /* M's and the root's end, document end */
    size_t closing_count;
};

/* Returns the number of UTF-8 characters in the len bytes at text, which
 * is how libyaml counts marks.  Reads eight bytes at a time where they
 * are ASCII. */
static size_t count_chars(const char *text, size_t len)
{
    const uint64_t high_bits = 0x8080808080808080ULL;
    uint64_t word;
    size_t count = len;
    size_t i = 0;

    for (; i < len; i++) {
        if (len - i >= sizeof(word)) {
            memcpy(&word, text + i, sizeof(word));
            if ((word & high_bits) == 0) {
                i += sizeof(word) - 1;
                continue;
            }
        }
        count -= ((unsigned char)text[i] & 0xC0) == 0x80;
    }
    return count;
}

/* Returns the offset of the line after the one at p. */
static size_t next_line(const char *text, size_t len, size_t p)
{
    const char *newline = memchr(text + p, '\n', len - p);

    return newline != NULL ? (size_t)(newline - text) + 1 : len;
}

/* Stores the spaces that start the line at p in *indent.  Returns 1 when
 * the line has a token: it is neither blank nor a comment. */
static int line_indent(const char *text, size_t len, size_t p,
                       size_t *indent)
{
    size_t i = p;

    while (i < len && text[i] == ' ') {
        i++;
    }
    *indent = i - p;
    return i < len && text[i] != '\n' && text[i] != '\r' && text[i] != '#';
}

static int is_key_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Returns 1 when a line starting with c has a token at column 0. */
static int is_top_start(char c)
{
    return c != ' ' && c != '\n' && c != '\r' && c != '#';
}

/* Returns the start of the content line at column 0 at or before p, or
 * len when there is none.  Looks for line breaks with memrchr(), which
 * is several times as fast as a loop over the bytes. */
static size_t top_line_before(const char *text, size_t len, size_t p)
{
    const char *newline;

    for (;;) {
        newline = memrchr(text, '\n', p);
        if (newline == NULL) {
            return is_top_start(text[0]) ? 0 : len;
        }
        p = (size_t)(newline - text);
        if (p + 1 < len && is_top_start(text[p + 1])) {
            return p + 1;
        }
    }
}

/*
 * Chooses the tail's first line: a line at M's indentation that starts
 * with a plain key, at or after YSPLIT_HEAD_PERCENT of the text, where M
 * is the mapping under the last line at column 0 before that point.
 * Returns 0, or -1 when the text has no such line.
 */
static int find_tail(struct ysplit *split)
{
    const char *text = split->text;
    size_t len = split->len;
    size_t target = ysplit_settings.target;
    size_t top;
    size_t p;
    size_t indent;

    if (target == 0 || target >= len) {
        target = len / 100 * YSPLIT_HEAD_PERCENT;
    }
    top = top_line_before(text, len, target);
    if (top == len) {
        return -1;
    }
    p = next_line(text, len, top);
    while (p < len && !line_indent(text, len, p, &indent)) {
        p = next_line(text, len, p);
    }
    if (p >= len || indent == 0 || !is_key_start(text[p + indent])) {
        return -1;
    }
    split->indent = indent;
    p = p > target ? p : next_line(text, len, target);
    for (; p < len; p = next_line(text, len, p)) {
        if (!line_indent(text, len, p, &indent)) {
            continue;
        }
        if (indent < split->indent) {
            return -1;
        }
        if (indent == split->indent && is_key_start(text[p + indent])) {
            split->tail = p;
            split->tail_chars = (uint32_t)count_chars(text, p);
            return 0;
        }
    }
    return -1;
}

/* Returns the start of the first content line at column 0 after the
 * tail's first line, or len: where M ends, unless the text is not valid
 * YAML there. */
static size_t find_rest(const char *text, size_t len, size_t tail)
{
    const char *newline;
    size_t p = tail;

    while (p < len) {
        newline = memchr(text + p, '\n', len - p);
        if (newline == NULL) {
            return len;
        }
        p = (size_t)(newline - text) + 1;
        if (p < len && is_top_start(text[p])) {
            return p;
        }
    }
    return len;
}

/* Returns 1 when the line at p starts with a document marker or a
 * directive, which the rest must not start with. */
static int starts_document(const char *text, size_t len, size_t p)
{
    return text[p] == '%' ||
           (len - p >= 3 && (memcmp(text + p, "---", 3) == 0 ||
                             memcmp(text + p, "...", 3) == 0));
}

static struct ysplit_batch *take_batch(struct ysplit *split)
{
    struct ysplit_batch *batch;

    pthread_mutex_lock(&split->lock);
    batch = split->spare;
    if (batch != NULL) {
        split->spare = batch->next;
    }
    pthread_mutex_unlock(&split->lock);
    return batch != NULL ? batch : malloc(sizeof(*batch));
}

/* Queues batch.  Returns 0, or -1 when the calling thread wants no
 * more. */
static int queue_batch(struct ysplit *split, struct ysplit_batch *batch)
{
    int stop;

    pthread_mutex_lock(&split->lock);
    batch->next = NULL;
    *split->queue_end = batch;
    split->queue_end = &batch->next;
    stop = split->stop;
    pthread_cond_signal(&split->cond);
    pthread_mutex_unlock(&split->lock);
    return stop ? -1 : 0;
}

/* Parses events of reader into batch until it is full or the stream
 * ends.  Returns 0, or -1 on an error. */
static int fill_batch(struct ysplit *split, struct yreader *reader,
                      struct ysplit_batch *batch)
{
    struct yparse_error error;
    int end = 0;

    batch->count = 0;
    batch->last = 0;
    while (batch->count < YSPLIT_BATCH && !end) {
        end = yreader_next(reader, &split->tail_arena,
                           &batch->events[batch->count], &error);
        if (end < 0) {
            return -1;
        }
        batch->count++;
    }
    batch->last = end;
    return 0;
}

/* Parses the tail into the queue; runs on the worker. */
static void *parse_tail(void *arg)
{
    struct ysplit *split = arg;
    struct ysplit_batch *batch;
    struct yreader *reader;
    size_t rest = find_rest(split->text, split->len, split->tail);
    int failed;
    int last = 0;

    pthread_mutex_lock(&split->lock);
    split->rest = rest;
    pthread_mutex_unlock(&split->lock);
    reader = yreader_new(split->text + split->tail, rest - split->tail);
    failed = reader == NULL;
    while (!failed && !last) {
        batch = take_batch(split);
        if (batch == NULL || fill_batch(split, reader, batch) < 0) {
            free(batch);
            failed = 1;
            break;
        }
        /* Read before queueing: the batch is the caller's afterwards. */
        last = batch->last;
        if (queue_batch(split, batch) < 0) {
            break;
        }
    }
    yreader_free(reader);
    pthread_mutex_lock(&split->lock);
    split->done = 1;
    pthread_cond_signal(&split->cond);
    pthread_mutex_unlock(&split->lock);
    return NULL;
}

/* Returns the next batch of the tail, NULL when the worker failed. */
static struct ysplit_batch *next_batch(struct ysplit *split)
{
    struct ysplit_batch *batch;

    pthread_mutex_lock(&split->lock);
    while (split->queue == NULL && !split->done) {
        pthread_cond_wait(&split->cond, &split->lock);
    }
    batch = split->queue;
    if (batch != NULL) {
        split->queue = batch->next;
        if (split->queue == NULL) {
            split->queue_end = &split->queue;
        }
    }
    pthread_mutex_unlock(&split->lock);
    return batch;
}

static void give_back(struct ysplit *split, struct ysplit_batch *batch)
{
    pthread_mutex_lock(&split->lock);
    batch->next = split->spare;
    split->spare = batch;
    pthread_mutex_unlock(&split->lock);
}

static void free_batches(struct ysplit_batch *batch)
{
    struct ysplit_batch *next;

    while (batch != NULL) {
        next = batch->next;
        free(batch);
        batch = next;
    }
}

static int is_start(const struct yevent *event)
{
    return event->type == YEVENT_MAPPING_START ||
           event->type == YEVENT_SEQUENCE_START;
}

static int is_end(const struct yevent *event)
{
    return event->type == YEVENT_MAPPING_END ||
           event->type == YEVENT_SEQUENCE_END;
}

/* Returns 1 when event starts a block mapping with no anchor or tag at
 * the given column of the piece's first line. */
static int starts_piece_root(const struct yevent *event, uint32_t column)
{
    return event->type == YEVENT_MAPPING_START && !event->flow &&
           event->anchor == NULL && event->tag == NULL &&
           event->start_line == 0 && event->start_column == column;
}

/* Hands event to on_event with the marks of the whole text. */
static int forward(struct ysplit *split, struct yevent *event)
{
    event->start_index += split->base_index;
    event->end_index += split->base_index;
    event->start_line += split->base_line;
    return split->on_event(split->ctx, event);
}

/* Checks a collection's start in the head: the root and M. */
static void head_start(struct ysplit *split, const struct yevent *event)
{
    split->depth++;
    if (split->depth == 1) {
        split->root_ok = event->type == YEVENT_MAPPING_START &&
                         !event->flow && event->start_column == 0;
    } else if (split->depth == 2) {
        split->m_ok = event->type == YEVENT_MAPPING_START && !event->flow &&
                      event->start_column == split->indent;
        split->m_children = 0;
    }
}

/* Hands on the ends kept back by head_event(): the document goes on. */
static int flush_closing(struct ysplit *split)
{
    size_t i;

    for (i = 0; i < split->closing_count; i++) {
        if (split->on_event(split->ctx, &split->closing[i]) < 0) {
            return -1;
        }
    }
    split->closing_count = 0;
    return 0;
}

/*
 * Moves a mark at the head's end to where the whole parse puts it: the
 * first token of the tail's first line, after its indentation.  libyaml
 * gives the empty value of an explicit key ("? key" with no ": value")
 * the mark of the next token, which the head's end replaces.
 */
static void move_end_marks(const struct ysplit *split, struct yevent *event)
{
    if (event->start_index == split->tail_chars) {
        event->start_index += (uint32_t)split->indent;
        event->start_column = (uint32_t)split->indent;
    }
    if (event->end_index == split->tail_chars) {
        event->end_index += (uint32_t)split->indent;
    }
}

/*
 * Checks one event of the head and hands it on.  Ends of the root, of
 * its values and of documents are kept back until a later event shows
 * that the head's end did not cause them.  The ones it caused close M
 * and the root, which the tail and the rest continue.  Returns 0, or -1
 * to give up the split.
 */
static int head_event(struct ysplit *split, struct yevent *event)
{
    int kept_back = (is_end(event) && split->depth <= 2) ||
                    event->type == YEVENT_DOCUMENT_END;

    if (event->type == YEVENT_STREAM_START ||
        event->type == YEVENT_STREAM_END) {
        return 0;
    }
    if (event->type == YEVENT_DOCUMENT_START && event->directives) {
        return -1;
    }
    if (!kept_back || split->closing_count == 3) {
        if (flush_closing(split) < 0) {
            return -1;
        }
    }
    move_end_marks(split, event);
    if (is_start(event)) {
        head_start(split, event);
    } else if (is_end(event)) {
        split->depth--;
    }
    if (split->depth == 2 && (event->type == YEVENT_SCALAR ||
                              event->type == YEVENT_ALIAS || is_end(event))) {
        split->m_children++;
    }
    if (kept_back) {
        split->closing[split->closing_count++] = *event;
        return 0;
    }
    return split->on_event(split->ctx, event);
}

/* Checks, at the head's stream end, that the head stopped inside M
 * between two of its entries, at a line start. */
static int head_ok(const struct ysplit *split, const struct yevent *end)
{
    return split->closing_count == 3 && split->root_ok &&
           split->m_ok && split->m_children % 2 == 0 &&
           split->closing[0].type == YEVENT_MAPPING_END &&
           split->closing[0].start_index ==
               split->tail_chars + split->indent &&
           end->start_index == split->tail_chars &&
           split->closing[1].type == YEVENT_MAPPING_END &&
           split->closing[2].type == YEVENT_DOCUMENT_END &&
           split->closing[2].implicit && end->start_column == 0;
}

static int read_head(struct ysplit *split)
{
    struct yparse_error error;
    struct yevent event;
    struct yreader *reader = yreader_new(split->text, split->tail);
    int end = 0;

    while (reader != NULL && end == 0) {
        end = yreader_next(reader, split->arena, &event, &error);
        if (end >= 0 && head_event(split, &event) < 0) {
            end = -1;
        }
    }
    yreader_free(reader);
    if (end != 1 || !head_ok(split, &event)) {
        return -1;
    }
    split->base_index = split->tail_chars;
    split->base_line = event.start_line;
    return 0;
}

/* Checks one event of the tail and hands on those inside its root
 * mapping, which continues M.  Returns 0, or -1 to give up the split. */
static int tail_event(struct ysplit *split, struct yevent *event)
{
    switch (event->type) {
    case YEVENT_STREAM_START:
        return 0;
    case YEVENT_STREAM_END:
        return split->piece_done ? 0 : -1;
    case YEVENT_DOCUMENT_START:
        return split->depth == 0 && !split->piece_done &&
                       event->implicit && !event->directives
                   ? 0
                   : -1;
    case YEVENT_DOCUMENT_END:
        return split->piece_done && event->implicit ? 0 : -1;
    default:
        break;
    }
    if (split->piece_done) {
        return -1;
    }
    if (split->depth == 0) {
        split->depth = 1;
        return starts_piece_root(event, (uint32_t)split->indent) ? 0 : -1;
    }
    if (is_start(event)) {
        split->depth++;
    } else if (is_end(event) && --split->depth == 0) {
        split->piece_done = 1;
        return 0;
    }
    return forward(split, event);
}

static int read_tail(struct ysplit *split)
{
    struct ysplit_batch *batch;
    struct yevent *end = NULL;
    size_t i;
    int ret = 0;

    split->depth = 0;
    split->piece_done = 0;
    while (ret == 0 && end == NULL) {
        batch = next_batch(split);
        if (batch == NULL) {
            return -1;
        }
        for (i = 0; i < batch->count && ret == 0; i++) {
            ret = tail_event(split, &batch->events[i]);
        }
        end = batch->last ? &batch->events[batch->count - 1] : NULL;
        if (ret == 0 && end != NULL) {
            /* The rest's marks count from the tail's end. */
            split->base_index += end->start_index;
            split->base_line += end->start_line;
            ret = end->start_column == 0 || split->rest == split->len ? 0
                                                                      : -1;
        }
        give_back(split, batch);
    }
    return ret;
}

/* Hands on the events that close M and, when the rest does not continue
 * the root, the root and its document too. */
static int close_held(struct ysplit *split, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        split->closing[i].start_index = split->base_index;
        split->closing[i].end_index = split->base_index;
        split->closing[i].start_line = split->base_line;
        if (split->on_event(split->ctx, &split->closing[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Checks one event of the rest and hands it on: the rest's start
 * continues the root mapping. */
static int rest_event(struct ysplit *split, struct yevent *event)
{
    switch (split->depth) {
    case 0:
        split->depth = 1;
        return event->type == YEVENT_STREAM_START ? 0 : -1;
    case 1:
        split->depth = 2;
        if (event->type == YEVENT_STREAM_END) {
            split->depth = 3;
            return close_held(split, 3) < 0 ? -1 : forward(split, event);
        }
        return event->type == YEVENT_DOCUMENT_START && event->implicit &&
                       !event->directives
                   ? 0
                   : -1;
    case 2:
        split->depth = 3;
        return starts_piece_root(event, 0) ? close_held(split, 1) : -1;
    default:
        return forward(split, event);
    }
}

static int read_rest(struct ysplit *split)
{
    struct yparse_error error;
    struct yevent event;
    struct yreader *reader;
    int end = 0;

    reader = yreader_new(split->text + split->rest,
                         split->len - split->rest);
    split->depth = 0;
    while (reader != NULL && end == 0) {
        end = yreader_next(reader, split->arena, &event, &error);
        if (end >= 0 && rest_event(split, &event) < 0) {
            end = -1;
        }
    }
    yreader_free(reader);
    return end == 1 ? 0 : -1;
}

static int split_init(struct ysplit *split)
{
    if (pthread_mutex_init(&split->lock, NULL) != 0) {
        return -1;
    }
    if (pthread_cond_init(&split->cond, NULL) != 0) {
        pthread_mutex_destroy(&split->lock);
        return -1;
    }
    split->queue_end = &split->queue;
    return 0;
}

/* Stops the worker, waits for it and frees what it left. */
static void split_finish(struct ysplit *split, pthread_t thread)
{
    pthread_mutex_lock(&split->lock);
    split->stop = 1;
    while (!split->done) {
        /* The worker checks stop after each batch. */
        if (split->queue != NULL) {
            free_batches(split->queue);
            split->queue = NULL;
            split->queue_end = &split->queue;
        }
        pthread_cond_wait(&split->cond, &split->lock);
    }
    pthread_mutex_unlock(&split->lock);
    pthread_join(thread, NULL);
    free_batches(split->queue);
    free_batches(split->spare);
    pthread_cond_destroy(&split->cond);
    pthread_mutex_destroy(&split->lock);
}

int yevents_read_split(const char *text, size_t len, struct yarena *arena,
                       yevent_fn on_event, void *ctx)
{
    struct ysplit split;
    pthread_t thread;
    int ret;

    memset(&split, 0, sizeof(split));
    split.text = text;
    split.len = len;
    split.arena = arena;
    split.on_event = on_event;
    split.ctx = ctx;
    ysplit_settings.last_result = YEVENTS_NO_SPLIT;
    if (len < ysplit_settings.min_bytes || !worker_useful() ||
        find_tail(&split) < 0 || split_init(&split) < 0) {
        return YEVENTS_NO_SPLIT;
    }
    if (worker_start(&thread, parse_tail, &split) < 0) {
        pthread_cond_destroy(&split.cond);
        pthread_mutex_destroy(&split.lock);
        return YEVENTS_NO_SPLIT;
    }
    ret = read_head(&split) == 0 && read_tail(&split) == 0 &&
                  (split.rest == len ||
                   !starts_document(text, len, split.rest)) &&
                  (split.rest == len ? close_held(&split, 3)
                                     : read_rest(&split)) == 0
              ? 0
              : YEVENTS_RETRY;
    split_finish(&split, thread);
    if (ret == 0) {
        yarena_join(arena, &split.tail_arena);
    }
    yarena_release(&split.tail_arena);
    ysplit_settings.last_result = ret;
    return ret;
}
