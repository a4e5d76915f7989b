/* The store of persistent tensors shared by a model's graphs: parameters
 * (with gradient, Adam moments and EMA copies laid out alike), per-iteration
 * inputs, device-owned state and uint32 words; its device memory (one buffer
 * per region) and its double-precision twin for the CPU reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"

#define ALIGN_ELEMS (VKM_GRAPH_ALIGN / 4)
enum { B_VALUE, B_GRAD, B_M, B_V, B_EMA, B_INPUT, B_STATE, B_U32, B_COUNT };

vkm_store *vkm_store_new(void) { return calloc(1, sizeof(vkm_store)); }

void vkm_store_free(vkm_store *st) {
    if (!st) return;
    free(st->e);
    free(st);
}

int vkm_store_add(vkm_store *st, const char *name, int kind, vkm_shape shape) {
    if (vkm_store_find(st, name) >= 0 || kind < VKM_S_PARAM || kind > VKM_S_U32 || vkm_numel(shape) <= 0) return -1;
    if (st->n == st->cap) {
        int cap = st->cap ? 2 * st->cap : 64;
        vkm_store_entry *ne = realloc(st->e, cap * sizeof *ne);
        if (!ne) return -1;
        st->e = ne;
        st->cap = cap;
    }
    vkm_store_entry *e = &st->e[st->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kind = kind;
    e->shape = shape;
    e->numel = vkm_numel(shape);
    int r = vkm_store_region(kind);
    e->off = st->region[r];
    st->region[r] += (e->numel + ALIGN_ELEMS - 1) / ALIGN_ELEMS * ALIGN_ELEMS;
    e->grad_off = kind == VKM_S_PARAM ? e->off : -1;
    return st->n++;
}

int vkm_store_param(vkm_store *st, const char *name, vkm_shape shape, float init_std, float init_value, float lr,
                    int ema, int group) {
    int id = vkm_store_add(st, name, VKM_S_PARAM, shape);
    if (id < 0) return -1;
    vkm_store_entry *e = &st->e[id];
    e->init_std = init_std;
    e->init_value = init_value;
    e->lr = lr;
    e->ema = ema;
    e->group = group;
    return id;
}

int vkm_store_count(const vkm_store *st) { return st->n; }
const vkm_store_entry *vkm_store_get(const vkm_store *st, int id) {
    return id >= 0 && id < st->n ? &st->e[id] : NULL;
}
int vkm_store_find(const vkm_store *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->e[i].name, name)) return i;
    return -1;
}
int64_t vkm_store_param_numel(const vkm_store *st) {
    int64_t n = 0;
    for (int i = 0; i < st->n; i++)
        if (st->e[i].kind == VKM_S_PARAM) n += st->e[i].numel;
    return n;
}
int64_t vkm_store_elem_offset(const vkm_store *st, int id, int what) {
    (void)what; /* every copy of a parameter shares its layout */
    return st->e[id].off;
}

static int buffer_index(const vkm_store_entry *e, int what) {
    switch (e->kind) {
    case VKM_S_PARAM: return what;
    case VKM_S_INPUT: return B_INPUT;
    case VKM_S_STATE: return B_STATE;
    default: return B_U32;
    }
}

/* ---- device ---------------------------------------------------------------- */
struct vkm_store_dev {
    vkm_store *st;
    vkm_ctx *ctx;
    vkm_buf buf[B_COUNT];
};

int vkm_store_device_init(vkm_store *st, vkm_ctx *ctx, vkm_store_dev **out) {
    *out = NULL;
    vkm_store_dev *sd = calloc(1, sizeof *sd);
    if (!sd) return -1;
    sd->st = st;
    sd->ctx = ctx;
    int64_t sizes[B_COUNT] = {st->region[0], st->region[0], st->region[0], st->region[0], st->region[0],
                              st->region[1], st->region[2], st->region[3]};
    for (int b = 0; b < B_COUNT; b++) {
        if (vkm_alloc(ctx, (uint64_t)(sizes[b] ? sizes[b] : 1) * 4, &sd->buf[b]) ||
            vkm_fill_bytes(ctx, sd->buf[b], 0)) {
            vkm_store_device_free(sd);
            return -1;
        }
    }
    *out = sd;
    return 0;
}

void vkm_store_device_free(vkm_store_dev *sd) {
    if (!sd) return;
    for (int b = 0; b < B_COUNT; b++) vkm_free(sd->ctx, &sd->buf[b]);
    free(sd);
}

/* The device range of store tensor id's copy `what` (used by graph_exec.c). */
vkm_buf vkm_store_dev_buf(const vkm_store_dev *sd, int id, int what) {
    const vkm_store_entry *e = &sd->st->e[id];
    return vkm_sub(sd->buf[buffer_index(e, what)], (uint64_t)e->off * 4, (uint64_t)e->numel * 4);
}
vkm_ctx *vkm_store_dev_ctx(const vkm_store_dev *sd) { return sd->ctx; }

/* The whole region of one parameter copy (W_VALUE .. W_EMA): spans of it
 * serve the zeroing of gradients and the multi-tensor Adam / EMA. */
vkm_buf vkm_store_dev_region(const vkm_store_dev *sd, int what) { return sd->buf[what]; }

int vkm_store_write(vkm_store_dev *sd, int id, int what, const void *src) {
    if (id < 0 || id >= sd->st->n) return -1;
    return vkm_write(sd->ctx, vkm_store_dev_buf(sd, id, what), 0, src, (uint64_t)sd->st->e[id].numel * 4);
}

int vkm_store_read(vkm_store_dev *sd, int id, int what, void *dst) {
    if (id < 0 || id >= sd->st->n) return -1;
    return vkm_read(sd->ctx, vkm_store_dev_buf(sd, id, what), 0, dst, (uint64_t)sd->st->e[id].numel * 4);
}

/* splitmix64 + Box-Muller: the same stream on every platform. */
static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vkm_store_init_host(const vkm_store *st, int id, uint64_t seed, float *out) {
    const vkm_store_entry *e = &st->e[id];
    uint64_t s = seed * 0x100000001b3ull ^ (uint64_t)id * 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < e->numel; i++) {
        if (e->init_std > 0) {
            double u = ((mix(&s) >> 11) + 0.5) * (1.0 / 9007199254740992.0), v = (mix(&s) >> 11) * (1.0 / 9007199254740992.0);
            out[i] = (float)(e->init_std * sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
        } else {
            out[i] = e->init_value;
        }
    }
}

int vkm_store_init_params(vkm_store_dev *sd, uint64_t seed) {
    const vkm_store *st = sd->st;
    int rc = 0;
    for (int id = 0; id < st->n && !rc; id++) {
        const vkm_store_entry *e = &st->e[id];
        if (e->kind != VKM_S_PARAM) continue;
        float *h = calloc((size_t)e->numel, sizeof *h);
        if (!h) return -1;
        vkm_store_init_host(st, id, seed, h);
        rc = vkm_store_write(sd, id, W_VALUE, h) || vkm_store_write(sd, id, W_EMA, h);
        memset(h, 0, (size_t)e->numel * sizeof *h);
        if (!rc) rc = vkm_store_write(sd, id, W_M, h) || vkm_store_write(sd, id, W_V, h);
        free(h);
    }
    return rc;
}

/* ---- the CPU reference twin ------------------------------------------------- */
struct vkm_store_ref {
    const vkm_store *st;
    double *d[B_COUNT];
    uint32_t *u32;
};

vkm_store_ref *vkm_store_ref_new(const vkm_store *st) {
    vkm_store_ref *sr = calloc(1, sizeof *sr);
    if (!sr) return NULL;
    sr->st = st;
    int64_t sizes[B_COUNT] = {st->region[0], st->region[0], st->region[0], st->region[0], st->region[0],
                              st->region[1], st->region[2], 0};
    int ok = 1;
    for (int b = 0; b < B_U32; b++) ok &= (sr->d[b] = calloc((size_t)(sizes[b] ? sizes[b] : 1), sizeof(double))) != NULL;
    ok &= (sr->u32 = calloc((size_t)(st->region[3] ? st->region[3] : 1), 4)) != NULL;
    if (!ok) {
        vkm_store_ref_free(sr);
        return NULL;
    }
    return sr;
}

void vkm_store_ref_free(vkm_store_ref *sr) {
    if (!sr) return;
    for (int b = 0; b < B_COUNT; b++) free(sr->d[b]);
    free(sr->u32);
    free(sr);
}

double *vkm_store_ref_data(vkm_store_ref *sr, int id, int what) {
    const vkm_store_entry *e = &sr->st->e[id];
    int b = buffer_index(e, what);
    return b == B_U32 ? NULL : sr->d[b] + e->off;
}

uint32_t *vkm_store_ref_u32(vkm_store_ref *sr, int id) {
    const vkm_store_entry *e = &sr->st->e[id];
    return e->kind == VKM_S_U32 ? sr->u32 + e->off : NULL;
}

/* The whole region of one parameter copy of the reference twin. */
double *vkm_store_ref_region(vkm_store_ref *sr, int what, int64_t *n) {
    *n = sr->st->region[0];
    return sr->d[what];
}
