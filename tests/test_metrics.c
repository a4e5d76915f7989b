/* Image metrics: analytic cases (identical, constant, x vs x + 0.1), masks,
 * volume pooling, aggregation, and SSIM against skimage on pseudo-random
 * images: live through /usr/bin/python3 when skimage is installed, and
 * always against values skimage 0.19.3 gave for the same images. */
#include "io/metrics.h"
#include "tests/testutil.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 40
#define H 36

/* Deterministic pseudo-random value in [0, 1) with 24 bits (exact in float). */
static float urand(uint64_t i, uint64_t seed) {
    uint64_t z = i * 0x9e3779b97f4a7c15ull + seed * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) / 16777216.0f;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* The fixed image pairs: 0 noisy copy of a smooth image, 1 two independent
 * noise images, 2 contrast/brightness change plus mild noise. */
static void make_pair(int which, float *a, float *b) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            float smooth = 0.5f + 0.3f * sinf(0.25f * x) * cosf(0.19f * y);
            switch (which) {
            case 0: a[i] = smooth; b[i] = clamp01(smooth + 0.2f * (urand(i, 1) - 0.5f)); break;
            case 1: a[i] = urand(i, 2); b[i] = urand(i, 3); break;
            default: a[i] = clamp01(smooth + 0.1f * (urand(i, 4) - 0.5f));
                     b[i] = clamp01(0.7f * a[i] + 0.2f + 0.05f * (urand(i, 5) - 0.5f)); break;
            }
        }
}

/* A disk mask (the "brain"). */
static void make_mask(uint8_t *m) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double dx = x - 22.0, dy = y - 16.0;
            m[y * W + x] = dx * dx + dy * dy < 13.0 * 13.0;
        }
}

/* skimage 0.19.3 on the pairs above (float64 inputs): mean of the full
 * SSIM map with the 5-pixel border trimmed, without and with the mask
 * (centre pixel inside). Computed once with the script in run_skimage. */
static const double skimage_ref[3][2] = {
    {0.724549240280, 0.727278019258},
    {-0.027596771074, -0.013804711139},
    {0.906882050659, 0.906925420752},
};

static const char *py_script =
    "import sys, numpy as np\n"
    "from skimage.metrics import structural_similarity\n"
    "w, h = int(sys.argv[2]), int(sys.argv[3])\n"
    "d = np.fromfile(sys.argv[1], dtype='<f8').reshape(3, h, w)\n"
    "a, b, m = d[0], d[1], d[2] > 0.5\n"
    "_, S = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,\n"
    "                             data_range=1, full=True)\n"
    "S, m = S[5:-5, 5:-5], m[5:-5, 5:-5]\n"
    "print('%.12f %.12f' % (S.mean(), S[m].mean()))\n";

/* The interpreter: /usr/bin/python3 (Debian's, where python3-skimage
 * installs), or VKMIST_PYTHON (e.g. a bogus path to exercise the skip). */
static const char *python(void) {
    const char *p = getenv("VKMIST_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* Runs skimage on pair `which`; 0 with out[2] filled, 1 when skimage is
 * not available (reason printed once), -1 on a failure of the run. */
static int run_skimage(int which, const float *a, const float *b, const uint8_t *m, double out[2]) {
    static int have = -1;
    char cmd[1600];
    if (have < 0) {
        snprintf(cmd, sizeof cmd, "'%s' -c 'import skimage' >/dev/null 2>&1", python());
        have = system(cmd) == 0;
        if (!have) printf("skimage not available (%s -c 'import skimage' failed): live skimage comparison skipped, "
                          "hard-coded skimage values still checked\n", python());
    }
    if (!have) return 1;
    char bin[700], py[700];
    snprintf(bin, sizeof bin, "%s/pair%d.f64", tu_tmpdir(), which);
    snprintf(py, sizeof py, "%s/ssim.py", tu_tmpdir());
    FILE *f = fopen(py, "w");
    if (!f) return -1;
    fputs(py_script, f);
    if (fclose(f)) return -1;
    f = fopen(bin, "wb");
    if (!f) return -1;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < W * H; i++) {
            double v = k == 0 ? a[i] : k == 1 ? b[i] : m[i];
            fwrite(&v, sizeof v, 1, f);
        }
    if (fclose(f)) return -1;
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' %d %d", python(), py, bin, W, H);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int n = fscanf(p, "%lf %lf", &out[0], &out[1]);
    int rc = pclose(p);
    return (n == 2 && rc == 0) ? 0 : -1;
}

static void test_skimage(void) {
    float a[W * H], b[W * H];
    uint8_t m[W * H];
    make_mask(m);
    for (int which = 0; which < 3; which++) {
        make_pair(which, a, b);
        double ours = io_ssim(a, b, W, H, NULL), ours_m = io_ssim(a, b, W, H, m);
        printf("pair %d: ssim %.12f masked %.12f (stored skimage %.12f %.12f)\n", which, ours, ours_m,
               skimage_ref[which][0], skimage_ref[which][1]);
        TU_CHECK(fabs(ours - skimage_ref[which][0]) < 1e-6, "pair %d ssim %.12f vs stored skimage %.12f", which, ours,
                 skimage_ref[which][0]);
        TU_CHECK(fabs(ours_m - skimage_ref[which][1]) < 1e-6, "pair %d masked ssim %.12f vs stored skimage %.12f", which,
                 ours_m, skimage_ref[which][1]);
        TU_CHECK(fabs(io_ssim(b, a, W, H, m) - ours_m) < 1e-12, "ssim symmetric");
        double sk[2];
        int rc = run_skimage(which, a, b, m, sk);
        TU_CHECK(rc >= 0, "running skimage failed");
        if (rc == 0) {
            printf("pair %d: live skimage %.12f masked %.12f (diff %.2e, %.2e)\n", which, sk[0], sk[1], ours - sk[0],
                   ours_m - sk[1]);
            TU_CHECK(fabs(ours - sk[0]) < 1e-6, "pair %d ssim %.12f vs skimage %.12f", which, ours, sk[0]);
            TU_CHECK(fabs(ours_m - sk[1]) < 1e-6, "pair %d masked ssim %.12f vs skimage %.12f", which, ours_m, sk[1]);
        }
    }
}

static void test_analytic(void) {
    float a[W * H], b[W * H];
    uint8_t m[W * H];
    make_mask(m);
    make_pair(0, a, b);
    /* identical */
    io_metrics r;
    io_metrics_slice(a, a, W, H, NULL, &r);
    TU_CHECK(fabs(r.ssim - 1) < 1e-12 && r.psnr == IO_PSNR_CAP && r.mae == 0 && r.mse == 0,
             "identical: ssim %.15f psnr %f mae %g", r.ssim, r.psnr, r.mae);
    io_metrics_slice(a, a, W, H, m, &r);
    TU_CHECK(fabs(r.ssim - 1) < 1e-12 && r.psnr == IO_PSNR_CAP && r.mae == 0, "identical masked");
    /* constants 0.3 vs 0.5: only the luminance term is left */
    for (int i = 0; i < W * H; i++) { a[i] = 0.3f; b[i] = 0.5f; }
    io_metrics_slice(a, b, W, H, NULL, &r);
    double c1 = 1e-4, want = (2 * 0.3 * 0.5 + c1) / (0.3 * 0.3 + 0.5 * 0.5 + c1);
    double d = (double)0.5f - (double)0.3f;
    TU_CHECK(fabs(r.ssim - want) < 1e-6, "constant ssim %.9f want %.9f", r.ssim, want);
    TU_CHECK(fabs(r.mae - 0.2) < 1e-6 && fabs(r.psnr - (-10 * log10(d * d))) < 1e-9 && fabs(r.psnr - 13.9794) < 1e-4,
             "constant mae %f psnr %f", r.mae, r.psnr);
    /* x vs x + 0.1: 20 dB, MAE 0.1 */
    for (int i = 0; i < W * H; i++) { a[i] = 0.5f * urand(i, 7); b[i] = a[i] + 0.1f; }
    io_metrics_slice(a, b, W, H, NULL, &r);
    TU_CHECK(fabs(r.psnr - 20) < 1e-4 && fabs(r.mae - 0.1) < 1e-6, "x vs x+0.1: psnr %f mae %f", r.psnr, r.mae);
    TU_CHECK(fabs(io_psnr(a, b, W * H, m) - 20) < 1e-4, "masked psnr");
    /* the mask selects: error 0.1 inside, 0.4 outside */
    for (int i = 0; i < W * H; i++) b[i] = a[i] + (m[i] ? 0.1f : 0.4f);
    TU_CHECK(fabs(io_mae(a, b, W * H, m) - 0.1) < 1e-6, "masked mae %f", io_mae(a, b, W * H, m));
    TU_CHECK(io_mae(a, b, W * H, NULL) > 0.15, "unmasked mae sees the outside");
    /* PSNR is capped, never above the cap */
    for (int i = 0; i < W * H; i++) b[i] = a[i] + 1e-7f;
    TU_CHECK(io_psnr(a, b, W * H, NULL) <= IO_PSNR_CAP, "cap");
    TU_CHECK(io_psnr_from_mse(0.01) > 19.999999 && io_psnr_from_mse(0.01) < 20.000001, "psnr_from_mse");
    /* undefined cases are NaN, not a crash */
    uint8_t none[W * H];
    memset(none, 0, sizeof none);
    TU_CHECK(isnan(io_ssim(a, b, 10, 10, NULL)) && isnan(io_ssim(a, b, W, H, none)) && isnan(io_mae(a, b, W * H, none)) &&
             isnan(io_psnr(a, b, W * H, none)) && isnan(io_ssim(NULL, b, W, H, NULL)), "undefined -> NaN");
    /* a mask whose pixels lie only in the trimmed border: SSIM undefined */
    none[0] = 1;
    TU_CHECK(isnan(io_ssim(a, b, W, H, none)) && io_mae(a, b, W * H, none) >= 0, "border-only mask");
}

static void test_volume(void) {
    static float a[3 * W * H], b[3 * W * H];
    static uint8_t m[3 * W * H];
    double s[3];
    for (int z = 0; z < 3; z++) {
        make_pair(z, a + z * W * H, b + z * W * H);
        make_mask(m + z * W * H);
        s[z] = io_ssim(a + z * W * H, b + z * W * H, W, H, NULL);
    }
    io_metrics v;
    io_metrics_volume(a, b, W, H, 3, NULL, &v);
    TU_CHECK(fabs(v.ssim - (s[0] + s[1] + s[2]) / 3) < 1e-12, "volume ssim = mean of slices");
    TU_CHECK(fabs(v.mse - io_mse(a, b, 3 * W * H, NULL)) < 1e-12 && fabs(v.psnr - io_psnr_from_mse(v.mse)) < 1e-12 &&
             fabs(v.mae - io_mae(a, b, 3 * W * H, NULL)) < 1e-12, "volume psnr/mae pooled");
    /* pooled, not averaged: errors 0.1 and 0.2 -> MSE 0.025 */
    for (int i = 0; i < W * H; i++) { a[i] = 0.2f; b[i] = 0.3f; a[W * H + i] = 0.2f; b[W * H + i] = 0.4f; }
    io_metrics_volume(a, b, W, H, 2, NULL, &v);
    TU_CHECK(fabs(v.psnr - (-10 * log10(0.025))) < 1e-4 && fabs(v.mae - 0.15) < 1e-6, "pooled psnr %f", v.psnr);
    io_metrics_volume(a, b, W, H, 2, m, &v);
    TU_CHECK(fabs(v.mae - 0.15) < 1e-6, "masked volume");
}

static void test_stats(void) {
    io_stat s;
    io_stat_init(&s);
    TU_CHECK(isnan(io_stat_mean(&s)) && isnan(io_stat_std(&s)), "empty stat");
    double v[] = {1, 2, NAN, 3, 4};
    for (int i = 0; i < 5; i++) io_stat_add(&s, v[i]);
    TU_CHECK(s.n == 4 && s.n_skipped == 1 && fabs(io_stat_mean(&s) - 2.5) < 1e-12 && fabs(io_stat_std(&s) - sqrt(1.25)) < 1e-12,
             "mean %f std %f", io_stat_mean(&s), io_stat_std(&s));
    io_metrics_stat ms;
    io_metrics_stat_init(&ms);
    io_metrics m1 = {0.5, 20, 0.1, 0.01}, m2 = {0.7, 30, 0.3, 0.001};
    io_metrics_stat_add(&ms, &m1);
    io_metrics_stat_add(&ms, &m2);
    TU_CHECK(fabs(io_stat_mean(&ms.ssim) - 0.6) < 1e-12 && fabs(io_stat_std(&ms.psnr) - 5) < 1e-12 && ms.mae.n == 2,
             "metrics stat");
}

int main(void) {
    test_analytic();
    test_skimage();
    test_volume();
    test_stats();
    return tu_finish("test_metrics");
}
