/* Reference of conv2d's parameter gradients: dw (and db when bias). With
 * pool, dy is the pooled output's gradient: spread as avgpool2_bwd does, then
 * the unpooled formula (the plain way, to check the shader's box sums). */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

/* the gradient at conv output (oy, ox) of image n, channel co */
static double dy_at(const vkm_conv2d_p *p, const double *dy, int n, int co, int oy, int ox) {
    if (!p->pool) return dy[(((size_t)n * p->Cout + co) * vkm_conv2d_ho(p) + oy) * vkm_conv2d_wo(p) + ox];
    int yh = vkm_conv2d_yh(p), yw = vkm_conv2d_yw(p);
    if (oy / 2 >= yh || ox / 2 >= yw) return 0.0;   /* a row/column the floor dropped */
    return 0.25 * dy[(((size_t)n * p->Cout + co) * yh + oy / 2) * yw + ox / 2];
}

void ref_conv2d_bwd_filter(const vkm_conv2d_p *p, const double *x, const double *dy, double *dw,
                           double *db) {
    int Ho = vkm_conv2d_ho(p), Wo = vkm_conv2d_wo(p), K = p->K;
    for (int co = 0; co < p->Cout; co++)
        for (int ci = 0; ci < p->Cin; ci++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    double s = 0;
                    for (int n = 0; n < p->B; n++)
                        for (int oy = 0; oy < Ho; oy++) {
                            int iy = oy + ky - p->pad;
                            if (iy < 0 || iy >= p->H) continue;
                            for (int ox = 0; ox < Wo; ox++) {
                                int ix = ox + kx - p->pad;
                                if (ix < 0 || ix >= p->W) continue;
                                s += dy_at(p, dy, n, co, oy, ox) *
                                     x[ref_conv2d_xidx(p, n, ci, iy, ix)];
                            }
                        }
                    double *o = &dw[(((size_t)co * p->Cin + ci) * K + ky) * K + kx];
                    *o = p->acc ? *o + s : s;
                }
    if (p->bias) ref_conv2d_bwd_bias(p, dy, db);
}
