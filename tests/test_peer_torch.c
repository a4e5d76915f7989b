/* ctest: vkmist against its PyTorch peer (tools/peer/mist_torch.py), when
 * the system python has torch (else skipped, saying so). For configs test
 * and tiny: a seeded, perturbed model saved as a checkpoint; the generator
 * forward through the inference engine (loaded from that checkpoint) for
 * two present-masks must match the peer's float64 forward from the same
 * file; and one training step (reference path, so no random draws) must give
 * the peer's seven losses and, after D and G Adam updates and the EMA, the
 * peer's parameters (on other inputs when the peer finds the first ones too
 * close to a LeakyReLU kink for a float32-vs-float64 comparison). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "tests/testutil.h"
#include "train/checkpoint.h"
#include "train/infer.h"
#include "train/snapshot.h"

#define PY "/usr/bin/python3"
#define B 2

static unsigned lcg(unsigned *s) { *s = *s * 1664525u + 1013904223u; return *s; }
static float unif(unsigned *s) { return (float)(lcg(s) >> 8) / 8388608.0f - 1.0f; }  /* [-1, 1) */

static int spit(const char *path, const float *v, size_t n) {
    FILE *f = fopen(path, "wb");
    size_t w = f ? fwrite(v, sizeof *v, n, f) : 0;
    if (f) fclose(f);
    TU_CHECK(w == n, "writing %s", path);
    return w == n ? 0 : -1;
}

/* Runs the peer with `args`, echoing its output; returns its exit status. */
static int peer(const char *args) {
    char cmd[8000];
    snprintf(cmd, sizeof cmd, PY " %s/tools/peer/mist_torch.py %s --vkmist %s 2>&1", getenv("VKMIST_SOURCE"), args,
             tu_vkmist_bin());
    FILE *p = popen(cmd, "r");
    char line[1024];
    while (p && fgets(line, sizeof line, p)) printf("  peer: %s", line);
    int st = p ? pclose(p) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Seeded He init, then every value (and its EMA copy) perturbed so that
 * biases, norm gammas/betas and the AdaIN packing matter in the comparison. */
static int perturbed_init(vkm_store_dev *sd, const mist_net *n, unsigned seed) {
    if (vkm_store_init_params(sd, seed)) return -1;
    unsigned s = seed;
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM) continue;
        float *h = malloc((size_t)e->numel * sizeof *h);
        if (!h || vkm_store_read(sd, id, 0, h)) { free(h); return -1; }
        float amp = e->init_std > 0 ? 0.3f * e->init_std : 0.2f;
        for (int64_t i = 0; i < e->numel; i++) h[i] += amp * unif(&s);
        int rc = vkm_store_write(sd, id, 0, h) || vkm_store_write(sd, id, 4, h);
        free(h);
        if (rc) return -1;
    }
    return 0;
}

/* Smooth structure plus noise in [-1, 1], different per domain and slice. */
static void images(float *x, int count, int img, unsigned seed) {
    unsigned s = seed;
    for (int k = 0; k < count; k++)
        for (int r = 0; r < img; r++)
            for (int c = 0; c < img; c++) {
                float v = 0.6f * sinf(0.3f * (k + 1) * r / (float)img * 6.28f) *
                              cosf((0.7f + 0.2f * k) * c / (float)img * 6.28f) +
                          0.3f * unif(&s);
                x[((size_t)k * img + r) * img + c] = v;
            }
}

/* x [B][4][img][img] -> xd[d] [B][img][img] for each domain d */
static void split_domains(const float *x, float *const xd[4], size_t px) {
    for (int d = 0; d < 4; d++)
        for (int b = 0; b < B; b++) memcpy(xd[d] + b * px, x + ((size_t)b * 4 + d) * px, px * sizeof(float));
}

/* One training step of variant (target t, reference path) on the store's
 * current values, inputs xd[d] and xref/xref2 [B][img][img]; the losses go
 * to losses[MIST_NLOSS], the Adam step counters are advanced in steps. */
static int train_step(vkm_ctx *ctx, vkm_store_dev *sd, const mist_net *n, int t, float *const xd[4],
                      const float *xref, const float *xref2, uint32_t *steps, float *losses, char *err,
                      size_t errlen) {
    mist_step st;
    if (mist_step_build(&st, n, t, MIST_PATH_REF, err, errlen)) return -1;
    int rc = vkm_graph_plan(st.g, vkm_chunk_limit(ctx));
    vkm_arena *arena = NULL;
    vkm_graph_exec *ex = NULL;
    if (!rc) rc = vkm_arena_new(ctx, &st.g, 1, &arena);
    float w[MIST_NW];
    mist_step_loss_weights(&n->opts, 0, w);
    uint32_t seeds[4] = {1, 2, 3, 4};
    for (int d = 0; d < 4 && !rc; d++) rc = vkm_store_write(sd, n->ids.x[d], 0, xd[d]);
    for (int k = 0; k < st.nupdated; k++) steps[st.updated[k]]++;
    if (!rc)
        rc = vkm_store_write(sd, n->ids.xref, 0, xref) || vkm_store_write(sd, n->ids.xref2, 0, xref2) ||
             vkm_store_write(sd, n->ids.loss_weights, 0, w) || vkm_store_write(sd, n->ids.seeds, 0, seeds) ||
             vkm_store_write(sd, n->ids.adam_steps, 0, steps) || vkm_graph_record(st.g, sd, arena, 0, &ex) ||
             vkm_graph_exec_run(ex) || vkm_store_read(sd, n->ids.losses, 0, losses);
    if (rc) snprintf(err, errlen, "training step: %s", vkm_error(ctx));
    vkm_graph_exec_free(ex);
    vkm_arena_free(arena);
    mist_step_free(&st);
    return rc ? -1 : 0;
}

static void check_config(vkm_ctx *ctx, const char *name) {
    char err[2048], dir[700], path[1200], args[6000];
    mist_config cfg;
    TU_CHECK(mist_config_get(name, &cfg, err, sizeof err) == 0, "%s", err);
    const int img = cfg.img, S = cfg.style_dim;
    const size_t px = (size_t)img * img;
    mist_train_opts o = mist_train_opts_default();
    o.batch = B;
    mist_net n;
    vkm_store_dev *sd = NULL;
    if (mist_net_init(&n, &cfg, &o, err, sizeof err)) {
        TU_CHECK(0, "net %s: %s", name, err);
        return;
    }
    TU_CHECK(vkm_store_device_init(n.st, ctx, &sd) == 0, "store: %s", vkm_error(ctx));
    TU_CHECK(sd && perturbed_init(sd, &n, 7) == 0, "init: %s", vkm_error(ctx));

    /* the checkpoint both sides load */
    snprintf(dir, sizeof dir, "%s/run_%s", tu_tmpdir(), name);
    uint32_t *steps = calloc((size_t)vkm_store_count(n.st) + 1, sizeof *steps);
    float *mean_style = calloc(4 * (size_t)S, sizeof *mean_style);
    TU_CHECK(sd && mist_snapshot_save(dir, 0, 1, sd, &n, steps, mean_style, NULL, err, sizeof err) == 0,
             "save: %s", err);
    ckpt_step_path(path, sizeof path, dir, 0);

    /* deterministic inputs: x [B][4][img][img], styles [B][S] */
    float *x = malloc(B * 4 * px * sizeof *x), *style = malloc((size_t)B * S * sizeof *style);
    float *xd[4], *y = malloc(B * px * sizeof *y);
    images(x, B * 4, img, 11);
    unsigned ss = 3;
    for (int i = 0; i < B * S; i++) style[i] = 1.5f * unif(&ss);
    for (int d = 0; d < 4; d++) xd[d] = malloc(B * px * sizeof(float));
    split_domains(x, xd, px);
    char xf[800], sf[800], yf[800];
    snprintf(xf, sizeof xf, "%s/x_%s.f32", tu_tmpdir(), name);
    snprintf(sf, sizeof sf, "%s/s_%s.f32", tu_tmpdir(), name);
    spit(xf, x, B * 4 * px);
    spit(sf, style, (size_t)B * S);

    /* the generator forward of vkmist's inference engine, from the file */
    mist_infer *inf = NULL;
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    TU_CHECK(r != NULL, "open: %s", err);
    TU_CHECK(mist_infer_open(ctx, &cfg, B, &inf, err, sizeof err) == 0, "infer: %s", err);
    if (r && inf) TU_CHECK(mist_snapshot_load_infer(r, inf, mean_style, err, sizeof err) == 0, "load: %s", err);
    const int targets[2] = {0, 3};
    for (int k = 0; inf && k < 2; k++) {
        int t = targets[k];
        unsigned present = 0xFu & ~(1u << t);
        TU_CHECK(mist_infer_generate(inf, t, (const float *const *)xd, style, B, y, err, sizeof err) == 0,
                 "generate: %s", err);
        snprintf(yf, sizeof yf, "%s/y_%s_%d.f32", tu_tmpdir(), name, t);
        spit(yf, y, B * px);
        snprintf(args, sizeof args, "compare --ckpt %s --input %s --style %s --present 0x%x --expect %s", path, xf,
                 sf, present, yf);
        printf("config %s, target %s (present 0x%x):\n", name, mist_domain_name(t), present);
        TU_CHECK(peer(args) == 0, "config %s, target %d: the peer's forward differs from vkmist's", name, t);
    }
    mist_infer_close(inf);
    ckpt_close(r);
    /* a present-mask other than the one vkmist used must not pass */
    snprintf(args, sizeof args, "compare --ckpt %s --input %s --style %s --present 0xd --expect %s", path, xf, sf, yf);
    printf("config %s, the wrong inputs (present 0xd for target flair; must fail):\n", name);
    TU_CHECK(peer(args) == 1, "config %s: the comparison does not tell a wrong input set apart", name);

    /* one training step from the same checkpoint: losses, then the
     * parameters, gradients (Adam m), step counters and EMA it leaves. A
     * float32 step may legitimately take the other slope of a LeakyReLU
     * whose input the float64 step finds within rounding of 0 where a
     * gradient that matters flows; the peer then says "inconclusive" (3) and
     * the step is compared again on other inputs, from the same checkpoint. */
    float *xref = malloc(B * px * sizeof *xref), *xref2 = malloc(B * px * sizeof *xref2), losses[MIST_NLOSS];
    const int t = 1;
    int verdict = 3;
    for (int attempt = 0; attempt < 3 && verdict == 3; attempt++) {
        if (attempt) { /* back to the checkpoint: values, EMA, fresh optimizer state */
            ckpt_reader *r0 = ckpt_open(path, err, sizeof err);
            int lrc = !r0 || mist_snapshot_load_train(r0, sd, &n, steps, mean_style, err, sizeof err);
            ckpt_close(r0);
            TU_CHECK(!lrc, "reloading %s: %s", path, err);
            if (lrc) break;
            images(x, B * 4, img, 11 + 100 * attempt);
            split_domains(x, xd, px);
        }
        images(xref, B, img, 21 + 100 * attempt);
        images(xref2, B, img, 22 + 100 * attempt);
        int ok = train_step(ctx, sd, &n, t, xd, xref, xref2, steps, losses, err, sizeof err) == 0;
        TU_CHECK(ok, "config %s: %s", name, err);
        if (ok) TU_CHECK(mist_snapshot_save(dir, 1, 2, sd, &n, steps, mean_style, NULL, err, sizeof err) == 0,
                         "save: %s", err);
        if (!ok) break;
        char inf2[800], rf[800], r2f[800], lf[800], after[1200];
        snprintf(inf2, sizeof inf2, "%s/xstep_%s.f32", tu_tmpdir(), name);
        snprintf(rf, sizeof rf, "%s/xref_%s.f32", tu_tmpdir(), name);
        snprintf(r2f, sizeof r2f, "%s/xref2_%s.f32", tu_tmpdir(), name);
        snprintf(lf, sizeof lf, "%s/losses_%s.f32", tu_tmpdir(), name);
        ckpt_step_path(after, sizeof after, dir, 1);
        spit(inf2, x, B * 4 * px);
        spit(rf, xref, B * px);
        spit(r2f, xref2, B * px);
        spit(lf, losses, MIST_NLOSS);
        snprintf(args, sizeof args,
                 "step --ckpt %s --after %s --input %s --xref %s --xref2 %s --target %d --losses %s", path, after,
                 inf2, rf, r2f, t, lf);
        printf("config %s, one training step (target %s, reference path, inputs %d):\n", name, mist_domain_name(t),
               attempt + 1);
        verdict = peer(args);
    }
    TU_CHECK(verdict == 0, "config %s: the peer's training step differs from vkmist's%s", name,
             verdict == 3 ? " (inconclusive on every input set)" : "");
    free(xref);
    free(xref2);
    for (int d = 0; d < 4; d++) free(xd[d]);
    free(x);
    free(y);
    free(style);
    free(steps);
    free(mean_style);
    vkm_store_device_free(sd);
    mist_net_free(&n);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (system(PY " -c 'import torch' >/dev/null 2>&1") != 0) {
        printf("test_peer_torch: SKIPPED: " PY " cannot import torch (apt-get install python3-torch, or run "
               "tools/test.sh with VKMIST_WITH_OPTIONAL=1)\n");
        return 0;
    }
    if (!getenv("VKMIST_SOURCE")) {
        printf("test_peer_torch: SKIPPED: VKMIST_SOURCE unset (run it through ctest)\n");
        return 0;
    }
    tu_private_cache();
    char err[1024];
    vkm_ctx *ctx = NULL;
    vkm_opts vo = vkm_default_opts();
    TU_CHECK(vkm_ctx_create(&vo, &ctx, err, sizeof err) == 0, "device: %s", err);
    if (ctx) {
        check_config(ctx, "test");
        check_config(ctx, "tiny");
    }
    vkm_ctx_destroy(ctx);
    return tu_finish("peer_torch");
}
