/*
 * covariance: sample covariance matrix of M variables observed over
 * N samples (data is N x M). Live-out: cov.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_M
#error "EB_M is not defined: compile with -DEB_M=<variables> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<samples> (sizes: kernels/suite.yaml)"
#endif

enum { M = EB_M, N = EB_N };

static void init(double data[N][M])
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < M; j++) {
            data[i][j] = (double)((i * (2 * j + 1) + 3 * j) % 61) / 61.0 + (double)(i % 3) / 3.0;
        }
    }
}

static void kernel_covariance(double float_n, double data[N][M], double cov[M][M], double mean[M])
{
    for (int j = 0; j < M; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < N; i++) {
            mean[j] += data[i][j];
        }
        mean[j] /= float_n;
    }

    for (int i = 0; i < N; i++) {
        for (int j = 0; j < M; j++) {
            data[i][j] -= mean[j];
        }
    }

    for (int i = 0; i < M; i++) {
        for (int j = i; j < M; j++) {
            cov[i][j] = 0.0;
            for (int k = 0; k < N; k++) {
                cov[i][j] += data[k][i] * data[k][j];
            }
            cov[i][j] /= (float_n - 1.0);
            cov[j][i] = cov[i][j];
        }
    }
}

int main(void)
{
    double (*data)[M] = eb_alloc(N, sizeof *data);
    double (*cov)[M] = eb_alloc(M, sizeof *cov);
    double *mean = eb_alloc(M, sizeof *mean);

    init(data);

    eb_timer_start();
    kernel_covariance((double)N, data, cov, mean);
    eb_timer_stop();

    eb_checksum(cov, M * sizeof *cov);
    eb_report();

    free(data);
    free(cov);
    free(mean);
    return 0;
}
