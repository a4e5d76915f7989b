/* The building blocks of DESIGN §3 (conv, linear, instance norm, ResBlk,
 * AdaIN, AdaResBlk, HPF skip-add): how their parameters are created in a
 * vkm_store (once) and how a graph uses them (any number of times). */
#pragma once
#include <stddef.h>
#include "runtime/graph.h"

#define MIST_LRELU 0.2f

/* Creates the parameters of one module: its name prefix, lr, EMA flag and
 * report group. The first failure is kept in err and later calls do nothing. */
typedef struct {
    vkm_store *st;
    const char *prefix;   /* e.g. "ce", "sep.t1ce" */
    float lr;
    int ema, group;
    char *err;
    size_t errlen;
    int failed;
} mist_pb;

/* snprintf into buf; a name that does not fit fails pb (and returns buf). */
const char *mist_pb_name(mist_pb *pb, char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parameter `prefix.name` (He normal when std > 0, else constant value). */
int mist_pb_param(mist_pb *pb, const char *name, vkm_shape s, float std, float value);

typedef struct { int w, b, cin, cout, k, pad; } mist_conv;   /* b = -1: no bias */
typedef struct { int w, b, in, out; } mist_linear;
typedef struct { int gamma, beta; } mist_inorm;              /* gamma = -1: no affine */

/* ResBlk(cin, cout, norm, down); sc = -1 when cin == cout (identity). */
typedef struct {
    int cin, cout, norm, down;
    mist_inorm n1, n2;
    mist_conv c1, c2;
    int sc;
} mist_resblk;

/* AdaResBlk(cin, cout, up): a1/a2 are the AdaIN style linears (-> 2 cin, 2 cout). */
typedef struct {
    int cin, cout, up;
    mist_linear a1, a2;
    mist_conv c1, c2;
    int sc;
} mist_adablk;

/* Parameter creation; `name` is relative to pb->prefix. pad -1 = "same" (k/2). */
void mist_conv_init(mist_pb *pb, mist_conv *c, const char *name, int cin, int cout, int k, int pad, int bias);
void mist_linear_init(mist_pb *pb, mist_linear *l, const char *name, int in, int out);
void mist_inorm_init(mist_pb *pb, mist_inorm *n, const char *name, int c);
void mist_resblk_init(mist_pb *pb, mist_resblk *r, const char *name, int cin, int cout, int norm, int down);
void mist_adablk_init(mist_pb *pb, mist_adablk *r, const char *name, int cin, int cout, int style_dim, int up);

/* Graph side: take graph tensors, return graph tensors (0 after an error;
 * vkm_graph_error tells why). */
vkm_t mist_param(vkm_graph *g, int store_id);   /* 0 for -1 */
vkm_t mist_conv_fwd(vkm_graph *g, const mist_conv *c, vkm_t x);
vkm_t mist_linear_fwd(vkm_graph *g, const mist_linear *l, vkm_t x);
vkm_t mist_inorm_fwd(vkm_graph *g, const mist_inorm *n, vkm_t x);
/* act(inorm(x)) fused (slope 0.2 LeakyReLU). */
vkm_t mist_inorm_act_fwd(vkm_graph *g, const mist_inorm *n, vkm_t x, float slope);
/* (shortcut + residual) / sqrt(2) */
vkm_t mist_residual_add(vkm_graph *g, vkm_t shortcut, vkm_t residual);
vkm_t mist_resblk_fwd(vkm_graph *g, const mist_resblk *r, vkm_t x);
/* s: style [B, style_dim, 1, 1] */
vkm_t mist_adain_fwd(vkm_graph *g, const mist_linear *l, vkm_t x, vkm_t s);
vkm_t mist_adablk_fwd(vkm_graph *g, const mist_adablk *r, vkm_t x, vkm_t s);
/* x + HPF(skip) * w_hpf; x unchanged (no op) when w_hpf == 0. */
vkm_t mist_hpf_add(vkm_graph *g, vkm_t x, vkm_t skip, float w_hpf);
