/* Reference of bce (with logits): out[out_index] = mean softplus(x) - t*x,
 * softplus in its overflow-free form max(x,0) + log1p(exp(-|x|)). */
#include <math.h>
#include "runtime/ref/ref_elem.h"

void ref_bce(const vkm_loss_p *p, const double *x, double *out) {
    double s = 0;
    for (int64_t i = 0; i < p->n; i++)
        s += fmax(x[i], 0.0) + log1p(exp(-fabs(x[i]))) - (double)p->target * x[i];
    out[p->out_index] = p->n > 0 ? s / (double)p->n : 0.0;
}
