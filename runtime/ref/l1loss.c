/* Reference of l1loss: out[out_index] = mean |x - y| (times parts, vkm_loss_p). */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_l1loss(const vkm_loss_p *p, const double *x, const double *y, double *out) {
    double s = 0;
    for (int64_t i = 0; i < p->n; i++) s += fabs(x[i] - y[i]);
    out[p->out_index] = p->n > 0 ? s * vkm_loss_scale(p) : 0.0;
}
