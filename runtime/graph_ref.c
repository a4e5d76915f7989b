/* The CPU reference executor: runs a planned graph node by node through
 * runtime/ref in double precision over the store's reference twin, with the
 * same arena offsets as the device (so memory sharing bugs show up too),
 * flat: the device's chunks are consecutive ranges of these offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"
#include "runtime/ref/ref_conv.h"
#include "runtime/ref/ref_elem.h"
#include "runtime/ref/ref_norm.h"

typedef struct {
    const vkm_graph *g;
    vkm_store_ref *sr;
    double *arena;
} ref_env;

static double *ptr(const ref_env *x, vkm_t t) {
    if (!t) return NULL;
    vkm_t r = vkm_g_root(x->g, t);
    const vkm_tensor *tr = &x->g->t[r];
    if (tr->kind == T_STORE) {
        if (tr->store_id < 0) { /* a span of one parameter-copy region */
            int64_t n;
            return vkm_store_ref_region(x->sr, tr->store_what, &n) + tr->offset;
        }
        return vkm_store_ref_data(x->sr, tr->store_id, tr->store_what);
    }
    return x->arena + tr->offset / 4;
}

static uint32_t *u32(const ref_env *x, vkm_t t) {
    const vkm_tensor *tr = &x->g->t[vkm_g_root(x->g, t)];
    return tr->kind == T_STORE && tr->store_id >= 0 ? vkm_store_ref_u32(x->sr, tr->store_id) : NULL;
}

static int run_node(const ref_env *x, const vkm_node *n) {
#define I(k) ptr(x, n->in[k])
#define O(k) ptr(x, n->out[k])
    switch (n->op) {
    case N_CONV2D: ref_conv2d(&n->p.conv, I(0), I(1), I(2), O(0)); return 0;
    case N_CONV2D_BWD_DATA: ref_conv2d_bwd_data(&n->p.conv, I(0), I(1), O(0)); return 0;
    case N_CONV2D_BWD_FILTER: ref_conv2d_bwd_filter(&n->p.conv, I(0), I(1), O(0), O(1)); return 0;
    case N_LINEAR: ref_linear(&n->p.lin, I(0), I(1), I(2), O(0)); return 0;
    case N_LINEAR_BWD_DATA: ref_linear_bwd_data(&n->p.lin, I(0), I(1), O(0)); return 0;
    case N_LINEAR_BWD_WEIGHT: ref_linear_bwd_weight(&n->p.lin, I(0), I(1), O(0), O(1)); return 0;
    case N_HPF: ref_hpf(&n->p.hpf, I(0), O(0)); return 0;
    case N_HPF_BWD: ref_hpf_bwd(&n->p.hpf, I(0), O(0)); return 0;
    case N_INSTNORM:
        if (n->p.in.mode == VKM_NORM_ADAIN) /* packed [gamma | beta] rows */
            ref_instnorm(&n->p.in, I(0), I(1), I(1) + n->p.in.C, O(0), O(1), O(2));
        else
            ref_instnorm(&n->p.in, I(0), I(1), I(2), O(0), O(1), O(2));
        return 0;
    case N_INSTNORM_BWD:
        if (n->p.in.mode == VKM_NORM_ADAIN)
            ref_instnorm_bwd(&n->p.in, I(0), I(1), I(2), I(3), I(3) + n->p.in.C, I(5), O(0), O(1), O(1) + n->p.in.C);
        else
            ref_instnorm_bwd(&n->p.in, I(0), I(1), I(2), I(3), I(4), I(5), O(0), O(1), O(2));
        return 0;
    case N_ACT: ref_act(&n->p.act, I(0), O(0)); return 0;
    case N_ACT_BWD: ref_act_bwd(&n->p.act, I(0), I(1), O(0)); return 0;
    case N_AVGPOOL2: ref_avgpool2(&n->p.rs, I(0), O(0)); return 0;
    case N_AVGPOOL2_BWD: ref_avgpool2_bwd(&n->p.rs, I(0), O(0)); return 0;
    case N_UPSAMPLE2: ref_upsample2(&n->p.rs, I(0), O(0)); return 0;
    case N_UPSAMPLE2_BWD: ref_upsample2_bwd(&n->p.rs, I(0), O(0)); return 0;
    case N_AXPBY: ref_axpby(&n->p.ax, I(0), n->in[1] ? I(1) : I(0), O(0)); return 0;
    case N_CONCAT: ref_concat(&n->p.ch, I(0), O(0)); return 0;
    case N_SLICE: ref_slice(&n->p.ch, I(0), O(0)); return 0;
    case N_FILL: ref_fill((size_t)n->p.fill.n, n->p.fill.value, O(0)); return 0;
    case N_MEANN: {
        const double *xs[4] = {I(0), I(1), I(2), I(3)};
        ref_meann(&n->p.mn, xs, O(0));
        return 0;
    }
    case N_L1: ref_l1loss(&n->p.loss, I(0), I(1), O(0)); return 0;
    case N_L1_BWD: ref_l1loss_bwd(&n->p.loss, I(0), I(1), I(2), O(0), NULL); return 0;
    case N_BCE: ref_bce(&n->p.loss, I(0), O(0)); return 0;
    case N_BCE_BWD: ref_bce_bwd(&n->p.loss, I(0), I(1), O(0)); return 0;
    case N_ADAM: ref_adam(&n->p.adam, u32(x, n->in[1]), O(0), I(0), O(1), O(2)); return 0;
    case N_EMA: ref_ema(&n->p.ema, I(0), O(0)); return 0;
    case N_RANDN: ref_randn(&n->p.rn, u32(x, n->in[0]), O(0)); return 0;
    case N_HOST_SYNC: return 0; /* one process: nothing to exchange */
    default: return -1;
    }
#undef I
#undef O
}

int vkm_graph_run_ref(vkm_graph *g, vkm_store_ref *sr, char *err, size_t errlen) {
    /* any plan will do (flat offsets; chunk ends only pad): keep the device's */
    if (!g->planned && vkm_graph_plan(g, 0)) {
        snprintf(err, errlen, "graph: %s", g->err[0] ? g->err : "planning failed");
        return -1;
    }
    /* NaN-filled arena: a read of a never-written tensor poisons the result */
    size_t n = (size_t)(g->arena_bytes / 4) + 1;
    double *arena = malloc(n * sizeof *arena);
    if (!arena) {
        snprintf(err, errlen, "out of host memory (%zu MiB reference arena)", n * 8 >> 20);
        return -1;
    }
    for (size_t i = 0; i < n; i++) arena[i] = __builtin_nan("");
    ref_env x = {g, sr, arena};
    int rc = 0;
    for (int i = 0; i < g->nn && !rc; i++)
        if (run_node(&x, &g->nodes[i])) {
            snprintf(err, errlen, "graph: reference has no op %d", (int)g->nodes[i].op);
            rc = -1;
        }
    free(arena);
    return rc;
}
