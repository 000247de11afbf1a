/*
 * seidel-2d: 9-point Gauss-Seidel relaxation on an N x N grid, updated in
 * place (so each point sees already-updated neighbours above and to the
 * left). Live-out: A.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_TSTEPS
#error "EB_TSTEPS is not defined: compile with -DEB_TSTEPS=<time steps> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<grid size> (sizes: kernels/suite.yaml)"
#endif

enum { TSTEPS = EB_TSTEPS, N = EB_N };

static void init(double A[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = ((double)i * (j + 2) + 2) / N;
        }
    }
}

static void kernel_seidel_2d(double A[N][N])
{
    for (int t = 0; t <= TSTEPS - 1; t++) {
        for (int i = 1; i <= N - 2; i++) {
            for (int j = 1; j <= N - 2; j++) {
                A[i][j] = (A[i - 1][j - 1] + A[i - 1][j] + A[i - 1][j + 1]
                           + A[i][j - 1] + A[i][j] + A[i][j + 1]
                           + A[i + 1][j - 1] + A[i + 1][j] + A[i + 1][j + 1])
                          / 9.0;
            }
        }
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(N, sizeof *A);

    init(A);

    eb_timer_start();
    kernel_seidel_2d(A);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    return 0;
}
