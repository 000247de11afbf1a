/*
 * mvt: two independent matrix-vector products, x1 := x1 + A*y_1 and
 * x2 := x2 + A'*y_2. Live-out: x1, then x2.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double x1[N], double x2[N], double y_1[N], double y_2[N], double A[N][N])
{
    for (int i = 0; i < N; i++) {
        x1[i] = (double)(i % N) / N;
        x2[i] = (double)((i + 1) % N) / N;
        y_1[i] = (double)((i + 3) % N) / N;
        y_2[i] = (double)((i + 4) % N) / N;
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)(i * j % N) / N;
        }
    }
}

static void kernel_mvt(double x1[N], double x2[N], double y_1[N], double y_2[N], double A[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            x1[i] = x1[i] + A[i][j] * y_1[j];
        }
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            x2[i] = x2[i] + A[j][i] * y_2[j];
        }
    }
}

int main(void)
{
    double *x1 = eb_alloc(N, sizeof *x1);
    double *x2 = eb_alloc(N, sizeof *x2);
    double *y_1 = eb_alloc(N, sizeof *y_1);
    double *y_2 = eb_alloc(N, sizeof *y_2);
    double (*A)[N] = eb_alloc(N, sizeof *A);

    init(x1, x2, y_1, y_2, A);

    eb_timer_start();
    kernel_mvt(x1, x2, y_1, y_2, A);
    eb_timer_stop();

    eb_checksum(x1, N * sizeof *x1);
    eb_checksum(x2, N * sizeof *x2);
    eb_report();

    free(x1);
    free(x2);
    free(y_1);
    free(y_2);
    free(A);
    return 0;
}
