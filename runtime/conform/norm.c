/* Conformance rows of the norm family: instnorm / instnorm_bwd (all modes,
 * with and without the fused activation, AdaIN gamma/beta packed in one
 * buffer at unaligned offsets), act / act_bwd, avgpool2 / avgpool2_bwd,
 * upsample2 / upsample2_bwd, each against runtime/ref over odd and
 * multi-workgroup shapes, with acc = 1 cases. */
#include <stdlib.h>
#include <string.h>
#include "runtime/conform/conform.h"
#include "runtime/ops/ops_norm.h"
#include "runtime/ref/ref_norm.h"

/* ---- small helpers: host arrays and device tensors freed together ------- */
#define NC_MAX 12
typedef struct {
    vkm_ctx *ctx;
    double *h[NC_MAX];
    int nh;
    conf_tensor t[NC_MAX];
    int nt;
} nc_pool;

static double *nc_host(nc_pool *P, size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (p) P->h[P->nh++] = p;
    return p;
}

/* A device tensor holding src (NULL: left at the sentinel). */
static conf_tensor *nc_dev(nc_pool *P, conf_result *r, size_t n, const double *src) {
    conf_tensor *t = &P->t[P->nt];
    if (conf_tensor_new(P->ctx, n, t)) {
        conf_fail(r, "allocating %zu floats: %s", n, vkm_error(P->ctx));
        return NULL;
    }
    P->nt++;
    if (src && conf_upload(P->ctx, t, src)) {
        conf_fail(r, "upload: %s", vkm_error(P->ctx));
        return NULL;
    }
    return t;
}

static void nc_free(nc_pool *P) {
    for (int i = 0; i < P->nh; i++) free(P->h[i]);
    for (int i = 0; i < P->nt; i++) conf_tensor_free(P->ctx, &P->t[i]);
    P->nh = P->nt = 0;
}

static double *nc_copy(nc_pool *P, const double *src, size_t n) {
    double *p = nc_host(P, n);
    if (p) memcpy(p, src, n * sizeof *p);
    return p;
}

/* Normal values (rounded to float) plus shift. */
static double *nc_normal(nc_pool *P, conf_rng *rng, size_t n, double std, double shift) {
    double *p = nc_host(P, n);
    if (!p) return NULL;
    conf_fill_normal(rng, p, n, std);
    for (size_t i = 0; i < n; i++) p[i] += shift;
    conf_round_f32(p, n);
    return p;
}

static int nc_begin(vkm_ctx *ctx, conf_result *r, vkm_seq **s) {
    if (vkm_seq_begin(ctx, 0, s)) {
        conf_fail(r, "vkm_seq_begin: %s", vkm_error(ctx));
        return -1;
    }
    return 0;
}

/* Ends, submits and destroys s; rc is the launcher's result. */
static int nc_finish(vkm_ctx *ctx, conf_result *r, vkm_seq *s, int rc, const char *op) {
    if (rc) {
        conf_fail(r, "%s: launcher failed (%s)", op, vkm_error(ctx));
    } else if (vkm_seq_end(s) || vkm_seq_submit(s)) {
        conf_fail(r, "%s: submit failed: %s", op, vkm_error(ctx));
        rc = -1;
    }
    vkm_seq_destroy(s);
    return rc;
}

/* ---- instance norm ------------------------------------------------------ */
#define IN_CASES 10

/* Case cs: shape, mode, fused activation, acc; shift offsets x (variance
 * robustness). Modes cycle with cs % 3, acc with cs % 2. Planes of 1 pixel,
 * odd sizes (scalar path), multiples of 4 (vec4 path), planes larger than a
 * workgroup's lanes, a 256x256 plane, and more than 65535 planes (2-D grid). */
static void in_case(conf_rng *rng, int cs, vkm_instnorm_p *p, double *shift) {
    static const int fixed[IN_CASES][3] = {
        {1, 1, 1}, {2, 3, 3}, {2, 3, 35}, {0, 0, 0}, {0, 0, 0},
        {1, 2, 33 * 33}, {2, 2, 64 * 64}, {1, 1, 256 * 256}, {3, 5, 13 * 13}, {2, 33000, 3}};
    memset(p, 0, sizeof *p);
    p->B = fixed[cs][0] ? fixed[cs][0] : conf_int(rng, 1, 3);
    p->C = fixed[cs][1] ? fixed[cs][1] : conf_int(rng, 1, 9);
    p->HW = fixed[cs][2] ? fixed[cs][2] : conf_int(rng, 1, 19) * conf_int(rng, 1, 19);
    p->mode = cs % 3;
    p->gstride = 2 * p->C + (cs % 2);
    p->eps = 1e-5f;
    p->acc = p->acc_param = cs % 2;
    p->act = (cs % 4) >= 2;
    p->slope = cs == 6 ? 0.0f : 0.2f;
    *shift = cs == 7 ? 50.0 : cs == 4 ? -3.0 : 0.0;
}

/* gamma at 0 and beta at +C of one packed buffer: elements needed. */
static size_t in_ngb(const vkm_instnorm_p *p) {
    if (p->mode == VKM_NORM_NONE) return 0;
    return p->mode == VKM_NORM_ADAIN ? (size_t)(p->B - 1) * p->gstride + 2 * (size_t)p->C : 2 * (size_t)p->C;
}

/* gamma / beta views of the packed buffer (beta at a float offset that is
 * generally not storage-buffer aligned). */
static void in_views(const vkm_instnorm_p *p, conf_tensor *gb, vkm_buf *g, vkm_buf *b) {
    if (!gb) {
        memset(g, 0, sizeof *g);
        memset(b, 0, sizeof *b);
        return;
    }
    size_t np = in_ngb(p) - (size_t)p->C;
    *g = vkm_sub(gb->data, 0, np * 4);
    *b = vkm_sub(gb->data, (uint64_t)p->C * 4, np * 4);
}

void conf_row_instnorm(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    nc_pool P = {.ctx = ctx};
    for (int cs = 0; cs < IN_CASES && !r->failed; cs++, nc_free(&P)) {
        vkm_instnorm_p p;
        double shift;
        in_case(rng, cs, &p, &shift);
        const size_t n = (size_t)p.B * p.C * p.HW, planes = (size_t)p.B * p.C, ngb = in_ngb(&p);
        double *x = nc_normal(&P, rng, n, 1.5, shift);
        double *gb = nc_normal(&P, rng, ngb, 0.5, 0);
        double *y0 = nc_normal(&P, rng, n, 1.0, 0);
        double *m = nc_host(&P, planes), *rs = nc_host(&P, planes);
        double *y = y0 ? nc_copy(&P, y0, n) : NULL;
        if (!x || !gb || !y0 || !m || !rs || !y) { conf_fail(r, "out of host memory"); break; }
        if (p.mode == VKM_NORM_AFFINE)
            for (int c = 0; c < p.C; c++) gb[c] += 1.0;
        ref_instnorm(&p, x, gb, gb + p.C, y, m, rs);

        conf_tensor *tx = nc_dev(&P, r, n, x), *tgb = ngb ? nc_dev(&P, r, ngb, gb) : NULL;
        conf_tensor *ty = nc_dev(&P, r, n, p.acc ? y0 : NULL);
        conf_tensor *tm = nc_dev(&P, r, planes, NULL), *tr = nc_dev(&P, r, planes, NULL);
        if (r->failed) break;
        vkm_buf g, b;
        in_views(&p, tgb, &g, &b);
        vkm_seq *s;
        if (nc_begin(ctx, r, &s)) break;
        int rc = vkm_op_instnorm(s, &p, tx->data, g, b, ty->data, tm->data, tr->data);
        if (nc_finish(ctx, r, s, rc, "instnorm")) break;
        if (conf_check(ctx, r, "y", ty, y, lim) || conf_check(ctx, r, "mean", tm, m, lim) ||
            conf_check(ctx, r, "rstd", tr, rs, lim))
            break;
        r->cases++;
    }
    nc_free(&P);
}

void conf_row_instnorm_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    nc_pool P = {.ctx = ctx};
    for (int cs = 0; cs < IN_CASES && !r->failed; cs++, nc_free(&P)) {
        vkm_instnorm_p p;
        double shift;
        in_case(rng, cs, &p, &shift);
        const size_t n = (size_t)p.B * p.C * p.HW, planes = (size_t)p.B * p.C, ngb = in_ngb(&p);
        double *x = nc_normal(&P, rng, n, 1.5, shift);
        double *gb = nc_normal(&P, rng, ngb, 0.5, 0);
        double *dy = nc_normal(&P, rng, n, 1.0, 0);
        double *dx0 = nc_normal(&P, rng, n, 1.0, 0);
        double *dgb0 = nc_normal(&P, rng, ngb, 1.0, 0);
        double *m = nc_host(&P, planes), *rs = nc_host(&P, planes), *tmp = nc_host(&P, n);
        if (!x || !gb || !dy || !dx0 || !dgb0 || !m || !rs || !tmp) { conf_fail(r, "out of host memory"); break; }
        if (p.mode == VKM_NORM_AFFINE)
            for (int c = 0; c < p.C; c++) gb[c] += 1.0;
        /* mean / rstd as the device would hold them (float) */
        vkm_instnorm_p pf = p;
        pf.acc = 0;
        ref_instnorm(&pf, x, gb, gb + p.C, tmp, m, rs);
        conf_round_f32(m, planes);
        conf_round_f32(rs, planes);
        double *dx = nc_copy(&P, dx0, n), *dgb = nc_copy(&P, dgb0, ngb);
        if (!dx || !dgb) { conf_fail(r, "out of host memory"); break; }
        ref_instnorm_bwd(&p, x, m, rs, gb, gb + p.C, dy, dx, dgb, dgb + p.C);

        conf_tensor *tx = nc_dev(&P, r, n, x), *tgb = ngb ? nc_dev(&P, r, ngb, gb) : NULL;
        conf_tensor *tm = nc_dev(&P, r, planes, m), *tr = nc_dev(&P, r, planes, rs);
        conf_tensor *tdy = nc_dev(&P, r, n, dy), *tdx = nc_dev(&P, r, n, p.acc ? dx0 : NULL);
        conf_tensor *tdgb = ngb ? nc_dev(&P, r, ngb, dgb0) : NULL;
        if (r->failed) break;
        vkm_buf g, b, dg, db;
        in_views(&p, tgb, &g, &b);
        in_views(&p, tdgb, &dg, &db);
        vkm_seq *s;
        if (nc_begin(ctx, r, &s)) break;
        int rc = vkm_op_instnorm_bwd(s, &p, tx->data, tm->data, tr->data, g, b, tdy->data, tdx->data, dg, db);
        if (nc_finish(ctx, r, s, rc, "instnorm_bwd")) break;
        if (conf_check(ctx, r, "dx", tdx, dx, lim)) break;
        if (tdgb && conf_check(ctx, r, "dgamma/dbeta", tdgb, dgb, lim)) break;
        r->cases++;
    }
    nc_free(&P);
}

/* ---- activation --------------------------------------------------------- */
static void act_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int bwd) {
    /* 0: random; the rest: tails of 0..3, one and several workgroups. */
    static const int64_t sizes[] = {1, 3, 4, 7, 13, 33, 0, 2053, 70001, 0};
    nc_pool P = {.ctx = ctx};
    const int ncase = (int)(sizeof sizes / sizeof sizes[0]);
    for (int cs = 0; cs < ncase && !r->failed; cs++, nc_free(&P)) {
        vkm_act_p p = {.n = sizes[cs] ? sizes[cs] : conf_int(rng, 1, 5000), .slope = cs % 3 ? 0.2f : 0.0f,
                       .acc = cs % 2};
        const size_t n = (size_t)p.n;
        double *x = nc_normal(&P, rng, n, 1.0, 0), *dy = nc_normal(&P, rng, n, 1.0, 0);
        double *o0 = nc_normal(&P, rng, n, 1.0, 0), *o = o0 ? nc_copy(&P, o0, n) : NULL;
        if (!x || !dy || !o0 || !o) { conf_fail(r, "out of host memory"); break; }
        if (cs == 3) x[0] = 0;  /* the derivative at 0 is the slope */
        if (bwd) ref_act_bwd(&p, x, dy, o);
        else ref_act(&p, x, o);
        conf_tensor *tx = nc_dev(&P, r, n, x), *tdy = bwd ? nc_dev(&P, r, n, dy) : NULL;
        conf_tensor *to = nc_dev(&P, r, n, p.acc ? o0 : NULL);
        if (r->failed) break;
        vkm_seq *s;
        if (nc_begin(ctx, r, &s)) break;
        int rc = bwd ? vkm_op_act_bwd(s, &p, tx->data, tdy->data, to->data) : vkm_op_act(s, &p, tx->data, to->data);
        if (nc_finish(ctx, r, s, rc, bwd ? "act_bwd" : "act")) break;
        if (conf_check(ctx, r, bwd ? "dx" : "y", to, o, lim)) break;
        r->cases++;
    }
    nc_free(&P);
}

void conf_row_act(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    act_row(ctx, rng, lim, r, 0);
}
void conf_row_act_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    act_row(ctx, rng, lim, r, 1);
}

/* ---- 2x resampling ------------------------------------------------------ */
typedef struct {
    const char *name;
    int in_coarse; /* input is the coarse side (H/2 or H), output the fine one */
    int (*launch)(vkm_seq *, const vkm_resample_p *, vkm_buf, vkm_buf);
    void (*ref)(const vkm_resample_p *, const double *, double *);
    int up;       /* the op's fine side is 2H x 2W (upsample) rather than H x W */
} rs_op;

static void rs_sizes(const rs_op *o, const vkm_resample_p *p, size_t *nin, size_t *nout) {
    const size_t planes = (size_t)p->B * p->C;
    const size_t fine = o->up ? 4 * (size_t)p->H * p->W : (size_t)p->H * p->W;
    const size_t coarse = o->up ? (size_t)p->H * p->W : (size_t)(p->H / 2) * (p->W / 2);
    *nin = planes * (o->in_coarse ? coarse : fine);
    *nout = planes * (o->in_coarse ? fine : coarse);
}

static void rs_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, const rs_op *o) {
    /* B, C and the fine side's H, W (0: random); upsample ops get half of
     * them. Covered: single rows/columns, odd sizes (scalar path, dropped
     * pooling row/column), widths a multiple of 4 (vec4 path, with an odd
     * height too), rows wider than a workgroup, and more row chunks than
     * workgroups (2049 planes: the grid-stride loop). */
    static const int shapes[][4] = {{1, 1, 1, 1}, {1, 1, 2, 2}, {2, 3, 5, 7}, {1, 2, 1, 3}, {0, 0, 0, 0},
                                    {1, 1, 3, 1}, {0, 0, 0, 0}, {2, 3, 33, 66}, {2, 2, 6, 8},
                                    {1, 3, 7, 8}, {2, 3, 32, 64}, {2, 35, 64, 64}, {1, 2049, 4, 130}};
    nc_pool P = {.ctx = ctx};
    const int ncase = (int)(sizeof shapes / sizeof shapes[0]);
    for (int cs = 0; cs < ncase && !r->failed; cs++, nc_free(&P)) {
        int hf = shapes[cs][2] ? shapes[cs][2] : conf_int(rng, 1, 21);
        int wf = shapes[cs][3] ? shapes[cs][3] : conf_int(rng, 1, 21);
        vkm_resample_p p = {.B = shapes[cs][0] ? shapes[cs][0] : conf_int(rng, 1, 3),
                            .C = shapes[cs][1] ? shapes[cs][1] : conf_int(rng, 1, 5),
                            .H = o->up ? (hf + 1) / 2 : hf, .W = o->up ? (wf + 1) / 2 : wf,
                            .acc = cs % 2};
        size_t nin, nout;
        rs_sizes(o, &p, &nin, &nout);
        if (nout == 0) {  /* avgpool2 of one row/column: nothing to do, nothing to check */
            r->cases++;
            continue;
        }
        double *x = nc_normal(&P, rng, nin, 1.0, 0);
        double *y0 = nc_normal(&P, rng, nout, 1.0, 0), *y = y0 ? nc_copy(&P, y0, nout) : NULL;
        if (!x || !y0 || !y) { conf_fail(r, "out of host memory"); break; }
        o->ref(&p, x, y);
        conf_tensor *tx = nin ? nc_dev(&P, r, nin, x) : NULL, *ty = nc_dev(&P, r, nout, p.acc ? y0 : NULL);
        if (r->failed) break;
        vkm_buf xb;
        if (tx) xb = tx->data;
        else memset(&xb, 0, sizeof xb);
        vkm_seq *s;
        if (nc_begin(ctx, r, &s)) break;
        int rc = o->launch(s, &p, xb, ty->data);
        if (nc_finish(ctx, r, s, rc, o->name)) break;
        if (conf_check(ctx, r, o->name, ty, y, lim)) break;
        r->cases++;
    }
    nc_free(&P);
}

void conf_row_avgpool2(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    static const rs_op o = {"avgpool2", 0, vkm_op_avgpool2, ref_avgpool2, 0};
    rs_row(ctx, rng, lim, r, &o);
}
void conf_row_avgpool2_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    static const rs_op o = {"avgpool2_bwd", 1, vkm_op_avgpool2_bwd, ref_avgpool2_bwd, 0};
    rs_row(ctx, rng, lim, r, &o);
}
void conf_row_upsample2(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    static const rs_op o = {"upsample2", 1, vkm_op_upsample2, ref_upsample2, 1};
    rs_row(ctx, rng, lim, r, &o);
}
void conf_row_upsample2_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    static const rs_op o = {"upsample2_bwd", 0, vkm_op_upsample2_bwd, ref_upsample2_bwd, 1};
    rs_row(ctx, rng, lim, r, &o);
}
