/*
 * ludcmp: solve A*x = b by in-place LU decomposition without pivoting,
 * then forward substitution (L*y = b) and back substitution (U*x = y).
 * Live-out: x.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double A[N][N], double b[N])
{
    /* Off-diagonal entries in [-0.5, 0.5), diagonal N: strictly diagonally
     * dominant by rows and columns, so it factors without pivoting. */
    for (int i = 0; i < N; i++) {
        b[i] = (double)((7 * i) % 11) / 11.0 + 1.0;
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((5 * i + 3 * j + 1) % 19) / 19.0 - 0.5;
        }
        A[i][i] = (double)N;
    }
}

static void kernel_ludcmp(double A[N][N], double b[N], double x[N], double y[N])
{
    double w;

    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++) {
            w = A[i][j];
            for (int k = 0; k < j; k++) {
                w -= A[i][k] * A[k][j];
            }
            A[i][j] = w / A[j][j];
        }
        for (int j = i; j < N; j++) {
            w = A[i][j];
            for (int k = 0; k < i; k++) {
                w -= A[i][k] * A[k][j];
            }
            A[i][j] = w;
        }
    }

    for (int i = 0; i < N; i++) {
        w = b[i];
        for (int j = 0; j < i; j++) {
            w -= A[i][j] * y[j];
        }
        y[i] = w;
    }

    for (int i = N - 1; i >= 0; i--) {
        w = y[i];
        for (int j = i + 1; j < N; j++) {
            w -= A[i][j] * x[j];
        }
        x[i] = w / A[i][i];
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(N, sizeof *A);
    double *b = eb_alloc(N, sizeof *b);
    double *x = eb_alloc(N, sizeof *x);
    double *y = eb_alloc(N, sizeof *y);

    init(A, b);

    eb_timer_start();
    kernel_ludcmp(A, b, x, y);
    eb_timer_stop();

    eb_checksum(x, N * sizeof *x);
    eb_report();

    free(A);
    free(b);
    free(x);
    free(y);
    return 0;
}
