/* CPU reference (double precision, no Vulkan) of the conv op family:
 * conv2d and its backwards, GEMM and the linear layers built on it, and the
 * fixed high-pass filter. Shapes: runtime/ref/op_params.h. Every function
 * honours p->acc (0 overwrite, 1 add into the output). */
#pragma once
#include <stddef.h>
#include "runtime/ref/op_params.h"

/* Where the conv's input pixel (iy, ix) of image n, channel ci is stored:
 * with up, every 2x2 block of the conv's input is one stored pixel. */
static inline size_t ref_conv2d_xidx(const vkm_conv2d_p *p, int n, int ci, int iy, int ix) {
    int s = p->up ? 1 : 0;
    return (((size_t)n * p->Cin + ci) * vkm_conv2d_xh(p) + (iy >> s)) * vkm_conv2d_xw(p) + (ix >> s);
}

/* The gradient at the conv's output pixel (oy, ox) of image n, channel co:
 * with pool, dy holds the pooled output's gradient, which the mean spreads
 * as dy/4 over each 2x2 block (avgpool2_bwd), and the row or column that the
 * floor dropped gets none. */
static inline double ref_conv2d_dy(const vkm_conv2d_p *p, const double *dy, int n, int co, int oy, int ox) {
    if (!p->pool) return dy[(((size_t)n * p->Cout + co) * vkm_conv2d_ho(p) + oy) * vkm_conv2d_wo(p) + ox];
    int yh = vkm_conv2d_yh(p), yw = vkm_conv2d_yw(p);
    if (oy / 2 >= yh || ox / 2 >= yw) return 0.0;
    return 0.25 * dy[(((size_t)n * p->Cout + co) * yh + oy / 2) * yw + ox / 2];
}

/* y = conv(x, w) (+ b when p->bias). */
void ref_conv2d(const vkm_conv2d_p *p, const double *x, const double *w, const double *b,
                double *y);
/* dx from dy[B,Cout,Ho,Wo] and w. */
void ref_conv2d_bwd_data(const vkm_conv2d_p *p, const double *dy, const double *w, double *dx);
/* dw from x and dy; when p->bias also db (= ref_conv2d_bwd_bias). */
void ref_conv2d_bwd_filter(const vkm_conv2d_p *p, const double *x, const double *dy, double *dw,
                           double *db);
/* db[Cout] = sum of dy over batch and pixels (also the linear layers' db,
 * with H = W = K = 1). */
void ref_conv2d_bwd_bias(const vkm_conv2d_p *p, const double *dy, double *db);

void ref_gemm(const vkm_gemm_p *p, const double *a, const double *b, const double *bias, double *c);

/* The GEMMs of a linear layer (see vkm_gemm_p), shared with the launchers. */
static inline vkm_gemm_p vkm_linear_fwd_gemm(const vkm_linear_p *p) {
    vkm_gemm_p g = {p->B, p->out, p->in, 0, 1, p->bias, p->acc, 1.0f};
    return g;
}
static inline vkm_gemm_p vkm_linear_bwd_data_gemm(const vkm_linear_p *p) {
    vkm_gemm_p g = {p->B, p->in, p->out, 0, 0, 0, p->acc, 1.0f};
    return g;
}
static inline vkm_gemm_p vkm_linear_bwd_weight_gemm(const vkm_linear_p *p) {
    vkm_gemm_p g = {p->out, p->in, p->B, 1, 0, 0, p->acc, 1.0f};
    return g;
}
/* db of a linear layer as a conv bias gradient over a 1x1 map. */
static inline vkm_conv2d_p vkm_linear_bias_conv(const vkm_linear_p *p) {
    vkm_conv2d_p c = {p->B, p->in, 1, 1, p->out, 1, 0, 1, p->acc, 0, 0};
    return c;
}
void ref_linear(const vkm_linear_p *p, const double *x, const double *w, const double *b, double *y);
void ref_linear_bwd_data(const vkm_linear_p *p, const double *dy, const double *w, double *dx);
/* dw and, when p->bias, db. */
void ref_linear_bwd_weight(const vkm_linear_p *p, const double *x, const double *dy, double *dw,
                           double *db);

void ref_hpf(const vkm_hpf_p *p, const double *x, double *y);
void ref_hpf_bwd(const vkm_hpf_p *p, const double *dy, double *dx);
