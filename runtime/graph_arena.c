/* The step arena's device memory. A device caps one allocation at
 * maxMemoryAllocationSize (lavapipe: 2 GiB) while a large config's arena is
 * bigger, so the arena is a row of chunks, one allocation each, and the
 * planner (graph_plan.c) keeps every tensor within one chunk: arena offset
 * `off` lives in chunk off / chunk_bytes. An arena that fits one chunk is
 * one allocation of exactly its size, as before chunking. */
#include <stdlib.h>
#include "runtime/graph_internal.h"
#include "runtime/internal.h"

struct vkm_arena {
    vkm_ctx *ctx;
    int64_t bytes;   /* extent covered */
    int64_t chunk;   /* chunk size (0: one chunk of `bytes`) */
    int n;
    vkm_buf *bufs;
};

int vkm_arena_new(vkm_ctx *ctx, vkm_graph *const *gs, int n, vkm_arena **out) {
    *out = NULL;
    int64_t bytes = 0, chunk = -1;
    for (int i = 0; i < n; i++) {
        const vkm_graph *g = gs[i];
        if (!g->planned) return vkm_fail(ctx, "arena: graph %d of %d is not planned", i + 1, n);
        if (chunk >= 0 && g->chunk_bytes != chunk)
            return vkm_fail(ctx, "arena: graphs planned for different chunk sizes (%lld and %lld bytes)",
                            (long long)chunk, (long long)g->chunk_bytes);
        chunk = g->chunk_bytes;
        if (g->arena_bytes > bytes) bytes = g->arena_bytes;
    }
    vkm_arena *a = calloc(1, sizeof *a);
    int count = chunk > 0 && bytes > chunk ? (int)((bytes + chunk - 1) / chunk) : 1;
    if (a) a->bufs = calloc((size_t)count, sizeof *a->bufs);
    if (!a || !a->bufs) {
        free(a);
        return vkm_fail(ctx, "out of host memory");
    }
    a->ctx = ctx;
    a->bytes = bytes;
    a->chunk = chunk > 0 ? chunk : 0;
    for (int k = 0; k < count; k++) {
        int64_t size = bytes - k * a->chunk; /* what is left; all of it in the last chunk */
        if (k < count - 1) size = a->chunk;
        if (vkm_alloc(ctx, (uint64_t)size, &a->bufs[k])) {
            vkm_arena_free(a);
            return -1;
        }
        a->n++;
    }
    *out = a;
    return 0;
}

void vkm_arena_free(vkm_arena *a) {
    if (!a) return;
    for (int k = 0; k < a->n; k++) vkm_free(a->ctx, &a->bufs[k]);
    free(a->bufs);
    free(a);
}

int64_t vkm_arena_bytes(const vkm_arena *a) { return a->bytes; }
int vkm_arena_chunks(const vkm_arena *a) { return a->n; }
int64_t vkm_arena_chunk_bytes(const vkm_arena *a) { return a->chunk; }

int vkm_arena_span(const vkm_arena *a, int64_t off, int64_t bytes, vkm_buf *out) {
    int64_t k = a->chunk ? off / a->chunk : 0;
    if (off < 0 || bytes < 0 || k >= a->n) return -1;
    int64_t lo = off - k * a->chunk;
    if (lo + bytes > (int64_t)a->bufs[k].size) return -1;
    *out = vkm_sub(a->bufs[k], (uint64_t)lo, (uint64_t)bytes);
    return 0;
}
