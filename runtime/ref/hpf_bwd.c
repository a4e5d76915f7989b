/* Reference of the high-pass filter's input gradient. The kernel is
 * symmetric, so the adjoint is the same correlation; written here in scatter
 * form (the literal transpose of ref_hpf) so the gradient check tests that. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>
#include <string.h>

void ref_hpf_bwd(const vkm_hpf_p *p, const double *dy, double *dx) {
    size_t plane = (size_t)p->H * p->W;
    if (!p->acc) memset(dx, 0, plane * p->B * p->C * sizeof *dx);
    for (int pl = 0; pl < p->B * p->C; pl++) {
        const double *gp = dy + (size_t)pl * plane;
        double *dp = dx + (size_t)pl * plane;
        for (int r = 0; r < p->H; r++)
            for (int c = 0; c < p->W; c++) {
                double g = gp[(size_t)r * p->W + c] * (double)p->scale;
                for (int dr = -1; dr <= 1; dr++)
                    for (int dc = -1; dc <= 1; dc++) {
                        int rr = r + dr, cc = c + dc;
                        if (rr < 0 || rr >= p->H || cc < 0 || cc >= p->W) continue;
                        dp[(size_t)rr * p->W + cc] += (dr == 0 && dc == 0 ? 8.0 : -1.0) * g;
                    }
            }
    }
}
