/* The Vulkan executor of a planned graph: every node becomes its op
 * launcher's dispatches in one sequence, recorded once (descriptors written
 * once) and replayed every iteration; per-iteration values live in the
 * store's input buffers that the host writes before each submit. */
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"
#include "runtime/internal.h"
#include "runtime/ops.h"

struct vkm_graph_exec {
    vkm_seq *seq;
    vkm_store_dev *sd;
    vkm_sync_set *sync;    /* the host sync points (graph_sync.c) */
};

typedef struct {
    const vkm_graph *g;
    const vkm_store_dev *sd;
    const vkm_arena *arena;
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
    vkm_buf b = none;
    vkm_arena_span(x->arena, tr->offset, (int64_t)bytes, &b); /* checked for every tensor at recording */
    return b;
}

/* Every planned transient tensor lies within one chunk of the arena. */
static int arena_holds(const vkm_graph *g, const vkm_arena *a, vkm_ctx *ctx) {
    for (vkm_t t = 1; t < g->nt; t++) {
        const vkm_tensor *tr = &g->t[t];
        vkm_buf b;
        if (tr->kind != T_TRANSIENT || tr->offset < 0) continue;
        if (vkm_arena_span(a, tr->offset, vkm_numel(tr->shape) * 4, &b))
            return vkm_fail(ctx, "graph: a tensor at arena byte %lld (%lld bytes; planned for %lld-byte chunks) is "
                            "outside the arena's chunks (%d, %lld bytes in all)", (long long)tr->offset,
                            (long long)vkm_numel(tr->shape) * 4, (long long)g->chunk_bytes, vkm_arena_chunks(a),
                            (long long)vkm_arena_bytes(a));
    }
    return 0;
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

int vkm_graph_record(vkm_graph *g, vkm_store_dev *sd, const vkm_arena *arena, int flags, vkm_graph_exec **out) {
    *out = NULL;
    vkm_ctx *ctx = vkm_store_dev_ctx(sd);
    if (!g->planned && vkm_graph_plan(g, vkm_arena_chunk_bytes(arena)))
        return vkm_fail(ctx, "graph: %s", vkm_graph_error(g));
    if (arena_holds(g, arena, ctx)) return -1;
    exec_env x = {g, sd, arena};
    vkm_graph_exec *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->sd = sd;
    if (vkm_seq_begin(ctx, flags, &e->seq)) {
        free(e);
        return -1;
    }
    e->sync = vkm_sync_plan(g, sd);
    if (!e->sync) {
        vkm_fail(ctx, "out of host memory");
        vkm_graph_exec_free(e);
        return -1;
    }
    for (int i = 0; i < g->nn; i++)
        if ((g->nodes[i].op != N_HOST_SYNC && run_node(e->seq, &x, &g->nodes[i])) ||
            vkm_sync_record_after(e->sync, e->seq, i)) {
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
void vkm_graph_exec_on_sync(vkm_graph_exec *e, const vkm_grad_sync_ops *ops, void *user) {
    vkm_sync_set_ops(e->sync, ops, user);
}
int vkm_graph_exec_sync_parts(const vkm_graph_exec *e) { return vkm_sync_part_count(e->sync); }
vkm_seq *vkm_graph_exec_seq(vkm_graph_exec *e) { return e->seq; }

void vkm_graph_exec_free(vkm_graph_exec *e) {
    if (!e) return;
    vkm_seq_destroy(e->seq);
    vkm_sync_free(e->sync);
    free(e);
}
