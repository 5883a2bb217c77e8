#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/secret.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct rotarr_error err;

    (void)argc;
    (void)argv;
    if (rotarr_secret_init(&err) < 0) {
        abort();
    }
    return 0;
}
