/* Parameter creation and graph construction of the DESIGN §3 building
 * blocks. He-normal init: std = sqrt(2 / fan_in); biases 0; IN gamma 1, beta 0. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include "model/layers.h"

int mist_pb_param(mist_pb *pb, const char *name, vkm_shape s, float std, float value) {
    if (pb->failed) return -1;
    char full[96];
    int n = snprintf(full, sizeof full, "%s.%s", pb->prefix, name);
    int id = -1;
    if (n > 0 && n < (int)sizeof full) id = vkm_store_param(pb->st, full, s, std, value, pb->lr, pb->ema, pb->group);
    if (id < 0) {
        if (n <= 0 || n >= (int)sizeof full) snprintf(pb->err, pb->errlen, "parameter name too long: %s.%s", pb->prefix, name);
        else snprintf(pb->err, pb->errlen, "cannot add parameter %s (duplicate name?)", full);
        pb->failed = 1;
    }
    return id;
}

const char *mist_pb_name(mist_pb *pb, char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) {
        if (!pb->failed) snprintf(pb->err, pb->errlen, "parameter name too long in %s: %s", pb->prefix, fmt);
        pb->failed = 1;
    }
    return buf;
}

static float he_std(long fan_in) { return sqrtf(2.0f / (float)fan_in); }

void mist_conv_init(mist_pb *pb, mist_conv *c, const char *name, int cin, int cout, int k, int pad, int bias) {
    char nm[80];
    c->cin = cin, c->cout = cout, c->k = k, c->pad = pad < 0 ? k / 2 : pad;
    mist_pb_name(pb, nm, sizeof nm, "%s.w", name);
    c->w = mist_pb_param(pb, nm, vkm_shp(cout, cin, k, k), he_std((long)cin * k * k), 0.0f);
    c->b = -1;
    if (bias) {
        mist_pb_name(pb, nm, sizeof nm, "%s.b", name);
        c->b = mist_pb_param(pb, nm, vkm_shp(1, cout, 1, 1), 0.0f, 0.0f);
    }
}

void mist_linear_init(mist_pb *pb, mist_linear *l, const char *name, int in, int out) {
    char nm[80];
    l->in = in, l->out = out;
    mist_pb_name(pb, nm, sizeof nm, "%s.w", name);
    l->w = mist_pb_param(pb, nm, vkm_shp(out, in, 1, 1), he_std(in), 0.0f);
    mist_pb_name(pb, nm, sizeof nm, "%s.b", name);
    l->b = mist_pb_param(pb, nm, vkm_shp(1, out, 1, 1), 0.0f, 0.0f);
}

void mist_inorm_init(mist_pb *pb, mist_inorm *n, const char *name, int c) {
    char nm[80];
    mist_pb_name(pb, nm, sizeof nm, "%s.g", name);
    n->gamma = mist_pb_param(pb, nm, vkm_shp(1, c, 1, 1), 0.0f, 1.0f);
    mist_pb_name(pb, nm, sizeof nm, "%s.b", name);
    n->beta = mist_pb_param(pb, nm, vkm_shp(1, c, 1, 1), 0.0f, 0.0f);
}

void mist_resblk_init(mist_pb *pb, mist_resblk *r, const char *name, int cin, int cout, int norm, int down) {
    char nm[80];
    r->cin = cin, r->cout = cout, r->norm = norm, r->down = down;
    r->n1.gamma = r->n1.beta = r->n2.gamma = r->n2.beta = -1;
    if (norm) {
        mist_pb_name(pb, nm, sizeof nm, "%s.in1", name);
        mist_inorm_init(pb, &r->n1, nm, cin);
    }
    mist_pb_name(pb, nm, sizeof nm, "%s.conv1", name);
    mist_conv_init(pb, &r->c1, nm, cin, cin, 3, -1, 1);
    if (norm) {
        mist_pb_name(pb, nm, sizeof nm, "%s.in2", name);
        mist_inorm_init(pb, &r->n2, nm, cin);
    }
    mist_pb_name(pb, nm, sizeof nm, "%s.conv2", name);
    mist_conv_init(pb, &r->c2, nm, cin, cout, 3, -1, 1);
    r->sc = -1;
    if (cin != cout) {
        mist_pb_name(pb, nm, sizeof nm, "%s.sc.w", name);
        r->sc = mist_pb_param(pb, nm, vkm_shp(cout, cin, 1, 1), he_std(cin), 0.0f);
    }
}

void mist_adablk_init(mist_pb *pb, mist_adablk *r, const char *name, int cin, int cout, int style_dim, int up) {
    char nm[80];
    r->cin = cin, r->cout = cout, r->up = up;
    mist_pb_name(pb, nm, sizeof nm, "%s.ada1", name);
    mist_linear_init(pb, &r->a1, nm, style_dim, 2 * cin);
    mist_pb_name(pb, nm, sizeof nm, "%s.conv1", name);
    mist_conv_init(pb, &r->c1, nm, cin, cout, 3, -1, 1);
    mist_pb_name(pb, nm, sizeof nm, "%s.ada2", name);
    mist_linear_init(pb, &r->a2, nm, style_dim, 2 * cout);
    mist_pb_name(pb, nm, sizeof nm, "%s.conv2", name);
    mist_conv_init(pb, &r->c2, nm, cout, cout, 3, -1, 1);
    r->sc = -1;
    if (cin != cout) {
        mist_pb_name(pb, nm, sizeof nm, "%s.sc.w", name);
        r->sc = mist_pb_param(pb, nm, vkm_shp(cout, cin, 1, 1), he_std(cin), 0.0f);
    }
}

vkm_t mist_param(vkm_graph *g, int store_id) { return store_id >= 0 ? vkm_g_store(g, store_id) : 0; }

vkm_t mist_conv_fwd(vkm_graph *g, const mist_conv *c, vkm_t x) {
    return vkm_g_conv2d(g, x, mist_param(g, c->w), mist_param(g, c->b), c->pad);
}

vkm_t mist_linear_fwd(vkm_graph *g, const mist_linear *l, vkm_t x) {
    return vkm_g_linear(g, x, mist_param(g, l->w), mist_param(g, l->b));
}

vkm_t mist_inorm_fwd(vkm_graph *g, const mist_inorm *n, vkm_t x) {
    return vkm_g_instnorm(g, x, mist_param(g, n->gamma), mist_param(g, n->beta));
}

vkm_t mist_inorm_act_fwd(vkm_graph *g, const mist_inorm *n, vkm_t x, float slope) {
    return vkm_g_instnorm_act(g, x, mist_param(g, n->gamma), mist_param(g, n->beta), slope);
}

vkm_t mist_residual_add(vkm_graph *g, vkm_t shortcut, vkm_t residual) {
    const float r = (float)(1.0 / sqrt(2.0));
    return vkm_g_axpby(g, shortcut, residual, r, r);
}

vkm_t mist_resblk_fwd(vkm_graph *g, const mist_resblk *r, vkm_t x) {
    vkm_t h = r->norm ? mist_inorm_act_fwd(g, &r->n1, x, MIST_LRELU) : vkm_g_act(g, x, MIST_LRELU);
    /* conv then avgpool2 as one op: the same values for a quarter of the FLOPs */
    h = r->down ? vkm_g_conv2d_avgpool2(g, h, mist_param(g, r->c1.w), mist_param(g, r->c1.b), r->c1.pad)
                : mist_conv_fwd(g, &r->c1, h);
    h = r->norm ? mist_inorm_act_fwd(g, &r->n2, h, MIST_LRELU) : vkm_g_act(g, h, MIST_LRELU);
    h = mist_conv_fwd(g, &r->c2, h);
    /* DESIGN order is conv1x1 -> avgpool; the two are linear maps over
     * different axes and commute, and pooling first costs 4x fewer FLOPs. */
    vkm_t s = x;
    if (r->down) s = vkm_g_avgpool2(g, s);
    if (r->sc >= 0) s = vkm_g_conv2d(g, s, mist_param(g, r->sc), 0, 0);
    return mist_residual_add(g, s, h);
}

vkm_t mist_adain_fwd(vkm_graph *g, const mist_linear *l, vkm_t x, vkm_t s) {
    return vkm_g_adain(g, x, mist_linear_fwd(g, l, s));
}

vkm_t mist_adablk_fwd(vkm_graph *g, const mist_adablk *r, vkm_t x, vkm_t s) {
    vkm_t h = vkm_g_adain_act(g, x, mist_linear_fwd(g, &r->a1, s), MIST_LRELU);
    /* nearest up x2 then conv as one op: no upsampled copy, and the input
     * gradient sums each 2x2 block as it goes (a quarter of the FLOPs) */
    h = r->up ? vkm_g_upsample2_conv2d(g, h, mist_param(g, r->c1.w), mist_param(g, r->c1.b), r->c1.pad)
              : mist_conv_fwd(g, &r->c1, h);
    h = vkm_g_adain_act(g, h, mist_linear_fwd(g, &r->a2, s), MIST_LRELU);
    h = mist_conv_fwd(g, &r->c2, h);
    /* nearest up x2 and conv1x1 commute exactly; convolving at the low
     * resolution costs 4x fewer FLOPs than the DESIGN order up -> conv1x1. */
    vkm_t sc = x;
    if (r->sc >= 0) sc = vkm_g_conv2d(g, sc, mist_param(g, r->sc), 0, 0);
    if (r->up) sc = vkm_g_upsample2(g, sc);
    return mist_residual_add(g, sc, h);
}

vkm_t mist_hpf_add(vkm_graph *g, vkm_t x, vkm_t skip, float w_hpf) {
    if (w_hpf == 0.0f) return x;
    return vkm_g_axpby(g, x, vkm_g_hpf(g, skip, w_hpf), 1.0f, 1.0f);
}
