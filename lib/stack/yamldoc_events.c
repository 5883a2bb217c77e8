/*
 * The only user of libyaml: parses a text into events and hands them, in
 * file order, to the tree builder in yamldoc.c, or to the split parse of
 * yamldoc_split.c through struct yreader.
 *
 * libyaml takes most of the time of loading a large stack, so for a large
 * text the calling thread runs libyaml while a worker thread builds the
 * tree from the events already parsed.  The calling thread copies each
 * event's strings into the document's text arena and frees libyaml's
 * event at once: libyaml's allocations then reuse the memory just freed,
 * and no memory passes between the threads except the arena's text and
 * the batches.  A ring of YEVENTS_BATCHES batches bounds the memory, and
 * the calling thread waits when every batch is full.
 */
#include "rotarr/compat.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "worker.h"
#include "yamldoc_private.h"

/* Texts from this size on are parsed beside a worker thread; for smaller
 * ones, starting the thread costs more than it saves. */
#define YEVENTS_THREAD_MIN_BYTES ((size_t)64 * 1024)

/* Events handed over at once.  A handover may wake the worker, which
 * costs a system call and a context switch, so batches are large: the
 * 5 MB compose file of the benchmark has about 240,000 events. */
#define YEVENTS_BATCH 4096
#define YEVENTS_BATCHES 4

struct ybatch {
    struct yevent events[YEVENTS_BATCH];
    size_t count;
    int last;   /* no event follows this batch */
    int failed; /* libyaml failed, or memory ran out, after the events */
};

struct ypipe {
    pthread_mutex_t lock;
    pthread_cond_t filled_cond; /* a batch was handed over */
    pthread_cond_t free_cond;   /* a batch was given back, or stop set */
    struct ybatch batches[YEVENTS_BATCHES];
    size_t filled; /* batches handed to the worker */
    size_t taken;  /* batches it gave back */
    int stop;      /* the worker wants no more events */
    struct yreader *reader;
    struct yarena *arena;      /* where the strings go; the caller's only */
    struct yparse_error error; /* set before the failed batch is handed */
    yevent_fn on_event;
    void *ctx;
    int result; /* what the worker's last on_event call led to */
};

struct yreader {
    yaml_parser_t parser;
};

static enum rotarr_yscalar_style style_of(yaml_scalar_style_t style)
{
    switch (style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        return ROTARR_YSTYLE_SINGLE;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return ROTARR_YSTYLE_DOUBLE;
    case YAML_LITERAL_SCALAR_STYLE:
        return ROTARR_YSTYLE_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE:
        return ROTARR_YSTYLE_FOLDED;
    default:
        return ROTARR_YSTYLE_PLAIN;
    }
}

static void convert_collection(const yaml_event_t *in, struct yevent *out)
{
    if (in->type == YAML_SEQUENCE_START_EVENT) {
        out->type = YEVENT_SEQUENCE_START;
        out->anchor = (const char *)in->data.sequence_start.anchor;
        out->tag = (const char *)in->data.sequence_start.tag;
        out->flow = in->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    } else {
        out->type = YEVENT_MAPPING_START;
        out->anchor = (const char *)in->data.mapping_start.anchor;
        out->tag = (const char *)in->data.mapping_start.tag;
        out->flow = in->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
    }
}

static void convert_document(const yaml_event_t *in, struct yevent *out)
{
    if (in->type == YAML_DOCUMENT_START_EVENT) {
        out->type = YEVENT_DOCUMENT_START;
        out->implicit = in->data.document_start.implicit != 0;
        out->directives =
            in->data.document_start.version_directive != NULL ||
            in->data.document_start.tag_directives.start !=
                in->data.document_start.tag_directives.end;
    } else {
        out->type = YEVENT_DOCUMENT_END;
        out->implicit = in->data.document_end.implicit != 0;
    }
}

/* Fills out from a libyaml event; the strings stay libyaml's until
 * keep_strings() copies them.  Marks fit in 32 bits because the text is
 * at most ROTARR_YDOC_MAX_BYTES long. */
static void convert(const yaml_event_t *in, struct yevent *out)
{
    memset(out, 0, sizeof(*out));
    out->start_index = (uint32_t)in->start_mark.index;
    out->start_line = (uint32_t)in->start_mark.line;
    out->start_column = (uint32_t)in->start_mark.column;
    out->end_index = (uint32_t)in->end_mark.index;
    switch (in->type) {
    case YAML_STREAM_START_EVENT:
        out->type = YEVENT_STREAM_START;
        break;
    case YAML_STREAM_END_EVENT:
        out->type = YEVENT_STREAM_END;
        break;
    case YAML_DOCUMENT_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        convert_document(in, out);
        break;
    case YAML_SCALAR_EVENT:
        out->type = YEVENT_SCALAR;
        out->anchor = (const char *)in->data.scalar.anchor;
        out->tag = (const char *)in->data.scalar.tag;
        out->value = (const char *)in->data.scalar.value;
        out->length = (uint32_t)in->data.scalar.length;
        out->style = style_of(in->data.scalar.style);
        break;
    case YAML_ALIAS_EVENT:
        out->type = YEVENT_ALIAS;
        out->anchor = (const char *)in->data.alias.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        convert_collection(in, out);
        break;
    case YAML_SEQUENCE_END_EVENT:
        out->type = YEVENT_SEQUENCE_END;
        break;
    case YAML_MAPPING_END_EVENT:
        out->type = YEVENT_MAPPING_END;
        break;
    default:
        out->type = YEVENT_OTHER;
        break;
    }
}

static void error_of(const yaml_parser_t *parser, struct yparse_error *error)
{
    memset(error, 0, sizeof(*error));
    error->out_of_memory = parser->error == YAML_MEMORY_ERROR;
    error->reader = parser->error == YAML_READER_ERROR;
    error->problem = parser->problem;
    error->line = parser->problem_mark.line;
    error->column = parser->problem_mark.column;
    error->offset = parser->problem_offset;
    error->context = parser->context;
    error->context_line = parser->context_mark.line;
}

static const char *keep_text(struct yarena *arena, const char *text,
                             size_t len)
{
    char *copy;

    if (text == NULL) {
        return NULL;
    }
    copy = len < SIZE_MAX ? yarena_alloc_text(arena, len + 1) : NULL;
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

/* Points the strings of event at copies in arena, so that libyaml's
 * event can be freed.  Returns 0, or -1 when memory runs out. */
static int keep_strings(struct yarena *arena, struct yevent *event)
{
    const char *anchor = event->anchor;
    const char *tag = event->tag;
    const char *value = event->value;

    event->anchor = keep_text(arena, anchor,
                              anchor != NULL ? strlen(anchor) : 0);
    event->tag = keep_text(arena, tag, tag != NULL ? strlen(tag) : 0);
    event->value = keep_text(arena, value, event->length);
    return (anchor != NULL && event->anchor == NULL) ||
                   (tag != NULL && event->tag == NULL) ||
                   (value != NULL && event->value == NULL)
               ? -1
               : 0;
}

struct yreader *yreader_new(const char *text, size_t len)
{
    struct yreader *reader = calloc(1, sizeof(*reader));

    if (reader == NULL) {
        return NULL;
    }
    if (!yaml_parser_initialize(&reader->parser)) {
        free(reader);
        return NULL;
    }
    yaml_parser_set_input_string(&reader->parser,
                                 (const unsigned char *)text, len);
    return reader;
}

void yreader_free(struct yreader *reader)
{
    if (reader == NULL) {
        return;
    }
    yaml_parser_delete(&reader->parser);
    free(reader);
}

int yreader_next(struct yreader *reader, struct yarena *arena,
                 struct yevent *out, struct yparse_error *error)
{
    yaml_event_t event;
    int kept;
    int end;

    if (!yaml_parser_parse(&reader->parser, &event)) {
        error_of(&reader->parser, error);
        return -1;
    }
    convert(&event, out);
    kept = keep_strings(arena, out) == 0;
    end = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
    if (!kept) {
        memset(error, 0, sizeof(*error));
        error->out_of_memory = 1;
        return -1;
    }
    return end;
}

static int read_inline(struct yreader *reader, struct yarena *arena,
                       yevent_fn on_event, void *ctx,
                       struct yparse_error *error)
{
    struct yevent event;
    int end = 0;

    while (!end) {
        end = yreader_next(reader, arena, &event, error);
        if (end < 0) {
            return -2;
        }
        if (on_event(ctx, &event) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Parses the next events into batch; runs on the calling thread. */
static void fill_batch(struct ypipe *pipe, struct ybatch *batch)
{
    int end = 0;

    batch->count = 0;
    batch->last = 0;
    batch->failed = 0;
    while (batch->count < YEVENTS_BATCH && !end) {
        end = yreader_next(pipe->reader, pipe->arena,
                           &batch->events[batch->count], &pipe->error);
        if (end < 0) {
            batch->failed = 1;
            break;
        }
        batch->count++;
    }
    batch->last = end != 0;
}

/* Fills batches until the stream ends or the worker stops. */
static void produce(struct ypipe *pipe)
{
    struct ybatch *batch;
    int last = 0;

    while (!last) {
        pthread_mutex_lock(&pipe->lock);
        while (pipe->filled - pipe->taken == YEVENTS_BATCHES && !pipe->stop) {
            pthread_cond_wait(&pipe->free_cond, &pipe->lock);
        }
        if (pipe->stop) {
            pthread_mutex_unlock(&pipe->lock);
            break;
        }
        batch = &pipe->batches[pipe->filled % YEVENTS_BATCHES];
        pthread_mutex_unlock(&pipe->lock);

        fill_batch(pipe, batch);
        last = batch->last;

        pthread_mutex_lock(&pipe->lock);
        pipe->filled++;
        pthread_cond_signal(&pipe->filled_cond);
        pthread_mutex_unlock(&pipe->lock);
    }
}

/* Hands the events of one batch to on_event. */
static int consume_batch(struct ypipe *pipe, const struct ybatch *batch)
{
    size_t i;

    for (i = 0; i < batch->count; i++) {
        if (pipe->on_event(pipe->ctx, &batch->events[i]) < 0) {
            return -1;
        }
    }
    if (batch->failed) {
        return -2;
    }
    return batch->last ? 0 : 1;
}

/* Takes the batches as they arrive; runs on the worker. */
static void *consume(void *arg)
{
    struct ypipe *pipe = arg;
    const struct ybatch *batch;
    int ret = 1;

    while (ret == 1) {
        pthread_mutex_lock(&pipe->lock);
        while (pipe->filled == pipe->taken) {
            pthread_cond_wait(&pipe->filled_cond, &pipe->lock);
        }
        batch = &pipe->batches[pipe->taken % YEVENTS_BATCHES];
        pthread_mutex_unlock(&pipe->lock);

        ret = consume_batch(pipe, batch);

        pthread_mutex_lock(&pipe->lock);
        pipe->taken++;
        pipe->stop = ret != 1;
        pthread_cond_signal(&pipe->free_cond);
        pthread_mutex_unlock(&pipe->lock);
    }
    pipe->result = ret;
    return NULL;
}

static int pipe_init(struct ypipe *pipe)
{
    if (pthread_mutex_init(&pipe->lock, NULL) != 0) {
        return -1;
    }
    if (pthread_cond_init(&pipe->filled_cond, NULL) != 0) {
        pthread_mutex_destroy(&pipe->lock);
        return -1;
    }
    if (pthread_cond_init(&pipe->free_cond, NULL) != 0) {
        pthread_cond_destroy(&pipe->filled_cond);
        pthread_mutex_destroy(&pipe->lock);
        return -1;
    }
    return 0;
}

static void pipe_release(struct ypipe *pipe)
{
    pthread_cond_destroy(&pipe->free_cond);
    pthread_cond_destroy(&pipe->filled_cond);
    pthread_mutex_destroy(&pipe->lock);
}

/* Returns 1 without reading when the worker cannot start. */
static int read_threaded(struct ypipe *pipe, struct yparse_error *error)
{
    pthread_t thread;

    if (worker_start(&thread, consume, pipe) < 0) {
        return 1;
    }
    produce(pipe);
    pthread_join(thread, NULL);
    if (pipe->result == -2) {
        *error = pipe->error;
    }
    return pipe->result;
}

static int worth_a_thread(size_t len)
{
    return len >= YEVENTS_THREAD_MIN_BYTES && worker_useful();
}

int yevents_read(const char *text, size_t len, struct yarena *arena,
                 int split, yevent_fn on_event, void *ctx,
                 struct yparse_error *error)
{
    struct ypipe *pipe;
    int ret = YEVENTS_NO_SPLIT;

    if (split) {
        ret = yevents_read_split(text, len, arena, on_event, ctx);
        if (ret != YEVENTS_NO_SPLIT) {
            return ret;
        }
    }
    pipe = calloc(1, sizeof(*pipe));
    if (pipe != NULL) {
        pipe->reader = yreader_new(text, len);
    }
    if (pipe == NULL || pipe->reader == NULL) {
        free(pipe);
        memset(error, 0, sizeof(*error));
        error->out_of_memory = 1;
        return -2;
    }
    pipe->arena = arena;
    pipe->on_event = on_event;
    pipe->ctx = ctx;
    ret = 1;
    if (worth_a_thread(len) && pipe_init(pipe) == 0) {
        ret = read_threaded(pipe, error);
        pipe_release(pipe);
    }
    if (ret == 1) {
        ret = read_inline(pipe->reader, arena, on_event, ctx, error);
    }
    yreader_free(pipe->reader);
    free(pipe);
    return ret;
}
