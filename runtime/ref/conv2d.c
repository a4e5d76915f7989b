/* Reference of conv2d forward: stride 1, zero padding, optional bias. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

void ref_conv2d(const vkm_conv2d_p *p, const double *x, const double *w, const double *b,
                double *y) {
    int Ho = vkm_conv2d_ho(p), Wo = vkm_conv2d_wo(p), K = p->K;
    for (int n = 0; n < p->B; n++)
        for (int co = 0; co < p->Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double s = p->bias ? b[co] : 0.0;
                    for (int ci = 0; ci < p->Cin; ci++)
                        for (int ky = 0; ky < K; ky++) {
                            int iy = oy + ky - p->pad;
                            if (iy < 0 || iy >= p->H) continue;
                            for (int kx = 0; kx < K; kx++) {
                                int ix = ox + kx - p->pad;
                                if (ix < 0 || ix >= p->W) continue;
                                s += x[(((size_t)n * p->Cin + ci) * p->H + iy) * p->W + ix] *
                                     w[(((size_t)co * p->Cin + ci) * K + ky) * K + kx];
                            }
                        }
                    double *o = &y[(((size_t)n * p->Cout + co) * Ho + oy) * Wo + ox];
                    *o = p->acc ? *o + s : s;
                }
}
