/*
 * floyd-warshall: all-pairs shortest path lengths on a dense directed graph
 * of N nodes, relaxing paths in place through each intermediate node k.
 * Live-out: paths.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<number of nodes> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

/* Weight of a missing edge. Real path lengths stay below 12 * N, and the sum
 * of two NO_EDGE values still fits an int, so the kernel never overflows. */
enum { NO_EDGE = 1 << 20 };

static void init(int paths[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            if (i == j) {
                paths[i][j] = 0;
            } else if ((i * j + i + j) % 5 == 0 || (i + 2 * j) % 7 == 0) {
                paths[i][j] = NO_EDGE;
            } else {
                paths[i][j] = (7 * i + 3 * j) % 11 + 1;
            }
        }
    }
}

static void kernel_floyd_warshall(int paths[N][N])
{
    for (int k = 0; k < N; k++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                paths[i][j] = paths[i][j] < paths[i][k] + paths[k][j]
                                  ? paths[i][j]
                                  : paths[i][k] + paths[k][j];
            }
        }
    }
}

int main(void)
{
    int (*paths)[N] = eb_alloc(N, sizeof *paths);

    init(paths);

    eb_timer_start();
    kernel_floyd_warshall(paths);
    eb_timer_stop();

    eb_checksum(paths, N * sizeof *paths);
    eb_report();

    free(paths);
    return 0;
}
