/*
 * gemver: rank-2 update of A followed by two matrix-vector products:
 * A := A + u1*v1' + u2*v2'; x := x + beta*A'*y + z; w := w + alpha*A*x.
 * Live-out: w.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<order of A> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double A[N][N], double u1[N], double v1[N], double u2[N], double v2[N],
                 double w[N], double x[N], double y[N], double z[N])
{
    const double fn = (double)N;

    for (int i = 0; i < N; i++) {
        u1[i] = (double)i;
        u2[i] = (double)(i + 1) / fn / 2.0;
        v1[i] = (double)(i + 1) / fn / 4.0;
        v2[i] = (double)(i + 1) / fn / 6.0;
        y[i] = (double)(i + 1) / fn / 8.0;
        z[i] = (double)(i + 1) / fn / 9.0;
        x[i] = 0.0;
        w[i] = 0.0;
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)(i * j % N) / fn;
        }
    }
}

static void kernel_gemver(double alpha, double beta, double A[N][N], double u1[N], double v1[N],
                          double u2[N], double v2[N], double w[N], double x[N], double y[N], double z[N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = A[i][j] + u1[i] * v1[j] + u2[i] * v2[j];
        }
    }

    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            x[i] = x[i] + beta * A[j][i] * y[j];
        }
    }

    for (int i = 0; i < N; i++) {
        x[i] = x[i] + z[i];
    }

    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            w[i] = w[i] + alpha * A[i][j] * x[j];
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*A)[N] = eb_alloc(N, sizeof *A);
    double *u1 = eb_alloc(N, sizeof *u1);
    double *v1 = eb_alloc(N, sizeof *v1);
    double *u2 = eb_alloc(N, sizeof *u2);
    double *v2 = eb_alloc(N, sizeof *v2);
    double *w = eb_alloc(N, sizeof *w);
    double *x = eb_alloc(N, sizeof *x);
    double *y = eb_alloc(N, sizeof *y);
    double *z = eb_alloc(N, sizeof *z);

    init(A, u1, v1, u2, v2, w, x, y, z);

    eb_timer_start();
    kernel_gemver(alpha, beta, A, u1, v1, u2, v2, w, x, y, z);
    eb_timer_stop();

    eb_checksum(w, N * sizeof *w);
    eb_report();

    free(A);
    free(u1);
    free(v1);
    free(u2);
    free(v2);
    free(w);
    free(x);
    free(y);
    free(z);
    return 0;
}
