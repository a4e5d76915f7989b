/* Reference of bce_bwd: dx = g * (sigmoid(x) - target) / n. */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_bce_bwd(const vkm_loss_p *p, const double *x, const double *g, double *dx) {
    double k = g[p->g_index] / (double)p->n;
    for (int64_t i = 0; i < p->n; i++) {
        double e = exp(-fabs(x[i]));
        double sig = x[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        double v = k * (sig - (double)p->target);
        dx[i] = p->acc ? dx[i] + v : v;
    }
}
