/* Reference of axpby: out = a*x + b*y (+ out if acc). */
#include "runtime/ref/ref_elem.h"

void ref_axpby(const vkm_axpby_p *p, const double *x, const double *y, double *out) {
    for (int64_t i = 0; i < p->n; i++) {
        double v = (double)p->a * x[i] + (p->b != 0.0f ? (double)p->b * y[i] : 0.0);
        out[i] = p->acc ? out[i] + v : v;
    }
}
