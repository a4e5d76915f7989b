/* The static graph: model code records ops on a tape; reverse-mode autodiff
 * appends the backward ops; a liveness planner gives every transient tensor
 * an offset in one arena (device memory in chunks of at most the device's
 * largest allocation); the graph is then recorded once into a Vulkan
 * sequence and replayed, or executed on the CPU reference. Persistent tensors
 * (parameters, their gradients, optimizer state, per-iteration inputs) live
 * in a store shared by all graphs of a model. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "runtime/vkm.h"
#include "runtime/ref/op_params.h"

typedef struct { int n, c, h, w; } vkm_shape;
static inline int64_t vkm_numel(vkm_shape s) { return (int64_t)s.n * s.c * s.h * s.w; }
static inline vkm_shape vkm_shp(int n, int c, int h, int w) { vkm_shape s = {n, c, h, w}; return s; }

/* ---- the store of persistent tensors ------------------------------------ */
enum {
    VKM_S_PARAM = 1, /* trainable: gets a gradient, Adam moments and (if ema) an EMA copy */
    VKM_S_INPUT,     /* written by the host before each submit */
    VKM_S_STATE,     /* device-owned persistent values (read back by the host) */
    VKM_S_U32,       /* uint32 words (Adam step counters, random seeds) */
};
typedef struct vkm_store vkm_store;

typedef struct {
    char name[96];
    int kind;
    vkm_shape shape;
    int64_t numel;
    int64_t off;        /* element offset of the value within its kind's region */
    int64_t grad_off;   /* element offset of the gradient in the grad region (params) */
    float init_std;     /* He normal std; 0 = constant init_value */
    float init_value;
    float lr;           /* learning rate of this parameter */
    int ema;            /* keep an EMA copy */
    int group;          /* model-defined module index (for reports) */
} vkm_store_entry;

vkm_store *vkm_store_new(void);
void vkm_store_free(vkm_store *st);
/* Adds a persistent tensor; returns its id (>= 0) or -1 when the name exists. */
int vkm_store_add(vkm_store *st, const char *name, int kind, vkm_shape shape);
/* Parameter with He-normal (std > 0) or constant init, its lr and EMA flag. */
int vkm_store_param(vkm_store *st, const char *name, vkm_shape shape, float init_std, float init_value,
                    float lr, int ema, int group);
int vkm_store_count(const vkm_store *st);
const vkm_store_entry *vkm_store_get(const vkm_store *st, int id);
int vkm_store_find(const vkm_store *st, const char *name);
int64_t vkm_store_param_numel(const vkm_store *st); /* all parameters together */

/* ---- graphs ------------------------------------------------------------- */
typedef int32_t vkm_t; /* tensor id within a graph; 0 = none */
typedef struct vkm_graph vkm_graph;

vkm_graph *vkm_graph_new(vkm_store *st);
void vkm_graph_free(vkm_graph *g);
/* First error while building (ops return 0 after an error), "" if none. */
const char *vkm_graph_error(const vkm_graph *g);
vkm_shape vkm_g_shape(const vkm_graph *g, vkm_t t);

/* Leaves. */
vkm_t vkm_g_store(vkm_graph *g, int store_id);     /* a persistent tensor (param/input/state) */
vkm_t vkm_g_detach(vkm_graph *g, vkm_t x);          /* same values, no gradient flows back */
vkm_t vkm_g_reshape(vkm_graph *g, vkm_t x, vkm_shape s); /* same storage, new shape (same numel) */

/* Forward ops (shapes inferred; B = x's n). */
vkm_t vkm_g_conv2d(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad); /* w [Cout,Cin,K,K]; b may be 0 */
/* avgpool2(conv2d(x, w, b, pad)) as one op: a quarter of the FLOPs */
vkm_t vkm_g_conv2d_avgpool2(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad);
/* conv2d(upsample2(x), w, b, pad) as one op, without the upsampled copy; its
 * input gradient costs a quarter of the FLOPs */
vkm_t vkm_g_upsample2_conv2d(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b, int pad);
vkm_t vkm_g_linear(vkm_graph *g, vkm_t x, vkm_t w, vkm_t b);         /* x [B,in,1,1], w [out,in,1,1] */
vkm_t vkm_g_hpf(vkm_graph *g, vkm_t x, float scale);
vkm_t vkm_g_instnorm(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta); /* affine if gamma, else none */
vkm_t vkm_g_adain(vkm_graph *g, vkm_t x, vkm_t gb);                  /* gb [B, 2C]: gamma | beta */
vkm_t vkm_g_act(vkm_graph *g, vkm_t x, float slope);                 /* 0.2 LeakyReLU, 0 ReLU */
/* act(instnorm(...)) and act(adain(...)) as one op each way (the backward
 * recomputes the pre-activation): what IN -> LReLU costs without the
 * intermediate tensor and two passes over it. */
vkm_t vkm_g_instnorm_act(vkm_graph *g, vkm_t x, vkm_t gamma, vkm_t beta, float slope);
vkm_t vkm_g_adain_act(vkm_graph *g, vkm_t x, vkm_t gb, float slope);
vkm_t vkm_g_avgpool2(vkm_graph *g, vkm_t x);
vkm_t vkm_g_upsample2(vkm_graph *g, vkm_t x);
vkm_t vkm_g_axpby(vkm_graph *g, vkm_t x, vkm_t y, float a, float b); /* a x + b y (y may be 0) */
/* Channel concat; a 0 entry is a zero-filled slot of `slot_c` channels. */
vkm_t vkm_g_concat(vkm_graph *g, const vkm_t *xs, int n, int slot_c);
vkm_t vkm_g_slice(vkm_graph *g, vkm_t x, int c_off, int c_n);        /* channels [c_off, c_off+c_n) */
vkm_t vkm_g_mean(vkm_graph *g, const vkm_t *xs, int n);
/* Stacking in the batch, so that n passes through the same layers run as
 * one: xs[0..n) [B, C, H, W] -> [n*B, C, H, W] with item b*n + i = xs[i][b]
 * (a channel concat viewed as a bigger batch); unstack takes part i back. */
vkm_t vkm_g_stack(vkm_graph *g, const vkm_t *xs, int n);
vkm_t vkm_g_unstack(vkm_graph *g, vkm_t x, int n, int i);
vkm_t vkm_g_l1(vkm_graph *g, vkm_t x, vkm_t y);                      /* scalar mean |x - y| */
/* parts * mean |x - y|: the sum of the L1 losses of `parts` same-sized
 * pairs stacked in one tensor (any interleaving), as one op. */
vkm_t vkm_g_l1_parts(vkm_graph *g, vkm_t x, vkm_t y, int parts);
vkm_t vkm_g_bce(vkm_graph *g, vkm_t logits, float target);           /* scalar mean BCE with logits */
/* Normal noise of shape s from seeds[2*seed_index..] of a U32 store tensor:
 * elements [first, first + numel) of that seed's stream (first a multiple of
 * 4; a data-parallel process draws its own rows of the global batch). */
vkm_t vkm_g_randn(vkm_graph *g, vkm_shape s, int seeds_store_id, int seed_index, int64_t first);

/* Reverse-mode autodiff: L = sum_i weights[w_store][w_index[i]] * losses[i]
 * (weights: a store INPUT tensor the host writes, e.g. the lambdas). Appends
 * the backward ops; gradients of tensors used several times are summed, and
 * every parameter in `params` reached by L gets its gradient in the store's
 * gradient region (zeroed first by this call). Returns 0 or -1. */
int vkm_g_backward(vkm_graph *g, const vkm_t *losses, const int *w_index, int n, int w_store,
                   const int *params, int nparams);
/* Adam (DESIGN §5) on every parameter that received a gradient in the last
 * vkm_g_backward: steps_store is a U32 store tensor indexed by parameter id. */
int vkm_g_adam(vkm_graph *g, float beta1, float beta2, float eps, float wd, int steps_store);
/* A host synchronisation point for the gradients of the last vkm_g_backward
 * (put it between that backward and its vkm_g_adam): on replay, the exec's
 * sync callbacks (see vkm_graph_exec_on_sync) see those gradients as float
 * spans and may rewrite them in place, e.g. all-reduce them across
 * processes, before the rest runs. Spans whose gradients are final early in
 * the backward are handed out there, while the device goes on with the rest
 * of the backward. The CPU reference skips it. sync_id is passed on. */
int vkm_g_host_sync(vkm_graph *g, int sync_id);
/* EMA of every parameter with ema set: ema = decay ema + (1 - decay) p. */
int vkm_g_ema(vkm_graph *g, float decay);
/* Copies a graph tensor into a STATE store tensor (outputs the host reads). */
int vkm_g_output(vkm_graph *g, vkm_t x, int store_id);
/* Parameters updated by the last vkm_g_adam (the host advances their step counters). */
int vkm_g_updated_params(const vkm_graph *g, const int **ids);

/* ---- planning and statistics --------------------------------------------- */
typedef struct {
    int nodes, forward_nodes;
    double flops, forward_flops;
    int64_t arena_bytes;   /* planned peak of transient tensors (with any padding at chunk ends) */
    int64_t naive_bytes;   /* sum of all transient tensors */
    int64_t chunk_bytes;   /* arena chunk size planned for (0: unbounded, one chunk) */
    int chunks;            /* chunks of the arena: ceil(arena_bytes / chunk_bytes), at least 1 */
} vkm_graph_stats;
/* Assigns arena offsets (liveness-based sharing) so that no tensor crosses a
 * multiple of chunk_bytes (rounded down to a multiple of 256; 0: unbounded;
 * on a device: vkm_chunk_limit). Idempotent for one chunk size; another
 * re-plans (free execs recorded from the old plan first). Fails, with the
 * graph's error set, when a tensor is larger than a chunk. */
int vkm_graph_plan(vkm_graph *g, uint64_t chunk_bytes);
vkm_graph_stats vkm_graph_stats_of(const vkm_graph *g);

/* ---- executing ------------------------------------------------------------ */
/* Device memory of a store: one region per kind (+ gradients, Adam moments,
 * EMA), allocated by vkm_store_device_init. Host views are float arrays. */
typedef struct vkm_store_dev vkm_store_dev;
int vkm_store_device_init(vkm_store *st, vkm_ctx *ctx, vkm_store_dev **out);
void vkm_store_device_free(vkm_store_dev *sd);
vkm_ctx *vkm_store_dev_ctx(const vkm_store_dev *sd);
/* Host <-> device for one tensor's value (what: 0 value, 1 grad, 2 adam m, 3 adam v, 4 ema). */
int vkm_store_write(vkm_store_dev *sd, int id, int what, const void *src);
int vkm_store_read(vkm_store_dev *sd, int id, int what, void *dst);
/* He/constant init of every parameter from a seed (also m = v = 0, ema = p). */
int vkm_store_init_params(vkm_store_dev *sd, uint64_t seed);
/* The initial values of parameter id for a seed (what vkm_store_init_params writes). */
void vkm_store_init_host(const vkm_store *st, int id, uint64_t seed, float *out);

/* The device memory of the transient tensors of graphs that never run at
 * the same time: chunks of the graphs' planned chunk size, one allocation
 * each, covering the largest of their arena_bytes. The graphs must be
 * planned, all for the same chunk size; errors go to the context. */
typedef struct vkm_arena vkm_arena;
int vkm_arena_new(vkm_ctx *ctx, vkm_graph *const *gs, int n, vkm_arena **out);
void vkm_arena_free(vkm_arena *a);
int64_t vkm_arena_bytes(const vkm_arena *a);  /* the extent covered (largest arena_bytes) */
int vkm_arena_chunks(const vkm_arena *a);
int64_t vkm_arena_chunk_bytes(const vkm_arena *a); /* 0: one chunk */

/* Records g into a replayable sequence over the arena (planned for the
 * arena's chunk size when not planned yet). */
typedef struct vkm_graph_exec vkm_graph_exec;
int vkm_graph_record(vkm_graph *g, vkm_store_dev *sd, const vkm_arena *arena, int flags, vkm_graph_exec **out);
int vkm_graph_exec_run(vkm_graph_exec *e);
/* Gradient spans of a host sync point: mapped device memory on
 * unified-memory devices, else a host copy staged down when the part starts
 * and written back after finish. */
typedef struct { float *data; int64_t n; } vkm_span;
/* The callbacks of the exec's host sync points, on each replay and for each
 * point: start once per part of its gradients as soon as they are final (the
 * device then goes on with the rest of the backward: start should only
 * begin the work, e.g. a non-blocking all-reduce), poll now and then while
 * the host waits for the device, finish at the point itself (the device
 * waits: complete whatever start began; the spans of every part must hold
 * their final values on return). The spans stay valid and untouched by the
 * device from their start to finish. Non-zero fails vkm_graph_exec_run. */
typedef struct {
    int (*start)(void *user, int sync_id, const vkm_span *spans, int nspans);
    int (*poll)(void *user);     /* may be NULL */
    int (*finish)(void *user, int sync_id);
} vkm_grad_sync_ops;
/* Sets the callbacks (copied; none set: the points only split the submit). */
void vkm_graph_exec_on_sync(vkm_graph_exec *e, const vkm_grad_sync_ops *ops, void *user);
/* Submit splits of the host sync points' parts (for reports and tests). */
int vkm_graph_exec_sync_parts(const vkm_graph_exec *e);
vkm_seq *vkm_graph_exec_seq(vkm_graph_exec *e);
void vkm_graph_exec_free(vkm_graph_exec *e);

/* The CPU reference backend: the same store in double precision. */
typedef struct vkm_store_ref vkm_store_ref;
vkm_store_ref *vkm_store_ref_new(const vkm_store *st);
void vkm_store_ref_free(vkm_store_ref *sr);
double *vkm_store_ref_data(vkm_store_ref *sr, int id, int what); /* NULL for U32 */
uint32_t *vkm_store_ref_u32(vkm_store_ref *sr, int id);
/* Runs g on the reference backend (allocates its own arena). */
int vkm_graph_run_ref(vkm_graph *g, vkm_store_ref *sr, char *err, size_t errlen);
