/* NIfTI volume reading (libnifti) into float32, the geometry needed to
 * write outputs on the same grid, and reorientation to one canonical
 * orientation (RAS) for slicing plus the inverse mapping back.
 *
 * Reading: every real datatype (u/int 8..64, float 32/64/128), complex
 * (magnitude) and RGB/RGBA (luminance) are converted to float32 with
 * scl_slope/scl_inter applied (slope 0 or non-finite = no scaling, as in
 * the NIfTI standard). NaN/Inf voxels are replaced by 0 rather than refused
 * (one bad voxel should not kill a data set): libnifti already zeroes those
 * stored in float files while loading, and values that become non-finite
 * through scaling or float64 -> float32 are zeroed here and counted in
 * io_volume.n_nonfinite so callers can warn.
 *
 * Orientation: the voxel->world affine is the sform when sform_code > 0,
 * else the qform (libnifti falls back to pixdim scaling when qform_code is
 * 0). Each stored axis is assigned to the world axis its direction is
 * closest to (largest |cosine|, greedily, so the result is a permutation)
 * with a flip when it points towards -R/-A/-S. Only permutations and flips
 * are applied, never resampling: for oblique affines this is the nearest
 * axis-aligned orientation (io_orient.oblique says it was not exact). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define IO_MAX_DIM 8192                 /* per spatial axis */
#define IO_MAX_VOXELS ((int64_t)1 << 30) /* per 3-D volume */

/* What an output needs to sit on an input's grid. */
typedef struct io_geom {
    int64_t dim[8];        /* dim[0] = ndim, dim[1..3] = nx, ny, nz */
    double pixdim[8];      /* pixdim[0] = qfac */
    int datatype;          /* source NIFTI_TYPE_* (informational) */
    int qform_code, sform_code;
    double quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z, qfac;
    double qto_xyz[4][4];  /* as libnifti computed it */
    double sto_xyz[4][4];
    int xyz_units, time_units;
} io_geom;

/* Stored axis c maps to canonical (RAS) axis axis[c]; flip[c] = 1 when
 * the stored index runs towards -R/-A/-S. */
typedef struct io_orient {
    int axis[3];
    int flip[3];
    int oblique;           /* affine was not exactly axis aligned */
} io_orient;

/* A volume in canonical RAS order (x = R fastest, then A, then S). */
typedef struct io_volume {
    int dims[3];           /* RAS dims */
    float *data;
    io_geom geom;          /* the file's own geometry (stored order) */
    io_orient orient;
    int64_t n_nonfinite;   /* NaN/Inf voxels replaced by 0 */
} io_volume;

/* Reads a 3-D volume (a 4-D file with nt == 1 is accepted) and reorients it
 * to RAS. Returns 0, or -1 with a message naming the file in err (v is then
 * zeroed, so io_volume_free is safe either way). */
int io_volume_read(const char *path, io_volume *v, char *err, size_t errlen);
/* Reads channels (indices along dim 4) of a 4-D file in one pass, each into
 * its own volume (Medical Segmentation Decathlon layout). */
int io_volume_read_channels(const char *path, int n, const int *channels, io_volume *vols,
                            char *err, size_t errlen);
void io_volume_free(io_volume *v);

/* The affine in use (sform if sform_code > 0, else qform). */
void io_geom_affine(const io_geom *g, double a[4][4]);
void io_orient_from_geom(const io_geom *g, io_orient *o);
/* Axis codes of the stored order, e.g. "LPS" or "RAS" (4 bytes incl. NUL). */
void io_orient_code(const io_orient *o, char code[4]);
/* Stored grid (dims[3]) -> RAS; ras_dims receives the permuted dims. */
void io_reorient_to_ras(const float *src, const int dims[3], const io_orient *o,
                        float *dst, int ras_dims[3]);
/* RAS (ras_dims) -> stored grid; the inverse of io_reorient_to_ras. */
void io_reorient_from_ras(const float *ras, const int ras_dims[3], const io_orient *o, float *dst);

/* 0 when a and b describe the same grid (dims, spacing, affine within
 * 1e-3 relative / 1e-3 mm); else -1 with what differs in `what`. */
int io_geom_compare(const io_geom *a, const io_geom *b, char *what, size_t whatlen);
