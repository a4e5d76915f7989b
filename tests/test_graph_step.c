/* ctest (issue 3 conformance): config `test`, one full MIST GAN training step
 * (D update then G update, every loss term, latent and reference style paths,
 * every target domain) on Vulkan and on the CPU reference from identical
 * weights and inputs: every loss value, every parameter gradient and every
 * updated parameter agree; central differences of the reference gradient for
 * sampled parameters of every module; replaying a recorded step N times
 * equals N freshly recorded steps. Under the validation layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/step.h"
#include "tests/testutil.h"

/* Written-down limits. Float32 device vs double reference through a whole
 * step (~1500 ops): gradients observed around 1e-9..1e-7 NMSE. */
#define LOSS_REL_LIMIT 1e-4
/* observed up to ~7e-6 (instance norm of small-variance maps in float32) */
#define GRAD_NMSE_LIMIT 1e-4
/* Updated parameters, per element: where the reference gradient is
 * significant (>= 1e-3 of the rms of all gradients) the device's Adam step
 * must match to 1e-3 of the learning rate; elsewhere the gradient is zero in
 * exact arithmetic (e.g. a conv bias feeding instance norm) and Adam's
 * sign-like first step turns float noise into +-lr, so only |diff| <= 2 lr. */
#define PARAM_LR_FRACTION 1e-3
/* central differences (h = 1e-6) through LeakyReLU and |x| kinks */
#define CENTRAL_DIFF_LIMIT 1e-3

enum { BATCH = 2 };

static void fill_inputs(const mist_net *n, vkm_store_dev *sd, vkm_store_ref *sr, unsigned seed, long it) {
    const vkm_store *st = n->st;
    int ids[MIST_N + 2];
    for (int d = 0; d < MIST_N; d++) ids[d] = n->ids.x[d];
    ids[MIST_N] = n->ids.xref;
    ids[MIST_N + 1] = n->ids.xref2;
    unsigned s = seed;
    for (int k = 0; k < MIST_N + 2; k++) {
        const vkm_store_entry *e = vkm_store_get(st, ids[k]);
        float *h = malloc(e->numel * sizeof *h);
        for (int64_t i = 0; i < e->numel; i++) {
            s = s * 1664525u + 1013904223u;
            h[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
        }
        if (sd) vkm_store_write(sd, ids[k], 0, h);
        if (sr) {
            double *d = vkm_store_ref_data(sr, ids[k], 0);
            for (int64_t i = 0; i < e->numel; i++) d[i] = h[i];
        }
        free(h);
    }
    uint32_t seeds[4] = {seed * 3 + 1, 11, seed * 7 + 5, 13};
    if (sd) vkm_store_write(sd, n->ids.seeds, 0, seeds);
    if (sr) memcpy(vkm_store_ref_u32(sr, n->ids.seeds), seeds, sizeof seeds);
    float w[MIST_NW];
    mist_step_loss_weights(&n->opts, it, w);
    if (sd) vkm_store_write(sd, n->ids.loss_weights, 0, w);
    if (sr)
        for (int i = 0; i < MIST_NW; i++) vkm_store_ref_data(sr, n->ids.loss_weights, 0)[i] = w[i];
}

/* Copies every parameter value (and EMA) from the device store to the reference. */
static void params_to_ref(const mist_net *n, vkm_store_dev *sd, vkm_store_ref *sr) {
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM) continue;
        float *h = malloc(e->numel * sizeof *h);
        for (int what = 0; what < 5; what++) {
            vkm_store_read(sd, id, what, h);
            double *d = vkm_store_ref_data(sr, id, what);
            for (int64_t i = 0; i < e->numel; i++) d[i] = h[i];
        }
        free(h);
    }
}

static void steps_advance(const mist_net *n, const mist_step *s, uint32_t *steps, vkm_store_dev *sd, vkm_store_ref *sr) {
    for (int k = 0; k < s->nupdated; k++) steps[s->updated[k]]++;
    if (sd) vkm_store_write(sd, n->ids.adam_steps, 0, steps);
    if (sr) memcpy(vkm_store_ref_u32(sr, n->ids.adam_steps), steps, (vkm_store_count(n->st) + 1) * 4);
}

/* NMSE of one store tensor's copy `what` (device vs reference), with the
 * denominator floored at 1e-6 of `floor_ms` per element. */
static double cmp(const mist_net *n, vkm_store_dev *sd, vkm_store_ref *sr, int id, int what, double floor_ms) {
    const vkm_store_entry *e = vkm_store_get(n->st, id);
    float *h = malloc(e->numel * sizeof *h);
    vkm_store_read(sd, id, what, h);
    const double *r = vkm_store_ref_data(sr, id, what);
    double num = 0, den = 0;
    for (int64_t i = 0; i < e->numel; i++) {
        num += (h[i] - r[i]) * (h[i] - r[i]);
        den += r[i] * r[i];
    }
    free(h);
    if (den < 1e-6 * floor_ms * e->numel) den = 1e-6 * floor_ms * e->numel;
    return num == 0 ? 0 : num / (den > 1e-300 ? den : 1e-300);
}

static double mean_sq_grads(const mist_net *n, vkm_store_ref *sr) {
    double ms = 0;
    int64_t cnt = 0;
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM) continue;
        const double *g = vkm_store_ref_data(sr, id, 1);
        for (int64_t i = 0; i < e->numel; i++) ms += g[i] * g[i];
        cnt += e->numel;
    }
    return cnt ? ms / cnt : 0;
}

static void one_variant(vkm_ctx *ctx, mist_net *n, int target, int path) {
    char err[512];
    mist_step s;
    if (mist_step_build(&s, n, target, path, err, sizeof err)) {
        TU_CHECK(0, "build t%d p%d: %s", target, path, err);
        return;
    }
    vkm_graph_plan(s.g, vkm_chunk_limit(ctx));
    vkm_graph_stats gs = vkm_graph_stats_of(s.g);
    vkm_store_dev *sd;
    TU_CHECK(vkm_store_device_init(n->st, ctx, &sd) == 0, "store: %s", vkm_error(ctx));
    vkm_store_init_params(sd, 11);
    vkm_store_ref *sr = vkm_store_ref_new(n->st);
    params_to_ref(n, sd, sr);
    fill_inputs(n, sd, sr, 100 + target * 2 + path, 10);
    uint32_t *steps = calloc(vkm_store_count(n->st) + 1, 4);
    steps_advance(n, &s, steps, sd, sr);
    vkm_arena *arena = NULL;
    vkm_graph_exec *e = NULL;
    TU_CHECK(vkm_arena_new(ctx, &s.g, 1, &arena) == 0, "arena: %s", vkm_error(ctx));
    TU_CHECK(vkm_graph_record(s.g, sd, arena, 0, &e) == 0, "record: %s", vkm_error(ctx));
    TU_CHECK(e && vkm_graph_exec_run(e) == 0, "run: %s", vkm_error(ctx));
    TU_CHECK(vkm_graph_run_ref(s.g, sr, err, sizeof err) == 0, "reference: %s", err);

    float lv[MIST_NLOSS];
    vkm_store_read(sd, n->ids.losses, 0, lv);
    const double *lr = vkm_store_ref_data(sr, n->ids.losses, 0);
    printf("target %d %s path: %d nodes, %.3g GFLOP, %d dispatches;", target, path ? "reference" : "latent", gs.nodes,
           gs.flops * 1e-9, e ? vkm_seq_dispatch_count(vkm_graph_exec_seq(e)) : 0);
    for (int l = 0; l < MIST_NLOSS; l++) {
        printf(" %s %.5g/%.5g", mist_loss_name(l), lv[l], lr[l]);
        TU_CHECK(fabs(lv[l] - lr[l]) <= LOSS_REL_LIMIT * fmax(1e-3, fabs(lr[l])), "loss %s: vulkan %.7g reference %.7g",
                 mist_loss_name(l), lv[l], lr[l]);
    }
    printf("\n");
    double ms = mean_sq_grads(n, sr), worst_g = 0, worst_p = 0;
    int64_t noise_elems = 0, sig_elems = 0;
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *en = vkm_store_get(n->st, id);
        if (en->kind != VKM_S_PARAM) continue;
        double eg = cmp(n, sd, sr, id, 1, ms);
        if (eg > worst_g) worst_g = eg;
        TU_CHECK(eg <= GRAD_NMSE_LIMIT, "t%d p%d gradient of %s: NMSE %.3e", target, path, en->name, eg);
        float *pv = malloc(en->numel * sizeof *pv);
        vkm_store_read(sd, id, 0, pv);
        const double *pr = vkm_store_ref_data(sr, id, 0), *gr = vkm_store_ref_data(sr, id, 1);
        int bad = 0;
        for (int64_t i = 0; i < en->numel; i++) {
            double diff = fabs(pv[i] - pr[i]);
            if (fabs(gr[i]) >= 1e-3 * sqrt(ms)) {
                sig_elems++;
                double allowed = PARAM_LR_FRACTION * en->lr + 1e-7 * fabs(pr[i]); /* + float rounding of p */
                if (diff / allowed > worst_p) worst_p = diff / allowed;
                bad += diff > allowed;
            } else {
                noise_elems++;
                bad += diff > 2 * en->lr + 1e-7 * fabs(pr[i]);
            }
        }
        TU_CHECK(!bad, "t%d p%d updated %s: %d elements differ", target, path, en->name, bad);
        free(pv);
    }
    printf("  worst gradient NMSE %.3e (limit %.0e); updated parameters: worst diff %.2f of the allowed "
           "(%.0e lr + float rounding) over %lld elements with gradient, %lld zero-gradient elements within 2 lr\n",
           worst_g, GRAD_NMSE_LIMIT, worst_p, PARAM_LR_FRACTION, (long long)sig_elems, (long long)noise_elems);
    free(steps);
    vkm_graph_exec_free(e);
    vkm_arena_free(arena);
    vkm_store_ref_free(sr);
    vkm_store_device_free(sd);
    mist_step_free(&s);
}

/* ---- central differences of the reference gradient ---- */
typedef struct {
    mist_net *n;
    vkm_store_ref *sr;
    vkm_graph *fwd;
    int which;
} cd_ctx;

static double phase_loss(void *user, const double *x) {
    (void)x;
    cd_ctx *c = user;
    char err[256];
    if (vkm_graph_run_ref(c->fwd, c->sr, err, sizeof err)) return NAN;
    const double *l = vkm_store_ref_data(c->sr, c->n->ids.losses, 0);
    const double *w = vkm_store_ref_data(c->sr, c->n->ids.loss_weights, 0);
    if (c->which == 0) return l[MIST_L_D_REAL] + l[MIST_L_D_FAKE];
    return w[MIST_W_ONE] * l[MIST_L_G_ADV] + w[MIST_W_STY] * l[MIST_L_CSL] + w[MIST_W_CYC] * l[MIST_L_CCL] +
           w[MIST_W_DS] * l[MIST_L_SDL] + w[MIST_W_SUP] * l[MIST_L_SUP];
}

static void central_differences(mist_net *n, int target, int path) {
    char err[512];
    for (int which = 0; which < 2; which++) {
        mist_step fb, ff;
        if (mist_loss_build(&fb, n, target, path, which, 1, err, sizeof err) ||
            mist_loss_build(&ff, n, target, path, which, 0, err, sizeof err)) {
            TU_CHECK(0, "loss graph: %s", err);
            return;
        }
        vkm_store_ref *sr = vkm_store_ref_new(n->st);
        for (int id = 0; id < vkm_store_count(n->st); id++) {
            const vkm_store_entry *e = vkm_store_get(n->st, id);
            if (e->kind != VKM_S_PARAM) continue;
            float *h = malloc(e->numel * sizeof *h);
            vkm_store_init_host(n->st, id, 11, h);
            double *d = vkm_store_ref_data(sr, id, 0);
            for (int64_t i = 0; i < e->numel; i++) d[i] = h[i];
            free(h);
        }
        fill_inputs(n, NULL, sr, 7, 0);
        /* the style-diversification term compares against a detached image,
         * which finite differences cannot detach: weight it 0 here */
        vkm_store_ref_data(sr, n->ids.loss_weights, 0)[MIST_W_DS] = 0;
        TU_CHECK(vkm_graph_run_ref(fb.g, sr, err, sizeof err) == 0, "reference: %s", err);
        cd_ctx c = {n, sr, ff.g, which};
        double worst = 0;
        int checked = 0;
        for (int m = 0; m < 7; m++) {
            if ((which == 0) != (m == 6)) continue; /* D phase: the discriminator (module 6); G phase: the rest */
            int picks[2] = {-1, -1}, np = 0;
            for (int id = 0; id < vkm_store_count(n->st); id++) {
                const vkm_store_entry *e = vkm_store_get(n->st, id);
                if (e->kind != VKM_S_PARAM || e->group != m) continue;
                double gsum = 0;
                const double *g = vkm_store_ref_data(sr, id, 1);
                for (int64_t i = 0; i < e->numel; i++) gsum += fabs(g[i]);
                if (gsum == 0) continue; /* heads of other domains: no gradient here */
                if (np == 0) picks[np++] = id;
                else picks[1] = id, np = 2;
            }
            for (int k = 0; k < np; k++) {
                const vkm_store_entry *e = vkm_store_get(n->st, picks[k]);
                double *gr = malloc(e->numel * sizeof *gr);
                memcpy(gr, vkm_store_ref_data(sr, picks[k], 1), e->numel * sizeof *gr);
                double er = tu_gradcheck(phase_loss, &c, vkm_store_ref_data(sr, picks[k], 0), gr, (size_t)e->numel, 3,
                                         1e-6, 17 + picks[k]);
                if (er > worst) worst = er;
                checked++;
                TU_CHECK(er <= CENTRAL_DIFF_LIMIT, "%s loss: central difference of %s: %.3e", which ? "G" : "D", e->name,
                         er);
                free(gr);
            }
        }
        printf("central differences, %s loss, target %d %s path: %d parameters, worst %.3e (limit %.0e)\n",
               which ? "G" : "D", target, path ? "reference" : "latent", checked, worst, CENTRAL_DIFF_LIMIT);
        TU_CHECK(checked >= (which ? 6 : 1), "too few modules checked (%d)", checked);
        vkm_store_ref_free(sr);
        mist_step_free(&fb);
        mist_step_free(&ff);
    }
}

/* ---- replay: one recording run N times == N fresh recordings ---- */
static void replay(vkm_ctx *ctx, mist_net *n) {
    char err[512];
    mist_step s;
    if (mist_step_build(&s, n, 1, MIST_PATH_LATENT, err, sizeof err)) {
        TU_CHECK(0, "build: %s", err);
        return;
    }
    vkm_graph_plan(s.g, vkm_chunk_limit(ctx));
    vkm_arena *arena = NULL;
    TU_CHECK(vkm_arena_new(ctx, &s.g, 1, &arena) == 0, "arena: %s", vkm_error(ctx));
    const int N = 3;
    float *fin[2];
    int64_t total = 0;
    for (int id = 0; id < vkm_store_count(n->st); id++)
        if (vkm_store_get(n->st, id)->kind == VKM_S_PARAM) total += vkm_store_get(n->st, id)->numel;
    for (int mode = 0; mode < 2; mode++) {
        vkm_store_dev *sd;
        vkm_store_device_init(n->st, ctx, &sd);
        vkm_store_init_params(sd, 5);
        uint32_t *steps = calloc(vkm_store_count(n->st) + 1, 4);
        vkm_graph_exec *e = NULL;
        for (int it = 0; it < N; it++) {
            fill_inputs(n, sd, NULL, 50 + it, it);
            steps_advance(n, &s, steps, sd, NULL);
            if (!e || mode == 1) {
                vkm_graph_exec_free(e);
                TU_CHECK(vkm_graph_record(s.g, sd, arena, 0, &e) == 0, "record: %s", vkm_error(ctx));
            }
            TU_CHECK(vkm_graph_exec_run(e) == 0, "run: %s", vkm_error(ctx));
        }
        fin[mode] = malloc(total * sizeof(float));
        int64_t off = 0;
        for (int id = 0; id < vkm_store_count(n->st); id++) {
            const vkm_store_entry *en = vkm_store_get(n->st, id);
            if (en->kind != VKM_S_PARAM) continue;
            vkm_store_read(sd, id, 0, fin[mode] + off);
            off += en->numel;
        }
        vkm_graph_exec_free(e);
        free(steps);
        vkm_store_device_free(sd);
    }
    TU_CHECK(!memcmp(fin[0], fin[1], total * sizeof(float)), "%d replays differ from %d fresh recordings", N, N);
    printf("replay: %d replays of one recording == %d fresh recordings (%lld parameters bit-identical)\n", N, N,
           (long long)total);
    free(fin[0]);
    free(fin[1]);
    vkm_arena_free(arena);
    mist_step_free(&s);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[512];
    mist_config cfgv;
    if (mist_config_get("test", &cfgv, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const mist_config *cfg = &cfgv;
    mist_train_opts o = mist_train_opts_default();
    o.batch = BATCH;
    o.iters = 100;
    o.l_sup = 0.5f; /* every loss term takes part */
    mist_net n;
    if (mist_net_init(&n, cfg, &o, err, sizeof err)) {
        fprintf(stderr, "net: %s\n", err);
        return 1;
    }
    vkm_opts vo = vkm_default_opts();
    vo.validate = 1;
    vkm_ctx *ctx;
    if (vkm_ctx_create(&vo, &ctx, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int t = 0; t < MIST_N; t++) one_variant(ctx, &n, t, t % 2);
    central_differences(&n, 2, MIST_PATH_LATENT);
    central_differences(&n, 3, MIST_PATH_REF);
    replay(ctx, &n);
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation messages", vkm_validation_messages(ctx));
    vkm_ctx_destroy(ctx);
    mist_net_free(&n);
    return tu_finish("test_graph_step");
}
