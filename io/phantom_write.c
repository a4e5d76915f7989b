/* Writes the phantom data set: DIR/Phantom_NNN/Phantom_NNN_{t1,t1ce,t2,flair,seg}.nii.gz
 * (libnifti, int16 images, uint8 BraTS labels, gzip level 1), a sidecar
 * JSON per case and DIR/phantom.json (written last, so its presence means
 * the set is complete). Every file goes to a temp name and is renamed. */
#include "io/phantom_internal.h"
#include "io/util.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <nifti2_io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int make_dirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return io_err(err, errlen, "path too long: %s", path);
    for (char *s = buf + 1;; s++) {
        int end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            struct stat st;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return io_err(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
                return io_err(err, errlen, "%s exists and is not a directory", buf);
            if (end) break;
            *s = '/';
        }
    }
    return 0;
}

static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

/* Voxel-to-world affine of a site's storage order. Both orders map a
 * canonical voxel to the same world point; LPS matches BraTS 2018 headers
 * (srow diag(-1,-1,1), offset (0, 239, 0)). */
static nifti_dmat44 site_affine(const io_ph_site *s, int nx, int ny, double dx, double dy, double dz) {
    nifti_dmat44 R;
    memset(&R, 0, sizeof R);
    R.m[0][0] = (s->lps ? -dx : dx);
    R.m[1][1] = (s->lps ? -dy : dy);
    R.m[2][2] = dz;
    R.m[0][3] = (s->lps ? 0 : -(nx - 1) * dx);
    R.m[1][3] = (s->lps ? (ny - 1) * dy : 0);
    R.m[3][3] = 1;
    return R;
}

static int write_nifti(const char *path, void *data, int datatype, int nx, int ny, int nz,
                       const io_ph_site *site, char *err, size_t errlen) {
    char tmp[4200];
    if (io_tmp_name(tmp, sizeof tmp, path)) return io_err(err, errlen, "path too long: %s", path);
    int64_t dims[8] = {3, nx, ny, nz, 1, 1, 1, 1};
    nifti_set_debug_level(0); /* errors come back through err, not libnifti's stderr */
    nifti_image *nim = nifti_make_new_nim(dims, datatype, 0);
    if (!nim) return io_err(err, errlen, "cannot create a NIfTI header for %s", path);
    double dx = IO_PH_FOV_X / nx, dy = IO_PH_FOV_Y / ny, dz = IO_PH_FOV_Z / nz;
    nim->dx = nim->pixdim[1] = dx;
    nim->dy = nim->pixdim[2] = dy;
    nim->dz = nim->pixdim[3] = dz;
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->time_units = NIFTI_UNITS_SEC;
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    nim->scl_slope = 1; /* as BraTS files have it (0 also means "unscaled", but not to every reader) */
    nim->scl_inter = 0;
    nifti_dmat44 R = site_affine(site, nx, ny, dx, dy, dz);
    nim->sform_code = site->sform_code;
    nim->sto_xyz = R;
    nim->sto_ijk = nifti_dmat44_inverse(R);
    nim->qform_code = site->qform_code;
    double qdx, qdy, qdz;
    nifti_dmat44_to_quatern(R, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                            &nim->qoffset_y, &nim->qoffset_z, &qdx, &qdy, &qdz, &nim->qfac);
    nim->pixdim[0] = nim->qfac;
    nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x,
                                           nim->qoffset_y, nim->qoffset_z, qdx, qdy, qdz, nim->qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    snprintf(nim->descrip, sizeof nim->descrip, "vkmist phantom");
    int rc = -1;
    errno = 0;
    if (nifti_set_filenames(nim, tmp, 0, 1) == 0) {
        nim->data = data;
        znzFile fp = nifti_image_write_hdr_img2(nim, 3, "wb1", NULL, NULL); /* data, leave open */
        nim->data = NULL;
        if (!znz_isnull(fp) && znzclose(fp) == 0) rc = 0;
    }
    nifti_image_free(nim);
    struct stat st;
    if (rc == 0 && stat(tmp, &st) == 0 && st.st_size > 348 && rename(tmp, path) == 0) return 0;
    unlink(tmp);
    return io_err(err, errlen, "cannot write %s: %s", path, errno ? strerror(errno) : "NIfTI write failed");
}

static double r3(double v) { return round(v * 1000) / 1000; }

static cJSON *seq_json(const io_ph_seq *s) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "sequence", s->ti > 0 ? "inversion_recovery" : "spin_echo");
    cJSON_AddNumberToObject(j, "tr_ms", r3(s->tr));
    cJSON_AddNumberToObject(j, "te_ms", r3(s->te));
    if (s->ti > 0) cJSON_AddNumberToObject(j, "ti_ms", r3(s->ti));
    return j;
}

static cJSON *site_json(const io_ph_site *s) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "index", s->index);
    cJSON_AddNumberToObject(j, "field_tesla", s->field_t);
    cJSON_AddStringToObject(j, "storage", s->lps ? "LPS" : "RAS");
    cJSON_AddNumberToObject(j, "qform_code", s->qform_code);
    cJSON_AddNumberToObject(j, "sform_code", s->sform_code);
    cJSON_AddNumberToObject(j, "bias_strength", r3(s->bias));
    cJSON *p = cJSON_AddObjectToObject(j, "protocol");
    for (int m = 0; m < IO_PH_NMOD; m++) {
        cJSON *q = seq_json(&s->seq[m]);
        cJSON_AddNumberToObject(q, "wm_level", r3(s->level[m]));
        cJSON_AddNumberToObject(q, "snr_wm", r3(s->snr[m]));
        cJSON_AddItemToObject(p, io_ph_modality_name(m), q);
    }
    return j;
}

static cJSON *case_json(const io_phantom_case *c, const char *name, const io_phantom_opts *o) {
    const io_ph_case_info *ci = &c->info;
    cJSON *j = cJSON_CreateObject();
    char hex[24];
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddNumberToObject(j, "index", ci->index);
    cJSON_AddNumberToObject(j, "dataset_seed", (double)o->seed);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)ci->seed);
    cJSON_AddStringToObject(j, "case_seed", hex);
    cJSON_AddNumberToObject(j, "site", ci->site.index);
    cJSON_AddItemToObject(j, "site_info", site_json(&ci->site));
    cJSON *p = cJSON_AddObjectToObject(j, "protocol");
    for (int m = 0; m < IO_PH_NMOD; m++) {
        cJSON *q = seq_json(&ci->seq[m]);
        cJSON_AddNumberToObject(q, "wm_level", r3(ci->level[m]));
        cJSON_AddNumberToObject(q, "noise_sigma", r3(ci->sigma[m]));
        if (m == IO_PH_T1CE) {
            cJSON_AddNumberToObject(q, "gd_mM", r3(ci->gd_mM));
            cJSON_AddNumberToObject(q, "r1_per_mM_s", r3(ci->r1));
        }
        cJSON_AddItemToObject(p, io_ph_modality_name(m), q);
    }
    /* per-tissue ground truth: relaxation, voxel count and mean intensity */
    size_t n = (size_t)c->nx * c->ny * c->nz, count[IO_PH_NTISSUE] = {0};
    double sum[IO_PH_NTISSUE][IO_PH_NMOD] = {{0}};
    for (size_t i = 0; i < n; i++) {
        uint8_t t = c->label[i];
        count[t]++;
        for (int m = 0; m < IO_PH_NMOD; m++) sum[t][m] += c->vol[m][i];
    }
    cJSON *ts = cJSON_AddObjectToObject(j, "tissues");
    for (int t = 1; t < IO_PH_NTISSUE; t++) {
        cJSON *q = cJSON_AddObjectToObject(ts, io_ph_tissue_name(t));
        cJSON_AddNumberToObject(q, "t1_ms", r3(ci->tissue[t].t1));
        cJSON_AddNumberToObject(q, "t2_ms", r3(ci->tissue[t].t2));
        cJSON_AddNumberToObject(q, "pd", r3(ci->tissue[t].pd));
        cJSON_AddNumberToObject(q, "voxels", (double)count[t]);
        cJSON *mean = cJSON_AddObjectToObject(q, "mean");
        for (int m = 0; m < IO_PH_NMOD; m++)
            cJSON_AddNumberToObject(mean, io_ph_modality_name(m), count[t] ? r3(sum[t][m] / (double)count[t]) : 0);
    }
    cJSON *a = cJSON_AddObjectToObject(j, "anatomy");
    cJSON_AddItemToObject(a, "radii_mm", cJSON_CreateDoubleArray((double[]){r3(ci->radii[0]), r3(ci->radii[1]), r3(ci->radii[2])}, 3));
    cJSON_AddNumberToObject(a, "cortex_mm", r3(ci->cortex_mm));
    cJSON_AddNumberToObject(a, "outer_csf_mm", r3(ci->csf_mm));
    cJSON_AddNumberToObject(a, "sulcus_depth_mm", r3(ci->sulcus_mm));
    cJSON_AddNumberToObject(a, "ventricle_half_width_mm", r3(ci->ventricle[0]));
    cJSON_AddNumberToObject(a, "gyral_spacing_mm", r3(ci->gyrus_mm));
    cJSON_AddNumberToObject(a, "gyri", ci->ngyri);
    cJSON *tu = cJSON_AddArrayToObject(j, "tumours");
    for (int k = 0; k < ci->ntumour; k++) {
        const io_ph_tumour *t = &ci->tumour[k];
        cJSON *q = cJSON_CreateObject();
        /* mm in RAS from the volume centre */
        cJSON_AddItemToObject(q, "centre_ras_mm", cJSON_CreateDoubleArray((double[]){r3(t->c[0]), r3(t->c[1]), r3(t->c[2])}, 3));
        cJSON_AddStringToObject(q, "kind", t->enhancing ? "enhancing" : "non_enhancing");
        cJSON_AddNumberToObject(q, "core_radius_mm", r3(t->r_core));
        cJSON_AddNumberToObject(q, "necrosis_radius_mm", r3(t->r_necrosis));
        cJSON_AddNumberToObject(q, "edema_radius_mm", r3(t->r_edema));
        cJSON_AddItemToArray(tu, q);
    }
    cJSON *f = cJSON_AddObjectToObject(j, "files");
    char buf[160];
    for (int m = 0; m <= IO_PH_NMOD; m++) {
        const char *mn = m < IO_PH_NMOD ? io_ph_modality_name(m) : "seg";
        snprintf(buf, sizeof buf, "%s_%s.nii.gz", name, mn);
        cJSON_AddStringToObject(f, mn, buf);
    }
    return j;
}

static int write_json(const char *path, cJSON *j, char *err, size_t errlen) {
    char tmp[4200];
    char *s = cJSON_Print(j);
    if (!s) return io_err(err, errlen, "out of memory printing %s", path);
    if (io_tmp_name(tmp, sizeof tmp, path)) { free(s); return io_err(err, errlen, "path too long: %s", path); }
    FILE *fp = fopen(tmp, "wb");
    int ok = fp && fputs(s, fp) >= 0 && fputc('\n', fp) != EOF;
    if (fp && fclose(fp) != 0) ok = 0;
    free(s);
    if (ok && rename(tmp, path) == 0) return 0;
    int e = errno;
    unlink(tmp);
    return io_err(err, errlen, "cannot write %s: %s", path, strerror(e));
}

/* Canonical RAS -> the site's storage order (flip x and y for LPS). */
static void to_storage(const io_phantom_case *c, const void *src, void *dst, size_t elem) {
    int nx = c->nx, ny = c->ny, nz = c->nz, lps = c->info.site.lps;
    const char *s = src;
    char *d = dst;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++) {
            int ys = lps ? ny - 1 - y : y;
            for (int x = 0; x < nx; x++) {
                int xs = lps ? nx - 1 - x : x;
                memcpy(d + (((size_t)z * ny + ys) * nx + xs) * elem, s + (((size_t)z * ny + y) * nx + x) * elem, elem);
            }
        }
}

static int write_case(const io_phantom_opts *o, const io_phantom_case *c, const char *name, char *err, size_t errlen) {
    char dir[4096], path[4200];
    if (snprintf(dir, sizeof dir, "%s/%s", o->out, name) >= (int)sizeof dir) return io_err(err, errlen, "path too long");
    if (make_dirs(dir, err, errlen)) return -1;
    size_t n = (size_t)c->nx * c->ny * c->nz;
    void *buf = malloc(n * sizeof(int16_t));
    uint8_t *seg = malloc(n);
    if (!buf || !seg) { free(buf); free(seg); return io_err(err, errlen, "out of memory writing %s", name); }
    int rc = 0;
    for (int m = 0; m < IO_PH_NMOD && !rc; m++) {
        snprintf(path, sizeof path, "%s/%s_%s.nii.gz", dir, name, io_ph_modality_name(m));
        to_storage(c, c->vol[m], buf, sizeof(int16_t));
        rc = write_nifti(path, buf, NIFTI_TYPE_INT16, c->nx, c->ny, c->nz, &c->info.site, err, errlen);
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++) seg[i] = io_ph_brats_label(c->label[i]);
        to_storage(c, seg, buf, 1);
        snprintf(path, sizeof path, "%s/%s_seg.nii.gz", dir, name);
        rc = write_nifti(path, buf, NIFTI_TYPE_UINT8, c->nx, c->ny, c->nz, &c->info.site, err, errlen);
    }
    free(buf);
    free(seg);
    if (!rc) {
        cJSON *j = case_json(c, name, o);
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        rc = j ? write_json(path, j, err, errlen) : io_err(err, errlen, "out of memory");
        cJSON_Delete(j);
    }
    return rc;
}

static cJSON *dataset_json(const io_phantom_opts *o) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "generator", "vkmist phantom " VKMIST_VERSION_STRING);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddItemToObject(j, "dims", cJSON_CreateIntArray((int[]){o->nx, o->ny, o->nz}, 3));
    cJSON_AddItemToObject(j, "voxel_mm", cJSON_CreateDoubleArray(
        (double[]){r3(IO_PH_FOV_X / o->nx), r3(IO_PH_FOV_Y / o->ny), r3(IO_PH_FOV_Z / o->nz)}, 3));
    const char *mods[IO_PH_NMOD];
    for (int m = 0; m < IO_PH_NMOD; m++) mods[m] = io_ph_modality_name(m);
    cJSON_AddItemToObject(j, "modalities", cJSON_CreateStringArray(mods, IO_PH_NMOD));
    cJSON *l = cJSON_AddObjectToObject(j, "seg_labels");
    cJSON_AddStringToObject(l, "1", "necrosis / non-enhancing tumour core");
    cJSON_AddStringToObject(l, "2", "edema");
    cJSON_AddStringToObject(l, "4", "enhancing tumour");
    cJSON *s = cJSON_AddArrayToObject(j, "sites");
    for (int k = 0; k < o->sites; k++) {
        io_ph_site site;
        io_ph_site_make(o->seed, k, &site);
        cJSON_AddItemToArray(s, site_json(&site));
    }
    cJSON_AddArrayToObject(j, "cases");
    return j;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int io_phantom_write(const io_phantom_opts *o, char *err, size_t errlen) {
    if (!o->out || !*o->out) return io_err(err, errlen, "no output directory given");
    if (o->cases < 1 || o->sites < 1) return io_err(err, errlen, "need at least one case and one site");
    struct stat st;
    int existed = stat(o->out, &st) == 0;
    if (existed && !S_ISDIR(st.st_mode)) return io_err(err, errlen, "%s exists and is not a directory", o->out);
    if (existed && !o->force && !dir_is_empty(o->out))
        return io_err(err, errlen, "%s is not empty; choose another --out or pass --force to overwrite its phantom files", o->out);
    if (make_dirs(o->out, err, errlen)) return -1;
    if (access(o->out, W_OK | X_OK) != 0) return io_err(err, errlen, "cannot write to %s: %s", o->out, strerror(errno));
    if (o->preview) { /* fail before the long part, not after it; the folder may be inside --out */
        char pdir[4096];
        const char *slash = strrchr(o->preview, '/');
        snprintf(pdir, sizeof pdir, "%.*s", slash ? (int)(slash - o->preview) + (slash == o->preview) : 1,
                 slash ? o->preview : ".");
        if (make_dirs(pdir, err, errlen)) return -1;
        if (access(pdir, W_OK) != 0)
            return io_err(err, errlen, "cannot write the preview %s: %s", o->preview, strerror(errno));
    }
    int rows = o->preview ? (o->preview_cases < o->cases ? o->preview_cases : o->cases) : 0;
    io_ph_preview *pv = rows > 0 ? io_ph_preview_new(rows, o->nx, o->ny) : NULL;
    if (rows > 0 && !pv) return io_err(err, errlen, "cannot allocate the preview");
    cJSON *ds = dataset_json(o);
    cJSON *list = cJSON_GetObjectItem(ds, "cases");
    int rc = 0;
    for (int i = 0; i < o->cases && !rc; i++) {
        double t0 = now_s();
        char name[32];
        snprintf(name, sizeof name, "Phantom_%03d", i + 1);
        io_phantom_case c;
        rc = io_phantom_generate(o, i, &c, err, errlen);
        if (!rc) rc = write_case(o, &c, name, err, errlen);
        if (!rc) {
            if (i < rows) io_ph_preview_add(pv, i, &c, name);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddNumberToObject(e, "site", c.info.site.index);
            cJSON_AddNumberToObject(e, "tumours", c.info.ntumour);
            cJSON_AddItemToArray(list, e);
            if (!o->quiet) {
                printf("phantom: %s  site %d  %d tumour%s  %.1f s  [%d/%d]\n", name, c.info.site.index,
                       c.info.ntumour, c.info.ntumour == 1 ? "" : "s", now_s() - t0, i + 1, o->cases);
                fflush(stdout);
            }
        }
        io_phantom_case_free(&c);
    }
    if (!rc) {
        char path[4200];
        snprintf(path, sizeof path, "%s/phantom.json", o->out);
        rc = write_json(path, ds, err, errlen);
    }
    if (!rc && pv) {
        rc = io_ph_preview_write(pv, o->preview, err, errlen);
        if (!rc && !o->quiet) printf("phantom: preview %s\n", o->preview);
    }
    cJSON_Delete(ds);
    io_ph_preview_free(pv);
    return rc;
}
