/* collatz: an example workload from prebuilt files. The pipeline pins
 * collatz.wasm by its sha256; this is its source, built with
 *
 *   zig cc -target wasm32-wasi -mcpu=lime1-call_indirect_overlong \
 *       -Wl,-z,stack-size=1048576 -O2 -s -o collatz.wasm collatz.c
 *
 * (zig 0.17.1; the -mcpu keeps wasm3 able to read it). It finds the start
 * below N with the longest Collatz sequence.
 *
 *   collatz <n>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 2 || atol(argv[1]) <= 1) {
        fprintf(stderr, "usage: collatz <n>\n");
        return 2;
    }
    long n = atol(argv[1]);
    long best = 1, longest = 0;
    for (long start = 1; start < n; start++) {
        uint64_t x = (uint64_t)start;
        long steps = 0;
        while (x != 1) {
            x = x & 1 ? 3 * x + 1 : x / 2;
            steps++;
        }
        if (steps > longest) {
            longest = steps;
            best = start;
        }
    }
    printf("below %ld: %ld takes %ld steps\n", n, best, longest);
    return 0;
}
