/*
 * Progress of the payload, counted in a sink placed in front of the real
 * one.  The STREAM code writes to its sink only from the calling thread
 * and in chunk order, so counting there needs no lock and costs one
 * addition per 64 KiB chunk.
 */
#include "rotarr/compat.h"

#include <sys/stat.h>
#include <unistd.h>

#include "age_private.h"

/* Returns the plaintext size of the first sealed bytes of a payload,
 * exact when they end at a chunk boundary. */
static uint64_t plaintext_of(uint64_t sealed)
{
    uint64_t chunks = (sealed + AGE_CIPHER_CHUNK - 1) / AGE_CIPHER_CHUNK;

    return sealed - chunks * ROTARR_AGE_TAG_SIZE;
}

static int count_write(void *ctx, const void *bytes, size_t len,
                       struct rotarr_error *err)
{
    struct age_progress *counter = ctx;

    if (counter->next.write(counter->next.ctx, bytes, len, err) < 0) {
        return -1;
    }
    counter->bytes += len;
    if (counter->bytes >= counter->next_report) {
        age_progress_report(counter);
    }
    return 0;
}

void age_progress_begin(struct age_progress *counter,
                        const struct rotarr_progress *progress,
                        const struct rotarr_age_sink *next, int sealed,
                        uint64_t total)
{
    memset(counter, 0, sizeof(*counter));
    counter->progress = progress;
    counter->next = *next;
    counter->sink.write = count_write;
    counter->sink.ctx = counter;
    counter->sealed = sealed;
    counter->total = total;
    age_progress_report(counter);
}

void age_progress_report(struct age_progress *counter)
{
    uint64_t done = counter->sealed ? plaintext_of(counter->bytes)
                                    : counter->bytes;

    counter->progress->report(counter->progress->ctx, done, counter->total);
    counter->next_report = counter->bytes + ROTARR_AGE_PROGRESS_STEP;
}

uint64_t age_input_remaining(const struct age_input *in)
{
    struct stat st;
    off_t position;
    int fd;

    if (in->source->file_fd == NULL) {
        return 0;
    }
    fd = in->source->file_fd(in->source->ctx);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    position = lseek(fd, 0, SEEK_CUR);
    /* The input buffer has read ahead of the next byte to use. */
    position -= (off_t)(in->raw_len - in->raw_pos);
    if (position < 0 || position > st.st_size) {
        return 0;
    }
    return (uint64_t)(st.st_size - position);
}

uint64_t age_payload_plaintext_size(const struct age_input *in)
{
    if (in->armored) {
        return 0;
    }
    return plaintext_of(age_input_remaining(in));
}
