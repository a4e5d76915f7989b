/* Reference LeakyReLU / ReLU backward (the derivative at 0 is the slope, as
 * the shader's x > 0 test gives). */
#include "runtime/ref/ref_norm.h"

void ref_act_bwd(const vkm_act_p *p, const double *x, const double *dy, double *dx) {
    for (int64_t i = 0; i < p->n; i++) {
        const double o = dy[i] * (x[i] > 0 ? 1.0 : p->slope);
        dx[i] = (p->acc ? dx[i] : 0) + o;
    }
}
