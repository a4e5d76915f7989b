/* CPU reference (double precision) of the norm family: instance norm / AdaIN
 * (optionally fused with LeakyReLU), LeakyReLU/ReLU, 2x2 average pooling and
 * nearest 2x upsampling, forward and backward. Every output honours the acc
 * rules of runtime/ref/op_params.h. */
#pragma once
#include <stdint.h>
#include "runtime/ref/op_params.h"

/* x, y [B,C,HW]; gamma/beta per mode (NULL for NONE); mean, rstd [B*C]
 * (always overwritten). */
void ref_instnorm(const vkm_instnorm_p *p, const double *x, const double *gamma,
                  const double *beta, double *y, double *mean, double *rstd);
/* mean, rstd from ref_instnorm; beta only read with a fused activation;
 * dgamma/dbeta (not for NONE) as op_params.h describes. */
void ref_instnorm_bwd(const vkm_instnorm_p *p, const double *x, const double *mean,
                      const double *rstd, const double *gamma, const double *beta,
                      const double *dy, double *dx, double *dgamma, double *dbeta);

void ref_act(const vkm_act_p *p, const double *x, double *y);
void ref_act_bwd(const vkm_act_p *p, const double *x, const double *dy, double *dx);

/* x [B,C,H,W] -> y [B,C,H/2,W/2]; bwd: dy [B,C,H/2,W/2] -> dx [B,C,H,W]. */
void ref_avgpool2(const vkm_resample_p *p, const double *x, double *y);
void ref_avgpool2_bwd(const vkm_resample_p *p, const double *dy, double *dx);
/* x [B,C,H,W] -> y [B,C,2H,2W]; bwd: dy [B,C,2H,2W] -> dx [B,C,H,W]. */
void ref_upsample2(const vkm_resample_p *p, const double *x, double *y);
void ref_upsample2_bwd(const vkm_resample_p *p, const double *dy, double *dx);

/* Index of the (b, c) gamma/beta entry for a mode (AFFINE: c; ADAIN:
 * b*gstride + c), shared by the reference and its tests. */
static inline int64_t ref_instnorm_pidx(const vkm_instnorm_p *p, int b, int c) {
    return p->mode == VKM_NORM_ADAIN ? (int64_t)b * p->gstride + c : c;
}
