/* Launchers of the norm op family (instance norm / AdaIN with optional fused
 * LeakyReLU, LeakyReLU/ReLU, 2x2 average pooling, nearest 2x upsampling,
 * forward and backward): each records one dispatch into a sequence and
 * returns 0, or non-zero after printing what was wrong. Shapes and
 * parameters: runtime/ref/op_params.h. Buffers named "unused" for a mode may
 * be any buffer (or a zeroed vkm_buf). */
#pragma once
#include "runtime/vkm.h"
#include "runtime/ref/op_params.h"

/* x, y [B,C,HW]; gamma/beta as p->mode says (unused for NONE; for ADAIN
 * rows of gstride floats per sample: beta may point into gamma's buffer at
 * any float offset, e.g. gamma + C); mean, rstd [B*C] are written for the
 * backward. */
int vkm_op_instnorm(vkm_seq *s, const vkm_instnorm_p *p, vkm_buf x, vkm_buf gamma,
                    vkm_buf beta, vkm_buf y, vkm_buf mean, vkm_buf rstd);
/* dx [B,C,HW] (+)= the input gradient; dgamma/dbeta (not NONE) as
 * op_params.h says. beta is read only with a fused activation (p->act). */
int vkm_op_instnorm_bwd(vkm_seq *s, const vkm_instnorm_p *p, vkm_buf x, vkm_buf mean,
                        vkm_buf rstd, vkm_buf gamma, vkm_buf beta, vkm_buf dy,
                        vkm_buf dx, vkm_buf dgamma, vkm_buf dbeta);

/* y (+)= leaky_relu(x, slope); dx (+)= dy * (x > 0 ? 1 : slope). */
int vkm_op_act(vkm_seq *s, const vkm_act_p *p, vkm_buf x, vkm_buf y);
int vkm_op_act_bwd(vkm_seq *s, const vkm_act_p *p, vkm_buf x, vkm_buf dy, vkm_buf dx);

/* x [B,C,H,W] -> y [B,C,H/2,W/2]; dy [B,C,H/2,W/2] -> dx [B,C,H,W]. */
int vkm_op_avgpool2(vkm_seq *s, const vkm_resample_p *p, vkm_buf x, vkm_buf y);
int vkm_op_avgpool2_bwd(vkm_seq *s, const vkm_resample_p *p, vkm_buf dy, vkm_buf dx);
/* x [B,C,H,W] -> y [B,C,2H,2W]; dy [B,C,2H,2W] -> dx [B,C,H,W]. */
int vkm_op_upsample2(vkm_seq *s, const vkm_resample_p *p, vkm_buf x, vkm_buf y);
int vkm_op_upsample2_bwd(vkm_seq *s, const vkm_resample_p *p, vkm_buf dy, vkm_buf dx);
