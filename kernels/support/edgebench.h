/*
 * edgebench kernel support: allocation, timing, checksum and result line.
 *
 * Protocol. A kernel times only its computation (eb_timer_start/eb_timer_stop
 * around the kernel region), feeds its live-out arrays to eb_checksum, then
 * calls eb_report exactly once. eb_report writes one line to stderr:
 *
 *   EDGEBENCH_RESULT {"kernel_ns":<decimal u64>,"checksum":"<16 hex digits>"}
 *
 * The harness parses that line; stdout is left to the kernel (the suite's
 * kernels print nothing there). The checksum is 64-bit FNV-1a over the raw
 * bytes of the live-out arrays. Every target is little-endian IEEE-754 and
 * kernels are built with -ffp-contract=off, so native, Docker and WebAssembly
 * runs of the same kernel and dataset must produce the same checksum.
 */
#ifndef EDGEBENCH_H
#define EDGEBENCH_H

#include <stddef.h>

/* Zero-initialised heap block of count * elem_size bytes; exits with status 2
 * (and a message on stderr) when the allocation fails. */
void *eb_alloc(size_t count, size_t elem_size);

/* Bracket the kernel region; the measured time is CLOCK_MONOTONIC based. */
void eb_timer_start(void);
void eb_timer_stop(void);

/* Feed bytes into the running FNV-1a hash; call once per live-out array,
 * in a fixed order. */
void eb_checksum(const void *data, size_t bytes);

/* Write the EDGEBENCH_RESULT line to stderr and flush it. */
void eb_report(void);

#endif /* EDGEBENCH_H */
