/*
 * The occurrence search over a compose file: a walk over every scalar of
 * the tree, depth first in file order, that names each value by its path
 * ("services.db.environment.PW").
 *
 * A large file is walked by two threads: the calling thread takes the
 * first part of the walk and a worker the rest, each into its own lists,
 * and the worker's lists are then appended to the caller's.  The result
 * is the one a single walk gives, because an occurrence is kept only the
 * first time the walk meets it, and the merge keeps that rule.
 */
#include "rotarr/compat.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "occurrence_private.h"
#include "worker.h"

/* Maximum nesting of compose nodes walked. */
#define MAX_DEPTH 64

/* Compose files from this size on are walked by two threads; for smaller
 * ones, starting a thread costs more than it saves. */
#define WALK_THREAD_MIN_BYTES ((size_t)256 * 1024)

/* Deepest level at which a walk is cut in two. */
#define SPLIT_MAX_LEVELS 4

/* One step of the path to a compose value: a mapping key, or a sequence
 * index. */
struct path_step {
    const char *name; /* the key's text; NULL for a key that is not text */
    size_t len;       /* of name, or the index */
    int is_index;
};

/* The walk over a compose file.  The path of the current node is joined
 * only when an occurrence needs it, because almost no value contains
 * one. */
struct yaml_walk {
    struct value_scan scan; /* reused for every scalar */
    const struct rotarr_ydoc *doc;
    struct path_step steps[MAX_DEPTH + 1];
    size_t depth;
    struct rotarr_buf path;
    int path_ready; /* path is the steps joined */
};

/*
 * The cut of a walk in two parts.  nodes[0] is the root and nodes[l + 1]
 * is child index[l] of nodes[l].  At the last level, index is the first
 * child of the second part.
 */
struct walk_split {
    const struct rotarr_ynode *nodes[SPLIT_MAX_LEVELS];
    size_t index[SPLIT_MAX_LEVELS];
    size_t levels;
};

/* The second part of a walk, run by the worker. */
struct walk_half {
    struct yaml_walk *walk;
    const struct walk_split *split;
    struct rotarr_error err;
    int ret;
};

static int join_path(struct yaml_walk *walk, struct rotarr_error *err)
{
    const struct path_step *step;
    char index[32];
    size_t i;

    rotarr_buf_reset(&walk->path);
    if (rotarr_buf_append(&walk->path, "", 0, err) < 0) {
        return -1;
    }
    for (i = 0; i < walk->depth; i++) {
        step = &walk->steps[i];
        if (walk->path.len > 0 &&
            rotarr_buf_append(&walk->path, ".", 1, err) < 0) {
            return -1;
        }
        if (step->is_index) {
            snprintf(index, sizeof(index), "%zu", step->len);
            if (rotarr_buf_puts(&walk->path, index, err) < 0) {
                return -1;
            }
        } else if (step->name != NULL &&
                   rotarr_buf_append(&walk->path, step->name, step->len,
                                     err) < 0) {
            return -1;
        }
    }
    walk->path_ready = 1;
    return 0;
}

const char *occurrence_walk_path(struct yaml_walk *walk,
                                 struct rotarr_error *err)
{
    if (!walk->path_ready && join_path(walk, err) < 0) {
        return NULL;
    }
    return walk->path.data;
}

static struct yaml_walk *walk_new(const struct value_scan *base)
{
    struct yaml_walk *walk = calloc(1, sizeof(*walk));

    if (walk == NULL) {
        return NULL;
    }
    walk->scan = *base;
    walk->scan.walk = walk;
    walk->scan.compose = 1;
    walk->doc = rotarr_stack_file(base->stack, base->file)->yaml;
    return walk;
}

static void walk_free(struct yaml_walk *walk)
{
    if (walk != NULL) {
        rotarr_buf_release(&walk->path);
        free(walk);
    }
}

static int scan_scalar(struct yaml_walk *walk, const struct rotarr_ynode *node,
                       struct rotarr_error *err)
{
    struct value_scan *scan = &walk->scan;

    if (node->doc != walk->doc || node->value_len == 0) {
        return 0;
    }
    scan->text = node->value;
    scan->len = node->value_len;
    scan->value_start = node->start;
    scan->value_end = node->end;
    scan->node = node;
    scan->in_sequence =
        walk->depth > 0 && walk->steps[walk->depth - 1].is_index;
    scan->raw_known = 0;
    scan->marked = 0;
    scan->key_checked = 0;
    return occurrence_scan_value(scan, 1, err);
}

static size_t child_count(const struct rotarr_ynode *node)
{
    return node->kind == ROTARR_YNODE_SCALAR ? 0 : node->count;
}

/* Returns the value of pair i of a mapping, or item i of a sequence. */
static const struct rotarr_ynode *child_at(const struct rotarr_ynode *node,
                                           size_t i)
{
    return node->kind == ROTARR_YNODE_MAPPING ? node->items[2 * i + 1]
                                              : node->items[i];
}

static void push_step(struct yaml_walk *walk, const struct rotarr_ynode *node,
                      size_t i)
{
    struct path_step *step = &walk->steps[walk->depth++];

    if (node->kind == ROTARR_YNODE_MAPPING) {
        step->name = node->items[2 * i]->value;
        step->len = node->items[2 * i]->value_len;
        step->is_index = 0;
    } else {
        step->name = NULL;
        step->len = i;
        step->is_index = 1;
    }
    walk->path_ready = 0;
}

static void pop_step(struct yaml_walk *walk)
{
    walk->depth--;
    walk->path_ready = 0;
}

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err);

/* Walks child i of node, which sits at depth. */
static int walk_item(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     size_t i, int depth, struct rotarr_error *err)
{
    int ret;

    if (depth + 1 > MAX_DEPTH) {
        return 0;
    }
    push_step(walk, node, i);
    ret = walk_node(walk, child_at(node, i), depth + 1, err);
    pop_step(walk);
    return ret;
}

/* Walks the children [from, to) of node, which sits at depth. */
static int walk_range(struct yaml_walk *walk, const struct rotarr_ynode *node,
                      size_t from, size_t to, int depth,
                      struct rotarr_error *err)
{
    size_t i;

    for (i = from; i < to; i++) {
        if (walk_item(walk, node, i, depth, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err)
{
    if (node == NULL || depth > MAX_DEPTH) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return scan_scalar(walk, node, err);
    }
    return walk_range(walk, node, 0, node->count, depth, err);
}

/* Walks what comes before the cut, from level on. */
static int walk_before(struct yaml_walk *walk, const struct walk_split *split,
                       size_t level, struct rotarr_error *err)
{
    const struct rotarr_ynode *node = split->nodes[level];
    size_t cut = split->index[level];
    int ret;

    if (walk_range(walk, node, 0, cut, (int)level, err) < 0) {
        return -1;
    }
    if (level + 1 == split->levels) {
        return 0;
    }
    push_step(walk, node, cut);
    ret = walk_before(walk, split, level + 1, err);
    pop_step(walk);
    return ret;
}

/* Walks what comes from the cut on, from level on. */
static int walk_after(struct yaml_walk *walk, const struct walk_split *split,
                      size_t level, struct rotarr_error *err)
{
    const struct rotarr_ynode *node = split->nodes[level];
    size_t cut = split->index[level];
    int ret;

    if (level + 1 == split->levels) {
        return walk_range(walk, node, cut, node->count, (int)level, err);
    }
    push_step(walk, node, cut);
    ret = walk_after(walk, split, level + 1, err);
    pop_step(walk);
    if (ret < 0) {
        return -1;
    }
    return walk_range(walk, node, cut + 1, node->count, (int)level, err);
}

/* Returns the child of node with the longest span. */
static size_t largest_child(const struct rotarr_ynode *node)
{
    const struct rotarr_ynode *child;
    size_t best = 0;
    size_t best_span = 0;
    size_t i;

    for (i = 0; i < node->count; i++) {
        child = child_at(node, i);
        if (child->end - child->start > best_span) {
            best = i;
            best_span = child->end - child->start;
        }
    }
    return best;
}

/* Returns the first child of node that starts at or after offset, at
 * least 1 and at most count - 1.  A cut there leaves about as many bytes
 * on each side. */
static size_t child_at_offset(const struct rotarr_ynode *node, size_t offset)
{
    const struct rotarr_ynode *first;
    size_t i;

    for (i = 1; i + 1 < node->count; i++) {
        first = node->kind == ROTARR_YNODE_MAPPING ? node->items[2 * i]
                                                   : node->items[i];
        if (first->start >= offset) {
            break;
        }
    }
    return i;
}

/*
 * Chooses where to cut the walk of root so that both parts take about as
 * long: inside the child that contains most of a collection's bytes (the
 * services of a compose file), at the child nearest to the middle of the
 * file.  Returns 0 when root has too few children to cut.
 */
static int find_split(const struct rotarr_ynode *root,
                      struct walk_split *split)
{
    const struct rotarr_ynode *node = root;
    const struct rotarr_ynode *child;
    size_t level;
    size_t largest;

    for (level = 0; level < SPLIT_MAX_LEVELS && child_count(node) > 0;
         level++) {
        split->nodes[level] = node;
        largest = largest_child(node);
        child = child_at(node, largest);
        if (level + 1 < SPLIT_MAX_LEVELS && child_count(child) >= 2 &&
            (child->end - child->start) * 2 > node->end - node->start) {
            split->index[level] = largest;
            node = child;
            continue;
        }
        if (node->count < 2) {
            return 0;
        }
        split->index[level] =
            child_at_offset(node, root->start + (root->end - root->start) / 2);
        split->levels = level + 1;
        return 1;
    }
    return 0;
}

static void *walk_second_half(void *arg)
{
    struct walk_half *half = arg;

    half->ret = walk_after(half->walk, half->split, 0, &half->err);
    return NULL;
}

/* Appends the worker's lists to the caller's; releases them either way. */
static int merge_lists(const struct value_scan *base,
                       struct rotarr_occurrences *second, int ret,
                       struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < base->matcher->count; i++) {
        if (ret == 0) {
            ret = occurrence_merge(&base->outs[i], &second[i], err);
        } else {
            rotarr_occurrences_release(&second[i]);
        }
    }
    return ret;
}

/* Walks the two parts of split at once.  Returns 1 without walking when
 * the worker cannot start. */
static int scan_in_two(const struct value_scan *base,
                       const struct walk_split *split,
                       struct rotarr_error *err)
{
    struct scan_scratch scratch = { NULL, 0, { 0, 1 } };
    struct walk_half half = { NULL, split, ROTARR_ERROR_INIT, 0 };
    struct value_scan second = *base;
    struct yaml_walk *first = walk_new(base);
    pthread_t thread;
    int ret = 1;

    second.scratch = &scratch;
    second.outs = calloc(base->matcher->count + 1, sizeof(*second.outs));
    half.walk = walk_new(&second);
    if (first == NULL || second.outs == NULL || half.walk == NULL ||
        worker_start(&thread, walk_second_half, &half) < 0) {
        goto out;
    }
    ret = walk_before(first, split, 0, err);
    pthread_join(thread, NULL);
    if (ret == 0 && half.ret < 0) {
        *err = half.err;
        ret = -1;
    }
    ret = merge_lists(base, second.outs, ret, err);

out:
    free(second.outs);
    free(scratch.claimed);
    walk_free(half.walk);
    walk_free(first);
    return ret;
}

static int worth_a_thread(const struct value_scan *base)
{
    return rotarr_stack_file(base->stack, base->file)->len >=
               WALK_THREAD_MIN_BYTES &&
           worker_useful();
}

int occurrence_scan_compose(const struct value_scan *base,
                            struct rotarr_error *err)
{
    const struct rotarr_ynode *root;
    struct walk_split split;
    struct yaml_walk *walk;
    int ret = 1;

    root = rotarr_ydoc_root(rotarr_stack_file(base->stack, base->file)->yaml);
    if (root != NULL && worth_a_thread(base) && find_split(root, &split)) {
        ret = scan_in_two(base, &split, err);
    }
    if (ret != 1) {
        return ret;
    }
    walk = walk_new(base);
    if (walk == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    ret = walk_node(walk, root, 0, err);
    walk_free(walk);
    return ret;
}
