/* Reference of conv2d's parameter gradients: dw (and db when bias). With
 * pool, dy is the pooled output's gradient, spread as avgpool2_bwd does
 * (ref_conv2d_dy), then the unpooled formula (the plain way, to check the
 * shader's box sums). */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

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
                                s += ref_conv2d_dy(p, dy, n, co, oy, ox) *
                                     x[ref_conv2d_xidx(p, n, ci, iy, ix)];
                            }
                        }
                    double *o = &dw[(((size_t)co * p->Cin + ci) * K + ky) * K + kx];
                    *o = p->acc ? *o + s : s;
                }
    if (p->bias) ref_conv2d_bwd_bias(p, dy, db);
}
