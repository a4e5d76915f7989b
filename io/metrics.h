/* Image-quality metrics for imputed slices and volumes, on float images in
 * [0, 1] (data range 1): SSIM, PSNR and MAE, each optionally restricted to
 * a brain mask, plus mean +- std aggregation over cases.
 *
 * SSIM follows Wang et al. 2004 exactly as skimage's
 * structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1) computes its map: an 11x11
 * Gaussian window (sigma 1.5, normalised), K1 0.01, K2 0.03, population
 * (biased) local variances and covariance. The score is the mean of the
 * SSIM map over the valid positions only (where the whole window fits: a
 * 5-pixel border trimmed, no padding), which is skimage's mssim too.
 * Masked SSIM: the mean over the valid positions whose centre pixel is in
 * the mask.
 *
 * PSNR = 10 log10(1 / MSE), capped at IO_PSNR_CAP dB (identical images
 * give exactly the cap): JSON has no infinity and a cap keeps means finite.
 *
 * Undefined results (an image smaller than the 11x11 window, an empty
 * mask, out of memory) are NaN; the aggregation skips NaN. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define IO_SSIM_WIN 11         /* window side; the border trimmed is IO_SSIM_WIN / 2 */
#define IO_PSNR_CAP 100.0      /* dB, reported for MSE 0 and never exceeded */

typedef struct io_metrics {
    double ssim, psnr, mae, mse;
} io_metrics;

/* Mean SSIM of two w x h images (row-major). mask: w*h bytes, nonzero =
 * inside, or NULL for the whole image. */
double io_ssim(const float *a, const float *b, int w, int h, const uint8_t *mask);
/* PSNR / MAE / MSE over n pixels (those with mask[i] != 0 when mask is set). */
double io_psnr(const float *a, const float *b, size_t n, const uint8_t *mask);
double io_mae(const float *a, const float *b, size_t n, const uint8_t *mask);
double io_mse(const float *a, const float *b, size_t n, const uint8_t *mask);
/* PSNR of a given MSE with the cap (NaN stays NaN). */
double io_psnr_from_mse(double mse);

/* All metrics of one w x h slice. */
void io_metrics_slice(const float *a, const float *b, int w, int h, const uint8_t *mask, io_metrics *out);
/* Per-volume metrics over `nslices` w x h slices stored one after the other
 * (a volume's selected slices): MSE/PSNR and MAE pooled over every
 * (masked) pixel of the volume; SSIM the mean of the SSIM maps over every
 * valid (masked) position of all slices, which without a mask is the plain
 * mean of the per-slice SSIMs (every slice has the same number of valid
 * positions) and with a mask weights each slice by its masked area.
 * mask: nslices*w*h bytes or NULL. */
void io_metrics_volume(const float *a, const float *b, int w, int h, int nslices, const uint8_t *mask,
                       io_metrics *out);

/* Running mean and standard deviation (population, ddof 0 like numpy's
 * default) of a metric over cases/slices; NaN values are counted in
 * n_skipped and otherwise ignored. */
typedef struct io_stat {
    long n, n_skipped;
    double mean, m2;   /* Welford's running mean and sum of squared deviations */
} io_stat;

void io_stat_init(io_stat *s);
void io_stat_add(io_stat *s, double v);
double io_stat_mean(const io_stat *s);  /* NaN when n == 0 */
double io_stat_std(const io_stat *s);   /* NaN when n == 0 */

/* The four metrics aggregated together. */
typedef struct io_metrics_stat {
    io_stat ssim, psnr, mae, mse;
} io_metrics_stat;

void io_metrics_stat_init(io_metrics_stat *s);
void io_metrics_stat_add(io_metrics_stat *s, const io_metrics *m);
