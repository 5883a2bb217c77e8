#include "rotarr/compat.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/yamldoc.h"
#include "yamldoc_private.h"

/* Chunks start at YARENA_CHUNK_BYTES and double up to YARENA_CHUNK_MAX:
 * a small file takes little memory, and a large one few allocations,
 * each of which may cost a system call. */
#define YARENA_CHUNK_BYTES ((size_t)64 * 1024)
#define YARENA_CHUNK_MAX ((size_t)4 * 1024 * 1024)

/* Alignment of the pieces of yarena_alloc(): they hold nodes and arrays
 * of pointers, which need no more, and a scalar node then takes 104
 * bytes instead of 112. */
#define YARENA_ALIGN alignof(struct ynode_impl)
#define YAML_MERGE_TAG "tag:yaml.org,2002:merge"
#define YAML_NULL_TAG "tag:yaml.org,2002:null"

/* Mappings with at most this many pairs are checked for repeated keys by
 * comparing every pair of keys instead of hashing them. */
#define YMAP_LINEAR_KEYS 8

struct yarena_chunk {
    struct yarena_chunk *next;
    size_t used;
    size_t size;
    max_align_t data[];
};

/* Returns size bytes from the newest chunk of the list at head, or from
 * a new chunk when it lacks room.  size must keep the chunk's alignment
 * when the caller needs it. */
static void *chunk_piece(struct yarena_chunk **head, size_t size)
{
    struct yarena_chunk *chunk = *head;
    size_t bytes = YARENA_CHUNK_BYTES;
    void *piece;

    if (chunk == NULL || chunk->size - chunk->used < size) {
        if (chunk != NULL && chunk->size < YARENA_CHUNK_MAX) {
            bytes = chunk->size * 2;
        } else if (chunk != NULL) {
            bytes = YARENA_CHUNK_MAX;
        }
        bytes = size > bytes ? size : bytes;
        chunk = malloc(sizeof(*chunk) + bytes);
        if (chunk == NULL) {
            return NULL;
        }
        chunk->next = *head;
        chunk->used = 0;
        chunk->size = bytes;
        *head = chunk;
    }
    piece = (char *)chunk->data + chunk->used;
    chunk->used += size;
    return piece;
}

void *yarena_alloc(struct yarena *arena, size_t size)
{
    size_t align = YARENA_ALIGN;

    if (size > SIZE_MAX - align) {
        return NULL;
    }
    return chunk_piece(&arena->head, (size + align - 1) / align * align);
}

char *yarena_alloc_text(struct yarena *arena, size_t size)
{
    return chunk_piece(&arena->text_head, size);
}

static void release_chunks(struct yarena_chunk **head, int wipe)
{
    struct yarena_chunk *chunk = *head;
    struct yarena_chunk *next;

    while (chunk != NULL) {
        next = chunk->next;
        if (wipe) {
            sodium_memzero(chunk->data, chunk->used);
        }
        free(chunk);
        chunk = next;
    }
    *head = NULL;
}

/* Only the text is wiped: nodes and their arrays hold positions and
 * pointers, and wiping them would cost a pass over most of the memory. */
void yarena_release(struct yarena *arena)
{
    release_chunks(&arena->head, 0);
    release_chunks(&arena->text_head, 1);
}

static void join_chunks(struct yarena_chunk **into, struct yarena_chunk **from)
{
    struct yarena_chunk *last = *from;

    if (last == NULL) {
        return;
    }
    while (last->next != NULL) {
        last = last->next;
    }
    last->next = *into;
    *into = *from;
    *from = NULL;
}

void yarena_join(struct yarena *into, struct yarena *from)
{
    join_chunks(&into->head, &from->head);
    join_chunks(&into->text_head, &from->text_head);
}

static size_t hash_key(const struct rotarr_ynode *key)
{
    size_t h = 2166136261u;
    size_t i;

    for (i = 0; i < key->value_len; i++) {
        h = (h ^ (unsigned char)key->value[i]) * 16777619u;
    }
    return h;
}

static int same_key(const struct rotarr_ynode *a, const struct rotarr_ynode *b)
{
    return a->value_len == b->value_len &&
           memcmp(a->value, b->value, a->value_len) == 0;
}

/* Empties the set and makes room for n keys. */
static int ykeyset_reset(struct ykeyset *set, size_t n)
{
    size_t cap = 16;

    while (cap < n * 2) {
        if (cap > SIZE_MAX / 2 / sizeof(*set->slots)) {
            return -1;
        }
        cap *= 2;
    }
    if (cap > set->cap) {
        free(set->slots);
        set->slots = malloc(cap * sizeof(*set->slots));
        set->cap = set->slots != NULL ? cap : 0;
        if (set->slots == NULL) {
            return -1;
        }
    }
    memset(set->slots, 0, set->cap * sizeof(*set->slots));
    return 0;
}

/*
 * Adds key (a scalar) unless an equal key is there; returns the key
 * already present, or NULL when key was added.
 */
static const struct rotarr_ynode *ykeyset_add(struct ykeyset *set,
                                              const struct rotarr_ynode *key)
{
    size_t mask = set->cap - 1;
    size_t i = hash_key(key) & mask;

    while (set->slots[i] != NULL) {
        if (same_key(set->slots[i], key)) {
            return set->slots[i];
        }
        i = (i + 1) & mask;
    }
    set->slots[i] = key;
    return NULL;
}

void ykeyset_release(struct ykeyset *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = 0;
}

int ynode_is_merge_key(const struct rotarr_ynode *key)
{
    return key->kind == ROTARR_YNODE_SCALAR &&
           key->style == ROTARR_YSTYLE_PLAIN && key->value_len == 2 &&
           memcmp(key->value, "<<", 2) == 0 &&
           (key->tag == NULL || strcmp(key->tag, YAML_MERGE_TAG) == 0);
}

static int fail_at(const struct rotarr_ynode *node, const char *path,
                   struct rotarr_error *err, const char *problem)
{
    return rotarr_error_set(err, ROTARR_EFILE, "%s:%zu:%zu: %s", path,
                            node->line, node->column, problem);
}

/* Returns the first scalar key before key i of map that equals it, or
 * NULL; for small mappings, where comparing is cheaper than hashing. */
static const struct rotarr_ynode *earlier_key(const struct ynode_impl *map,
                                              size_t i)
{
    const struct rotarr_ynode *key = map->pub.items[2 * i];
    const struct rotarr_ynode *other;
    size_t j;

    for (j = 0; j < i; j++) {
        other = map->pub.items[2 * j];
        if (other->kind == ROTARR_YNODE_SCALAR && same_key(other, key)) {
            return other;
        }
    }
    return NULL;
}

/* Checks that no two scalar keys of map decode to the same text. */
static int check_duplicates(const struct ynode_impl *map,
                            struct ykeyset *set, const char *path,
                            struct rotarr_error *err)
{
    const struct rotarr_ynode *key;
    const struct rotarr_ynode *first;
    int small = map->pub.count <= YMAP_LINEAR_KEYS;
    size_t i;

    if (!small && ykeyset_reset(set, map->pub.count) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < map->pub.count; i++) {
        key = map->pub.items[2 * i];
        if (key->kind != ROTARR_YNODE_SCALAR) {
            continue;
        }
        first = small ? earlier_key(map, i) : ykeyset_add(set, key);
        if (first != NULL) {
            return rotarr_error_set(
                err, ROTARR_EFILE,
                "%s:%zu:%zu: duplicate key '%.*s' (first at line %zu); "
                "remove or rename one of them",
                path, key->line, key->column,
                (int)(key->value_len < 64 ? key->value_len : 64), key->value,
                first->line);
        }
    }
    return 0;
}

/* Checks that a merge value is a mapping or a list of mappings, and
 * returns how many pairs it can bring. */
static int check_merge_value(const struct rotarr_ynode *value,
                             const char *path, struct rotarr_error *err,
                             size_t *pairs, size_t *depth)
{
    const struct rotarr_ynode *item;
    const struct ynode_impl *source;
    size_t count = value->kind == ROTARR_YNODE_SEQUENCE ? value->count : 1;
    size_t i;

    for (i = 0; i < count; i++) {
        item = value->kind == ROTARR_YNODE_SEQUENCE ? value->items[i] : value;
        if (item->kind != ROTARR_YNODE_MAPPING) {
            return fail_at(item, path, err,
                           "merge key '<<' needs a mapping or a list of "
                           "mappings; use '<<: *anchor' with an anchored "
                           "mapping");
        }
        source = (const struct ynode_impl *)item;
        *pairs += source->pair_count;
        if (source->merge_depth + 1 > *depth) {
            *depth = source->merge_depth + 1;
        }
    }
    return 0;
}

/* Adds one pair unless its key is already taken. */
static void emit_pair(struct ynode_impl *map, const struct rotarr_ynode **out,
                      struct ykeyset *set, const struct rotarr_ynode *key,
                      const struct rotarr_ynode *value)
{
    if (key->kind == ROTARR_YNODE_SCALAR && ykeyset_add(set, key) != NULL) {
        return;
    }
    out[2 * map->pair_count] = key;
    out[2 * map->pair_count + 1] = value;
    map->pair_count++;
}

static void emit_merged(struct ynode_impl *map,
                        const struct rotarr_ynode **out, struct ykeyset *set,
                        const struct rotarr_ynode *value)
{
    const struct ynode_impl *source;
    size_t count = value->kind == ROTARR_YNODE_SEQUENCE ? value->count : 1;
    size_t i;
    size_t j;

    for (i = 0; i < count; i++) {
        source = (const struct ynode_impl *)(value->kind ==
                                                     ROTARR_YNODE_SEQUENCE
                                                 ? value->items[i]
                                                 : value);
        for (j = 0; j < source->pair_count; j++) {
            emit_pair(map, out, set, source->pairs[2 * j],
                      source->pairs[2 * j + 1]);
        }
    }
}

/*
 * Local keys win over merged ones wherever the merge key sits, so they all
 * go into the set first; merged pairs then fill the merge key's place in
 * list order, the first source winning.
 */
static int resolve_merges(struct ynode_impl *map, size_t merged,
                          struct yarena *arena, struct ykeyset *set)
{
    const struct rotarr_ynode **out;
    const struct rotarr_ynode *key;
    size_t i;

    out = yarena_alloc(arena, 2 * (map->pub.count + merged) * sizeof(*out));
    if (out == NULL || ykeyset_reset(set, map->pub.count + merged) < 0) {
        return -1;
    }
    for (i = 0; i < map->pub.count; i++) {
        key = map->pub.items[2 * i];
        if (!ynode_is_merge_key(key) && key->kind == ROTARR_YNODE_SCALAR) {
            ykeyset_add(set, key);
        }
    }
    map->pair_count = 0;
    for (i = 0; i < map->pub.count; i++) {
        key = map->pub.items[2 * i];
        if (ynode_is_merge_key(key)) {
            emit_merged(map, out, set, map->pub.items[2 * i + 1]);
        } else {
            out[2 * map->pair_count] = key;
            out[2 * map->pair_count + 1] = map->pub.items[2 * i + 1];
            map->pair_count++;
        }
    }
    map->pairs = out;
    return 0;
}

int ymap_finish(struct ynode_impl *map, struct yarena *arena,
                struct ykeyset *set, const char *path,
                struct rotarr_error *err)
{
    size_t merged = 0;
    size_t depth = 0;
    int has_merge = 0;
    size_t i;

    if (check_duplicates(map, set, path, err) < 0) {
        return -1;
    }
    for (i = 0; i < map->pub.count; i++) {
        if (ynode_is_merge_key(map->pub.items[2 * i])) {
            has_merge = 1;
            if (check_merge_value(map->pub.items[2 * i + 1], path, err,
                                  &merged, &depth) < 0) {
                return -1;
            }
        }
    }
    map->merge_depth = depth;
    if (depth > ROTARR_YDOC_MAX_DEPTH) {
        return fail_at(&map->pub, path, err,
                       "merge keys chained too deep; flatten the anchors");
    }
    if (!has_merge) {
        map->pairs = (const struct rotarr_ynode *const *)map->pub.items;
        map->pair_count = map->pub.count;
        return 0;
    }
    if (resolve_merges(map, merged, arena, set) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

size_t rotarr_ynode_pairs(const struct rotarr_ynode *map,
                          const struct rotarr_ynode *const **pairs)
{
    const struct ynode_impl *impl = (const struct ynode_impl *)map;

    if (map == NULL || map->kind != ROTARR_YNODE_MAPPING) {
        *pairs = NULL;
        return 0;
    }
    *pairs = impl->pairs;
    return impl->pair_count;
}

int rotarr_ynode_equals(const struct rotarr_ynode *node, const char *text)
{
    size_t len = strlen(text);

    return node != NULL && node->kind == ROTARR_YNODE_SCALAR &&
           node->value_len == len && memcmp(node->value, text, len) == 0;
}

const struct rotarr_ynode *rotarr_ynode_get(const struct rotarr_ynode *map,
                                            const char *key)
{
    const struct rotarr_ynode *const *pairs;
    const struct rotarr_ynode *candidate;
    size_t count = rotarr_ynode_pairs(map, &pairs);
    size_t len = strlen(key);
    size_t i;

    for (i = 0; i < count; i++) {
        candidate = pairs[2 * i];
        if (candidate->kind == ROTARR_YNODE_SCALAR &&
            candidate->value_len == len &&
            memcmp(candidate->value, key, len) == 0) {
            return pairs[2 * i + 1];
        }
    }
    return NULL;
}

int rotarr_ynode_is_null(const struct rotarr_ynode *node)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    size_t i;

    if (node == NULL) {
        return 1;
    }
    if (node->kind != ROTARR_YNODE_SCALAR) {
        return 0;
    }
    if (node->tag != NULL) {
        return strcmp(node->tag, YAML_NULL_TAG) == 0;
    }
    if (node->style != ROTARR_YSTYLE_PLAIN || node->value_len > 4) {
        return 0; /* "null" is the longest spelling */
    }
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (rotarr_ynode_equals(node, nulls[i])) {
            return 1;
        }
    }
    return 0;
}
