/* The host sync points of a recorded graph (vkm_g_host_sync): where in the
 * backward each gradient is final, the host calls that hand the gradients
 * to the exec's callbacks part by part, and their staging on devices
 * without unified memory. A backward finishes the gradients of the last
 * layers first, so an exchange of those can run while the device computes
 * the rest; only the last part's exchange is left for the sync point. */
#include <stdlib.h>
#include <string.h>
#include "runtime/graph_internal.h"
#include "runtime/internal.h"

/* Parts per sync point at most: every part before the last ends a submit
 * (the device drains there once), so a few parts of similar size.
 * VKMIST_SYNC_PARTS=1..MAX_PARTS sets the count (1: no overlap, for
 * comparisons). */
#define MAX_PARTS 4

typedef struct sync_point sync_point;

typedef struct {
    sync_point *p;
    int first, n;             /* its runs and spans: [first, first + n) of p->runs */
    int first_chunk, nchunks; /* its staged copies: p->chunks[first_chunk...] */
    int after;                /* the graph node after which all of them are final */
} sync_part;

struct sync_point {
    vkm_sync_set *set;
    int id, node, nruns, nparts, nchunks;
    int64_t lo, hi;           /* hull of the runs (elements of the gradient region) */
    int64_t (*runs)[2];       /* ordered by part, then offset */
    vkm_span *spans;
    int64_t (*chunks)[2];     /* maximal ranges holding runs of one part only, by part */
    sync_part parts[MAX_PARTS];
};

typedef struct {
    int after;                /* recorded after this node */
    sync_part *part;          /* a part's start ... */
    sync_point *point;        /* ... or the sync point itself (its last part, then finish) */
} sync_call;

struct vkm_sync_set {
    vkm_store_dev *sd;
    sync_point *points;
    int npoints;
    sync_call *calls;         /* by node */
    int ncalls, next;
    vkm_grad_sync_ops ops;
    void *user;
    int has_ops, pending;     /* pending: parts started and not finished */
    float *stage;             /* host copy of a point's hull (devices without unified memory) */
    int64_t stage_n;
};

/* The gradient-region element range that tensor t writes, if any. */
static int grad_range(const vkm_graph *g, vkm_t t, int64_t *lo, int64_t *hi) {
    vkm_t r = vkm_g_root(g, t);
    const vkm_tensor *tr = &g->t[r];
    if (!r || tr->kind != T_STORE || tr->store_what != W_GRAD) return 0;
    if (tr->store_id < 0) { /* a span of the region (the backward's zero fill) */
        *lo = tr->offset, *hi = tr->offset + vkm_numel(tr->shape);
    } else {
        const vkm_store_entry *e = &g->st->e[tr->store_id];
        *lo = e->grad_off, *hi = e->grad_off + e->numel;
    }
    return 1;
}

typedef struct { int64_t lo, hi; int ready, part; } run_info;

static int by_ready(const void *a, const void *b) {
    const run_info *x = a, *y = b;
    if (x->ready != y->ready) return (x->ready > y->ready) - (x->ready < y->ready);
    return (x->lo > y->lo) - (x->lo < y->lo);
}

static int by_offset(const void *a, const void *b) {
    const run_info *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Parts of the sync node at `node`: its parameters' gradient ranges grouped
 * by the node after which they are final, cut into at most MAX_PARTS groups
 * of similar size; within a part, neighbours in the region merge into one
 * run (the alignment padding between them is zeroed with them). */
static int plan_point(const vkm_graph *g, int node, sync_point *p) {
    const vkm_node *sn = &g->nodes[node];
    int nr = sn->p.sync.count;
    p->id = sn->p.sync.id, p->node = node;
    size_t cap = (size_t)(nr ? nr : 1);
    p->runs = malloc(cap * sizeof *p->runs);
    p->spans = malloc(cap * sizeof *p->spans);
    p->chunks = malloc(cap * sizeof *p->chunks);
    run_info *ri = malloc(cap * sizeof *ri);
    int *run_part = malloc(cap * sizeof *run_part), *chunk_part = malloc(cap * sizeof *chunk_part);
    int64_t(*tmp)[2] = malloc(cap * sizeof *tmp);
    int rc = -1;
    if (!p->runs || !p->spans || !p->chunks || !ri || !run_part || !chunk_part || !tmp) goto out;
    int64_t total = 0;
    p->lo = nr ? g->sync_runs[sn->p.sync.first][0] : 0, p->hi = p->lo;
    for (int r = 0; r < nr; r++) {
        const int64_t *run = g->sync_runs[sn->p.sync.first + r];
        ri[r] = (run_info){run[0], run[1], sn->p.sync.bwd_first, 0};
        total += run[1] - run[0];
        if (run[0] < p->lo) p->lo = run[0];
        if (run[1] > p->hi) p->hi = run[1];
    }
    for (int i = sn->p.sync.bwd_first; i < node; i++)
        for (int k = 0; k < VKM_NODE_OUT; k++) {
            int64_t lo, hi;
            if (!g->nodes[i].out[k] || !grad_range(g, g->nodes[i].out[k], &lo, &hi)) continue;
            for (int r = 0; r < nr; r++)
                if (ri[r].lo < hi && lo < ri[r].hi) ri[r].ready = i;
        }
    /* in the order they become final; cut only between different nodes */
    qsort(ri, (size_t)nr, sizeof *ri, by_ready);
    const char *env = getenv("VKMIST_SYNC_PARTS");
    int max_parts = env && atoi(env) >= 1 && atoi(env) <= MAX_PARTS ? atoi(env) : MAX_PARTS;
    int part = 0;
    int64_t acc = 0;
    for (int r = 0; r < nr; r++) {
        ri[r].part = part;
        acc += ri[r].hi - ri[r].lo;
        if (part < max_parts - 1 && r + 1 < nr && ri[r + 1].ready != ri[r].ready &&
            acc >= total * (part + 1) / max_parts)
            p->parts[part++].after = ri[r].ready;
    }
    p->nparts = nr ? part + 1 : 0;
    if (p->nparts) p->parts[part].after = node; /* the last part starts at the point itself */
    /* in region order: runs merge padded neighbours of one part; chunks
     * (the staged copies) are maximal stretches of one part's ranges */
    qsort(ri, (size_t)nr, sizeof *ri, by_offset);
    const int64_t a = VKM_GRAPH_ALIGN / 4;
    int nrun = 0, nc = 0;
    for (int r = 0; r < nr; r++) {
        if (nrun && run_part[nrun - 1] == ri[r].part && (p->runs[nrun - 1][1] + a - 1) / a * a >= ri[r].lo) {
            p->runs[nrun - 1][1] = ri[r].hi;
        } else {
            p->runs[nrun][0] = ri[r].lo, p->runs[nrun][1] = ri[r].hi;
            run_part[nrun++] = ri[r].part;
        }
        if (nc && chunk_part[nc - 1] == ri[r].part) {
            p->chunks[nc - 1][1] = ri[r].hi;
        } else {
            p->chunks[nc][0] = ri[r].lo, p->chunks[nc][1] = ri[r].hi;
            chunk_part[nc++] = ri[r].part;
        }
    }
    p->nruns = nrun, p->nchunks = nc;
    /* regroup both by part, keeping region order within a part */
    for (int q = 0, k = 0; q < p->nparts; q++) {
        p->parts[q].p = p;
        p->parts[q].first = k;
        for (int r = 0; r < nrun; r++)
            if (run_part[r] == q) memcpy(tmp[k++], p->runs[r], sizeof *tmp);
        p->parts[q].n = k - p->parts[q].first;
    }
    memcpy(p->runs, tmp, (size_t)nrun * sizeof *tmp);
    for (int q = 0, k = 0; q < p->nparts; q++) {
        p->parts[q].first_chunk = k;
        for (int c = 0; c < nc; c++)
            if (chunk_part[c] == q) memcpy(tmp[k++], p->chunks[c], sizeof *tmp);
        p->parts[q].nchunks = k - p->parts[q].first_chunk;
    }
    memcpy(p->chunks, tmp, (size_t)nc * sizeof *tmp);
    rc = 0;
out:
    free(ri);
    free(run_part);
    free(chunk_part);
    free(tmp);
    return rc;
}

static int by_call_node(const void *a, const void *b) {
    const sync_call *x = a, *y = b;
    if (x->after != y->after) return (x->after > y->after) - (x->after < y->after);
    return (x->point != NULL) - (y->point != NULL); /* a part's start before a point's finish */
}

vkm_sync_set *vkm_sync_plan(const vkm_graph *g, vkm_store_dev *sd) {
    vkm_sync_set *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->sd = sd;
    int k = 0;
    for (int i = 0; i < g->nn; i++) k += g->nodes[i].op == N_HOST_SYNC;
    s->points = calloc((size_t)(k ? k : 1), sizeof *s->points);
    s->calls = calloc((size_t)(k ? k : 1) * MAX_PARTS, sizeof *s->calls);
    if (!s->points || !s->calls) {
        vkm_sync_free(s);
        return NULL;
    }
    for (int i = 0; i < g->nn; i++) {
        if (g->nodes[i].op != N_HOST_SYNC) continue;
        sync_point *p = &s->points[s->npoints++];
        p->set = s;
        if (plan_point(g, i, p)) {
            vkm_sync_free(s);
            return NULL;
        }
        for (int q = 0; q + 1 < p->nparts; q++) s->calls[s->ncalls++] = (sync_call){p->parts[q].after, &p->parts[q], NULL};
        s->calls[s->ncalls++] = (sync_call){i, NULL, p};
    }
    qsort(s->calls, (size_t)s->ncalls, sizeof *s->calls, by_call_node);
    return s;
}

/* A part's gradients are final: point its spans at them (staging them down
 * where the device memory is not mapped) and start the callback's work. */
static int part_start(void *user) {
    sync_part *q = user;
    sync_point *p = q->p;
    vkm_sync_set *s = p->set;
    if (!s->has_ops || !q->n) return 0;
    vkm_ctx *ctx = vkm_store_dev_ctx(s->sd);
    vkm_buf grads = vkm_store_dev_region(s->sd, W_GRAD);
    float *base = grads.map ? (float *)grads.map + p->lo : NULL;
    if (!base) {
        if (p->hi - p->lo > s->stage_n) {
            if (s->pending) return vkm_fail(ctx, "host sync point %d: staging buffer resized while in use", p->id);
            float *ns = realloc(s->stage, (size_t)(p->hi - p->lo) * sizeof *ns);
            if (!ns) return vkm_fail(ctx, "host sync point %d: out of host memory", p->id);
            s->stage = ns, s->stage_n = p->hi - p->lo;
        }
        base = s->stage;
        for (int c = q->first_chunk; c < q->first_chunk + q->nchunks; c++) {
            const int64_t *ch = p->chunks[c];
            if (vkm_read(ctx, grads, (uint64_t)ch[0] * 4, base + (ch[0] - p->lo), (uint64_t)(ch[1] - ch[0]) * 4))
                return -1;
        }
    }
    for (int r = q->first; r < q->first + q->n; r++)
        p->spans[r] = (vkm_span){base + (p->runs[r][0] - p->lo), p->runs[r][1] - p->runs[r][0]};
    s->pending++;
    if (s->ops.start(s->user, p->id, p->spans + q->first, q->n))
        return vkm_fail(ctx, "host sync point %d: the gradient callback failed", p->id);
    return 0;
}

/* The sync point: start its last part, wait for all, put staged copies back. */
static int point_finish(void *user) {
    sync_point *p = user;
    vkm_sync_set *s = p->set;
    if (!s->has_ops || !p->nparts) return 0;
    if (part_start(&p->parts[p->nparts - 1])) return -1;
    vkm_ctx *ctx = vkm_store_dev_ctx(s->sd);
    s->pending = 0;
    if (s->ops.finish(s->user, p->id)) return vkm_fail(ctx, "host sync point %d: the gradient callback failed", p->id);
    vkm_buf grads = vkm_store_dev_region(s->sd, W_GRAD);
    if (grads.map) return 0;
    for (int c = 0; c < p->nchunks; c++) {
        const int64_t *ch = p->chunks[c];
        if (vkm_write(ctx, grads, (uint64_t)ch[0] * 4, s->stage + (ch[0] - p->lo), (uint64_t)(ch[1] - ch[0]) * 4))
            return -1;
    }
    return 0;
}

static int poll(void *user) {
    vkm_sync_set *s = user;
    if (!s->pending || !s->ops.poll) return 0;
    if (s->ops.poll(s->user)) return vkm_fail(vkm_store_dev_ctx(s->sd), "host sync: the gradient callback failed");
    return 0;
}

int vkm_sync_record_after(vkm_sync_set *s, vkm_seq *seq, int i) {
    if (s->next == 0 && s->ncalls) vkm_seq_on_wait(seq, poll, s);
    for (; s->next < s->ncalls && s->calls[s->next].after <= i; s->next++) {
        const sync_call *c = &s->calls[s->next];
        if (c->point ? vkm_seq_host_call(seq, point_finish, c->point) : vkm_seq_host_call(seq, part_start, c->part))
            return -1;
    }
    return 0;
}

void vkm_sync_set_ops(vkm_sync_set *s, const vkm_grad_sync_ops *ops, void *user) {
    s->has_ops = ops && ops->start && ops->finish;
    if (ops) s->ops = *ops;
    s->user = user;
}

int vkm_sync_part_count(const vkm_sync_set *s) {
    int k = 0;
    for (int i = 0; i < s->npoints; i++) k += s->points[i].nparts;
    return k;
}

void vkm_sync_free(vkm_sync_set *s) {
    if (!s) return;
    for (int i = 0; i < s->npoints; i++) {
        free(s->points[i].runs);
        free(s->points[i].spans);
        free(s->points[i].chunks);
    }
    free(s->points);
    free(s->calls);
    free(s->stage);
    free(s);
}
