/* Intensity normalisation, slice selection, padding and resampling (see
 * preprocess.h). */
#include "io/preprocess.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

io_prep_params io_prep_defaults(int img) {
    io_prep_params p = {img, IO_NORM_PERCENTILE, 0.02};
    return p;
}

const char *io_norm_name(io_norm n) { return n == IO_NORM_MINMAX ? "minmax" : "percentile"; }

int io_norm_parse(const char *s, io_norm *out) {
    if (!strcasecmp(s, "percentile")) { *out = IO_NORM_PERCENTILE; return 0; }
    if (!strcasecmp(s, "minmax")) { *out = IO_NORM_MINMAX; return 0; }
    return -1;
}

/* k-th smallest of a[0..n) (Hoare quickselect; reorders a). */
static float select_k(float *a, ptrdiff_t n, ptrdiff_t k) {
    ptrdiff_t lo = 0, hi = n - 1;
    while (hi > lo) {
        float pivot = a[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { float t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

double io_positive_quantile(const float *v, size_t n, double q) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += v[i] > 0;
    if (m == 0) return 0;
    float *a = malloc(m * sizeof *a);
    if (!a) { /* fall back to the maximum: still a valid (if cruder) scale */
        float mx = 0;
        for (size_t i = 0; i < n; i++) if (v[i] > mx) mx = v[i];
        return mx;
    }
    m = 0;
    for (size_t i = 0; i < n; i++) if (v[i] > 0) a[m++] = v[i];
    double pos = q * (double)(m - 1);
    size_t k = (size_t)floor(pos);
    double lo = select_k(a, (ptrdiff_t)m, (ptrdiff_t)k), hi = lo;
    if (k + 1 < m) { /* the next order statistic is the minimum above k */
        hi = a[k + 1];
        for (size_t i = k + 2; i < m; i++) if (a[i] < hi) hi = a[i];
    }
    free(a);
    return lo + (pos - (double)k) * (hi - lo);
}

void io_normalize(float *v, size_t n, io_norm norm) {
    for (size_t i = 0; i < n; i++) if (!(v[i] > 0)) v[i] = 0;
    double lo = 0, scale;
    if (norm == IO_NORM_MINMAX) {
        float mn = n ? v[0] : 0, mx = mn;
        for (size_t i = 0; i < n; i++) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
        lo = mn;
        scale = mx - mn;
    } else {
        scale = io_positive_quantile(v, n, 0.995);
    }
    if (!(scale > 0)) { memset(v, 0, n * sizeof *v); return; }
    double inv = 1.0 / scale;
    for (size_t i = 0; i < n; i++) {
        double x = (v[i] - lo) * inv;
        v[i] = x < 0 ? 0.0f : x > 1 ? 1.0f : (float)x;
    }
}

int io_pad_size(int nx, int ny, int img) {
    int m = nx > ny ? nx : ny;
    return (m + img - 1) / img * img;
}

double io_slice_brain_frac(const float *const vols[4], const int d[3], int z) {
    size_t plane = (size_t)d[0] * d[1], cnt = 0;
    const size_t off = (size_t)z * plane;
    for (size_t i = 0; i < plane; i++)
        cnt += vols[0][off + i] > 0 || vols[1][off + i] > 0 || vols[2][off + i] > 0 || vols[3][off + i] > 0;
    return plane ? (double)cnt / (double)plane : 0;
}

void io_slice_extract(const float *vol, const int d[3], int z, int img, float *out) {
    int nx = d[0], ny = d[1], S = io_pad_size(nx, ny, img), f = S / img;
    int ox = (S - nx) / 2, oy = (S - ny) / 2;
    const float *sl = vol + (size_t)z * nx * ny;
    double inv = 1.0 / ((double)f * f);
    for (int r = 0; r < img; r++)
        for (int c = 0; c < img; c++) {
            double sum = 0;
            for (int pr = r * f; pr < r * f + f; pr++) {
                int y = ny - 1 - (pr - oy); /* padded row -> RAS y (anterior up) */
                if (y < 0 || y >= ny) continue;
                for (int pc = c * f; pc < c * f + f; pc++) {
                    int x = pc - ox;
                    if (x >= 0 && x < nx) sum += sl[(size_t)y * nx + x];
                }
            }
            out[(size_t)r * img + c] = (float)(sum * inv);
        }
}

double io_slice_mask(const float *four, int img, uint8_t *mask) {
    size_t n = (size_t)img * img, cnt = 0;
    for (size_t i = 0; i < n; i++) {
        int m = four[i] > 0 || four[n + i] > 0 || four[2 * n + i] > 0 || four[3 * n + i] > 0;
        if (mask) mask[i] = (uint8_t)m;
        cnt += (size_t)m;
    }
    return (double)cnt / (double)n;
}

/* Bilinear sample of an img x img image at continuous pixel coords
 * (pixel centres at integer + 0.5), edges clamped. */
static float bilinear(const float *in, int img, double u, double v) {
    double x = u - 0.5, y = v - 0.5;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    double fx = x - x0, fy = y - y0;
    int x1 = x0 + 1, y1 = y0 + 1;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img - 1) x1 = img - 1;
    if (y1 > img - 1) y1 = img - 1;
    if (x0 > img - 1) x0 = img - 1;
    if (y0 > img - 1) y0 = img - 1;
    double a = in[(size_t)y0 * img + x0] * (1 - fx) + in[(size_t)y0 * img + x1] * fx;
    double b = in[(size_t)y1 * img + x0] * (1 - fx) + in[(size_t)y1 * img + x1] * fx;
    return (float)(a * (1 - fy) + b * fy);
}

void io_slice_restore(const float *in, int img, int nx, int ny, float *dst) {
    int S = io_pad_size(nx, ny, img), ox = (S - nx) / 2, oy = (S - ny) / 2;
    double f = (double)S / img;
    for (int y = 0; y < ny; y++) {
        int pr = (ny - 1 - y) + oy; /* padded row of this RAS y */
        for (int x = 0; x < nx; x++) {
            int pc = x + ox;
            dst[(size_t)y * nx + x] = bilinear(in, img, (pc + 0.5) / f, (pr + 0.5) / f);
        }
    }
}
