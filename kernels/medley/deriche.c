/*
 * deriche: Deriche recursive edge-detection filter on a W x H single
 * precision image: a causal and an anti-causal first-order-pair recursion
 * along each row, summed, then the same along each column. Live-out: imgOut.
 *
 * As in the reference kernel, the normalisation constant k uses exp(2*alpha)
 * in its denominator and all coefficients are computed inside the timed
 * region, in float.
 */
#include <math.h>
#include <stdlib.h>

#include "edgebench.h"

#ifndef EB_W
#error "EB_W is not defined: compile with -DEB_W=<image width> (sizes: kernels/suite.yaml)"
#endif
#ifndef EB_H
#error "EB_H is not defined: compile with -DEB_H=<image height> (sizes: kernels/suite.yaml)"
#endif

enum { W = EB_W, H = EB_H };

static void init(float imgIn[W][H])
{
    /* Integer hash of the pixel position scaled to [0, 1]. */
    for (int i = 0; i < W; i++) {
        for (int j = 0; j < H; j++) {
            imgIn[i][j] = (float)((37 * i + 101 * j + (i * j) % 7) % 256) / 255.0f;
        }
    }
}

static void kernel_deriche(float alpha, float imgIn[W][H], float imgOut[W][H],
                           float y1[W][H], float y2[W][H])
{
    float xm1, tm1, ym1, ym2;
    float xp1, xp2, tp1, tp2, yp1, yp2;
    float k;
    float a1, a2, a3, a4, a5, a6, a7, a8;
    float b1, b2, c1, c2;

    k = (1.0f - expf(-alpha)) * (1.0f - expf(-alpha))
        / (1.0f + 2.0f * alpha * expf(-alpha) - expf(2.0f * alpha));
    a1 = a5 = k;
    a2 = a6 = k * expf(-alpha) * (alpha - 1.0f);
    a3 = a7 = k * expf(-alpha) * (alpha + 1.0f);
    a4 = a8 = -k * expf(-2.0f * alpha);
    b1 = powf(2.0f, -alpha);
    b2 = -expf(-2.0f * alpha);
    c1 = c2 = 1.0f;

    /* Rows, causal direction. */
    for (int i = 0; i < W; i++) {
        ym1 = 0.0f;
        ym2 = 0.0f;
        xm1 = 0.0f;
        for (int j = 0; j < H; j++) {
            y1[i][j] = a1 * imgIn[i][j] + a2 * xm1 + b1 * ym1 + b2 * ym2;
            xm1 = imgIn[i][j];
            ym2 = ym1;
            ym1 = y1[i][j];
        }
    }

    /* Rows, anti-causal direction. */
    for (int i = 0; i < W; i++) {
        yp1 = 0.0f;
        yp2 = 0.0f;
        xp1 = 0.0f;
        xp2 = 0.0f;
        for (int j = H - 1; j >= 0; j--) {
            y2[i][j] = a3 * xp1 + a4 * xp2 + b1 * yp1 + b2 * yp2;
            xp2 = xp1;
            xp1 = imgIn[i][j];
            yp2 = yp1;
            yp1 = y2[i][j];
        }
    }

    for (int i = 0; i < W; i++) {
        for (int j = 0; j < H; j++) {
            imgOut[i][j] = c1 * (y1[i][j] + y2[i][j]);
        }
    }

    /* Columns, causal direction. */
    for (int j = 0; j < H; j++) {
        tm1 = 0.0f;
        ym1 = 0.0f;
        ym2 = 0.0f;
        for (int i = 0; i < W; i++) {
            y1[i][j] = a5 * imgOut[i][j] + a6 * tm1 + b1 * ym1 + b2 * ym2;
            tm1 = imgOut[i][j];
            ym2 = ym1;
            ym1 = y1[i][j];
        }
    }

    /* Columns, anti-causal direction. */
    for (int j = 0; j < H; j++) {
        tp1 = 0.0f;
        tp2 = 0.0f;
        yp1 = 0.0f;
        yp2 = 0.0f;
        for (int i = W - 1; i >= 0; i--) {
            y2[i][j] = a7 * tp1 + a8 * tp2 + b1 * yp1 + b2 * yp2;
            tp2 = tp1;
            tp1 = imgOut[i][j];
            yp2 = yp1;
            yp1 = y2[i][j];
        }
    }

    for (int i = 0; i < W; i++) {
        for (int j = 0; j < H; j++) {
            imgOut[i][j] = c2 * (y1[i][j] + y2[i][j]);
        }
    }
}

int main(void)
{
    const float alpha = 0.25f;
    float (*imgIn)[H] = eb_alloc(W, sizeof *imgIn);
    float (*imgOut)[H] = eb_alloc(W, sizeof *imgOut);
    float (*y1)[H] = eb_alloc(W, sizeof *y1);
    float (*y2)[H] = eb_alloc(W, sizeof *y2);

    init(imgIn);

    eb_timer_start();
    kernel_deriche(alpha, imgIn, imgOut, y1, y2);
    eb_timer_stop();

    eb_checksum(imgOut, W * sizeof *imgOut);
    eb_report();

    free(imgIn);
    free(imgOut);
    free(y1);
    free(y2);
    return 0;
}
