/*
 * The two entry points that libFuzzer calls in every harness of this
 * folder, declared once so that -Wmissing-prototypes holds.
 */
#ifndef ROTARR_FUZZ_H
#define ROTARR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs once before the first input: initialises libsodium. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs one input; returns 0, and aborts when a property does not hold. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
