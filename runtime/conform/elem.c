/* Conformance rows of the elementwise family: axpby, concat, slice, fill,
 * meann(_bwd), l1loss(_bwd), bce(_bwd), reduce, adam, ema, randn. Every
 * output starts from random contents (so acc = 0 must overwrite them and
 * acc = 1 must add to them) and is compared whole, so a write outside the
 * op's slot shows up too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/conform/conform.h"
#include "runtime/ops/ops_elem.h"
#include "runtime/ref/ref_elem.h"

/* A host copy (double, float-rounded) and its guarded device tensor. */
typedef struct { double *h; conf_tensor t; size_t n; int live; } ct;

static int ct_rand(vkm_ctx *ctx, conf_rng *rng, conf_result *r, ct *c, size_t n, double std) {
    memset(c, 0, sizeof *c);
    c->n = n;
    c->h = calloc(n ? n : 1, sizeof *c->h);
    if (!c->h) { conf_fail(r, "out of host memory (%zu doubles)", n); return -1; }
    if (conf_tensor_new(ctx, n, &c->t)) {
        conf_fail(r, "allocating %zu floats: %s", n, vkm_error(ctx));
        return -1;
    }
    c->live = 1;
    conf_fill_normal(rng, c->h, n, std);
    if (conf_upload(ctx, &c->t, c->h)) { conf_fail(r, "upload: %s", vkm_error(ctx)); return -1; }
    return 0;
}

static int ct_upload(vkm_ctx *ctx, conf_result *r, ct *c) {
    if (conf_upload(ctx, &c->t, c->h)) { conf_fail(r, "upload: %s", vkm_error(ctx)); return -1; }
    return 0;
}

static void ct_free(vkm_ctx *ctx, ct *c, int count) {
    for (int i = 0; i < count; i++) {
        if (c[i].live) conf_tensor_free(ctx, &c[i].t);
        free(c[i].h);
        memset(&c[i], 0, sizeof c[i]);
    }
}

static int seq_begin(vkm_ctx *ctx, conf_result *r, vkm_seq **s) {
    if (vkm_seq_begin(ctx, 0, s)) { conf_fail(r, "seq_begin: %s", vkm_error(ctx)); return -1; }
    return 0;
}

/* Ends, submits and destroys s; rc is the launcher's result. */
static int seq_run(vkm_ctx *ctx, conf_result *r, vkm_seq *s, int rc, const char *op) {
    if (rc) conf_fail(r, "%s: launch failed: %s", op, vkm_error(ctx));
    else if (vkm_seq_end(s) || vkm_seq_submit(s)) {
        conf_fail(r, "%s: submit failed: %s", op, vkm_error(ctx));
        rc = -1;
    }
    vkm_seq_destroy(s);
    return rc ? -1 : 0;
}

/* Element counts: tails of every length, one workgroup and many. */
static const int elem_sizes[] = {1, 3, 4, 5, 7, 13, 33, 255, 1024, 4099, 65537};
#define NSIZES ((int)(sizeof elem_sizes / sizeof elem_sizes[0]))
static int pick_n(conf_rng *rng, int c) {
    return c < NSIZES ? elem_sizes[c] : elem_sizes[conf_int(rng, 0, NSIZES - 1)];
}

void conf_row_axpby(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    /* cases 0-10: every size; 11: grid-stride (more vec4s than the capped
     * grid); the kinds cycle through add, scale in place, bwd-style acc with b = 0 */
    for (int c = 0; c < NSIZES + 1 && !r->failed; c++, r->cases++) {
        int n = c < NSIZES ? elem_sizes[c] : 4 * 4096 * 256 + 4099;
        int kind = c % 4;
        vkm_axpby_p p = {n, (float)conf_normal(rng), (float)conf_normal(rng), kind == 3};
        if (kind == 2) p.b = 0, p.acc = 1;  /* backward of a scale, accumulated */
        if (kind == 1) p.b = 0;             /* scale in place: out is x */
        ct t[3];
        memset(t, 0, sizeof t);
        if (ct_rand(ctx, rng, r, &t[0], n, 1) || ct_rand(ctx, rng, r, &t[1], n, 1) ||
            ct_rand(ctx, rng, r, &t[2], n, 1)) { ct_free(ctx, t, 3); return; }
        ct *out = kind == 1 ? &t[0] : &t[2];
        double *want = malloc((size_t)n * sizeof *want);
        if (!want) { conf_fail(r, "out of host memory"); ct_free(ctx, t, 3); return; }
        memcpy(want, out->h, (size_t)n * sizeof *want);
        ref_axpby(&p, t[0].h, t[1].h, want);
        vkm_seq *s;
        if (!seq_begin(ctx, r, &s) &&
            !seq_run(ctx, r, s, vkm_op_axpby(s, &p, t[0].t.data, t[1].t.data, out->t.data), "axpby"))
            conf_check(ctx, r, "out", &out->t, want, lim);
        free(want);
        ct_free(ctx, t, 3);
    }
}

static void chcopy_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int slice) {
    static const int hws[] = {1, 3, 4, 7, 16, 33, 4096, 1089};
    for (int c = 0; c < 8 && !r->failed; c++, r->cases++) {
        vkm_chcopy_p p;
        p.B = conf_int(rng, 1, 3);
        p.Csrc = c == 6 ? 1 : conf_int(rng, 1, 5);
        p.Cdst = p.Csrc + conf_int(rng, 0, 4);
        p.off = conf_int(rng, 0, p.Cdst - p.Csrc);
        p.HW = hws[c];
        p.acc = c % 2;
        size_t np = (size_t)p.B * p.Csrc * p.HW, nw = (size_t)p.B * p.Cdst * p.HW;
        ct part, whole;
        memset(&whole, 0, sizeof whole);
        if (ct_rand(ctx, rng, r, &part, np, 1) || ct_rand(ctx, rng, r, &whole, nw, 1)) {
            ct_free(ctx, &part, 1); ct_free(ctx, &whole, 1); return;
        }
        ct *out = slice ? &part : &whole;
        double *want = malloc(out->n * sizeof *want);
        if (!want) { conf_fail(r, "out of host memory"); ct_free(ctx, &part, 1); ct_free(ctx, &whole, 1); return; }
        memcpy(want, out->h, out->n * sizeof *want);
        if (slice) ref_slice(&p, whole.h, want);
        else ref_concat(&p, part.h, want);
        vkm_seq *s;
        int rc = 0;
        if (!seq_begin(ctx, r, &s)) {
            rc = slice ? vkm_op_slice(s, &p, whole.t.data, part.t.data)
                       : vkm_op_concat(s, &p, part.t.data, whole.t.data);
            if (!seq_run(ctx, r, s, rc, slice ? "slice" : "concat"))
                conf_check(ctx, r, slice ? "part" : "whole", &out->t, want, lim);
        }
        free(want);
        ct_free(ctx, &part, 1);
        ct_free(ctx, &whole, 1);
    }
}

void conf_row_concat(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    chcopy_row(ctx, rng, lim, r, 0);
}

void conf_row_slice(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    chcopy_row(ctx, rng, lim, r, 1);
}

/* fill has no shader: vkm_op_fill records vkCmdFillBuffer. The row checks
 * that a fill of one guarded tensor changes that tensor and nothing else
 * (cases 0-3), and that a slot fill changes only the slot's channels (4-7). */
void conf_row_fill(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    for (int c = 0; c < 8 && !r->failed; c++, r->cases++) {
        double value = c % 4 == 0 ? 0.0 : (double)(float)conf_normal(rng);
        vkm_chcopy_p p = {conf_int(rng, 1, 3), conf_int(rng, 1, 3), 0, pick_n(rng, c + 1), 0, 0};
        p.Cdst = p.Csrc + conf_int(rng, 0, 3);
        p.off = conf_int(rng, 0, p.Cdst - p.Csrc);
        int n = c < 4 ? pick_n(rng, 3 * c) : p.B * p.Cdst * p.HW;
        ct t;
        if (ct_rand(ctx, rng, r, &t, (size_t)n, 1)) { ct_free(ctx, &t, 1); return; }
        if (c < 4) ref_fill((size_t)n, value, t.h);
        else
            for (int b = 0; b < p.B; b++)
                ref_fill((size_t)p.Csrc * p.HW, value, t.h + ((size_t)b * p.Cdst + p.off) * p.HW);
        vkm_seq *s;
        if (!seq_begin(ctx, r, &s) &&
            !seq_run(ctx, r, s, c < 4 ? vkm_op_fill(s, t.t.data, (float)value)
                                      : vkm_op_fill_slot(s, &p, t.t.data, (float)value), "fill"))
            conf_check(ctx, r, "dst", &t.t, t.h, lim);
        ct_free(ctx, &t, 1);
    }
}

static void meann_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int bwd) {
    for (int c = 0; c < 8 && !r->failed; c++, r->cases++) {
        vkm_meann_p p = {pick_n(rng, c + 2), 1 + c % 4, c % 3 == 1};
        ct t[5]; /* bwd: t[0] = dy, t[1..count] = dx; fwd: t[0..count-1] = x, t[4] = out */
        memset(t, 0, sizeof t);
        int fail = 0;
        for (int k = 0; k < 5 && !fail; k++)
            if (k == 0 || (bwd ? k <= p.count : (k < p.count || k == 4)))
                fail = ct_rand(ctx, rng, r, &t[k], (size_t)p.n, 1);
        double *want[4] = {0};
        for (int k = 0; k < 4 && !fail; k++) {
            want[k] = malloc((size_t)p.n * sizeof(double));
            if (!want[k]) { conf_fail(r, "out of host memory"); fail = 1; }
        }
        vkm_seq *s;
        if (!fail && !bwd) {
            const double *x[4] = {t[0].h, t[1].h, t[2].h, t[3].h};
            vkm_buf xb[4] = {t[0].t.data, t[1].t.data, t[2].t.data, t[3].t.data};
            memcpy(want[0], t[4].h, (size_t)p.n * sizeof(double));
            ref_meann(&p, x, want[0]);
            if (!seq_begin(ctx, r, &s) &&
                !seq_run(ctx, r, s, vkm_op_meann(s, &p, xb, t[4].t.data), "meann"))
                conf_check(ctx, r, "out", &t[4].t, want[0], lim);
        } else if (!fail) {
            vkm_buf dxb[4] = {t[1].t.data, t[2].t.data, t[3].t.data, t[4].t.data};
            for (int k = 0; k < p.count; k++) memcpy(want[k], t[k + 1].h, (size_t)p.n * sizeof(double));
            ref_meann_bwd(&p, t[0].h, want);
            if (!seq_begin(ctx, r, &s) &&
                !seq_run(ctx, r, s, vkm_op_meann_bwd(s, &p, t[0].t.data, dxb), "meann_bwd"))
                for (int k = 0; k < p.count && !r->failed; k++)
                    conf_check(ctx, r, "dx", &t[k + 1].t, want[k], lim);
        }
        for (int k = 0; k < 4; k++) free(want[k]);
        ct_free(ctx, t, 5);
    }
}

void conf_row_meann(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    meann_row(ctx, rng, lim, r, 0);
}

void conf_row_meann_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    meann_row(ctx, rng, lim, r, 1);
}

/* Loss rows. op: 0 l1loss, 1 l1loss_bwd, 2 bce, 3 bce_bwd (l1 also with
 * parts = 3). Tensors:
 * x, y (l1: with some exact ties, where sign is 0), g (a small scalar
 * vector: loss weights), out (the loss vector) or dx, dy. */
static void loss_row(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r, int op) {
    static const char *names[] = {"l1loss", "l1loss_bwd", "bce", "bce_bwd"};
    for (int c = 0; c < 9 && !r->failed; c++, r->cases++) {
        int n = c == 0 ? 2 : pick_n(rng, c), parts = op < 2 && c % 4 == 3 ? 3 : 0;
        if (parts) n = 3 * ((n + 2) / 3); /* a sum of three equal parts' means */
        vkm_loss_p p = {n, conf_int(rng, 0, 4), conf_int(rng, 0, 2), (float)(c % 2), c % 3 == 2, parts};
        int has_dy = op == 1 && c % 2 == 0;
        ct x, y, g, o, dy;
        memset(&y, 0, sizeof y); memset(&g, 0, sizeof g); memset(&o, 0, sizeof o); memset(&dy, 0, sizeof dy);
        int fail = ct_rand(ctx, rng, r, &x, (size_t)n, op >= 2 ? 4 : 1) ||
                   (op < 2 && ct_rand(ctx, rng, r, &y, (size_t)n, 1)) ||
                   ct_rand(ctx, rng, r, &g, 3, 1) ||
                   ct_rand(ctx, rng, r, &o, op % 2 ? (size_t)n : 5, 1) ||
                   (has_dy && ct_rand(ctx, rng, r, &dy, (size_t)n, 1));
        if (!fail && op < 2) { /* ties: sign(0) must give 0 */
            for (int i = 0; i < n; i += 5) y.h[i] = x.h[i];
            fail = ct_upload(ctx, r, &y);
        }
        double *want = fail ? NULL : malloc(o.n * sizeof *want), *wdy = NULL;
        if (has_dy && want) {
            wdy = malloc(dy.n * sizeof *wdy);
            if (wdy) memcpy(wdy, dy.h, dy.n * sizeof *wdy);
        }
        if (!fail && (!want || (has_dy && !wdy))) { conf_fail(r, "out of host memory"); fail = 1; }
        if (!fail) {
            memcpy(want, o.h, o.n * sizeof *want);
            if (op == 0) ref_l1loss(&p, x.h, y.h, want);
            else if (op == 1) ref_l1loss_bwd(&p, x.h, y.h, g.h, want, wdy);
            else if (op == 2) ref_bce(&p, x.h, want);
            else ref_bce_bwd(&p, x.h, g.h, want);
            vkm_buf none = {0};
            vkm_seq *s;
            if (!seq_begin(ctx, r, &s)) {
                int rc = op == 0 ? vkm_op_l1loss(s, &p, x.t.data, y.t.data, o.t.data)
                       : op == 1 ? vkm_op_l1loss_bwd(s, &p, x.t.data, y.t.data, g.t.data, o.t.data,
                                                     has_dy ? dy.t.data : none)
                       : op == 2 ? vkm_op_bce(s, &p, x.t.data, o.t.data)
                                 : vkm_op_bce_bwd(s, &p, x.t.data, g.t.data, o.t.data);
                if (!seq_run(ctx, r, s, rc, names[op]) &&
                    !conf_check(ctx, r, op % 2 ? "dx" : "out", &o.t, want, lim) && has_dy)
                    conf_check(ctx, r, "dy", &dy.t, wdy, lim);
            }
        }
        free(want);
        free(wdy);
        ct_free(ctx, &x, 1); ct_free(ctx, &y, 1); ct_free(ctx, &g, 1); ct_free(ctx, &o, 1);
        ct_free(ctx, &dy, 1);
    }
}

void conf_row_l1loss(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { loss_row(ctx, rng, lim, r, 0); }
void conf_row_l1loss_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { loss_row(ctx, rng, lim, r, 1); }
void conf_row_bce(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { loss_row(ctx, rng, lim, r, 2); }
void conf_row_bce_bwd(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) { loss_row(ctx, rng, lim, r, 3); }

void conf_row_reduce(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    /* (rows, n): odd and vec4 segments, long rows, an empty row length, and
     * more rows than one grid dimension holds (per-row invocations for short
     * rows, per-row workgroups otherwise) */
    static const int shapes[][2] = {{1, 1}, {3, 7}, {5, 4}, {2, 1000}, {7, 13}, {1, 70001},
                                    {33, 64}, {4, 0}, {70000, 2}, {66000, 36}, {3, 100003}};
    for (int c = 0; c < 11 && !r->failed; c++, r->cases++) {
        vkm_reduce_p p = {shapes[c][0], shapes[c][1], c % 2, c % 3 == 1};
        size_t nx = (size_t)p.rows * (size_t)p.n;
        ct x, o;
        memset(&o, 0, sizeof o);
        if (ct_rand(ctx, rng, r, &x, nx ? nx : 1, 1) || ct_rand(ctx, rng, r, &o, (size_t)p.rows, 1)) {
            ct_free(ctx, &x, 1); ct_free(ctx, &o, 1); return;
        }
        /* a mean of 0.5 keeps each row's sum away from zero: sums of zero-mean
         * data cancel to ~1e-5 for some seeds, and the NMSE would then measure
         * the cancellation, not the reduction */
        for (size_t i = 0; i < x.n; i++) x.h[i] = (double)(float)(x.h[i] + 0.5);
        if (ct_upload(ctx, r, &x)) { ct_free(ctx, &x, 1); ct_free(ctx, &o, 1); return; }
        double *want = malloc(o.n * sizeof *want);
        if (!want) { conf_fail(r, "out of host memory"); ct_free(ctx, &x, 1); ct_free(ctx, &o, 1); return; }
        memcpy(want, o.h, o.n * sizeof *want);
        ref_reduce(&p, x.h, want);
        vkm_seq *s;
        if (!seq_begin(ctx, r, &s) && !seq_run(ctx, r, s, vkm_op_reduce(s, &p, x.t.data, o.t.data), "reduce"))
            conf_check(ctx, r, "out", &o.t, want, lim);
        free(want);
        ct_free(ctx, &x, 1);
        ct_free(ctx, &o, 1);
    }
}

/* Random segments of [0, n) (multiples of 4) with step indices 0..3 or -1
 * (untouched); case 0 is one whole segment. */
static void adam_segments(conf_rng *rng, int c, vkm_adam_p *p) {
    int most = (int)((p->n + 3) / 4);
    if (most > VKM_ADAM_MAXSEG) most = VKM_ADAM_MAXSEG;
    p->nseg = c == 0 ? 1 : c == 5 ? most : conf_int(rng, 1, most);
    uint32_t blocks = (uint32_t)((p->n + 3) / 4); /* choose nseg distinct block starts, 0 first */
    p->seg_start[0] = 0;
    for (int k = 1; k < p->nseg; k++) {
        uint32_t lo = p->seg_start[k - 1] / 4 + 1, hi = blocks - (uint32_t)(p->nseg - k);
        p->seg_start[k] = 4 * (uint32_t)conf_int(rng, (int)lo, (int)(lo + (hi - lo) / 2));
    }
    for (int k = 0; k < p->nseg; k++) p->seg_step[k] = conf_int(rng, k ? -1 : 0, 3);
}

/* Adam: one recorded sequence replayed for several steps, the host writing
 * t into the step buffer before each submit (as the training step does).
 * Checks param (and its update, which is tiny next to param), m and v after
 * step 1 and after the last (untouched segments included). lr is large
 * (0.05) so that the float rounding of param (~1e-7) stays far below its
 * update. */
void conf_row_adam(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    for (int c = 0; c < 6 && !r->failed; c++, r->cases++) {
        int n = c == 5 ? elem_sizes[NSIZES - 1] : pick_n(rng, 2 * c + 1);
        vkm_adam_p p = {n, 0.05f, c % 2 ? 0.9f : 0.0f, 0.99f, 1e-8f, c % 3 ? 1e-4f : 1e-2f, 0, {0}, {0}};
        adam_segments(rng, c, &p);
        ct t[5]; /* param, grad, m, v, steps */
        memset(t, 0, sizeof t);
        int fail = 0;
        for (int k = 0; k < 5 && !fail; k++) fail = ct_rand(ctx, rng, r, &t[k], k == 4 ? 4 : (size_t)n, 1);
        double *p0 = fail ? NULL : malloc((size_t)n * sizeof *p0);
        double *got = fail ? NULL : malloc((size_t)n * sizeof *got);
        if (!fail && (!p0 || !got)) { conf_fail(r, "out of host memory"); fail = 1; }
        if (!fail) { /* v must start >= 0, m anything */
            for (int i = 0; i < n; i++) t[3].h[i] = fabs(t[3].h[i]) * 1e-3;
            fail = ct_upload(ctx, r, &t[3]);
        }
        vkm_seq *s = NULL;
        if (!fail && (seq_begin(ctx, r, &s) ||
                      vkm_op_adam(s, &p, t[0].t.data, t[1].t.data, t[2].t.data, t[3].t.data,
                                  t[4].t.data) || vkm_seq_end(s))) {
            if (s) conf_fail(r, "adam: recording failed: %s", vkm_error(ctx));
            fail = 1;
        }
        uint32_t steps[4] = {7, 7, 7, 7};
        for (uint32_t step = 1; !fail && step <= 4 && !r->failed; step++) {
            for (uint32_t j = 0; j < 4; j++) steps[j] = step + j * (c == 4 ? 33u : 1u); /* and later t */
            memcpy(p0, t[0].h, (size_t)n * sizeof *p0);
            ref_adam(&p, steps, t[0].h, t[1].h, t[2].h, t[3].h);
            if (conf_upload_u32(ctx, &t[4].t, steps) || vkm_seq_submit(s)) {
                conf_fail(r, "adam: submit failed: %s", vkm_error(ctx));
                break;
            }
            if (step != 1 && step != 4) continue;
            if (conf_check(ctx, r, "param", &t[0].t, t[0].h, lim) ||
                conf_check(ctx, r, "m", &t[2].t, t[2].h, lim) ||
                conf_check(ctx, r, "v", &t[3].t, t[3].h, lim) || conf_download(ctx, &t[0].t, got))
                break;
            /* the update alone: param - param before this step */
            for (int i = 0; i < n; i++) got[i] -= p0[i], p0[i] = t[0].h[i] - p0[i];
            double e = conf_nmse(got, p0, (size_t)n);
            if (e > r->worst_nmse) r->worst_nmse = e;
            if (!(e <= lim)) conf_fail(r, "adam: the update's NMSE %.3e is over %.1e (step %u)", e, lim, step);
            /* the device state is the reference's from here on */
            if (conf_download(ctx, &t[0].t, t[0].h) || conf_download(ctx, &t[2].t, t[2].h) ||
                conf_download(ctx, &t[3].t, t[3].h)) {
                conf_fail(r, "adam: read back failed: %s", vkm_error(ctx));
                break;
            }
        }
        if (s) vkm_seq_destroy(s);
        free(p0);
        free(got);
        ct_free(ctx, t, 5);
    }
}

void conf_row_ema(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    for (int c = 0; c < 6 && !r->failed; c++, r->cases++) {
        vkm_ema_p p = {pick_n(rng, 2 * c), c % 2 ? 0.999f : (float)conf_uniform(rng)};
        ct t[2];
        memset(t, 0, sizeof t);
        if (ct_rand(ctx, rng, r, &t[0], (size_t)p.n, 1) || ct_rand(ctx, rng, r, &t[1], (size_t)p.n, 1)) {
            ct_free(ctx, t, 2); return;
        }
        ref_ema(&p, t[0].h, t[1].h);
        vkm_seq *s;
        if (!seq_begin(ctx, r, &s) && !seq_run(ctx, r, s, vkm_op_ema(s, &p, t[0].t.data, t[1].t.data), "ema"))
            conf_check(ctx, r, "ema", &t[1].t, t[1].h, lim);
        ct_free(ctx, t, 2);
    }
}

/* randn against the bit-exact reference, plus determinism (same seed, same
 * bits; another seed, other numbers) and the statistics of 1e5 samples:
 * |mean| < 0.02 (~6 sigma), |std - 1| < 0.01 (~4.5 sigma), P(|z| < 1)
 * within 0.01 of 0.6827. */
static int randn_run(vkm_ctx *ctx, conf_result *r, const vkm_randn_p *p, ct *seeds, ct *out) {
    vkm_seq *s;
    if (seq_begin(ctx, r, &s)) return -1;
    return seq_run(ctx, r, s, vkm_op_randn(s, p, seeds->t.data, out->t.data), "randn");
}

void conf_row_randn(vkm_ctx *ctx, conf_rng *rng, double lim, conf_result *r) {
    for (int c = 0; c < 7 && !r->failed; c++, r->cases++) {
        int n = c == 0 ? 100003 : pick_n(rng, c);
        vkm_randn_p p = {n, conf_int(rng, 0, 2), (uint32_t)conf_next(rng),
                         c == 0 ? 0.0f : (float)conf_normal(rng), c == 0 ? 1.0f : 0.5f + (float)conf_uniform(rng), c < 2 ? 0 : conf_int(rng, 0, 5000)};
        uint32_t sw[6];
        for (int i = 0; i < 6; i++) sw[i] = (uint32_t)conf_next(rng);
        ct seeds, out;
        memset(&seeds, 0, sizeof seeds);
        memset(&out, 0, sizeof out);
        double *want = malloc((size_t)n * sizeof *want), *again = malloc((size_t)n * sizeof *again);
        if (!want || !again || ct_rand(ctx, rng, r, &seeds, 6, 1) || ct_rand(ctx, rng, r, &out, (size_t)n, 1) ||
            conf_upload_u32(ctx, &seeds.t, sw)) {
            if (!r->failed) conf_fail(r, "randn: setup failed: %s", vkm_error(ctx));
            goto done;
        }
        ref_randn(&p, sw, want);
        if (randn_run(ctx, r, &p, &seeds, &out) || conf_check(ctx, r, "out", &out.t, want, lim) ||
            conf_download(ctx, &out.t, out.h))
            goto done;
        if (c == 0) { /* statistics */
            double m = 0, q = 0, in1 = 0;
            for (int i = 0; i < n; i++) m += out.h[i], q += out.h[i] * out.h[i], in1 += fabs(out.h[i]) < 1;
            m /= n;
            double sd = sqrt(q / n - m * m);
            in1 /= n;
            if (fabs(m) > 0.02 || fabs(sd - 1) > 0.01 || fabs(in1 - 0.6827) > 0.01)
                conf_fail(r, "randn statistics off: mean %.4f std %.4f P(|z|<1) %.4f over %d", m, sd, in1, n);
        }
        /* same seed: the same bits */
        if (r->failed || randn_run(ctx, r, &p, &seeds, &out) || conf_download(ctx, &out.t, again)) goto done;
        if (memcmp(again, out.h, (size_t)n * sizeof *again)) { conf_fail(r, "randn: same seed, other output"); goto done; }
        /* another seed (either key word): other numbers */
        sw[2 * p.seed_index + (c & 1)] ^= 1u << (c % 32);
        if (conf_upload_u32(ctx, &seeds.t, sw) || randn_run(ctx, r, &p, &seeds, &out) ||
            conf_download(ctx, &out.t, again))
            goto done;
        int same = 0;
        for (int i = 0; i < n; i++) same += again[i] == out.h[i];
        if (same > n / 100 + 1) conf_fail(r, "randn: another seed left %d of %d values unchanged", same, n);
    done:
        free(want);
        free(again);
        ct_free(ctx, &seeds, 1);
        ct_free(ctx, &out, 1);
    }
}
