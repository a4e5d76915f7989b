/* Central-difference checks of the conv family's CPU reference backwards
 * against their forwards (loss = sum r .* forward), for every input and
 * parameter of conv2d (also pooled), gemm (all transposes), the linear
 * layers and the high-pass filter, plus the acc rule. Runs without Vulkan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/ref/ref_conv.h"
#include "tests/testutil.h"

static double urand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) + 0.5) / 16777216.0;
}
static void fill(double *x, size_t n, unsigned *s) {
    for (size_t i = 0; i < n; i++) x[i] = 2 * urand(s) - 1;
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
/* The ops are linear in each input, so central differences are exact up to
 * rounding: a tight tolerance catches any index mistake. */
#define TOL 1e-7
#define H 1e-3

/* ---- conv2d ------------------------------------------------------------ */
typedef struct { vkm_conv2d_p p; double *x, *w, *b, *r, *y; size_t ny; } conv_case;

static double conv_loss(void *u, const double *unused) {
    conv_case *t = u;
    (void)unused;
    ref_conv2d(&t->p, t->x, t->w, t->b, t->y);
    return dot(t->r, t->y, t->ny);
}

/* dx, dw, db of the reference conv by central differences, and acc = 1;
 * mode 1: pool (the 2x2 mean of the output), 2: up (the nearest-upsampled
 * input) */
static void check_conv(int B, int Cin, int Hh, int W, int Cout, int K, int pad, int bias, int mode, unsigned seed) {
    conv_case t = {{B, Cin, Hh, W, Cout, K, pad, bias, 0, mode == 1, mode == 2}, 0, 0, 0, 0, 0, 0};
    size_t nx = (size_t)vkm_conv2d_nx(&t.p), nw = (size_t)vkm_conv2d_nw(&t.p);
    t.ny = (size_t)vkm_conv2d_ny(&t.p);
    unsigned s = seed;
    t.x = alloc(nx); t.w = alloc(nw); t.b = alloc(Cout); t.r = alloc(t.ny); t.y = alloc(t.ny);
    fill(t.x, nx, &s); fill(t.w, nw, &s); fill(t.b, Cout, &s); fill(t.r, t.ny, &s);
    double *dx = alloc(nx), *dw = alloc(nw), *db = alloc(Cout);
    ref_conv2d_bwd_data(&t.p, t.r, t.w, dx);
    ref_conv2d_bwd_filter(&t.p, t.x, t.r, dw, db);
    char what[128];
    snprintf(what, sizeof what, "conv2d B%d Cin%d %dx%d Cout%d K%d pad%d bias%d%s", B, Cin, Hh, W,
             Cout, K, pad, bias, mode == 1 ? " pool" : mode == 2 ? " up" : "");
    double e = tu_gradcheck(conv_loss, &t, t.x, dx, nx, 200, H, seed);
    TU_CHECK(e < TOL, "%s: dx error %g", what, e);
    e = tu_gradcheck(conv_loss, &t, t.w, dw, nw, 200, H, seed);
    TU_CHECK(e < TOL, "%s: dw error %g", what, e);
    if (bias) {
        e = tu_gradcheck(conv_loss, &t, t.b, db, Cout, 0, H, seed);
        TU_CHECK(e < TOL, "%s: db error %g", what, e);
        /* the standalone bias gradient matches bwd_filter's */
        double *db2 = alloc(Cout);
        ref_conv2d_bwd_bias(&t.p, t.r, db2);
        for (int c = 0; c < Cout; c++) TU_CHECK(db2[c] == db[c], "%s: bwd_bias differs", what);
        free(db2);
    }
    /* acc = 1 adds into every output */
    t.p.acc = 1;
    double *dx2 = alloc(nx), *dw2 = alloc(nw), *db2 = alloc(Cout), *y2 = alloc(t.ny);
    for (size_t i = 0; i < nx; i++) dx2[i] = 1;
    for (size_t i = 0; i < nw; i++) dw2[i] = 1;
    for (int i = 0; i < Cout; i++) db2[i] = 1;
    for (size_t i = 0; i < t.ny; i++) y2[i] = 1;
    ref_conv2d(&t.p, t.x, t.w, t.b, y2);
    ref_conv2d_bwd_data(&t.p, t.r, t.w, dx2);
    ref_conv2d_bwd_filter(&t.p, t.x, t.r, dw2, db2);
    t.p.acc = 0;
    ref_conv2d(&t.p, t.x, t.w, t.b, t.y);
    int bad = 0;
    for (size_t i = 0; i < t.ny; i++) bad += fabs(y2[i] - 1 - t.y[i]) > 1e-12;
    for (size_t i = 0; i < nx; i++) bad += fabs(dx2[i] - 1 - dx[i]) > 1e-12;
    for (size_t i = 0; i < nw; i++) bad += fabs(dw2[i] - 1 - dw[i]) > 1e-12;
    for (int i = 0; bias && i < Cout; i++) bad += fabs(db2[i] - 1 - db[i]) > 1e-12;
    TU_CHECK(bad == 0, "%s: acc=1 does not add (%d values)", what, bad);
    free(dx2); free(dw2); free(db2); free(y2);
    free(t.x); free(t.w); free(t.b); free(t.r); free(t.y); free(dx); free(dw); free(db);
}

/* ---- gemm -------------------------------------------------------------- */
typedef struct { vkm_gemm_p p; double *a, *b, *bias, *r, *c; } gemm_case;

static double gemm_loss(void *u, const double *unused) {
    gemm_case *t = u;
    (void)unused;
    ref_gemm(&t->p, t->a, t->b, t->bias, t->c);
    return dot(t->r, t->c, (size_t)t->p.M * t->p.N);
}

static void check_gemm(int M, int N, int K, int ta, int tb, int bias, float alpha, unsigned seed) {
    gemm_case t = {{M, N, K, ta, tb, bias, 0, alpha}, 0, 0, 0, 0, 0};
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    unsigned s = seed;
    t.a = alloc(na); t.b = alloc(nb); t.bias = alloc(N); t.r = alloc(nc); t.c = alloc(nc);
    fill(t.a, na, &s); fill(t.b, nb, &s); fill(t.bias, N, &s); fill(t.r, nc, &s);
    double *da = alloc(na), *dbm = alloc(nb), *dbias = alloc(N);
    /* The gradients are GEMMs themselves (dC = r):
     * dA (stored like A) = alpha dC op(B)^T, or its transpose when ta;
     * dB (stored like B) = alpha op(A)^T dC, or its transpose when tb. */
    vkm_gemm_p ga = ta ? (vkm_gemm_p){K, M, N, tb ? 1 : 0, 1, 0, 0, alpha}
                       : (vkm_gemm_p){M, K, N, 0, tb ? 0 : 1, 0, 0, alpha};
    if (ta) ref_gemm(&ga, t.b, t.r, NULL, da);
    else ref_gemm(&ga, t.r, t.b, NULL, da);
    vkm_gemm_p gb = tb ? (vkm_gemm_p){N, K, M, 1, ta ? 1 : 0, 0, 0, alpha}
                       : (vkm_gemm_p){K, N, M, ta ? 0 : 1, 0, 0, 0, alpha};
    if (tb) ref_gemm(&gb, t.r, t.a, NULL, dbm);
    else ref_gemm(&gb, t.a, t.r, NULL, dbm);
    for (int n = 0; n < N; n++) {
        dbias[n] = 0;
        for (int m = 0; m < M; m++) dbias[n] += t.r[(size_t)m * N + n];
    }
    char what[128];
    snprintf(what, sizeof what, "gemm M%d N%d K%d ta%d tb%d bias%d", M, N, K, ta, tb, bias);
    double e = tu_gradcheck(gemm_loss, &t, t.a, da, na, 200, H, seed);
    TU_CHECK(e < TOL, "%s: dA error %g", what, e);
    e = tu_gradcheck(gemm_loss, &t, t.b, dbm, nb, 200, H, seed);
    TU_CHECK(e < TOL, "%s: dB error %g", what, e);
    if (bias) {
        e = tu_gradcheck(gemm_loss, &t, t.bias, dbias, N, 0, H, seed);
        TU_CHECK(e < TOL, "%s: dbias error %g", what, e);
    }
    free(t.a); free(t.b); free(t.bias); free(t.r); free(t.c); free(da); free(dbm); free(dbias);
}

/* ---- linear ------------------------------------------------------------ */
typedef struct { vkm_linear_p p; double *x, *w, *b, *r, *y; } lin_case;

static double lin_loss(void *u, const double *unused) {
    lin_case *t = u;
    (void)unused;
    ref_linear(&t->p, t->x, t->w, t->b, t->y);
    return dot(t->r, t->y, (size_t)t->p.B * t->p.out);
}

static void check_linear(int B, int in, int out, int bias, unsigned seed) {
    lin_case t = {{B, in, out, bias, 0}, 0, 0, 0, 0, 0};
    size_t nx = (size_t)B * in, nw = (size_t)out * in, ny = (size_t)B * out;
    unsigned s = seed;
    t.x = alloc(nx); t.w = alloc(nw); t.b = alloc(out); t.r = alloc(ny); t.y = alloc(ny);
    fill(t.x, nx, &s); fill(t.w, nw, &s); fill(t.b, out, &s); fill(t.r, ny, &s);
    double *dx = alloc(nx), *dw = alloc(nw), *db = alloc(out);
    ref_linear_bwd_data(&t.p, t.r, t.w, dx);
    ref_linear_bwd_weight(&t.p, t.x, t.r, dw, db);
    char what[96];
    snprintf(what, sizeof what, "linear B%d in%d out%d bias%d", B, in, out, bias);
    double e = tu_gradcheck(lin_loss, &t, t.x, dx, nx, 0, H, seed);
    TU_CHECK(e < TOL, "%s: dx error %g", what, e);
    e = tu_gradcheck(lin_loss, &t, t.w, dw, nw, 200, H, seed);
    TU_CHECK(e < TOL, "%s: dw error %g", what, e);
    if (bias) {
        e = tu_gradcheck(lin_loss, &t, t.b, db, out, 0, H, seed);
        TU_CHECK(e < TOL, "%s: db error %g", what, e);
    }
    free(t.x); free(t.w); free(t.b); free(t.r); free(t.y); free(dx); free(dw); free(db);
}

/* ---- hpf --------------------------------------------------------------- */
typedef struct { vkm_hpf_p p; double *x, *r, *y; size_t n; } hpf_case;

static double hpf_loss(void *u, const double *unused) {
    hpf_case *t = u;
    (void)unused;
    ref_hpf(&t->p, t->x, t->y);
    return dot(t->r, t->y, t->n);
}

static void check_hpf(int B, int C, int Hh, int W, float scale, unsigned seed) {
    hpf_case t = {{B, C, Hh, W, scale, 0}, 0, 0, 0, (size_t)B * C * Hh * W};
    unsigned s = seed;
    t.x = alloc(t.n); t.r = alloc(t.n); t.y = alloc(t.n);
    fill(t.x, t.n, &s); fill(t.r, t.n, &s);
    double *dx = alloc(t.n);
    ref_hpf_bwd(&t.p, t.r, dx);
    double e = tu_gradcheck(hpf_loss, &t, t.x, dx, t.n, 0, H, seed);
    TU_CHECK(e < TOL, "hpf B%d C%d %dx%d: dx error %g", B, C, Hh, W, e);
    /* symmetric kernel: the adjoint equals the forward */
    ref_hpf(&t.p, t.r, t.y);
    double worst = 0;
    for (size_t i = 0; i < t.n; i++) worst = fmax(worst, fabs(t.y[i] - dx[i]));
    TU_CHECK(worst < 1e-12, "hpf: bwd differs from fwd by %g", worst);
    free(t.x); free(t.r); free(t.y); free(dx);
}

int main(void) {
    unsigned seed = 7;
    check_conv(2, 3, 5, 6, 4, 3, 1, 1, 0, seed++);
    check_conv(1, 2, 7, 5, 3, 3, 0, 0, 0, seed++);
    check_conv(2, 5, 4, 4, 3, 1, 0, 0, 0, seed++);
    check_conv(2, 3, 3, 5, 2, 1, 1, 1, 0, seed++);
    check_conv(2, 3, 4, 4, 5, 4, 0, 1, 0, seed++); /* style encoder's valid 4x4 */
    check_conv(1, 2, 5, 3, 2, 4, 1, 0, 0, seed++);
    check_conv(2, 3, 6, 8, 4, 3, 1, 1, 2, seed++); /* up: the conv of the nearest-upsampled input */
    check_conv(1, 2, 4, 6, 3, 4, 1, 0, 2, seed++);
    check_conv(2, 3, 6, 8, 4, 3, 1, 1, 1, seed++); /* pool: the 2x2 mean of the output */
    check_conv(1, 2, 7, 5, 3, 3, 1, 1, 1, seed++); /* odd: the floor drops a row and a column */
    check_conv(2, 2, 6, 6, 3, 4, 1, 1, 1, seed++);
    check_conv(2, 3, 5, 4, 2, 1, 0, 0, 1, seed++);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) check_gemm(5, 7, 3, ta, tb, (ta + tb) & 1, 0.7f, seed++);
    check_linear(3, 5, 4, 1, seed++);
    check_linear(1, 2, 6, 0, seed++);
    check_hpf(2, 3, 5, 7, 1.0f, seed++);
    check_hpf(1, 1, 1, 2, 0.5f, seed++);
    return tu_finish("test_refgrad_conv");
}
