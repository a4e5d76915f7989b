/* ctest: the static graph on a small network that uses every graph op (conv
 * with/without bias, linear, instance norm and AdaIN fused with their
 * activation, activations, pool, conv fused with pool or upsample,
 * upsample, HPF, concat with a zero slot, slice, mean, axpby, randn, L1, BCE,
 * detach, a tensor used several times): Vulkan vs the CPU reference for loss
 * values and every parameter gradient, central differences of the reference
 * gradient, replaying one recording N times == N fresh recordings, and the
 * memory planner sharing bytes. Runs under the validation layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph.h"
#include "tests/testutil.h"

enum { B = 2, C = 4, H = 9, W = 7, S = 5 };
/* float32 device vs double reference through ~60 ops: observed <= 1e-8 */
#define GRAD_NMSE_LIMIT 1e-6

typedef struct {
    vkm_store *st;
    int x_in, target, weights, seeds, steps, loss_out[2];
    int params[16];
    int np;
} net;

static void build_store(net *n) {
    n->st = vkm_store_new();
    vkm_store *st = n->st;
    n->x_in = vkm_store_add(st, "x", VKM_S_INPUT, vkm_shp(B, 1, H, W));
    n->target = vkm_store_add(st, "target", VKM_S_INPUT, vkm_shp(B, 1, H, W));
    n->weights = vkm_store_add(st, "weights", VKM_S_INPUT, vkm_shp(1, 1, 1, 4));
    n->seeds = vkm_store_add(st, "seeds", VKM_S_U32, vkm_shp(1, 1, 1, 2));
    n->loss_out[0] = vkm_store_add(st, "loss_l1", VKM_S_STATE, vkm_shp(1, 1, 1, 1));
    n->loss_out[1] = vkm_store_add(st, "loss_bce", VKM_S_STATE, vkm_shp(1, 1, 1, 1));
    struct { const char *name; vkm_shape s; float std, val; } ps[] = {
        {"conv1.w", {C, 1, 3, 3}, 0.5f, 0}, {"conv1.b", {C, 1, 1, 1}, 0.1f, 0},
        {"in.g", {C, 1, 1, 1}, 0.2f, 1}, {"in.b", {C, 1, 1, 1}, 0.2f, 0},
        {"conv2.w", {C, 2 * C, 1, 1}, 0.4f, 0}, {"style.w", {2 * C, S, 1, 1}, 0.4f, 0},
        {"style.b", {2 * C, 1, 1, 1}, 0.1f, 0}, {"out.w", {1, C, 3, 3}, 0.3f, 0},
        {"out.b", {1, 1, 1, 1}, 0.1f, 0}, {"disc.w", {1, C, 4, 4}, 0.3f, 0},
        {"disc.b", {1, 1, 1, 1}, 0.1f, 0}, {"down.w", {1, C, 3, 3}, 0.3f, 0},
        {"down.b", {1, 1, 1, 1}, 0.1f, 0}, {"up.w", {1, 1, 3, 3}, 0.4f, 0},
        {"up.b", {1, 1, 1, 1}, 0.1f, 0},
    };
    n->np = (int)(sizeof ps / sizeof ps[0]);
    for (int i = 0; i < n->np; i++)
        n->params[i] = vkm_store_param(st, ps[i].name, ps[i].s, ps[i].std, ps[i].val, 1e-2f, 1, 0);
    n->steps = vkm_store_add(st, "steps", VKM_S_U32, vkm_shp(1, 1, 1, vkm_store_count(st) + 1));
}

/* forward (+ backward, + adam/ema when train) of the test network */
/* detach = 0 for the central-difference check: finite differences see the
 * detached path too, so the analytic gradient differs from them by design. */
static vkm_graph *build_graph(net *n, int backward, int train, int detach) {
    vkm_graph *g = vkm_graph_new(n->st);
#define P(i) vkm_g_store(g, n->params[i])
    vkm_t x = vkm_g_store(g, n->x_in), tgt = vkm_g_store(g, n->target);
    vkm_t h = vkm_g_conv2d(g, x, P(0), P(1), 1);                  /* [B,C,9,7] */
    vkm_t hn = vkm_g_instnorm_act(g, h, P(2), P(3), 0.2f);   /* fused IN + LReLU */
    vkm_t d = vkm_g_avgpool2(g, hn);                               /* [B,C,4,3] */
    vkm_t u = vkm_g_upsample2(g, d);                               /* [B,C,8,6] */
    vkm_t parts[3] = {u, 0, 0};
    vkm_t cat = vkm_g_concat(g, parts, 2, C);                      /* [B,2C,8,6] zero slot */
    vkm_t c2 = vkm_g_conv2d(g, cat, P(4), 0, 0);                   /* 1x1, no bias */
    vkm_t z = vkm_g_randn(g, vkm_shp(B, S, 1, 1), n->seeds, 0, 0);
    vkm_t gb = vkm_g_linear(g, z, P(5), P(6));
    vkm_t a = vkm_g_adain_act(g, c2, gb, 0.0f);                  /* fused AdaIN + ReLU */
    vkm_t hp = vkm_g_hpf(g, vkm_g_avgpool2(g, vkm_g_upsample2(g, a)), 0.5f);
    vkm_t r = vkm_g_axpby(g, a, hp, 0.70710678f, 0.70710678f);
    vkm_t m2[2] = {r, detach ? vkm_g_detach(g, a) : vkm_g_act(g, a, 0.2f)};
    vkm_t mean = vkm_g_mean(g, m2, 2);
    vkm_t img = vkm_g_conv2d(g, mean, P(7), P(8), 1);              /* [B,1,8,6] */
    /* plus conv fused with pool, brought back up by a conv fused with
     * upsample: [B,C,8,6] -> [B,1,4,3] -> [B,1,8,6] */
    vkm_t pooled = vkm_g_conv2d_avgpool2(g, mean, P(11), P(12), 1);
    img = vkm_g_axpby(g, img, vkm_g_upsample2_conv2d(g, pooled, P(13), P(14), 1), 1.0f, 0.5f);
    vkm_t tcrop = vkm_g_slice(g, vkm_g_concat(g, (vkm_t[]){img, img}, 2, 0), 1, 1);
    /* the target brought to 8x6 through pool/upsample keeps the test simple */
    vkm_t tsm = vkm_g_upsample2(g, vkm_g_avgpool2(g, tgt));       /* [B,1,8,6] */
    vkm_t loss1 = vkm_g_l1(g, tcrop, tsm);
    vkm_t logit = vkm_g_conv2d(g, vkm_g_act(g, mean, 0.2f), P(9), P(10), 0); /* [B,1,5,3] */
    vkm_t loss2 = vkm_g_bce(g, logit, 1.0f);
    vkm_g_output(g, loss1, n->loss_out[0]);
    vkm_g_output(g, loss2, n->loss_out[1]);
    if (backward) {
        vkm_t losses[2] = {loss1, loss2};
        int wi[2] = {0, 1};
        vkm_g_backward(g, losses, wi, 2, n->weights, n->params, n->np);
        if (train) {
            vkm_g_adam(g, 0.0f, 0.99f, 1e-8f, 1e-4f, n->steps);
            vkm_g_ema(g, 0.9f);
        }
    }
#undef P
    return g;
}

static void set_inputs_ref(net *n, vkm_store_ref *sr, const float *x, const float *t, const float *w, uint32_t seed) {
    double *dx = vkm_store_ref_data(sr, n->x_in, 0), *dt = vkm_store_ref_data(sr, n->target, 0);
    for (int i = 0; i < B * H * W; i++) dx[i] = x[i], dt[i] = t[i];
    double *dw = vkm_store_ref_data(sr, n->weights, 0);
    for (int i = 0; i < 4; i++) dw[i] = w[i];
    uint32_t *s = vkm_store_ref_u32(sr, n->seeds);
    s[0] = seed, s[1] = 77;
}

static double ref_loss(void *user, const double *pv) {
    (void)pv; /* the parameter array is the store's own memory */
    void **u = user;
    net *n = u[0];
    vkm_store_ref *sr = u[1];
    vkm_graph *g = u[2];
    char err[256];
    if (vkm_graph_run_ref(g, sr, err, sizeof err)) return NAN;
    const float *w = u[3];
    return w[0] * vkm_store_ref_data(sr, n->loss_out[0], 0)[0] + w[1] * vkm_store_ref_data(sr, n->loss_out[1], 0)[0];
}

/* NMSE with the denominator floored at 1e-6 of the mean square of all
 * gradients: a gradient that is zero in exact arithmetic (a conv bias before
 * instance norm) is float noise on the device and must not divide by ~0. */
static double nmse(const float *got, const double *want, int64_t n, double floor_ms) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += (got[i] - want[i]) * (got[i] - want[i]);
        den += want[i] * want[i];
    }
    if (den < 1e-6 * floor_ms * n) den = 1e-6 * floor_ms * n;
    return num == 0 ? 0 : num / (den > 1e-30 ? den : 1e-30);
}

int main(void) {
    net n;
    build_store(&n);
    vkm_graph *g = build_graph(&n, 1, 0, 1);
    TU_CHECK(!vkm_graph_error(g)[0], "graph error: %s", vkm_graph_error(g));
    TU_CHECK(vkm_graph_plan(g, 0) == 0, "plan");
    vkm_graph_stats gs = vkm_graph_stats_of(g);
    printf("graph: %d nodes (%d forward), %.0f flops, arena %lld bytes vs naive %lld\n", gs.nodes, gs.forward_nodes,
           gs.flops, (long long)gs.arena_bytes, (long long)gs.naive_bytes);
    TU_CHECK(gs.arena_bytes < gs.naive_bytes, "the planner shared nothing");

    float x[B * H * W], t[B * H * W], w[4] = {1.0f, 0.5f, 0, 0};
    unsigned s = 12345;
    for (int i = 0; i < B * H * W; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 9) % 1000) / 500.0f - 1;
        s = s * 1103515245u + 12345u;
        t[i] = (float)((s >> 9) % 1000) / 500.0f - 1;
    }

    /* ---- Vulkan ---- */
    vkm_opts o = vkm_default_opts();
    o.validate = 1;
    vkm_ctx *ctx;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    vkm_store_dev *sd;
    TU_CHECK(vkm_store_device_init(n.st, ctx, &sd) == 0, "store: %s", vkm_error(ctx));
    TU_CHECK(vkm_store_init_params(sd, 7) == 0, "init");
    vkm_store_write(sd, n.x_in, 0, x);
    vkm_store_write(sd, n.target, 0, t);
    vkm_store_write(sd, n.weights, 0, w);
    uint32_t seeds[2] = {99, 77};
    vkm_store_write(sd, n.seeds, 0, seeds);
    vkm_arena *arena = NULL;
    TU_CHECK(vkm_arena_new(ctx, &g, 1, &arena) == 0, "arena: %s", vkm_error(ctx));
    vkm_graph_exec *e;
    TU_CHECK(vkm_graph_record(g, sd, arena, 0, &e) == 0, "record: %s", vkm_error(ctx));
    TU_CHECK(vkm_graph_exec_run(e) == 0, "run: %s", vkm_error(ctx));

    /* ---- reference from the same weights ---- */
    vkm_store_ref *sr = vkm_store_ref_new(n.st);
    for (int i = 0; i < n.np; i++) {
        const vkm_store_entry *en = vkm_store_get(n.st, n.params[i]);
        float *h = malloc(en->numel * sizeof *h);
        vkm_store_read(sd, n.params[i], 0, h);
        double *d = vkm_store_ref_data(sr, n.params[i], 0);
        for (int64_t k = 0; k < en->numel; k++) d[k] = h[k];
        free(h);
    }
    set_inputs_ref(&n, sr, x, t, w, 99);
    TU_CHECK(vkm_graph_run_ref(g, sr, err, sizeof err) == 0, "ref: %s", err);
    for (int k = 0; k < 2; k++) {
        float lv;
        vkm_store_read(sd, n.loss_out[k], 0, &lv);
        double want = vkm_store_ref_data(sr, n.loss_out[k], 0)[0];
        printf("loss %d: vulkan %.7g reference %.7g\n", k, lv, want);
        TU_CHECK(fabs(lv - want) <= 1e-4 * fmax(1, fabs(want)), "loss %d differs", k);
    }
    double worst = 0, ms = 0;
    int64_t cnt = 0;
    for (int i = 0; i < n.np; i++) {
        const vkm_store_entry *en = vkm_store_get(n.st, n.params[i]);
        const double *gr = vkm_store_ref_data(sr, n.params[i], 1);
        for (int64_t k = 0; k < en->numel; k++) ms += gr[k] * gr[k], cnt++;
    }
    ms /= cnt;
    for (int i = 0; i < n.np; i++) {
        const vkm_store_entry *en = vkm_store_get(n.st, n.params[i]);
        float *h = malloc(en->numel * sizeof *h);
        vkm_store_read(sd, n.params[i], 1, h);
        double e2 = nmse(h, vkm_store_ref_data(sr, n.params[i], 1), en->numel, ms);
        if (e2 > worst) worst = e2;
        TU_CHECK(e2 < GRAD_NMSE_LIMIT, "gradient of %s: NMSE %.3e", en->name, e2);
        free(h);
    }
    printf("parameter gradients: worst NMSE %.3e (limit %.0e)\n", worst, GRAD_NMSE_LIMIT);

    /* ---- central differences of the reference gradient ---- */
    vkm_graph *gf = build_graph(&n, 0, 0, 0), *gb = build_graph(&n, 1, 0, 0);
    TU_CHECK(vkm_graph_run_ref(gb, sr, err, sizeof err) == 0, "ref: %s", err);
    void *user[4] = {&n, sr, gf, w};
    for (int i = 0; i < n.np; i++) {
        const vkm_store_entry *en = vkm_store_get(n.st, n.params[i]);
        double *pv = vkm_store_ref_data(sr, n.params[i], 0);
        double *gr = malloc(en->numel * sizeof *gr);
        memcpy(gr, vkm_store_ref_data(sr, n.params[i], 1), en->numel * sizeof *gr);
        double e3 = tu_gradcheck(ref_loss, user, pv, gr, (size_t)en->numel, 6, 1e-5, 31 + i);
        TU_CHECK(e3 < 1e-5, "central difference of %s: %.3e", en->name, e3);
        free(gr);
    }

    /* ---- replay: one recording run N times == N fresh recordings ---- */
    vkm_graph *gt = build_graph(&n, 1, 1, 1);
    TU_CHECK(!vkm_graph_error(gt)[0], "train graph: %s", vkm_graph_error(gt));
    vkm_graph_plan(gt, 0);
    vkm_arena *arena2 = NULL;
    TU_CHECK(vkm_arena_new(ctx, &gt, 1, &arena2) == 0, "arena2: %s", vkm_error(ctx));
    const int steps = 3;
    float *final[2] = {0, 0};
    int64_t pn = vkm_store_param_numel(n.st);
    for (int mode = 0; mode < 2; mode++) {
        vkm_store_init_params(sd, 7);
        uint32_t *stp = calloc(vkm_store_count(n.st) + 1, 4);
        vkm_graph_exec *rec = NULL;
        for (int it = 0; it < steps; it++) {
            const int *upd;
            int nu = vkm_g_updated_params(gt, &upd);
            for (int k = 0; k < nu; k++) stp[upd[k]]++;
            vkm_store_write(sd, n.steps, 0, stp);
            seeds[0] = 1000 + it;
            vkm_store_write(sd, n.seeds, 0, seeds);
            if (mode == 1 || !rec) {
                vkm_graph_exec_free(rec);
                TU_CHECK(vkm_graph_record(gt, sd, arena2, 0, &rec) == 0, "record: %s", vkm_error(ctx));
            }
            TU_CHECK(vkm_graph_exec_run(rec) == 0, "run: %s", vkm_error(ctx));
        }
        vkm_graph_exec_free(rec);
        free(stp);
        final[mode] = calloc(pn + 64 * n.np, sizeof(float));
        int64_t off = 0;
        for (int i = 0; i < n.np; i++) {
            vkm_store_read(sd, n.params[i], 0, final[mode] + off);
            off += vkm_store_get(n.st, n.params[i])->numel;
        }
    }
    TU_CHECK(!memcmp(final[0], final[1], pn * sizeof(float)), "replayed and re-recorded training differ");
    float p0[C * 9];
    vkm_store_read(sd, n.params[0], 0, p0);
    vkm_store_init_params(sd, 7);
    float p1[C * 9];
    vkm_store_read(sd, n.params[0], 0, p1);
    TU_CHECK(memcmp(p0, p1, sizeof p0) != 0, "training did not change the parameters");
    free(final[0]);
    free(final[1]);

    vkm_arena_free(arena);
    vkm_arena_free(arena2);
    vkm_graph_exec_free(e);
    vkm_graph_free(g);
    vkm_graph_free(gf);
    vkm_graph_free(gb);
    vkm_graph_free(gt);
    vkm_store_ref_free(sr);
    vkm_store_device_free(sd);
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation messages", vkm_validation_messages(ctx));
    vkm_ctx_destroy(ctx);
    vkm_store_free(n.st);
    return tu_finish("test_graph");
}
