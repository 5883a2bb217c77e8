/*
 * The STREAM payload: 64 KiB chunks, each sealed with ChaCha20-Poly1305
 * (chacha.c) under the payload key.  A chunk's nonce is an 11-byte
 * big-endian chunk counter and a final-chunk flag.
 *
 * Chunks are independent, so worker threads seal or open them while the
 * calling thread reads input ahead and writes finished chunks in order.
 * While it waits for a chunk, the calling thread seals or opens chunks
 * too, so there is one thread per core and threads rarely sleep.  A
 * regular file is read by the workers themselves (pread.c).
 *
 * A ring of slot_count slots bounds the memory: a slot is filled, handed
 * to the workers, and written out and reused only in counter order.
 * The calling thread holds back the newest filled slot until the next
 * read shows whether input follows it, because the final flag and the
 * end-of-payload checks depend on that.
 */
#include "rotarr/compat.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "age_private.h"
#include "chacha.h"

#define MAX_WORKERS 16
#define WORKER_STACK_SIZE ((size_t)256 << 10)
#define CHUNK_NONCE_SIZE 12

enum slot_state {
    SLOT_FREE,
    SLOT_FILLED,  /* read; waiting to learn whether input follows */
    SLOT_READY,   /* handed to the workers */
    SLOT_DONE,    /* sealed or opened; waiting to be written */
};

enum chunk_result {
    CHUNK_FAILED,
    CHUNK_MIDDLE,
    CHUNK_FINAL,
};

struct slot {
    unsigned char *in;
    unsigned char *out;
    size_t in_len;
    size_t out_len;
    off_t offset;   /* of the chunk in the file, for a pread() */
    int read_error; /* errno of that pread(), or 0 */
    uint64_t index;
    int at_end; /* no input follows this chunk */
    enum slot_state state;
    enum chunk_result result;
};

struct pipeline {
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    struct slot *slots;
    size_t slot_count;
    unsigned char *buffers;
    size_t buffers_size;
    uint64_t next_work;  /* the next slot a worker takes */
    uint64_t dispatched; /* slots below this index were handed out */
    uint64_t read_index; /* slots filled */
    uint64_t write_index; /* slots written out */
    int input_end;
    int stop;
    int decrypt;
    int started;
    unsigned char key[AGE_KEY_SIZE];
    struct age_pread pread;
    pthread_t threads[MAX_WORKERS];
    unsigned thread_count;
    unsigned workers;
};

static unsigned configured_workers;

void rotarr_age_set_workers(unsigned count)
{
    configured_workers = count;
}

/* Returns the number of threads that seal or open chunks, the calling
 * thread included: one per CPU this process may run on. */

static unsigned worker_count(void)
{
    cpu_set_t set;
    long n = configured_workers;

    if (n == 0 && sched_getaffinity(0, sizeof(set), &set) == 0) {
        n = CPU_COUNT(&set);
    }
    if (n == 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (n < 1) {
        return 1;
    }
    return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

void age_payload_key(const unsigned char file_key[AGE_FILE_KEY_SIZE],
                     const unsigned char nonce[AGE_NONCE_SIZE],
                     unsigned char key[AGE_KEY_SIZE])
{
    rotarr_hkdf_sha256(file_key, AGE_FILE_KEY_SIZE, nonce, AGE_NONCE_SIZE,
                       "payload", 7, key);
}

static void chunk_nonce(uint64_t index, int final,
                        unsigned char nonce[CHUNK_NONCE_SIZE])
{
    int i;

    memset(nonce, 0, CHUNK_NONCE_SIZE);
    for (i = 0; i < 8; i++) {
        nonce[10 - i] = (unsigned char)(index >> (8 * i));
    }
    nonce[11] = final ? 1 : 0;
}

static void seal_chunk(const struct pipeline *p, struct slot *s)
{
    unsigned char nonce[CHUNK_NONCE_SIZE];

    chunk_nonce(s->index, s->at_end, nonce);
    age_aead_seal(s->out, s->in, s->in_len, NULL, 0, nonce, p->key);
    s->out_len = s->in_len + ROTARR_AGE_TAG_SIZE;
    s->result = s->at_end ? CHUNK_FINAL : CHUNK_MIDDLE;
}

static int open_chunk(const struct pipeline *p, struct slot *s, int final)
{
    unsigned char nonce[CHUNK_NONCE_SIZE];

    /* A failed attempt writes nothing, so the next one finds the
     * ciphertext intact. */
    chunk_nonce(s->index, final, nonce);
    if (age_aead_open(s->out, s->in, s->in_len, NULL, 0, nonce,
                      p->key) != 0) {
        return -1;
    }
    s->out_len = s->in_len - ROTARR_AGE_TAG_SIZE;
    return 0;
}

/*
 * A full-size chunk may be a middle chunk or the final one, so it is
 * tried as both.  A shorter one can only be final, and only the first
 * chunk may be final and empty.
 */
static void open_any_chunk(const struct pipeline *p, struct slot *s)
{
    s->result = CHUNK_FAILED;
    s->out_len = 0;
    if (s->in_len < ROTARR_AGE_TAG_SIZE ||
        (s->in_len == ROTARR_AGE_TAG_SIZE && s->index > 0)) {
        return;
    }
    if (s->in_len == AGE_CIPHER_CHUNK && open_chunk(p, s, 0) == 0) {
        s->result = CHUNK_MIDDLE;
    } else if (open_chunk(p, s, 1) == 0) {
        s->result = CHUNK_FINAL;
    }
}

static void process(const struct pipeline *p, struct slot *s)
{
    if (p->pread.active && s->in_len > 0) {
        s->read_error = age_pread_chunk(&p->pread, s->in, s->in_len,
                                        s->offset);
        if (s->read_error != 0) {
            s->result = CHUNK_FAILED;
            return;
        }
    }
    if (p->decrypt) {
        open_any_chunk(p, s);
    } else {
        seal_chunk(p, s);
    }
}

static void *worker_main(void *arg)
{
    struct pipeline *p = arg;
    struct slot *s;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->next_work == p->dispatched) {
            pthread_cond_wait(&p->work_ready, &p->lock);
        }
        if (p->stop) {
            break;
        }
        s = &p->slots[p->next_work++ % p->slot_count];
        pthread_mutex_unlock(&p->lock);
        process(p, s);
        pthread_mutex_lock(&p->lock);
        s->state = SLOT_DONE;
        pthread_cond_signal(&p->work_done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Starts the workers; with none, the calling thread does the work. */
static void start_workers(struct pipeline *p)
{
    pthread_attr_t attr;
    unsigned i;

    p->started = 1;
    if (pthread_attr_init(&attr) != 0) {
        return;
    }
    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
    /* The calling thread is the last one. */
    for (i = 0; i + 1 < p->workers; i++) {
        if (pthread_create(&p->threads[p->thread_count], &attr, worker_main,
                           p) != 0) {
            break;
        }
        p->thread_count++;
    }
    pthread_attr_destroy(&attr);
}

static void stop_workers(struct pipeline *p)
{
    unsigned i;

    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_ready);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->thread_count; i++) {
        pthread_join(p->threads[i], NULL);
    }
    p->thread_count = 0;
}

/* Hands s, whose at_end is now known, to the workers. */
static void dispatch(struct pipeline *p, struct slot *s)
{
    /* A payload of one chunk, the size of most env files, is not worth
     * starting threads for. */
    if (!p->started && !(s->index == 0 && s->at_end)) {
        start_workers(p);
    }
    if (p->thread_count == 0) {
        process(p, s);
        s->state = SLOT_DONE;
        return;
    }
    pthread_mutex_lock(&p->lock);
    s->state = SLOT_READY;
    p->dispatched++;
    pthread_cond_signal(&p->work_ready);
    pthread_mutex_unlock(&p->lock);
}

static struct slot *slot_at(struct pipeline *p, uint64_t index)
{
    return &p->slots[index % p->slot_count];
}

/* Reads the next chunk into a free slot. */
static int fill_next(struct pipeline *p, struct age_input *in,
                     struct rotarr_error *err)
{
    struct slot *s = slot_at(p, p->read_index);
    struct slot *prev = p->read_index > 0 ? slot_at(p, p->read_index - 1)
                                          : NULL;
    size_t size = p->decrypt ? AGE_CIPHER_CHUNK : ROTARR_AGE_CHUNK_SIZE;
    size_t got;

    if (p->pread.active) {
        /* The worker reads it. */
        age_pread_locate(&p->pread, p->read_index, &s->offset, &got);
    } else if (age_input_read(in, s->in, size, &got, err) < 0) {
        return -1;
    }
    if (got == 0 && prev != NULL) {
        p->input_end = 1;
        prev->at_end = 1;
        dispatch(p, prev);
        return 0;
    }
    s->index = p->read_index++;
    s->in_len = got;
    s->read_error = 0;
    s->at_end = got < size;
    s->state = SLOT_FILLED;
    if (prev != NULL) {
        dispatch(p, prev);
    }
    if (s->at_end) {
        p->input_end = 1;
        dispatch(p, s);
    }
    return 0;
}

/*
 * Returns 1 when s is done.  With wait set, waits until it is, and
 * meanwhile seals or opens the chunks that no worker took yet.  The
 * calling thread counts as one of the workers, so that the threads do
 * not outnumber the cores and rarely sleep.
 */
static int slot_done(struct pipeline *p, struct slot *s, int wait)
{
    struct slot *other;
    int done;

    pthread_mutex_lock(&p->lock);
    while (wait && s->state != SLOT_DONE) {
        if (p->next_work == p->dispatched) {
            pthread_cond_wait(&p->work_done, &p->lock);
            continue;
        }
        other = &p->slots[p->next_work++ % p->slot_count];
        pthread_mutex_unlock(&p->lock);
        process(p, other);
        pthread_mutex_lock(&p->lock);
        other->state = SLOT_DONE;
    }
    done = s->state == SLOT_DONE;
    pthread_mutex_unlock(&p->lock);
    return done;
}

/* Explains why chunk s failed to open. */
static int chunk_error(const struct slot *s, struct rotarr_error *err)
{
    unsigned long long index = s->index;

    if (s->in_len == 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the file is "
                                "truncated: no payload after the header");
    }
    if (s->in_len < ROTARR_AGE_TAG_SIZE) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the file is "
                                "truncated: chunk %llu is shorter than a "
                                "tag", index);
    }
    if (s->in_len == ROTARR_AGE_TAG_SIZE && index > 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "invalid payload: "
                                "chunk %llu is an empty final chunk", index);
    }
    return rotarr_error_set(err, ROTARR_EDECRYPT, "chunk %llu does not "
                            "verify: the file is damaged or was tampered "
                            "with", index);
}

/*
 * Checks an opened chunk in order and releases its plaintext.  Returns 1
 * after the final chunk, 0 to go on, or -1.
 */
static int release_chunk(const struct slot *s,
                         const struct rotarr_age_sink *out,
                         enum rotarr_age_failure *failure,
                         struct rotarr_error *err)
{
    unsigned long long index = s->index;

    *failure = ROTARR_AGE_FAIL_PAYLOAD;
    if (s->result == CHUNK_FAILED) {
        return chunk_error(s, err);
    }
    if (out->write(out->ctx, s->out, s->out_len, err) < 0) {
        *failure = ROTARR_AGE_FAIL_IO;
        return -1;
    }
    if (s->result == CHUNK_FINAL && !s->at_end) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "invalid payload: "
                                "data follows the final chunk %llu", index);
    }
    if (s->result == CHUNK_MIDDLE && s->at_end) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the file is "
                                "truncated: it ends after chunk %llu, which "
                                "is not the final one", index);
    }
    *failure = ROTARR_AGE_OK;
    return s->result == CHUNK_FINAL;
}

struct stream_io {
    struct age_input *in;
    struct age_output *out;            /* encryption */
    const struct rotarr_age_sink *sink; /* decryption */
    enum rotarr_age_failure *failure;
};

static int write_slot(struct pipeline *p, struct slot *s,
                      const struct stream_io *io, struct rotarr_error *err)
{
    int status;

    if (s->read_error != 0) {
        *io->failure = ROTARR_AGE_FAIL_IO;
        status = rotarr_error_set(err, ROTARR_EFILE, "cannot read the "
                                  "input: %s", s->read_error == ENODATA
                                  ? "the file shrank while it was read"
                                  : strerror(s->read_error));
    } else if (p->decrypt) {
        status = release_chunk(s, io->sink, io->failure, err);
    } else {
        status = age_output_write(io->out, s->out, s->out_len, err);
        status = status < 0 ? -1 : s->at_end;
    }
    s->state = SLOT_FREE;
    p->write_index++;
    return status;
}

/* Runs the ring until the final chunk is written; returns 0 or -1. */
static int run(struct pipeline *p, const struct stream_io *io,
               struct rotarr_error *err)
{
    int status = 0;

    while (status == 0) {
        while (!p->input_end &&
               p->read_index - p->write_index < p->slot_count) {
            if (fill_next(p, io->in, err) < 0) {
                *io->failure = io->in->failure;
                return -1;
            }
            while (status == 0 && p->write_index < p->read_index &&
                   slot_done(p, slot_at(p, p->write_index), 0)) {
                status = write_slot(p, slot_at(p, p->write_index), io, err);
            }
            if (status != 0) {
                return status < 0 ? -1 : 0;
            }
        }
        slot_done(p, slot_at(p, p->write_index), 1);
        status = write_slot(p, slot_at(p, p->write_index), io, err);
    }
    return status < 0 ? -1 : 0;
}

static int pipeline_init(struct pipeline *p, const unsigned char *key,
                         int decrypt, struct rotarr_error *err)
{
    size_t i;

    memset(p, 0, sizeof(*p));
    p->workers = worker_count();
    p->slot_count = 2 * (size_t)p->workers + 2;
    p->buffers_size = p->slot_count * 2 * AGE_CIPHER_CHUNK;
    p->buffers = malloc(p->buffers_size);
    p->slots = calloc(p->slot_count, sizeof(*p->slots));
    if (p->buffers == NULL || p->slots == NULL) {
        free(p->buffers);
        free(p->slots);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < p->slot_count; i++) {
        p->slots[i].in = p->buffers + 2 * i * AGE_CIPHER_CHUNK;
        p->slots[i].out = p->slots[i].in + AGE_CIPHER_CHUNK;
    }
    memcpy(p->key, key, AGE_KEY_SIZE);
    p->decrypt = decrypt;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_ready, NULL);
    pthread_cond_init(&p->work_done, NULL);
    return 0;
}

static void pipeline_release(struct pipeline *p)
{
    size_t i;

    stop_workers(p);
    /* Wipe what contained plaintext: the input buffers when encrypting,
     * the output buffers when decrypting. */
    for (i = 0; i < p->slot_count; i++) {
        sodium_memzero(p->decrypt ? p->slots[i].out : p->slots[i].in,
                       AGE_CIPHER_CHUNK);
    }
    sodium_memzero(p->key, sizeof(p->key));
    free(p->buffers);
    free(p->slots);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work_ready);
    pthread_cond_destroy(&p->work_done);
}

int age_stream_encrypt(const unsigned char key[AGE_KEY_SIZE],
                       struct age_input *in, struct age_output *out,
                       struct rotarr_error *err)
{
    struct pipeline p;
    enum rotarr_age_failure failure = ROTARR_AGE_OK;
    struct stream_io io = { in, out, NULL, &failure };
    int ret;

    if (pipeline_init(&p, key, 0, err) < 0) {
        return -1;
    }
    age_pread_open(&p.pread, in, ROTARR_AGE_CHUNK_SIZE);
    ret = run(&p, &io, err);
    pipeline_release(&p);
    return ret;
}

int age_stream_decrypt(const unsigned char key[AGE_KEY_SIZE],
                       struct age_input *in, const struct rotarr_age_sink *out,
                       enum rotarr_age_failure *failure,
                       struct rotarr_error *err)
{
    struct pipeline p;
    struct stream_io io = { in, NULL, out, failure };
    int ret;

    if (pipeline_init(&p, key, 1, err) < 0) {
        *failure = ROTARR_AGE_FAIL_IO;
        return -1;
    }
    age_pread_open(&p.pread, in, AGE_CIPHER_CHUNK);
    ret = run(&p, &io, err);
    pipeline_release(&p);
    return ret;
}
