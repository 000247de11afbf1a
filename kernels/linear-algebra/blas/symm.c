/*
 * symm: symmetric matrix multiply, C := alpha*A*B + beta*C where A (M x M)
 * is symmetric and only its lower triangle is read; B, C are M x N.
 * Live-out: C.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<order of A, rows of B and C> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<columns of B and C> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double C[M][N], double A[M][M], double B[M][N])
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            C[i][j] = (double)((i + j) % 100) / M;
            B[i][j] = (double)((N + i - j) % 100) / M;
        }
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j <= i; j++) {
            A[i][j] = (double)((i + j) % 100) / M;
        }
        /* The upper triangle is never read; poison it so misuse shows. */
        for (int j = i + 1; j < M; j++) {
            A[i][j] = -999.0;
        }
    }
}

static void kernel_symm(double alpha, double beta, double C[M][N], double A[M][M], double B[M][N])
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double temp2 = 0.0;
            for (int k = 0; k < i; k++) {
                C[k][j] += alpha * B[i][j] * A[i][k];
                temp2 += B[k][j] * A[i][k];
            }
            C[i][j] = beta * C[i][j] + alpha * B[i][j] * A[i][i] + alpha * temp2;
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*C)[N] = eb_alloc(M, sizeof *C);
    double (*A)[M] = eb_alloc(M, sizeof *A);
    double (*B)[N] = eb_alloc(M, sizeof *B);

    init(C, A, B);

    eb_timer_start();
    kernel_symm(alpha, beta, C, A, B);
    eb_timer_stop();

    eb_checksum(C, M * sizeof *C);
    eb_report();

    free(C);
    free(A);
    free(B);
    return 0;
}
