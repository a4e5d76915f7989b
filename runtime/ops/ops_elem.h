/* Launchers of the elementwise op family (axpby, concat/slice, fill, mean of
 * N, losses, reduce, Adam, EMA, randn): each records its dispatch(es) into a
 * sequence and returns 0, or non-zero with the message in vkm_error().
 * Shapes and parameters: runtime/ref/op_params.h. Tensors of any length work
 * (vec4 bodies with scalar tails); the purely elementwise ops split tensors
 * bigger than one binding (128 MiB, 2^25 floats) into several dispatches,
 * while concat/slice, the loss forwards and reduce refuse them with an error. */
#pragma once
#include "runtime/vkm.h"
#include "runtime/ref/op_params.h"

/* out = a*x + b*y (+ out if acc). y is not read when b == 0 (pass any buffer,
 * e.g. x). out may be x or y (in place). */
int vkm_op_axpby(vkm_seq *s, const vkm_axpby_p *p, vkm_buf x, vkm_buf y, vkm_buf out);

/* whole[B, Cdst, HW] channels [off, off+Csrc) (+)= part[B, Csrc, HW]. */
int vkm_op_concat(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf part, vkm_buf whole);
/* part[B, Csrc, HW] (+)= whole[B, Cdst, HW] channels [off, off+Csrc). */
int vkm_op_slice(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf whole, vkm_buf part);

/* dst = value everywhere (vkCmdFillBuffer, no shader). */
int vkm_op_fill(vkm_seq *s, vkm_buf dst, float value);
/* whole[B, Cdst, HW] channels [off, off+Csrc) = value (p->acc ignored): the
 * combiner's zero-filled slot of a missing domain; one fill per batch item. */
int vkm_op_fill_slot(vkm_seq *s, const vkm_chcopy_p *p, vkm_buf whole, float value);

/* out (+)= (1/count) * sum of x[0..count) (count 1..4). */
int vkm_op_meann(vkm_seq *s, const vkm_meann_p *p, const vkm_buf *x, vkm_buf out);
/* dx[i] (+)= dy / count for i < count: meann's backward, one dispatch. */
int vkm_op_meann_bwd(vkm_seq *s, const vkm_meann_p *p, vkm_buf dy, const vkm_buf *dx);

/* out[out_index] = mean |x - y| (one deterministic dispatch). */
int vkm_op_l1loss(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf y, vkm_buf out);
/* dx (+)= g[g_index] * sign(x - y) / n; and dy (+)= -that when dy.buffer is
 * not VK_NULL_HANDLE (both operands carry gradient, e.g. the style loss). */
int vkm_op_l1loss_bwd(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf y, vkm_buf g,
                      vkm_buf dx, vkm_buf dy);
/* out[out_index] = mean softplus(x) - target * x (BCE with logits). */
int vkm_op_bce(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf out);
/* dx (+)= g[g_index] * (sigmoid(x) - target) / n. */
int vkm_op_bce_bwd(vkm_seq *s, const vkm_loss_p *p, vkm_buf x, vkm_buf g, vkm_buf dx);

/* out[r] (+)= sum (or mean) of x[r*n .. r*n+n), deterministic. */
int vkm_op_reduce(vkm_seq *s, const vkm_reduce_p *p, vkm_buf x, vkm_buf out);

/* Fused Adam step on param, m, v (all n floats) with gradient grad, one
 * dispatch for all of p's segments (several tensors side by side); segment
 * k's t = steps[p->seg_step[k]] (uint32 buffer). */
int vkm_op_adam(vkm_seq *s, const vkm_adam_p *p, vkm_buf param, vkm_buf grad, vkm_buf m,
                vkm_buf v, vkm_buf steps);

/* ema = decay * ema + (1 - decay) * param. */
int vkm_op_ema(vkm_seq *s, const vkm_ema_p *p, vkm_buf param, vkm_buf ema);

/* out = mean + std * normal noise, Philox4x32-10 keyed by
 * seeds[2*seed_index], seeds[2*seed_index+1] (uint32 buffer). */
int vkm_op_randn(vkm_seq *s, const vkm_randn_p *p, vkm_buf seeds, vkm_buf out);
