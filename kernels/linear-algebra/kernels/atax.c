/*
 * atax: y := A'*(A*x) with A M x N, via tmp := A*x. Live-out: y.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<rows of A> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<columns of A> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double A[M][N], double x[N])
{
    for (int i = 0; i < N; i++) {
        x[i] = 1.0 + (double)i / N;
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((i + j) % N) / (5 * M);
        }
    }
}

static void kernel_atax(double A[M][N], double x[N], double y[N], double tmp[M])
{
    for (int i = 0; i < N; i++) {
        y[i] = 0.0;
    }
    for (int i = 0; i < M; i++) {
        tmp[i] = 0.0;
        for (int j = 0; j < N; j++) {
            tmp[i] = tmp[i] + A[i][j] * x[j];
        }
        for (int j = 0; j < N; j++) {
            y[j] = y[j] + A[i][j] * tmp[i];
        }
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(M, sizeof *A);
    double *x = eb_alloc(N, sizeof *x);
    double *y = eb_alloc(N, sizeof *y);
    double *tmp = eb_alloc(M, sizeof *tmp);

    init(A, x);

    eb_timer_start();
    kernel_atax(A, x, y, tmp);
    eb_timer_stop();

    eb_checksum(y, N * sizeof *y);
    eb_report();

    free(A);
    free(x);
    free(y);
    free(tmp);
    return 0;
}
