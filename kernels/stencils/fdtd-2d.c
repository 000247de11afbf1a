/*
 * fdtd-2d: 2-D finite-difference time-domain (Yee) update of the electric
 * fields ex, ey and the magnetic field hz over TMAX steps, with a source
 * value _fict_[t] driving the ey boundary row. Live-out: ex, ey, hz.
 */
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_TMAX
#error "EB_TMAX is not defined: compile with -DEB_TMAX=<time steps> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NX
#error "EB_NX is not defined: compile with -DEB_NX=<grid rows> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_NY
#error "EB_NY is not defined: compile with -DEB_NY=<grid columns> (sizes: kernels/suite.yaml)"
#endif

enum { TMAX = EB_TMAX, NX = EB_NX, NY = EB_NY };

static void init(double ex[NX][NY], double ey[NX][NY], double hz[NX][NY], double _fict_[TMAX])
{
    for (int t = 0; t < TMAX; t++) {
        _fict_[t] = (double)t;
    }
    for (int i = 0; i < NX; i++) {
        for (int j = 0; j < NY; j++) {
            ex[i][j] = (double)(i * (j + 1)) / NX;
            ey[i][j] = (double)(i * (j + 2)) / NY;
            hz[i][j] = (double)(i * (j + 3)) / NX;
        }
    }
}

static void kernel_fdtd_2d(double ex[NX][NY], double ey[NX][NY], double hz[NX][NY], double _fict_[TMAX])
{
    for (int t = 0; t < TMAX; t++) {
        for (int j = 0; j < NY; j++) {
            ey[0][j] = _fict_[t];
        }
        for (int i = 1; i < NX; i++) {
            for (int j = 0; j < NY; j++) {
                ey[i][j] = ey[i][j] - 0.5 * (hz[i][j] - hz[i - 1][j]);
            }
        }
        for (int i = 0; i < NX; i++) {
            for (int j = 1; j < NY; j++) {
                ex[i][j] = ex[i][j] - 0.5 * (hz[i][j] - hz[i][j - 1]);
            }
        }
        for (int i = 0; i < NX - 1; i++) {
            for (int j = 0; j < NY - 1; j++) {
                hz[i][j] = hz[i][j] - 0.7 * (ex[i][j + 1] - ex[i][j] + ey[i + 1][j] - ey[i][j]);
            }
        }
    }
}

int main(void)
{
    double (*ex)[NY] = eb_alloc(NX, sizeof *ex);
    double (*ey)[NY] = eb_alloc(NX, sizeof *ey);
    double (*hz)[NY] = eb_alloc(NX, sizeof *hz);
    double *_fict_ = eb_alloc(TMAX, sizeof *_fict_);

    init(ex, ey, hz, _fict_);

    eb_timer_start();
    kernel_fdtd_2d(ex, ey, hz, _fict_);
    eb_timer_stop();

    eb_checksum(ex, NX * sizeof *ex);
    eb_checksum(ey, NX * sizeof *ey);
    eb_checksum(hz, NX * sizeof *hz);
    eb_report();

    free(ex);
    free(ey);
    free(hz);
    free(_fict_);
    return 0;
}
