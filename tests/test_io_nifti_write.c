/* NIfTI output: write an RAS volume back onto an input's grid (LPS and
 * RAS inputs, and a real case when present), read it back with libnifti and
 * compare dims, pixdim, qform/sform codes and matrices and voxels; nibabel
 * (when python3 has it) checks affine and shape; bad paths give clear errors. */
#include "io/nifti_write.h"
#include "io/volume.h"
#include "tests/test_io_data.h"
#include "tests/testutil.h"
#include <math.h>

static int nibabel_python(char *py, size_t len) {
    static const char *cands[] = {"python3", "/usr/bin/python3"};
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import nibabel' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) { snprintf(py, len, "%s", cands[i]); return 1; }
    }
    return 0;
}

/* Writes v (as read) to out and checks the result against the input file. */
static void roundtrip(const char *in, const char *out) {
    io_volume v, w;
    char err[1024];
    if (io_volume_read(in, &v, err, sizeof err)) { TU_CHECK(0, "%s", err); return; }
    TU_CHECK(io_nifti_write_ras(out, &v.geom, &v.orient, v.data, err, sizeof err) == 0, "%s", err);
    nifti_set_debug_level(0);
    nifti_image *a = nifti_image_read(in, 0), *b = nifti_image_read(out, 1);
    TU_CHECK(a && b, "libnifti reads both");
    if (a && b) {
        TU_CHECK(b->datatype == DT_FLOAT32 && b->ndim == 3, "float32 3-D");
        for (int i = 1; i <= 3; i++) TU_CHECK(a->dim[i] == b->dim[i] && fabs(a->pixdim[i] - b->pixdim[i]) < 1e-6, "dim/pixdim %d", i);
        TU_CHECK(a->qform_code == b->qform_code && a->sform_code == b->sform_code, "codes q%d/%d s%d/%d",
                 a->qform_code, b->qform_code, a->sform_code, b->sform_code);
        TU_CHECK(a->xyz_units == b->xyz_units, "units");
        double worst = 0;
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                worst = fmax(worst, fmax(fabs(a->qto_xyz.m[r][c] - b->qto_xyz.m[r][c]), fabs(a->sto_xyz.m[r][c] - b->sto_xyz.m[r][c])));
        TU_CHECK(worst < 1e-4, "qform/sform differ by %g", worst);
    }
    if (a) nifti_image_free(a);
    if (b) nifti_image_free(b);
    if (io_volume_read(out, &w, err, sizeof err) == 0) {
        size_t n = (size_t)v.dims[0] * v.dims[1] * v.dims[2];
        TU_CHECK(!memcmp(v.dims, w.dims, sizeof v.dims) && !memcmp(v.data, w.data, n * sizeof(float)), "voxels round trip");
        io_volume_free(&w);
    } else TU_CHECK(0, "%s", err);
    io_volume_free(&v);

    char py[64];
    if (!nibabel_python(py, sizeof py)) { printf("python3 nibabel not installed: nibabel check skipped\n"); return; }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import sys, nibabel as nb, numpy as np\n"
             "a, b = nb.load(sys.argv[1]), nb.load(sys.argv[2])\n"
             "ok = a.shape == b.shape and np.allclose(a.affine, b.affine, atol=1e-4)\n"
             "print(\"nibabel:\", a.shape, b.shape, \"affines equal\" if ok else \"AFFINES DIFFER\")\n"
             "sys.exit(0 if ok else 1)' '%s' '%s'", py, in, out);
    TU_CHECK(system(cmd) == 0, "nibabel affine/shape check of %s", out);
}

static void test_roundtrip(void) {
    char in[700], out[700];
    const char *dir = tu_tmpdir();
    int kinds[3] = {TIO_RAS, TIO_LPS, TIO_PERM};
    for (int k = 0; k < 3; k++) {
        snprintf(in, sizeof in, "%s/in%d.nii.gz", dir, k);
        snprintf(out, sizeof out, "%s/out%d.nii%s", dir, k, k == 1 ? "" : ".gz");
        TU_CHECK(tio_write(in, DT_INT16, 7, 6, 5, 1, kinds[k], 1, 0, tio_index, NULL) == 0, "write input");
        roundtrip(in, out);
    }
    const char *root = tu_brats_sample();
    if (root) {
        snprintf(in, sizeof in, "%s/Brats18_TCIA_DU_7294/Brats18_TCIA_DU_7294_t2.nii.gz", root);
        snprintf(out, sizeof out, "%s/Brats18_TCIA_DU_7294_t1ce.nii.gz", dir);
        roundtrip(in, out);
    }
}

static void test_errors(void) {
    io_geom g;
    memset(&g, 0, sizeof g);
    g.dim[0] = 3; g.dim[1] = g.dim[2] = g.dim[3] = 2;
    g.pixdim[1] = g.pixdim[2] = g.pixdim[3] = 1;
    float data[8] = {0};
    char err[1024] = "";
    TU_CHECK(io_nifti_write("/nonexistent-dir/out.nii.gz", &g, data, err, sizeof err) == -1 && strstr(err, "/nonexistent-dir"),
             "missing folder: %s", err);
    err[0] = 0;
    TU_CHECK(io_nifti_write("/proc/out.nii.gz", &g, data, err, sizeof err) == -1 && strstr(err, "/proc/out.nii.gz"), "unwritable: %s", err);
    char p[700];
    snprintf(p, sizeof p, "%s/out.img", tu_tmpdir());
    err[0] = 0;
    TU_CHECK(io_nifti_write(p, &g, data, err, sizeof err) == -1 && strstr(err, ".nii"), "extension: %s", err);
    /* no temp files left behind */
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '^\\.tmp-'", tu_tmpdir());
    TU_CHECK(system(cmd) != 0, "temp files left in %s", tu_tmpdir());
}

int main(void) {
    test_roundtrip();
    test_errors();
    return tu_finish("test_io_nifti_write");
}
