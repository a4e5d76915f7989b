/* The Vulkan executor of a planned graph: every node becomes its op
 * launcher's dispatches in one sequence, recorded once (descriptors written
 * once) and replayed every iteration; per-iteration values live in the
 * store's input buffers that the host writes before each submit. */
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"
#include "runtime/internal.h"
#include "runtime/ops.h"

/* One host sync point: its id and gradient-region runs (copied from the
 * graph, which may be freed before the exec). */
typedef struct {
    vkm_graph_exec *e;
    int id, nruns;
    int64_t (*runs)[2];
    vkm_span *spans;
} sync_point;

struct vkm_graph_exec {
    vkm_seq *seq;
    vkm_store_dev *sd;
    sync_point *points;
    int npoints;
    vkm_grad_sync_fn fn;
    void *user;
    float *stage;          /* host copy of a sync point's gradients (devices without unified memory) */
    int64_t stage_n;
};

typedef struct {
    const vkm_graph *g;
    const vkm_store_dev *sd;
    vkm_buf arena;
} exec_env;

static vkm_buf buf_of(const exec_env *x, vkm_t t) {
    vkm_buf none = {0};
    none.block = -1;
    if (!t) return none;
    const vkm_graph *g = x->g;
    vkm_t r = vkm_g_root(g, t);
    const vkm_tensor *tr = &g->t[r];
    uint64_t bytes = (uint64_t)vkm_numel(g->t[t].shape) * 4;
    if (tr->kind == T_STORE && tr->store_id < 0) /* a span of one parameter-copy region */
        return vkm_sub(vkm_store_dev_region(x->sd, tr->store_what), (uint64_t)tr->offset * 4, bytes);
    if (tr->kind == T_STORE) return vkm_store_dev_buf(x->sd, tr->store_id, tr->store_what);
    return vkm_sub(x->arena, (uint64_t)tr->offset, bytes);
}

/* AdaIN's beta: the second half of each packed [gamma | beta] row. */
static vkm_buf beta_view(vkm_buf gb, const vkm_instnorm_p *p) {
    return vkm_sub(gb, (uint64_t)p->C * 4, gb.size - (uint64_t)p->C * 4);
}

static int run_node(vkm_seq *s, const exec_env *x, const vkm_node *n) {
#define B(k) buf_of(x, n->in[k])
#define O(k) buf_of(x, n->out[k])
    switch (n->op) {
    case N_CONV2D: return vkm_op_conv2d(s, &n->p.conv, B(0), B(1), B(2), O(0));
    case N_CONV2D_BWD_DATA: return vkm_op_conv2d_bwd_data(s, &n->p.conv, B(0), B(1), O(0));
    case N_CONV2D_BWD_FILTER: return vkm_op_conv2d_bwd_filter(s, &n->p.conv, B(0), B(1), O(0), O(1));
    case N_LINEAR: return vkm_op_linear(s, &n->p.lin, B(0), B(1), B(2), O(0));
    case N_LINEAR_BWD_DATA: return vkm_op_linear_bwd_data(s, &n->p.lin, B(0), B(1), O(0));
    case N_LINEAR_BWD_WEIGHT: return vkm_op_linear_bwd_weight(s, &n->p.lin, B(0), B(1), O(0), O(1));
    case N_HPF: return vkm_op_hpf(s, &n->p.hpf, B(0), O(0));
    case N_HPF_BWD: return vkm_op_hpf_bwd(s, &n->p.hpf, B(0), O(0));
    case N_INSTNORM:
        if (n->p.in.mode == VKM_NORM_ADAIN) /* packed [gamma | beta] rows */
            return vkm_op_instnorm(s, &n->p.in, B(0), B(1), beta_view(B(1), &n->p.in), O(0), O(1), O(2));
        return vkm_op_instnorm(s, &n->p.in, B(0), B(1), B(2), O(0), O(1), O(2));
    case N_INSTNORM_BWD:
        if (n->p.in.mode == VKM_NORM_ADAIN)
            return vkm_op_instnorm_bwd(s, &n->p.in, B(0), B(1), B(2), B(3), beta_view(B(3), &n->p.in), B(5), O(0),
                                       O(1), beta_view(O(1), &n->p.in));
        return vkm_op_instnorm_bwd(s, &n->p.in, B(0), B(1), B(2), B(3), B(4), B(5), O(0), O(1), O(2));
    case N_ACT: return vkm_op_act(s, &n->p.act, B(0), O(0));
    case N_ACT_BWD: return vkm_op_act_bwd(s, &n->p.act, B(0), B(1), O(0));
    case N_AVGPOOL2: return vkm_op_avgpool2(s, &n->p.rs, B(0), O(0));
    case N_AVGPOOL2_BWD: return vkm_op_avgpool2_bwd(s, &n->p.rs, B(0), O(0));
    case N_UPSAMPLE2: return vkm_op_upsample2(s, &n->p.rs, B(0), O(0));
    case N_UPSAMPLE2_BWD: return vkm_op_upsample2_bwd(s, &n->p.rs, B(0), O(0));
    case N_AXPBY: return vkm_op_axpby(s, &n->p.ax, B(0), n->in[1] ? B(1) : B(0), O(0));
    case N_CONCAT: return vkm_op_concat(s, &n->p.ch, B(0), O(0));
    case N_SLICE: return vkm_op_slice(s, &n->p.ch, B(0), O(0));
    case N_FILL: return vkm_op_fill(s, O(0), n->p.fill.value);
    case N_MEANN: {
        vkm_buf xs[4] = {B(0), B(1), B(2), B(3)};
        return vkm_op_meann(s, &n->p.mn, xs, O(0));
    }
    case N_L1: return vkm_op_l1loss(s, &n->p.loss, B(0), B(1), O(0));
    case N_L1_BWD: {
        vkm_buf none = {0};
        none.block = -1;
        return vkm_op_l1loss_bwd(s, &n->p.loss, B(0), B(1), B(2), O(0), none);
    }
    case N_BCE: return vkm_op_bce(s, &n->p.loss, B(0), O(0));
    case N_BCE_BWD: return vkm_op_bce_bwd(s, &n->p.loss, B(0), B(1), O(0));
    case N_ADAM: return vkm_op_adam(s, &n->p.adam, O(0), B(0), O(1), O(2), B(1));
    case N_EMA: return vkm_op_ema(s, &n->p.ema, B(0), O(0));
    case N_RANDN: return vkm_op_randn(s, &n->p.rn, B(0), O(0));
    default: return vkm_seq_fail(s, "graph: node op %d has no launcher", (int)n->op);
    }
#undef B
#undef O
}

/* The replay's host call at a sync point: hand the callback the gradient
 * spans, mapped in place or staged through host memory. */
static int sync_hook(void *user) {
    sync_point *p = user;
    vkm_graph_exec *e = p->e;
    if (!e->fn || !p->nruns) return 0;
    vkm_ctx *ctx = vkm_store_dev_ctx(e->sd);
    vkm_buf grads = vkm_store_dev_grads(e->sd);
    int64_t lo = p->runs[0][0], hi = p->runs[p->nruns - 1][1];
    float *base = grads.map ? (float *)grads.map + lo : NULL;
    if (!base) { /* one read of the runs' hull (the gaps are zeroed gradients) */
        if (hi - lo > e->stage_n) {
            float *ns = realloc(e->stage, (size_t)(hi - lo) * sizeof *ns);
            if (!ns) return vkm_fail(ctx, "host sync point %d: out of host memory", p->id);
            e->stage = ns, e->stage_n = hi - lo;
        }
        base = e->stage;
        if (vkm_read(ctx, grads, (uint64_t)lo * 4, base, (uint64_t)(hi - lo) * 4)) return -1;
    }
    for (int i = 0; i < p->nruns; i++) p->spans[i] = (vkm_span){base + (p->runs[i][0] - lo), p->runs[i][1] - p->runs[i][0]};
    if (e->fn(e->user, p->id, p->spans, p->nruns)) return vkm_fail(ctx, "host sync point %d: the gradient callback failed", p->id);
    if (base == e->stage && vkm_write(ctx, grads, (uint64_t)lo * 4, base, (uint64_t)(hi - lo) * 4)) return -1;
    return 0;
}

static int add_sync_point(vkm_graph_exec *e, const vkm_graph *g, const vkm_node *n) {
    vkm_ctx *ctx = vkm_store_dev_ctx(e->sd);
    if (!e->points) { /* sized once: the array must not move once the sequence holds pointers into it */
        int k = 0;
        for (int i = 0; i < g->nn; i++) k += g->nodes[i].op == N_HOST_SYNC;
        e->points = calloc((size_t)k, sizeof *e->points);
        if (!e->points) return vkm_fail(ctx, "out of host memory");
    }
    sync_point *p = &e->points[e->npoints++];
    p->e = e;
    p->id = n->p.sync.id;
    p->nruns = n->p.sync.count;
    p->runs = malloc((size_t)(p->nruns ? p->nruns : 1) * sizeof *p->runs);
    p->spans = malloc((size_t)(p->nruns ? p->nruns : 1) * sizeof *p->spans);
    if (!p->runs || !p->spans) return vkm_fail(ctx, "out of host memory");
    memcpy(p->runs, g->sync_runs + n->p.sync.first, (size_t)p->nruns * sizeof *p->runs);
    return vkm_seq_host_call(e->seq, sync_hook, p);
}

int vkm_graph_record(vkm_graph *g, vkm_store_dev *sd, vkm_buf arena, int flags, vkm_graph_exec **out) {
    *out = NULL;
    if (vkm_graph_plan(g, VKM_GRAPH_ALIGN)) return -1;
    exec_env x = {g, sd, arena};
    if ((int64_t)arena.size < g->arena_bytes) return -1;
    vkm_graph_exec *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->sd = sd;
    if (vkm_seq_begin(vkm_store_dev_ctx(sd), flags, &e->seq)) {
        free(e);
        return -1;
    }
    for (int i = 0; i < g->nn; i++)
        if (g->nodes[i].op == N_HOST_SYNC ? add_sync_point(e, g, &g->nodes[i]) : run_node(e->seq, &x, &g->nodes[i])) {
            vkm_graph_exec_free(e);
            return -1;
        }
    if (vkm_seq_end(e->seq)) {
        vkm_graph_exec_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

int vkm_graph_exec_run(vkm_graph_exec *e) { return vkm_seq_submit(e->seq); }
void vkm_graph_exec_on_sync(vkm_graph_exec *e, vkm_grad_sync_fn fn, void *user) {
    e->fn = fn;
    e->user = user;
}
vkm_seq *vkm_graph_exec_seq(vkm_graph_exec *e) { return e->seq; }

void vkm_graph_exec_free(vkm_graph_exec *e) {
    if (!e) return;
    vkm_seq_destroy(e->seq);
    for (int i = 0; i < e->npoints; i++) {
        free(e->points[i].runs);
        free(e->points[i].spans);
    }
    free(e->points);
    free(e->stage);
    free(e);
}
