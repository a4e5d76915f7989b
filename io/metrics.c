/* SSIM / PSNR / MAE and their aggregation (see metrics.h). Everything is
 * accumulated in double so scores match float64 references (skimage) to
 * ~1e-9 whatever the image size. */
#include "io/metrics.h"
#include <math.h>
#include <stdlib.h>

#define SSIM_R (IO_SSIM_WIN / 2)
static const double ssim_sigma = 1.5, ssim_k1 = 0.01, ssim_k2 = 0.03;

/* The normalised 1-D Gaussian; the 2-D window is its outer product, so
 * the filter runs separably (rows, then columns). */
static void gauss_taps(double g[IO_SSIM_WIN]) {
    double s = 0;
    for (int k = 0; k < IO_SSIM_WIN; k++) {
        double x = k - SSIM_R;
        g[k] = exp(-0.5 * x * x / (ssim_sigma * ssim_sigma));
        s += g[k];
    }
    for (int k = 0; k < IO_SSIM_WIN; k++) g[k] /= s;
}

/* Sum and count of the SSIM map over valid positions (centre in mask when
 * mask is set). Returns -1 when the image is smaller than the window or
 * memory runs out. */
static int ssim_sum(const float *a, const float *b, int w, int h, const uint8_t *mask, double *sum, long *count) {
    *sum = 0;
    *count = 0;
    if (!a || !b || w < IO_SSIM_WIN || h < IO_SSIM_WIN) return -1;
    int vw = w - 2 * SSIM_R, vh = h - 2 * SSIM_R;
    /* row-filtered ux, uy, uxx, uyy, uxy for every row, valid columns only */
    double *rows = malloc(sizeof(double) * 5 * (size_t)h * (size_t)vw);
    if (!rows) return -1;
    double g[IO_SSIM_WIN];
    gauss_taps(g);
    for (int y = 0; y < h; y++) {
        const float *ra = a + (size_t)y * w, *rb = b + (size_t)y * w;
        double *o = rows + (size_t)5 * y * vw;
        for (int x = 0; x < vw; x++) {
            double s[5] = {0, 0, 0, 0, 0};
            for (int k = 0; k < IO_SSIM_WIN; k++) {
                double va = ra[x + k], vb = rb[x + k];
                s[0] += g[k] * va;
                s[1] += g[k] * vb;
                s[2] += g[k] * va * va;
                s[3] += g[k] * vb * vb;
                s[4] += g[k] * va * vb;
            }
            for (int q = 0; q < 5; q++) o[(size_t)q * vw + x] = s[q];
        }
    }
    const double c1 = (ssim_k1 * 1.0) * (ssim_k1 * 1.0), c2 = (ssim_k2 * 1.0) * (ssim_k2 * 1.0);
    double total = 0;
    long n = 0;
    for (int y = 0; y < vh; y++) {
        for (int x = 0; x < vw; x++) {
            if (mask && !mask[(size_t)(y + SSIM_R) * w + (size_t)(x + SSIM_R)]) continue;
            double s[5] = {0, 0, 0, 0, 0};
            for (int k = 0; k < IO_SSIM_WIN; k++) {
                const double *r = rows + (size_t)5 * (y + k) * vw + x;
                for (int q = 0; q < 5; q++) s[q] += g[k] * r[(size_t)q * vw];
            }
            double ux = s[0], uy = s[1];
            double vx = s[2] - ux * ux, vy = s[3] - uy * uy, vxy = s[4] - ux * uy;
            total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            n++;
        }
    }
    free(rows);
    *sum = total;
    *count = n;
    return 0;
}

double io_ssim(const float *a, const float *b, int w, int h, const uint8_t *mask) {
    double s;
    long n;
    if (ssim_sum(a, b, w, h, mask, &s, &n) || n == 0) return NAN;
    return s / (double)n;
}

/* Sums |a-b| and (a-b)^2 over the (masked) pixels; returns the count. */
static size_t err_sums(const float *a, const float *b, size_t n, const uint8_t *mask, double *sabs, double *ssq) {
    double s1 = 0, s2 = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        double d = (double)a[i] - (double)b[i];
        s1 += fabs(d);
        s2 += d * d;
        k++;
    }
    *sabs = s1;
    *ssq = s2;
    return k;
}

double io_psnr_from_mse(double mse) {
    if (isnan(mse)) return NAN;
    if (mse <= 0) return IO_PSNR_CAP;
    double p = -10.0 * log10(mse);
    return p > IO_PSNR_CAP ? IO_PSNR_CAP : p;
}

double io_mse(const float *a, const float *b, size_t n, const uint8_t *mask) {
    double s1, s2;
    size_t k = (a && b) ? err_sums(a, b, n, mask, &s1, &s2) : 0;
    return k ? s2 / (double)k : NAN;
}

double io_mae(const float *a, const float *b, size_t n, const uint8_t *mask) {
    double s1, s2;
    size_t k = (a && b) ? err_sums(a, b, n, mask, &s1, &s2) : 0;
    return k ? s1 / (double)k : NAN;
}

double io_psnr(const float *a, const float *b, size_t n, const uint8_t *mask) {
    return io_psnr_from_mse(io_mse(a, b, n, mask));
}

void io_metrics_slice(const float *a, const float *b, int w, int h, const uint8_t *mask, io_metrics *out) {
    io_metrics_volume(a, b, w, h, 1, mask, out);
}

void io_metrics_volume(const float *a, const float *b, int w, int h, int nslices, const uint8_t *mask,
                       io_metrics *out) {
    out->ssim = out->psnr = out->mae = out->mse = NAN;
    if (!a || !b || w <= 0 || h <= 0 || nslices <= 0) return;
    size_t plane = (size_t)w * (size_t)h;
    double sabs = 0, ssq = 0, ssim = 0;
    size_t npix = 0;
    long nssim = 0;
    int ssim_ok = 1;
    for (int z = 0; z < nslices; z++) {
        const float *pa = a + plane * z, *pb = b + plane * z;
        const uint8_t *pm = mask ? mask + plane * z : NULL;
        double s1, s2, s;
        long n;
        npix += err_sums(pa, pb, plane, pm, &s1, &s2);
        sabs += s1;
        ssq += s2;
        if (ssim_ok && ssim_sum(pa, pb, w, h, pm, &s, &n) == 0) { ssim += s; nssim += n; }
        else ssim_ok = 0;
    }
    if (npix) {
        out->mae = sabs / (double)npix;
        out->mse = ssq / (double)npix;
        out->psnr = io_psnr_from_mse(out->mse);
    }
    if (ssim_ok && nssim) out->ssim = ssim / (double)nssim;
}

void io_stat_init(io_stat *s) {
    s->n = s->n_skipped = 0;
    s->mean = s->m2 = 0;
}

void io_stat_add(io_stat *s, double v) {
    if (isnan(v)) { s->n_skipped++; return; }
    s->n++;
    double d = v - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (v - s->mean);
}

double io_stat_mean(const io_stat *s) { return s->n ? s->mean : NAN; }

double io_stat_std(const io_stat *s) { return s->n ? sqrt(s->m2 / (double)s->n) : NAN; }

void io_metrics_stat_init(io_metrics_stat *s) {
    io_stat_init(&s->ssim);
    io_stat_init(&s->psnr);
    io_stat_init(&s->mae);
    io_stat_init(&s->mse);
}

void io_metrics_stat_add(io_metrics_stat *s, const io_metrics *m) {
    io_stat_add(&s->ssim, m->ssim);
    io_stat_add(&s->psnr, m->psnr);
    io_stat_add(&s->mae, m->mae);
    io_stat_add(&s->mse, m->mse);
}
