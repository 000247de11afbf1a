/*
 * jacobi-2d: 5-point Jacobi relaxation on an N x N grid, A -> B then B -> A
 * each time step (boundary cells stay fixed). Live-out: A.
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

static void init(double A[N][N], double B[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = ((double)i * (j + 2) + 2) / N;
            B[i][j] = ((double)i * (j + 3) + 3) / N;
        }
    }
}

static void kernel_jacobi_2d(double A[N][N], double B[N][N])
{
    for (int t = 0; t < TSTEPS; t++) {
        for (int i = 1; i < N - 1; i++) {
            for (int j = 1; j < N - 1; j++) {
                B[i][j] = 0.2 * (A[i][j] + A[i][j - 1] + A[i][j + 1] + A[i + 1][j] + A[i - 1][j]);
            }
        }
        for (int i = 1; i < N - 1; i++) {
            for (int j = 1; j < N - 1; j++) {
                A[i][j] = 0.2 * (B[i][j] + B[i][j - 1] + B[i][j + 1] + B[i + 1][j] + B[i - 1][j]);
            }
        }
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(N, sizeof *A);
    double (*B)[N] = eb_alloc(N, sizeof *B);

    init(A, B);

    eb_timer_start();
    kernel_jacobi_2d(A, B);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    free(B);
    return 0;
}
