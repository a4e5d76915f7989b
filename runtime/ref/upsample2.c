/* Reference nearest 2x upsampling. */
#include "runtime/ref/ref_norm.h"

void ref_upsample2(const vkm_resample_p *p, const double *x, double *y) {
    const int H = p->H, W = p->W, Ho = 2 * H, Wo = 2 * W;
    for (int64_t pl = 0; pl < (int64_t)p->B * p->C; pl++) {
        const double *xp = x + pl * H * W;
        double *yp = y + pl * Ho * Wo;
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++)
                yp[i * Wo + j] = (p->acc ? yp[i * Wo + j] : 0) + xp[(i / 2) * W + j / 2];
    }
}
