/* The batch loader on a small synthetic slice cache (7 tiny NIfTI cases
 * built through the io API) and, when present, the real BraTS sample at
 * img 32: batch i is a pure function of (seed, i) across loader instances,
 * prefetch depths and request orders; samples equal 2 * cache - 1 (flipped
 * when flagged); only train cases; flips about half the time; every train
 * slice once per epoch; validation picks; errors; thread start/stop. */
#include "train/loader.h"
#include "io/cache.h"
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <math.h>
#include <time.h>

#define NCASES 7
#define NB 24     /* batches compared */

/* A blob whose radius grows with z and whose value rises left to right
 * (so a flip is visible), different per case and domain. */
static double blob(int64_t i, void *u) {
    int tag = *(int *)u, x = (int)(i % 24), y = (int)(i / 24 % 20), z = (int)(i / (24 * 20));
    double r = 2 + z, dx = x - 12, dy = y - 10;
    return dx * dx + dy * dy < r * r ? 100 + 7 * tag + 3 * x + y : 0;
}

static int make_data(const char *root) {
    static const char *suf[4] = {"t1", "t1ce", "t2", "flair"};
    mkdir(root, 0755);
    for (int c = 0; c < NCASES; c++)
        for (int d = 0; d < 4; d++) {
            char p[800];
            snprintf(p, sizeof p, "%s/case%d_%s.nii.gz", root, c, suf[d]);
            int tag = c * 4 + d;
            if (tio_write(p, DT_INT16, 24, 20, 6, 1, c % 2 ? TIO_LPS : TIO_RAS, 1, 0, blob, &tag)) return -1;
        }
    return 0;
}

static int same_batch(const mist_batch *a, const mist_batch *b) {
    size_t n = (size_t)a->batch * 4 * (size_t)a->img * (size_t)a->img;
    if (a->index != b->index) return 0;
    for (int s = 0; s < MIST_BATCH_NSETS; s++)
        if (memcmp(a->set[s], b->set[s], n * sizeof(float)) || memcmp(a->slice[s], b->slice[s], (size_t)a->batch * sizeof(int64_t)) ||
            memcmp(a->flipped[s], b->flipped[s], (size_t)a->batch))
            return 0;
    return 1;
}

/* Every sample equals its cache slice mapped to [-1, 1] (flipped when
 * flagged) and comes from a case of the train part; returns the number of
 * mismatches and counts flips. */
static int check_batch(const io_cache *c, const io_split *s, const mist_batch *b, int *flips, int *samples) {
    int bad = 0, img = b->img;
    size_t per = 4 * (size_t)img * (size_t)img;
    for (int set = 0; set < MIST_BATCH_NSETS; set++)
        for (int j = 0; j < b->batch; j++) {
            const float *src = io_cache_slice(c, b->slice[set][j]), *v = b->set[set] + j * per;
            if (!src) { bad++; continue; }
            bad += io_split_find(s, c->case_ids[c->info[b->slice[set][j]].case_idx]) != IO_SPLIT_TRAIN;
            int f = b->flipped[set][j];
            *flips += f;
            (*samples)++;
            for (int r = 0; r < 4 * img; r++)
                for (int x = 0; x < img; x++) {
                    float got = v[r * img + x], want = 2.0f * src[r * img + (f ? img - 1 - x : x)] - 1.0f;
                    bad += got != want || !(got >= -1.0f && got <= 1.0f);
                }
        }
    return bad;
}

static void test_determinism(const io_cache *c, const io_split *s) {
    char err[1024];
    mist_loader_opts o = mist_loader_opts_default();
    o.batch = 3;
    o.seed = 42;
    mist_loader *la = NULL, *lb = NULL, *lc = NULL;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &la, err, sizeof err) == 0, "open: %s", err);
    o.prefetch = 5;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &lb, err, sizeof err) == 0, "open: %s", err);
    o.prefetch = 0;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &lc, err, sizeof err) == 0, "open: %s", err);
    if (!la || !lb || !lc) goto out;
    int64_t n = mist_loader_nslices(la), *part;
    int64_t np;
    TU_CHECK(mist_part_slices(c, s, IO_SPLIT_TRAIN, &part, &np, err, sizeof err) == 0 && np == n && n > 0,
             "train slices %lld vs %lld", (long long)n, (long long)np);
    printf("synthetic cache: %lld slices, %lld in the %d train cases\n", (long long)c->n_slices, (long long)n, s->n[0]);
    static mist_batch a[NB], tmp;
    for (int i = 0; i < NB; i++) TU_CHECK(mist_batch_alloc(&a[i], 3, c->params.img) == 0, "alloc");
    TU_CHECK(mist_batch_alloc(&tmp, 3, c->params.img) == 0, "alloc");
    int bad = 0, flips = 0, samples = 0;
    for (int i = 0; i < NB; i++) {
        TU_CHECK(mist_loader_get(la, i, &a[i]) == 0, "get %d", i);
        bad += check_batch(c, s, &a[i], &flips, &samples);
    }
    TU_CHECK(!bad, "%d samples differ from the cache or are not train slices", bad);
    printf("flipped %d of %d samples\n", flips, samples);
    TU_CHECK(flips > samples * 3 / 10 && flips < samples * 7 / 10, "flipped %d of %d", flips, samples);
    /* out of order, repeated and backwards on a deeper ring; in order without a thread */
    static const int order[] = {17, 3, 3, 0, 23, 22, 21, 5, 6, 1, 12, 2, 4, 7, 8, 9, 10, 11, 13, 14, 15, 16, 18, 19, 20};
    int differ = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        TU_CHECK(mist_loader_get(lb, order[k], &tmp) == 0, "get");
        differ += !same_batch(&tmp, &a[order[k]]);
    }
    for (int i = 0; i < NB; i++) {
        TU_CHECK(mist_loader_get(lc, i, &tmp) == 0, "get");
        differ += !same_batch(&tmp, &a[i]);
    }
    /* a resumed run: a fresh loader starting at batch 11 */
    mist_loader_close(lb);
    o.prefetch = 2;
    lb = NULL;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &lb, err, sizeof err) == 0, "open: %s", err);
    for (int i = 11; lb && i < NB; i++) {
        mist_loader_get(lb, i, &tmp);
        differ += !same_batch(&tmp, &a[i]);
    }
    TU_CHECK(differ == 0, "%d batches differ between loaders / request orders", differ);
    /* epochs: the x samples of the first n positions are each train slice once */
    int64_t *seen = calloc((size_t)c->n_slices, sizeof(int64_t)), dup = 0;
    for (int64_t pos = 0; pos < n && pos < NB * 3; pos++) dup += seen[a[pos / 3].slice[MIST_BATCH_X][pos % 3]]++ > 0;
    TU_CHECK(n <= NB * 3 && dup == 0, "epoch 0 repeats %lld slices (n %lld)", (long long)dup, (long long)n);
    free(seen);
    /* the per-domain gather */
    float *dom = malloc(sizeof(float) * 3 * 32 * 32);
    mist_batch_domain(&a[0], MIST_BATCH_REF, 2, dom);
    TU_CHECK(!memcmp(dom + 32 * 32, a[0].set[MIST_BATCH_REF] + (1 * 4 + 2) * 32 * 32, sizeof(float) * 32 * 32), "domain gather");
    free(dom);
    /* another seed gives other batches; no flip means no flips */
    mist_loader_close(lc);
    lc = NULL;
    o.seed = 43;
    o.flip = 0;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &lc, err, sizeof err) == 0, "open: %s", err);
    int same = 0, fl = 0;
    for (int i = 0; lc && i < NB; i++) {
        mist_loader_get(lc, i, &tmp);
        same += same_batch(&tmp, &a[i]);
        for (int set = 0; set < MIST_BATCH_NSETS; set++) for (int j = 0; j < 3; j++) fl += tmp.flipped[set][j];
    }
    TU_CHECK(same < 2 && fl == 0, "seed 43: %d equal batches, %d flips", same, fl);
    /* bad requests */
    TU_CHECK(mist_loader_get(la, -1, &tmp) == -1, "negative index refused");
    mist_batch wrong;
    TU_CHECK(mist_batch_alloc(&wrong, 2, 32) == 0 && mist_loader_get(la, 0, &wrong) == -1, "wrong batch size refused");
    mist_batch_free(&wrong);
    for (int i = 0; i < NB; i++) mist_batch_free(&a[i]);
    mist_batch_free(&tmp);
    free(part);
out:
    mist_loader_close(la);
    mist_loader_close(lb);
    mist_loader_close(lc);
}

static void test_lifecycle(const io_cache *c, const io_split *s) {
    char err[1024];
    mist_loader_opts o = mist_loader_opts_default();
    o.batch = 4;
    o.prefetch = 3;
    mist_batch b;
    TU_CHECK(mist_batch_alloc(&b, 4, c->params.img) == 0, "alloc");
    int fails = 0;
    /* start and stop at once, after one batch, and mid-prefetch far away */
    for (int r = 0; r < 20; r++) {
        mist_loader *l = NULL;
        if (mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &l, err, sizeof err)) { fails++; continue; }
        if (r % 3 == 1) fails += mist_loader_get(l, r, &b) != 0;
        if (r % 3 == 2) fails += mist_loader_get(l, 1000000 + r, &b) != 0 || b.index != 1000000 + r;
        mist_loader_close(l);
    }
    TU_CHECK(fails == 0, "%d start/stop failures", fails);
    mist_loader_close(NULL);
    /* prefetch: once batch i is served the next ones get ready without asking */
    mist_loader *l = NULL;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &l, err, sizeof err) == 0, "open: %s", err);
    if (l) {
        mist_loader_get(l, 0, &b);
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 1; i <= 3; i++) mist_loader_get(l, i, &b);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("3 prefetched batches served in %.3f ms\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6);
        mist_loader_close(l);
    }
    mist_batch_free(&b);
    /* bad options and an empty part */
    mist_loader *bad = NULL;
    o.batch = 0;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &bad, err, sizeof err) == -1 && strstr(err, "batch") && !bad, "batch 0: %s", err);
    o.batch = 2;
    o.prefetch = -1;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &bad, err, sizeof err) == -1 && strstr(err, "prefetch"), "prefetch -1: %s", err);
    o.prefetch = 2;
    const char *other[] = {"x1", "x2", "x3"};
    io_split foreign;
    TU_CHECK(io_split_make(other, 3, 1, &foreign, err, sizeof err) == 0, "split: %s", err);
    TU_CHECK(mist_loader_open(c, &foreign, IO_SPLIT_TRAIN, &o, &bad, err, sizeof err) == -1 && strstr(err, "no cached slices"),
             "foreign split: %s", err);
    io_split_free(&foreign);
}

static void test_pick(const io_cache *c, const io_split *s) {
    char err[1024];
    int64_t *val, nval, pick[64], pick2[64];
    TU_CHECK(mist_part_slices(c, s, IO_SPLIT_VAL, &val, &nval, err, sizeof err) == 0 && nval > 0, "val slices");
    /* one slice: the middle of the (first) val case by z */
    int got = mist_pick_slices(c, s, IO_SPLIT_VAL, 1, pick, err, sizeof err);
    int zmin = 1 << 30, zmax = -1;
    for (int64_t i = 0; i < nval; i++)
        if (c->info[val[i]].case_idx == c->info[val[0]].case_idx) {
            zmin = c->info[val[i]].z < zmin ? c->info[val[i]].z : zmin;
            zmax = c->info[val[i]].z > zmax ? c->info[val[i]].z : zmax;
        }
    TU_CHECK(got == 1 && abs(2 * c->info[pick[0]].z - (zmin + zmax)) <= 1, "middle slice z %d of %d..%d",
             got == 1 ? c->info[pick[0]].z : -1, zmin, zmax);
    /* more than there are: all of them, each once, all from val, deterministic */
    got = mist_pick_slices(c, s, IO_SPLIT_VAL, 64, pick, err, sizeof err);
    int got2 = mist_pick_slices(c, s, IO_SPLIT_VAL, 64, pick2, err, sizeof err);
    int bad = got != nval || got2 != got || memcmp(pick, pick2, sizeof(int64_t) * (size_t)(got > 0 ? got : 0));
    for (int i = 0; i < got; i++) {
        bad += io_split_find(s, c->case_ids[c->info[pick[i]].case_idx]) != IO_SPLIT_VAL;
        for (int j = 0; j < i; j++) bad += pick[i] == pick[j];
    }
    TU_CHECK(!bad, "picks: %d of %lld val slices", got, (long long)nval);
    /* over all train cases round-robin: the first picks are distinct cases */
    got = mist_pick_slices(c, s, IO_SPLIT_TRAIN, s->n[0], pick, err, sizeof err);
    bad = got != s->n[0];
    for (int i = 0; i < got; i++)
        for (int j = 0; j < i; j++) bad += c->info[pick[i]].case_idx == c->info[pick[j]].case_idx;
    TU_CHECK(!bad, "one pick per train case");
    TU_CHECK(mist_pick_slices(c, s, IO_SPLIT_VAL, 0, pick, err, sizeof err) == 0, "k 0");
    free(val);
}

/* Data parallelism: shards [0, 2) and [2, 4) of a global batch of 4 are
 * the samples (slices and flips, all three sets) of a batch-4 loader. */
static void test_shards(const io_cache *c, const io_split *s) {
    char err[1024];
    mist_loader_opts o = mist_loader_opts_default();
    o.batch = 4;
    o.seed = 9;
    mist_loader *whole = NULL, *part[2] = {NULL, NULL};
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &whole, err, sizeof err) == 0, "open: %s", err);
    o.batch = 2;
    o.global_batch = 4;
    for (int r = 0; r < 2; r++) {
        o.first = 2 * r;
        TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &part[r], err, sizeof err) == 0, "open shard: %s", err);
    }
    o.first = 3;
    mist_loader *bad = NULL;
    TU_CHECK(mist_loader_open(c, s, IO_SPLIT_TRAIN, &o, &bad, err, sizeof err) != 0 && strstr(err, "global batch"),
             "a shard past the global batch is refused (%s)", err);
    mist_loader_close(bad);
    mist_batch w, h;
    int differ = 0, img = c->params.img;
    size_t per = 4 * (size_t)img * img;
    if (whole && part[0] && part[1] && !mist_batch_alloc(&w, 4, img) && !mist_batch_alloc(&h, 2, img)) {
        for (int i = 0; i < 9; i++) { /* 9 batches of 4 cross an epoch of the train slices */
            mist_loader_get(whole, i, &w);
            for (int r = 0; r < 2; r++) {
                mist_loader_get(part[r], i, &h);
                for (int set = 0; set < MIST_BATCH_NSETS; set++)
                    for (int j = 0; j < 2; j++)
                        differ += h.slice[set][j] != w.slice[set][2 * r + j] || h.flipped[set][j] != w.flipped[set][2 * r + j] ||
                                  memcmp(h.set[set] + j * per, w.set[set] + (2 * r + j) * per, per * sizeof(float));
            }
        }
        mist_batch_free(&w);
        mist_batch_free(&h);
    }
    TU_CHECK(differ == 0, "%d shard samples differ from the global batch's", differ);
    mist_loader_close(whole);
    mist_loader_close(part[0]);
    mist_loader_close(part[1]);
}

static void test_rng(void) {
    TU_CHECK(mist_rng_u64(1, 2, 3) == mist_rng_u64(1, 2, 3) && mist_rng_u64(1, 2, 3) != mist_rng_u64(1, 2, 4) &&
             mist_rng_u64(1, 2, 3) != mist_rng_u64(1, 3, 3) && mist_rng_u64(1, 2, 3) != mist_rng_u64(2, 2, 3), "rng");
    int ones = 0;
    for (int i = 0; i < 1000; i++) ones += (int)(mist_rng_u64(5, (uint64_t)i, 0) >> 63);
    TU_CHECK(ones > 430 && ones < 570, "rng top bit %d / 1000", ones);
}

static void test_real(void) {
    const char *root = tu_brats_sample();
    if (!root) { printf("brats sample not found: real-data checks skipped\n"); return; }
    io_caselist cl;
    char err[1024], cdir[600];
    snprintf(cdir, sizeof cdir, "%s/realcache", tu_tmpdir());
    if (io_discover(root, &cl, err, sizeof err)) { TU_CHECK(0, "%s", err); return; }
    io_prep_params p = io_prep_defaults(32);
    io_cache *c = NULL;
    io_split s;
    memset(&s, 0, sizeof s);
    mist_loader *l = NULL;
    mist_batch b;
    memset(&b, 0, sizeof b);
    if (io_cache_open(&cl, cdir, &p, NULL, &c, err, sizeof err)) { TU_CHECK(0, "cache: %s", err); goto out; }
    if (io_split_make((const char *const *)c->case_ids, c->n_cases, 1, &s, err, sizeof err)) { TU_CHECK(0, "%s", err); goto out; }
    mist_loader_opts o = mist_loader_opts_default();
    TU_CHECK(mist_loader_open(c, &s, IO_SPLIT_TRAIN, &o, &l, err, sizeof err) == 0, "open: %s", err);
    if (!l || mist_batch_alloc(&b, o.batch, 32)) goto out;
    int bad = 0, flips = 0, samples = 0;
    float mx = -1;
    for (int i = 0; i < 50; i++) {
        mist_loader_get(l, i, &b);
        bad += check_batch(c, &s, &b, &flips, &samples);
        for (int k = 0; k < 2 * 4 * 32 * 32; k++) mx = b.set[0][k] > mx ? b.set[0][k] : mx;
    }
    printf("real sample: %lld train slices of %lld, flipped %d of %d, max %.3f\n", (long long)mist_loader_nslices(l),
           (long long)c->n_slices, flips, samples, mx);
    TU_CHECK(!bad && mx > 0, "real batches: %d bad", bad);
    int64_t pick[8];
    int got = mist_pick_slices(c, &s, IO_SPLIT_VAL, 4, pick, err, sizeof err);
    TU_CHECK(got == 4, "val picks %d", got);
    for (int i = 0; i < got; i++) printf("  val pick %d: %s z %d\n", i, c->case_ids[c->info[pick[i]].case_idx], c->info[pick[i]].z);
out:
    mist_batch_free(&b);
    mist_loader_close(l);
    io_split_free(&s);
    io_cache_close(c);
    io_caselist_free(&cl);
}

int main(void) {
    char root[600], cdir[600], err[1024];
    snprintf(root, sizeof root, "%s/data", tu_tmpdir());
    snprintf(cdir, sizeof cdir, "%s/cache", tu_tmpdir());
    test_rng();
    TU_CHECK(make_data(root) == 0, "synthetic data");
    io_caselist cl;
    io_cache *c = NULL;
    io_split s;
    io_prep_params p = io_prep_defaults(32);
    if (io_discover(root, &cl, err, sizeof err) || cl.n != NCASES) { TU_CHECK(0, "discover: %s", err); return tu_finish("test_loader"); }
    if (io_cache_open(&cl, cdir, &p, NULL, &c, err, sizeof err) == 0 &&
        io_split_make((const char *const *)c->case_ids, c->n_cases, 3, &s, err, sizeof err) == 0) {
        TU_CHECK(s.n[0] == 5 && s.n[1] == 1 && s.n[2] == 1, "split %d/%d/%d", s.n[0], s.n[1], s.n[2]);
        test_determinism(c, &s);
        test_lifecycle(c, &s);
        test_pick(c, &s);
        test_shards(c, &s);
        io_split_free(&s);
    } else {
        TU_CHECK(0, "cache/split: %s", err);
    }
    io_cache_close(c);
    io_caselist_free(&cl);
    test_real();
    return tu_finish("test_loader");
}
