/* ctest (no Vulkan): central-difference checks of the elementwise family's
 * reference backwards against their forwards, loss = sum r .* forward(...)
 * with random r: axpby (x, y), concat <-> slice, meann -> meann_bwd, l1loss ->
 * l1loss_bwd (x and y), bce -> bce_bwd (both targets), reduce (its adjoint is
 * a broadcast; it has no backward op because it only appears in backwards).
 * Also the Philox4x32-10 known-answer vectors of Random123 and properties of
 * the reference randn. adam, ema, randn and fill have no gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/ref/ref_elem.h"
#include "tests/testutil.h"

#define TOL 1e-6
#define H 1e-5

static unsigned lcg(unsigned *s) { return *s = *s * 1664525u + 1013904223u; }
static double unif(unsigned *s) { return (lcg(s) >> 8) * (1.0 / 16777216.0); }
static double gauss(unsigned *s) {
    double u = unif(s) + 1e-12, v = unif(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
static double *randv(unsigned *s, size_t n, double std) {
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) v[i] = std * gauss(s);
    return v;
}
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* One struct for every loss closure: which op, its parameters and operands. */
typedef struct {
    int op;
    const void *p;
    double *a, *b, *c, *d; /* operands; which one varies is `which` */
    const double *r;       /* the random weights of the output */
    size_t nout;
    double *tmp;
    int which;
} ctx_t;

static double fwd_loss(void *user, const double *x) {
    ctx_t *c = user;
    switch (c->op) {
    case 0: /* axpby */
        ref_axpby(c->p, c->which ? c->a : x, c->which ? x : c->b, c->tmp);
        break;
    case 1: /* concat: whole's other channels fixed (c->c) */
        memcpy(c->tmp, c->c, c->nout * sizeof *c->tmp);
        ref_concat(c->p, x, c->tmp);
        break;
    case 2: /* slice */
        ref_slice(c->p, x, c->tmp);
        break;
    case 3: { /* meann: operand `which` varies */
        const double *xs[4] = {c->a, c->b, c->c, c->d};
        xs[c->which] = x;
        ref_meann(c->p, xs, c->tmp);
        break;
    }
    case 4: /* l1loss */
        ref_l1loss(c->p, c->which ? c->a : x, c->which ? x : c->b, c->tmp);
        break;
    case 5: /* bce */
        ref_bce(c->p, x, c->tmp);
        break;
    case 6: /* reduce */
        ref_reduce(c->p, x, c->tmp);
        break;
    }
    return dot(c->r, c->tmp, c->nout);
}

static void check(const char *what, ctx_t *c, double *x, const double *grad, size_t n) {
    double e = tu_gradcheck(fwd_loss, c, x, grad, n, 200, H, 7);
    TU_CHECK(e < TOL, "%s: worst relative gradient error %.3e", what, e);
    printf("%-22s worst rel err %.2e\n", what, e);
}

static void test_axpby(unsigned *s) {
    const int n = 37;
    vkm_axpby_p p = {n, 0.7f, -1.3f, 0};
    double *x = randv(s, n, 1), *y = randv(s, n, 1), *r = randv(s, n, 1), *tmp = randv(s, n, 1);
    double *dx = calloc(n, sizeof *dx), *dy = calloc(n, sizeof *dy);
    /* backward = axpby itself: dx = a r, dy = b r (b = 0: y unread) */
    vkm_axpby_p bx = {n, p.a, 0, 0}, by = {n, p.b, 0, 0};
    ref_axpby(&bx, r, NULL, dx);
    ref_axpby(&by, r, NULL, dy);
    ctx_t c = {0, &p, x, y, 0, 0, r, n, tmp, 0};
    check("axpby dx", &c, x, dx, n);
    c.which = 1;
    check("axpby dy", &c, y, dy, n);
    free(x); free(y); free(r); free(tmp); free(dx); free(dy);
}

static void test_chcopy(unsigned *s) {
    vkm_chcopy_p p = {2, 3, 7, 5, 2, 0};
    size_t np = 2 * 3 * 5, nw = 2 * 7 * 5;
    double *part = randv(s, np, 1), *whole = randv(s, nw, 1), *rest = randv(s, nw, 1);
    double *rw = randv(s, nw, 1), *rp = randv(s, np, 1), *tmpw = calloc(nw, 8), *tmpp = calloc(np, 8);
    double *gpart = calloc(np, 8), *gwhole = calloc(nw, 8);
    ref_slice(&p, rw, gpart);   /* concat's backward */
    ref_concat(&p, rp, gwhole); /* slice's backward, into zeros */
    ctx_t c = {1, &p, 0, 0, rest, 0, rw, nw, tmpw, 0};
    check("concat dpart", &c, part, gpart, np);
    ctx_t d = {2, &p, 0, 0, 0, 0, rp, np, tmpp, 0};
    check("slice dwhole", &d, whole, gwhole, nw);
    free(part); free(whole); free(rest); free(rw); free(rp); free(tmpw); free(tmpp);
    free(gpart); free(gwhole);
}

static void test_meann(unsigned *s) {
    const int n = 23;
    for (int count = 1; count <= 4; count++) {
        vkm_meann_p p = {n, count, 0};
        double *x[4], *g[4], *r = randv(s, n, 1), *tmp = calloc(n, 8);
        for (int k = 0; k < 4; k++) x[k] = randv(s, n, 1), g[k] = calloc(n, 8);
        ref_meann_bwd(&p, r, g);
        for (int k = 0; k < count; k++) {
            ctx_t c = {3, &p, x[0], x[1], x[2], x[3], r, n, tmp, k};
            char what[64];
            snprintf(what, sizeof what, "meann(%d) dx%d", count, k);
            check(what, &c, x[k], g[k], n);
        }
        for (int k = 0; k < 4; k++) free(x[k]), free(g[k]);
        free(r); free(tmp);
    }
}

static void test_losses(unsigned *s) {
    const int n = 42;
    double g[3] = {0.3, -1.7, 2.5}, out[4], r[4] = {0, 0, 0, 0};
    double *x = randv(s, n, 1), *y = randv(s, n, 1), *dx = calloc(n, 8), *dy = calloc(n, 8);
    for (int i = 0; i < n; i++) /* keep |x - y| well above the step */
        if (fabs(x[i] - y[i]) < 1e-3) y[i] += 0.01;
    for (int parts = 0; parts <= 3; parts += 3) { /* 3: a sum of three equal parts' means */
        vkm_loss_p p = {n, 2, 1, 0, 0, parts};
        r[2] = g[1]; /* loss = g[g_index] * out[out_index] */
        ref_l1loss_bwd(&p, x, y, g, dx, dy);
        ctx_t c = {4, &p, x, y, 0, 0, r, 4, out, 0};
        check(parts ? "l1loss(3 parts) dx" : "l1loss dx", &c, x, dx, n);
        c.which = 1;
        check(parts ? "l1loss(3 parts) dy" : "l1loss dy", &c, y, dy, n);
    }
    for (int t = 0; t <= 1; t++) {
        vkm_loss_p q = {n, 1, 2, (float)t, 0, 0};
        double rr[4] = {0, g[2], 0, 0}, *z = randv(s, n, 4);
        ref_bce_bwd(&q, z, g, dx);
        ctx_t b = {5, &q, 0, 0, 0, 0, rr, 4, out, 0};
        check(t ? "bce(target 1) dx" : "bce(target 0) dx", &b, z, dx, n);
        /* large logits: the stable form stays finite and exact */
        double big[2] = {-800, 800}, o2[4];
        ref_bce(&(vkm_loss_p){2, 0, 0, (float)t, 0, 0}, big, o2);
        TU_CHECK(isfinite(o2[0]) && fabs(o2[0] - 400) < 1e-9, "bce(+-800, target %d) = %g, want 400", t, o2[0]);
        free(z);
    }
    /* sign(0) = 0: ties give no gradient */
    vkm_loss_p one = {1, 0, 0, 0, 0, 0};
    double a = 1.5, b = 1.5, da = 9, db = 9, gg = 1;
    ref_l1loss_bwd(&one, &a, &b, &gg, &da, &db);
    TU_CHECK(da == 0 && db == 0, "l1loss_bwd at a tie: %g %g", da, db);
    free(x); free(y); free(dx); free(dy);
}

static void test_reduce(unsigned *s) {
    for (int mean = 0; mean <= 1; mean++) {
        vkm_reduce_p p = {3, 11, mean, 0};
        double *x = randv(s, 33, 1), *r = randv(s, 3, 1), tmp[3], gx[33];
        for (int i = 0; i < 33; i++) gx[i] = r[i / 11] / (mean ? 11.0 : 1.0);
        ctx_t c = {6, &p, 0, 0, 0, 0, r, 3, tmp, 0};
        check(mean ? "reduce(mean) dx" : "reduce(sum) dx", &c, x, gx, 33);
        free(x); free(r);
    }
}

/* Random123's known-answer vectors for philox4x32-10. */
static void test_philox(void) {
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        ref_philox4x32_10(kat[k], kat[k] + 4, out);
        TU_CHECK(!memcmp(out, kat[k] + 6, sizeof out), "philox KAT %d: %08x %08x %08x %08x", k, out[0],
                 out[1], out[2], out[3]);
    }
    /* randn: element i does not depend on n (prefixes agree), offsets and
     * seeds change everything, and the first 1e5 normals look normal */
    enum { N = 100000 };
    uint32_t seeds[4] = {1, 2, 3, 4};
    double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    vkm_randn_p p = {N, 1, 5, 0, 1, 0};
    ref_randn(&p, seeds, a);
    vkm_randn_p q = p;
    q.n = 13;
    ref_randn(&q, seeds, b);
    TU_CHECK(!memcmp(a, b, 13 * sizeof *a), "randn prefix differs");
    q.offset = 6;
    ref_randn(&q, seeds, b);
    TU_CHECK(memcmp(a, b, 13 * sizeof *a), "randn ignores the offset");
    q.offset = p.offset; /* a shard (data-parallel rows) is a slice of the whole draw */
    q.block0 = 25;
    ref_randn(&q, seeds, b);
    TU_CHECK(!memcmp(a + 100, b, 13 * sizeof *a), "randn shard at block 25 differs from elements 100..112");
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += a[i], v += a[i] * a[i];
    m /= N;
    v = v / N - m * m;
    TU_CHECK(fabs(m) < 0.02 && fabs(sqrt(v) - 1) < 0.01, "randn mean %g std %g", m, sqrt(v));
    free(a);
    free(b);
}

int main(void) {
    unsigned s = 12345;
    test_axpby(&s);
    test_chcopy(&s);
    test_meann(&s);
    test_losses(&s);
    test_reduce(&s);
    test_philox();
    return tu_finish("test_refgrad_elem");
}
