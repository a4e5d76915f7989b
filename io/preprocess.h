/* Preprocessing of a case into training slices (DESIGN section 5):
 * per volume and modality negatives -> 0, divide by the 99.5th percentile
 * of the non-zero voxels and clip to [0, 1] (or the paper's linear min-max);
 * keep axial slices whose brain (any modality > 0) covers >= 2 % of the
 * slice; zero-pad each slice (centred) to a square S, the smallest multiple
 * of img that holds it (240 -> 256 for img 256/128/64/32), and box-average
 * S -> img. The inverse (imputed slice -> input grid) is here too.
 *
 * Slice orientation: volumes are RAS (volume.h). Slice pixel (row r,
 * column c) is voxel (x = c, y = ny-1-r, z): anterior at the top, the
 * patient's left on the left (neurological view), so images look upright. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { IO_NORM_PERCENTILE = 0, IO_NORM_MINMAX = 1 } io_norm;

typedef struct io_prep_params {
    int img;            /* model image size: 256, 128, 64, 32 (any >= 4) */
    io_norm norm;
    double slice_frac;  /* minimum brain fraction of an axial slice (0.02) */
} io_prep_params;

io_prep_params io_prep_defaults(int img);
const char *io_norm_name(io_norm n);     /* "percentile" / "minmax" */
int io_norm_parse(const char *s, io_norm *out); /* 0 ok, -1 unknown */

/* q-quantile (0..1, linear interpolation between order statistics, like
 * numpy's default) of the values > 0; 0 when there are none. */
double io_positive_quantile(const float *v, size_t n, double q);
/* In place: negatives -> 0, then scaled to [0, 1] by `norm`. */
void io_normalize(float *v, size_t n, io_norm norm);

/* Padded square size for an nx x ny slice at model size img. */
int io_pad_size(int nx, int ny, int img);
/* Brain fraction of axial slice z of the four RAS volumes (dims d). */
double io_slice_brain_frac(const float *const vols[4], const int d[3], int z);
/* Slice z of one RAS volume -> img x img (flip, pad, box-downsample). */
void io_slice_extract(const float *vol, const int d[3], int z, int img, float *out);
/* Fraction of the img x img pixels where any of the 4 channels is > 0. */
double io_slice_mask(const float *four, int img, uint8_t *mask /* may be NULL */);
/* Inverse of io_slice_extract: img x img -> slice z of an nx x ny grid
 * (bilinear upsampling to S, crop, unflip); writes dst[x + y*nx]. */
void io_slice_restore(const float *in, int img, int nx, int ny, float *dst);
