/* Imputation with a trained checkpoint (see impute.h): the model part
 * (checkpoint -> inference engine, slices, styles) and the volume job of
 * `vkmist impute` (inputs -> preprocessed slices exactly as in training ->
 * generator -> back onto the inputs' grid and orientation). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "io/discover.h"
#include "io/grid.h"
#include "io/nifti_write.h"
#include "io/volume.h"
#include "train/checkpoint.h"
#include "train/impute.h"
#include "train/snapshot.h"

#define REF_SLICES 8      /* middle brain slices of a style reference scan */
#define RUN_CHUNK 64      /* slices staged on the host per generator call */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the model ---- */

/* The metadata's config_json must describe the config it names: a
 * checkpoint whose tensors were made for another table entry is refused
 * before any device work. */
static int check_config_json(const char *path, const char *js, const mist_config *c, char *err, size_t errlen) {
    if (!js) return 0;
    cJSON *j = cJSON_Parse(js);
    const cJSON *img = cJSON_GetObjectItem(j, "img"), *sd = cJSON_GetObjectItem(j, "style_dim");
    int rc = 0;
    if (cJSON_IsNumber(img) && cJSON_IsNumber(sd) && (img->valueint != c->img || sd->valueint != c->style_dim)) {
        snprintf(err, errlen, "%s: its config_json (img %d, style_dim %d) does not match config '%s' (img %d, style_dim %d)",
                 path, img->valueint, sd->valueint, c->name, c->img, c->style_dim);
        rc = -1;
    }
    cJSON_Delete(j);
    return rc;
}

void mist_imputer_close(mist_imputer *m) {
    mist_infer_close(m->inf);
    if (m->own_ctx && m->ctx) vkm_ctx_destroy(m->ctx);
    free(m->mean_style);
    free(m->split_json);
    memset(m, 0, sizeof *m);
}

int mist_imputer_open(mist_imputer *m, const char *ckpt_path, vkm_ctx *ctx, int device, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", ckpt_path);
    char e[1024];
    ckpt_reader *r = ckpt_open(ckpt_path, e, sizeof e);
    if (!r) {
        snprintf(err, errlen, "cannot use the model: %s", e);
        return -1;
    }
    int rc = mist_snapshot_check(r, NULL, err, errlen);
    const char *cname = ckpt_meta_get(r, "config"), *norm = ckpt_meta_get(r, "normalization");
    const char *split = ckpt_meta_get(r, "split"), *step = ckpt_meta_get(r, "step");
    if (!rc && mist_config_get(cname ? cname : "(none)", &m->cfg, e, sizeof e)) {
        snprintf(err, errlen, "%s names config '%s': %s", ckpt_path, cname ? cname : "(none)", e);
        rc = -1;
    }
    if (!rc) rc = check_config_json(ckpt_path, ckpt_meta_get(r, "config_json"), &m->cfg, err, errlen);
    m->norm = IO_NORM_PERCENTILE;
    if (!rc && norm && io_norm_parse(norm, &m->norm)) {
        snprintf(err, errlen, "%s: unknown normalization '%s' in its metadata", ckpt_path, norm);
        rc = -1;
    }
    m->step = step ? atol(step) : 0;
    if (!rc && split && strcmp(split, "{}") && !(m->split_json = strdup(split))) rc = -1;
    if (!rc && !ctx) {
        vkm_opts vo = vkm_default_opts();
        vo.device = device;
        if (vkm_ctx_create(&vo, &m->ctx, err, errlen)) rc = -1;
        else m->own_ctx = 1;
    } else if (!rc) {
        m->ctx = ctx;
    }
    /* a few slices per submit: enough to keep a GPU busy, small on lavapipe */
    int batch = m->cfg.img <= 64 ? 16 : m->cfg.img <= 128 ? 8 : 4;
    if (!rc) rc = mist_infer_open(m->ctx, &m->cfg, batch, &m->inf, err, errlen);
    if (!rc && !(m->mean_style = calloc(4 * (size_t)m->cfg.style_dim, sizeof(float)))) {
        snprintf(err, errlen, "out of host memory");
        rc = -1;
    }
    if (!rc && mist_snapshot_load_infer(r, m->inf, m->mean_style, e, sizeof e)) {
        snprintf(err, errlen, "%s does not fit config '%s' it names: %s", ckpt_path, m->cfg.name, e);
        rc = -1;
    }
    ckpt_close(r);
    if (rc) mist_imputer_close(m);
    return rc;
}

int mist_imputer_run(mist_imputer *m, int target, const float *four, int k, const float *style, float *out,
                     char *err, size_t errlen) {
    int img = m->cfg.img, S = m->cfg.style_dim;
    size_t px = (size_t)img * img;
    int chunk = k < RUN_CHUNK ? k : RUN_CHUNK;
    float *x = malloc((size_t)chunk * 4 * px * sizeof *x), *st = malloc((size_t)chunk * S * sizeof *st);
    int rc = 0;
    if (!x || !st) {
        snprintf(err, errlen, "out of host memory");
        rc = -1;
    }
    for (int j = 0; j < chunk && !rc; j++) memcpy(st + (size_t)j * S, style, S * sizeof(float));
    for (int first = 0; first < k && !rc; first += chunk) {
        int n = k - first < chunk ? k - first : chunk;
        const float *xs[4];
        for (int d = 0; d < 4; d++) {
            float *xd = x + (size_t)d * n * px;
            for (int j = 0; j < n; j++) {
                const float *src = four + ((size_t)(first + j) * 4 + d) * px;
                for (size_t i = 0; i < px; i++) xd[(size_t)j * px + i] = 2 * src[i] - 1;
            }
            xs[d] = xd;
        }
        float *o = out + (size_t)first * px;
        rc = mist_infer_generate(m->inf, target, xs, st, n, o, err, errlen);
        for (size_t i = 0; !rc && i < (size_t)n * px; i++) {
            float v = 0.5f * (o[i] + 1);
            o[i] = v > 0 ? (v < 1 ? v : 1) : 0; /* NaN -> 0 as well */
        }
    }
    free(x);
    free(st);
    return rc;
}

void mist_mask_to_inputs(float *out, const float *four, int k, int img, int target) {
    size_t px = (size_t)img * img;
    for (int j = 0; j < k; j++)
        for (size_t i = 0; i < px; i++) {
            int in = 0;
            for (int d = 0; d < 4; d++) in |= d != target && four[((size_t)j * 4 + d) * px + i] > 0;
            if (!in) out[(size_t)j * px + i] = 0;
        }
}

int mist_style_parse(const char *s, mist_style_spec *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!strcmp(s, "mean")) return 0;
    if (!strncmp(s, "ref:", 4) && s[4]) {
        out->kind = MIST_STYLE_REF;
        snprintf(out->ref, sizeof out->ref, "%s", s + 4);
        return 0;
    }
    if (!strncmp(s, "seed:", 5)) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s + 5, &end, 10);
        if (!errno && end != s + 5 && !*end && v <= 0xffffffffu) {
            out->kind = MIST_STYLE_SEED;
            out->seed = (uint32_t)v;
            return 0;
        }
    }
    snprintf(err, errlen, "--style expects mean, ref:FILE or seed:N (N in [0, 4294967295]), got '%s'", s);
    return -1;
}

/* Style of a reference scan: the style encoder on its middle brain slices
 * (preprocessed as in training), averaged. */
static int ref_style(mist_imputer *m, int target, const char *path, float *style, char *err, size_t errlen) {
    io_volume v;
    char e[1024];
    if (io_volume_read(path, &v, e, sizeof e)) {
        snprintf(err, errlen, "style reference: %s", e);
        return -1;
    }
    int img = m->cfg.img, S = m->cfg.style_dim, *d = v.dims, nz = d[2];
    size_t plane = (size_t)d[0] * d[1], px = (size_t)img * img;
    io_normalize(v.data, plane * nz, m->norm);
    int *sel = malloc(nz * sizeof *sel), ns = 0;
    float *x = malloc(REF_SLICES * px * sizeof *x), *s = malloc(REF_SLICES * (size_t)S * sizeof *s);
    int rc = !sel || !x || !s ? -1 : 0;
    if (rc) snprintf(err, errlen, "out of host memory");
    double thr = io_prep_defaults(img).slice_frac;
    for (int z = 0; z < nz && !rc; z++) {
        size_t cnt = 0;
        for (size_t i = 0; i < plane; i++) cnt += v.data[z * plane + i] > 0;
        if ((double)cnt >= thr * (double)plane) sel[ns++] = z;
    }
    if (!rc && ns == 0) {
        snprintf(err, errlen, "style reference %s has no slice with brain in it", path);
        rc = -1;
    }
    int k = ns < REF_SLICES ? ns : REF_SLICES, first = (ns - k) / 2;
    for (int j = 0; j < k && !rc; j++) {
        io_slice_extract(v.data, d, sel[first + j], img, x + j * px);
        for (size_t i = 0; i < px; i++) x[j * px + i] = 2 * x[j * px + i] - 1;
    }
    if (!rc) rc = mist_infer_style_encode(m->inf, target, x, k, s, err, errlen);
    for (int c = 0; c < S && !rc; c++) {
        double acc = 0;
        for (int j = 0; j < k; j++) acc += s[(size_t)j * S + c];
        style[c] = (float)(acc / k);
    }
    free(sel);
    free(x);
    free(s);
    io_volume_free(&v);
    return rc;
}

int mist_imputer_style(mist_imputer *m, int target, const mist_style_spec *spec, float *style, char *err,
                       size_t errlen) {
    int S = m->cfg.style_dim;
    if (spec->kind == MIST_STYLE_REF) return ref_style(m, target, spec->ref, style, err, errlen);
    if (spec->kind == MIST_STYLE_SEED) return mist_infer_style_map(m->inf, target, spec->seed, 1, style, err, errlen);
    memcpy(style, m->mean_style + (size_t)target * S, S * sizeof(float));
    return 0;
}

/* ---- the volume job ---- */

void mist_impute_defaults(mist_impute_opts *o) {
    memset(o, 0, sizeof *o);
    o->target = -1;
    o->device = -1;
}

typedef struct {
    const char *path[4];    /* inputs given (and the target's own file when all four are) */
    io_caselist cl;         /* discovery that names the case, when any */
    const io_case *c;
    char dir[PATH_MAX];     /* where the inputs live */
    int target;
} inputs;

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void dirname_of(const char *path, char *out, size_t len) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, len, ".");
    else if (slash == path) snprintf(out, len, "/");
    else snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* The one case of a discovery, complete or not. */
static const io_case *only_case(const io_caselist *cl) {
    return cl->n + cl->n_incomplete == 1 ? (cl->n ? &cl->cases[0] : &cl->incomplete[0]) : NULL;
}

static int resolve_inputs(const mist_impute_opts *o, inputs *in, char *err, size_t errlen) {
    int given = 0, explicit = 0;
    for (int d = 0; d < 4; d++) explicit += o->input[d] != NULL;
    if (o->case_dir && explicit) {
        snprintf(err, errlen, "give either a case folder or the input files, not both");
        return -1;
    }
    if (!o->case_dir && !explicit) {
        snprintf(err, errlen, "no inputs: give a case folder or three of the four modality files");
        return -1;
    }
    if (o->case_dir) {
        if (io_discover(o->case_dir, &in->cl, err, errlen)) return -1;
        int nc = in->cl.n + in->cl.n_incomplete;
        if (nc == 0) {
            snprintf(err, errlen, "%s holds no BraTS-named NIfTI files (*_t1/_t1ce/_t2/_flair or *-t1n/-t1c/-t2w/-t2f)",
                     o->case_dir);
            return -1;
        }
        if (nc > 1) {
            snprintf(err, errlen, "%s holds %d cases; give the folder of one case", o->case_dir, nc);
            return -1;
        }
        in->c = only_case(&in->cl);
        if (in->c->scheme == IO_SCHEME_MSD) {
            snprintf(err, errlen, "%s: a 4-D MSD file holds all four modalities already; nothing to impute", o->case_dir);
            return -1;
        }
        if (in->c->problem && strncmp(in->c->problem, "missing", 7)) {
            snprintf(err, errlen, "case %s in %s: %s", in->c->id, o->case_dir, in->c->problem);
            return -1;
        }
        for (int d = 0; d < 4; d++) in->path[d] = in->c->path[d];
        snprintf(in->dir, sizeof in->dir, "%s", in->c->dir);
    } else {
        for (int d = 0; d < 4; d++) {
            struct stat st;
            if (!o->input[d]) continue;
            if (stat(o->input[d], &st) != 0) {
                snprintf(err, errlen, "%s input %s: %s", io_domain_name(d), o->input[d], strerror(errno));
                return -1;
            }
            if (!S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s input %s: not a file", io_domain_name(d), o->input[d]);
                return -1;
            }
            in->path[d] = o->input[d];
            if (!in->dir[0]) dirname_of(o->input[d], in->dir, sizeof in->dir);
        }
    }
    int missing = -1;
    for (int d = 0; d < 4; d++) {
        given += in->path[d] != NULL;
        if (!in->path[d]) missing = d;
    }
    if (given < 3) {
        char m[64] = "";
        for (int d = 0; d < 4; d++)
            if (!in->path[d]) snprintf(m + strlen(m), sizeof m - strlen(m), "%s%s", m[0] ? ", " : "", io_domain_name(d));
        snprintf(err, errlen, "impute needs three of the four modalities; missing: %s%s%s", m,
                 o->case_dir ? " in " : "", o->case_dir ? o->case_dir : "");
        return -1;
    }
    if (given == 4 && o->target < 0) {
        snprintf(err, errlen, "all four modalities are given: say which one to impute with --target t1|t1ce|t2|flair");
        return -1;
    }
    if (given == 3 && o->target >= 0 && o->target != missing) {
        snprintf(err, errlen, "--target %s, but the missing modality is %s (%s is given: %s)", io_domain_name(o->target),
                 io_domain_name(missing), io_domain_name(o->target), in->path[o->target]);
        return -1;
    }
    in->target = given == 3 ? missing : o->target;
    /* explicit files: the case (and so its naming scheme) from their folder */
    if (!in->c) {
        int ref = in->target == 0 ? 1 : 0;
        char e[512];
        if (io_discover(in->dir, &in->cl, e, sizeof e) == 0) {
            const io_caselist *cl = &in->cl;
            for (int i = 0; i < cl->n + cl->n_incomplete && !in->c; i++) {
                const io_case *c = i < cl->n ? &cl->cases[i] : &cl->incomplete[i - cl->n];
                if (c->path[ref] && c->scheme != IO_SCHEME_MSD && same_file(c->path[ref], in->path[ref])) in->c = c;
            }
        }
    }
    return 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int output_path(const mist_impute_opts *o, const inputs *in, char *out, size_t outlen, char *err,
                       size_t errlen) {
    char name[512] = "";
    if (in->c && io_case_file_name(in->c, in->target, name, sizeof name)) name[0] = 0;
    size_t ol = o->out ? strlen(o->out) : 0;
    int to_dir = !o->out || is_dir(o->out) || (ol && o->out[ol - 1] == '/');
    if (to_dir && !name[0]) {
        snprintf(err, errlen, "cannot name the output: the inputs do not follow a BraTS naming scheme; give --out FILE.nii.gz");
        return -1;
    }
    const char *dir = o->out ? o->out : in->dir;
    size_t dl = strlen(dir);
    int n = to_dir ? snprintf(out, outlen, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name)
                   : snprintf(out, outlen, "%s", o->out);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "output path too long");
        return -1;
    }
    size_t pl = strlen(out);
    if (!(pl > 4 && !strcmp(out + pl - 4, ".nii")) && !(pl > 7 && !strcmp(out + pl - 7, ".nii.gz"))) {
        snprintf(err, errlen, "output %s: the name must end in .nii or .nii.gz", out);
        return -1;
    }
    for (int d = 0; d < 4; d++)
        if (in->path[d] && same_file(out, in->path[d])) {
            snprintf(err, errlen, "the output %s would replace the %s input; give --out elsewhere", out, io_domain_name(d));
            return -1;
        }
    /* fail before the work, not after it */
    char pdir[PATH_MAX];
    dirname_of(out, pdir, sizeof pdir);
    if (!is_dir(pdir)) {
        snprintf(err, errlen, "cannot write %s: folder %s does not exist", out, pdir);
        return -1;
    }
    if (access(pdir, W_OK) != 0) {
        snprintf(err, errlen, "cannot write %s: folder %s: %s", out, pdir, strerror(errno));
        return -1;
    }
    if (o->preview) {
        dirname_of(o->preview, pdir, sizeof pdir);
        if (!is_dir(pdir) || access(pdir, W_OK) != 0) {
            snprintf(err, errlen, "cannot write the preview %s: folder %s is missing or read-only", o->preview, pdir);
            return -1;
        }
    }
    return 0;
}

static void free_vols(io_volume v[4]) {
    for (int d = 0; d < 4; d++) io_volume_free(&v[d]);
}

/* Reads the three inputs (RAS) and checks they share one grid. */
static int read_inputs(const inputs *in, io_volume v[4], FILE *log, char *err, size_t errlen) {
    memset(v, 0, 4 * sizeof *v);
    int first = -1;
    char e[1024], what[256];
    for (int d = 0; d < 4; d++) {
        if (d == in->target) continue;
        if (io_volume_read(in->path[d], &v[d], e, sizeof e)) {
            snprintf(err, errlen, "%s input: %s", io_domain_name(d), e);
            free_vols(v);
            return -1;
        }
        if (log && v[d].n_nonfinite)
            fprintf(log, "note: %s: %lld NaN/Inf voxels read as 0\n", in->path[d], (long long)v[d].n_nonfinite);
        if (log && first < 0 && v[d].orient.oblique)
            fprintf(log, "note: %s is oblique: sliced in the nearest axis-aligned orientation (the output keeps its grid)\n",
                    in->path[d]);
        if (first < 0) first = d;
        else if (io_geom_compare(&v[first].geom, &v[d].geom, what, sizeof what)) {
            snprintf(err, errlen, "the inputs are not on one grid: %s (%s) differs from %s (%s): %s", in->path[d],
                     io_domain_name(d), in->path[first], io_domain_name(first), what);
            free_vols(v);
            return -1;
        }
    }
    return 0;
}

/* Slice z of a RAS volume as an upright picture (anterior up, as io_slice_extract). */
static void upright(const float *vol, const int d[3], int z, float *out) {
    for (int r = 0; r < d[1]; r++)
        for (int c = 0; c < d[0]; c++) out[(size_t)r * d[0] + c] = vol[((size_t)z * d[1] + (d[1] - 1 - r)) * d[0] + c];
}

static int write_preview(const char *path, const io_volume v[4], const float *imputed, int target, int z, char *err,
                         size_t errlen) {
    const int *d = v[target == 0 ? 1 : 0].dims;
    static const char *const label[4] = {"T1", "T1ce", "T2", "FLAIR"};
    io_grid *g = io_grid_new(4, 1, d[0], d[1], 12);
    float *pic = malloc((size_t)d[0] * d[1] * sizeof *pic);
    int rc = !g || !pic ? -1 : 0, col = 0;
    if (rc) snprintf(err, errlen, "preview: out of memory");
    for (int k = 0; k < 4 && !rc; k++) {
        if (k == target) continue;
        upright(v[k].data, d, z, pic);
        rc = io_grid_put(g, col, 0, pic, d[0], d[1]) || io_grid_label(g, col, 0, label[k]);
        col++;
    }
    char lab[32];
    snprintf(lab, sizeof lab, "%s imputed", label[target]);
    if (!rc) {
        upright(imputed, d, z, pic);
        rc = io_grid_put(g, 3, 0, pic, d[0], d[1]) || io_grid_label(g, 3, 0, lab);
        if (rc) snprintf(err, errlen, "preview: drawing failed");
    }
    if (!rc) rc = io_grid_write(g, path, err, errlen);
    io_grid_free(g);
    free(pic);
    return rc;
}

/* The whole volume: normalise, select slices, impute in device batches,
 * restore each slice onto the grid and keep it inside the inputs' brain. */
static int impute_volume(mist_imputer *m, io_volume v[4], int target, const float *style, float *out, int *nsel,
                         int *zmid, char *err, size_t errlen) {
    int first = target == 0 ? 1 : 0, img = m->cfg.img;
    const int *d = v[first].dims;
    size_t plane = (size_t)d[0] * d[1], n = plane * d[2], px = (size_t)img * img;
    for (int k = 0; k < 4; k++)
        if (k != target) io_normalize(v[k].data, n, m->norm);
    /* the target's slot reads as zeros (out is all zero until filled) */
    const float *vols[4];
    for (int k = 0; k < 4; k++) vols[k] = k == target ? out : v[k].data;
    double thr = io_prep_defaults(img).slice_frac;
    int *sel = malloc(d[2] * sizeof *sel), ns = 0;
    float *four = malloc((size_t)RUN_CHUNK * 4 * px * sizeof *four), *res = malloc((size_t)RUN_CHUNK * px * sizeof *res);
    int rc = !sel || !four || !res ? -1 : 0;
    if (rc) snprintf(err, errlen, "out of host memory");
    for (int z = 0; z < d[2] && !rc; z++)
        if (io_slice_brain_frac(vols, d, z) >= thr) sel[ns++] = z;
    for (int s0 = 0; s0 < ns && !rc; s0 += RUN_CHUNK) {
        int k = ns - s0 < RUN_CHUNK ? ns - s0 : RUN_CHUNK;
        memset(four, 0, (size_t)k * 4 * px * sizeof *four);
        for (int j = 0; j < k; j++)
            for (int c = 0; c < 4; c++)
                if (c != target) io_slice_extract(v[c].data, d, sel[s0 + j], img, four + ((size_t)j * 4 + c) * px);
        rc = mist_imputer_run(m, target, four, k, style, res, err, errlen);
        for (int j = 0; j < k && !rc; j++) {
            size_t off = (size_t)sel[s0 + j] * plane;
            io_slice_restore(res + (size_t)j * px, img, d[0], d[1], out + off);
            for (size_t i = 0; i < plane; i++) {
                int brain = 0;
                for (int c = 0; c < 4; c++) brain |= c != target && v[c].data[off + i] > 0;
                float x = out[off + i];
                out[off + i] = brain && x > 0 ? (x < 1 ? x : 1) : 0;
            }
        }
    }
    *nsel = ns;
    *zmid = ns ? sel[ns / 2] : d[2] / 2;
    free(sel);
    free(four);
    free(res);
    return rc;
}

int mist_impute(const mist_impute_opts *o, mist_impute_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    inputs in;
    memset(&in, 0, sizeof in);
    io_volume v[4];
    memset(v, 0, sizeof v);
    mist_imputer m;
    memset(&m, 0, sizeof m);
    float *out = NULL, *style = NULL;
    int rc = resolve_inputs(o, &in, err, errlen);
    if (!rc) rc = output_path(o, &in, res->out_path, sizeof res->out_path, err, errlen);
    if (!rc) rc = read_inputs(&in, v, o->log, err, errlen);
    if (!rc) rc = mist_imputer_open(&m, o->model, o->ctx, o->device, err, errlen);
    int t = in.target, first = t == 0 ? 1 : 0;
    if (!rc) {
        res->target = t;
        snprintf(res->case_id, sizeof res->case_id, "%s", in.c ? in.c->id : "");
        style = malloc(m.cfg.style_dim * sizeof *style);
        size_t n = (size_t)v[first].dims[0] * v[first].dims[1] * v[first].dims[2];
        out = calloc(n, sizeof *out);
        if (!style || !out) {
            snprintf(err, errlen, "out of host memory");
            rc = -1;
        }
    }
    if (!rc) rc = mist_imputer_style(&m, t, &o->style, style, err, errlen);
    int zmid = 0;
    if (!rc) rc = impute_volume(&m, v, t, style, out, &res->slices, &zmid, err, errlen);
    res->nz = v[first].dims[2];
    if (!rc && res->slices == 0) {
        snprintf(err, errlen, "no slice of the inputs has enough brain (>= 2 %% of the slice > 0): are they empty?");
        rc = -1;
    }
    if (!rc) rc = io_nifti_write_ras(res->out_path, &v[first].geom, &v[first].orient, out, err, errlen);
    if (!rc && o->preview) rc = write_preview(o->preview, v, out, t, zmid, err, errlen);
    res->seconds = now_s() - t0;
    free(out);
    free(style);
    free_vols(v);
    if (m.inf) mist_imputer_close(&m);
    io_caselist_free(&in.cl);
    return rc;
}
