/* Header-only helpers for the io tests: small synthetic NIfTI files written
 * with libnifti (any datatype, orientation, scaling) or byte by byte (for
 * damaged headers), and file damage (truncate, flip a byte). */
#pragma once
#include <nifti2_io.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Orientation of a synthetic file's affine (1 mm voxels). */
enum { TIO_RAS, TIO_LPS, TIO_PERM /* i->A, j->R, k->S */, TIO_OBLIQUE };

static inline void tio_affine(int kind, int nx, int ny, double m[4][4]) {
    memset(m, 0, sizeof(double) * 16);
    m[3][3] = 1;
    switch (kind) {
    case TIO_LPS: m[0][0] = -1; m[1][1] = -1; m[2][2] = 1; m[0][3] = nx - 1; m[1][3] = ny - 1; break;
    case TIO_PERM: m[1][0] = 1; m[0][1] = 1; m[2][2] = 1; break;
    case TIO_OBLIQUE: { double c = cos(0.2), s = sin(0.2); /* ~11 degrees about z */
        m[0][0] = c; m[0][1] = -s; m[1][0] = s; m[1][1] = c; m[2][2] = 1; break; }
    default: m[0][0] = m[1][1] = m[2][2] = 1; m[0][3] = -10; m[1][3] = -20; m[2][3] = -30;
    }
}

/* Writes a volume (nt channels) whose stored voxel i has value val(i);
 * returns 0 on success. sform from `kind` (code 1) and the same as qform
 * (code `qcode`); slope/inter stored in the header. */
static inline int tio_write(const char *path, int dtype, int nx, int ny, int nz, int nt, int kind,
                     double slope, double inter, double (*val)(int64_t i, void *u), void *u) {
    int64_t dims[8] = {nt > 1 ? 4 : 3, nx, ny, nz, nt, 1, 1, 1};
    nifti_set_debug_level(0);
    nifti_image *nim = nifti_make_new_nim(dims, dtype, 1);
    if (!nim) return -1;
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    double m[4][4];
    tio_affine(kind, nx, ny, m);
    nifti_dmat44 a;
    memcpy(a.m, m, sizeof m);
    nim->sform_code = 1;
    nim->sto_xyz = a;
    nim->qform_code = 1;
    double dx, dy, dz;
    nifti_dmat44_to_quatern(a, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                            &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &nim->qfac);
    nim->qto_xyz = a;
    nim->pixdim[0] = nim->qfac;
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->scl_slope = slope;
    nim->scl_inter = inter;
    for (int64_t i = 0; i < nim->nvox; i++) {
        double v = val(i, u);
        char *p = (char *)nim->data + i * nim->nbyper;
        switch (dtype) {
        case DT_UINT8: *(uint8_t *)p = (uint8_t)v; break;
        case DT_INT8: *(int8_t *)p = (int8_t)v; break;
        case DT_INT16: *(int16_t *)p = (int16_t)v; break;
        case DT_UINT16: *(uint16_t *)p = (uint16_t)v; break;
        case DT_INT32: *(int32_t *)p = (int32_t)v; break;
        case DT_UINT32: *(uint32_t *)p = (uint32_t)v; break;
        case DT_INT64: *(int64_t *)p = (int64_t)v; break;
        case DT_UINT64: *(uint64_t *)p = (uint64_t)v; break;
        case DT_FLOAT32: *(float *)p = (float)v; break;
        case DT_FLOAT64: *(double *)p = v; break;
        case DT_COMPLEX64: ((float *)p)[0] = (float)v; ((float *)p)[1] = 0; break;
        case DT_COMPLEX128: ((double *)p)[0] = 0; ((double *)p)[1] = v; break;
        case DT_RGB24: p[0] = p[1] = p[2] = (char)(uint8_t)v; break;
        default: nifti_image_free(nim); return -1;
        }
    }
    int rc = nifti_set_filenames(nim, path, 0, 1);
    if (!rc) {
        znzFile fp = nifti_image_write_hdr_img(nim, 3, "wb");
        rc = fp ? znzclose(fp) : -1;
    }
    nifti_image_free(nim);
    return rc;
}

static inline double tio_index(int64_t i, void *u) { (void)u; return (double)(i % 100); }
static inline double tio_const(int64_t i, void *u) { (void)i; return *(double *)u; }

/* A minimal valid NIfTI-1 header for an int16 volume; tests then damage it. */
static inline nifti_1_header tio_header(int nx, int ny, int nz) {
    nifti_1_header h;
    memset(&h, 0, sizeof h);
    h.sizeof_hdr = 348;
    h.dim[0] = 3; h.dim[1] = (short)nx; h.dim[2] = (short)ny; h.dim[3] = (short)nz;
    for (int i = 4; i < 8; i++) h.dim[i] = 1;
    h.datatype = DT_INT16; h.bitpix = 16;
    for (int i = 0; i < 8; i++) h.pixdim[i] = 1;
    h.vox_offset = 352;
    h.sform_code = 1;
    h.srow_x[0] = h.srow_y[1] = h.srow_z[2] = 1;
    memcpy(h.magic, "n+1", 4);
    return h;
}

/* Writes header + 4 zero extension bytes + nbytes of data (value 1 int16s)
 * plainly or gzipped. */
static inline int tio_write_raw(const char *path, const nifti_1_header *h, size_t nbytes, int gz) {
    unsigned char *buf = calloc(1, 352 + nbytes + 2);
    if (!buf) return -1;
    memcpy(buf, h, sizeof *h);
    for (size_t i = 0; i + 1 < nbytes; i += 2) buf[352 + i] = 1;
    int rc = 0;
    if (gz) {
        gzFile f = gzopen(path, "wb");
        rc = !f || gzwrite(f, buf, (unsigned)(352 + nbytes)) != (int)(352 + nbytes);
        if (f && gzclose(f) != Z_OK) rc = 1;
    } else {
        FILE *f = fopen(path, "wb");
        rc = !f || fwrite(buf, 1, 352 + nbytes, f) != 352 + nbytes;
        if (f && fclose(f)) rc = 1;
    }
    free(buf);
    return rc ? -1 : 0;
}

static inline long tio_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

static inline int tio_truncate(const char *path, long size) { return truncate(path, size); }

static inline int tio_flip_byte(const char *path, long off) {
    FILE *f = fopen(path, "r+b");
    if (!f) return -1;
    int rc = -1;
    if (fseek(f, off, SEEK_SET) == 0) {
        int c = fgetc(f);
        if (c != EOF && fseek(f, off, SEEK_SET) == 0 && fputc(c ^ 0x5a, f) != EOF) rc = 0;
    }
    if (fclose(f)) rc = -1;
    return rc;
}

static inline int tio_write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}
