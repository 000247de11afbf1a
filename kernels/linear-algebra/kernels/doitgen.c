/*
 * doitgen: multiresolution analysis kernel (MADNESS); every row A[r][q][*]
 * is replaced by its product with C4 (NP x NP), using sum as scratch.
 * Live-out: A.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_NQ
#error "EB_NQ is not defined: compile with -DEB_NQ=<middle extent of A> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NR
#error "EB_NR is not defined: compile with -DEB_NR=<outer extent of A> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NP
#error "EB_NP is not defined: compile with -DEB_NP=<inner extent of A> (sizes: kernels/suite.yaml)"
#endif

enum { NQ = EB_NQ, NR = EB_NR, NP = EB_NP };

static void init(double A[NR][NQ][NP], double C4[NP][NP])
{
    for (int r = 0; r < NR; r++) {
        for (int q = 0; q < NQ; q++) {
            for (int p = 0; p < NP; p++) {
                A[r][q][p] = (double)((r * q + p) % NP) / NP;
            }
        }
    }
    for (int i = 0; i < NP; i++) {
        for (int j = 0; j < NP; j++) {
            C4[i][j] = (double)(i * j % NP) / NP;
        }
    }
}

static void kernel_doitgen(double A[NR][NQ][NP], double C4[NP][NP], double sum[NP])
{
    for (int r = 0; r < NR; r++) {
        for (int q = 0; q < NQ; q++) {
            for (int p = 0; p < NP; p++) {
                sum[p] = 0.0;
                for (int s = 0; s < NP; s++) {
                    sum[p] += A[r][q][s] * C4[s][p];
                }
            }
            for (int p = 0; p < NP; p++) {
                A[r][q][p] = sum[p];
            }
        }
    }
}

int main(void)
{
    double (*A)[NQ][NP] = eb_alloc(NR, sizeof *A);
    double (*C4)[NP] = eb_alloc(NP, sizeof *C4);
    double *sum = eb_alloc(NP, sizeof *sum);

    init(A, C4);

    eb_timer_start();
    kernel_doitgen(A, C4, sum);
    eb_timer_stop();

    eb_checksum(A, NR * sizeof *A);
    eb_report();

    free(A);
    free(C4);
    free(sum);
    return 0;
}
