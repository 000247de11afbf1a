/*
 * correlation: Pearson correlation matrix of M variables observed over
 * N samples (data is N x M). Live-out: corr.
 */
#include <math.h>
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
    /* The (i + 2j) % 5 term keeps every column's spread well above eps; its
     * phase differs between columns, so correlations have both signs. */
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < M; j++) {
            data[i][j] = (double)((i * (j + 3) + j) % 97) / 97.0 + (double)((i + 2 * j) % 5);
        }
    }
}

static void kernel_correlation(double float_n, double data[N][M], double corr[M][M],
                               double mean[M], double stddev[M])
{
    /* Near-constant columns get stddev 1 instead of dividing by ~0. */
    const double eps = 0.1;

    for (int j = 0; j < M; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < N; i++) {
            mean[j] += data[i][j];
        }
        mean[j] /= float_n;
    }

    for (int j = 0; j < M; j++) {
        stddev[j] = 0.0;
        for (int i = 0; i < N; i++) {
            stddev[j] += (data[i][j] - mean[j]) * (data[i][j] - mean[j]);
        }
        stddev[j] /= float_n;
        stddev[j] = sqrt(stddev[j]);
        stddev[j] = stddev[j] <= eps ? 1.0 : stddev[j];
    }

    for (int i = 0; i < N; i++) {
        for (int j = 0; j < M; j++) {
            data[i][j] -= mean[j];
            data[i][j] /= sqrt(float_n) * stddev[j];
        }
    }

    for (int i = 0; i < M - 1; i++) {
        corr[i][i] = 1.0;
        for (int j = i + 1; j < M; j++) {
            corr[i][j] = 0.0;
            for (int k = 0; k < N; k++) {
                corr[i][j] += data[k][i] * data[k][j];
            }
            corr[j][i] = corr[i][j];
        }
    }
    corr[M - 1][M - 1] = 1.0;
}

int main(void)
{
    double (*data)[M] = eb_alloc(N, sizeof *data);
    double (*corr)[M] = eb_alloc(M, sizeof *corr);
    double *mean = eb_alloc(M, sizeof *mean);
    double *stddev = eb_alloc(M, sizeof *stddev);

    init(data);

    eb_timer_start();
    kernel_correlation((double)N, data, corr, mean, stddev);
    eb_timer_stop();

    eb_checksum(corr, M * sizeof *corr);
    eb_report();

    free(data);
    free(corr);
    free(mean);
    free(stddev);
    return 0;
}
