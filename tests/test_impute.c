/* ctest (issue 6): `vkmist impute` with a config-`test` model trained for a
 * few iterations on a small phantom: a case folder -> the missing modality
 * named in the folder's scheme, on the inputs' grid (dims, voxel size,
 * qform/sform, read back with libnifti, and nibabel when python3 has it),
 * zero outside the inputs' brain in the stored order (so the reorientation
 * back from RAS is checked on LPS and RAS cases), values in [0, 1]; explicit
 * files with --target; every refused input with its message and nothing
 * written; ref:/seed: styles differ from the mean style; a BraTS sample
 * case with one file removed (temp folder of symlinks). */
#include <math.h>
#include <nifti2_io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "io/discover.h"
#include "io/preprocess.h"
#include "io/volume.h"
#include "tests/testutil.h"
#include "train/checkpoint.h"
#include "train/impute.h"
#include "train/trainer.h"

static char ckpt[800];

static double voxel(const nifti_image *n, size_t i) {
    double v;
    switch (n->datatype) {
    case NIFTI_TYPE_INT16: v = ((const int16_t *)n->data)[i]; break;
    case NIFTI_TYPE_UINT8: v = ((const uint8_t *)n->data)[i]; break;
    case NIFTI_TYPE_FLOAT32: v = ((const float *)n->data)[i]; break;
    case NIFTI_TYPE_FLOAT64: v = ((const double *)n->data)[i]; break;
    default: return NAN;
    }
    return n->scl_slope != 0 && isfinite(n->scl_slope) ? v * n->scl_slope + n->scl_inter : v;
}

/* The output on the inputs' grid, float32 in [0,1], zero wherever no input
 * is > 0 (stored order: a wrong reorientation back would show here). */
static void check_output(const char *out, const char *const in[3], const char *what) {
    nifti_set_debug_level(0);
    nifti_image *o = nifti_image_read(out, 1), *i[3] = {NULL, NULL, NULL};
    TU_CHECK(o != NULL, "%s: cannot read %s", what, out);
    for (int k = 0; k < 3; k++) i[k] = nifti_image_read(in[k], 1);
    if (!o || !i[0] || !i[1] || !i[2]) goto done;
    const nifti_image *r = i[0];
    TU_CHECK(o->datatype == NIFTI_TYPE_FLOAT32, "%s: datatype %d", what, o->datatype);
    TU_CHECK(o->nx == r->nx && o->ny == r->ny && o->nz == r->nz, "%s: dims %lldx%lldx%lld vs %lldx%lldx%lld", what,
             (long long)o->nx, (long long)o->ny, (long long)o->nz, (long long)r->nx, (long long)r->ny, (long long)r->nz);
    TU_CHECK(fabs(o->dx - r->dx) < 1e-5 && fabs(o->dy - r->dy) < 1e-5 && fabs(o->dz - r->dz) < 1e-5, "%s: pixdim", what);
    TU_CHECK(o->qform_code == r->qform_code && o->sform_code == r->sform_code, "%s: codes q %d/%d s %d/%d", what,
             o->qform_code, r->qform_code, o->sform_code, r->sform_code);
    TU_CHECK(o->xyz_units == r->xyz_units, "%s: units", what);
    double worst = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            worst = fmax(worst, fabs(o->qto_xyz.m[a][b] - r->qto_xyz.m[a][b]));
            if (r->sform_code > 0) worst = fmax(worst, fabs(o->sto_xyz.m[a][b] - r->sto_xyz.m[a][b]));
        }
    TU_CHECK(worst < 1e-4, "%s: affine differs by %g", what, worst);
    if (o->nvox != r->nvox) goto done;
    size_t outside = 0, bad = 0, pos = 0;
    for (size_t v = 0; v < (size_t)o->nvox; v++) {
        double x = voxel(o, v);
        bad += !(x >= 0 && x <= 1);
        pos += x > 0;
        if (x != 0 && !(voxel(i[0], v) > 0 || voxel(i[1], v) > 0 || voxel(i[2], v) > 0)) outside++;
    }
    TU_CHECK(bad == 0, "%s: %zu voxels outside [0, 1]", what, bad);
    TU_CHECK(outside == 0, "%s: %zu nonzero voxels outside the inputs' brain", what, outside);
    TU_CHECK(pos > (size_t)o->nvox / 50, "%s: only %zu voxels > 0", what, pos);
    /* nibabel's view of the affine, when the system python has it */
    if (system("/usr/bin/python3 -c 'import nibabel' >/dev/null 2>&1") == 0) {
        char cmd[3000];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"import nibabel as n,numpy as p,sys;a=n.load('%s');b=n.load('%s');"
                 "sys.exit(0 if a.shape==b.shape and p.allclose(a.affine,b.affine,atol=1e-4) else 1)\"",
                 out, in[0]);
        TU_CHECK(system(cmd) == 0, "%s: nibabel sees another shape or affine", what);
    }
done:
    nifti_image_free(o);
    for (int k = 0; k < 3; k++) nifti_image_free(i[k]);
}

/* dir/<case files of src except domain skip> as symlinks. */
static void link_case(const io_case *c, const char *dir, int skip) {
    mkdir(dir, 0755);
    for (int d = 0; d < 4; d++) {
        if (d == skip) continue;
        char dst[1200];
        const char *base = strrchr(c->path[d], '/');
        snprintf(dst, sizeof dst, "%s%s", dir, base);
        TU_CHECK(symlink(c->path[d], dst) == 0, "symlink %s", dst);
    }
}

/* A copy of the checkpoint with one metadata value replaced (NULL: dropped). */
static int rewrite_ckpt(const char *src, const char *dst, const char *key, const char *value) {
    static const char *const keys[] = {"format", "config", "step", "seed", "batch", "iters", "hyper", "config_json",
                                       "normalization", "split", "rng", "program_version"};
    char err[512];
    ckpt_reader *r = ckpt_open(src, err, sizeof err);
    ckpt_writer *w = ckpt_begin();
    if (!r || !w) return -1;
    for (int i = 0; i < ckpt_count(r); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(r, i);
        ckpt_add(w, t->name, t->dtype, t->data, t->shape, t->ndim);
    }
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *v = strcmp(keys[k], key) ? ckpt_meta_get(r, keys[k]) : value;
        if (v) ckpt_meta(w, keys[k], v);
    }
    int rc = ckpt_write(w, dst, err, sizeof err);
    ckpt_free(w);
    ckpt_close(r);
    return rc;
}

static float *read_ras(const char *path, size_t *n) {
    io_volume v;
    char err[512];
    *n = 0;
    if (io_volume_read(path, &v, err, sizeof err)) return NULL;
    *n = (size_t)v.dims[0] * v.dims[1] * v.dims[2];
    return v.data; /* owned by the caller now */
}

static double max_diff(const char *a, const char *b) {
    size_t na, nb;
    float *x = read_ras(a, &na), *y = read_ras(b, &nb);
    double m = x && y && na == nb ? 0 : -1;
    for (size_t i = 0; m >= 0 && i < na; i++) m = fmax(m, fabs(x[i] - y[i]));
    free(x);
    free(y);
    return m;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* Only the given names (no temp files) in a folder. */
static int count_files(const char *dir) {
    char cmd[1200], buf[64];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = p && fgets(buf, sizeof buf, p) ? atoi(buf) : -1;
    if (p) pclose(p);
    return n;
}

static void errors(const char *T, const io_caselist *cl, const char *data) {
    char args[3000], out[8192], dir[900], bad[900];
    const io_case *c = &cl->cases[1];
    /* two of four: which ones are missing */
    snprintf(dir, sizeof dir, "%s/two", T);
    mkdir(dir, 0755);
    for (int d = 0; d < 2; d++) {
        char dst[1200];
        snprintf(dst, sizeof dst, "%s%s", dir, strrchr(c->path[d], '/'));
        TU_CHECK(symlink(c->path[d], dst) == 0, "symlink");
    }
    snprintf(args, sizeof args, "impute --model %s --case %s", ckpt, dir);
    int rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "missing: t2, flair"), "two inputs: exit %d: %s", rc, out);
    TU_CHECK(count_files(dir) == 2, "two inputs: something was written in %s", dir);
    /* all four, no --target */
    snprintf(args, sizeof args, "impute --model %s --case %s", ckpt, c->dir);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "--target"), "four inputs, no target: exit %d: %s", rc, out);
    /* all four with --target but the default name is the target's own file */
    snprintf(args, sizeof args, "impute --model %s --case %s --target t2", ckpt, c->dir);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "would replace"), "overwriting an input: exit %d: %s", rc, out);
    /* --target that is not the missing one */
    snprintf(dir, sizeof dir, "%s/c_noflair", T);
    snprintf(args, sizeof args, "impute --model %s --case %s --target t2", ckpt, dir);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "missing modality is flair"), "wrong target: exit %d: %s", rc, out);
    /* a nonexistent input file */
    snprintf(args, sizeof args, "impute --model %s --t1 %s --t1ce %s/nope_t1ce.nii.gz --t2 %s --out %s/x.nii.gz", ckpt,
             c->path[0], T, c->path[2], T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "t1ce input") && strstr(out, "No such file"), "missing file: exit %d: %s", rc, out);
    /* inputs on different grids: t2 from the coarser second phantom */
    io_caselist other;
    char err[512], odata[900];
    snprintf(odata, sizeof odata, "%s/phantom48", T);
    if (io_discover(odata, &other, err, sizeof err) == 0 && other.n > 0) {
        snprintf(args, sizeof args, "impute --model %s --t1 %s --t1ce %s --t2 %s --out %s/x.nii.gz", ckpt, c->path[0],
                 c->path[1], other.cases[0].path[2], T);
        rc = tu_run_cli(args, out, sizeof out);
        TU_CHECK(rc == 1 && strstr(out, "not on one grid") && strstr(out, "dims"), "grid mismatch: exit %d: %s", rc, out);
        io_caselist_free(&other);
    } else {
        TU_CHECK(0, "second phantom: %s", err);
    }
    snprintf(bad, sizeof bad, "%s/x.nii.gz", T);
    TU_CHECK(!exists(bad), "a failed run left %s", bad);
    /* checkpoints: damaged, another version, another config */
    snprintf(bad, sizeof bad, "%s/damaged.safetensors", T);
    snprintf(args, sizeof args, "cp %s %s", ckpt, bad);
    TU_CHECK(system(args) == 0, "cp");
    FILE *f = fopen(bad, "r+b");
    if (f) {
        fseek(f, -200, SEEK_END);
        int ch = fgetc(f);
        fseek(f, -200, SEEK_END);
        fputc(ch ^ 0x55, f);
        fclose(f);
    }
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/y.nii.gz", bad, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "damaged.safetensors"), "damaged checkpoint: exit %d: %s", rc, out);
    printf("damaged checkpoint: %s", out);
    snprintf(bad, sizeof bad, "%s/oldformat.safetensors", T);
    TU_CHECK(rewrite_ckpt(ckpt, bad, "format", "vkmist-mist-0") == 0, "rewrite");
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/y.nii.gz", bad, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "of this version"), "old format: exit %d: %s", rc, out);
    snprintf(bad, sizeof bad, "%s/otherconfig.safetensors", T);
    TU_CHECK(rewrite_ckpt(ckpt, bad, "config", "tiny") == 0, "rewrite");
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/y.nii.gz", bad, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "does not match config 'tiny'"), "other config: exit %d: %s", rc, out);
    /* tensors of config test under the name tiny and no config_json to tell */
    char bad2[900];
    snprintf(bad2, sizeof bad2, "%s/otherconfig2.safetensors", T);
    TU_CHECK(rewrite_ckpt(bad, bad2, "config_json", NULL) == 0, "rewrite");
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/y.nii.gz", bad2, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "does not fit config 'tiny'"), "other config, no config_json: exit %d: %s", rc, out);
    printf("checkpoint of another config: %s", out);
    snprintf(bad, sizeof bad, "%s/y.nii.gz", T);
    TU_CHECK(!exists(bad), "a refused checkpoint left %s", bad);
    /* unwritable output paths */
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/no/such/dir/z.nii.gz", ckpt, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "does not exist"), "missing output folder: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "impute --model %s --case %s --out %s/z.png", ckpt, dir, T);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, ".nii or .nii.gz"), "bad extension: exit %d: %s", rc, out);
    if (access("/proc/version", W_OK) != 0) {
        snprintf(args, sizeof args, "impute --model %s --case %s --out /proc/z.nii.gz", ckpt, dir);
        rc = tu_run_cli(args, out, sizeof out);
        TU_CHECK(rc == 1 && strstr(out, "cannot write"), "unwritable folder: exit %d: %s", rc, out);
    }
    /* usage errors */
    snprintf(args, sizeof args, "impute --model %s --case %s --style bogus", ckpt, dir);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 2 && strstr(out, "--style expects"), "bad style: exit %d: %s", rc, out);
    snprintf(args, sizeof args, "impute --case %s", dir);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 2 && strstr(out, "--model"), "no model: exit %d: %s", rc, out);
    TU_CHECK(count_files(dir) == 3, "the refused runs wrote into %s", dir);
    (void)data;
}

/* The chain RAS slices -> generator -> restore -> stored orientation ->
 * file, read back and sliced again, gives the generator's own slices
 * (up to the bilinear/box resampling), whatever the storage order; a
 * flipped or transposed write would not. */
static void roundtrip(vkm_ctx *ctx, const io_case *c, const char *outfile, const char *what) {
    mist_imputer m;
    char err[2048];
    TU_CHECK(mist_imputer_open(&m, ckpt, ctx, -1, err, sizeof err) == 0, "%s", err);
    if (tu_failures) return;
    io_volume v[4], o;
    memset(v, 0, sizeof v);
    int ok = 1;
    for (int d = 0; d < 3; d++) ok &= io_volume_read(c->path[d], &v[d], err, sizeof err) == 0;
    ok &= io_volume_read(outfile, &o, err, sizeof err) == 0;
    TU_CHECK(ok, "%s: %s", what, err);
    int img = m.cfg.img, *d = v[0].dims, z = d[2] / 2;
    size_t n = (size_t)d[0] * d[1] * d[2], px = (size_t)img * img;
    float *four = calloc(4 * px, sizeof *four), *y = malloc(px * sizeof *y), *back = malloc(px * sizeof *back);
    for (int k = 0; ok && k < 3; k++) {
        io_normalize(v[k].data, n, m.norm);
        io_slice_extract(v[k].data, d, z, img, four + k * px);
    }
    ok = ok && mist_imputer_run(&m, 3, four, 1, m.mean_style + 3 * m.cfg.style_dim, y, err, sizeof err) == 0;
    mist_mask_to_inputs(y, four, 1, img, 3);
    TU_CHECK(ok, "%s: %s", what, err);
    if (ok) io_slice_extract(o.data, o.dims, z, img, back);
    /* correlation of y with the re-read slice, as is and mirrored */
    double best_other = -1, same = 0;
    for (int flip = 0; ok && flip < 4; flip++) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int r = 0; r < img; r++)
            for (int q = 0; q < img; q++) {
                int rr = flip & 1 ? img - 1 - r : r, qq = flip & 2 ? img - 1 - q : q;
                double a = y[r * img + q], b = back[rr * img + qq];
                sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
            }
        double N = (double)px, cov = sxy / N - sx * sy / (N * N);
        double corr = cov / sqrt((sxx / N - sx * sx / (N * N)) * (syy / N - sy * sy / (N * N)) + 1e-30);
        if (flip == 0) same = corr;
        else if (corr > best_other) best_other = corr;
    }
    TU_CHECK(ok && same > 0.9 && same > best_other + 0.05, "%s: generator slice vs re-read output: corr %.3f (mirrored %.3f)",
             what, same, best_other);
    printf("round trip %s: corr(generator slice, re-read output slice) %.3f, best mirrored %.3f\n", what, same, best_other);
    free(four), free(y), free(back);
    for (int k = 0; k < 3; k++) io_volume_free(&v[k]);
    io_volume_free(&o);
    mist_imputer_close(&m);
}

/* Styles: ref:FILE and seed:N differ from the mean (library calls on one device). */
static void styles(const char *T, const io_caselist *cl, vkm_ctx *ctx) {
    char dir[900], a[900], b[900], c[900], err[2048];
    snprintf(dir, sizeof dir, "%s/c_noflair", T);
    mist_impute_opts o;
    mist_impute_defaults(&o);
    o.model = ckpt;
    o.case_dir = dir;
    o.ctx = ctx;
    mist_impute_result r;
    snprintf(a, sizeof a, "%s/mean.nii.gz", T);
    o.out = a;
    TU_CHECK(mist_impute(&o, &r, err, sizeof err) == 0, "mean: %s", err);
    snprintf(b, sizeof b, "%s/ref.nii.gz", T);
    o.out = b;
    char spec[1100];
    snprintf(spec, sizeof spec, "ref:%s", cl->cases[2].path[3]);
    TU_CHECK(mist_style_parse(spec, &o.style, err, sizeof err) == 0, "%s", err);
    TU_CHECK(mist_impute(&o, &r, err, sizeof err) == 0, "ref: %s", err);
    snprintf(c, sizeof c, "%s/seed.nii.gz", T);
    o.out = c;
    TU_CHECK(mist_style_parse("seed:7", &o.style, err, sizeof err) == 0, "%s", err);
    TU_CHECK(mist_impute(&o, &r, err, sizeof err) == 0, "seed: %s", err);
    double dr = max_diff(a, b), ds = max_diff(a, c);
    TU_CHECK(dr > 1e-4, "ref: style gives the mean-style output (max diff %g)", dr);
    TU_CHECK(ds > 1e-4, "seed: style gives the mean-style output (max diff %g)", ds);
    printf("styles: max |ref - mean| %.4f, max |seed - mean| %.4f\n", dr, ds);
    /* deterministic: the mean style again gives the same volume */
    snprintf(b, sizeof b, "%s/mean2.nii.gz", T);
    o.out = b;
    TU_CHECK(mist_style_parse("mean", &o.style, err, sizeof err) == 0, "%s", err);
    TU_CHECK(mist_impute(&o, &r, err, sizeof err) == 0, "mean again: %s", err);
    TU_CHECK(max_diff(a, b) == 0, "mean style is not deterministic (%g)", max_diff(a, b));
    /* a reference of the wrong kind of file */
    TU_CHECK(mist_style_parse("ref:/nonexistent.nii.gz", &o.style, err, sizeof err) == 0, "%s", err);
    snprintf(b, sizeof b, "%s/refbad.nii.gz", T);
    o.out = b;
    TU_CHECK(mist_impute(&o, &r, err, sizeof err) != 0 && strstr(err, "style reference") && !exists(b),
             "missing style reference: %s", err);
}

static void brats(const char *T) {
    const char *s = tu_brats_sample();
    if (!s) {
        printf("BraTS sample not found: skipped\n");
        return;
    }
    io_caselist cl;
    char err[512], out[8192], args[3000], dir[900], expect[1200];
    TU_CHECK(io_discover(s, &cl, err, sizeof err) == 0, "%s", err);
    int done[2] = {0, 0};
    for (int i = 0; i < cl.n; i++) {
        const io_case *c = &cl.cases[i];
        int sch = c->scheme == IO_SCHEME_BRATS23;
        if (done[sch]) continue;
        done[sch] = 1;
        int skip = sch ? 3 : 1; /* 2023: t2f, 2018: t1ce */
        snprintf(dir, sizeof dir, "%s/brats_%d", T, i);
        link_case(c, dir, skip);
        snprintf(args, sizeof args, "impute --model %s --case %s", ckpt, dir);
        int rc = tu_run_cli(args, out, sizeof out);
        char name[300];
        io_case_file_name(c, skip, name, sizeof name);
        snprintf(expect, sizeof expect, "%s/%s", dir, name);
        TU_CHECK(rc == 0 && exists(expect), "BraTS %s: exit %d, no %s: %s", c->id, rc, expect, out);
        printf("BraTS %s: %s", sch ? "2023" : "2018", out);
        TU_CHECK(strstr(name, sch ? "-t2f.nii" : "_t1ce.nii") != NULL, "BraTS name %s", name);
        const char *in[3];
        for (int d = 0, k = 0; d < 4; d++)
            if (d != skip) in[k++] = c->path[d];
        if (rc == 0) check_output(expect, in, c->id);
    }
    io_caselist_free(&cl);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *T = tu_tmpdir();
    char err[2048], data[700], run[700];
    tu_private_cache();
    snprintf(data, sizeof data, "%s/phantom", T);
    TU_CHECK(tu_phantom(data, 4, 64, 24, err, sizeof err) == 0, "phantom: %s", err);
    char data48[700];
    snprintf(data48, sizeof data48, "%s/phantom48", T);
    TU_CHECK(tu_phantom(data48, 1, 48, 24, err, sizeof err) == 0, "phantom 48: %s", err);

    snprintf(run, sizeof run, "%s/run", T);
    mist_trainer_opts to = mist_trainer_defaults();
    to.data_dir = data;
    to.run_dir = run;
    to.config = "test";
    to.opts.iters = 3;
    to.ckpt_every = 3;
    to.sample_every = 0;
    to.quiet = 1;
    TU_CHECK(mist_train(&to, err, sizeof err) == 0, "train: %s", err);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt/step_00000003.safetensors", run);
    io_caselist cl;
    TU_CHECK(io_discover(data, &cl, err, sizeof err) == 0 && cl.n == 4, "discover: %s", err);
    if (tu_failures) return tu_finish("test_impute");

    vkm_opts vo = vkm_default_opts();
    vkm_ctx *ctx = NULL;
    TU_CHECK(vkm_ctx_create(&vo, &ctx, err, sizeof err) == 0, "device: %s", err);
    if (!ctx) return tu_finish("test_impute");
    /* case folders without FLAIR, one stored LPS and one RAS when the phantom has both */
    char args[3000], out[8192], dir[900], expect[1200], png[900];
    int seen[2] = {0, 0};
    for (int i = 0; i < cl.n; i++) {
        const io_case *c = &cl.cases[i];
        io_volume v;
        char code[4] = "?";
        if (io_volume_read(c->path[0], &v, err, sizeof err) == 0) io_orient_code(&v.orient, code);
        io_volume_free(&v);
        int lps = !strcmp(code, "LPS");
        if (seen[lps]) continue;
        seen[lps] = 1;
        snprintf(dir, sizeof dir, "%s/c%d", T, i);
        link_case(c, dir, 3);
        snprintf(png, sizeof png, "%s/preview%d.png", T, i);
        snprintf(args, sizeof args, "impute --model %s --case %s --preview %s", ckpt, dir, png);
        int rc = tu_run_cli(args, out, sizeof out);
        snprintf(expect, sizeof expect, "%s/%s_flair.nii.gz", dir, c->id);
        TU_CHECK(rc == 0 && exists(expect) && strstr(out, " s -> "), "case folder (%s): exit %d: %s", code, rc, out);
        TU_CHECK(exists(png), "no preview %s", png);
        printf("case folder, stored %s: %s", code, out);
        const char *in[3] = {c->path[0], c->path[1], c->path[2]};
        if (rc == 0) check_output(expect, in, code);
        if (rc == 0) roundtrip(ctx, c, expect, code);
    }
    /* the error cases and styles use case 1 without FLAIR */
    snprintf(dir, sizeof dir, "%s/c_noflair", T);
    link_case(&cl.cases[1], dir, 3);

    /* explicit files, all four, --target t2, --out a folder: named in the scheme */
    const io_case *c = &cl.cases[2];
    char odir[900];
    snprintf(odir, sizeof odir, "%s/outdir", T);
    mkdir(odir, 0755);
    snprintf(args, sizeof args, "impute --model %s --t1 %s --t1ce %s --t2 %s --flair %s --target t2 --out %s", ckpt,
             c->path[0], c->path[1], c->path[2], c->path[3], odir);
    int rc = tu_run_cli(args, out, sizeof out);
    snprintf(expect, sizeof expect, "%s/%s_t2.nii.gz", odir, c->id);
    TU_CHECK(rc == 0 && exists(expect), "explicit files + --target: exit %d: %s", rc, out);
    const char *in4[3] = {c->path[0], c->path[1], c->path[3]};
    if (rc == 0) check_output(expect, in4, "explicit --target t2");
    /* three explicit files, --out a file name */
    snprintf(expect, sizeof expect, "%s/plain.nii", T);
    snprintf(args, sizeof args, "impute --model %s --t1ce %s --t2 %s --flair %s --out %s", ckpt, c->path[1], c->path[2],
             c->path[3], expect);
    rc = tu_run_cli(args, out, sizeof out);
    TU_CHECK(rc == 0 && exists(expect) && strstr(out, "imputed t1"), "explicit three, --out file: exit %d: %s", rc, out);
    const char *in3[3] = {c->path[1], c->path[2], c->path[3]};
    if (rc == 0) check_output(expect, in3, "explicit three -> t1");

    rc = tu_run_cli("impute --help", out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "usage: vkmist impute"), "--help: exit %d: %s", rc, out);
    errors(T, &cl, data);
    styles(T, &cl, ctx);
    vkm_ctx_destroy(ctx);
    brats(T);
    io_caselist_free(&cl);
    return tu_finish("test_impute");
}
