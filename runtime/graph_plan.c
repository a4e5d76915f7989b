/* The memory planner: liveness intervals of transient tensors over the node
 * order, then greedy best-offset placement (largest first) so tensors that are
 * never alive together share arena bytes. The arena is one flat range of
 * offsets cut into chunks of chunk_bytes (one device allocation each, since
 * devices cap an allocation at maxMemoryAllocationSize): no tensor may
 * straddle a chunk boundary, so one that would starts at the next chunk. */
#include <stdio.h>
#include <stdlib.h>
#include "runtime/graph_internal.h"

typedef struct { vkm_t t; int64_t size; int first, last; } live_rec;

static int by_size_desc(const void *a, const void *b) {
    const live_rec *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->t - y->t;
}

static int64_t round_up(int64_t x) { return (x + VKM_GRAPH_ALIGN - 1) / VKM_GRAPH_ALIGN * VKM_GRAPH_ALIGN; }

typedef struct { int64_t lo, hi; } span;
static int by_lo(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* pos, or the start of the next chunk when [pos, pos + size) would cross into it */
static int64_t fit(int64_t pos, int64_t size, int64_t chunk) {
    if (chunk && pos / chunk != (pos + size - 1) / chunk) return (pos / chunk + 1) * chunk;
    return pos;
}

int vkm_graph_plan(vkm_graph *g, uint64_t chunk_bytes) {
    /* offsets use VKM_GRAPH_ALIGN, a multiple of every device's alignment;
     * so does every chunk start */
    int64_t chunk = (int64_t)(chunk_bytes / VKM_GRAPH_ALIGN * VKM_GRAPH_ALIGN);
    if (g->err[0]) return -1;
    if (g->planned && g->chunk_bytes == chunk) return 0;
    if (chunk_bytes && !chunk) {
        snprintf(g->err, sizeof g->err, "plan: arena chunks of %llu bytes are below the %d-byte alignment",
                 (unsigned long long)chunk_bytes, VKM_GRAPH_ALIGN);
        return -1;
    }
    g->planned = 0;
    int *first = malloc(g->nt * sizeof *first), *last = malloc(g->nt * sizeof *last);
    live_rec *lr = malloc(g->nt * sizeof *lr);
    span *sp = malloc(g->nt * sizeof *sp);
    if (!first || !last || !lr || !sp) {
        free(first), free(last), free(lr), free(sp);
        return -1;
    }
    for (vkm_t t = 0; t < g->nt; t++) first[t] = -1, last[t] = -1;
    for (int i = 0; i < g->nn; i++) {
        const vkm_node *n = &g->nodes[i];
        vkm_t ts[VKM_NODE_IN + VKM_NODE_OUT];
        for (int k = 0; k < VKM_NODE_IN; k++) ts[k] = n->in[k];
        for (int k = 0; k < VKM_NODE_OUT; k++) ts[VKM_NODE_IN + k] = n->out[k];
        for (int k = 0; k < VKM_NODE_IN + VKM_NODE_OUT; k++) {
            vkm_t r = vkm_g_root(g, ts[k]);
            if (!r || g->t[r].kind != T_TRANSIENT) continue;
            if (first[r] < 0) first[r] = i;
            last[r] = i;
        }
    }
    int nl = 0;
    g->naive_bytes = 0;
    for (vkm_t t = 1; t < g->nt; t++) {
        if (g->t[t].kind != T_TRANSIENT) continue;
        g->t[t].offset = -1;
        if (first[t] < 0) continue;
        lr[nl++] = (live_rec){t, round_up(vkm_numel(g->t[t].shape) * 4), first[t], last[t]};
        g->naive_bytes += lr[nl - 1].size;
        if (chunk && lr[nl - 1].size > chunk) {
            snprintf(g->err, sizeof g->err,
                     "plan: a %.1f MiB tensor is larger than the arena chunk (%.1f MiB: the device's largest "
                     "allocation or VKMIST_ARENA_CHUNK_MB); try a smaller --batch or --config",
                     lr[nl - 1].size / 1048576.0, chunk / 1048576.0);
            free(first), free(last), free(lr), free(sp);
            return -1;
        }
    }
    qsort(lr, nl, sizeof *lr, by_size_desc);
    int64_t peak = 0;
    for (int i = 0; i < nl; i++) {
        int ns = 0;
        for (int k = 0; k < i; k++)
            if (lr[k].first <= lr[i].last && lr[i].first <= lr[k].last) {
                int64_t lo = g->t[lr[k].t].offset;
                sp[ns++] = (span){lo, lo + lr[k].size};
            }
        qsort(sp, ns, sizeof *sp, by_lo);
        /* best fit: the smallest gap that holds it (within one chunk), else
         * after everything */
        int64_t best = -1, best_gap = INT64_MAX, cur = 0;
        for (int k = 0; k < ns; k++) {
            int64_t at = fit(cur, lr[i].size, chunk);
            if (sp[k].lo - at >= lr[i].size && sp[k].lo - cur < best_gap) best = at, best_gap = sp[k].lo - cur;
            if (sp[k].hi > cur) cur = sp[k].hi;
        }
        if (best < 0) best = fit(cur, lr[i].size, chunk);
        g->t[lr[i].t].offset = best;
        if (best + lr[i].size > peak) peak = best + lr[i].size;
    }
    g->arena_bytes = peak;
    g->chunk_bytes = chunk;
    g->planned = 1;
    free(first), free(last), free(lr), free(sp);
    return 0;
}

vkm_graph_stats vkm_graph_stats_of(const vkm_graph *g) {
    vkm_graph_stats s = {0, 0, 0, 0, g->arena_bytes, g->naive_bytes, g->chunk_bytes, 1};
    if (g->chunk_bytes && g->arena_bytes > g->chunk_bytes)
        s.chunks = (int)((g->arena_bytes + g->chunk_bytes - 1) / g->chunk_bytes);
    s.nodes = g->nn;
    for (int i = 0; i < g->nn; i++) {
        s.flops += g->nodes[i].flops;
        if (g->nodes[i].forward) {
            s.forward_nodes++;
            s.forward_flops += g->nodes[i].flops;
        }
    }
    return s;
}
