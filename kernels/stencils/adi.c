/*
 * adi: alternating direction implicit solver for 2-D heat diffusion on an
 * N x N grid; each time step does a column sweep then a row sweep, each a
 * set of tridiagonal solves (Thomas algorithm, coefficients in p and q).
 * Live-out: u.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_TSTEPS
#error "EB_TSTEPS is not defined: compile with -DEB_TSTEPS=<time steps> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<grid size> (sizes: kernels/suite.yaml)"
#endif

enum { TSTEPS = EB_TSTEPS, N = EB_N };

static void init(double u[N][N])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            u[i][j] = (double)(i + N - j) / N;
        }
    }
}

static void kernel_adi(double u[N][N], double v[N][N], double p[N][N], double q[N][N])
{
    double DX, DY, DT;
    double B1, B2;
    double mul1, mul2;
    double a, b, c, d, e, f;

    DX = 1.0 / (double)N;
    DY = 1.0 / (double)N;
    DT = 1.0 / (double)TSTEPS;
    B1 = 2.0;
    B2 = 1.0;
    mul1 = B1 * DT / (DX * DX);
    mul2 = B2 * DT / (DY * DY);

    a = -mul1 / 2.0;
    b = 1.0 + mul1;
    c = a;
    d = -mul2 / 2.0;
    e = 1.0 + mul2;
    f = d;

    for (int t = 1; t <= TSTEPS; t++) {
        /* Column sweep: implicit in the first index, u -> v. */
        for (int i = 1; i < N - 1; i++) {
            v[0][i] = 1.0;
            p[i][0] = 0.0;
            q[i][0] = v[0][i];
            for (int j = 1; j < N - 1; j++) {
                p[i][j] = -c / (a * p[i][j - 1] + b);
                q[i][j] = (-d * u[j][i - 1] + (1.0 + 2.0 * d) * u[j][i] - f * u[j][i + 1]
                           - a * q[i][j - 1])
                          / (a * p[i][j - 1] + b);
            }
            v[N - 1][i] = 1.0;
            for (int j = N - 2; j >= 1; j--) {
                v[j][i] = p[i][j] * v[j + 1][i] + q[i][j];
            }
        }
        /* Row sweep: implicit in the second index, v -> u. */
        for (int i = 1; i < N - 1; i++) {
            u[i][0] = 1.0;
            p[i][0] = 0.0;
            q[i][0] = u[i][0];
            for (int j = 1; j < N - 1; j++) {
                p[i][j] = -f / (d * p[i][j - 1] + e);
                q[i][j] = (-a * v[i - 1][j] + (1.0 + 2.0 * a) * v[i][j] - c * v[i + 1][j]
                           - d * q[i][j - 1])
                          / (d * p[i][j - 1] + e);
            }
            u[i][N - 1] = 1.0;
            for (int j = N - 2; j >= 1; j--) {
                u[i][j] = p[i][j] * u[i][j + 1] + q[i][j];
            }
        }
    }
}

int main(void)
{
    double (*u)[N] = eb_alloc(N, sizeof *u);
    double (*v)[N] = eb_alloc(N, sizeof *v);
    double (*p)[N] = eb_alloc(N, sizeof *p);
    double (*q)[N] = eb_alloc(N, sizeof *q);

    init(u);

    eb_timer_start();
    kernel_adi(u, v, p, q);
    eb_timer_stop();

    eb_checksum(u, N * sizeof *u);
    eb_report();

    free(u);
    free(v);
    free(p);
    free(q);
    return 0;
}
