/* Shapes and parameters of every op: the one definition shared by the CPU
 * reference (runtime/ref), the Vulkan launchers (runtime/ops), the conformance
 * rows and the graph. Plain C, no Vulkan: runtime/ref stands alone.
 *
 * Conventions: tensors are dense float NCHW (batch, channel, row, column);
 * `acc` = 0 overwrites the output, 1 adds into it (gradients of tensors used
 * more than once and parameter gradients accumulate). */
#pragma once
#include <stdint.h>

/* conv2d, stride 1, zero padding. x[B,Cin,H,W], w[Cout,Cin,K,K], b[Cout],
 * conv output [B,Cout,Ho,Wo] with Ho = H + 2*pad - K + 1, Wo likewise. K in
 * {1,3,4}.
 * pool: y = avgpool2(conv + b), [B,Cout,Ho/2,Wo/2] (floor). The mean of a
 * 2x2 output block is the conv of the 2x2 box sums of the input at stride 2,
 * so the fused forward costs a quarter of the unpooled conv's FLOPs, and so
 * does bwd_filter with pool. With pool, every backward takes dy as the pooled
 * output's gradient; bwd_data reads it through the mean's adjoint (dy/4 over
 * each 2x2 block, none to a row or column the floor dropped) at the unpooled
 * conv's cost, without a spread copy.
 * up: conv2d(upsample2(x)) without the upsampled copy. Its bwd_data sums
 * each 2x2 block of the conv's input gradient (upsample2's adjoint) as it
 * goes, the pooled form above: a quarter of the FLOPs. pool and up exclude
 * each other. */
typedef struct {
    int B, Cin, H, W, Cout, K, pad;
    int bias;  /* forward adds b; bwd_filter also writes db */
    int acc;
    int pool;
    int up;  /* the conv reads x nearest-upsampled: x is stored [B,Cin,H/2,W/2] (H, W even) */
} vkm_conv2d_p;
static inline int vkm_conv2d_ho(const vkm_conv2d_p *p) { return p->H + 2 * p->pad - p->K + 1; }
static inline int vkm_conv2d_wo(const vkm_conv2d_p *p) { return p->W + 2 * p->pad - p->K + 1; }
/* x as stored: the conv's input, or its half when up */
static inline int vkm_conv2d_xh(const vkm_conv2d_p *p) { return p->up ? p->H / 2 : p->H; }
static inline int vkm_conv2d_xw(const vkm_conv2d_p *p) { return p->up ? p->W / 2 : p->W; }
/* the forward's stored output: the conv's, or its pooled half */
static inline int vkm_conv2d_yh(const vkm_conv2d_p *p) { return p->pool ? vkm_conv2d_ho(p) / 2 : vkm_conv2d_ho(p); }
static inline int vkm_conv2d_yw(const vkm_conv2d_p *p) { return p->pool ? vkm_conv2d_wo(p) / 2 : vkm_conv2d_wo(p); }
/* floats of x, of y (or dy) and of w as stored */
static inline int64_t vkm_conv2d_nx(const vkm_conv2d_p *p) {
    return (int64_t)p->B * p->Cin * vkm_conv2d_xh(p) * vkm_conv2d_xw(p);
}
static inline int64_t vkm_conv2d_ny(const vkm_conv2d_p *p) {
    return (int64_t)p->B * p->Cout * vkm_conv2d_yh(p) * vkm_conv2d_yw(p);
}
static inline int64_t vkm_conv2d_nw(const vkm_conv2d_p *p) { return (int64_t)p->Cout * p->Cin * p->K * p->K; }

/* Fixed depthwise high-pass filter [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] * scale,
 * padding 1, x and y [B,C,H,W]. The kernel is symmetric, so its adjoint is the
 * same correlation: hpf_bwd maps dy to dx. */
typedef struct { int B, C, H, W; float scale; int acc; } vkm_hpf_p;

/* GEMM: C[M,N] = alpha * op(A) op(B) (+ bias[N] if bias) (+ C if acc).
 * op(A) is [M,K]: A stored [M,K] row-major, or [K,M] when ta. op(B) is [K,N]:
 * B stored [K,N], or [N,K] when tb. Linear layers are GEMMs:
 * fwd y[B,out] = x[B,in] W[out,in]^T + b  (ta 0, tb 1, bias)
 * bwd_data dx[B,in] = dy[B,out] W[out,in] (ta 0, tb 0)
 * bwd_weight dW[out,in] += dy[B,out]^T x[B,in] (ta 1, tb 0, acc); db via reduce. */
typedef struct { int M, N, K, ta, tb, bias, acc; float alpha; } vkm_gemm_p;

/* Linear layer x[B,in] -> y[B,out] with W[out,in], b[out] (the GEMMs above;
 * bwd_weight writes dW and, when bias, db = column sums of dy; acc applies to
 * every output of the op). */
typedef struct { int B, in, out, bias, acc; } vkm_linear_p;

/* Instance norm over H*W per (b, c), biased variance:
 * y = g * (x - mean) * rstd + beta, with
 *   mode NONE:  g = 1, beta = 0
 *   mode AFFINE: g = gamma[c], beta = beta[c]             (gamma, beta [C])
 *   mode ADAIN: g = 1 + gamma[b*gstride + c], beta = beta[b*gstride + c]
 * (AdaIN: gamma/beta are per-sample rows of the style linear's output, so
 * gstride is usually 2*C with beta = gamma + C). Forward also writes mean and
 * rstd [B*C] for the backward. Backward: dx (acc as usual) and, for AFFINE,
 * dgamma/dbeta [C] (always accumulated), for ADAIN dgamma/dbeta per sample
 * (overwritten unless acc_param).
 * Optional fused activation (act = 1): y = lrelu(norm(x), slope) (slope 0.2
 * for the model's IN+LReLU / AdaIN+LReLU, 0 for ReLU); the backward
 * recomputes the pre-activation from x, mean, rstd, gamma and beta. */
enum { VKM_NORM_NONE = 0, VKM_NORM_AFFINE = 1, VKM_NORM_ADAIN = 2 };
typedef struct {
    int B, C, HW, mode, gstride; float eps; int acc, acc_param;
    int act; float slope;
} vkm_instnorm_p;

/* LeakyReLU with slope (0.2), ReLU with slope 0. y = x > 0 ? x : slope * x;
 * bwd: dx = dy * (x > 0 ? 1 : slope). */
typedef struct { int64_t n; float slope; int acc; } vkm_act_p;

/* 2x2 average pooling, x[B,C,H,W] -> y[B,C,H/2,W/2] (floor), and nearest 2x
 * upsampling x[B,C,H,W] -> y[B,C,2H,2W]. H, W are the input's. */
typedef struct { int B, C, H, W; int acc; } vkm_resample_p;

/* out = a * x + b * y (+ out if acc). Add, scale, residual /sqrt(2) and all
 * their backwards. y unused when b == 0. */
typedef struct { int64_t n; float a, b; int acc; } vkm_axpby_p;

/* Channel concat / slice: dst[B, Cdst, HW] channels [off, off+Csrc) <->
 * src[B, Csrc, HW]. concat copies src into dst; slice copies the dst
 * channels out into src (concat's backward). */
typedef struct { int B, Csrc, Cdst, HW, off; int acc; } vkm_chcopy_p;

/* out = (1/count) * sum_i x_i, up to 4 inputs, each n elements. */
typedef struct { int64_t n; int count; int acc; } vkm_meann_p;

/* Losses produce one scalar in out[out_index] (always overwritten):
 * l1:  mean |x - y| over n;  bce: mean over n of softplus(x) - target * x
 * (BCE with logits, target 0 or 1). Backwards read the upstream scalar
 * gscale = g[g_index] (the loss weight) and write dx (acc as usual):
 * l1: gscale * sign(x - y) / n (0 at x == y);  bce: gscale * (sigmoid(x) - target) / n.
 * l1 with parts > 1 is the sum of the means of `parts` equal parts of x
 * (1/n becomes parts/n): one op for several same-sized losses stacked in
 * the batch (the per-domain cycle losses). 0 counts as 1. */
typedef struct { int64_t n; int out_index, g_index; float target; int acc; int parts; } vkm_loss_p;
static inline double vkm_loss_scale(const vkm_loss_p *p) { return (p->parts > 1 ? p->parts : 1) / (double)p->n; }

/* Reduction of `rows` contiguous segments of length n:
 * out[r] = sum (or mean when mean) of x[r*n .. r*n+n). */
typedef struct { int rows; int64_t n; int mean; int acc; } vkm_reduce_p;

/* Fused Adam with coupled L2 weight decay and bias correction:
 *   g' = g + wd * p;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * over n elements cut into nseg segments (several parameter tensors lying
 * side by side in one dispatch): segment k is [seg_start[k], seg_start[k+1])
 * (the last ends at n), seg_start[0] = 0, starts ascending multiples of 4;
 * its t = steps[seg_step[k]] (uint32, written by the host before submit;
 * t >= 1), and seg_step[k] = -1 leaves the segment untouched (a parameter
 * without a gradient this step). One tensor: nseg 1, seg_step[0] its index. */
#define VKM_ADAM_MAXSEG 12
typedef struct {
    int64_t n; float lr, beta1, beta2, eps, wd;
    int nseg;
    uint32_t seg_start[VKM_ADAM_MAXSEG];
    int32_t seg_step[VKM_ADAM_MAXSEG];
} vkm_adam_p;

/* EMA: e = decay * e + (1 - decay) * p. */
typedef struct { int64_t n; float decay; } vkm_ema_p;

/* Counter-based normal generator: out[i] = mean + std * N(0,1) from
 * Philox4x32-10 keyed by seeds[2*seed_index], seeds[2*seed_index+1] (uint32
 * words: key lo, hi). Element i is word i%4 of block q = i/4, whose counter is
 * (q lo, q hi, offset, 0); Box-Muller on words (0,1) and (2,3) with
 * u1 = ((w >> 8) + 1) / 2^24, u2 = (w >> 8) / 2^24. Reproducible from the
 * seed; out[i] does not depend on n; use another offset for another stream.
 * block0 shifts the blocks: out[i] is element 4*block0 + i of the stream, so
 * a process of a data-parallel run draws exactly its rows of the whole draw. */
typedef struct { int64_t n; int seed_index; uint32_t offset; float mean, std; int64_t block0; } vkm_randn_p;
