/* Preprocessing: percentile and min-max normalisation, slice selection,
 * padding + box downsampling and the inverse. */
#include "io/preprocess.h"
#include "tests/testutil.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_normalize(void) {
    /* values 1..1000 plus negatives and zeros */
    size_t n = 1200;
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = i < 1000 ? (float)(i + 1) : i < 1100 ? -5.0f : 0.0f;
    double q = io_positive_quantile(v, n, 0.995);
    /* numpy: np.percentile(np.arange(1, 1001), 99.5) = 995.005 */
    TU_CHECK(fabs(q - 995.005) < 1e-3, "99.5th percentile %f", q);
    io_normalize(v, n, IO_NORM_PERCENTILE);
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += !(v[i] >= 0 && v[i] <= 1);
    TU_CHECK(!bad, "%d values outside [0, 1]", bad);
    TU_CHECK(v[1000] == 0 && v[1150] == 0, "negatives and zeros -> 0");
    TU_CHECK(fabsf(v[499] - 500.0f / 995.005f) < 1e-5f, "scaled value %f", v[499]);
    TU_CHECK(v[999] == 1.0f && v[996] == 1.0f, "top clipped to 1");
    for (size_t i = 0; i < n; i++) v[i] = i < 1000 ? (float)(i + 1) : -5.0f;
    io_normalize(v, n, IO_NORM_MINMAX);
    TU_CHECK(v[999] == 1.0f && v[1000] == 0.0f && fabsf(v[499] - 500.0f / 1000.0f) < 1e-6f, "minmax %f", v[499]);
    for (size_t i = 0; i < n; i++) v[i] = -1;
    io_normalize(v, n, IO_NORM_PERCENTILE);
    TU_CHECK(v[0] == 0 && v[n - 1] == 0, "all-negative volume -> 0");
    free(v);
    io_norm nm;
    TU_CHECK(io_norm_parse("minmax", &nm) == 0 && nm == IO_NORM_MINMAX && io_norm_parse("zscore", &nm) == -1, "parse");
}

static void test_slices(void) {
    int d[3] = {240, 240, 5};
    size_t plane = 240 * 240;
    float *vol[4];
    for (int k = 0; k < 4; k++) vol[k] = calloc(plane * 5, sizeof(float));
    /* z=0 empty; z=1 a 10x10 square (100/57600 < 2%); z=2 a 40x40 square
     * in one modality only (1600/57600 = 2.8%); z=3,4 constant 0.5 */
    for (int y = 0; y < 10; y++) for (int x = 0; x < 10; x++) vol[0][plane + y * 240 + x] = 1;
    for (int y = 100; y < 140; y++) for (int x = 50; x < 90; x++) vol[3][2 * plane + y * 240 + x] = 1;
    for (int k = 0; k < 4; k++) for (size_t i = 3 * plane; i < 5 * plane; i++) vol[k][i] = 0.5f;
    const float *const vv[4] = {vol[0], vol[1], vol[2], vol[3]};
    TU_CHECK(io_slice_brain_frac(vv, d, 0) == 0, "empty slice");
    TU_CHECK(io_slice_brain_frac(vv, d, 1) < 0.02, "small slice rejected");
    TU_CHECK(fabs(io_slice_brain_frac(vv, d, 2) - 1600.0 / 57600) < 1e-9, "any modality counts");
    TU_CHECK(io_pad_size(240, 240, 64) == 256 && io_pad_size(240, 240, 256) == 256 && io_pad_size(240, 240, 32) == 256 &&
             io_pad_size(300, 200, 128) == 384, "pad sizes");

    int imgs[4] = {256, 128, 64, 32};
    for (int t = 0; t < 4; t++) {
        int img = imgs[t];
        float *out = malloc(sizeof(float) * img * img);
        /* constant slice: constant inside the 240 region (box fully inside),
         * zero in the padding, and the total mass is preserved */
        io_slice_extract(vol[0], d, 3, img, out);
        int f = 256 / img;
        double sum = 0;
        for (int i = 0; i < img * img; i++) sum += out[i];
        TU_CHECK(fabs(sum * f * f - 0.5 * plane) < 1e-2 * plane, "img %d: mass %f", img, sum * f * f);
        TU_CHECK(fabsf(out[(img / 2) * img + img / 2] - 0.5f) < 1e-6f && out[0] == 0.0f, "img %d: centre/pad", img);
        /* the square at RAS x 50..89, y 100..139 lands at padded column
         * 58..97, row 255-8-139..255-8-100 = 108..147 */
        io_slice_extract(vol[3], d, 2, img, out);
        if (img == 256) {
            TU_CHECK(out[108 * 256 + 58] == 1 && out[147 * 256 + 97] == 1 && out[107 * 256 + 58] == 0 && out[108 * 256 + 57] == 0,
                     "square placement (anterior up)");
        }
        /* inverse: constant image restores a constant slice */
        for (int i = 0; i < img * img; i++) out[i] = 0.25f;
        float *back = malloc(sizeof(float) * plane);
        io_slice_restore(out, img, 240, 240, back);
        int bad = 0;
        for (size_t i = 0; i < plane; i++) bad += fabsf(back[i] - 0.25f) > 1e-6f;
        TU_CHECK(!bad, "img %d: restore of a constant", img);
        /* extract -> restore of a smooth slice is close to the original */
        float *sm = malloc(sizeof(float) * plane * 1);
        for (int y = 0; y < 240; y++) for (int x = 0; x < 240; x++) sm[y * 240 + x] = 0.3f + 0.2f * sinf(x * 0.02f) * cosf(y * 0.015f);
        int d1[3] = {240, 240, 1};
        io_slice_extract(sm, d1, 0, img, out);
        io_slice_restore(out, img, 240, 240, back);
        double err = 0;
        for (int y = 20; y < 220; y++) for (int x = 20; x < 220; x++) err = fmax(err, fabs(back[y * 240 + x] - sm[y * 240 + x]));
        TU_CHECK(err < 0.01 * f, "img %d: round-trip error %f", img, err);
        free(sm);
        free(back);
        free(out);
    }
    /* brain mask at model size */
    float four[4 * 16];
    memset(four, 0, sizeof four);
    four[3] = 1; four[16 + 3] = 1; four[48 + 9] = 0.1f;
    uint8_t mask[16];
    TU_CHECK(fabs(io_slice_mask(four, 4, mask) - 2.0 / 16) < 1e-9 && mask[3] && mask[9] && !mask[0], "mask");
    for (int k = 0; k < 4; k++) free(vol[k]);
}

int main(void) {
    test_normalize();
    test_slices();
    return tu_finish("test_io_preprocess");
}
