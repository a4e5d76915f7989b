/* NIfTI reading, geometry and RAS reorientation (see volume.h).
 *
 * Before libnifti sees a file we read and check its header ourselves: libnifti
 * answers most problems with a NULL and a line on stderr, and would try to
 * allocate whatever absurd size a damaged header claims. Our check (dims,
 * pixdim, datatype, xform codes and matrices, and the image fitting the file)
 * names the exact problem and field; libnifti then does the real reading
 * (vox_offset, extensions, byte swapping, gzip) with its own messages
 * silenced. */
#include "io/volume.h"
#include "io/util.h"
#include <errno.h>
#include <math.h>
#include <nifti2_io.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* The header fields we validate, from either NIfTI version. */
typedef struct {
    int version;
    int pair;              /* "ni1"/"ni2": the data is in a separate .img file */
    int datatype;
    int64_t dim[8];
    double pixdim[8];
    double vox_offset;
    int qform_code, sform_code;
    double quat[6];        /* quatern_b, c, d, qoffset_x, y, z */
    double srow[12];
} raw_hdr;

/* The fields both header versions name alike (n: a nifti_1/2_header). */
#define COPY_COMMON(h, n) do { \
    (h)->datatype = (n).datatype; \
    for (int i_ = 0; i_ < 8; i_++) { (h)->dim[i_] = (n).dim[i_]; (h)->pixdim[i_] = (n).pixdim[i_]; } \
    (h)->vox_offset = (double)(n).vox_offset; \
    (h)->qform_code = (n).qform_code; (h)->sform_code = (n).sform_code; \
    const double q_[6] = {(n).quatern_b, (n).quatern_c, (n).quatern_d, (n).qoffset_x, (n).qoffset_y, (n).qoffset_z}; \
    memcpy((h)->quat, q_, sizeof q_); \
    for (int i_ = 0; i_ < 4; i_++) { \
        (h)->srow[i_] = (n).srow_x[i_]; (h)->srow[4 + i_] = (n).srow_y[i_]; (h)->srow[8 + i_] = (n).srow_z[i_]; } \
} while (0)

/* Deflate never compresses better than 1032:1, so a gzip file of n bytes
 * holds at most about 1032 n bytes; the slack covers gzip's own headers. */
#define GZ_MAX_RATIO 1032
#define GZ_SLACK 65536

static int32_t bswap32(int32_t v) {
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24));
}

static int read_raw_header(const char *path, raw_hdr *h, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) return io_err(err, errlen, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return io_err(err, errlen, "%s: not a regular file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return io_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[540];
    int got = gzread(gz, buf, sizeof buf);
    int zerr = 0;
    const char *zmsg = got < 0 ? gzerror(gz, &zerr) : NULL;
    char zcopy[128] = "";
    if (zmsg) snprintf(zcopy, sizeof zcopy, "%s", zmsg);
    gzclose(gz);
    if (got < 0) return io_err(err, errlen, "%s: not readable as NIfTI (gzip: %s)", path, zcopy);
    if (got < 348) return io_err(err, errlen, "%s: not a NIfTI file (only %d bytes, a header needs 348)", path, got);
    int32_t sz;
    memcpy(&sz, buf, 4);
    int swapped = 0;
    if (sz != 348 && sz != 540) { sz = bswap32(sz); swapped = 1; }
    memset(h, 0, sizeof *h);
    if (sz == 348) {
        nifti_1_header n1;
        memcpy(&n1, buf, sizeof n1);
        if (swapped) swap_nifti_header(&n1, 1);
        if (memcmp(n1.magic, "n+1", 4) && memcmp(n1.magic, "ni1", 4))
            return io_err(err, errlen, "%s: not a NIfTI file (no NIfTI-1 magic; Analyze files are not supported)", path);
        h->version = 1;
        h->pair = n1.magic[1] == 'i';
        COPY_COMMON(h, n1);
    } else if (sz == 540) {
        if (got < 540) return io_err(err, errlen, "%s: truncated NIfTI-2 header (%d of 540 bytes)", path, got);
        nifti_2_header n2;
        memcpy(&n2, buf, sizeof n2);
        if (swapped) swap_nifti_header(&n2, 2);
        if (memcmp(n2.magic, "n+2", 4) && memcmp(n2.magic, "ni2", 4))
            return io_err(err, errlen, "%s: not a NIfTI file (no NIfTI-2 magic)", path);
        h->version = 2;
        h->pair = n2.magic[1] == 'i';
        COPY_COMMON(h, n2);
    } else {
        return io_err(err, errlen, "%s: not a NIfTI file (header size field is not 348 or 540)", path);
    }
    return 0;
}

/* Checks dims/pixdim/datatype; need4 = number of channels required along
 * dim 4 (0 = a 3-D volume is expected). */
static int check_header(const char *path, const raw_hdr *h, int need4, char *err, size_t errlen) {
    int64_t nd = h->dim[0];
    if (nd < 1 || nd > 7) return io_err(err, errlen, "%s: invalid header: dim[0] = %lld (number of dimensions must be 1..7)", path, (long long)nd);
    if (nd < 3) return io_err(err, errlen, "%s: %lld-D image, a 3-D volume is expected", path, (long long)nd);
    for (int i = 1; i <= nd; i++)
        if (h->dim[i] <= 0)
            return io_err(err, errlen, "%s: invalid header: dim[%d] = %lld (must be > 0)", path, i, (long long)h->dim[i]);
    for (int i = 1; i <= 3; i++)
        if (h->dim[i] > IO_MAX_DIM)
            return io_err(err, errlen, "%s: invalid header: dim[%d] = %lld is implausibly large (limit %d)", path, i, (long long)h->dim[i], IO_MAX_DIM);
    int64_t extra = 1;
    for (int i = 4; i <= nd; i++) {
        if (h->dim[i] > IO_MAX_DIM) return io_err(err, errlen, "%s: invalid header: dim[%d] = %lld is implausibly large", path, i, (long long)h->dim[i]);
        extra *= h->dim[i];
    }
    /* each factor <= IO_MAX_DIM = 2^13, so nx*ny*nz <= 2^39 cannot overflow */
    int64_t nvox = h->dim[1] * h->dim[2] * h->dim[3];
    if (nvox > IO_MAX_VOXELS)
        return io_err(err, errlen, "%s: invalid header: %lldx%lldx%lld = %lld voxels is implausibly large (limit %lld)", path,
                      (long long)h->dim[1], (long long)h->dim[2], (long long)h->dim[3], (long long)nvox, (long long)IO_MAX_VOXELS);
    if (need4 == 0) {
        if (extra != 1)
            return io_err(err, errlen, "%s: %lld-D image (%lld volumes), a 3-D volume is expected", path, (long long)nd, (long long)extra);
    } else {
        if (nd < 4 || h->dim[4] < need4)
            return io_err(err, errlen, "%s: expected a 4-D image with at least %d channels, found %lld", path, need4,
                          (long long)(nd < 4 ? 1 : h->dim[4]));
        if (extra != h->dim[4])
            return io_err(err, errlen, "%s: %lld-D image, a 4-D image (x, y, z, channel) is expected", path, (long long)nd);
        if (nvox * extra > 4 * IO_MAX_VOXELS)
            return io_err(err, errlen, "%s: invalid header: %lld voxels in all is implausibly large", path, (long long)(nvox * extra));
    }
    for (int i = 1; i <= 3; i++)
        if (!isfinite(h->pixdim[i]) || h->pixdim[i] <= 0 || h->pixdim[i] > 1e6)
            return io_err(err, errlen, "%s: invalid header: pixdim[%d] = %g (voxel size must be finite and > 0)", path, i, h->pixdim[i]);
    if (!isfinite(h->vox_offset) || h->vox_offset < 0)
        return io_err(err, errlen, "%s: invalid header: vox_offset = %g", path, h->vox_offset);
    if (!nifti_is_valid_datatype(h->datatype) || h->datatype == DT_BINARY)
        return io_err(err, errlen, "%s: unsupported NIfTI datatype %d", path, h->datatype);
    /* the geometry is copied into every output written on this grid */
    if (h->qform_code < NIFTI_XFORM_UNKNOWN || h->qform_code > NIFTI_XFORM_TEMPLATE_OTHER)
        return io_err(err, errlen, "%s: invalid header: qform_code = %d (must be 0..5)", path, h->qform_code);
    if (h->sform_code < NIFTI_XFORM_UNKNOWN || h->sform_code > NIFTI_XFORM_TEMPLATE_OTHER)
        return io_err(err, errlen, "%s: invalid header: sform_code = %d (must be 0..5)", path, h->sform_code);
    for (int i = 0; h->qform_code > 0 && i < 6; i++)
        if (!isfinite(h->quat[i]))
            return io_err(err, errlen, "%s: invalid header: %s = %g (qform must be finite)", path,
                          (const char *const[]){"quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z"}[i], h->quat[i]);
    for (int i = 0; h->sform_code > 0 && i < 12; i++)
        if (!isfinite(h->srow[i]))
            return io_err(err, errlen, "%s: invalid header: srow_%c[%d] = %g (sform must be finite)", path, "xyz"[i / 4], i % 4, h->srow[i]);
    return 0;
}

/* The most image bytes the data file can hold (its size, or the gzip bound),
 * so a small or truncated file claiming a huge image is refused before
 * libnifti allocates what the header claims. */
static int data_capacity(const char *file, uint64_t *cap, char *err, size_t errlen) {
    struct stat st;
    if (stat(file, &st) != 0) return io_err(err, errlen, "%s: image data file: %s", file, strerror(errno));
    if (!S_ISREG(st.st_mode)) return io_err(err, errlen, "%s: image data file is not a regular file", file);
    gzFile gz = gzopen(file, "rb");
    if (!gz) return io_err(err, errlen, "%s: cannot open: %s", file, strerror(errno));
    char b;
    int got = gzread(gz, &b, 1);
    int direct = got >= 0 && gzdirect(gz);
    gzclose(gz);
    uint64_t size = (uint64_t)st.st_size;
    *cap = direct ? size : size * GZ_MAX_RATIO + GZ_SLACK;
    return 0;
}

/* The header's image (vox_offset + voxels x bytes per voxel) must fit the
 * data file: the single file itself, or the .img of a header/image pair. */
static int check_data_size(const char *path, const raw_hdr *h, char *err, size_t errlen) {
    int nbyper = 0, swapsize = 0;
    nifti_datatype_sizes(h->datatype, &nbyper, &swapsize);
    if (nbyper <= 0) return io_err(err, errlen, "%s: unsupported NIfTI datatype %d", path, h->datatype);
    /* check_header allowed at most 4 x IO_MAX_VOXELS voxels in all */
    uint64_t nvox = 1;
    for (int i = 1; i <= h->dim[0]; i++) nvox *= (uint64_t)h->dim[i];
    double need = h->vox_offset + (double)nvox * nbyper;
    char *img = NULL;
    const char *file = path;
    if (h->pair) {
        img = nifti_findimgname(path, h->version == 1 ? NIFTI_FTYPE_NIFTI1_2 : NIFTI_FTYPE_NIFTI2_2);
        if (!img) return io_err(err, errlen, "%s: header of a .hdr/.img pair, but no image file next to it", path);
        file = img;
    }
    uint64_t cap = 0;
    int rc = data_capacity(file, &cap, err, errlen);
    if (!rc && need > (double)cap)
        rc = io_err(err, errlen, "%s: truncated: the header (dims x %d-byte datatype %d, vox_offset %g) needs %.0f bytes, %s holds at most %llu",
                    path, nbyper, h->datatype, h->vox_offset, need, file, (unsigned long long)cap);
    free(img);
    return rc;
}

#define CONVERT(T, EXPR) do { const T *s = (const T *)src; \
    for (size_t i = 0; i < n; i++) dst[i] = (double)(EXPR); } while (0)

/* src: n voxels of datatype dt -> doubles in dst (temporarily the
 * precision of the wider types; then scaled and narrowed to float). */
static int convert(const void *src, int dt, size_t n, double *dst) {
    switch (dt) {
    case DT_UINT8: CONVERT(uint8_t, s[i]); break;
    case DT_INT8: CONVERT(int8_t, s[i]); break;
    case DT_INT16: CONVERT(int16_t, s[i]); break;
    case DT_UINT16: CONVERT(uint16_t, s[i]); break;
    case DT_INT32: CONVERT(int32_t, s[i]); break;
    case DT_UINT32: CONVERT(uint32_t, s[i]); break;
    case DT_INT64: CONVERT(int64_t, s[i]); break;
    case DT_UINT64: CONVERT(uint64_t, s[i]); break;
    case DT_FLOAT32: CONVERT(float, s[i]); break;
    case DT_FLOAT64: CONVERT(double, s[i]); break;
    case DT_FLOAT128: CONVERT(long double, s[i]); break;
    case DT_COMPLEX64: CONVERT(float, hypot(s[2 * i], s[2 * i + 1])); break;
    case DT_COMPLEX128: CONVERT(double, hypot(s[2 * i], s[2 * i + 1])); break;
    case DT_COMPLEX256: CONVERT(long double, hypotl(s[2 * i], s[2 * i + 1])); break;
    case DT_RGB24: CONVERT(uint8_t, 0.299 * s[3 * i] + 0.587 * s[3 * i + 1] + 0.114 * s[3 * i + 2]); break;
    case DT_RGBA32: CONVERT(uint8_t, 0.299 * s[4 * i] + 0.587 * s[4 * i + 1] + 0.114 * s[4 * i + 2]); break;
    default: return -1;
    }
    return 0;
}

static void fill_geom(const nifti_image *nim, io_geom *g) {
    memset(g, 0, sizeof *g);
    g->dim[0] = 3;
    for (int i = 1; i <= 3; i++) g->dim[i] = nim->dim[i];
    for (int i = 4; i < 8; i++) g->dim[i] = 1;
    for (int i = 0; i < 8; i++) g->pixdim[i] = nim->pixdim[i];
    g->pixdim[0] = nim->qfac;
    for (int i = 4; i < 8; i++) g->pixdim[i] = 0;
    g->datatype = nim->datatype;
    g->qform_code = nim->qform_code;
    g->sform_code = nim->sform_code;
    g->quatern_b = nim->quatern_b; g->quatern_c = nim->quatern_c; g->quatern_d = nim->quatern_d;
    g->qoffset_x = nim->qoffset_x; g->qoffset_y = nim->qoffset_y; g->qoffset_z = nim->qoffset_z;
    g->qfac = nim->qfac;
    memcpy(g->qto_xyz, nim->qto_xyz.m, sizeof g->qto_xyz);
    memcpy(g->sto_xyz, nim->sto_xyz.m, sizeof g->sto_xyz);
    g->xyz_units = nim->xyz_units;
    g->time_units = nim->time_units;
}

void io_geom_affine(const io_geom *g, double a[4][4]) {
    memcpy(a, g->sform_code > 0 ? g->sto_xyz : g->qto_xyz, sizeof(double) * 16);
}

void io_orient_from_geom(const io_geom *g, io_orient *o) {
    double a[4][4];
    io_geom_affine(g, a);
    /* direction cosines of each stored axis (columns), normalised */
    double c[3][3];
    for (int col = 0; col < 3; col++) {
        double len = 0;
        for (int r = 0; r < 3; r++) len += a[r][col] * a[r][col];
        len = sqrt(len);
        for (int r = 0; r < 3; r++) c[r][col] = len > 0 && isfinite(len) ? a[r][col] / len : (r == col);
    }
    int used_r[3] = {0, 0, 0}, used_c[3] = {0, 0, 0};
    o->oblique = 0;
    for (int k = 0; k < 3; k++) {
        int br = -1, bc = -1;
        double best = -1;
        for (int r = 0; r < 3; r++)
            for (int col = 0; col < 3; col++)
                if (!used_r[r] && !used_c[col] && fabs(c[r][col]) > best) { best = fabs(c[r][col]); br = r; bc = col; }
        used_r[br] = used_c[bc] = 1;
        o->axis[bc] = br;
        o->flip[bc] = c[br][bc] < 0;
        if (best < 1 - 1e-4) o->oblique = 1;
    }
}

void io_orient_code(const io_orient *o, char code[4]) {
    static const char pos[3] = {'R', 'A', 'S'}, neg[3] = {'L', 'P', 'I'};
    for (int c = 0; c < 3; c++) code[c] = o->flip[c] ? neg[o->axis[c]] : pos[o->axis[c]];
    code[3] = 0;
}

/* Walks the stored grid and copies to/from the RAS array (to_ras selects). */
static void reorient(float *stored, const int dims[3], const io_orient *o, float *ras, int to_ras) {
    int rd[3];
    for (int c = 0; c < 3; c++) rd[o->axis[c]] = dims[c];
    int64_t rstride[3] = {1, rd[0], (int64_t)rd[0] * rd[1]};
    int64_t step[3], start = 0;
    for (int c = 0; c < 3; c++) {
        int64_t s = rstride[o->axis[c]];
        step[c] = o->flip[c] ? -s : s;
        if (o->flip[c]) start += (int64_t)(dims[c] - 1) * s;
    }
    size_t si = 0;
    for (int k = 0; k < dims[2]; k++) {
        int64_t ok = start + k * step[2];
        for (int j = 0; j < dims[1]; j++) {
            int64_t oj = ok + j * step[1];
            if (to_ras)
                for (int i = 0; i < dims[0]; i++, si++) ras[oj + i * step[0]] = stored[si];
            else
                for (int i = 0; i < dims[0]; i++, si++) stored[si] = ras[oj + i * step[0]];
        }
    }
}

void io_reorient_to_ras(const float *src, const int dims[3], const io_orient *o, float *dst, int ras_dims[3]) {
    for (int c = 0; c < 3; c++) ras_dims[o->axis[c]] = dims[c];
    reorient((float *)src, dims, o, dst, 1); /* src is only read when to_ras */
}

void io_reorient_from_ras(const float *ras, const int ras_dims[3], const io_orient *o, float *dst) {
    int dims[3];
    for (int c = 0; c < 3; c++) dims[c] = ras_dims[o->axis[c]];
    reorient(dst, dims, o, (float *)ras, 0); /* ras is only read when !to_ras */
}

static int close_enough(double a, double b) {
    return fabs(a - b) <= 1e-3 + 1e-4 * fmax(fabs(a), fabs(b));
}

int io_geom_compare(const io_geom *a, const io_geom *b, char *what, size_t whatlen) {
    for (int i = 1; i <= 3; i++)
        if (a->dim[i] != b->dim[i])
            return io_err(what, whatlen, "dims %lldx%lldx%lld vs %lldx%lldx%lld",
                          (long long)a->dim[1], (long long)a->dim[2], (long long)a->dim[3],
                          (long long)b->dim[1], (long long)b->dim[2], (long long)b->dim[3]);
    for (int i = 1; i <= 3; i++)
        if (!close_enough(a->pixdim[i], b->pixdim[i]))
            return io_err(what, whatlen, "voxel size pixdim[%d] %g vs %g", i, a->pixdim[i], b->pixdim[i]);
    double ma[4][4], mb[4][4];
    io_geom_affine(a, ma);
    io_geom_affine(b, mb);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            if (!close_enough(ma[r][c], mb[r][c]))
                return io_err(what, whatlen, "voxel-to-world affine entry [%d][%d] %g vs %g", r, c, ma[r][c], mb[r][c]);
    return 0;
}

/* Loads a file checked by check_header(need4) and converts the requested
 * channels (channel -1 = the single 3-D volume). */
static int load(const char *path, int need4, int n, const int *channels, io_volume *vols, char *err, size_t errlen) {
    memset(vols, 0, sizeof *vols * (size_t)n); /* freeing after a failure is always safe */
    raw_hdr h;
    if (read_raw_header(path, &h, err, errlen) || check_header(path, &h, need4, err, errlen) ||
        check_data_size(path, &h, err, errlen))
        return -1;
    nifti_set_debug_level(0); /* our messages replace libnifti's stderr output */
    nifti_image *nim = nifti_image_read(path, 0);
    if (!nim) return io_err(err, errlen, "%s: libnifti could not read the header (damaged or not NIfTI)", path);
    if (nifti_image_load(nim) != 0 || !nim->data) {
        int64_t want = nim->nvox * nim->nbyper;
        nifti_image_free(nim);
        return io_err(err, errlen, "%s: image data truncated or unreadable (%lld bytes expected after the header)", path, (long long)want);
    }
    int dims[3] = {(int)nim->nx, (int)nim->ny, (int)nim->nz};
    size_t nvox = (size_t)dims[0] * dims[1] * dims[2];
    double slope = nim->scl_slope, inter = nim->scl_inter;
    int scale = isfinite(slope) && slope != 0;
    if (!scale) { slope = 1; inter = 0; }
    if (!isfinite(inter)) inter = 0;
    double *tmp = malloc(nvox * sizeof *tmp);
    float *stored = malloc(nvox * sizeof *stored);
    int rc = 0, done = 0;
    if (!tmp || !stored) { rc = io_err(err, errlen, "%s: out of memory for %zu voxels", path, nvox); goto out; }
    for (; done < n; done++) {
        int ch = channels ? channels[done] : 0;
        io_volume *v = &vols[done];
        memset(v, 0, sizeof *v);
        const char *base = (const char *)nim->data + (size_t)ch * nvox * (size_t)nim->nbyper;
        if (convert(base, nim->datatype, nvox, tmp) != 0) {
            rc = io_err(err, errlen, "%s: unsupported NIfTI datatype %d", path, nim->datatype);
            break;
        }
        for (size_t i = 0; i < nvox; i++) {
            double x = tmp[i] * slope + inter;
            float f = (float)x;
            if (!isfinite(f)) { f = 0; v->n_nonfinite++; }
            stored[i] = f;
        }
        fill_geom(nim, &v->geom);
        io_orient_from_geom(&v->geom, &v->orient);
        v->data = malloc(nvox * sizeof(float));
        if (!v->data) { rc = io_err(err, errlen, "%s: out of memory", path); break; }
        io_reorient_to_ras(stored, dims, &v->orient, v->data, v->dims);
    }
    if (rc) for (int i = 0; i <= done && i < n; i++) io_volume_free(&vols[i]);
out:
    free(tmp);
    free(stored);
    nifti_image_free(nim);
    return rc;
}

int io_volume_read(const char *path, io_volume *v, char *err, size_t errlen) {
    return load(path, 0, 1, NULL, v, err, errlen);
}

int io_volume_read_channels(const char *path, int n, const int *channels, io_volume *vols,
                            char *err, size_t errlen) {
    if (n <= 0 || n > 64) return io_err(err, errlen, "%s: invalid channel count %d", path, n);
    memset(vols, 0, sizeof *vols * (size_t)n);
    int need = 0;
    for (int i = 0; i < n; i++) {
        if (channels[i] < 0 || channels[i] >= IO_MAX_DIM) return io_err(err, errlen, "%s: channel index %d out of range", path, channels[i]);
        if (channels[i] + 1 > need) need = channels[i] + 1;
    }
    return load(path, need, n, channels, vols, err, errlen);
}

void io_volume_free(io_volume *v) {
    if (!v) return;
    free(v->data);
    v->data = NULL;
}
