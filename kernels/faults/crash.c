/*
 * crash: writes through a wild pointer. 0xFFFFFFF0 is unmapped in a native
 * process and lies past the end of any wasm32 linear memory short of the
 * full 4 GiB, so natively this is SIGSEGV and in WebAssembly an
 * out-of-bounds memory trap. Used by the harness tests.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    /* volatile: the store is observable behaviour and cannot be removed. */
    volatile int *wild = (volatile int *)(uintptr_t)0xFFFFFFF0u;
    *wild = 42;

    /* Only reached if the address was unexpectedly writable. */
    fprintf(stderr, "crash: write to 0xFFFFFFF0 did not fault\n");
    return 1;
}
