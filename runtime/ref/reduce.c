/* Reference of reduce: sum or mean of each of `rows` contiguous segments. */
#include "runtime/ref/ref_elem.h"

void ref_reduce(const vkm_reduce_p *p, const double *x, double *out) {
    for (int r = 0; r < p->rows; r++) {
        double s = 0;
        for (int64_t i = 0; i < p->n; i++) s += x[(size_t)r * p->n + i];
        if (p->mean && p->n > 0) s /= (double)p->n;
        out[r] = p->acc ? out[r] + s : s;
    }
}
