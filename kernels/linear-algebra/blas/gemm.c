/*
 * gemm: general matrix multiply, C := alpha*A*B + beta*C with A NI x NK,
 * B NK x NJ, C NI x NJ. Live-out: C.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_NI
#error "EB_NI is not defined: compile with -DEB_NI=<rows of A and C> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NJ
#error "EB_NJ is not defined: compile with -DEB_NJ=<columns of B and C> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NK
#error "EB_NK is not defined: compile with -DEB_NK=<columns of A, rows of B> (sizes: kernels/suite.yaml)"
#endif

enum { NI = EB_NI, NJ = EB_NJ, NK = EB_NK };

static void init(double C[NI][NJ], double A[NI][NK], double B[NK][NJ])
{
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NJ; j++) {
            C[i][j] = (double)((i * j + 1) % NI) / NI;
        }
    }
    for (int i = 0; i < NI; i++) {
        for (int k = 0; k < NK; k++) {
            A[i][k] = (double)(i * (k + 1) % NK) / NK;
        }
    }
    for (int k = 0; k < NK; k++) {
        for (int j = 0; j < NJ; j++) {
            B[k][j] = (double)(k * (j + 2) % NJ) / NJ;
        }
    }
}

static void kernel_gemm(double alpha, double beta, double C[NI][NJ], double A[NI][NK], double B[NK][NJ])
{
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NJ; j++) {
            C[i][j] *= beta;
        }
        for (int k = 0; k < NK; k++) {
            for (int j = 0; j < NJ; j++) {
                C[i][j] += alpha * A[i][k] * B[k][j];
            }
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*C)[NJ] = eb_alloc(NI, sizeof *C);
    double (*A)[NK] = eb_alloc(NI, sizeof *A);
    double (*B)[NJ] = eb_alloc(NK, sizeof *B);

    init(C, A, B);

    eb_timer_start();
    kernel_gemm(alpha, beta, C, A, B);
    eb_timer_stop();

    eb_checksum(C, NI * sizeof *C);
    eb_report();

    free(C);
    free(A);
    free(B);
    return 0;
}
