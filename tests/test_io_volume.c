/* NIfTI reading: every datatype with scl_slope/scl_inter, RAS reorientation
 * (RAS, LPS, permuted, oblique, qform-only) and its inverse, 4-D channels,
 * and a clear error for each kind of bad input. */
#include "io/volume.h"
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <math.h>

static char path_buf[1024];
static const char *tpath(const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", tu_tmpdir(), name);
    return path_buf;
}

static void test_datatypes(void) {
    static const int types[] = {DT_UINT8, DT_INT8, DT_INT16, DT_UINT16, DT_INT32, DT_UINT32, DT_INT64,
                                DT_UINT64, DT_FLOAT32, DT_FLOAT64, DT_COMPLEX64, DT_COMPLEX128, DT_RGB24};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const char *p = tpath("dt.nii.gz");
        TU_CHECK(tio_write(p, types[t], 5, 4, 3, 1, TIO_RAS, 2.0, -1.0, tio_index, NULL) == 0, "write dt %d", types[t]);
        io_volume v;
        char err[512];
        if (io_volume_read(p, &v, err, sizeof err)) { TU_CHECK(0, "dt %d: %s", types[t], err); continue; }
        TU_CHECK(v.dims[0] == 5 && v.dims[1] == 4 && v.dims[2] == 3, "dims");
        TU_CHECK(v.geom.datatype == types[t], "datatype recorded");
        int bad = 0;
        for (int i = 0; i < 60; i++) bad += fabsf(v.data[i] - (float)(2.0 * (i % 100) - 1.0)) > 1e-3f;
        TU_CHECK(!bad, "dt %d: %d voxels wrong (v[7] = %g)", types[t], bad, v.data[7]);
        io_volume_free(&v);
    }
    /* slope 0 means "no scaling" */
    const char *p = tpath("noscale.nii");
    TU_CHECK(tio_write(p, DT_INT16, 4, 4, 4, 1, TIO_RAS, 0.0, 5.0, tio_index, NULL) == 0, "write");
    io_volume v;
    char err[512];
    TU_CHECK(io_volume_read(p, &v, err, sizeof err) == 0, "%s", err);
    if (v.data) TU_CHECK(v.data[9] == 9.0f, "slope 0 ignored: %g", v.data[9]);
    io_volume_free(&v);
}

/* stored (i,j,k) value of tio_index on a 5x4x3 grid */
static float stored_at(int i, int j, int k) { return (float)((i + 5 * j + 20 * k) % 100); }

static void test_orientation(void) {
    char err[512];
    const int nx = 5, ny = 4, nz = 3;
    struct { int kind; const char *code; int oblique; } cases[] = {
        {TIO_RAS, "RAS", 0}, {TIO_LPS, "LPS", 0}, {TIO_PERM, "ARS", 0}, {TIO_OBLIQUE, "RAS", 1}};
    for (int c = 0; c < 4; c++) {
        const char *p = tpath("orient.nii.gz");
        TU_CHECK(tio_write(p, DT_FLOAT32, nx, ny, nz, 1, cases[c].kind, 1, 0, tio_index, NULL) == 0, "write");
        io_volume v;
        if (io_volume_read(p, &v, err, sizeof err)) { TU_CHECK(0, "%s", err); continue; }
        char code[4];
        io_orient_code(&v.orient, code);
        TU_CHECK(!strcmp(code, cases[c].code), "kind %d: code %s, want %s", c, code, cases[c].code);
        TU_CHECK(v.orient.oblique == cases[c].oblique, "oblique flag");
        int bad = 0;
        for (int k = 0; k < nz; k++)
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++) {
                    /* where stored (i,j,k) must land in RAS */
                    int x = i, y = j;
                    if (cases[c].kind == TIO_LPS) { x = nx - 1 - i; y = ny - 1 - j; }
                    if (cases[c].kind == TIO_PERM) { x = j; y = i; }
                    int rx = v.dims[0], ry = v.dims[1];
                    bad += v.data[x + rx * (y + ry * k)] != stored_at(i, j, k);
                }
        TU_CHECK(!bad, "kind %d: %d voxels misplaced", c, bad);
        /* the inverse gives the stored order back */
        float *back = malloc(sizeof(float) * nx * ny * nz);
        io_reorient_from_ras(v.data, v.dims, &v.orient, back);
        bad = 0;
        for (int k = 0; k < nz; k++)
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++) bad += back[i + nx * (j + ny * k)] != stored_at(i, j, k);
        TU_CHECK(!bad, "kind %d: inverse wrong in %d voxels", c, bad);
        free(back);
        io_volume_free(&v);
    }
    /* qform only (sform_code 0): LPS from the quaternion */
    io_geom g;
    memset(&g, 0, sizeof g);
    g.qform_code = 1;
    g.qto_xyz[0][0] = -1; g.qto_xyz[1][1] = -1; g.qto_xyz[2][2] = 1; g.qto_xyz[3][3] = 1;
    g.sto_xyz[0][0] = g.sto_xyz[1][1] = g.sto_xyz[2][2] = 1; /* ignored: code 0 */
    io_orient o;
    io_orient_from_geom(&g, &o);
    char code[4];
    io_orient_code(&o, code);
    TU_CHECK(!strcmp(code, "LPS"), "qform-only orientation %s", code);
}

static void test_channels(void) {
    char err[512];
    const char *p = tpath("four.nii.gz");
    TU_CHECK(tio_write(p, DT_INT16, 3, 3, 2, 4, TIO_RAS, 1, 0, tio_index, NULL) == 0, "write 4-D");
    int ch[4] = {1, 2, 3, 0};
    io_volume v[4];
    TU_CHECK(io_volume_read_channels(p, 4, ch, v, err, sizeof err) == 0, "%s", err);
    for (int d = 0; d < 4; d++) {
        TU_CHECK(v[d].data && v[d].data[1] == (float)(ch[d] * 18 + 1), "channel %d value %g", ch[d], v[d].data ? v[d].data[1] : -1);
        io_volume_free(&v[d]);
    }
    io_volume x;
    err[0] = 0;
    TU_CHECK(io_volume_read(p, &x, err, sizeof err) == -1 && strstr(err, "3-D volume is expected"), "4-D as 3-D: %s", err);
    int ch5[1] = {4};
    err[0] = 0;
    TU_CHECK(io_volume_read_channels(p, 1, ch5, &x, err, sizeof err) == -1 && strstr(err, "at least 5 channels"), "channel out of range: %s", err);
}

/* Expects io_volume_read(path) to fail with `want` in the message. */
static void expect_error(const char *path, const char *want) {
    io_volume v;
    char err[512] = "";
    int rc = io_volume_read(path, &v, err, sizeof err);
    TU_CHECK(rc == -1, "%s should fail (%s)", path, want);
    if (rc == 0) { io_volume_free(&v); return; }
    TU_CHECK(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
    TU_CHECK(strstr(err, path) != NULL, "message '%s' names no file", err);
}

/* Damage number `which` of the table in test_errors. */
static void damage(nifti_1_header *h, int which) {
    switch (which) {
    case 0: h->dim[2] = 0; break;
    case 1: h->dim[3] = -5; break;
    case 2: h->dim[1] = 30000; break;
    case 3: h->dim[1] = h->dim[2] = h->dim[3] = 8000; break;
    case 4: h->pixdim[1] = NAN; break;
    case 5: h->pixdim[3] = 0; break;
    case 6: h->dim[0] = 9; break;
    case 7: h->sform_code = 77; break;
    case 8: h->srow_x[3] = INFINITY; break;
    case 9: h->qform_code = 1; h->quatern_b = NAN; break;
    case 10: h->dim[1] = h->dim[2] = h->dim[3] = 1000; break;  /* 2 GB claimed, 128 bytes there */
    default: h->datatype = 7;
    }
}

static void test_errors(void) {
    expect_error(tpath("does-not-exist.nii.gz"), "No such file");
    tio_write_text(tpath("text.nii"), "this is not a NIfTI file, just some text that is long enough to be read as a header\n"
                                      "........................................................................................"
                                      "........................................................................................"
                                      "........................................................................................");
    expect_error(tpath("text.nii"), "not a NIfTI file");
    tio_write_text(tpath("short.nii"), "tiny");
    expect_error(tpath("short.nii"), "not a NIfTI file");

    /* truncated gzip and truncated plain data */
    double one = 1;
    TU_CHECK(tio_write(tpath("big.nii.gz"), DT_FLOAT32, 40, 40, 40, 1, TIO_RAS, 1, 0, tio_const, &one) == 0, "write");
    TU_CHECK(tio_truncate(tpath("big.nii.gz"), tio_file_size(tpath("big.nii.gz")) / 2) == 0, "truncate");
    expect_error(tpath("big.nii.gz"), "truncated");
    TU_CHECK(tio_write(tpath("big.nii"), DT_FLOAT32, 20, 20, 20, 1, TIO_RAS, 1, 0, tio_const, &one) == 0, "write");
    TU_CHECK(tio_truncate(tpath("big.nii"), 352 + 1000) == 0, "truncate");
    expect_error(tpath("big.nii"), "truncated");
    TU_CHECK(tio_write(tpath("four.nii"), DT_INT16, 3, 3, 2, 2, TIO_RAS, 1, 0, tio_index, NULL) == 0, "write");
    expect_error(tpath("four.nii"), "a 3-D volume is expected");

    static const struct { const char *name, *want; } bad[] = {
        {"zero_dim", "dim[2] = 0"}, {"neg_dim", "dim[3] = -5"}, {"huge_dim", "implausibly large"},
        {"overflow", "implausibly large"}, {"nan_pixdim", "pixdim[1] = nan"}, {"zero_pixdim", "pixdim[3] = 0"},
        {"ndim", "dim[0] = 9"}, {"sform_code", "sform_code = 77"}, {"srow", "srow_x[3] = inf"},
        {"quatern", "quatern_b = nan"}, {"claims_2gb", "truncated"}, {"dtype", "unsupported NIfTI datatype 7"}};
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        nifti_1_header h = tio_header(4, 4, 4);
        damage(&h, i);
        char name[64];
        snprintf(name, sizeof name, "bad_%s.nii.gz", bad[i].name);
        TU_CHECK(tio_write_raw(tpath(name), &h, 128, 1) == 0, "write raw");
        expect_error(tpath(name), bad[i].want);
    }
    /* a valid raw header reads, also byte-swapped (big-endian file) */
    nifti_1_header h = tio_header(4, 4, 4);
    TU_CHECK(tio_write_raw(tpath("raw_ok.nii"), &h, 128, 0) == 0, "write raw");
    io_volume v;
    char err[512];
    TU_CHECK(io_volume_read(tpath("raw_ok.nii"), &v, err, sizeof err) == 0, "raw ok: %s", err);
    if (v.data) TU_CHECK(v.data[0] == 1.0f, "raw value %g", v.data[0]);
    io_volume_free(&v);
    swap_nifti_header(&h, 1);
    TU_CHECK(tio_write_raw(tpath("raw_be.nii"), &h, 128, 0) == 0, "write raw");
    /* int16 value 1 written little-endian reads as 256 big-endian */
    TU_CHECK(io_volume_read(tpath("raw_be.nii"), &v, err, sizeof err) == 0, "big-endian: %s", err);
    if (v.data) TU_CHECK(v.data[0] == 256.0f, "big-endian value %g", v.data[0]);
    io_volume_free(&v);
}

static double nan_some(int64_t i, void *u) { (void)u; return i == 3 ? NAN : i == 10 ? INFINITY : 1.0; }
static double too_big(int64_t i, void *u) { (void)u; return i == 5 ? 1e300 : i == 6 ? -1e300 : 2.0; }

static void test_nonfinite(void) {
    TU_CHECK(tio_write(tpath("nan.nii"), DT_FLOAT32, 4, 4, 4, 1, TIO_RAS, 1, 0, nan_some, NULL) == 0, "write");
    io_volume v;
    char err[512];
    TU_CHECK(io_volume_read(tpath("nan.nii"), &v, err, sizeof err) == 0, "%s", err);
    if (!v.data) return;
    /* libnifti itself zeroes NaN/Inf of float files while loading (so they
     * cannot be counted); what matters is that none gets through */
    TU_CHECK(v.data[3] == 0 && v.data[10] == 0 && v.data[4] == 1, "replaced by 0");
    io_volume_free(&v);
    /* float64 values beyond float32 range become Inf: zeroed and counted */
    TU_CHECK(tio_write(tpath("big.nii"), DT_FLOAT64, 4, 4, 4, 1, TIO_RAS, 1, 0, too_big, NULL) == 0, "write");
    TU_CHECK(io_volume_read(tpath("big.nii"), &v, err, sizeof err) == 0, "%s", err);
    if (!v.data) return;
    TU_CHECK(v.n_nonfinite == 2, "non-finite count %lld", (long long)v.n_nonfinite);
    TU_CHECK(v.data[5] == 0 && v.data[6] == 0 && v.data[4] == 2, "replaced by 0");
    io_volume_free(&v);
}

static void test_real(void) {
    const char *root = tu_brats_sample();
    if (!root) { printf("brats sample not found: real-data checks skipped\n"); return; }
    char p18[1024], p23[1024], err[512];
    snprintf(p18, sizeof p18, "%s/Brats18_TCIA_DU_7294/Brats18_TCIA_DU_7294_t1.nii.gz", root);
    snprintf(p23, sizeof p23, "%s/BraTS-MET-AURORA-000/BraTS-MET-AURORA-000-t1n.nii.gz", root);
    io_volume a, b;
    TU_CHECK(io_volume_read(p18, &a, err, sizeof err) == 0, "%s", err);
    TU_CHECK(io_volume_read(p23, &b, err, sizeof err) == 0, "%s", err);
    if (!a.data || !b.data) return;
    char ca[4], cb[4];
    io_orient_code(&a.orient, ca);
    io_orient_code(&b.orient, cb);
    TU_CHECK(a.dims[0] == 240 && a.dims[1] == 240 && a.dims[2] == 155, "BraTS 2018 dims");
    TU_CHECK(b.dims[0] == 240 && b.dims[1] == 240 && b.dims[2] == 155, "BraTS 2023 dims");
    printf("stored orientation: BraTS 2018 %s, BraTS 2023 %s\n", ca, cb);
    TU_CHECK(!strcmp(ca, "LPS") && !strcmp(cb, "RAS"), "sample orientations %s %s", ca, cb);
    /* after reorientation both heads are the same way up: the brain's centre
     * of mass lies in the same half of each RAS axis */
    for (int axis = 0; axis < 2; axis++) {
        double ma = 0, mb = 0, wa = 0, wb = 0;
        for (int z = 0; z < 155; z++)
            for (int y = 0; y < 240; y++)
                for (int x = 0; x < 240; x++) {
                    size_t i = x + 240 * (y + 240 * (size_t)z);
                    double c = axis == 0 ? x : y;
                    if (a.data[i] > 0) { ma += c; wa++; }
                    if (b.data[i] > 0) { mb += c; wb++; }
                }
        printf("axis %d: centre of brain %.1f vs %.1f\n", axis, ma / wa, mb / wb);
        TU_CHECK(fabs(ma / wa - mb / wb) < 30, "heads aligned along axis %d", axis);
    }
    io_volume_free(&a);
    io_volume_free(&b);
}

int main(void) {
    test_datatypes();
    test_orientation();
    test_channels();
    test_errors();
    test_nonfinite();
    test_real();
    return tu_finish("test_io_volume");
}
