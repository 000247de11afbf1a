/*
 * heat-3d: explicit heat equation on an N^3 grid, a 7-point stencil applied
 * A -> B then B -> A each time step (boundary cells stay fixed).
 * Live-out: A.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_TSTEPS
#error "EB_TSTEPS is not defined: compile with -DEB_TSTEPS=<time steps> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<grid size per dimension> (sizes: kernels/suite.yaml)"
#endif

enum { TSTEPS = EB_TSTEPS, N = EB_N };

static void init(double A[N][N][N], double B[N][N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            for (int k = 0; k < N; k++) {
                A[i][j][k] = B[i][j][k] = (double)(i + j + (N - k)) * 10.0 / N;
            }
        }
    }
}

static void kernel_heat_3d(double A[N][N][N], double B[N][N][N])
{
    for (int t = 1; t <= TSTEPS; t++) {
        for (int i = 1; i < N - 1; i++) {
            for (int j = 1; j < N - 1; j++) {
                for (int k = 1; k < N - 1; k++) {
                    B[i][j][k] = 0.125 * (A[i + 1][j][k] - 2.0 * A[i][j][k] + A[i - 1][j][k])
                                 + 0.125 * (A[i][j + 1][k] - 2.0 * A[i][j][k] + A[i][j - 1][k])
                                 + 0.125 * (A[i][j][k + 1] - 2.0 * A[i][j][k] + A[i][j][k - 1])
                                 + A[i][j][k];
                }
            }
        }
        for (int i = 1; i < N - 1; i++) {
            for (int j = 1; j < N - 1; j++) {
                for (int k = 1; k < N - 1; k++) {
                    A[i][j][k] = 0.125 * (B[i + 1][j][k] - 2.0 * B[i][j][k] + B[i - 1][j][k])
                                 + 0.125 * (B[i][j + 1][k] - 2.0 * B[i][j][k] + B[i][j - 1][k])
                                 + 0.125 * (B[i][j][k + 1] - 2.0 * B[i][j][k] + B[i][j][k - 1])
                                 + B[i][j][k];
                }
            }
        }
    }
}

int main(void)
{
    double (*A)[N][N] = eb_alloc(N, sizeof *A);
    double (*B)[N][N] = eb_alloc(N, sizeof *B);

    init(A, B);

    eb_timer_start();
    kernel_heat_3d(A, B);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    free(B);
    return 0;
}
