/* Reference of meann: the mean of count (<= 4) tensors. */
#include "runtime/ref/ref_elem.h"

void ref_meann(const vkm_meann_p *p, const double *const *x, double *out) {
    for (int64_t i = 0; i < p->n; i++) {
        double s = 0;
        for (int k = 0; k < p->count; k++) s += x[k][i];
        s /= p->count;
        out[i] = p->acc ? out[i] + s : s;
    }
}
