/* Reference LeakyReLU / ReLU forward. */
#include "runtime/ref/ref_norm.h"

void ref_act(const vkm_act_p *p, const double *x, double *y) {
    for (int64_t i = 0; i < p->n; i++) {
        const double o = x[i] > 0 ? x[i] : p->slope * x[i];
        y[i] = (p->acc ? y[i] : 0) + o;
    }
}
