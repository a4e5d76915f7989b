/* Reference of l1loss_bwd: dx = g * sign(x - y) / n (0 where x == y; times
 * parts, vkm_loss_p), dy = -dx. */
#include "runtime/ref/ref_elem.h"

void ref_l1loss_bwd(const vkm_loss_p *p, const double *x, const double *y, const double *g,
                    double *dx, double *dy) {
    double k = g[p->g_index] * vkm_loss_scale(p);
    for (int64_t i = 0; i < p->n; i++) {
        double d = x[i] - y[i];
        double v = d > 0 ? k : d < 0 ? -k : 0.0;
        dx[i] = p->acc ? dx[i] + v : v;
        if (dy) dy[i] = p->acc ? dy[i] - v : -v;
    }
}
