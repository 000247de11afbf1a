/*
 * cholesky: in-place Cholesky factorisation A = L*L' of a symmetric
 * positive-definite matrix; L overwrites the lower triangle of A, the strict
 * upper triangle keeps its input. Live-out: A.
 */
#include <math.h>
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double A[N][N])
{
    /* Symmetric (entries depend on i+j and i*j only), off-diagonal entries in
     * [0, 1) and diagonal N: strictly diagonally dominant with a positive
     * diagonal, hence positive definite. */
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((i * j) % 13 + (i + j) % 5) / 17.0;
        }
        A[i][i] = (double)N;
    }
}

static void kernel_cholesky(double A[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++) {
            for (int k = 0; k < j; k++) {
                A[i][j] -= A[i][k] * A[j][k];
            }
            A[i][j] /= A[j][j];
        }
        for (int k = 0; k < i; k++) {
            A[i][i] -= A[i][k] * A[i][k];
        }
        A[i][i] = sqrt(A[i][i]);
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(N, sizeof *A);

    init(A);

    eb_timer_start();
    kernel_cholesky(A);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    return 0;
}
