/* Reference of meann_bwd: every input's gradient is dy / count. */
#include "runtime/ref/ref_elem.h"

void ref_meann_bwd(const vkm_meann_p *p, const double *dy, double *const *dx) {
    for (int k = 0; k < p->count; k++)
        for (int64_t i = 0; i < p->n; i++) {
            double v = dy[i] / p->count;
            dx[k][i] = p->acc ? dx[k][i] + v : v;
        }
}
