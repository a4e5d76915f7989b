/* Reference 2x2 average pooling (floor: an odd last row/column is dropped). */
#include "runtime/ref/ref_norm.h"

void ref_avgpool2(const vkm_resample_p *p, const double *x, double *y) {
    const int H = p->H, W = p->W, Ho = H / 2, Wo = W / 2;
    for (int64_t pl = 0; pl < (int64_t)p->B * p->C; pl++) {
        const double *xp = x + pl * H * W;
        double *yp = y + pl * Ho * Wo;
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++) {
                const double *t = xp + (2 * i) * W + 2 * j;
                const double o = 0.25 * (t[0] + t[1] + t[W] + t[W + 1]);
                yp[i * Wo + j] = (p->acc ? yp[i * Wo + j] : 0) + o;
            }
    }
}
