/* Reference of conv2d's input gradient: dx = full correlation of dy with the
 * flipped filter (the adjoint of ref_conv2d; with up, also of the upsampling;
 * with pool, of the 2x2 mean first). */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>
#include <string.h>

void ref_conv2d_bwd_data(const vkm_conv2d_p *p, const double *dy, const double *w, double *dx) {
    int Ho = vkm_conv2d_ho(p), Wo = vkm_conv2d_wo(p), K = p->K;
    size_t nx = (size_t)vkm_conv2d_nx(p);
    if (!p->acc) memset(dx, 0, nx * sizeof *dx);
    /* scatter form: the plain transpose of the forward loop */
    for (int n = 0; n < p->B; n++)
        for (int co = 0; co < p->Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double g = ref_conv2d_dy(p, dy, n, co, oy, ox);
                    for (int ci = 0; ci < p->Cin; ci++)
                        for (int ky = 0; ky < K; ky++) {
                            int iy = oy + ky - p->pad;
                            if (iy < 0 || iy >= p->H) continue;
                            for (int kx = 0; kx < K; kx++) {
                                int ix = ox + kx - p->pad;
                                if (ix < 0 || ix >= p->W) continue;
                                /* up: each 2x2 block adds into its one stored pixel */
                                dx[ref_conv2d_xidx(p, n, ci, iy, ix)] += g * w[(((size_t)co * p->Cin + ci) * K + ky) * K + kx];
                            }
                        }
                }
}
