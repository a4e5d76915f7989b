/* Reference of adam: one fused Adam step, coupled L2 weight decay, bias
 * correction with t from the step buffer, per segment (vkm_adam_p). */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_adam(const vkm_adam_p *p, const uint32_t *steps, double *param, const double *grad,
              double *m, double *v) {
    double b1 = p->beta1, b2 = p->beta2;
    for (int k = 0; k < p->nseg; k++) {
        if (p->seg_step[k] < 0) continue;
        int64_t lo = p->seg_start[k], hi = k + 1 < p->nseg ? (int64_t)p->seg_start[k + 1] : p->n;
        double t = (double)steps[p->seg_step[k]];
        double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
        for (int64_t i = lo; i < hi; i++) {
            double g = grad[i] + (double)p->wd * param[i];
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            param[i] -= (double)p->lr * (m[i] / c1) / (sqrt(v[i] / c2) + (double)p->eps);
        }
    }
}
