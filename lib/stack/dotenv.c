#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/dotenv.h"
#include "dotenv_internal.h"
#include "wipe_buf.h"

/* Slots in the key table when its first key arrives. */
#define DOTENV_MIN_SLOTS 16

struct rotarr_dotenv *rotarr_dotenv_new(const char *path, const char *bytes,
                                        size_t len, struct rotarr_error *err)
{
    struct rotarr_dotenv *env = calloc(1, sizeof(*env));

    if (env == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    env->path = strdup(path);
    env->bytes = malloc(len + 1);
    if (env->path == NULL || env->bytes == NULL) {
        rotarr_dotenv_free(env);
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (len > 0) {
        memcpy(env->bytes, bytes, len);
    }
    env->bytes[len] = '\0';
    env->len = len;
    randombytes_buf(env->hash_key, sizeof(env->hash_key));
    return env;
}

static uint64_t key_hash(const struct rotarr_dotenv *env, const char *key,
                         size_t key_len)
{
    unsigned char digest[crypto_shorthash_BYTES];
    uint64_t h = 0;
    size_t i;

    crypto_shorthash(digest, (const unsigned char *)key, key_len,
                     env->hash_key);
    for (i = 0; i < sizeof(digest); i++) {
        h = h << 8 | digest[i];
    }
    return h;
}

/* Returns the slot that contains key, or the free slot where it belongs. */
static struct dotenv_slot *key_slot(const struct rotarr_dotenv *env,
                                    uint64_t hash, const char *key,
                                    size_t key_len)
{
    size_t mask = env->slot_count - 1;
    size_t i = (size_t)hash & mask;
    const struct dotenv_item *item;

    for (;; i = (i + 1) & mask) {
        if (env->slots[i].entry == 0) {
            return &env->slots[i];
        }
        if (env->slots[i].hash != hash) {
            continue;
        }
        item = &env->items[env->slots[i].entry - 1];
        if (item->key_len == key_len &&
            memcmp(env->arena.data + item->key_off, key, key_len) == 0) {
            return &env->slots[i];
        }
    }
}

/* Doubles the table; the stored hashes place the keys again without
 * reading them. */
static int grow_slots(struct rotarr_dotenv *env, struct rotarr_error *err)
{
    struct dotenv_slot *old = env->slots;
    size_t old_count = env->slot_count;
    size_t count = old_count > 0 ? old_count * 2 : DOTENV_MIN_SLOTS;
    size_t mask = count - 1;
    size_t i;
    size_t j;

    env->slots = calloc(count, sizeof(*env->slots));
    if (env->slots == NULL) {
        env->slots = old;
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    env->slot_count = count;
    for (i = 0; i < old_count; i++) {
        if (old[i].entry == 0) {
            continue;
        }
        for (j = (size_t)old[i].hash & mask; env->slots[j].entry != 0;
             j = (j + 1) & mask) {
        }
        env->slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Makes entry index the one that sets its key. */
static int set_key(struct rotarr_dotenv *env, size_t index,
                   struct rotarr_error *err)
{
    const struct dotenv_item *item = &env->items[index];
    const char *key = env->arena.data + item->key_off;
    uint64_t hash = key_hash(env, key, item->key_len);
    struct dotenv_slot *slot;

    if ((env->keys_set + 1) * 2 > env->slot_count && grow_slots(env, err) < 0) {
        return -1;
    }
    slot = key_slot(env, hash, key, item->key_len);
    if (slot->entry == 0) {
        env->keys_set++;
    }
    slot->hash = hash;
    slot->entry = index + 1;
    return 0;
}

static int grow_items(struct rotarr_dotenv *env, struct rotarr_error *err)
{
    size_t alloc = env->alloc > 0 ? env->alloc * 2 : 64;
    struct dotenv_item *items;

    if (alloc > SIZE_MAX / sizeof(*items)) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    items = realloc(env->items, alloc * sizeof(*items));
    if (items == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    env->items = items;
    env->alloc = alloc;
    return 0;
}

/* Stores len bytes and a NUL in the arena; returns their offset in *off. */
static int arena_store(struct rotarr_dotenv *env, const char *bytes, size_t len,
                       size_t *off, struct rotarr_error *err)
{
    if (len > ROTARR_DOTENV_MAX_DECODED ||
        env->arena.len > ROTARR_DOTENV_MAX_DECODED - len) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "decoded keys and values exceed %zu MiB",
                                ROTARR_DOTENV_MAX_DECODED >> 20);
    }
    *off = env->arena.len;
    if (rotarr_wipe_buf_append(&env->arena, bytes, len, err) < 0 ||
        rotarr_wipe_buf_append(&env->arena, "", 1, err) < 0) {
        return -1;
    }
    return 0;
}

int rotarr_dotenv_add(struct rotarr_dotenv *env,
                      const struct rotarr_dotenv_entry *pub, const char *key,
                      size_t key_len, const char *value, size_t value_len,
                      struct rotarr_error *err)
{
    struct dotenv_item *item;

    if (env->count == env->alloc && grow_items(env, err) < 0) {
        return -1;
    }
    item = &env->items[env->count];
    item->pub = *pub;
    item->pub.key = NULL;
    item->pub.value = NULL;
    item->pub.value_len = value != NULL ? value_len : 0;
    item->key_len = key_len;
    item->value_off = SIZE_MAX;
    if (arena_store(env, key, key_len, &item->key_off, err) < 0) {
        return -1;
    }
    if (value != NULL &&
        arena_store(env, value, value_len, &item->value_off, err) < 0) {
        return -1;
    }
    env->count++;
    return value != NULL ? set_key(env, env->count - 1, err) : 0;
}

static const struct dotenv_item *find_item(const struct rotarr_dotenv *env,
                                           const char *key)
{
    size_t key_len;
    size_t entry;

    if (env->slot_count == 0) {
        return NULL;
    }
    key_len = strlen(key);
    entry = key_slot(env, key_hash(env, key, key_len), key, key_len)->entry;
    return entry != 0 ? &env->items[entry - 1] : NULL;
}

const char *rotarr_dotenv_own_value(const struct rotarr_dotenv *env,
                                    const char *name)
{
    const struct dotenv_item *item = find_item(env, name);

    return item != NULL ? env->arena.data + item->value_off : NULL;
}

void rotarr_dotenv_finish(struct rotarr_dotenv *env)
{
    struct dotenv_item *item;
    size_t i;

    for (i = 0; i < env->count; i++) {
        item = &env->items[i];
        item->pub.key = env->arena.data + item->key_off;
        if (item->value_off != SIZE_MAX) {
            item->pub.value = env->arena.data + item->value_off;
        }
    }
}

size_t rotarr_dotenv_count(const struct rotarr_dotenv *env)
{
    return env->count;
}

const struct rotarr_dotenv_entry *
rotarr_dotenv_entry(const struct rotarr_dotenv *env, size_t i)
{
    return i < env->count ? &env->items[i].pub : NULL;
}

const struct rotarr_dotenv_entry *
rotarr_dotenv_find(const struct rotarr_dotenv *env, const char *key)
{
    const struct dotenv_item *item = find_item(env, key);

    return item != NULL ? &item->pub : NULL;
}

const char *rotarr_dotenv_lookup(void *ctx, const char *name)
{
    const struct rotarr_dotenv *env = ctx;
    const char *value;

    for (; env != NULL; env = env->prior) {
        value = rotarr_dotenv_own_value(env, name);
        if (value != NULL) {
            return value;
        }
    }
    return NULL;
}

const char *rotarr_dotenv_path(const struct rotarr_dotenv *env)
{
    return env->path;
}

const char *rotarr_dotenv_bytes(const struct rotarr_dotenv *env, size_t *len)
{
    if (len != NULL) {
        *len = env->len;
    }
    return env->bytes;
}

void rotarr_dotenv_free(struct rotarr_dotenv *env)
{
    if (env == NULL) {
        return;
    }
    if (env->bytes != NULL) {
        sodium_memzero(env->bytes, env->len + 1);
    }
    free(env->bytes);
    rotarr_wipe_buf_release(&env->arena);
    free(env->items);
    free(env->slots);
    free(env->path);
    sodium_memzero(env->hash_key, sizeof(env->hash_key));
    free(env);
}
