/* Reference nearest 2x upsampling backward: each dx is the sum of its four
 * children in dy. */
#include "runtime/ref/ref_norm.h"

void ref_upsample2_bwd(const vkm_resample_p *p, const double *dy, double *dx) {
    const int H = p->H, W = p->W, Wo = 2 * W;
    for (int64_t pl = 0; pl < (int64_t)p->B * p->C; pl++) {
        const double *dyp = dy + pl * 4 * H * W;
        double *dxp = dx + pl * H * W;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const double *t = dyp + (2 * i) * Wo + 2 * j;
                const double o = t[0] + t[1] + t[Wo] + t[Wo + 1];
                dxp[i * W + j] = (p->acc ? dxp[i * W + j] : 0) + o;
            }
    }
}
