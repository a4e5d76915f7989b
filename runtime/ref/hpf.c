/* Reference of the fixed depthwise 3x3 high-pass filter
 * [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] * scale, zero padding 1. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

void ref_hpf(const vkm_hpf_p *p, const double *x, double *y) {
    for (int pl = 0; pl < p->B * p->C; pl++) {
        const double *xp = x + (size_t)pl * p->H * p->W;
        double *yp = y + (size_t)pl * p->H * p->W;
        for (int r = 0; r < p->H; r++)
            for (int c = 0; c < p->W; c++) {
                double s = 0;
                for (int dr = -1; dr <= 1; dr++)
                    for (int dc = -1; dc <= 1; dc++) {
                        int rr = r + dr, cc = c + dc;
                        if (rr < 0 || rr >= p->H || cc < 0 || cc >= p->W) continue;
                        s += (dr == 0 && dc == 0 ? 8.0 : -1.0) * xp[(size_t)rr * p->W + cc];
                    }
                s *= (double)p->scale;
                double *o = &yp[(size_t)r * p->W + c];
                *o = p->acc ? *o + s : s;
            }
    }
}
