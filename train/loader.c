/* Batch loader (see loader.h): counter-based batch contents and a
 * prefetch thread with a small ring of prepared batches.
 *
 * Ring protocol (all under mu): the consumer sets `cursor` to the batch it
 * wants (then to the one after it once served); the worker keeps the
 * window [cursor, cursor + nslots) filled, recycling FREE slots and READY
 * slots outside the window. Only the worker fills slots, and only it
 * touches the epoch-permutation memo, so the memo needs no lock. */
#include "train/loader.h"
#include "io/util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Streams of mist_rng_u64 (high 32 bits; the low bits hold the sample). */
enum { ST_PERM = 1, ST_PICK = 2, ST_FLIP = 8 };

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t mist_rng_u64(uint64_t seed, uint64_t counter, uint64_t stream) {
    return mix64(mix64(mix64(seed) ^ counter) ^ stream);
}

static uint64_t stream_of(int kind, int set, int j) {
    return ((uint64_t)(kind + set) << 32) | (uint32_t)j;
}

mist_loader_opts mist_loader_opts_default(void) {
    mist_loader_opts o = {2, 1, 2, 0, 0, 0};
    return o;
}

int mist_batch_alloc(mist_batch *b, int batch, int img) {
    memset(b, 0, sizeof *b);
    if (batch <= 0 || img <= 0) return -1;
    b->batch = batch;
    b->img = img;
    b->index = -1;
    size_t n = (size_t)batch * 4 * (size_t)img * (size_t)img;
    for (int s = 0; s < MIST_BATCH_NSETS; s++) {
        b->set[s] = malloc(n * sizeof(float));
        b->slice[s] = malloc((size_t)batch * sizeof(int64_t));
        b->flipped[s] = malloc((size_t)batch);
        if (!b->set[s] || !b->slice[s] || !b->flipped[s]) { mist_batch_free(b); return -1; }
    }
    return 0;
}

void mist_batch_free(mist_batch *b) {
    if (!b) return;
    for (int s = 0; s < MIST_BATCH_NSETS; s++) {
        free(b->set[s]);
        free(b->slice[s]);
        free(b->flipped[s]);
    }
    memset(b, 0, sizeof *b);
}

void mist_batch_domain(const mist_batch *b, int set, int d, float *out) {
    if (set < 0 || set >= MIST_BATCH_NSETS || d < 0 || d >= 4) return;
    size_t plane = (size_t)b->img * (size_t)b->img;
    for (int j = 0; j < b->batch; j++) memcpy(out + j * plane, b->set[set] + (j * 4 + d) * plane, plane * sizeof(float));
}

static void batch_copy(mist_batch *dst, const mist_batch *src) {
    size_t n = (size_t)src->batch * 4 * (size_t)src->img * (size_t)src->img;
    dst->index = src->index;
    for (int s = 0; s < MIST_BATCH_NSETS; s++) {
        memcpy(dst->set[s], src->set[s], n * sizeof(float));
        memcpy(dst->slice[s], src->slice[s], (size_t)src->batch * sizeof(int64_t));
        memcpy(dst->flipped[s], src->flipped[s], (size_t)src->batch);
    }
}

int mist_part_slices(const io_cache *c, const io_split *s, int part, int64_t **out, int64_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (part < 0 || part > 2) return io_err(err, errlen, "bad split part %d", part);
    uint8_t *in = calloc((size_t)(c->n_cases ? c->n_cases : 1), 1);
    int64_t *v = malloc(sizeof(int64_t) * (size_t)(c->n_slices ? c->n_slices : 1));
    if (!in || !v) { free(in); free(v); return io_err(err, errlen, "out of memory"); }
    for (int k = 0; k < c->n_cases; k++) in[k] = io_split_find(s, c->case_ids[k]) == part;
    int64_t m = 0;
    for (int64_t i = 0; i < c->n_slices; i++)
        if (in[c->info[i].case_idx]) v[m++] = i;
    free(in);
    if (!m) { free(v); v = NULL; }
    *out = v;
    *n = m;
    return 0;
}

/* --- deterministic picks for samples / validation ---------------------- */

static int cmp_z(const void *a, const void *b, void *u) {
    const io_cache *c = u;
    int za = c->info[*(const int64_t *)a].z, zb = c->info[*(const int64_t *)b].z;
    return (za > zb) - (za < zb);
}

static int cmp_case_id(const void *a, const void *b, void *u) {
    const io_cache *c = u;
    return strcmp(c->case_ids[*(const int *)a], c->case_ids[*(const int *)b]);
}

int mist_pick_slices(const io_cache *c, const io_split *s, int part, int k, int64_t *out, char *err, size_t errlen) {
    int64_t *sl, n;
    if (k <= 0) return 0;
    if (mist_part_slices(c, s, part, &sl, &n, err, errlen)) return -1;
    if (!n) return 0;
    /* group the part's slices by case (cases ordered by id), each by z */
    int nc = 0, *cases = malloc(sizeof(int) * (size_t)c->n_cases), *cnt = calloc((size_t)c->n_cases, sizeof(int));
    int64_t *start = calloc((size_t)c->n_cases + 1, sizeof(int64_t)), *grouped = malloc(sizeof(int64_t) * (size_t)n);
    int *take = calloc((size_t)c->n_cases, sizeof(int));
    int got = 0;
    if (!cases || !cnt || !start || !grouped || !take) { got = io_err(err, errlen, "out of memory"); goto out; }
    for (int64_t i = 0; i < n; i++) cnt[c->info[sl[i]].case_idx]++;
    for (int ci = 0; ci < c->n_cases; ci++) if (cnt[ci]) cases[nc++] = ci;
    qsort_r(cases, (size_t)nc, sizeof(int), cmp_case_id, (void *)c);
    /* start[r]: offset of the r-th case (by id) in grouped */
    for (int r = 0; r < nc; r++) start[r + 1] = start[r] + cnt[cases[r]];
    for (int r = 0; r < nc; r++) {
        int64_t w = start[r];
        for (int64_t i = 0; i < n; i++) if (c->info[sl[i]].case_idx == cases[r]) grouped[w++] = sl[i];
        qsort_r(grouped + start[r], (size_t)cnt[cases[r]], sizeof(int64_t), cmp_z, (void *)c);
    }
    /* share k round-robin over the cases that still have slices */
    for (int left = k, more = 1; left > 0 && more;) {
        more = 0;
        for (int r = 0; r < nc && left > 0; r++)
            if (take[r] < cnt[cases[r]]) { take[r]++; left--; more = 1; }
    }
    /* emit round-robin: pick t of every case, then pick t + 1, ... */
    for (int t = 0; got < k; t++) {
        int any = 0;
        for (int r = 0; r < nc && got < k; r++) {
            if (t >= take[r]) continue;
            any = 1;
            double m = (double)cnt[cases[r]], q = take[r];
            /* the middle half when it has room for distinct picks, else all */
            int64_t pos = q <= m / 2 ? (int64_t)(m / 4 + (t + 0.5) * (m / 2) / q) : (int64_t)((t + 0.5) * m / q);
            out[got++] = grouped[start[r] + pos];
        }
        if (!any) break;
    }
out:
    free(sl);
    free(cases);
    free(cnt);
    free(start);
    free(grouped);
    free(take);
    return got;
}

/* --- the loader --------------------------------------------------------- */

enum { SLOT_FREE = 0, SLOT_FILLING, SLOT_READY };

typedef struct {
    mist_batch b;
    int64_t idx;
    int state;
} slot;

/* Memo of the last two epoch permutations (a batch may straddle epochs). */
typedef struct {
    int64_t epoch[2];
    int64_t *perm[2];
    int next;
} perm_memo;

struct mist_loader {
    const io_cache *c;
    mist_loader_opts o;
    int img;
    int64_t *slices, n;
    perm_memo pm;
    slot *slots;
    int nslots;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_ready;
    pthread_t thread;
    unsigned sync;            /* bits: mutex, cv_work, cv_ready initialised */
    int have_thread, stop;
    int64_t cursor;
};

static const int64_t *epoch_perm(mist_loader *l, int64_t e) {
    perm_memo *pm = &l->pm;
    for (int k = 0; k < 2; k++) if (pm->epoch[k] == e) return pm->perm[k];
    int k = pm->next;
    pm->next ^= 1;
    int64_t *p = pm->perm[k];
    for (int64_t i = 0; i < l->n; i++) p[i] = i;
    uint64_t st = mist_rng_u64(l->o.seed, (uint64_t)e, (uint64_t)ST_PERM << 32);
    for (int64_t i = l->n - 1; i > 0; i--) {
        int64_t j = (int64_t)(mix64(st++) % (uint64_t)(i + 1));
        int64_t t = p[i]; p[i] = p[j]; p[j] = t;
    }
    pm->epoch[k] = e;
    return p;
}

/* One sample: slice `si` mapped to [-1, 1], flipped left-right if asked. */
static void put_sample(const mist_loader *l, float *dst, int64_t si, int flip) {
    const float *src = io_cache_slice(l->c, si);
    int img = l->img;
    for (int r = 0; r < 4 * img; r++) {
        const float *s = src + (size_t)r * img;
        float *d = dst + (size_t)r * img;
        if (flip) for (int x = 0; x < img; x++) d[x] = 2.0f * s[img - 1 - x] - 1.0f;
        else for (int x = 0; x < img; x++) d[x] = 2.0f * s[x] - 1.0f;
    }
}

static void fill(mist_loader *l, int64_t i, mist_batch *b) {
    int B = l->o.batch, G = l->o.global_batch > 0 ? l->o.global_batch : B;
    size_t per = 4 * (size_t)l->img * (size_t)l->img;
    b->index = i;
    for (int s = 0; s < MIST_BATCH_NSETS; s++)
        for (int k = 0; k < B; k++) {
            int64_t si;
            int j = l->o.first + k; /* the sample's index in the global batch */
            if (s == MIST_BATCH_X) {
                int64_t pos = i * G + j;
                si = l->slices[epoch_perm(l, pos / l->n)[pos % l->n]];
            } else {
                si = l->slices[mist_rng_u64(l->o.seed, (uint64_t)i, stream_of(ST_PICK, s, j)) % (uint64_t)l->n];
            }
            int flip = l->o.flip && (mist_rng_u64(l->o.seed, (uint64_t)i, stream_of(ST_FLIP, s, j)) >> 63);
            b->slice[s][k] = si;
            b->flipped[s][k] = (uint8_t)flip;
            put_sample(l, b->set[s] + k * per, si, flip);
        }
}

/* The lowest batch of the window that no slot holds or is filling, and a
 * slot that may be (re)used for it; -1 when there is nothing to do. */
static int next_job(const mist_loader *l, int64_t *job) {
    int64_t lo = l->cursor, hi = l->cursor + l->nslots;
    for (int64_t t = lo; t < hi; t++) {
        int held = 0;
        for (int k = 0; k < l->nslots && !held; k++) held = l->slots[k].state != SLOT_FREE && l->slots[k].idx == t;
        if (held) continue;
        for (int k = 0; k < l->nslots; k++) {
            const slot *sl = &l->slots[k];
            if (sl->state == SLOT_FREE || (sl->state == SLOT_READY && (sl->idx < lo || sl->idx >= hi))) {
                *job = t;
                return k;
            }
        }
        return -1;
    }
    return -1;
}

static void *worker(void *arg) {
    mist_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int64_t t;
        int k = next_job(l, &t);
        if (k < 0) { pthread_cond_wait(&l->cv_work, &l->mu); continue; }
        slot *sl = &l->slots[k];
        sl->state = SLOT_FILLING;
        sl->idx = t;
        pthread_mutex_unlock(&l->mu);
        fill(l, t, &sl->b);
        pthread_mutex_lock(&l->mu);
        sl->state = SLOT_READY;
        pthread_cond_broadcast(&l->cv_ready);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int mist_loader_open(const io_cache *c, const io_split *s, int part, const mist_loader_opts *o, mist_loader **out,
                     char *err, size_t errlen) {
    *out = NULL;
    if (!c || !s || !o) return io_err(err, errlen, "loader: missing cache, split or options");
    if (o->batch < 1 || o->batch > 65536) return io_err(err, errlen, "loader: batch size %d out of range", o->batch);
    if (o->first < 0 || (o->global_batch > 0 && o->first + o->batch > o->global_batch))
        return io_err(err, errlen, "loader: samples [%d, %d) are not inside a global batch of %d", o->first,
                      o->first + o->batch, o->global_batch);
    if (o->prefetch < 0 || o->prefetch > 64) return io_err(err, errlen, "loader: prefetch %d out of range 0..64", o->prefetch);
    mist_loader *l = calloc(1, sizeof *l);
    if (!l) return io_err(err, errlen, "out of memory");
    l->c = c;
    l->o = *o;
    l->img = c->params.img;
    l->pm.epoch[0] = l->pm.epoch[1] = -1;
    if (mist_part_slices(c, s, part, &l->slices, &l->n, err, errlen)) { free(l); return -1; }
    if (!l->n) {
        free(l);
        return io_err(err, errlen, "no cached slices for the %s cases (%d in the split): nothing to load",
                      part == IO_SPLIT_TRAIN ? "train" : part == IO_SPLIT_VAL ? "validation" : "test", s->n[part]);
    }
    l->pm.perm[0] = malloc(sizeof(int64_t) * (size_t)l->n);
    l->pm.perm[1] = malloc(sizeof(int64_t) * (size_t)l->n);
    l->nslots = o->prefetch;
    l->slots = calloc((size_t)(l->nslots ? l->nslots : 1), sizeof(slot));
    int bad = !l->pm.perm[0] || !l->pm.perm[1] || !l->slots;
    for (int k = 0; k < l->nslots && !bad; k++) bad = mist_batch_alloc(&l->slots[k].b, o->batch, l->img) != 0;
    if (bad) { mist_loader_close(l); return io_err(err, errlen, "out of memory for %d prefetched batches", o->prefetch); }
    if (l->nslots) {
        l->sync = (pthread_mutex_init(&l->mu, NULL) == 0) | (pthread_cond_init(&l->cv_work, NULL) == 0) << 1 |
                  (pthread_cond_init(&l->cv_ready, NULL) == 0) << 2;
        if (l->sync != 7 || pthread_create(&l->thread, NULL, worker, l)) {
            mist_loader_close(l);
            return io_err(err, errlen, "loader: cannot start the prefetch thread");
        }
        l->have_thread = 1;
    }
    *out = l;
    return 0;
}

int64_t mist_loader_nslices(const mist_loader *l) { return l ? l->n : 0; }

int mist_loader_get(mist_loader *l, int64_t i, mist_batch *b) {
    if (!l || !b || i < 0 || b->batch != l->o.batch || b->img != l->img || !b->set[0]) return -1;
    if (!l->have_thread) { fill(l, i, b); return 0; }
    pthread_mutex_lock(&l->mu);
    l->cursor = i;
    pthread_cond_signal(&l->cv_work);
    for (;;) {
        int k = 0;
        while (k < l->nslots && !(l->slots[k].state == SLOT_READY && l->slots[k].idx == i)) k++;
        if (k < l->nslots) { batch_copy(b, &l->slots[k].b); break; }
        pthread_cond_wait(&l->cv_ready, &l->mu);
    }
    l->cursor = i + 1;
    pthread_cond_signal(&l->cv_work);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

void mist_loader_close(mist_loader *l) {
    if (!l) return;
    if (l->have_thread) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->cv_work);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    if (l->sync & 2) pthread_cond_destroy(&l->cv_work);
    if (l->sync & 4) pthread_cond_destroy(&l->cv_ready);
    if (l->sync & 1) pthread_mutex_destroy(&l->mu);
    for (int k = 0; k < l->nslots; k++) mist_batch_free(&l->slots[k].b);
    free(l->slots);
    free(l->pm.perm[0]);
    free(l->pm.perm[1]);
    free(l->slices);
    free(l);
}
