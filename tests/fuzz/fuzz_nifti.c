/* Fuzz target: the NIfTI reading wrapper (io/volume.c): our header checks
 * (sizes, dims, datatype, pixdim, vox_offset, the image fitting the file),
 * then libnifti's loading, the datatype conversion, scaling and RAS
 * reorientation. Byte 0 picks how the rest is stored and read:
 *   bits 0-1: 0 plain .nii, 1 the bytes as .nii.gz (gzip's plain-file
 *             fallback and damaged gzip), 2 gzip-compressed .nii.gz, 3 as 0
 *   bit 2:    read four channels of a 4-D file (the MSD layout)
 * A volume that loads is written back next to it and read again, as impute
 * does with its outputs. */
#include "io/nifti_write.h"
#include "io/volume.h"
#include "tests/fuzz/fuzz.h"
#include <math.h>
#include <string.h>
#include <zlib.h>

static void check_volume(const io_volume *v) {
    for (int c = 0; c < 3; c++) FUZZ_ASSERT(v->dims[c] > 0 && v->dims[c] <= IO_MAX_DIM, "volume dims");
    int64_t n = (int64_t)v->dims[0] * v->dims[1] * v->dims[2];
    FUZZ_ASSERT(n <= IO_MAX_VOXELS && v->data, "volume size");
    for (int64_t i = 0; i < n; i++) FUZZ_ASSERT(isfinite(v->data[i]), "non-finite voxel after loading");
    char code[4];
    io_orient_code(&v->orient, code);
    FUZZ_ASSERT(strlen(code) == 3, "orientation code");
}

static void round_trip(const io_volume *v) {
    char out[512], err[1024] = "";
    fuzz_path(out, sizeof out, "out.nii");
    int rc = io_nifti_write_ras(out, &v->geom, &v->orient, v->data, err, sizeof err);
    fuzz_expect_error(rc, err, out);
    if (rc) return;
    io_volume w;
    err[0] = 0;
    rc = io_volume_read(out, &w, err, sizeof err);
    fuzz_expect_error(rc, err, out);
    if (!rc) {
        check_volume(&w);
        char what[256];
        for (int c = 1; c <= 3; c++) FUZZ_ASSERT(w.geom.dim[c] == v->geom.dim[c], "written volume reads back with other dims");
        FUZZ_ASSERT(io_geom_compare(&v->geom, &w.geom, what, sizeof what) == 0, "written volume reads back on another grid");
    }
    io_volume_free(&w);
}

FUZZ_TARGET(nifti) {
    if (size < 1) return 0;
    int store = data[0] & 3, channels = data[0] >> 2 & 1;
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    char path[512];
    fuzz_path(path, sizeof path, store == 1 || store == 2 ? "in.nii.gz" : "in.nii");
    if (store == 2) {
        gzFile gz = gzopen(path, "wb1");
        FUZZ_ASSERT(gz && (n == 0 || gzwrite(gz, b, (unsigned)n) == (int)n) && gzclose(gz) == Z_OK, "gzip write");
    } else {
        fuzz_write(path, b, n);
    }
    char err[1024] = "";
    if (channels) {
        static const int ch[4] = {1, 2, 3, 0};
        io_volume v[4];
        int rc = io_volume_read_channels(path, 4, ch, v, err, sizeof err);
        fuzz_expect_error(rc, err, path);
        if (!rc)
            for (int i = 0; i < 4; i++) check_volume(&v[i]);
        for (int i = 0; i < 4; i++) io_volume_free(&v[i]);
    } else {
        io_volume v;
        int rc = io_volume_read(path, &v, err, sizeof err);
        fuzz_expect_error(rc, err, path);
        if (!rc) {
            check_volume(&v);
            round_trip(&v);
        }
        io_volume_free(&v);
    }
    return 0;
}
