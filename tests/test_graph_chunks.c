/* ctest: the step arena cut into chunks. Devices cap one allocation
 * (lavapipe: 2 GiB, less than config paper's arena), so the planner keeps
 * every tensor within one chunk and the arena is one allocation per chunk.
 * Config `test`'s training step planned with chunks of exactly its largest
 * tensor and of an odd size that forces the planner to move tensors to the
 * next chunk start (dozens of chunks either way) must obey the plan's rules
 * (no tensor straddles a chunk boundary, every offset 256-aligned) and train
 * exactly like the single-arena plan: every parameter, gradient, Adam
 * moment, EMA copy and loss bit-identical after two replayed steps, for a
 * latent-path and a reference-path variant. Also: a chunk smaller than a tensor is a
 * clear planning error; VKMIST_ARENA_CHUNK_MB lowers the device's chunk
 * limit, also through `vkmist bench train --memory`. Under the validation
 * layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h" /* the planner's offsets, to check its rules */
#include "train/step.h"
#include "tests/testutil.h"

enum { BATCH = 2, STEPS = 2, MIN_CHUNKS = 8 };

/* Largest transient tensor of a graph, in bytes rounded up to the alignment. */
static int64_t largest_tensor(const vkm_graph *g) {
    int64_t m = 0;
    for (vkm_t t = 1; t < g->nt; t++) {
        int64_t b = (vkm_numel(g->t[t].shape) * 4 + VKM_GRAPH_ALIGN - 1) / VKM_GRAPH_ALIGN * VKM_GRAPH_ALIGN;
        if (g->t[t].kind == T_TRANSIENT && b > m) m = b;
    }
    return m;
}

/* The planner's rules for chunk size c: aligned, within one chunk, inside the arena. */
static int plan_violations(const vkm_graph *g, int64_t c) {
    int bad = 0;
    for (vkm_t t = 1; t < g->nt; t++) {
        const vkm_tensor *tr = &g->t[t];
        if (tr->kind != T_TRANSIENT || tr->offset < 0) continue;
        int64_t lo = tr->offset, hi = lo + vkm_numel(tr->shape) * 4;
        bad += lo % VKM_GRAPH_ALIGN != 0 || lo / c != (hi - 1) / c || hi > g->arena_bytes;
    }
    return bad;
}

static void fill_inputs(const mist_net *n, vkm_store_dev *sd, unsigned seed) {
    int ids[MIST_N + 2];
    for (int d = 0; d < MIST_N; d++) ids[d] = n->ids.x[d];
    ids[MIST_N] = n->ids.xref;
    ids[MIST_N + 1] = n->ids.xref2;
    unsigned s = seed;
    for (int k = 0; k < MIST_N + 2; k++) {
        const vkm_store_entry *e = vkm_store_get(n->st, ids[k]);
        float *h = malloc(e->numel * sizeof *h);
        for (int64_t i = 0; h && i < e->numel; i++) {
            s = s * 1664525u + 1013904223u;
            h[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
        }
        if (h) vkm_store_write(sd, ids[k], 0, h);
        free(h);
    }
    uint32_t seeds[4] = {seed * 3 + 1, 11, seed * 7 + 5, 13};
    vkm_store_write(sd, n->ids.seeds, 0, seeds);
    float w[MIST_NW];
    mist_step_loss_weights(&n->opts, 0, w);
    vkm_store_write(sd, n->ids.loss_weights, 0, w);
}

/* Floats of every parameter copy (value, grad, m, v, EMA) plus the losses. */
static int64_t state_floats(const mist_net *n) {
    int64_t f = MIST_NLOSS;
    for (int id = 0; id < vkm_store_count(n->st); id++)
        if (vkm_store_get(n->st, id)->kind == VKM_S_PARAM) f += 5 * vkm_store_get(n->st, id)->numel;
    return f;
}

/* STEPS replays of g (as planned) from the same initial weights and inputs;
 * the resulting state into out[state_floats]. */
static int train(vkm_ctx *ctx, const mist_net *n, const mist_step *s, unsigned seed, float *out) {
    vkm_store_dev *sd = NULL;
    vkm_arena *arena = NULL;
    vkm_graph_exec *e = NULL;
    uint32_t *steps = calloc(vkm_store_count(n->st) + 1, 4);
    int rc = !steps || vkm_store_device_init(n->st, ctx, &sd) || vkm_store_init_params(sd, 11) ||
             vkm_arena_new(ctx, &s->g, 1, &arena) || vkm_graph_record(s->g, sd, arena, 0, &e);
    if (!rc) fill_inputs(n, sd, seed);
    for (int it = 0; it < STEPS && !rc; it++) {
        for (int k = 0; k < s->nupdated; k++) steps[s->updated[k]]++;
        rc = vkm_store_write(sd, n->ids.adam_steps, 0, steps) || vkm_graph_exec_run(e);
    }
    int64_t off = 0;
    for (int id = 0; id < vkm_store_count(n->st) && !rc; id++) {
        const vkm_store_entry *en = vkm_store_get(n->st, id);
        if (en->kind != VKM_S_PARAM) continue;
        for (int what = 0; what < 5 && !rc; what++, off += en->numel) rc = vkm_store_read(sd, id, what, out + off);
    }
    if (!rc) rc = vkm_store_read(sd, n->ids.losses, 0, out + off);
    TU_CHECK(!rc, "train: %s", vkm_error(ctx));
    vkm_graph_exec_free(e);
    vkm_arena_free(arena);
    vkm_store_device_free(sd);
    free(steps);
    return rc;
}

static void variant(vkm_ctx *ctx, const mist_net *n, int target, int path) {
    char err[512];
    mist_step s;
    if (mist_step_build(&s, n, target, path, err, sizeof err)) {
        TU_CHECK(0, "build t%d p%d: %s", target, path, err);
        return;
    }
    int64_t nf = state_floats(n);
    float *one = calloc((size_t)nf, sizeof *one), *many = calloc((size_t)nf, sizeof *many);
    TU_CHECK(one && many, "out of memory");

    /* single arena: what every config that fits one allocation gets, with
     * the very offsets of an unbounded plan (as before chunking) */
    TU_CHECK(vkm_graph_plan(s.g, 0) == 0, "plan: %s", vkm_graph_error(s.g));
    int64_t *flat = malloc((size_t)s.g->nt * sizeof *flat);
    for (vkm_t t = 0; flat && t < s.g->nt; t++) flat[t] = s.g->t[t].offset;
    TU_CHECK(vkm_graph_plan(s.g, vkm_chunk_limit(ctx)) == 0, "plan: %s", vkm_graph_error(s.g));
    vkm_graph_stats g1 = vkm_graph_stats_of(s.g);
    TU_CHECK(g1.chunks == 1, "config test needs %d chunks of %lld bytes", g1.chunks, (long long)g1.chunk_bytes);
    int same = flat != NULL;
    for (vkm_t t = 0; same && t < s.g->nt; t++) same = flat[t] == s.g->t[t].offset;
    TU_CHECK(same, "a one-chunk plan differs from the unbounded plan");
    free(flat);
    int rc1 = one && many ? train(ctx, n, &s, 100 + target, one) : -1;
    printf("target %d %s path: one arena of %lld bytes\n", target, path ? "reference" : "latent",
           (long long)g1.arena_bytes);

    /* chunks of exactly the largest tensor (the tightest allowed), and of an
     * odd size the single plan's tensors straddle, so the planner must move
     * them to the next chunk start */
    int64_t largest = largest_tensor(s.g);
    int64_t sizes[2] = {largest, (largest + largest / 8) / VKM_GRAPH_ALIGN * VKM_GRAPH_ALIGN + VKM_GRAPH_ALIGN};
    for (int k = 0; k < 2; k++) {
        int64_t c = sizes[k];
        int moved = plan_violations(s.g, c); /* of the single plan, which is still in place here */
        TU_CHECK(k == 0 || moved > 0, "no tensor of the single plan straddles %lld-byte chunks", (long long)c);
        TU_CHECK(vkm_graph_plan(s.g, (uint64_t)c) == 0, "chunked plan: %s", vkm_graph_error(s.g));
        vkm_graph_stats gc = vkm_graph_stats_of(s.g);
        TU_CHECK(gc.chunk_bytes == c && gc.chunks >= MIN_CHUNKS, "%d chunks of %lld bytes, want >= %d", gc.chunks,
                 (long long)gc.chunk_bytes, MIN_CHUNKS);
        int bad = plan_violations(s.g, c);
        TU_CHECK(bad == 0, "%d tensors break the chunk plan", bad);
        int rcn = rc1 ? -1 : train(ctx, n, &s, 100 + target, many);
        int64_t diff = 0;
        for (int64_t i = 0; !rcn && i < nf; i++) diff += memcmp(&one[i], &many[i], sizeof *one) != 0;
        TU_CHECK(!rc1 && !rcn && diff == 0, "t%d p%d: %lld of %lld floats differ between one arena and %d chunks",
                 target, path, (long long)diff, (long long)nf, gc.chunks);
        printf("  %d chunks of %lld bytes (%s; %d tensors as the single plan placed them would straddle), "
               "arena %lld bytes: after %d steps all %lld state floats (parameters, gradients, Adam m and v, EMA, "
               "losses) %s\n",
               gc.chunks, (long long)c, k ? "odd size" : "the largest tensor", moved, (long long)gc.arena_bytes, STEPS,
               (long long)nf, !rcn && diff == 0 ? "bit-identical" : "DIFFER");
        /* back to the single plan, for the next size's straddle count */
        TU_CHECK(vkm_graph_plan(s.g, vkm_chunk_limit(ctx)) == 0, "re-plan: %s", vkm_graph_error(s.g));
    }

    /* a chunk below the largest tensor cannot hold it: a planning error (it
     * sticks to the graph, so this comes last) */
    TU_CHECK(vkm_graph_plan(s.g, (uint64_t)(largest - VKM_GRAPH_ALIGN)) != 0 &&
                 strstr(vkm_graph_error(s.g), "larger than the arena chunk"),
             "undersized chunk: '%s'", vkm_graph_error(s.g));
    free(one);
    free(many);
    mist_step_free(&s);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[512];
    mist_config cfg;
    if (mist_config_get("test", &cfg, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    mist_train_opts o = mist_train_opts_default();
    o.batch = BATCH;
    mist_net n;
    if (mist_net_init(&n, &cfg, &o, err, sizeof err)) {
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
    variant(ctx, &n, 0, MIST_PATH_LATENT);
    variant(ctx, &n, 3, MIST_PATH_REF);
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation messages", vkm_validation_messages(ctx));
    uint64_t dev_limit = vkm_chunk_limit(ctx);
    vkm_ctx_destroy(ctx);

    /* the override, as a user would lower it */
    setenv("VKMIST_ARENA_CHUNK_MB", "3", 1);
    vo.validate = 0;
    vo.no_pipeline_cache = 1;
    if (vkm_ctx_create(&vo, &ctx, err, sizeof err) == 0) {
        TU_CHECK(vkm_chunk_limit(ctx) == (dev_limit < (3u << 20) ? dev_limit : 3u << 20),
                 "VKMIST_ARENA_CHUNK_MB=3: limit %llu", (unsigned long long)vkm_chunk_limit(ctx));
        printf("chunk limit: %.1f MiB from the device, %.1f MiB with VKMIST_ARENA_CHUNK_MB=3\n", dev_limit / 1048576.0,
               vkm_chunk_limit(ctx) / 1048576.0);
        vkm_ctx_destroy(ctx);
    } else {
        TU_CHECK(0, "%s", err);
    }
    /* end to end through `vkmist bench train --memory` with that override:
     * config test's ~6 MiB arena in several chunks */
    char out[4096];
    int st = tu_run_cli("bench train --config test --batch 2 --memory", out, sizeof out);
    const char *ch = strstr(out, " chunks of <= 3.0 MiB");
    int nchunks = 0;
    while (ch && ch > out && ch[-1] >= '0' && ch[-1] <= '9') ch--;
    if (ch) nchunks = atoi(ch);
    TU_CHECK(st == 0 && strstr(out, "peak in use") && nchunks >= 2,
             "bench train --memory (exit %d, %d chunks):\n%s", st, nchunks, out);
    if (st == 0) printf("%s", out);
    mist_net_free(&n);
    return tu_finish("test_graph_chunks");
}
