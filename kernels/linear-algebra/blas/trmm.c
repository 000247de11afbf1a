/*
 * trmm: triangular matrix multiply, B := alpha*A'*B where A (M x M) is unit
 * lower triangular (only its strict lower part is read) and B is M x N.
 * Live-out: B.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<order of A, rows of B> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<columns of B> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double A[M][M], double B[M][N])
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < i; j++) {
            A[i][j] = (double)((i + j) % M) / M;
        }
        A[i][i] = 1.0;
        for (int j = 0; j < N; j++) {
            B[i][j] = (double)((N + (i - j)) % N) / N;
        }
    }
}

static void kernel_trmm(double alpha, double A[M][M], double B[M][N])
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            for (int k = i + 1; k < M; k++) {
                B[i][j] += A[k][i] * B[k][j];
            }
            B[i][j] = alpha * B[i][j];
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    double (*A)[M] = eb_alloc(M, sizeof *A);
    double (*B)[N] = eb_alloc(M, sizeof *B);

    init(A, B);

    eb_timer_start();
    kernel_trmm(alpha, A, B);
    eb_timer_stop();

    eb_checksum(B, M * sizeof *B);
    eb_report();

    free(A);
    free(B);
    return 0;
}
