/* ctest: host sync points (vkm_g_host_sync) of a recorded graph, without
 * MPI: on a chain of linear layers the gradients are handed to the callbacks
 * in several parts before the point (the backward finishes the last layers
 * first), every part holding final values (the same multiset of values as a
 * plain backward gives), and what finish writes into the spans is what Adam
 * then uses. Both with mapped memory and staged through host copies
 * (VKMIST_FORCE_STAGING). Runs under the validation layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph.h"
#include "tests/testutil.h"

enum { B = 2, D = 16, LAYERS = 6, SYNC_ID = 7 };

typedef struct {
    vkm_store *st;
    int x, target, weights, steps, params[2 * LAYERS];
} net;

static vkm_graph *build(const net *n, int sync) {
    vkm_graph *g = vkm_graph_new(n->st);
    vkm_t h = vkm_g_store(g, n->x);
    for (int l = 0; l < LAYERS; l++) {
        h = vkm_g_linear(g, h, vkm_g_store(g, n->params[2 * l]), vkm_g_store(g, n->params[2 * l + 1]));
        if (l + 1 < LAYERS) h = vkm_g_act(g, h, 0.2f);
    }
    vkm_t loss = vkm_g_l1(g, h, vkm_g_store(g, n->target));
    int w = 0;
    vkm_g_backward(g, &loss, &w, 1, n->weights, n->params, 2 * LAYERS);
    if (sync) {
        vkm_g_host_sync(g, SYNC_ID);
        vkm_g_adam(g, 0.0f, 0.99f, 1e-8f, 0.0f, n->steps);
    }
    const char *err = vkm_graph_error(g);
    TU_CHECK(!err[0], "graph: %s", err);
    return g;
}

/* What the callbacks saw. */
typedef struct {
    int starts, finishes, polls, bad_id, started_after_finish;
    float *vals;        /* copies of every span at its start */
    int64_t nvals, cap;
    const vkm_span *spans[64];
    int nspans[64];
    int zero_at_finish; /* finish zeroes every span (Adam must then see 0) */
} seen;

static int on_start(void *user, int id, const vkm_span *spans, int n) {
    seen *s = user;
    s->bad_id += id != SYNC_ID;
    s->started_after_finish += s->finishes > 0;
    if (s->starts < 64) s->spans[s->starts] = spans, s->nspans[s->starts] = n;
    s->starts++;
    for (int i = 0; i < n; i++) {
        if (s->nvals + spans[i].n > s->cap) {
            s->cap = 2 * (s->nvals + spans[i].n);
            float *v = realloc(s->vals, (size_t)s->cap * sizeof *v);
            if (!v) return -1;
            s->vals = v;
        }
        memcpy(s->vals + s->nvals, spans[i].data, (size_t)spans[i].n * sizeof *s->vals);
        s->nvals += spans[i].n;
    }
    return 0;
}

static int on_poll(void *user) {
    ((seen *)user)->polls++;
    return 0;
}

static int on_finish(void *user, int id) {
    seen *s = user;
    s->bad_id += id != SYNC_ID;
    s->finishes++;
    for (int k = 0; s->zero_at_finish && k < s->starts && k < 64; k++)
        for (int i = 0; i < s->nspans[k]; i++) memset(s->spans[k][i].data, 0, (size_t)s->spans[k][i].n * sizeof(float));
    return 0;
}

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The non-zero values, sorted (alignment padding between spans is zero). */
static int64_t nonzero_sorted(float *v, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (v[i] != 0) v[k++] = v[i];
    qsort(v, (size_t)k, sizeof *v, by_value);
    return k;
}

static void run_case(const net *n, const char *what) {
    vkm_opts o = vkm_default_opts();
    o.validate = 1;
    vkm_ctx *ctx;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        TU_CHECK(0, "%s: %s", what, err);
        return;
    }
    vkm_graph *plain = build(n, 0), *synced = build(n, 1);
    vkm_graph_plan(plain, vkm_chunk_limit(ctx));
    vkm_graph_plan(synced, vkm_chunk_limit(ctx));
    vkm_graph *both[2] = {plain, synced};
    vkm_store_dev *sd = NULL;
    vkm_arena *arena = NULL;
    vkm_graph_exec *ep = NULL, *es = NULL;
    TU_CHECK(vkm_store_device_init(n->st, ctx, &sd) == 0, "%s: store: %s", what, vkm_error(ctx));
    TU_CHECK(vkm_store_init_params(sd, 3) == 0, "%s: init", what);
    TU_CHECK(vkm_arena_new(ctx, both, 2, &arena) == 0, "%s: arena: %s", what, vkm_error(ctx));
    float x[B * D], t[B * D], w[1] = {1};
    for (int i = 0; i < B * D; i++) x[i] = sinf(0.7f * i), t[i] = cosf(0.3f * i);
    uint32_t steps[64] = {0};
    for (int i = 0; i < 64; i++) steps[i] = 1;
    vkm_store_write(sd, n->x, 0, x);
    vkm_store_write(sd, n->target, 0, t);
    vkm_store_write(sd, n->weights, 0, w);
    vkm_store_write(sd, n->steps, 0, steps);
    TU_CHECK(vkm_graph_record(plain, sd, arena, 0, &ep) == 0, "%s: record: %s", what, vkm_error(ctx));
    TU_CHECK(vkm_graph_record(synced, sd, arena, 0, &es) == 0, "%s: record: %s", what, vkm_error(ctx));
    if (!ep || !es) goto out;
    TU_CHECK(vkm_graph_exec_sync_parts(es) > 1, "%s: %d parts, want several", what, vkm_graph_exec_sync_parts(es));

    /* the plain backward's gradients, at the same weights */
    TU_CHECK(vkm_graph_exec_run(ep) == 0, "%s: run: %s", what, vkm_error(ctx));
    int64_t total = 0;
    for (int i = 0; i < 2 * LAYERS; i++) total += vkm_store_get(n->st, n->params[i])->numel;
    float *ref = malloc((size_t)total * sizeof *ref), *before = malloc((size_t)total * sizeof *before),
          *after = malloc((size_t)total * sizeof *after);
    if (!ref || !before || !after) goto done;
    for (int i = 0, off = 0; i < 2 * LAYERS; i++) {
        vkm_store_read(sd, n->params[i], 1, ref + off);
        vkm_store_read(sd, n->params[i], 0, before + off);
        off += (int)vkm_store_get(n->st, n->params[i])->numel;
    }

    /* 1: parts before the point, each with final values; finish keeps them */
    seen s = {0};
    const vkm_grad_sync_ops ops = {on_start, on_poll, on_finish};
    vkm_graph_exec_on_sync(es, &ops, &s);
    TU_CHECK(vkm_graph_exec_run(es) == 0, "%s: run: %s", what, vkm_error(ctx));
    TU_CHECK(s.starts == vkm_graph_exec_sync_parts(es) && s.finishes == 1 && !s.bad_id && !s.started_after_finish,
             "%s: %d starts, %d finishes, %d wrong ids, %d starts after finish", what, s.starts, s.finishes, s.bad_id,
             s.started_after_finish);
    int64_t nz = nonzero_sorted(s.vals, s.nvals), nr = nonzero_sorted(ref, total);
    TU_CHECK(nz == nr && !memcmp(s.vals, ref, (size_t)nz * sizeof *ref),
             "%s: the spans hold %lld non-zero values, the gradients %lld (or the values differ)", what,
             (long long)nz, (long long)nr);
    int moved = 0;
    for (int i = 0, off = 0; i < 2 * LAYERS; i++) {
        vkm_store_read(sd, n->params[i], 0, after + off);
        off += (int)vkm_store_get(n->st, n->params[i])->numel;
    }
    for (int64_t k = 0; k < total; k++) moved += after[k] != before[k];
    TU_CHECK(moved > total / 2, "%s: Adam moved %d of %lld weights", what, moved, (long long)total);

    /* 2: what finish writes is what Adam uses: zero gradients, no step */
    memcpy(before, after, (size_t)total * sizeof *before);
    s.starts = s.finishes = 0, s.nvals = 0, s.zero_at_finish = 1;
    for (int i = 0; i < 64; i++) steps[i] = 2;
    vkm_store_write(sd, n->steps, 0, steps);
    TU_CHECK(vkm_graph_exec_run(es) == 0, "%s: run: %s", what, vkm_error(ctx));
    for (int i = 0, off = 0; i < 2 * LAYERS; i++) {
        vkm_store_read(sd, n->params[i], 0, after + off);
        off += (int)vkm_store_get(n->st, n->params[i])->numel;
    }
    TU_CHECK(!memcmp(before, after, (size_t)total * sizeof *after), "%s: Adam moved weights with zeroed gradients", what);
    printf("%s: %d parts, %lld gradient values checked, %d polls\n", what, vkm_graph_exec_sync_parts(es),
           (long long)nz, s.polls);
    free(s.vals);
done:
    free(ref);
    free(before);
    free(after);
out:
    vkm_graph_exec_free(ep);
    vkm_graph_exec_free(es);
    vkm_arena_free(arena);
    vkm_store_device_free(sd);
    vkm_graph_free(plain);
    vkm_graph_free(synced);
    vkm_ctx_destroy(ctx);
}

int main(void) {
    net n;
    n.st = vkm_store_new();
    n.x = vkm_store_add(n.st, "x", VKM_S_INPUT, vkm_shp(B, D, 1, 1));
    n.target = vkm_store_add(n.st, "target", VKM_S_INPUT, vkm_shp(B, D, 1, 1));
    n.weights = vkm_store_add(n.st, "weights", VKM_S_INPUT, vkm_shp(1, 1, 1, 1));
    char name[32];
    for (int l = 0; l < LAYERS; l++) {
        snprintf(name, sizeof name, "fc%d.w", l);
        n.params[2 * l] = vkm_store_param(n.st, name, vkm_shp(D, D, 1, 1), 0.5f, 0, 1e-2f, 0, 0);
        snprintf(name, sizeof name, "fc%d.b", l);
        n.params[2 * l + 1] = vkm_store_param(n.st, name, vkm_shp(D, 1, 1, 1), 0.1f, 0, 1e-2f, 0, 0);
    }
    n.steps = vkm_store_add(n.st, "steps", VKM_S_U32, vkm_shp(1, 1, 1, vkm_store_count(n.st) + 1));
    run_case(&n, "mapped");
    setenv("VKMIST_FORCE_STAGING", "1", 1);
    run_case(&n, "staged");
    vkm_store_free(n.st);
    return tu_finish("graph_sync");
}
