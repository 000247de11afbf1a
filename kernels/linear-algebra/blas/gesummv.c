/*
 * gesummv: sum of two matrix-vector products, y := alpha*A*x + beta*B*x.
 * Live-out: y.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A and B> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double A[N][N], double B[N][N], double x[N])
{
    for (int i = 0; i < N; i++) {
        x[i] = (double)(i % N) / N;
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((i * j + 1) % N) / N;
            B[i][j] = (double)((i * j + 2) % N) / N;
        }
    }
}

static void kernel_gesummv(double alpha, double beta, double A[N][N], double B[N][N],
                           double tmp[N], double x[N], double y[N])
{
    for (int i = 0; i < N; i++) {
        tmp[i] = 0.0;
        y[i] = 0.0;
        for (int j = 0; j < N; j++) {
            tmp[i] = A[i][j] * x[j] + tmp[i];
            y[i] = B[i][j] * x[j] + y[i];
        }
        y[i] = alpha * tmp[i] + beta * y[i];
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*A)[N] = eb_alloc(N, sizeof *A);
    double (*B)[N] = eb_alloc(N, sizeof *B);
    double *tmp = eb_alloc(N, sizeof *tmp);
    double *x = eb_alloc(N, sizeof *x);
    double *y = eb_alloc(N, sizeof *y);

    init(A, B, x);

    eb_timer_start();
    kernel_gesummv(alpha, beta, A, B, tmp, x, y);
    eb_timer_stop();

    eb_checksum(y, N * sizeof *y);
    eb_report();

    free(A);
    free(B);
    free(tmp);
    free(x);
    free(y);
    return 0;
}
