/*
 * syr2k: symmetric rank-2k update of the lower triangle of C (N x N),
 * C := alpha*A*B' + alpha*B*A' + beta*C with A, B N x M. Live-out: C.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<columns of A and B> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of C> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double C[N][N], double A[N][M], double B[N][M])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < M; j++) {
            A[i][j] = (double)((i * j + 1) % N) / N;
            B[i][j] = (double)((i * j + 2) % M) / M;
        }
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            C[i][j] = (double)((i * j + 3) % N) / M;
        }
    }
}

static void kernel_syr2k(double alpha, double beta, double C[N][N], double A[N][M], double B[N][M])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j <= i; j++) {
            C[i][j] *= beta;
        }
        for (int k = 0; k < M; k++) {
            for (int j = 0; j <= i; j++) {
                C[i][j] += A[j][k] * alpha * B[i][k] + B[j][k] * alpha * A[i][k];
            }
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*C)[N] = eb_alloc(N, sizeof *C);
    double (*A)[M] = eb_alloc(N, sizeof *A);
    double (*B)[M] = eb_alloc(N, sizeof *B);

    init(C, A, B);

    eb_timer_start();
    kernel_syr2k(alpha, beta, C, A, B);
    eb_timer_stop();

    eb_checksum(C, N * sizeof *C);
    eb_report();

    free(C);
    free(A);
    free(B);
    return 0;
}
