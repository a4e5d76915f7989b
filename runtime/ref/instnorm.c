/* Reference instance norm / AdaIN forward (two-pass mean and biased
 * variance in double), with the optional fused LeakyReLU. */
#include <math.h>
#include "runtime/ref/ref_norm.h"

void ref_instnorm(const vkm_instnorm_p *p, const double *x, const double *gamma,
                  const double *beta, double *y, double *mean, double *rstd) {
    const int64_t hw = p->HW;
    for (int b = 0; b < p->B; b++)
        for (int c = 0; c < p->C; c++) {
            const int64_t pl = (int64_t)b * p->C + c;
            const double *xp = x + pl * hw;
            double *yp = y + pl * hw;
            double m = 0, v = 0;
            for (int64_t i = 0; i < hw; i++) m += xp[i];
            m /= (double)hw;
            for (int64_t i = 0; i < hw; i++) v += (xp[i] - m) * (xp[i] - m);
            v /= (double)hw;
            const double rs = 1.0 / sqrt(v + p->eps);
            double g = 1, bt = 0;
            if (p->mode != VKM_NORM_NONE) {
                const int64_t k = ref_instnorm_pidx(p, b, c);
                g = (p->mode == VKM_NORM_ADAIN ? 1.0 : 0.0) + gamma[k];
                bt = beta[k];
            }
            for (int64_t i = 0; i < hw; i++) {
                double o = g * (xp[i] - m) * rs + bt;
                if (p->act && !(o > 0)) o *= p->slope;
                yp[i] = (p->acc ? yp[i] : 0) + o;
            }
            mean[pl] = m;
            rstd[pl] = rs;
        }
}
