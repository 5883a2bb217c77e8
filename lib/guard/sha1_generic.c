#include "rotarr/compat.h"

#include <stdint.h>

#include "guard_private.h"

/* On machines other than x86-64, the portable code in sha1.c compresses
 * every block. */
int guard_sha1_blocks_fast(uint32_t state[5], const unsigned char *blocks,
                           size_t count)
{
    (void)state;
    (void)blocks;
    (void)count;
    return 0;
}
