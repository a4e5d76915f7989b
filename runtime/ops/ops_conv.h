/* Launchers of the conv op family (conv2d and its backwards, GEMM and the
 * linear layers on it, the fixed high-pass filter): each records its
 * dispatch(es) into a sequence and returns 0, or non-zero with the message in
 * vkm_error(). Shapes and parameters: runtime/ref/op_params.h. Operands may
 * sit at any float offset of their buffers. Buffers a launcher does not read
 * (b without bias, db without bias) may be {0}. */
#pragma once
#include "runtime/vkm.h"
#include "runtime/ref/op_params.h"

/* y[B,Cout,Ho,Wo] (+)= conv(x[B,Cin,H,W], w[Cout,Cin,K,K]) (+ b[Cout]). */
int vkm_op_conv2d(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf x, vkm_buf w, vkm_buf b, vkm_buf y);
/* dx[B,Cin,H,W] (+)= the input gradient for dy[B,Cout,Ho,Wo]. */
int vkm_op_conv2d_bwd_data(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf dy, vkm_buf w, vkm_buf dx);
/* dw (+)= the filter gradient; when p->bias also db (+)= sum of dy (the same
 * dispatch). */
int vkm_op_conv2d_bwd_filter(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf x, vkm_buf dy, vkm_buf dw,
                             vkm_buf db);
/* db[Cout] (+)= sum of dy over batch and pixels. */
int vkm_op_conv2d_bwd_bias(vkm_seq *s, const vkm_conv2d_p *p, vkm_buf dy, vkm_buf db);

/* c[M,N] = alpha op(a) op(b) (+ bias[N]) (+ c). */
int vkm_op_gemm(vkm_seq *s, const vkm_gemm_p *p, vkm_buf a, vkm_buf b, vkm_buf bias, vkm_buf c);
/* y[B,out] (+)= x[B,in] w[out,in]^T (+ b[out]). */
int vkm_op_linear(vkm_seq *s, const vkm_linear_p *p, vkm_buf x, vkm_buf w, vkm_buf b, vkm_buf y);
/* dx[B,in] (+)= dy[B,out] w[out,in]. */
int vkm_op_linear_bwd_data(vkm_seq *s, const vkm_linear_p *p, vkm_buf dy, vkm_buf w, vkm_buf dx);
/* dw[out,in] (+)= dy^T x; when p->bias also db[out] (+)= sum over the batch of dy. */
int vkm_op_linear_bwd_weight(vkm_seq *s, const vkm_linear_p *p, vkm_buf x, vkm_buf dy, vkm_buf dw,
                             vkm_buf db);

/* y (+)= hpf(x) and its input gradient dx (+)= hpf(dy), [B,C,H,W]. */
int vkm_op_hpf(vkm_seq *s, const vkm_hpf_p *p, vkm_buf x, vkm_buf y);
int vkm_op_hpf_bwd(vkm_seq *s, const vkm_hpf_p *p, vkm_buf dy, vkm_buf dx);
