/*
 * edgebench kernel support; see edgebench.h for the result-line protocol.
 * Plain C11 plus POSIX clock_gettime, which wasi-libc and musl both provide.
 */
#define _POSIX_C_SOURCE 200809L

#include "edgebench.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FNV_OFFSET_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static struct timespec timer_start;
static uint64_t kernel_ns;
static uint64_t checksum = FNV_OFFSET_BASIS;

void *eb_alloc(size_t count, size_t elem_size)
{
    /* calloc(0, n) may legitimately return NULL; ask for one byte instead so
     * that NULL always means failure. */
    void *p = (count == 0 || elem_size == 0) ? calloc(1, 1) : calloc(count, elem_size);
    if (p == NULL) {
        /* 64-bit product: on wasm32 the size_t product could wrap. */
        uint64_t bytes = (uint64_t)count * (uint64_t)elem_size;
        fprintf(stderr, "edgebench: out of memory allocating %" PRIu64 " bytes\n", bytes);
        exit(2);
    }
    return p;
}

static void now(struct timespec *ts)
{
    if (clock_gettime(CLOCK_MONOTONIC, ts) != 0) {
        fprintf(stderr, "edgebench: clock_gettime(CLOCK_MONOTONIC) failed\n");
        exit(2);
    }
}

void eb_timer_start(void)
{
    now(&timer_start);
}

void eb_timer_stop(void)
{
    struct timespec end;
    now(&end);
    int64_t ns = ((int64_t)end.tv_sec - (int64_t)timer_start.tv_sec) * INT64_C(1000000000)
                 + ((int64_t)end.tv_nsec - (int64_t)timer_start.tv_nsec);
    kernel_ns = ns > 0 ? (uint64_t)ns : 0;
}

void eb_checksum(const void *data, size_t bytes)
{
    const unsigned char *p = data;
    uint64_t h = checksum;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    checksum = h;
}

void eb_report(void)
{
    fprintf(stderr, "EDGEBENCH_RESULT {\"kernel_ns\":%" PRIu64 ",\"checksum\":\"%016" PRIx64 "\"}\n",
            kernel_ns, checksum);
    fflush(stderr);
}
