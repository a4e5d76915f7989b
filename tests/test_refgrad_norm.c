/* Central-difference checks of the norm family's CPU reference backwards
 * against their forwards (loss = sum r .* forward), for every input and
 * parameter, plus the acc / acc_param rules. Runs without Vulkan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/ref/ref_norm.h"
#include "tests/testutil.h"

static double urand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) + 0.5) / 16777216.0;
}
static void fill(double *x, size_t n, unsigned *s, double scale, double shift) {
    for (size_t i = 0; i < n; i++) {
        double u1 = urand(s), u2 = urand(s);
        x[i] = shift + scale * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
    }
}
static double *alloc(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ---- instance norm ---------------------------------------------------- */
typedef struct {
    vkm_instnorm_p p;
    double *x, *gamma, *beta, *r, *y, *mean, *rstd;
    size_t n, np;
} in_case;

static double in_loss(void *u, const double *unused) {
    in_case *t = u;
    (void)unused;
    ref_instnorm(&t->p, t->x, t->gamma, t->beta, t->y, t->mean, t->rstd);
    return dot(t->r, t->y, t->n);
}

static void check_instnorm(int B, int C, int HW, int mode, int act, unsigned seed) {
    in_case t = {0};
    t.p = (vkm_instnorm_p){.B = B, .C = C, .HW = HW, .mode = mode, .gstride = 2 * C + 1,
                           .eps = 1e-5f, .act = act, .slope = 0.2f};
    t.n = (size_t)B * C * HW;
    t.np = mode == VKM_NORM_ADAIN ? (size_t)B * t.p.gstride : (size_t)C;
    unsigned s = seed;
    t.x = alloc(t.n); t.r = alloc(t.n); t.y = alloc(t.n);
    t.gamma = alloc(t.np); t.beta = alloc(t.np);
    t.mean = alloc((size_t)B * C); t.rstd = alloc((size_t)B * C);
    fill(t.x, t.n, &s, 2.0, 0.7);
    fill(t.r, t.n, &s, 1.0, 0);
    fill(t.gamma, t.np, &s, 0.5, mode == VKM_NORM_AFFINE ? 1.0 : 0.0);
    fill(t.beta, t.np, &s, 0.5, 0);
    double *dx = alloc(t.n), *dg = alloc(t.np), *db = alloc(t.np);
    /* Analytic gradient: mean/rstd from an unperturbed forward, dy = r. */
    in_loss(&t, NULL);
    ref_instnorm_bwd(&t.p, t.x, t.mean, t.rstd, t.gamma, t.beta, t.r, dx, dg, db);
    char what[128];
    snprintf(what, sizeof what, "instnorm B%d C%d HW%d mode %d act %d", B, C, HW, mode, act);
    /* Tolerance: central differences of a smooth function at h = 1e-6; the
     * fused activation's kink is rarely within h of a sample. */
    double e = tu_gradcheck(in_loss, &t, t.x, dx, t.n, 64, 1e-6, seed);
    TU_CHECK(e < 1e-5, "%s: dx error %g", what, e);
    if (mode != VKM_NORM_NONE) {
        e = tu_gradcheck(in_loss, &t, t.gamma, dg, t.np, 0, 1e-6, seed);
        TU_CHECK(e < 1e-5, "%s: dgamma error %g", what, e);
        e = tu_gradcheck(in_loss, &t, t.beta, db, t.np, 0, 1e-6, seed);
        TU_CHECK(e < 1e-5, "%s: dbeta error %g", what, e);
    }
    /* NONE without activation: each plane of y is zero mean, unit variance
     * (up to eps) unless the plane is a single pixel. */
    if (mode == VKM_NORM_NONE && !act && HW > 1) {
        in_loss(&t, NULL);
        for (int pl = 0; pl < B * C; pl++) {
            double m = 0, v = 0;
            for (int i = 0; i < HW; i++) m += t.y[(size_t)pl * HW + i];
            m /= HW;
            for (int i = 0; i < HW; i++) v += pow(t.y[(size_t)pl * HW + i] - m, 2);
            v /= HW;
            TU_CHECK(fabs(m) < 1e-9 && fabs(v - 1) < 1e-3, "%s: plane %d mean %g var %g", what, pl, m, v);
        }
    }
    /* acc rules: y and dx add into what is there; AFFINE parameter
     * gradients always accumulate, ADAIN's only with acc_param. */
    {
        double *y2 = alloc(t.n), *dx2 = alloc(t.n), *dg2 = alloc(t.np), *db2 = alloc(t.np);
        vkm_instnorm_p pa = t.p;
        pa.acc = 1;
        pa.acc_param = 1;
        for (size_t i = 0; i < t.n; i++) { y2[i] = 3.0; dx2[i] = -2.0; }
        for (size_t i = 0; i < t.np; i++) { dg2[i] = 1.5; db2[i] = -0.5; }
        in_loss(&t, NULL);
        ref_instnorm(&pa, t.x, t.gamma, t.beta, y2, t.mean, t.rstd);
        ref_instnorm_bwd(&pa, t.x, t.mean, t.rstd, t.gamma, t.beta, t.r, dx2, dg2, db2);
        double err = 0;
        for (size_t i = 0; i < t.n; i++)
            err = fmax(err, fmax(fabs(y2[i] - 3.0 - t.y[i]), fabs(dx2[i] + 2.0 - dx[i])));
        if (mode != VKM_NORM_NONE)
            for (size_t i = 0; i < t.np; i++)
                err = fmax(err, fmax(fabs(dg2[i] - 1.5 - dg[i]), fabs(db2[i] + 0.5 - db[i])));
        TU_CHECK(err < 1e-12, "%s: acc error %g", what, err);
        if (mode == VKM_NORM_ADAIN) {
            pa.acc_param = 0;
            for (size_t i = 0; i < t.np; i++) dg2[i] = db2[i] = 7.0;
            ref_instnorm_bwd(&pa, t.x, t.mean, t.rstd, t.gamma, t.beta, t.r, dx2, dg2, db2);
            err = 0;
            for (int b = 0; b < B; b++)
                for (int c = 0; c < C; c++) {
                    int64_t k = ref_instnorm_pidx(&t.p, b, c);
                    err = fmax(err, fmax(fabs(dg2[k] - dg[k]), fabs(db2[k] - db[k])));
                }
            /* The gap between rows (gstride > C) is never touched. */
            TU_CHECK(err < 1e-12 && dg2[C] == 7.0, "%s: acc_param=0 error %g", what, err);
        }
        free(y2); free(dx2); free(dg2); free(db2);
    }
    free(t.x); free(t.r); free(t.y); free(t.gamma); free(t.beta); free(t.mean); free(t.rstd);
    free(dx); free(dg); free(db);
}

/* ---- act, avgpool2, upsample2: linear-ish maps x -> y ------------------ */
typedef enum { OP_ACT, OP_AVGPOOL, OP_UPSAMPLE } simple_op;
typedef struct {
    simple_op op;
    vkm_act_p ap;
    vkm_resample_p rp;
    double *r, *y;
    size_t nin, nout;
} simple_case;

static double simple_loss(void *u, const double *x) {
    simple_case *t = u;
    switch (t->op) {
    case OP_ACT: ref_act(&t->ap, x, t->y); break;
    case OP_AVGPOOL: ref_avgpool2(&t->rp, x, t->y); break;
    case OP_UPSAMPLE: ref_upsample2(&t->rp, x, t->y); break;
    }
    return dot(t->r, t->y, t->nout);
}

static void check_simple(simple_op op, int B, int C, int H, int W, float slope, unsigned seed) {
    simple_case t = {.op = op};
    t.ap = (vkm_act_p){.n = (int64_t)B * C * H * W, .slope = slope};
    t.rp = (vkm_resample_p){.B = B, .C = C, .H = H, .W = W};
    t.nin = (size_t)B * C * H * W;
    t.nout = op == OP_ACT ? t.nin : op == OP_AVGPOOL ? (size_t)B * C * (H / 2) * (W / 2) : 4 * t.nin;
    unsigned s = seed;
    double *x = alloc(t.nin), *dx = alloc(t.nin), *dx2 = alloc(t.nin);
    t.r = alloc(t.nout); t.y = alloc(t.nout);
    fill(x, t.nin, &s, 1.0, 0);
    fill(t.r, t.nout, &s, 1.0, 0);
    switch (op) {
    case OP_ACT: ref_act_bwd(&t.ap, x, t.r, dx); break;
    case OP_AVGPOOL: ref_avgpool2_bwd(&t.rp, t.r, dx); break;
    case OP_UPSAMPLE: ref_upsample2_bwd(&t.rp, t.r, dx); break;
    }
    static const char *names[] = {"act", "avgpool2", "upsample2"};
    char what[128];
    snprintf(what, sizeof what, "%s B%d C%d H%d W%d slope %g", names[op], B, C, H, W, slope);
    double e = tu_gradcheck(simple_loss, &t, x, dx, t.nin, 0, 1e-6, seed);
    TU_CHECK(e < 1e-6, "%s: dx error %g", what, e);
    /* acc adds into the output, forward and backward. */
    double *y = alloc(t.nout), *y2 = alloc(t.nout);
    simple_loss(&t, x);
    memcpy(y, t.y, t.nout * sizeof *y);
    for (size_t i = 0; i < t.nout; i++) t.y[i] = 1.25;
    for (size_t i = 0; i < t.nin; i++) dx2[i] = -0.75;
    t.ap.acc = t.rp.acc = 1;
    simple_loss(&t, x);
    memcpy(y2, t.y, t.nout * sizeof *y);
    switch (op) {
    case OP_ACT: ref_act_bwd(&t.ap, x, t.r, dx2); break;
    case OP_AVGPOOL: ref_avgpool2_bwd(&t.rp, t.r, dx2); break;
    case OP_UPSAMPLE: ref_upsample2_bwd(&t.rp, t.r, dx2); break;
    }
    double err = 0;
    for (size_t i = 0; i < t.nout; i++) err = fmax(err, fabs(y2[i] - 1.25 - y[i]));
    for (size_t i = 0; i < t.nin; i++) err = fmax(err, fabs(dx2[i] + 0.75 - dx[i]));
    TU_CHECK(err < 1e-12, "%s: acc error %g", what, err);
    free(x); free(dx); free(dx2); free(t.r); free(t.y); free(y); free(y2);
}

int main(void) {
    static const int hws[] = {1, 3, 35, 64};
    unsigned seed = 11;
    for (int mode = VKM_NORM_NONE; mode <= VKM_NORM_ADAIN; mode++)
        for (int act = 0; act <= 1; act++)
            for (int k = 0; k < 4; k++)
                check_instnorm(2, 3, hws[k], mode, act, seed++);
    check_simple(OP_ACT, 2, 3, 5, 7, 0.2f, seed++);
    check_simple(OP_ACT, 1, 1, 1, 13, 0.0f, seed++);
    check_simple(OP_AVGPOOL, 2, 3, 4, 6, 0, seed++);
    check_simple(OP_AVGPOOL, 2, 2, 5, 7, 0, seed++);
    check_simple(OP_AVGPOOL, 1, 2, 1, 3, 0, seed++);
    check_simple(OP_UPSAMPLE, 2, 3, 4, 6, 0, seed++);
    check_simple(OP_UPSAMPLE, 1, 2, 3, 5, 0, seed++);
    check_simple(OP_UPSAMPLE, 1, 1, 1, 1, 0, seed++);
    return tu_finish("test_refgrad_norm");
}
