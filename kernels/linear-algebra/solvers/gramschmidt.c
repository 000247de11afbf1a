/*
 * gramschmidt: QR decomposition of A (M x N) by modified Gram-Schmidt;
 * A is consumed, Q (M x N) and R (N x N) are produced. Live-out: R, then Q.
 *
 * With the suite's sizes M < N, so columns past the M-th are linearly
 * dependent on the first M and their Q columns come out of rounding residue.
 * That is inherent to the benchmark's sizes; the arithmetic stays finite and
 * deterministic.
 */
#include <math.h>
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<rows of A and Q> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<columns of A and Q, order of R> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double A[M][N])
{
    /* A dominant diagonal keeps the leading columns well conditioned. */
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)(((i + 1) * (j + 2)) % 23) / 23.0 + (i == j ? 10.0 : 1.0);
        }
    }
}

static void kernel_gramschmidt(double A[M][N], double R[N][N], double Q[M][N])
{
    for (int k = 0; k < N; k++) {
        double nrm = 0.0;
        for (int i = 0; i < M; i++) {
            nrm += A[i][k] * A[i][k];
        }
        R[k][k] = sqrt(nrm);
        for (int i = 0; i < M; i++) {
            Q[i][k] = A[i][k] / R[k][k];
        }
        for (int j = k + 1; j < N; j++) {
            R[k][j] = 0.0;
            for (int i = 0; i < M; i++) {
                R[k][j] += Q[i][k] * A[i][j];
            }
            for (int i = 0; i < M; i++) {
                A[i][j] = A[i][j] - Q[i][k] * R[k][j];
            }
        }
    }
}

int main(void)
{
    double (*A)[N] = eb_alloc(M, sizeof *A);
    double (*R)[N] = eb_alloc(N, sizeof *R);
    double (*Q)[N] = eb_alloc(M, sizeof *Q);

    init(A);

    eb_timer_start();
    kernel_gramschmidt(A, R, Q);
    eb_timer_stop();

    eb_checksum(R, N * sizeof *R);
    eb_checksum(Q, M * sizeof *Q);
    eb_report();

    free(A);
    free(R);
    free(Q);
    return 0;
}
