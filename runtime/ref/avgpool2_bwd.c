/* Reference 2x2 average pooling backward: each dy spreads dy/4 over its 2x2
 * window; a dropped odd last row/column gets zero. */
#include "runtime/ref/ref_norm.h"

void ref_avgpool2_bwd(const vkm_resample_p *p, const double *dy, double *dx) {
    const int H = p->H, W = p->W, Ho = H / 2, Wo = W / 2;
    for (int64_t pl = 0; pl < (int64_t)p->B * p->C; pl++) {
        const double *dyp = dy + pl * Ho * Wo;
        double *dxp = dx + pl * H * W;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const double o = (i / 2 < Ho && j / 2 < Wo) ? 0.25 * dyp[(i / 2) * Wo + j / 2] : 0;
                dxp[i * W + j] = (p->acc ? dxp[i * W + j] : 0) + o;
            }
    }
}
