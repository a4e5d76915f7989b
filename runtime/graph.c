/* Graph building: the tape of forward ops recorded by model code, and
 * reverse-mode autodiff that appends the backward ops (gradients of tensors
 * used several times summed, stop-gradient honoured, parameter gradients
 * accumulated into the store's gradient region), Adam and EMA. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"

static void gfail(vkm_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gfail(vkm_graph *g, const char *fmt, ...) {
    if (g->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
}

vkm_graph *vkm_graph_new(vkm_store *st) {
    vkm_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->st = st;
    g->capt = 256;
    g->t = calloc(g->capt, sizeof *g->t);
    if (!g->t) {
        free(g);
        return NULL;
    }
    g->nt = 1; /* id 0 is "none" */
    return g;
}

void vkm_graph_free(vkm_graph *g) {
    if (!g) return;
    free(g->t);
    free(g->nodes);
    free(g->updated);
    free(g->grad_params);
    free(g->sync_runs);
    free(g);
}

const char *vkm_graph_error(const vkm_graph *g) { return g->err; }

static int valid(const vkm_graph *g, vkm_t t) { return t > 0 && t < g->nt; }

vkm_shape vkm_g_shape(const vkm_graph *g, vkm_t t) {
    vkm_shape z = {0, 0, 0, 0};
    return valid(g, t) ? g->t[t].shape : z;
}

static vkm_t new_tensor(vkm_graph *g, vkm_shape s, int kind) {
    if (g->err[0]) return 0;
    if (vkm_numel(s) <= 0) {
        gfail(g, "tensor of empty shape [%d,%d,%d,%d]", s.n, s.c, s.h, s.w);
        return 0;
    }
    if (g->nt == g->capt) {
        int cap = 2 * g->capt;
        vkm_tensor *nt = realloc(g->t, cap * sizeof *nt);
        if (!nt) {
            gfail(g, "out of host memory");
            return 0;
        }
        g->t = nt;
        g->capt = cap;
    }
    vkm_tensor *t = &g->t[g->nt];
    memset(t, 0, sizeof *t);
    t->shape = s;
    t->kind = kind;
    t->store_id = -1;
    t->offset = -1;
    g->planned = 0;
    return g->nt++;
}

static vkm_node *new_node(vkm_graph *g, vkm_node_op op, int forward) {
    if (g->err[0]) return NULL;
    if (g->nn == g->capn) {
        int cap = g->capn ? 2 * g->capn : 256;
        vkm_node *nn = realloc(g->nodes, cap * sizeof *nn);
        if (!nn) {
            gfail(g, "out of host memory");
            return NULL;
        }
        g->nodes = nn;
        g->capn = cap;
    }
    vkm_node *n = &g->nodes[g->nn++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->forward = forward;
    g->planned = 0;
    return n;
}

static vkm_t store_tensor(vkm_graph *g, int id, int what) {
    for (vkm_t i = 1; i < g->nt; i++)
        if (g->t[i].kind == T_STORE && g->t[i].store_id == id && g->t[i].store_what == what) return i;
    vkm_shape s;
    if (id == -1) s = vkm_shp(1, 1, 1, (int)g->st->region[0]); /* the whole gradient region */
    else s = g->st->e[id].shape;
    vkm_t t = new_tensor(g, s, T_STORE);
    if (t) {
        g->t[t].store_id = id;
        g->t[t].store_what = what;
    }
    return t;
}

/* Elements [lo, hi) of the region of parameter copy `what` (all parameters
 * lie in one region per copy, laid out alike, padding zero). */
static vkm_t region_span(vkm_graph *g, int what, int64_t lo, int64_t hi) {
    if (hi - lo > INT32_MAX) {
        gfail(g, "parameter span of %lld elements is too long", (long long)(hi - lo));
        return 0;
    }
    vkm_t t = new_tensor(g, vkm_shp(1, 1, 1, (int)(hi - lo)), T_STORE);
    if (t) {
        g->t[t].store_id = -1;
        g->t[t].store_what = what;
        g->t[t].offset = lo;
    }
    return t;
}

vkm_t vkm_g_store(vkm_graph *g, int id) {
    if (id < 0 || id >= g->st->n) {
        gfail(g, "store tensor %d does not exist", id);
        return 0;
    }
    return store_tensor(g, id, W_VALUE);
}

static vkm_t alias(vkm_graph *g, vkm_t x, vkm_shape s, int detached) {
    if (!valid(g, x)) {
        gfail(g, "alias of an invalid tensor");
        return 0;
    }
    if (vkm_numel(s) != vkm_numel(g->t[x].shape)) {
        gfail(g, "reshape changes the element count");
        return 0;
    }
    vkm_t t = new_tensor(g, s, T_ALIAS);
    if (t) {
        g->t[t].alias_of = x;
        g->t[t].detached = detached;
    }
    return t;
}

vkm_t vkm_g_detach(vkm_graph *g, vkm_t x) { return valid(g, x) ? alias(g, x, g->t[x].shape, 1) : 0; }
vkm_t vkm_g_reshape(vkm_graph *g, vkm_t x, vkm_shape s) { return alias(g, x, s, 0); }

#define NEED(cond, ...) do { if (!(cond)) { gfail(g, __VA_ARGS__); return 0; } } while (0)

/* The forward's multiply-adds x 2: K*K taps per stored output pixel (the
 * pooled one when pool; the upsampled map's when up). */
static double conv_flops(const vkm_conv2d_p *p) {
    return 2.0 * p->B * p->Cout * vkm_conv2d_yh(p) * vkm_conv2d_yw(p) * p->Cin * p->K * p->K;
}

static vkm_t conv_node(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad, int pool, int up) {
    NEED(valid(g, x) && valid(g, w), "conv2d: invalid input");
    vkm_shape xs = g->t[x].shape, ws = g->t[w].shape;
    NEED(ws.c == xs.c && ws.h == ws.w && (ws.h == 1 || ws.h == 3 || ws.h == 4) && pad >= 0 && pad <= 1,
         "conv2d: weight [%d,%d,%d,%d] does not fit input channels %d", ws.n, ws.c, ws.h, ws.w, xs.c);
    NEED(!b || vkm_numel(g->t[b].shape) == ws.n, "conv2d: bias size");
    vkm_conv2d_p p = {xs.n, xs.c, xs.h << up, xs.w << up, ws.n, ws.h, pad, b != 0, 0, pool, up};
    int ho = vkm_conv2d_yh(&p), wo = vkm_conv2d_yw(&p);
    NEED(ho > 0 && wo > 0, "conv2d%s: output would be empty", pool ? " + avgpool2" : up ? " of upsample2" : "");
    vkm_t y = new_tensor(g, vkm_shp(xs.n, ws.n, ho, wo), T_TRANSIENT);
    vkm_node *n = new_node(g, N_CONV2D, 1);
    if (!n || !y) return 0;
    n->p.conv = p;
    n->in[0] = x, n->in[1] = w, n->in[2] = b;
    n->out[0] = y;
    n->flops = conv_flops(&p);
    return y;
}
vkm_t vkm_g_conv2d(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad) { return conv_node(g, x, w, b, pad, 0, 0); }
vkm_t vkm_g_conv2d_avgpool2(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad) {
    return conv_node(g, x, w, b, pad, 1, 0);
}
vkm_t vkm_g_upsample2_conv2d(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad) {
    return conv_node(g, x, w, b, pad, 0, 1);
}

vkm_t vkm_g_linear(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b) {
    NEED(valid(g, x) && valid(g, w), "linear: invalid input");
    vkm_shape xs = g->t[x].shape, ws = g->t[w].shape;
    int in = xs.c * xs.h * xs.w, out = ws.n;
    NEED(ws.c * ws.h * ws.w == in, "linear: weight [%d,%d] does not fit %d inputs", ws.n, ws.c * ws.h * ws.w, in);
    NEED(!b || vkm_numel(g->t[b].shape) == out, "linear: bias size");
    vkm_t y = new_tensor(g, vkm_shp(xs.n, out, 1, 1), T_TRANSIENT);
    vkm_node *n = new_node(g, N_LINEAR, 1);
    if (!n || !y) return 0;
    n->p.lin = (vkm_linear_p){xs.n, in, out, b != 0, 0};
    n->in[0] = x, n->in[1] = w, n->in[2] = b;
    n->out[0] = y;
    n->flops = 2.0 * xs.n * in * out;
    return y;
}

vkm_t vkm_g_hpf(vkm_graph *g, vkm_t x, float scale) {
    NEED(valid(g, x), "hpf: invalid input");
    vkm_shape s = g->t[x].shape;
    vkm_t y = new_tensor(g, s, T_TRANSIENT);
    vkm_node *n = new_node(g, N_HPF, 1);
    if (!n || !y) return 0;
    n->p.hpf = (vkm_hpf_p){s.n, s.c, s.h, s.w, scale, 0};
    n->in[0] = x;
    n->out[0] = y;
    n->flops = 18.0 * vkm_numel(s);
    return y;
}

static vkm_t norm(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta, int mode, int act, float slope) {
    vkm_shape s = g->t[x].shape;
    vkm_t y = new_tensor(g, s, T_TRANSIENT);
    vkm_t mean = new_tensor(g, vkm_shp(s.n, s.c, 1, 1), T_TRANSIENT);
    vkm_t rstd = new_tensor(g, vkm_shp(s.n, s.c, 1, 1), T_TRANSIENT);
    vkm_node *n = new_node(g, N_INSTNORM, 1);
    if (!n || !y) return 0;
    n->p.in = (vkm_instnorm_p){s.n, s.c, s.h * s.w, mode, mode == VKM_NORM_ADAIN ? 2 * s.c : s.c, 1e-5f, 0, 0,
                               act, act ? slope : 0.0f};
    n->in[0] = x, n->in[1] = gamma, n->in[2] = beta;
    n->out[0] = y, n->out[1] = mean, n->out[2] = rstd;
    n->flops = (act ? 9.0 : 8.0) * vkm_numel(s);
    return y;
}

static vkm_t instnorm(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta, int act, float slope) {
    NEED(valid(g, x) && (!gamma) == (!beta), "instnorm: invalid input");
    if (gamma) NEED(vkm_numel(g->t[gamma].shape) == g->t[x].shape.c && vkm_numel(g->t[beta].shape) == g->t[x].shape.c,
                    "instnorm: gamma/beta size");
    return norm(g, x, gamma, beta, gamma ? VKM_NORM_AFFINE : VKM_NORM_NONE, act, slope);
}
vkm_t vkm_g_instnorm(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta) { return instnorm(g, x, gamma, beta, 0, 0); }
vkm_t vkm_g_instnorm_act(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta, float slope) {
    return instnorm(g, x, gamma, beta, 1, slope);
}

static vkm_t adain(vkm_graph *g, vkm_t x, vkm_t gb, int act, float slope) {
    NEED(valid(g, x) && valid(g, gb), "adain: invalid input");
    vkm_shape s = g->t[x].shape, gs = g->t[gb].shape;
    NEED(gs.n == s.n && gs.c * gs.h * gs.w == 2 * s.c, "adain: style projection must be [B, 2C]");
    /* gamma and beta stay packed in gb's rows (stride 2C, beta at +C): the
     * executors derive beta's view, so no slice ops are needed */
    return norm(g, x, gb, 0, VKM_NORM_ADAIN, act, slope);
}
vkm_t vkm_g_adain(vkm_graph *g, vkm_t x, vkm_t gb) { return adain(g, x, gb, 0, 0); }
vkm_t vkm_g_adain_act(vkm_graph *g, vkm_t x, vkm_t gb, float slope) { return adain(g, x, gb, 1, slope); }

vkm_t vkm_g_act(vkm_graph *g, vkm_t x, float slope) {
    NEED(valid(g, x), "act: invalid input");
    vkm_shape s = g->t[x].shape;
    vkm_t y = new_tensor(g, s, T_TRANSIENT);
    vkm_node *n = new_node(g, N_ACT, 1);
    if (!n || !y) return 0;
    n->p.act = (vkm_act_p){vkm_numel(s), slope, 0};
    n->in[0] = x;
    n->out[0] = y;
    n->flops = (double)vkm_numel(s);
    return y;
}

static vkm_t resample(vkm_graph *g, vkm_t x, vkm_node_op op) {
    NEED(valid(g, x), "resample: invalid input");
    vkm_shape s = g->t[x].shape;
    vkm_shape o = op == N_AVGPOOL2 ? vkm_shp(s.n, s.c, s.h / 2, s.w / 2) : vkm_shp(s.n, s.c, 2 * s.h, 2 * s.w);
    NEED(o.h > 0 && o.w > 0, "avgpool2 of a 1-pixel map");
    vkm_t y = new_tensor(g, o, T_TRANSIENT);
    vkm_node *n = new_node(g, op, 1);
    if (!n || !y) return 0;
    n->p.rs = (vkm_resample_p){s.n, s.c, s.h, s.w, 0};
    n->in[0] = x;
    n->out[0] = y;
    n->flops = (double)vkm_numel(o);
    return y;
}
vkm_t vkm_g_avgpool2(vkm_graph *g, vkm_t x) { return resample(g, x, N_AVGPOOL2); }
vkm_t vkm_g_upsample2(vkm_graph *g, vkm_t x) { return resample(g, x, N_UPSAMPLE2); }

static void axpby_node(vkm_graph *g, vkm_t x, vkm_t y, float a, float b, vkm_t out, int acc, int forward) {
    vkm_node *n = new_node(g, N_AXPBY, forward);
    if (!n) return;
    int64_t num = vkm_numel(g->t[out].shape);
    n->p.ax = (vkm_axpby_p){num, a, y ? b : 0.0f, acc};
    n->in[0] = x, n->in[1] = y; /* executors bind x for a missing y */
    n->out[0] = out;
    n->flops = 3.0 * num;
}

vkm_t vkm_g_axpby(vkm_graph *g, vkm_t x, vkm_t y, float a, float b) {
    NEED(valid(g, x) && (!y || valid(g, y)), "axpby: invalid input");
    NEED(!y || vkm_numel(g->t[x].shape) == vkm_numel(g->t[y].shape), "axpby: shapes differ");
    vkm_t out = new_tensor(g, g->t[x].shape, T_TRANSIENT);
    if (out) axpby_node(g, x, y, a, b, out, 0, 1);
    return g->err[0] ? 0 : out;
}

static void fill_node(vkm_graph *g, vkm_t t, float v, int forward) {
    vkm_node *n = new_node(g, N_FILL, forward);
    if (!n) return;
    n->p.fill.n = vkm_numel(g->t[t].shape);
    n->p.fill.value = v;
    n->out[0] = t;
}

static void chcopy_node(vkm_graph *g, vkm_node_op op, vkm_t src, vkm_t dst, vkm_chcopy_p p, int forward) {
    vkm_node *n = new_node(g, op, forward);
    if (!n) return;
    n->p.ch = p;
    n->in[0] = src;
    n->out[0] = dst;
    n->flops = (double)p.B * p.Csrc * p.HW;
}

vkm_t vkm_g_concat(vkm_graph *g, const vkm_t *xs, int n, int slot_c) {
    NEED(n > 0, "concat of nothing");
    vkm_shape ref = {0, 0, 0, 0};
    int ctot = 0, slots = 0;
    for (int i = 0; i < n; i++) {
        if (!xs[i]) {
            ctot += slot_c;
            slots++;
            continue;
        }
        NEED(valid(g, xs[i]), "concat: invalid input");
        vkm_shape s = g->t[xs[i]].shape;
        if (!ref.n) ref = s;
        NEED(s.n == ref.n && s.h == ref.h && s.w == ref.w, "concat: shapes differ");
        ctot += s.c;
    }
    NEED(ref.n && (!slots || slot_c > 0), "concat: no input with a shape");
    vkm_t out = new_tensor(g, vkm_shp(ref.n, ctot, ref.h, ref.w), T_TRANSIENT);
    if (!out) return 0;
    if (slots) fill_node(g, out, 0, 1);
    int off = 0;
    for (int i = 0; i < n; i++) {
        int c = xs[i] ? g->t[xs[i]].shape.c : slot_c;
        if (xs[i]) chcopy_node(g, N_CONCAT, xs[i], out, (vkm_chcopy_p){ref.n, c, ctot, ref.h * ref.w, off, 0}, 1);
        off += c;
    }
    return g->err[0] ? 0 : out;
}

vkm_t vkm_g_stack(vkm_graph *g, const vkm_t *xs, int n) {
    NEED(n > 0 && valid(g, xs[0]), "stack: invalid input");
    vkm_shape s = g->t[xs[0]].shape;
    for (int i = 1; i < n; i++)
        NEED(valid(g, xs[i]) && !memcmp(&g->t[xs[i]].shape, &s, sizeof s), "stack: shapes differ");
    if (n == 1) return xs[0];
    vkm_t c = vkm_g_concat(g, xs, n, 0);
    return c ? vkm_g_reshape(g, c, vkm_shp(n * s.n, s.c, s.h, s.w)) : 0;
}

vkm_t vkm_g_unstack(vkm_graph *g, vkm_t x, int n, int i) {
    NEED(valid(g, x) && n > 0 && i >= 0 && i < n && g->t[x].shape.n % n == 0, "unstack: part %d of %d", i, n);
    vkm_shape s = g->t[x].shape;
    if (n == 1) return x;
    vkm_t v = vkm_g_reshape(g, x, vkm_shp(s.n / n, n * s.c, s.h, s.w));
    return v ? vkm_g_slice(g, v, i * s.c, s.c) : 0;
}

vkm_t vkm_g_slice(vkm_graph *g, vkm_t x, int c_off, int c_n) {
    NEED(valid(g, x), "slice: invalid input");
    vkm_shape s = g->t[x].shape;
    NEED(c_off >= 0 && c_n > 0 && c_off + c_n <= s.c, "slice: channels [%d,%d) outside %d", c_off, c_off + c_n, s.c);
    vkm_t out = new_tensor(g, vkm_shp(s.n, c_n, s.h, s.w), T_TRANSIENT);
    if (out) chcopy_node(g, N_SLICE, x, out, (vkm_chcopy_p){s.n, c_n, s.c, s.h * s.w, c_off, 0}, 1);
    return g->err[0] ? 0 : out;
}

vkm_t vkm_g_mean(vkm_graph *g, const vkm_t *xs, int n) {
    NEED(n >= 1 && n <= 4, "mean of %d tensors (1..4)", n);
    for (int i = 0; i < n; i++)
        NEED(valid(g, xs[i]) && vkm_numel(g->t[xs[i]].shape) == vkm_numel(g->t[xs[0]].shape), "mean: shapes differ");
    vkm_t out = new_tensor(g, g->t[xs[0]].shape, T_TRANSIENT);
    vkm_node *nd = new_node(g, N_MEANN, 1);
    if (!nd || !out) return 0;
    nd->p.mn = (vkm_meann_p){vkm_numel(g->t[out].shape), n, 0};
    for (int i = 0; i < n; i++) nd->in[i] = xs[i];
    nd->out[0] = out;
    nd->flops = (double)n * vkm_numel(g->t[out].shape);
    return out;
}

vkm_t vkm_g_l1(vkm_graph *g, vkm_t x, vkm_t y) { return vkm_g_l1_parts(g, x, y, 1); }

vkm_t vkm_g_l1_parts(vkm_graph *g, vkm_t x, vkm_t y, int parts) {
    NEED(valid(g, x) && valid(g, y) && vkm_numel(g->t[x].shape) == vkm_numel(g->t[y].shape), "l1: shapes differ");
    NEED(parts >= 1 && vkm_numel(g->t[x].shape) % parts == 0, "l1: %d parts of unequal size", parts);
    vkm_t out = new_tensor(g, vkm_shp(1, 1, 1, 1), T_TRANSIENT);
    vkm_node *n = new_node(g, N_L1, 1);
    if (!n || !out) return 0;
    n->p.loss = (vkm_loss_p){vkm_numel(g->t[x].shape), 0, 0, 0, 0, parts};
    n->in[0] = x, n->in[1] = y;
    n->out[0] = out;
    n->flops = 3.0 * vkm_numel(g->t[x].shape);
    return out;
}

vkm_t vkm_g_bce(vkm_graph *g, vkm_t x, float target) {
    NEED(valid(g, x), "bce: invalid input");
    vkm_t out = new_tensor(g, vkm_shp(1, 1, 1, 1), T_TRANSIENT);
    vkm_node *n = new_node(g, N_BCE, 1);
    if (!n || !out) return 0;
    n->p.loss = (vkm_loss_p){vkm_numel(g->t[x].shape), 0, 0, target, 0, 0};
    n->in[0] = x;
    n->out[0] = out;
    n->flops = 10.0 * vkm_numel(g->t[x].shape);
    return out;
}

vkm_t vkm_g_randn(vkm_graph *g, vkm_shape s, int seeds_store_id, int seed_index, int64_t first) {
    const vkm_store_entry *e = vkm_store_get(g->st, seeds_store_id);
    NEED(e && e->kind == VKM_S_U32 && 2 * seed_index + 1 < e->numel, "randn: seeds must be a U32 store tensor");
    NEED(first >= 0 && first % 4 == 0, "randn: the first element of a shard must be a multiple of 4");
    vkm_t seeds = store_tensor(g, seeds_store_id, W_VALUE);
    vkm_t out = new_tensor(g, s, T_TRANSIENT);
    vkm_node *n = new_node(g, N_RANDN, 1);
    if (!n || !out) return 0;
    n->p.rn = (vkm_randn_p){vkm_numel(s), seed_index, 0, 0.0f, 1.0f, first / 4};
    n->in[0] = seeds;
    n->out[0] = out;
    n->flops = 20.0 * vkm_numel(s);
    return out;
}

int vkm_g_output(vkm_graph *g, vkm_t x, int store_id) {
    const vkm_store_entry *e = vkm_store_get(g->st, store_id);
    if (!valid(g, x) || !e || e->kind != VKM_S_STATE || e->numel != vkm_numel(g->t[x].shape)) {
        gfail(g, "output: needs a STATE store tensor of the same size");
        return -1;
    }
    axpby_node(g, x, 0, 1, 0, store_tensor(g, store_id, W_VALUE), 0, 0);
    return g->err[0] ? -1 : 0;
}

/* ---- autodiff ------------------------------------------------------------- */

static int is_wanted_param(const vkm_graph *g, vkm_t t, const int *params, int np) {
    const vkm_tensor *x = &g->t[t];
    if (x->kind != T_STORE || x->store_what != W_VALUE || x->store_id < 0) return 0;
    if (g->st->e[x->store_id].kind != VKM_S_PARAM) return 0;
    for (int i = 0; i < np; i++)
        if (params[i] == x->store_id) return 1;
    return 0;
}

static int ng(const vkm_graph *g, vkm_t t) {
    while (t && g->t[t].kind == T_ALIAS) {
        if (g->t[t].detached) return 0;
        t = g->t[t].alias_of;
    }
    return t ? g->t[t].needs_grad : 0;
}

/* The gradient tensor of t (through aliases) for one more contribution;
 * *acc says whether to add (an earlier contribution exists) or overwrite. */
static vkm_t grad_for(vkm_graph *g, vkm_t t, int *acc) {
    vkm_t r = vkm_g_root(g, t);
    if (!g->t[r].grad) {
        /* new tensors may move g->t: take no pointer into it across the call */
        int store = g->t[r].kind == T_STORE;
        vkm_t gt = store ? store_tensor(g, g->t[r].store_id, W_GRAD) : new_tensor(g, g->t[r].shape, T_TRANSIENT);
        g->t[r].grad = gt;
        if (store) {
            g->t[r].grad_written = 1; /* the region was zeroed: parameters always accumulate */
            g->grad_params[g->ngrad_params++] = g->t[r].store_id;
        }
    }
    *acc = g->t[r].grad_written;
    g->t[r].grad_written = 1;
    return g->t[r].grad;
}

/* The gradient of an output, or 0 when nothing reached it. */
static vkm_t grad_of(const vkm_graph *g, vkm_t t) { return t ? g->t[vkm_g_root(g, t)].grad : 0; }

static void bwd_node(vkm_graph *g, int idx, const int *root_w, vkm_t weights) {
    vkm_node fw = g->nodes[idx]; /* a copy: new_node may move g->nodes */
    vkm_t dy = grad_of(g, fw.out[0]);
    vkm_node *n;
    int acc;
    switch (fw.op) {
    case N_CONV2D:
        if (!dy) return;
        if (ng(g, fw.in[0])) {
            vkm_conv2d_p c = fw.p.conv;
            /* pooled: dy is read through the mean's adjoint, at the
             * unpooled conv's cost; up: the pooled form of upsample2's */
            vkm_conv2d_p unpooled = c;
            unpooled.pool = 0;
            double flops = c.up ? fw.flops / 4 : conv_flops(&unpooled);
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            if ((n = new_node(g, N_CONV2D_BWD_DATA, 0))) {
                n->p.conv = c;
                n->p.conv.acc = acc;
                n->in[0] = dy, n->in[1] = fw.in[1], n->out[0] = gx, n->flops = flops;
            }
        }
        if (ng(g, fw.in[1])) {
            int accb = 1;
            vkm_t gw = grad_for(g, fw.in[1], &acc);
            vkm_t gb = fw.in[2] && ng(g, fw.in[2]) ? grad_for(g, fw.in[2], &accb) : 0;
            if (!acc || !accb) gfail(g, "conv2d weights must be parameters");
            if ((n = new_node(g, N_CONV2D_BWD_FILTER, 0))) {
                n->p.conv = fw.p.conv;
                n->p.conv.bias = gb != 0;
                n->p.conv.acc = 1;
                n->in[0] = fw.in[0], n->in[1] = dy, n->out[0] = gw, n->out[1] = gb, n->flops = fw.flops;
            }
        }
        return;
    case N_LINEAR:
        if (!dy) return;
        if (ng(g, fw.in[0])) {
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            if ((n = new_node(g, N_LINEAR_BWD_DATA, 0))) {
                n->p.lin = fw.p.lin;
                n->p.lin.acc = acc;
                n->in[0] = dy, n->in[1] = fw.in[1], n->out[0] = gx, n->flops = fw.flops;
            }
        }
        if (ng(g, fw.in[1])) {
            int accb = 1;
            vkm_t gw = grad_for(g, fw.in[1], &acc);
            vkm_t gb = fw.in[2] && ng(g, fw.in[2]) ? grad_for(g, fw.in[2], &accb) : 0;
            if (!acc || !accb) gfail(g, "linear weights must be parameters");
            if ((n = new_node(g, N_LINEAR_BWD_WEIGHT, 0))) {
                n->p.lin = fw.p.lin;
                n->p.lin.bias = gb != 0;
                n->p.lin.acc = 1;
                n->in[0] = fw.in[0], n->in[1] = dy, n->out[0] = gw, n->out[1] = gb, n->flops = fw.flops;
            }
        }
        return;
    case N_HPF:
    case N_AVGPOOL2:
    case N_UPSAMPLE2:
        if (!dy || !ng(g, fw.in[0])) return;
        {
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            vkm_node_op op = fw.op == N_HPF ? N_HPF_BWD : fw.op == N_AVGPOOL2 ? N_AVGPOOL2_BWD : N_UPSAMPLE2_BWD;
            if ((n = new_node(g, op, 0))) {
                if (fw.op == N_HPF) n->p.hpf = fw.p.hpf, n->p.hpf.acc = acc;
                else n->p.rs = fw.p.rs, n->p.rs.acc = acc;
                n->in[0] = dy, n->out[0] = gx, n->flops = fw.flops;
            }
        }
        return;
    case N_INSTNORM: {
        if (!dy) return;
        int adain = fw.p.in.mode == VKM_NORM_ADAIN;
        int gx_ng = ng(g, fw.in[0]), gp_ng = fw.in[1] && (ng(g, fw.in[1]) || (!adain && ng(g, fw.in[2])));
        if (!gx_ng && !gp_ng) return;
        int accp = 0, acc2 = 0;
        vkm_t gx = gx_ng ? grad_for(g, fw.in[0], &acc) : new_tensor(g, g->t[fw.in[0]].shape, T_TRANSIENT);
        if (!gx_ng) acc = 0;
        vkm_t gg = 0, gbt = 0;
        if (gp_ng) {
            gg = grad_for(g, fw.in[1], &accp);
            gbt = adain ? 0 : grad_for(g, fw.in[2], &acc2);
            if (!adain && accp != acc2) gfail(g, "instnorm: gamma and beta gradients out of step");
        } else if (fw.in[1]) { /* parameters not trained here: scratch outputs */
            gg = new_tensor(g, g->t[fw.in[1]].shape, T_TRANSIENT);
            gbt = adain ? 0 : new_tensor(g, g->t[fw.in[2]].shape, T_TRANSIENT);
        }
        if ((n = new_node(g, N_INSTNORM_BWD, 0))) {
            n->p.in = fw.p.in;
            n->p.in.acc = acc;
            n->p.in.acc_param = fw.p.in.mode == VKM_NORM_AFFINE ? 1 : accp;
            n->in[0] = fw.in[0], n->in[1] = fw.out[1], n->in[2] = fw.out[2], n->in[3] = fw.in[1],
            n->in[4] = fw.in[2], n->in[5] = dy;
            n->out[0] = gx, n->out[1] = gg, n->out[2] = gbt;
            n->flops = 2 * fw.flops;
        }
        return;
    }
    case N_ACT:
        if (!dy || !ng(g, fw.in[0])) return;
        {
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            if ((n = new_node(g, N_ACT_BWD, 0))) {
                n->p.act = fw.p.act;
                n->p.act.acc = acc;
                n->in[0] = fw.in[0], n->in[1] = dy, n->out[0] = gx, n->flops = fw.flops;
            }
        }
        return;
    case N_AXPBY:
        if (!dy) return;
        if (ng(g, fw.in[0])) {
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            axpby_node(g, dy, 0, fw.p.ax.a, 0, gx, acc, 0);
        }
        if (fw.in[1] && fw.p.ax.b != 0 && ng(g, fw.in[1])) {
            vkm_t gy = grad_for(g, fw.in[1], &acc);
            axpby_node(g, dy, 0, fw.p.ax.b, 0, gy, acc, 0);
        }
        return;
    case N_CONCAT:
        if (!dy || !ng(g, fw.in[0])) return;
        {
            vkm_t gp = grad_for(g, fw.in[0], &acc);
            vkm_chcopy_p p = fw.p.ch;
            p.acc = acc;
            chcopy_node(g, N_SLICE, dy, gp, p, 0);
        }
        return;
    case N_SLICE:
        if (!dy || !ng(g, fw.in[0])) return;
        {
            vkm_t gw = grad_for(g, fw.in[0], &acc);
            if (!acc) fill_node(g, gw, 0, 0); /* the slice covers only some channels */
            vkm_chcopy_p p = fw.p.ch;
            p.acc = 1;
            chcopy_node(g, N_CONCAT, dy, gw, p, 0);
        }
        return;
    case N_MEANN:
        if (!dy) return;
        for (int i = 0; i < fw.p.mn.count; i++)
            if (ng(g, fw.in[i])) {
                vkm_t gx = grad_for(g, fw.in[i], &acc);
                axpby_node(g, dy, 0, 1.0f / fw.p.mn.count, 0, gx, acc, 0);
            }
        return;
    case N_L1:
    case N_BCE: {
        int wi = root_w[idx];
        if (wi < 0) return;
        if (fw.op == N_BCE) {
            if (!ng(g, fw.in[0])) return;
            vkm_t gx = grad_for(g, fw.in[0], &acc);
            if ((n = new_node(g, N_BCE_BWD, 0))) {
                n->p.loss = fw.p.loss;
                n->p.loss.g_index = wi, n->p.loss.acc = acc;
                n->in[0] = fw.in[0], n->in[1] = weights, n->out[0] = gx, n->flops = fw.flops;
            }
            return;
        }
        /* l1: d/dx = w sign(x - y) / n, d/dy the negative: one node per operand
         * whose accumulate flag differs, operands swapped for y */
        for (int k = 0; k < 2; k++) {
            vkm_t a = fw.in[k], b = fw.in[1 - k];
            if (!ng(g, a)) continue;
            vkm_t ga = grad_for(g, a, &acc);
            if ((n = new_node(g, N_L1_BWD, 0))) {
                n->p.loss = fw.p.loss;
                n->p.loss.g_index = wi, n->p.loss.acc = acc;
                n->in[0] = a, n->in[1] = b, n->in[2] = weights, n->out[0] = ga, n->flops = fw.flops;
            }
        }
        return;
    }
    default:
        return; /* randn, fill: no inputs to differentiate */
    }
}

static int differentiable_input(const vkm_node *n, int i) {
    switch (n->op) {
    case N_RANDN: case N_FILL: return 0;
    case N_INSTNORM: return i <= 2;
    default: return 1;
    }
}

int vkm_g_backward(vkm_graph *g, const vkm_t *losses, const int *w_index, int n, int w_store,
                   const int *params, int nparams) {
    if (g->err[0]) return -1;
    const vkm_store_entry *we = vkm_store_get(g->st, w_store);
    if (!we || we->kind != VKM_S_INPUT) {
        gfail(g, "backward: loss weights must be an INPUT store tensor");
        return -1;
    }
    vkm_t weights = store_tensor(g, w_store, W_VALUE);
    for (vkm_t t = 1; t < g->nt; t++) {
        g->t[t].needs_grad = is_wanted_param(g, t, params, nparams);
        g->t[t].grad = 0;
        g->t[t].grad_written = 0;
    }
    int nfwd = g->nn;
    g->bwd_first = nfwd;
    for (int i = 0; i < nfwd; i++) {
        vkm_node *nd = &g->nodes[i];
        if (!nd->forward) continue;
        int any = 0;
        for (int k = 0; k < VKM_NODE_IN; k++) any |= nd->in[k] && differentiable_input(nd, k) && ng(g, nd->in[k]);
        if (any)
            for (int k = 0; k < VKM_NODE_OUT; k++)
                if (nd->out[k]) g->t[vkm_g_root(g, nd->out[k])].needs_grad = 1;
    }
    int *root_w = malloc(nfwd * sizeof *root_w);
    free(g->grad_params);
    g->grad_params = malloc((g->st->n + 1) * sizeof *g->grad_params);
    g->ngrad_params = 0;
    if (!root_w || !g->grad_params) {
        free(root_w);
        gfail(g, "out of host memory");
        return -1;
    }
    for (int i = 0; i < nfwd; i++) root_w[i] = -1;
    for (int i = 0; i < n; i++) {
        int found = -1;
        for (int k = nfwd - 1; k >= 0 && found < 0; k--)
            if (g->nodes[k].out[0] == losses[i] && (g->nodes[k].op == N_L1 || g->nodes[k].op == N_BCE)) found = k;
        if (found < 0 || w_index[i] < 0 || w_index[i] >= we->numel) {
            free(root_w);
            gfail(g, "backward: loss %d is not an l1/bce output, or its weight index is out of range", i);
            return -1;
        }
        root_w[found] = w_index[i];
    }
    /* zero only the span of the parameters differentiated here, so the
     * gradients of an earlier backward (another module set) survive */
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < nparams; i++) {
        const vkm_store_entry *pe = vkm_store_get(g->st, params[i]);
        if (!pe || pe->kind != VKM_S_PARAM) continue;
        if (pe->off < lo) lo = pe->off;
        if (pe->off + pe->numel > hi) hi = pe->off + pe->numel;
    }
    if (hi > lo) {
        vkm_t span = region_span(g, W_GRAD, lo, hi);
        if (span) fill_node(g, span, 0, 0);
    }
    for (int i = nfwd - 1; i >= 0 && !g->err[0]; i--)
        if (g->nodes[i].forward) bwd_node(g, i, root_w, weights);
    free(root_w);
    return g->err[0] ? -1 : 0;
}

/* One Adam node over the parameter-region elements [lo, lo + p->n). */
static void adam_node(vkm_graph *g, const vkm_adam_p *p, int64_t lo, vkm_t steps) {
    vkm_t pv = region_span(g, W_VALUE, lo, lo + p->n), gr = region_span(g, W_GRAD, lo, lo + p->n);
    vkm_t m = region_span(g, W_M, lo, lo + p->n), v = region_span(g, W_V, lo, lo + p->n);
    vkm_node *n = new_node(g, N_ADAM, 0);
    if (!n || !pv || !gr || !m || !v) return;
    n->p.adam = *p;
    n->in[0] = gr, n->in[1] = steps;
    n->out[0] = pv, n->out[1] = m, n->out[2] = v;
    n->flops = 12.0 * (double)p->n;
}

int vkm_g_adam(vkm_graph *g, float beta1, float beta2, float eps, float wd, int steps_store) {
    const vkm_store_entry *se = vkm_store_get(g->st, steps_store);
    if (!se || se->kind != VKM_S_U32 || se->numel < g->st->n) {
        gfail(g, "adam: steps must be a U32 store tensor with one word per store entry");
        return -1;
    }
    vkm_t steps = store_tensor(g, steps_store, W_VALUE);
    free(g->updated);
    g->updated = malloc((g->ngrad_params + 1) * sizeof *g->updated);
    if (!g->updated) {
        gfail(g, "out of host memory");
        return -1;
    }
    g->nupdated = 0;
    char *got = calloc((size_t)g->st->n + 1, 1);
    if (!got) {
        gfail(g, "out of host memory");
        return -1;
    }
    for (int i = 0; i < g->ngrad_params; i++) {
        got[g->grad_params[i]] = 1;
        g->updated[g->nupdated++] = g->grad_params[i];
    }
    /* Parameters lie in store order in their region: one node covers a run
     * of them with the same lr (up to VKM_ADAM_MAXSEG segments), parameters
     * without a gradient inside the run as untouched segments. */
    vkm_adam_p p = {0, 0, beta1, beta2, eps, wd, 0, {0}, {0}};
    int64_t lo = -1, skip = -1; /* the open node's first element; a pending untouched stretch */
    for (int id = 0; id <= g->st->n && !g->err[0]; id++) {
        const vkm_store_entry *e = id < g->st->n ? &g->st->e[id] : NULL;
        if (e && e->kind != VKM_S_PARAM) continue;
        if (e && !got[id]) {
            if (lo >= 0 && skip < 0) skip = e->off;
            continue;
        }
        int room = p.nseg + (skip >= 0 ? 2 : 1) <= VKM_ADAM_MAXSEG;
        if (lo >= 0 && (!e || e->lr != p.lr || !room || e->off + e->numel - lo > VKM_SPAN_MAX)) {
            adam_node(g, &p, lo, steps);
            lo = -1;
        }
        if (!e) break;
        if (lo < 0) {
            lo = e->off, skip = -1;
            p.lr = e->lr, p.nseg = 0;
        }
        if (skip >= 0) {
            p.seg_start[p.nseg] = (uint32_t)(skip - lo), p.seg_step[p.nseg++] = -1;
            skip = -1;
        }
        p.seg_start[p.nseg] = (uint32_t)(e->off - lo), p.seg_step[p.nseg++] = id;
        p.n = e->off + e->numel - lo;
    }
    free(got);
    return g->err[0] ? -1 : 0;
}

/* One EMA node over [lo, hi) of the parameter region (several tensors and
 * the zero padding between them, which stays zero). */
static void ema_span(vkm_graph *g, int64_t lo, int64_t hi, float decay) {
    vkm_t p = region_span(g, W_VALUE, lo, hi), em = region_span(g, W_EMA, lo, hi);
    vkm_node *n = new_node(g, N_EMA, 0);
    if (!n || !p || !em) return;
    n->p.ema = (vkm_ema_p){hi - lo, decay};
    n->in[0] = p;
    n->out[0] = em;
    n->flops = 3.0 * (double)(hi - lo);
}

int vkm_g_ema(vkm_graph *g, float decay) {
    /* parameters lie in store order in their region: every run of
     * consecutive EMA parameters is one dispatch instead of one per tensor */
    int64_t lo = -1, hi = -1;
    for (int id = 0; id < g->st->n && !g->err[0]; id++) {
        const vkm_store_entry *e = &g->st->e[id];
        if (e->kind != VKM_S_PARAM) continue;
        if (!e->ema) {
            if (lo >= 0) ema_span(g, lo, hi, decay);
            lo = -1;
            continue;
        }
        if (lo >= 0 && e->off + e->numel - lo > VKM_SPAN_MAX) { /* within one storage binding */
            ema_span(g, lo, hi, decay);
            lo = -1;
        }
        if (lo < 0) lo = e->off;
        hi = e->off + e->numel;
    }
    if (lo >= 0) ema_span(g, lo, hi, decay);
    return g->err[0] ? -1 : 0;
}

static int by_grad_off(const void *a, const void *b, void *u) {
    const vkm_store *st = u;
    int64_t x = st->e[*(const int *)a].grad_off, y = st->e[*(const int *)b].grad_off;
    return (x > y) - (x < y);
}

int vkm_g_host_sync(vkm_graph *g, int sync_id) {
    if (g->err[0]) return -1;
    if (!g->grad_params || !g->ngrad_params) {
        gfail(g, "host sync: no vkm_g_backward gave parameters a gradient before it");
        return -1;
    }
    int k = g->ngrad_params;
    int *ids = malloc((size_t)k * sizeof *ids);
    int64_t(*runs)[2] = realloc(g->sync_runs, (size_t)(g->nsync_runs + k) * sizeof *runs);
    if (runs) g->sync_runs = runs;
    if (!ids || !runs) {
        free(ids);
        gfail(g, "out of host memory");
        return -1;
    }
    memcpy(ids, g->grad_params, (size_t)k * sizeof *ids);
    qsort_r(ids, (size_t)k, sizeof *ids, by_grad_off, g->st);
    /* one range per parameter: the executor groups them (graph_sync.c) */
    int first = g->nsync_runs;
    for (int i = 0; i < k; i++) {
        const vkm_store_entry *e = &g->st->e[ids[i]];
        g->sync_runs[g->nsync_runs][0] = e->grad_off, g->sync_runs[g->nsync_runs++][1] = e->grad_off + e->numel;
    }
    free(ids);
    vkm_node *n = new_node(g, N_HOST_SYNC, 0);
    if (!n) return -1;
    n->p.sync.id = sync_id, n->p.sync.first = first, n->p.sync.count = g->nsync_runs - first;
    n->p.sync.bwd_first = g->bwd_first;
    return 0;
}

int vkm_g_updated_params(const vkm_graph *g, const int **ids) {
    *ids = g->updated;
    return g->nupdated;
}
