/* Reference of ema: e = decay * e + (1 - decay) * p. */
#include "runtime/ref/ref_elem.h"

void ref_ema(const vkm_ema_p *p, const double *param, double *ema) {
    double d = p->decay;
    for (int64_t i = 0; i < p->n; i++) ema[i] = d * ema[i] + (1.0 - d) * param[i];
}
