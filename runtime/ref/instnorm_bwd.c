/* Reference instance norm / AdaIN backward:
 * dx = g * rstd * (d - mean(d) - xhat * mean(d * xhat)), d = dy (times the
 * activation's slope where the recomputed pre-activation is negative). */
#include "runtime/ref/ref_norm.h"

void ref_instnorm_bwd(const vkm_instnorm_p *p, const double *x, const double *mean,
                      const double *rstd, const double *gamma, const double *beta,
                      const double *dy, double *dx, double *dgamma, double *dbeta) {
    const int64_t hw = p->HW;
    /* ADAIN per-sample parameter gradients are overwritten unless acc_param;
     * AFFINE's are accumulated over the batch into what is already there. */
    if (p->mode == VKM_NORM_ADAIN && !p->acc_param)
        for (int b = 0; b < p->B; b++)
            for (int c = 0; c < p->C; c++) {
                const int64_t k = ref_instnorm_pidx(p, b, c);
                dgamma[k] = 0;
                dbeta[k] = 0;
            }
    for (int b = 0; b < p->B; b++)
        for (int c = 0; c < p->C; c++) {
            const int64_t pl = (int64_t)b * p->C + c;
            const double *xp = x + pl * hw, *dyp = dy + pl * hw;
            double *dxp = dx + pl * hw;
            const double m = mean[pl], rs = rstd[pl];
            double g = 1, bt = 0;
            const int64_t k = ref_instnorm_pidx(p, b, c);
            if (p->mode != VKM_NORM_NONE) {
                g = (p->mode == VKM_NORM_ADAIN ? 1.0 : 0.0) + gamma[k];
                bt = beta[k];
            }
            double sd = 0, sdx = 0;
            for (int64_t i = 0; i < hw; i++) {
                const double xh = (xp[i] - m) * rs;
                double d = dyp[i];
                if (p->act && !(g * xh + bt > 0)) d *= p->slope;
                sd += d;
                sdx += d * xh;
            }
            if (p->mode != VKM_NORM_NONE) {
                dgamma[k] += sdx;
                dbeta[k] += sd;
            }
            const double md = sd / (double)hw, mdx = sdx / (double)hw;
            for (int64_t i = 0; i < hw; i++) {
                const double xh = (xp[i] - m) * rs;
                double d = dyp[i];
                if (p->act && !(g * xh + bt > 0)) d *= p->slope;
                const double o = g * rs * (d - md - xh * mdx);
                dxp[i] = (p->acc ? dxp[i] : 0) + o;
            }
        }
}
