/*
 * jacobi-1d: 3-point Jacobi relaxation on a 1-D array, A -> B then B -> A
 * each time step (end points stay fixed). Live-out: A.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_TSTEPS
#error "EB_TSTEPS is not defined: compile with -DEB_TSTEPS=<time steps> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<array length> (sizes: kernels/suite.yaml)"
#endif

enum { TSTEPS = EB_TSTEPS, N = EB_N };

static void init(double A[N], double B[N])
{
    for (int i = 0; i < N; i++) {
        A[i] = ((double)i + 2.0) / N;
        B[i] = ((double)i + 3.0) / N;
    }
}

static void kernel_jacobi_1d(double A[N], double B[N])
{
    for (int t = 0; t < TSTEPS; t++) {
        for (int i = 1; i < N - 1; i++) {
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
        }
        for (int i = 1; i < N - 1; i++) {
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
        }
    }
}

int main(void)
{
    double *A = eb_alloc(N, sizeof *A);
    double *B = eb_alloc(N, sizeof *B);

    init(A, B);

    eb_timer_start();
    kernel_jacobi_1d(A, B);
    eb_timer_stop();

    eb_checksum(A, N * sizeof *A);
    eb_report();

    free(A);
    free(B);
    return 0;
}
