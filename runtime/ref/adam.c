/* Reference of adam: one fused Adam step, coupled L2 weight decay, bias
 * correction with t from the step buffer. */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_adam(const vkm_adam_p *p, const uint32_t *steps, double *param, const double *grad,
              double *m, double *v) {
    double t = (double)steps[p->step_index];
    double b1 = p->beta1, b2 = p->beta2;
    double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
    for (int64_t i = 0; i < p->n; i++) {
        double g = grad[i] + (double)p->wd * param[i];
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        param[i] -= (double)p->lr * (m[i] / c1) / (sqrt(v[i] / c2) + (double)p->eps);
    }
}
