/* Conformance rows of the conv family: conv2d and its backwards (K 1/3/4,
 * pad 0/1, with and without bias, odd shapes and shapes spanning several
 * register tiles and workgroups in every dimension), gemm (all transposes,
 * alpha, bias), the linear launchers and the high-pass filter, each against
 * runtime/ref, with acc = 1 cases and operands at unaligned float offsets. */
#include <stdlib.h>
#include <string.h>
#include "runtime/conform/conform.h"
#include "runtime/ops/ops_conv.h"
#include "runtime/ref/ref_conv.h"

/* ---- operands: host copy + guarded device tensor, freed together -------- */
/* Every operand sits `off` floats into its device tensor (0 or 1: the
 * launchers must handle unaligned offsets); the leading floats hold a known
 * value that outputs must leave alone. */
#define CV_MAX 8
typedef struct {
    double *h;       /* host values, off leading + n */
    double *v;       /* h + off: what the reference sees */
    conf_tensor t;
    size_t n;
} cv_op;
typedef struct {
    vkm_ctx *ctx;
    conf_result *r;
    int off;
    cv_op op[CV_MAX];
    int nop;
} cv_set;

/* A normal-filled operand of n floats (also used to pre-fill outputs for acc). */
static cv_op *cv_new(cv_set *S, conf_rng *rng, size_t n) {
    if (S->r->failed || S->nop == CV_MAX) return NULL;
    cv_op *o = &S->op[S->nop];
    memset(o, 0, sizeof *o);
    o->n = n;
    o->h = malloc((n + (size_t)S->off) * sizeof *o->h);
    if (!o->h) { conf_fail(S->r, "out of host memory"); return NULL; }
    conf_fill_normal(rng, o->h, n + (size_t)S->off, 1.0);
    o->v = o->h + S->off;
    if (conf_tensor_new(S->ctx, n + (size_t)S->off, &o->t) || conf_upload(S->ctx, &o->t, o->h)) {
        conf_fail(S->r, "allocating %zu floats: %s", n, vkm_error(S->ctx));
        free(o->h);
        return NULL;
    }
    S->nop++;
    return o;
}

static vkm_buf cv_buf(const cv_set *S, const cv_op *o) {
    return vkm_sub(o->t.data, (uint64_t)S->off * 4, o->n * 4);
}

static void cv_free(cv_set *S) {
    for (int i = 0; i < S->nop; i++) {
        free(S->op[i].h);
        conf_tensor_free(S->ctx, &S->op[i].t);
    }
    S->nop = 0;
}

static int cv_submit(cv_set *S, vkm_seq *s, int rc, const char *op) {
    vkm_ctx *ctx = S->ctx;
    if (rc) conf_fail(S->r, "%s: launcher failed (%s)", op, vkm_error(ctx));
    else if (vkm_seq_end(s) || vkm_seq_submit(s)) {
        conf_fail(S->r, "%s: submit failed: %s", op, vkm_error(ctx));
        rc = -1;
    }
    vkm_seq_destroy(s);
    return rc;
}

static void cv_check(cv_set *S, const char *what, cv_op *o, double lim) {
    if (!S->r->failed) conf_check(S->ctx, S->r, what, &o->t, o->h, lim);
}

/* ---- conv2d ------------------------------------------------------------- */
enum { CV_FWD, CV_DATA, CV_FILTER, CV_BIAS };

/* B, Cin, H, W, Cout, K, pad, bias: odd sizes, 1-pixel maps, the style
 * encoder's valid 4x4 on a 4x4 map, 1-channel inputs/outputs (the image
 * convs: their own tile variants), and shapes spanning several tiles and
 * workgroups in every dimension (forward: > 8 output channels and > 64
 * segments of 8 pixels; bwd_filter: > 8 input channels (> 64 for K=1),
 * > 8 output channels and > 8 rows). */
static const vkm_conv2d_p conv_cases[] = {
    {1, 1, 1, 1, 1, 3, 1, 1, 0, 0, 0},   {2, 3, 7, 13, 5, 3, 1, 1, 0, 0, 0},  {2, 13, 33, 33, 13, 3, 1, 1, 0, 0, 0},
    {2, 7, 4, 4, 9, 4, 0, 1, 0, 0, 0},   {1, 70, 5, 3, 3, 1, 0, 0, 0, 0, 0},  {2, 9, 6, 5, 17, 1, 0, 0, 0, 0, 0},
    {1, 3, 9, 17, 2, 3, 0, 0, 0, 0, 0},  {1, 2, 5, 6, 3, 4, 1, 0, 0, 0, 0},   {2, 33, 3, 1, 10, 3, 1, 1, 0, 0, 0},
    {2, 5, 20, 37, 1, 3, 1, 1, 0, 0, 0}, {2, 1, 19, 40, 6, 3, 1, 1, 0, 0, 0}, /* image-channel convs */
    {1, 20, 4, 4, 33, 4, 0, 0, 0, 0, 0}, {2, 3, 3, 3, 5, 3, 0, 1, 0, 0, 0},   /* whole-map filters (GEMM) */
    /* rows a multiple of 4 wide (vec4 row loads, shaders/conv_igemm.glsl
     * XMIS): the segment's start at every offset within its vec4 (forward
     * pad 1 / 2 / 0 / 3, backward-data pad 1 / 3 / 2 / 0), several 16-pixel
     * segments; each at offset 0 (every third case runs at offset 1: the
     * small fillers between them) */
    {1, 6, 5, 36, 18, 3, 1, 1, 0, 0, 0}, {2, 3, 6, 10, 4, 3, 1, 0, 0, 0, 0},  {2, 6, 9, 12, 7, 4, 2, 1, 0, 0, 0},
    {2, 5, 7, 11, 6, 4, 0, 1, 0, 0, 0},  {1, 2, 3, 12, 3, 3, 1, 1, 0, 0, 0},  {1, 4, 6, 13, 7, 4, 1, 0, 0, 0, 0},
    {2, 9, 6, 8, 17, 1, 0, 1, 0, 0, 0},  {1, 3, 2, 5, 2, 3, 1, 0, 0, 0, 0},   {1, 3, 5, 8, 4, 4, 3, 1, 0, 0, 0},
};
/* the fused 2x2 mean (pool: forward and every backward): even and odd
 * (floored) outputs, rows of 16 / 8 / 4 / 1 pooled pixels, K 1/3/4, the down
 * blocks' 64x64 map, outputs a single pooled pixel wide */
static const vkm_conv2d_p pool_cases[] = {
    {2, 5, 10, 14, 19, 3, 1, 1, 0, 1, 0}, {1, 3, 9, 13, 7, 3, 1, 0, 0, 1, 0},  {2, 16, 64, 64, 16, 3, 1, 1, 0, 1, 0},
    {1, 2, 5, 6, 3, 4, 1, 0, 0, 1, 0},    {2, 4, 8, 7, 3, 1, 0, 1, 0, 1, 0},   {2, 7, 3, 3, 5, 3, 1, 1, 0, 1, 0},
    {1, 9, 16, 40, 17, 3, 1, 1, 0, 1, 0}, {2, 1, 33, 35, 6, 3, 1, 1, 0, 1, 0}, {1, 6, 4, 5, 1, 3, 0, 1, 0, 1, 0},
};
/* conv of the nearest-upsampled input (up; H, W are the upsampled sizes):
 * stored maps of 1x1 up, rows of every tile width, K 1/3/4, a single output
 * channel, the decoder's 16 -> 32 map */
static const vkm_conv2d_p up_cases[] = {
    {2, 5, 8, 14, 19, 3, 1, 1, 0, 0, 1}, {1, 3, 4, 6, 7, 3, 1, 0, 0, 0, 1},   {2, 16, 32, 32, 8, 3, 1, 1, 0, 0, 1},
    {1, 2, 6, 4, 3, 4, 1, 0, 0, 0, 1},   {2, 4, 2, 2, 3, 3, 1, 1, 0, 0, 1},   {1, 9, 16, 36, 17, 3, 1, 1, 0, 0, 1},
    {2, 6, 10, 8, 1, 3, 1, 1, 0, 0, 1},  {1, 4, 8, 8, 5, 1, 0, 0, 0, 0, 1},   {1, 3, 4, 4, 2, 3, 0, 1, 0, 0, 1},
};
#define CONV_RANDOM 2

static void conv_case(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int which,
                      vkm_conv2d_p p, int off) {
    static const char *names[] = {"conv2d", "conv2d_bwd_data", "conv2d_bwd_filter", "conv2d_bwd_bias"};
    cv_set S = {ctx, r, off, {{0}}, 0};
    size_t nx = (size_t)vkm_conv2d_nx(&p), nw = (size_t)vkm_conv2d_nw(&p), ny = (size_t)vkm_conv2d_ny(&p);
    vkm_seq *s = NULL;
    if (vkm_seq_begin(ctx, 0, &s)) {
        conf_fail(r, "vkm_seq_begin: %s", vkm_error(ctx));
        return;
    }
    int rc = -1;
    cv_op *x, *w, *b, *y, *dw, *db;
    switch (which) {
    case CV_FWD:
        x = cv_new(&S, rng, nx), w = cv_new(&S, rng, nw), b = cv_new(&S, rng, p.Cout);
        y = cv_new(&S, rng, ny);
        if (!y) break;
        rc = vkm_op_conv2d(s, &p, cv_buf(&S, x), cv_buf(&S, w), cv_buf(&S, b), cv_buf(&S, y));
        ref_conv2d(&p, x->v, w->v, b->v, y->v);
        break;
    case CV_DATA: /* y = dy, x = dx */
        y = cv_new(&S, rng, ny), w = cv_new(&S, rng, nw), x = cv_new(&S, rng, nx);
        if (!x) break;
        rc = vkm_op_conv2d_bwd_data(s, &p, cv_buf(&S, y), cv_buf(&S, w), cv_buf(&S, x));
        ref_conv2d_bwd_data(&p, y->v, w->v, x->v);
        break;
    case CV_FILTER:
        x = cv_new(&S, rng, nx), y = cv_new(&S, rng, ny), dw = cv_new(&S, rng, nw);
        db = cv_new(&S, rng, p.Cout);
        if (!db) break;
        rc = vkm_op_conv2d_bwd_filter(s, &p, cv_buf(&S, x), cv_buf(&S, y), cv_buf(&S, dw),
                                      p.bias ? cv_buf(&S, db) : (vkm_buf){0});
        ref_conv2d_bwd_filter(&p, x->v, y->v, dw->v, db->v);
        break;
    default:
        y = cv_new(&S, rng, ny), db = cv_new(&S, rng, p.Cout);
        if (!db) break;
        rc = vkm_op_conv2d_bwd_bias(s, &p, cv_buf(&S, y), cv_buf(&S, db));
        ref_conv2d_bwd_bias(&p, y->v, db->v);
        break;
    }
    if (cv_submit(&S, s, rc, names[which]) == 0) {
        char what[160];
        snprintf(what, sizeof what, "%s B%d Cin%d %dx%d Cout%d K%d pad%d bias%d acc%d off%d%s",
                 names[which], p.B, p.Cin, p.H, p.W, p.Cout, p.K, p.pad, p.bias, p.acc, off,
                 p.pool ? " pool" : p.up ? " up" : "");
        /* the output is the last operand; bwd_filter's dw the one before db */
        cv_check(&S, what, &S.op[which == CV_FILTER ? 2 : S.nop - 1], lim);
        if (which == CV_FILTER && p.bias) cv_check(&S, what, &S.op[3], lim);
        r->cases++;
    }
    cv_free(&S);
}

static void conv_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int which) {
    int nfix = (int)(sizeof conv_cases / sizeof conv_cases[0]);
    int npool = (int)(sizeof pool_cases / sizeof pool_cases[0]) + CONV_RANDOM;
    int nup = (int)(sizeof up_cases / sizeof up_cases[0]);
    for (int c = 0; c < nfix + CONV_RANDOM + npool + nup && !r->failed; c++) {
        vkm_conv2d_p p;
        int pc = c - nfix - CONV_RANDOM;   /* >= 0: a pooled case, then an up case */
        if (c < nfix) {
            p = conv_cases[c];
        } else if (pc >= npool) {
            p = up_cases[pc - npool];
        } else if (pc >= 0 && pc < npool - CONV_RANDOM) {
            p = pool_cases[pc];
        } else {
            static const int ks[] = {1, 3, 4};
            p.K = ks[conf_int(rng, 0, 2)];
            p.pad = conf_int(rng, 0, p.K - 1 < 1 ? p.K - 1 : 1);
            p.B = conf_int(rng, 1, 2), p.Cin = conf_int(rng, 1, 20), p.Cout = conf_int(rng, 1, 20);
            p.H = conf_int(rng, p.K - 2 * p.pad, 20), p.W = conf_int(rng, p.K - 2 * p.pad, 20);
            if (p.H < 1) p.H = 1;
            if (p.W < 1) p.W = 1;
            p.bias = conf_int(rng, 0, 1);
            p.pool = 0, p.up = 0;
            if (pc >= 0) {   /* a random pooled case: at least a 2x2 conv output */
                p.pool = 1;
                p.H += 2, p.W += 2;
            }
        }
        if (which == CV_BIAS) p.bias = 1;
        p.acc = c & 1;
        conv_case(ctx, rng, lim, r, which, p, c % 3 == 2);
    }
}

void conf_row_conv2d(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    conv_row(ctx, rng, lim, r, CV_FWD);
}
void conf_row_conv2d_bwd_data(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    conv_row(ctx, rng, lim, r, CV_DATA);
}
void conf_row_conv2d_bwd_filter(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    conv_row(ctx, rng, lim, r, CV_FILTER);
}
void conf_row_conv2d_bwd_bias(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    conv_row(ctx, rng, lim, r, CV_BIAS);
}

/* ---- gemm and linear ---------------------------------------------------- */
enum { GM_GEMM, GM_LINEAR, GM_LIN_DATA, GM_LIN_WEIGHT };

/* M/B, N/out, K/in: odd sizes, single rows, and > 8 rows x > 512 columns
 * (several tiles and workgroups in both dimensions); then multiples of 4
 * (vec4 fetches along k, m and n in shaders/gemm.comp; 4-, 8- and 16-row
 * tiles, a partial last column segment), every variant. */
static const int gemm_shapes[][3] = {{1, 1, 1},   {3, 7, 13},  {13, 33, 5}, {17, 530, 9}, {9, 3, 70},
                                     {8, 36, 20}, {12, 20, 16}, {4, 16, 8}};
#define GEMM_RANDOM 2

static void gemm_case(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int which,
                      const int *shape, int variant, int off) {
    static const char *names[] = {"gemm", "linear", "linear_bwd_data", "linear_bwd_weight"};
    cv_set S = {ctx, r, off, {{0}}, 0};
    vkm_seq *s = NULL;
    if (vkm_seq_begin(ctx, 0, &s)) {
        conf_fail(r, "vkm_seq_begin: %s", vkm_error(ctx));
        return;
    }
    int rc = -1, nout = 1;
    char what[160];
    cv_op *a, *b, *bias, *c, *d;
    if (which == GM_GEMM) {
        vkm_gemm_p p = {shape[0], shape[1], shape[2], variant & 1, (variant >> 1) & 1,
                        (variant >> 2) & 1, (variant >> 3) & 1, variant & 1 ? 0.5f : 1.0f};
        a = cv_new(&S, rng, (size_t)p.M * p.K), b = cv_new(&S, rng, (size_t)p.K * p.N);
        bias = cv_new(&S, rng, p.N), c = cv_new(&S, rng, (size_t)p.M * p.N);
        if (c) {
            rc = vkm_op_gemm(s, &p, cv_buf(&S, a), cv_buf(&S, b), cv_buf(&S, bias), cv_buf(&S, c));
            ref_gemm(&p, a->v, b->v, bias->v, c->v);
        }
        snprintf(what, sizeof what, "gemm M%d N%d K%d ta%d tb%d bias%d acc%d off%d", p.M, p.N, p.K,
                 p.ta, p.tb, p.bias, p.acc, off);
    } else {
        vkm_linear_p p = {shape[0], shape[2], shape[1], variant & 1, (variant >> 1) & 1};
        size_t nx = (size_t)p.B * p.in, nw = (size_t)p.out * p.in, ny = (size_t)p.B * p.out;
        if (which == GM_LINEAR) {
            a = cv_new(&S, rng, nx), b = cv_new(&S, rng, nw), bias = cv_new(&S, rng, p.out);
            c = cv_new(&S, rng, ny);
            if (c) {
                rc = vkm_op_linear(s, &p, cv_buf(&S, a), cv_buf(&S, b), cv_buf(&S, bias), cv_buf(&S, c));
                ref_linear(&p, a->v, b->v, bias->v, c->v);
            }
        } else if (which == GM_LIN_DATA) {
            a = cv_new(&S, rng, ny), b = cv_new(&S, rng, nw), c = cv_new(&S, rng, nx);
            if (c) {
                rc = vkm_op_linear_bwd_data(s, &p, cv_buf(&S, a), cv_buf(&S, b), cv_buf(&S, c));
                ref_linear_bwd_data(&p, a->v, b->v, c->v);
            }
        } else {
            a = cv_new(&S, rng, nx), b = cv_new(&S, rng, ny), c = cv_new(&S, rng, nw);
            d = cv_new(&S, rng, p.out);
            if (d) {
                rc = vkm_op_linear_bwd_weight(s, &p, cv_buf(&S, a), cv_buf(&S, b), cv_buf(&S, c),
                                              p.bias ? cv_buf(&S, d) : (vkm_buf){0});
                ref_linear_bwd_weight(&p, a->v, b->v, c->v, d->v);
                nout = p.bias ? 2 : 1;
            }
        }
        snprintf(what, sizeof what, "%s B%d in%d out%d bias%d acc%d off%d", names[which], p.B,
                 p.in, p.out, p.bias, p.acc, off);
    }
    if (cv_submit(&S, s, rc, names[which]) == 0) {
        int first = which == GM_LIN_WEIGHT ? 2 : S.nop - 1;
        for (int o = 0; o < nout; o++) cv_check(&S, what, &S.op[first + o], lim);
        r->cases++;
    }
    cv_free(&S);
}

static void gemm_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int which) {
    int nfix = (int)(sizeof gemm_shapes / sizeof gemm_shapes[0]);
    /* gemm: every (ta, tb) pair with bias/acc/alpha toggled; linear: bias/acc */
    int nvar = which == GM_GEMM ? 16 : 4;
    for (int c = 0; c < nfix + GEMM_RANDOM && !r->failed; c++) {
        int shape[3];
        if (c < nfix) memcpy(shape, gemm_shapes[c], sizeof shape);
        else shape[0] = conf_int(rng, 1, 40), shape[1] = conf_int(rng, 1, 80), shape[2] = conf_int(rng, 1, 40);
        /* all variants on the small shapes and the multiples of 4 */
        int variants = c == 0 || c == 1 || (c < nfix && shape[0] % 4 == 0 && shape[1] % 4 == 0 && shape[2] % 4 == 0)
                           ? nvar : 2;
        for (int v = 0; v < variants && !r->failed; v++) {
            int var = variants == nvar ? v : conf_int(rng, 0, nvar - 1);
            gemm_case(ctx, rng, lim, r, which, shape, var, (c + v) % 3 == 2);
        }
    }
}

void conf_row_gemm(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    gemm_row(ctx, rng, lim, r, GM_GEMM);
}
void conf_row_linear(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    gemm_row(ctx, rng, lim, r, GM_LINEAR);
}
void conf_row_linear_bwd_data(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    gemm_row(ctx, rng, lim, r, GM_LIN_DATA);
}
void conf_row_linear_bwd_weight(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    gemm_row(ctx, rng, lim, r, GM_LIN_WEIGHT);
}

/* ---- hpf ----------------------------------------------------------------- */
static void hpf_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int bwd) {
    /* B, C, H, W: single pixels, odd sizes, > 64 pixels per plane; rows a
     * multiple of 4 wide (4 pixels per invocation: several vec4s per row, one
     * row, one vec4 per row) at offset 0, with a filler between */
    static const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 7, 5},  {1, 2, 1, 9}, {2, 5, 17, 13},
                                    {2, 3, 9, 12}, {1, 1, 2, 3}, {1, 2, 1, 8}, {1, 3, 20, 4}};
    int nfix = (int)(sizeof shapes / sizeof shapes[0]);
    for (int c = 0; c < nfix + 2 && !r->failed; c++) {
        vkm_hpf_p p;
        if (c < nfix) p = (vkm_hpf_p){shapes[c][0], shapes[c][1], shapes[c][2], shapes[c][3], 1.0f, 0};
        else p = (vkm_hpf_p){conf_int(rng, 1, 2), conf_int(rng, 1, 6), conf_int(rng, 1, 30),
                             conf_int(rng, 1, 30), 0.75f, 0};
        p.acc = c & 1;
        int off = c % 3 == 2;
        cv_set S = {ctx, r, off, {{0}}, 0};
        size_t n = (size_t)p.B * p.C * p.H * p.W;
        vkm_seq *s = NULL;
        if (vkm_seq_begin(ctx, 0, &s)) {
            conf_fail(r, "vkm_seq_begin: %s", vkm_error(ctx));
            return;
        }
        cv_op *x = cv_new(&S, rng, n), *y = cv_new(&S, rng, n);
        int rc = -1;
        if (y) {
            rc = bwd ? vkm_op_hpf_bwd(s, &p, cv_buf(&S, x), cv_buf(&S, y))
                     : vkm_op_hpf(s, &p, cv_buf(&S, x), cv_buf(&S, y));
            if (bwd) ref_hpf_bwd(&p, x->v, y->v);
            else ref_hpf(&p, x->v, y->v);
        }
        if (cv_submit(&S, s, rc, bwd ? "hpf_bwd" : "hpf") == 0) {
            char what[96];
            snprintf(what, sizeof what, "%s B%d C%d %dx%d acc%d off%d", bwd ? "hpf_bwd" : "hpf", p.B,
                     p.C, p.H, p.W, p.acc, off);
            cv_check(&S, what, y, lim);
            r->cases++;
        }
        cv_free(&S);
    }
}

void conf_row_hpf(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { hpf_row(ctx, rng, lim, r, 0); }
void conf_row_hpf_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { hpf_row(ctx, rng, lim, r, 1); }
