/* The graph's node and tensor records, shared by the builder (graph.c), the
 * planner (graph_plan.c) and the two executors (graph_exec.c, graph_ref.c). */
#pragma once
#include "runtime/graph.h"

/* Every store offset and arena offset is a multiple of this (the largest
 * minStorageBufferOffsetAlignment Vulkan allows), so any device can bind any
 * tensor directly. */
#define VKM_GRAPH_ALIGN 256
/* Longest span of a parameter region one multi-tensor node covers (floats):
 * 64 MiB, half the smallest maxStorageBufferRange a device may report. */
#define VKM_SPAN_MAX ((int64_t)1 << 24)
#define VKM_NODE_IN 6
#define VKM_NODE_OUT 4

typedef enum {
    N_CONV2D, N_CONV2D_BWD_DATA, N_CONV2D_BWD_FILTER,
    N_LINEAR, N_LINEAR_BWD_DATA, N_LINEAR_BWD_WEIGHT,
    N_HPF, N_HPF_BWD,
    N_INSTNORM, N_INSTNORM_BWD,
    N_ACT, N_ACT_BWD,
    N_AVGPOOL2, N_AVGPOOL2_BWD, N_UPSAMPLE2, N_UPSAMPLE2_BWD,
    N_AXPBY, N_CONCAT, N_SLICE, N_FILL, N_MEANN,
    N_L1, N_L1_BWD, N_BCE, N_BCE_BWD,
    N_ADAM, N_EMA, N_RANDN,
    N_HOST_SYNC,
    N_COUNT
} vkm_node_op;

typedef struct {
    vkm_node_op op;
    union {
        vkm_conv2d_p conv;
        vkm_linear_p lin;
        vkm_hpf_p hpf;
        vkm_instnorm_p in;
        vkm_act_p act;
        vkm_resample_p rs;
        vkm_axpby_p ax;
        vkm_chcopy_p ch;
        vkm_meann_p mn;
        vkm_loss_p loss;
        vkm_adam_p adam;
        vkm_ema_p ema;
        vkm_randn_p rn;
        struct { int64_t n; float value; } fill;
        /* ranges [first, first+count) of vkm_graph.sync_runs; the backward
         * that computes them starts at node bwd_first */
        struct { int id, first, count, bwd_first; } sync;
    } p;
    vkm_t in[VKM_NODE_IN];
    vkm_t out[VKM_NODE_OUT];
    int forward;   /* recorded by model code (not autodiff/optimizer) */
    double flops;
} vkm_node;

enum { T_TRANSIENT, T_STORE, T_ALIAS };
enum { W_VALUE = 0, W_GRAD = 1, W_M = 2, W_V = 3, W_EMA = 4 };

typedef struct {
    vkm_shape shape;
    int kind;
    int store_id, store_what;   /* T_STORE: which store tensor and which copy (W_*) */
    vkm_t alias_of;             /* T_ALIAS: the tensor whose storage it shares */
    int detached;               /* T_ALIAS from vkm_g_detach: gradient stops */
    int needs_grad;
    vkm_t grad;                 /* gradient tensor, once created by autodiff */
    int grad_written;           /* a first contribution happened (later ones accumulate) */
    int64_t offset;             /* arena byte offset (T_TRANSIENT, after planning); element offset
                                 * of a span of a parameter-copy region (T_STORE, store_id -1,
                                 * store_what the copy) */
} vkm_tensor;

struct vkm_store {
    vkm_store_entry *e;
    int n, cap;
    int64_t region[5];   /* elements per kind region: 0 param, 1 input, 2 state, 3 u32 */
};

struct vkm_graph {
    vkm_store *st;
    vkm_tensor *t;
    int nt, capt;
    vkm_node *nodes;
    int nn, capn;
    int planned;
    int64_t arena_bytes, naive_bytes;
    int64_t chunk_bytes;  /* arena chunk size the plan keeps tensors within (0: unbounded) */
    int *updated;     /* params updated by the last vkm_g_adam */
    int nupdated;
    int *grad_params; /* params that got a gradient in the last backward */
    int ngrad_params;
    int64_t (*sync_runs)[2]; /* per parameter, by offset: the gradient-region ranges [lo, hi) of the host sync points */
    int nsync_runs;
    int bwd_first;    /* first node of the last backward */
    char err[256];
};

/* The store region (0 param, 1 input, 2 state, 3 u32) of a kind. */
static inline int vkm_store_region(int kind) {
    return kind == VKM_S_PARAM ? 0 : kind == VKM_S_INPUT ? 1 : kind == VKM_S_STATE ? 2 : 3;
}
/* Resolves aliases down to the tensor that owns the storage. */
static inline vkm_t vkm_g_root(const vkm_graph *g, vkm_t t) {
    while (t && g->t[t].kind == T_ALIAS) t = g->t[t].alias_of;
    return t;
}
/* Element offset of a store tensor's copy `what` within its device region. */
int64_t vkm_store_elem_offset(const vkm_store *st, int id, int what);

/* Host sync points of a recorded graph (graph_sync.c): each point's
 * gradients are split into parts by the backward node after which they are
 * final; a part's exchange starts there, while the device goes on. */
typedef struct vkm_sync_set vkm_sync_set;
vkm_sync_set *vkm_sync_plan(const vkm_graph *g, vkm_store_dev *sd);
/* Records the host calls due after node i (part starts; at a host sync
 * node, its last part and the wait for all). */
int vkm_sync_record_after(vkm_sync_set *s, vkm_seq *seq, int i);
void vkm_sync_set_ops(vkm_sync_set *s, const vkm_grad_sync_ops *ops, void *user);
int vkm_sync_part_count(const vkm_sync_set *s);
void vkm_sync_free(vkm_sync_set *s);

/* The device range of arena bytes [off, off + bytes) (graph_arena.c);
 * -1 when they are not within one chunk of the arena. */
int vkm_arena_span(const vkm_arena *a, int64_t off, int64_t bytes, vkm_buf *out);

/* store.c internals used by the executors */
vkm_buf vkm_store_dev_buf(const vkm_store_dev *sd, int id, int what);
vkm_buf vkm_store_dev_region(const vkm_store_dev *sd, int what);
double *vkm_store_ref_region(vkm_store_ref *sr, int what, int64_t *n);
