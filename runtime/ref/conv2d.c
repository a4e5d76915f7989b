/* Reference of conv2d forward: stride 1, zero padding, optional bias, and
 * optionally the 2x2 mean of the conv's output (pool). Computed the plain way
 * (every conv output, then the mean) so it checks the shader's box-sum form. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

/* conv output (oy, ox) of image n, channel co, without bias */
static double conv_at(const vkm_conv2d_p *p, const double *x, const double *w, int n, int co, int oy,
                      int ox) {
    int K = p->K;
    double s = 0.0;
    for (int ci = 0; ci < p->Cin; ci++)
        for (int ky = 0; ky < K; ky++) {
            int iy = oy + ky - p->pad;
            if (iy < 0 || iy >= p->H) continue;
            for (int kx = 0; kx < K; kx++) {
                int ix = ox + kx - p->pad;
                if (ix < 0 || ix >= p->W) continue;
                s += x[ref_conv2d_xidx(p, n, ci, iy, ix)] * w[(((size_t)co * p->Cin + ci) * K + ky) * K + kx];
            }
        }
    return s;
}

void ref_conv2d(const vkm_conv2d_p *p, const double *x, const double *w, const double *b,
                double *y) {
    int Ho = vkm_conv2d_yh(p), Wo = vkm_conv2d_yw(p);
    for (int n = 0; n < p->B; n++)
        for (int co = 0; co < p->Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double s;
                    if (p->pool)
                        s = 0.25 * (conv_at(p, x, w, n, co, 2 * oy, 2 * ox) + conv_at(p, x, w, n, co, 2 * oy, 2 * ox + 1) +
                                    conv_at(p, x, w, n, co, 2 * oy + 1, 2 * ox) +
                                    conv_at(p, x, w, n, co, 2 * oy + 1, 2 * ox + 1));
                    else
                        s = conv_at(p, x, w, n, co, oy, ox);
                    if (p->bias) s += b[co];
                    double *o = &y[(((size_t)n * p->Cout + co) * Ho + oy) * Wo + ox];
                    *o = p->acc ? *o + s : s;
                }
}
