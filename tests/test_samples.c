/* Sample sheets: the grid PNG from arrays (size, tile contents read back
 * with libpng), the cache + impute-callback entry (RUN/samples created,
 * callback called once per target without seeing the target, errors
 * passed through), and bad input. The "cache" here is an io_cache struct
 * over an in-memory array: samples only read slices through
 * io_cache_slice. */
#include "train/samples.h"
#include "io/font.h"
#include "tests/testutil.h"
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMG 32
#define K 2
#define PLANE (IMG * IMG)

/* Slice s, domain d: a distinct level per (s, d) plus a ramp. */
static float value(int s, int d, int p) { return 0.1f + 0.1f * (float)(s * 4 + d) + 0.001f * (float)(p % IMG); }

static unsigned char *read_png(const char *path, int *w, int *h) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) return NULL;
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!buf || !png_image_finish_read(&im, NULL, buf, 0, NULL)) { free(buf); png_image_free(&im); return NULL; }
    *w = (int)im.width;
    *h = (int)im.height;
    return buf;
}

/* The expected canvas of io_grid for K slices (tiles enlarged to 96 px). */
static void layout(int *tile, int *label, int *gap, int *w, int *h) {
    *tile = 96; *label = IO_FONT_H + 4; *gap = 2;
    *w = MIST_SAMPLE_COLS * (*tile + *gap) + *gap;
    *h = 4 * K * (*tile + *label + *gap) + *gap;
}

/* Pixel (centre of a tile) of the written sheet. */
static int tile_px(const unsigned char *rgb, int w, int col, int row) {
    int tile, label, gap, cw, ch;
    layout(&tile, &label, &gap, &cw, &ch);
    int x = gap + col * (tile + gap) + tile / 2, y = gap + row * (tile + label + gap) + label + tile / 2;
    return rgb[((size_t)y * (size_t)w + (size_t)x) * 3];
}

static int expect_byte(float v) { return (int)lrintf(v * 255.0f); }

static void check_sheet(const char *path, const float *truth, const float *imputed) {
    int w = 0, h = 0, tile, label, gap, ew, eh;
    layout(&tile, &label, &gap, &ew, &eh);
    unsigned char *rgb = read_png(path, &w, &h);
    TU_CHECK(rgb != NULL, "cannot read %s", path);
    if (!rgb) return;
    TU_CHECK(w == ew && h == eh, "sheet %dx%d, expected %dx%d", w, h, ew, eh);
    int bad = 0, px = IMG / 2 * IMG + IMG / 2; /* the tile centre samples source pixel (16, 16) */
    for (int s = 0; s < K && w == ew && h == eh; s++)
        for (int t = 0; t < 4; t++) {
            int row = s * 4 + t, col = 0;
            for (int d = 0; d < 4; d++)
                if (d != t) bad += tile_px(rgb, w, col++, row) != expect_byte(truth[(s * 4 + d) * PLANE + px]);
            bad += tile_px(rgb, w, 3, row) != expect_byte(imputed[(s * 4 + t) * PLANE + px]);
            bad += tile_px(rgb, w, 4, row) != expect_byte(truth[(s * 4 + t) * PLANE + px]);
        }
    TU_CHECK(bad == 0, "%d tiles show the wrong image", bad);
    /* the label strip of the first tile has white text */
    int white = 0;
    for (int y = gap; y < gap + label; y++)
        for (int x = gap; x < gap + tile; x++) white += rgb[((size_t)y * (size_t)w + (size_t)x) * 3] == 255;
    TU_CHECK(white > 10, "labels drawn (%d white pixels)", white);
    free(rgb);
}

typedef struct {
    int calls, seen_target_bad, fail_at;
} imp_state;

/* "Imputes" 1 - mean of the three inputs; records if the target channel
 * would differ from what the caller gave (it must be ignorable). */
static int fake_impute(void *user, int k, int img, const float *truth, int target, float *out, char *err, size_t errlen) {
    imp_state *st = user;
    st->calls++;
    if (st->fail_at == target) { snprintf(err, errlen, "device lost (test)"); return -1; }
    if (k != K || img != IMG || target < 0 || target > 3) st->seen_target_bad++;
    for (int s = 0; s < k; s++)
        for (int p = 0; p < img * img; p++) {
            float m = 0;
            for (int d = 0; d < 4; d++) if (d != target) m += truth[(s * 4 + d) * img * img + p];
            out[s * img * img + p] = 1.0f - m / 3.0f;
        }
    return 0;
}

int main(void) {
    static float truth[K * 4 * PLANE], imputed[K * 4 * PLANE];
    for (int s = 0; s < K; s++)
        for (int d = 0; d < 4; d++)
            for (int p = 0; p < PLANE; p++) {
                truth[(s * 4 + d) * PLANE + p] = value(s, d, p);
                imputed[(s * 4 + d) * PLANE + p] = 0.95f - value(s, d, p);
            }
    char err[1024], path[4096];
    snprintf(path, sizeof path, "%s/sheet.png", tu_tmpdir());
    TU_CHECK(mist_samples_write(path, K, IMG, truth, imputed, err, sizeof err) == 0, "write: %s", err);
    check_sheet(path, truth, imputed);
    TU_CHECK(!strcmp(mist_domain_label(3), "FLAIR") && !mist_domain_label(4), "labels");

    /* the cache + callback entry, with a run folder that does not exist yet */
    io_cache c;
    memset(&c, 0, sizeof c);
    c.params.img = IMG;
    c.n_slices = K;
    c.data = truth;
    int64_t slices[K] = {1, 0}; /* reversed: row order follows the list */
    char run[700], got[4096], want[4096];
    snprintf(run, sizeof run, "%s/run", tu_tmpdir());
    imp_state st = {0, 0, -1};
    TU_CHECK(mist_samples_from_cache(run, 500, &c, slices, K, fake_impute, &st, got, sizeof got, err, sizeof err) == 0,
             "from cache: %s", err);
    TU_CHECK(mist_samples_path(run, 500, want, sizeof want) == 0 && !strcmp(got, want) && strstr(got, "/samples/step_000500.png"),
             "path %s", got);
    TU_CHECK(st.calls == 4 && st.seen_target_bad == 0, "impute called %d times", st.calls);
    static float t2[K * 4 * PLANE], i2[K * 4 * PLANE];
    for (int s = 0; s < K; s++) memcpy(t2 + s * 4 * PLANE, truth + slices[s] * 4 * PLANE, sizeof(float) * 4 * PLANE);
    /* the expected imputed layout [s][t] from per-target outputs */
    static float one[K * PLANE];
    for (int t = 0; t < 4; t++) {
        fake_impute(&(imp_state){0, 0, -1}, K, IMG, t2, t, one, err, sizeof err);
        for (int s = 0; s < K; s++) memcpy(i2 + (s * 4 + t) * PLANE, one + s * PLANE, sizeof(float) * PLANE);
    }
    check_sheet(got, t2, i2);

    /* errors: the callback's, a slice outside the cache, nothing to draw, an unwritable folder */
    st.fail_at = 2;
    err[0] = 0;
    TU_CHECK(mist_samples_from_cache(run, 600, &c, slices, K, fake_impute, &st, NULL, 0, err, sizeof err) == -1 &&
             strstr(err, "device lost"), "callback error: %s", err);
    int64_t outside[1] = {K};
    TU_CHECK(mist_samples_from_cache(run, 600, &c, outside, 1, fake_impute, &st, NULL, 0, err, sizeof err) == -1 &&
             strstr(err, "not in the cache"), "bad slice: %s", err);
    TU_CHECK(mist_samples_write(path, 0, IMG, truth, imputed, err, sizeof err) == -1, "k 0");
    TU_CHECK(mist_samples_from_cache("/proc/nonexistent/run", 1, &c, slices, K, fake_impute, &st, NULL, 0, err, sizeof err) == -1 &&
             strstr(err, "cannot create"), "unwritable: %s", err);
    struct stat sb;
    snprintf(want, sizeof want, "%s/samples/step_000600.png", run);
    TU_CHECK(stat(want, &sb) != 0, "no sheet written on failure");
    return tu_finish("test_samples");
}
