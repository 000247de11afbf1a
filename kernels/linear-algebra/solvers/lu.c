/*
 * lu: in-place LU decomposition without pivoting (Doolittle): the unit lower
 * factor L (diagonal implicit) and U overwrite A. Live-out: A.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double A[N][N])
{
    /* Off-diagonal entries in [-0.5, 0.5), diagonal N: strictly diagonally
     * dominant by rows and columns, so it factors without pivoting. */
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((3 * i + 5 * j) % 17) / 17.0 - 0.5;
        }
        A[i][i] = (double)N;
    }
}

static void kernel_lu(double A[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++) {
            for (int k = 0; k < j; k++) {
                A[i][j] -= A[i][k] * A[k][j];
            }
            A[i][j] /= A[j][j];
        }
        for (int j = i; j < N; j++) {
            for (int k = 0; k < i; k++) {
                A[i][j] -= A[i][k] * A[k][j];
            }
        }
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(N, sizeof *A);

    init(A);

    eb_timer_start();
    kernel_lu(A);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    return 0;
}
