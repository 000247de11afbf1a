/*
 * bicg: the two matrix-vector products of a BiCG step, s := A'*r and
 * q := A*p with A N x M. Live-out: s, then q.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<columns of A> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<rows of A> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double A[N][M], double r[N], double p[M])
{
    for (int i = 0; i < M; i++) {
        p[i] = (double)(i % M) / M;
    }
    for (int i = 0; i < N; i++) {
        r[i] = (double)(i % N) / N;
        for (int j = 0; j < M; j++) {
            A[i][j] = (double)(i * (j + 1) % N) / N;
        }
    }
}

static void kernel_bicg(double A[N][M], double s[M], double q[N], double p[M], double r[N])
{
    for (int i = 0; i < M; i++) {
        s[i] = 0.0;
    }
    for (int i = 0; i < N; i++) {
        q[i] = 0.0;
        for (int j = 0; j < M; j++) {
            s[j] = s[j] + r[i] * A[i][j];
            q[i] = q[i] + A[i][j] * p[j];
        }
    }
}

int main(void)
{
    double (*A)[M] = eb_alloc(N, sizeof *A);
    double *s = eb_alloc(M, sizeof *s);
    double *q = eb_alloc(N, sizeof *q);
    double *p = eb_alloc(M, sizeof *p);
    double *r = eb_alloc(N, sizeof *r);

    init(A, r, p);

    eb_timer_start();
    kernel_bicg(A, s, q, p, r);
    eb_timer_stop();

    eb_checksum(s, M * sizeof *s);
    eb_checksum(q, N * sizeof *q);
    eb_report();

    free(A);
    free(s);
    free(q);
    free(p);
    free(r);
    return 0;
}
