/* Sample sheets (see samples.h): lays the (slice, target) rows out on an
 * io_grid and writes the PNG. */
#include "train/samples.h"
#include "io/font.h"
#include "io/grid.h"
#include "io/util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIN_TILE 96   /* "imputed FLAIR" is 13 glyphs = 78 px */

static const char *const domain_labels[4] = {"T1", "T1ce", "T2", "FLAIR"};

const char *mist_domain_label(int d) { return d >= 0 && d < 4 ? domain_labels[d] : NULL; }

int mist_samples_path(const char *run_dir, long step, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "%s/samples/step_%06ld.png", run_dir, step);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int mist_samples_write(const char *path, int k, int img, const float *truth, const float *imputed, char *err,
                       size_t errlen) {
    if (!path || !truth || !imputed || k <= 0 || img <= 0) return io_err(err, errlen, "samples: nothing to draw");
    int scale = (MIN_TILE + img - 1) / img, tile = img * scale;
    io_grid *g = io_grid_new(MIST_SAMPLE_COLS, 4 * k, tile, tile, IO_FONT_H + 4);
    if (!g) return io_err(err, errlen, "samples: cannot make a %d x %d grid of %d px tiles (too large or out of memory)",
                          MIST_SAMPLE_COLS, 4 * k, tile);
    size_t plane = (size_t)img * (size_t)img;
    for (int s = 0; s < k; s++)
        for (int t = 0; t < 4; t++) {
            int row = s * 4 + t, col = 0;
            const float *four = truth + (size_t)s * 4 * plane;
            char lab[32];
            for (int d = 0; d < 4; d++) {
                if (d == t) continue;
                io_grid_put(g, col, row, four + d * plane, img, img);
                io_grid_label(g, col++, row, domain_labels[d]);
            }
            io_grid_put(g, 3, row, imputed + ((size_t)s * 4 + t) * plane, img, img);
            snprintf(lab, sizeof lab, "imputed %s", domain_labels[t]);
            io_grid_label(g, 3, row, lab);
            io_grid_put(g, 4, row, four + t * plane, img, img);
            snprintf(lab, sizeof lab, "truth %s", domain_labels[t]);
            io_grid_label(g, 4, row, lab);
        }
    int rc = io_grid_write(g, path, err, errlen);
    io_grid_free(g);
    return rc;
}

static int mkdir_ok(const char *dir, char *err, size_t errlen) {
    if (mkdir(dir, 0755) && errno != EEXIST) return io_err(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return 0;
}

int mist_samples_from_cache(const char *run_dir, long step, const io_cache *c, const int64_t *slices, int k,
                            mist_impute_fn impute, void *user, char *path_out, size_t path_len, char *err,
                            size_t errlen) {
    if (!run_dir || !c || !slices || k <= 0 || !impute) return io_err(err, errlen, "samples: no slices or no imputer");
    char dir[4096], path[4096];
    if (snprintf(dir, sizeof dir, "%s/samples", run_dir) >= (int)sizeof dir || mist_samples_path(run_dir, step, path, sizeof path))
        return io_err(err, errlen, "samples: run folder name too long");
    if (mkdir_ok(run_dir, err, errlen) || mkdir_ok(dir, err, errlen)) return -1;
    int img = c->params.img;
    size_t plane = (size_t)img * (size_t)img;
    float *truth = malloc(sizeof(float) * 4 * plane * (size_t)k);
    float *imputed = malloc(sizeof(float) * 4 * plane * (size_t)k);
    float *one = malloc(sizeof(float) * plane * (size_t)k);
    int rc = 0;
    if (!truth || !imputed || !one) { rc = io_err(err, errlen, "out of memory"); goto out; }
    for (int s = 0; s < k && !rc; s++) {
        const float *src = io_cache_slice(c, slices[s]);
        if (!src) rc = io_err(err, errlen, "samples: slice %lld not in the cache", (long long)slices[s]);
        else memcpy(truth + (size_t)s * 4 * plane, src, sizeof(float) * 4 * plane);
    }
    for (int t = 0; t < 4 && !rc; t++) {
        if (impute(user, k, img, truth, t, one, err, errlen)) { rc = -1; break; }
        for (int s = 0; s < k; s++) memcpy(imputed + ((size_t)s * 4 + t) * plane, one + (size_t)s * plane, sizeof(float) * plane);
    }
    if (!rc) rc = mist_samples_write(path, k, img, truth, imputed, err, errlen);
    if (!rc && path_out && snprintf(path_out, path_len, "%s", path) >= (int)path_len)
        rc = io_err(err, errlen, "samples: path buffer too small");
out:
    free(truth);
    free(imputed);
    free(one);
    return rc;
}
