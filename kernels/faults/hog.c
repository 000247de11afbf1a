/*
 * hog: allocates 1 MiB blocks forever, writing one byte in every 4096 so the
 * memory is really committed, and never frees them. It must be stopped by a
 * memory cap (or a timeout). If malloc fails it exits with status 3.
 * Prints nothing else. Used by the harness tests.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

enum { BLOCK_BYTES = 1 << 20, PAGE_BYTES = 4096 };

/* Blocks are chained and the head published through a volatile object, so
 * the compiler cannot prove the allocations unused and delete them. */
static void *volatile head;

int main(void)
{
    unsigned long mib = 0;

    for (;;) {
        volatile unsigned char *block = malloc(BLOCK_BYTES);
        if (block == NULL) {
            fprintf(stderr, "hog: out of memory after %lu MiB\n", mib);
            return 3;
        }
        for (size_t i = 0; i < BLOCK_BYTES; i += PAGE_BYTES) {
            block[i] = 1;
        }
        *(void **)(void *)block = head;
        head = (void *)block;
        mib++;
    }
}
