/* CPU reference (double precision, no Vulkan) of the elementwise op family:
 * axpby, concat/slice, fill, mean of N, L1 and BCE losses, reduce, Adam, EMA
 * and the Philox normal generator. Shapes: runtime/ref/op_params.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "runtime/ref/op_params.h"

void ref_axpby(const vkm_axpby_p *p, const double *x, const double *y, double *out);
void ref_concat(const vkm_chcopy_p *p, const double *part, double *whole);
void ref_slice(const vkm_chcopy_p *p, const double *whole, double *part);
void ref_fill(size_t n, double value, double *out);
void ref_meann(const vkm_meann_p *p, const double *const *x, double *out);
void ref_meann_bwd(const vkm_meann_p *p, const double *dy, double *const *dx);
/* Losses write out[p->out_index]; backwards read g[p->g_index]. */
void ref_l1loss(const vkm_loss_p *p, const double *x, const double *y, double *out);
/* dy may be NULL (only x gets a gradient). */
void ref_l1loss_bwd(const vkm_loss_p *p, const double *x, const double *y, const double *g,
                    double *dx, double *dy);
void ref_bce(const vkm_loss_p *p, const double *x, double *out);
void ref_bce_bwd(const vkm_loss_p *p, const double *x, const double *g, double *dx);
void ref_reduce(const vkm_reduce_p *p, const double *x, double *out);
/* Updates param, m, v in place, segment k with t = steps[p->seg_step[k]]. */
void ref_adam(const vkm_adam_p *p, const uint32_t *steps, double *param, const double *grad,
              double *m, double *v);
void ref_ema(const vkm_ema_p *p, const double *param, double *ema);
/* Philox4x32-10 (Salmon et al. 2011, Random123): the bit-exact integers the
 * randn shader generates. */
void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* The uniforms -> normals step shared with the shader (see randn.c). */
void ref_randn_block(uint64_t block, uint32_t offset, const uint32_t key[2], double out[4]);
void ref_randn(const vkm_randn_p *p, const uint32_t *seeds, double *out);
