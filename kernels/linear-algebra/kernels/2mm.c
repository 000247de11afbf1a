/*
 * 2mm: two chained matrix multiplies, tmp := alpha*A*B; D := tmp*C + beta*D
 * with A NI x NK, B NK x NJ, C NJ x NL, D NI x NL. Live-out: D.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_NI
#error "EB_NI is not defined: compile with -DEB_NI=<rows of A and D> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NJ
#error "EB_NJ is not defined: compile with -DEB_NJ=<columns of B, rows of C> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NK
#error "EB_NK is not defined: compile with -DEB_NK=<columns of A, rows of B> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NL
#error "EB_NL is not defined: compile with -DEB_NL=<columns of C and D> (sizes: kernels/suite.yaml)"
#endif

enum { NI = EB_NI, NJ = EB_NJ, NK = EB_NK, NL = EB_NL };

static void init(double A[NI][NK], double B[NK][NJ], double C[NJ][NL], double D[NI][NL])
{
    for (int i = 0; i < NI; i++) {
        for (int k = 0; k < NK; k++) {
            A[i][k] = (double)((i * k + 1) % NI) / NI;
        }
    }
    for (int k = 0; k < NK; k++) {
        for (int j = 0; j < NJ; j++) {
            B[k][j] = (double)(k * (j + 1) % NJ) / NJ;
        }
    }
    for (int j = 0; j < NJ; j++) {
        for (int l = 0; l < NL; l++) {
            C[j][l] = (double)((j * (l + 3) + 1) % NL) / NL;
        }
    }
    for (int i = 0; i < NI; i++) {
        for (int l = 0; l < NL; l++) {
            D[i][l] = (double)(i * (l + 2) % NK) / NK;
        }
    }
}

static void kernel_2mm(double alpha, double beta, double tmp[NI][NJ], double A[NI][NK],
                       double B[NK][NJ], double C[NJ][NL], double D[NI][NL])
{
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NJ; j++) {
            tmp[i][j] = 0.0;
            for (int k = 0; k < NK; k++) {
                tmp[i][j] += alpha * A[i][k] * B[k][j];
            }
        }
    }
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NL; j++) {
            D[i][j] *= beta;
            for (int k = 0; k < NJ; k++) {
                D[i][j] += tmp[i][k] * C[k][j];
            }
        }
    }
}

int main(void)
{
    const double alpha = 1.5;
    const double beta = 1.2;
    double (*tmp)[NJ] = eb_alloc(NI, sizeof *tmp);
    double (*A)[NK] = eb_alloc(NI, sizeof *A);
    double (*B)[NJ] = eb_alloc(NK, sizeof *B);
    double (*C)[NL] = eb_alloc(NJ, sizeof *C);
    double (*D)[NL] = eb_alloc(NI, sizeof *D);

    init(A, B, C, D);

    eb_timer_start();
    kernel_2mm(alpha, beta, tmp, A, B, C, D);
    eb_timer_stop();

    eb_checksum(D, NI * sizeof *D);
    eb_report();

    free(tmp);
    free(A);
    free(B);
    free(C);
    free(D);
    return 0;
}
