/*
 * trisolv: forward substitution solving L*x = b for a lower triangular L
 * (the strict upper triangle is never read). Live-out: x.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of L> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double L[N][N], double x[N], double b[N])
{
    /* Row sums of the strict lower part stay below 1 and the diagonal is at
     * least 1, so x stays of the order of b for every N. */
    for (int i = 0; i < N; i++) {
        x[i] = -999.0;
        b[i] = (double)(i % 10) / 10.0 + 0.5;
        for (int j = 0; j < i; j++) {
            L[i][j] = (double)((i * j + 1) % 9) / (9.0 * N);
        }
        L[i][i] = 1.0 + (double)(i % 4) / 4.0;
    }
}

static void kernel_trisolv(double L[N][N], double x[N], double b[N])
{
    for (int i = 0; i < N; i++) {
        x[i] = b[i];
        for (int j = 0; j < i; j++) {
            x[i] -= L[i][j] * x[j];
        }
        x[i] = x[i] / L[i][i];
    }
}

int main(void)
{
    double (*L)[N] = eb_alloc(N, sizeof *L);
    double *x = eb_alloc(N, sizeof *x);
    double *b = eb_alloc(N, sizeof *b);

    init(L, x, b);

    eb_timer_start();
    kernel_trisolv(L, x, b);
    eb_timer_stop();

    eb_checksum(x, N * sizeof *x);
    eb_report();

    free(L);
    free(x);
    free(b);
    return 0;
}
