/*
 * 3mm: three matrix multiplies, E := A*B; F := C*D; G := E*F with
 * A NI x NK, B NK x NJ, C NJ x NM, D NM x NL. Live-out: G.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_NI
#error "EB_NI is not defined: compile with -DEB_NI=<rows of A, E and G> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NJ
#error "EB_NJ is not defined: compile with -DEB_NJ=<columns of B, rows of C> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NK
#error "EB_NK is not defined: compile with -DEB_NK=<columns of A, rows of B> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NL
#error "EB_NL is not defined: compile with -DEB_NL=<columns of D, F and G> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NM
#error "EB_NM is not defined: compile with -DEB_NM=<columns of C, rows of D> (sizes: kernels/suite.yaml)"
#endif

enum { NI = EB_NI, NJ = EB_NJ, NK = EB_NK, NL = EB_NL, NM = EB_NM };

static void init(double A[NI][NK], double B[NK][NJ], double C[NJ][NM], double D[NM][NL])
{
    for (int i = 0; i < NI; i++) {
        for (int k = 0; k < NK; k++) {
            A[i][k] = (double)((i * k + 1) % NI) / (5 * NI);
        }
    }
    for (int k = 0; k < NK; k++) {
        for (int j = 0; j < NJ; j++) {
            B[k][j] = (double)((k * (j + 1) + 2) % NJ) / (5 * NJ);
        }
    }
    for (int j = 0; j < NJ; j++) {
        for (int m = 0; m < NM; m++) {
            C[j][m] = (double)(j * (m + 3) % NL) / (5 * NL);
        }
    }
    for (int m = 0; m < NM; m++) {
        for (int l = 0; l < NL; l++) {
            D[m][l] = (double)((m * (l + 2) + 2) % NK) / (5 * NK);
        }
    }
}

static void kernel_3mm(double E[NI][NJ], double A[NI][NK], double B[NK][NJ], double F[NJ][NL],
                       double C[NJ][NM], double D[NM][NL], double G[NI][NL])
{
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NJ; j++) {
            E[i][j] = 0.0;
            for (int k = 0; k < NK; k++) {
                E[i][j] += A[i][k] * B[k][j];
            }
        }
    }
    for (int i = 0; i < NJ; i++) {
        for (int j = 0; j < NL; j++) {
            F[i][j] = 0.0;
            for (int k = 0; k < NM; k++) {
                F[i][j] += C[i][k] * D[k][j];
            }
        }
    }
    for (int i = 0; i < NI; i++) {
        for (int j = 0; j < NL; j++) {
            G[i][j] = 0.0;
            for (int k = 0; k < NJ; k++) {
                G[i][j] += E[i][k] * F[k][j];
            }
        }
    }
}

int main(void)
{
    double (*E)[NJ] = eb_alloc(NI, sizeof *E);
    double (*A)[NK] = eb_alloc(NI, sizeof *A);
    double (*B)[NJ] = eb_alloc(NK, sizeof *B);
    double (*F)[NL] = eb_alloc(NJ, sizeof *F);
    double (*C)[NM] = eb_alloc(NJ, sizeof *C);
    double (*D)[NL] = eb_alloc(NM, sizeof *D);
    double (*G)[NL] = eb_alloc(NI, sizeof *G);

    init(A, B, C, D);

    eb_timer_start();
    kernel_3mm(E, A, B, F, C, D, G);
    eb_timer_stop();

    eb_checksum(G, NI * sizeof *G);
    eb_report();

    free(E);
    free(A);
    free(B);
    free(F);
    free(C);
    free(D);
    free(G);
    return 0;
}
