/* Reference of GEMM (C = alpha op(A) op(B) + bias + C) and of the linear
 * layers expressed as GEMMs. */
#include "runtime/ref/ref_conv.h"
#include <stddef.h>

void ref_gemm(const vkm_gemm_p *p, const double *a, const double *b, const double *bias, double *c) {
    for (int m = 0; m < p->M; m++)
        for (int n = 0; n < p->N; n++) {
            double s = 0;
            for (int k = 0; k < p->K; k++) {
                double av = p->ta ? a[(size_t)k * p->M + m] : a[(size_t)m * p->K + k];
                double bv = p->tb ? b[(size_t)n * p->K + k] : b[(size_t)k * p->N + n];
                s += av * bv;
            }
            s *= (double)p->alpha;
            if (p->bias) s += bias[n];
            double *o = &c[(size_t)m * p->N + n];
            *o = p->acc ? *o + s : s;
        }
}

void ref_linear(const vkm_linear_p *p, const double *x, const double *w, const double *b, double *y) {
    vkm_gemm_p g = vkm_linear_fwd_gemm(p);
    ref_gemm(&g, x, w, b, y);
}

void ref_linear_bwd_data(const vkm_linear_p *p, const double *dy, const double *w, double *dx) {
    vkm_gemm_p g = vkm_linear_bwd_data_gemm(p);
    ref_gemm(&g, dy, w, NULL, dx);
}

void ref_linear_bwd_weight(const vkm_linear_p *p, const double *x, const double *dy, double *dw,
                           double *db) {
    vkm_gemm_p g = vkm_linear_bwd_weight_gemm(p);
    ref_gemm(&g, dy, x, NULL, dw);
    if (p->bias) {
        vkm_conv2d_p c = vkm_linear_bias_conv(p);
        ref_conv2d_bwd_bias(&c, dy, db);
    }
}
