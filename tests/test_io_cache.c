/* The slice cache: build -> reuse -> stale input (touched, rewritten) ->
 * damaged file (truncated, flipped data byte, bad magic) -> rebuild, slice
 * contents equal to direct preprocessing, and the real sample at img 32. */
#include "io/cache.h"
#include "io/caseload.h"
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

/* A blob "brain" whose size varies with z, value depends on the domain. */
static double blob(int64_t i, void *u) {
    int dom = *(int *)u, x = (int)(i % 24), y = (int)(i / 24 % 20), z = (int)(i / (24 * 20));
    double r = 2 + z, dx = x - 12, dy = y - 10;
    return dx * dx + dy * dy < r * r ? 100 + 10 * dom + x : 0;
}

static void make_data(const char *root) {
    static const char *suf[4] = {"t1", "t1ce", "t2", "flair"};
    mkdir(root, 0755);
    for (int c = 0; c < 3; c++) {
        char dir[700], p[800];
        snprintf(dir, sizeof dir, "%s/case%d", root, c);
        mkdir(dir, 0755);
        for (int d = 0; d < 4; d++) {
            snprintf(p, sizeof p, "%s/case%d_%s.nii.gz", dir, c, suf[d]);
            int dom = d + c;
            TU_CHECK(tio_write(p, DT_INT16, 24, 20, 6, 1, c == 1 ? TIO_LPS : TIO_RAS, 1, 0, blob, &dom) == 0, "write");
        }
    }
}

static io_cache *open_cache(const io_caselist *cl, const char *dir, int img, int expect_rebuild, const char *why) {
    io_prep_params p = io_prep_defaults(img);
    io_cache *c = NULL;
    char err[1024];
    if (io_cache_open(cl, dir, &p, NULL, &c, err, sizeof err)) { TU_CHECK(0, "open: %s", err); return NULL; }
    TU_CHECK(c->rebuilt == expect_rebuild, "rebuilt %d, expected %d (%s)", c->rebuilt, expect_rebuild, c->why);
    if (why) TU_CHECK(strstr(c->why, why) != NULL, "reason '%s' lacks '%s'", c->why, why);
    return c;
}

static void test_synthetic(void) {
    char root[600], cdir[600], err[1024];
    snprintf(root, sizeof root, "%s/data", tu_tmpdir());
    snprintf(cdir, sizeof cdir, "%s/cache/sub", tu_tmpdir());
    make_data(root);
    io_caselist cl;
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0 && cl.n == 3, "discover: %s", err);
    io_cache *c = open_cache(&cl, cdir, 32, 1, "no cache yet");
    if (!c) { io_caselist_free(&cl); return; }
    /* a slice needs >= 2% of 480 px = 9.6 px of blob: z = 0 (r = 2: 9 px)
     * is dropped, z = 1..5 (r = 3..7) are kept: 5 slices per case */
    TU_CHECK(c->n_slices == 15 && c->n_cases == 3, "n_slices %lld", (long long)c->n_slices);
    /* slice contents equal direct preprocessing of case 1 (LPS) */
    io_volume v[4];
    TU_CHECK(io_case_load(&cl.cases[1], v, err, sizeof err) == 0, "%s", err);
    size_t n = 24 * 20 * 6;
    for (int d = 0; d < 4; d++) io_normalize(v[d].data, n, IO_NORM_PERCENTILE);
    float want[32 * 32];
    int checked = 0, bad = 0;
    for (int64_t i = 0; i < c->n_slices; i++) {
        if (c->info[i].case_idx != 1) continue;
        TU_CHECK(!strcmp(c->case_ids[1], "case1"), "case id");
        const float *s = io_cache_slice(c, i);
        for (int d = 0; d < 4; d++) {
            io_slice_extract(v[d].data, v[d].dims, c->info[i].z, 32, want);
            bad += memcmp(want, s + d * 32 * 32, sizeof want) != 0;
        }
        checked++;
    }
    TU_CHECK(checked == 5 && !bad, "slices equal direct preprocessing (%d checked, %d differ)", checked, bad);
    io_case_volumes_free(v);
    float first = io_cache_slice(c, 0)[32 * 16 + 16];
    char path[4096];
    snprintf(path, sizeof path, "%s", c->path);
    io_cache_close(c);

    c = open_cache(&cl, cdir, 32, 0, NULL); /* reused */
    if (c) { TU_CHECK(io_cache_slice(c, 0)[32 * 16 + 16] == first && io_cache_slice(c, c->n_slices) == NULL, "reused content"); io_cache_close(c); }

    /* stale: an input's mtime changes */
    struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
    TU_CHECK(utimensat(AT_FDCWD, cl.cases[2].path[3], ts, 0) == 0, "touch");
    c = open_cache(&cl, cdir, 32, 1, "stale");
    io_cache_close(c);
    /* stale: an input rewritten with other content */
    int dom = 9;
    TU_CHECK(tio_write(cl.cases[0].path[0], DT_INT16, 24, 20, 6, 1, TIO_RAS, 1, 0, blob, &dom) == 0, "rewrite");
    c = open_cache(&cl, cdir, 32, 1, "stale");
    io_cache_close(c);
    c = open_cache(&cl, cdir, 32, 0, NULL);
    io_cache_close(c);

    /* damaged: truncated, flipped data byte, flipped magic */
    long size = tio_file_size(path);
    TU_CHECK(tio_truncate(path, size - 100) == 0, "truncate");
    c = open_cache(&cl, cdir, 32, 1, "truncated");
    io_cache_close(c);
    TU_CHECK(tio_flip_byte(path, 4096 + 5000) == 0, "flip");
    c = open_cache(&cl, cdir, 32, 1, "slice data checksum");
    io_cache_close(c);
    TU_CHECK(tio_flip_byte(path, 1) == 0, "flip magic");
    c = open_cache(&cl, cdir, 32, 1, "bad magic");
    io_cache_close(c);
    TU_CHECK(tio_truncate(path, 10) == 0, "truncate to 10 bytes");
    c = open_cache(&cl, cdir, 32, 1, "truncated");
    io_cache_close(c);
    /* other parameters use their own file */
    c = open_cache(&cl, cdir, 64, 1, "no cache yet");
    if (c) TU_CHECK(strcmp(c->path, path) != 0, "img 64 has its own file");
    io_cache_close(c);
    c = open_cache(&cl, cdir, 32, 0, NULL);
    io_cache_close(c);

    /* a case that cannot be read is skipped, the rest cached */
    TU_CHECK(tio_truncate(cl.cases[2].path[1], tio_file_size(cl.cases[2].path[1]) / 2) == 0, "damage input");
    c = open_cache(&cl, cdir, 32, 1, "stale");
    if (c) TU_CHECK(c->n_skipped == 1 && c->n_slices == 10, "skipped %d, slices %lld", c->n_skipped, (long long)c->n_slices);
    io_cache_close(c);
    /* unwritable cache folder */
    io_prep_params p = io_prep_defaults(32);
    err[0] = 0;
    TU_CHECK(io_cache_open(&cl, "/proc/vkmist-cache", &p, NULL, &c, err, sizeof err) == -1 && strstr(err, "/proc/vkmist-cache"),
             "unwritable: %s", err);
    io_caselist_free(&cl);
}

static void test_real(void) {
    const char *root = tu_brats_sample();
    if (!root) { printf("brats sample not found: real-data checks skipped\n"); return; }
    io_caselist cl;
    char err[1024], cdir[600];
    snprintf(cdir, sizeof cdir, "%s/realcache", tu_tmpdir());
    TU_CHECK(io_discover(root, &cl, err, sizeof err) == 0, "%s", err);
    io_cache *c = open_cache(&cl, cdir, 32, 1, NULL);
    if (c) {
        printf("real sample, img 32: %lld slices from %d cases, build %.2f s, load %.3f s\n", (long long)c->n_slices,
               c->n_cases, c->build_s, c->load_s);
        TU_CHECK(c->n_slices > 200 && c->n_slices < 3 * 155, "slice count %lld", (long long)c->n_slices);
        int bad = 0;
        double mx = 0;
        for (int64_t i = 0; i < c->n_slices; i++) {
            const float *s = io_cache_slice(c, i);
            for (int k = 0; k < 4 * 32 * 32; k++) { bad += !(s[k] >= 0 && s[k] <= 1); mx = fmax(mx, s[k]); }
            bad += c->info[i].brain_frac < 0.02f;
        }
        TU_CHECK(!bad && mx > 0.5, "values in [0, 1] (%d bad, max %f)", bad, mx);
        io_cache_close(c);
    }
    c = open_cache(&cl, cdir, 32, 0, NULL);
    if (c) printf("reopen: load %.3f s\n", c->load_s);
    io_cache_close(c);
    io_caselist_free(&cl);
}

int main(void) {
    test_synthetic();
    test_real();
    return tu_finish("test_io_cache");
}
