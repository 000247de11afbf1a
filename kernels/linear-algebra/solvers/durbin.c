/*
 * durbin: Levinson-Durbin recursion solving the Yule-Walker system
 * T*y = -r, where T is the symmetric Toeplitz matrix with unit diagonal and
 * r[0..N-2] off the diagonal. Live-out: y.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_N
#error "EB_N is not defined: compile with -DEB_N=<length of r and y> (sizes: kernels/suite.yaml)"
#endif

enum { N = EB_N };

static void init(double r[N])
{
    /* r[k] = 0.8 * (1 - (k+1)/(N+1)): 0.8 times a triangular (Fejer)
     * autocorrelation, whose spectrum is non-negative, so T has eigenvalues
     * >= 0.2. The recursion's beta stays bounded away from zero and y stays
     * bounded for every N. */
    for (int k = 0; k < N; k++) {
        r[k] = 0.8 * (double)(N - k) / (double)(N + 1);
    }
}

static void kernel_durbin(double r[N], double y[N], double z[N])
{
    double alpha, beta, sum;

    y[0] = -r[0];
    beta = 1.0;
    alpha = -r[0];

    for (int k = 1; k < N; k++) {
        beta = (1.0 - alpha * alpha) * beta;
        sum = 0.0;
        for (int i = 0; i < k; i++) {
            sum += r[k - i - 1] * y[i];
        }
        alpha = -(r[k] + sum) / beta;
        for (int i = 0; i < k; i++) {
            z[i] = y[i] + alpha * y[k - i - 1];
        }
        for (int i = 0; i < k; i++) {
            y[i] = z[i];
        }
        y[k] = alpha;
    }
}

int main(void)
{
    double *r = eb_alloc(N, sizeof *r);
    double *y = eb_alloc(N, sizeof *y);
    double *z = eb_alloc(N, sizeof *z);

    init(r);

    eb_timer_start();
    kernel_durbin(r, y, z);
    eb_timer_stop();

    eb_checksum(y, N * sizeof *y);
    eb_report();

    free(r);
    free(y);
    free(z);
    return 0;
}
