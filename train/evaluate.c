/* `vkmist eval` (see evaluate.h): the split's cases from the slice cache
 * (the same preprocessed slices training used), imputation of every target
 * with the checkpoint's mean style, the two baselines, slice and volume
 * metrics, the tables, JSON and CSV. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "io/cache.h"
#include "io/discover.h"
#include "io/metrics.h"
#include "io/split.h"
#include "io/util.h"
#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/impute.h"

enum { M_MIST, M_MEAN, M_REG, NMETH };
static const char *const meth_key[NMETH] = {"mist", "mean_of_inputs", "linear_regression"};
static const char *const meth_label[NMETH] = {"MIST GAN", "baseline: mean of the three inputs",
                                              "baseline: linear regression from the three inputs"};
static const char *const part_name[3] = {"train", "val", "test"};
static const char *const pretty[4] = {"T1", "T1ce", "T2", "FLAIR"};

typedef struct {
    io_metrics_stat slice[2], vol[2];   /* [whole slice, brain mask] */
} agg;

typedef struct {
    const mist_eval_opts *o;
    mist_imputer m;
    io_caselist cl;
    io_cache *cache;
    int img;
    size_t px;
    int *eval_ci, n_eval;     /* cache case indices */
    int *fit_ci, n_fit;
    int fit_on_train;
    double w[4][4], b[4];     /* regression per target: weights per domain, intercept */
    long fit_px[4];
    agg a[4][NMETH];
    long n_slices;
    cJSON *vols;              /* per-volume JSON rows */
    FILE *csv;
} ev;

void mist_eval_defaults(mist_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->split = IO_SPLIT_TEST;
    o->device = -1;
    o->out = stdout;
}

int mist_eval_split_parse(const char *s, int *split) {
    if (!strcmp(s, "all")) { *split = MIST_EVAL_ALL; return 0; }
    for (int p = 0; p < 3; p++)
        if (!strcmp(s, part_name[p])) { *split = p; return 0; }
    return -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The checkpoint's split (JSON text) through io_split_load's checks. */
static int load_split(const char *json, io_split *s, char *err, size_t errlen) {
    char path[] = "/tmp/vkmist-split-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return io_err(err, errlen, "temp file for the split: %s", strerror(errno));
    FILE *f = fdopen(fd, "w");
    int ok = f && fputs(json, f) >= 0;
    if (f ? fclose(f) : close(fd)) ok = 0;
    int rc = ok ? io_split_load(path, s, err, errlen) : io_err(err, errlen, "temp file for the split: write failed");
    unlink(path);
    return rc;
}

static int cache_case(const io_cache *c, const char *id) {
    for (int i = 0; i < c->n_cases; i++)
        if (!strcmp(c->case_ids[i], id)) return i;
    return -1;
}

/* The ids of part p (all complete cases for MIST_EVAL_ALL) -> cache cases,
 * saying which are absent. */
static int pick_cases(ev *E, const io_split *s, int p, int **out, int *n, char *err, size_t errlen) {
    int cnt = p == MIST_EVAL_ALL ? E->cache->n_cases : s->n[p];
    *out = malloc((cnt ? cnt : 1) * sizeof **out);
    *n = 0;
    if (!*out) return io_err(err, errlen, "out of host memory");
    for (int i = 0; i < cnt; i++) {
        if (p == MIST_EVAL_ALL) {
            (*out)[(*n)++] = i;
            continue;
        }
        int ci = cache_case(E->cache, s->ids[p][i]);
        if (ci >= 0) (*out)[(*n)++] = ci;
        else if (E->o->log)
            fprintf(E->o->log, "note: case %s of the %s split is not under %s (or could not be read)\n", s->ids[p][i],
                    part_name[p], E->o->data);
    }
    return 0;
}

/* The cache slices of case ci (ascending z), at most max evenly spaced. */
static int case_slices(const io_cache *c, int ci, int max, int64_t **idx) {
    int64_t n = 0;
    for (int64_t i = 0; i < c->n_slices; i++) n += c->info[i].case_idx == ci;
    int k = max > 0 && n > max ? max : (int)n;
    *idx = malloc((k ? k : 1) * sizeof **idx);
    if (!*idx) return -1;
    int64_t j = 0, m = 0;
    for (int64_t i = 0; i < c->n_slices && m < k; i++) {
        if (c->info[i].case_idx != ci) continue;
        /* slice j of n is taken when it is the nearest to a sample point (m + 0.5) n / k */
        if (j == (int64_t)((m + 0.5) * (double)n / k)) (*idx)[m++] = i;
        j++;
    }
    return k;
}

/* Solves the 4x4 system A x = y (Gaussian elimination, partial pivoting). */
static int solve4(double A[4][4], double y[4], double x[4]) {
    for (int c = 0; c < 4; c++) {
        int p = c;
        for (int r = c + 1; r < 4; r++)
            if (fabs(A[r][c]) > fabs(A[p][c])) p = r;
        if (fabs(A[p][c]) < 1e-12) return -1;
        for (int k = 0; k < 4; k++) { double t = A[c][k]; A[c][k] = A[p][k]; A[p][k] = t; }
        double t = y[c]; y[c] = y[p]; y[p] = t;
        for (int r = c + 1; r < 4; r++) {
            double f = A[r][c] / A[c][c];
            for (int k = c; k < 4; k++) A[r][k] -= f * A[c][k];
            y[r] -= f * y[c];
        }
    }
    for (int c = 3; c >= 0; c--) {
        double s = y[c];
        for (int k = c + 1; k < 4; k++) s -= A[c][k] * x[k];
        x[c] = s / A[c][c];
    }
    return 0;
}

/* Least squares per target over the brain pixels of the fit cases' slices:
 * x_t ~ sum_{d != t} w_d x_d + b. */
static int fit_regression(ev *E, char *err, size_t errlen) {
    double A[4][4][4] = {{{0}}}, y[4][4] = {{0}};
    size_t px = E->px;
    uint8_t *mask = malloc(px);
    if (!mask) return io_err(err, errlen, "out of host memory");
    for (int c = 0; c < E->n_fit; c++) {
        int64_t *idx;
        int k = case_slices(E->cache, E->fit_ci[c], E->o->max_slices, &idx);
        if (k < 0) { free(mask); return io_err(err, errlen, "out of host memory"); }
        for (int j = 0; j < k; j++) {
            const float *four = io_cache_slice(E->cache, idx[j]);
            io_slice_mask(four, E->img, mask);
            for (size_t i = 0; i < px; i++) {
                if (!mask[i]) continue;
                for (int t = 0; t < 4; t++) {
                    double f[4];
                    int q = 0;
                    for (int d = 0; d < 4; d++)
                        if (d != t) f[q++] = four[d * px + i];
                    f[3] = 1;
                    for (int r = 0; r < 4; r++) {
                        for (int s = 0; s < 4; s++) A[t][r][s] += f[r] * f[s];
                        y[t][r] += f[r] * four[t * px + i];
                    }
                    E->fit_px[t]++;
                }
            }
        }
        free(idx);
    }
    free(mask);
    for (int t = 0; t < 4; t++) {
        double x[4] = {0};
        if (solve4(A[t], y[t], x)) { /* degenerate inputs: a tiny ridge keeps it solvable */
            for (int r = 0; r < 4; r++) A[t][r][r] += 1e-6;
            if (solve4(A[t], y[t], x)) return io_err(err, errlen, "linear regression baseline for %s: no usable pixels",
                                                     io_domain_name(t));
        }
        for (int d = 0, q = 0; d < 4; d++) E->w[t][d] = d == t ? 0 : x[q++];
        E->b[t] = x[3];
    }
    return 0;
}

static cJSON *stat_json(const io_stat *s) {
    cJSON *j = cJSON_CreateObject();
    double m = io_stat_mean(s), sd = io_stat_std(s);
    if (isfinite(m)) cJSON_AddNumberToObject(j, "mean", m); else cJSON_AddNullToObject(j, "mean");
    if (isfinite(sd)) cJSON_AddNumberToObject(j, "std", sd); else cJSON_AddNullToObject(j, "std");
    cJSON_AddNumberToObject(j, "n", (double)s->n);
    return j;
}

static cJSON *mstat_json(const io_metrics_stat *s) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "ssim", stat_json(&s->ssim));
    cJSON_AddItemToObject(j, "psnr", stat_json(&s->psnr));
    cJSON_AddItemToObject(j, "mae", stat_json(&s->mae));
    return j;
}

static void add_num(cJSON *j, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

/* Metrics of one method's k predicted slices against the truth. */
static int score(ev *E, const char *id, const int64_t *idx, int t, int meth, const float *pred, const float *truth,
                 const uint8_t *mask, int k) {
    int img = E->img;
    size_t px = E->px;
    agg *a = &E->a[t][meth];
    for (int j = 0; j < k; j++) {
        io_metrics m[2];
        io_metrics_slice(pred + j * px, truth + j * px, img, img, NULL, &m[0]);
        io_metrics_slice(pred + j * px, truth + j * px, img, img, mask + j * px, &m[1]);
        for (int w = 0; w < 2; w++) io_metrics_stat_add(&a->slice[w], &m[w]);
        if (E->csv && fprintf(E->csv, "%s,%d,%s,%s,%.6f,%.4f,%.6f,%.6f,%.4f,%.6f\n", id, E->cache->info[idx[j]].z,
                              io_domain_name(t), meth_key[meth], m[0].ssim, m[0].psnr, m[0].mae, m[1].ssim, m[1].psnr,
                              m[1].mae) < 0)
            return -1;
    }
    io_metrics v[2];
    io_metrics_volume(pred, truth, img, img, k, NULL, &v[0]);
    io_metrics_volume(pred, truth, img, img, k, mask, &v[1]);
    for (int w = 0; w < 2; w++) io_metrics_stat_add(&a->vol[w], &v[w]);
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "case", id);
    cJSON_AddStringToObject(row, "target", io_domain_name(t));
    cJSON_AddStringToObject(row, "method", meth_key[meth]);
    cJSON_AddNumberToObject(row, "slices", k);
    add_num(row, "ssim", v[0].ssim), add_num(row, "psnr", v[0].psnr), add_num(row, "mae", v[0].mae);
    add_num(row, "ssim_brain", v[1].ssim), add_num(row, "psnr_brain", v[1].psnr), add_num(row, "mae_brain", v[1].mae);
    cJSON_AddItemToArray(E->vols, row);
    return 0;
}

static int eval_case(ev *E, int ci, const float *mean_style, char *err, size_t errlen) {
    const char *id = E->cache->case_ids[ci];
    int64_t *idx;
    int k = case_slices(E->cache, ci, E->o->max_slices, &idx);
    if (k < 0) return io_err(err, errlen, "out of host memory");
    size_t px = E->px;
    float *four = malloc((k ? k : 1) * 4 * px * sizeof *four), *truth = malloc((k ? k : 1) * px * sizeof *truth);
    float *pred = malloc((size_t)NMETH * (k ? k : 1) * px * sizeof *pred);
    uint8_t *mask = malloc((k ? k : 1) * px);
    int rc = !four || !truth || !pred || !mask ? io_err(err, errlen, "out of host memory") : 0;
    for (int j = 0; j < k && !rc; j++) {
        memcpy(four + j * 4 * px, io_cache_slice(E->cache, idx[j]), 4 * px * sizeof *four);
        io_slice_mask(four + j * 4 * px, E->img, mask + j * px);
    }
    for (int t = 0; t < 4 && !rc && k > 0; t++) {
        float *pm = pred, *pa = pred + k * px, *pr = pred + 2 * k * px;
        rc = mist_imputer_run(&E->m, t, four, k, mean_style + (size_t)t * E->m.cfg.style_dim, pm, err, errlen);
        for (int j = 0; j < k && !rc; j++) {
            const float *x = four + j * 4 * px;
            for (size_t i = 0; i < px; i++) {
                double s = 0, r = E->b[t];
                for (int d = 0; d < 4; d++)
                    if (d != t) s += x[d * px + i], r += E->w[t][d] * x[d * px + i];
                pa[j * px + i] = (float)(s / 3);
                pr[j * px + i] = (float)(r < 0 ? 0 : r > 1 ? 1 : r);
                truth[j * px + i] = x[t * px + i];
            }
        }
        for (int meth = 0; meth < NMETH && !rc; meth++) {
            mist_mask_to_inputs(pred + meth * k * px, four, k, E->img, t);
            if (score(E, id, idx, t, meth, pred + meth * k * px, truth, mask, k))
                rc = io_err(err, errlen, "writing %s: %s", E->o->csv, strerror(errno));
        }
    }
    E->n_slices += k;
    free(idx), free(four), free(truth), free(pred), free(mask);
    return rc;
}

/* Prints s left-aligned in w terminal columns (s may hold UTF-8 "±"). */
static void cell(FILE *f, const char *s, int w) {
    int cols = 0;
    for (const char *p = s; *p; p++) cols += ((unsigned char)*p & 0xc0) != 0x80;
    fputs(s, f);
    for (; cols < w; cols++) fputc(' ', f);
}

static void cell_pm(FILE *f, const io_stat *s, int prec, int w) {
    char b[64];
    snprintf(b, sizeof b, "%.*f ± %.*f", prec, io_stat_mean(s), prec, io_stat_std(s));
    cell(f, b, w);
}

/* A per-volume JSON figure (NaN where it was undefined). */
static double jnum(const cJSON *row, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(row, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void print_tables(ev *E, const char *what) {
    FILE *f = E->o->out ? E->o->out : stdout;
    for (int meth = 0; meth < NMETH; meth++) {
        fprintf(f, "\n%s\n", meth_label[meth]);
        if (meth == M_MIST)
            fprintf(f, "(checkpoint %s, config %s, step %ld; %s)\n", E->m.path, E->m.cfg.name, E->m.step, what);
        cell(f, "", 7), cell(f, "| whole slice", 52), cell(f, "| inside the brain mask", 0), fputc('\n', f);
        cell(f, "target", 7);
        for (int w = 0; w < 2; w++) cell(f, "| SSIM", 18), cell(f, "PSNR (dB)", 16), cell(f, "MAE", 18);
        fputc('\n', f);
        for (int t = 0; t < 4; t++) {
            cell(f, pretty[t], 7);
            for (int w = 0; w < 2; w++) {
                const io_metrics_stat *s = &E->a[t][meth].slice[w];
                cell(f, "| ", 2), cell_pm(f, &s->ssim, 3, 16), cell_pm(f, &s->psnr, 2, 16), cell_pm(f, &s->mae, 4, 18);
            }
            fputc('\n', f);
        }
    }
    fprintf(f, "\nper volume (3-D over each volume's slices): PSNR dB / SSIM, whole slice and inside the brain mask\n");
    cell(f, "case", 24), cell(f, "target", 7);
    for (int meth = 0; meth < NMETH; meth++) cell(f, "| ", 2), cell(f, meth_key[meth], 31);
    fputc('\n', f);
    int nv = cJSON_GetArraySize(E->vols);
    for (int i = 0; i + NMETH - 1 < nv; i += NMETH) {
        const cJSON *r = cJSON_GetArrayItem(E->vols, i);
        char b[64];
        snprintf(b, sizeof b, "%.23s", cJSON_GetObjectItem(r, "case")->valuestring);
        cell(f, b, 24);
        cell(f, pretty[io_domain_from_name(cJSON_GetObjectItem(r, "target")->valuestring)], 7);
        for (int meth = 0; meth < NMETH; meth++) {
            const cJSON *q = cJSON_GetArrayItem(E->vols, i + meth);
            snprintf(b, sizeof b, "| %5.2f / %6.3f  %5.2f / %6.3f", jnum(q, "psnr"), jnum(q, "ssim"),
                     jnum(q, "psnr_brain"), jnum(q, "ssim_brain"));
            cell(f, b, 33);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nmean ± std over volumes (whole slice)\n");
    cell(f, "target", 7);
    for (int meth = 0; meth < NMETH; meth++) cell(f, "| ", 2), cell(f, meth_key[meth], 30);
    fputc('\n', f);
    cell(f, "", 7);
    for (int meth = 0; meth < NMETH; meth++) cell(f, "| PSNR (dB)", 16), cell(f, "SSIM", 16);
    fputc('\n', f);
    for (int t = 0; t < 4; t++) {
        cell(f, pretty[t], 7);
        for (int meth = 0; meth < NMETH; meth++) {
            const io_metrics_stat *s = &E->a[t][meth].vol[0];
            cell(f, "| ", 2), cell_pm(f, &s->psnr, 2, 14), cell_pm(f, &s->ssim, 3, 16);
        }
        fputc('\n', f);
    }
}

/* Writes text to path through a temp file and a rename. */
static int write_text(const char *path, const char *text, char *err, size_t errlen) {
    char tmp[4096];
    if (io_tmp_name(tmp, sizeof tmp, path)) return io_err(err, errlen, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    int ok = fputs(text, f) >= 0;
    if (fclose(f)) ok = 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return io_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

static int write_json(ev *E, const char *what, char *err, size_t errlen) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", E->m.path);
    cJSON_AddStringToObject(j, "config", E->m.cfg.name);
    cJSON_AddNumberToObject(j, "step", (double)E->m.step);
    cJSON_AddStringToObject(j, "normalization", io_norm_name(E->m.norm));
    cJSON_AddNumberToObject(j, "img", E->img);
    cJSON_AddStringToObject(j, "data", E->o->data);
    cJSON_AddStringToObject(j, "split", what);
    cJSON *cases = cJSON_AddArrayToObject(j, "cases");
    for (int i = 0; i < E->n_eval; i++)
        cJSON_AddItemToArray(cases, cJSON_CreateString(E->cache->case_ids[E->eval_ci[i]]));
    cJSON_AddNumberToObject(j, "slices_per_modality", (double)E->n_slices);
    cJSON_AddStringToObject(j, "masking", "predictions are zero where none of the three inputs is > 0; "
                                          "'brain' metrics are inside the mask of the four modalities");
    cJSON *mods = cJSON_AddObjectToObject(j, "modalities");
    for (int t = 0; t < 4; t++) {
        cJSON *mt = cJSON_AddObjectToObject(mods, io_domain_name(t));
        for (int meth = 0; meth < NMETH; meth++) {
            cJSON *mm = cJSON_AddObjectToObject(mt, meth_key[meth]);
            const agg *a = &E->a[t][meth];
            cJSON_AddItemToObject(mm, "slices", mstat_json(&a->slice[0]));
            cJSON_AddItemToObject(mm, "slices_brain", mstat_json(&a->slice[1]));
            cJSON_AddItemToObject(mm, "volumes", mstat_json(&a->vol[0]));
            cJSON_AddItemToObject(mm, "volumes_brain", mstat_json(&a->vol[1]));
            if (meth == M_REG) {
                cJSON *c = cJSON_AddObjectToObject(mm, "coefficients");
                for (int d = 0; d < 4; d++)
                    if (d != t) cJSON_AddNumberToObject(c, io_domain_name(d), E->w[t][d]);
                cJSON_AddNumberToObject(c, "intercept", E->b[t]);
                cJSON_AddStringToObject(mm, "fitted_on", E->fit_on_train ? "train split" : "the evaluated cases");
                cJSON_AddNumberToObject(mm, "fit_pixels", (double)E->fit_px[t]);
            }
        }
    }
    cJSON_AddItemReferenceToObject(j, "volumes", E->vols);
    char *s = cJSON_Print(j);
    int rc = s ? write_text(E->o->json, s, err, errlen) : io_err(err, errlen, "out of host memory");
    free(s);
    cJSON_Delete(j);
    return rc;
}

int mist_eval(const mist_eval_opts *o, char *err, size_t errlen) {
    ev E;
    memset(&E, 0, sizeof E);
    E.o = o;
    io_split split;
    memset(&split, 0, sizeof split);
    char tmpcsv[4096] = "";
    int rc = mist_imputer_open(&E.m, o->model, o->ctx, o->device, err, errlen);
    int opened = !rc;
    E.img = E.m.cfg.img;
    E.px = (size_t)E.img * E.img;
    if (!rc) rc = io_discover(o->data, &E.cl, err, errlen);
    for (int i = 0; !rc && o->log && i < E.cl.n_incomplete; i++)
        fprintf(o->log, "note: skipping incomplete case %s: %s\n", E.cl.incomplete[i].id, E.cl.incomplete[i].problem);
    if (!rc && E.cl.n == 0) rc = io_err(err, errlen, "%s holds no complete case (T1, T1ce, T2 and FLAIR)", o->data);
    if (!rc && o->split != MIST_EVAL_ALL && !E.m.split_json)
        rc = io_err(err, errlen, "%s records no split; use --split all", o->model);
    if (!rc && E.m.split_json) rc = load_split(E.m.split_json, &split, err, errlen);
    if (!rc) {
        char cdir[1024];
        mist_cache_dir(cdir, sizeof cdir);
        io_prep_params pp = io_prep_defaults(E.img);
        pp.norm = E.m.norm;
        rc = io_cache_open(&E.cl, cdir, &pp, o->log, &E.cache, err, errlen);
    }
    const char *what = o->split == MIST_EVAL_ALL ? "all" : part_name[o->split];
    if (!rc) rc = pick_cases(&E, &split, o->split, &E.eval_ci, &E.n_eval, err, errlen);
    if (!rc && E.n_eval == 0 && o->split == MIST_EVAL_ALL)
        rc = io_err(err, errlen, "no case under %s could be read", o->data);
    else if (!rc && E.n_eval == 0)
        rc = io_err(err, errlen, "none of the %d case%s of the checkpoint's %s split is under %s (try --split all)",
                    split.n[o->split], split.n[o->split] == 1 ? "" : "s", what, o->data);
    /* the regression baseline learns from the training split only */
    if (!rc) rc = pick_cases(&E, &split, E.m.split_json ? IO_SPLIT_TRAIN : MIST_EVAL_ALL, &E.fit_ci, &E.n_fit, err, errlen);
    if (!rc && (E.fit_on_train = E.n_fit > 0) == 0) {
        free(E.fit_ci);
        E.fit_ci = NULL;
        rc = pick_cases(&E, &split, o->split, &E.fit_ci, &E.n_fit, err, errlen);
        if (!rc && o->log)
            fprintf(o->log, "note: no training case under %s: the regression baseline is fitted on the evaluated "
                            "cases themselves (optimistic)\n", o->data);
    }
    if (!rc) rc = fit_regression(&E, err, errlen);
    if (!rc && !(E.vols = cJSON_CreateArray())) rc = io_err(err, errlen, "out of host memory");
    if (!rc && o->csv) {
        if (io_tmp_name(tmpcsv, sizeof tmpcsv, o->csv) || !(E.csv = fopen(tmpcsv, "w")))
            rc = io_err(err, errlen, "cannot write %s: %s", o->csv, strerror(errno));
        else if (fprintf(E.csv, "case,z,target,method,ssim,psnr,mae,ssim_brain,psnr_brain,mae_brain\n") < 0)
            rc = io_err(err, errlen, "cannot write %s: %s", o->csv, strerror(errno));
    }
    for (int t = 0; t < 4; t++)
        for (int meth = 0; meth < NMETH; meth++)
            for (int w = 0; w < 2; w++) {
                io_metrics_stat_init(&E.a[t][meth].slice[w]);
                io_metrics_stat_init(&E.a[t][meth].vol[w]);
            }
    for (int i = 0; i < E.n_eval && !rc; i++) {
        double t0 = now_s();
        long before = E.n_slices;
        rc = eval_case(&E, E.eval_ci[i], E.m.mean_style, err, errlen);
        if (!rc && o->log)
            fprintf(o->log, "case %d/%d %s: %ld slices x 4 targets in %.2f s\n", i + 1, E.n_eval,
                    E.cache->case_ids[E.eval_ci[i]], E.n_slices - before, now_s() - t0);
    }
    if (E.csv) {
        if (fclose(E.csv) && !rc) rc = io_err(err, errlen, "cannot write %s: %s", o->csv, strerror(errno));
        if (!rc && rename(tmpcsv, o->csv)) rc = io_err(err, errlen, "cannot write %s: %s", o->csv, strerror(errno));
        if (rc) unlink(tmpcsv);
    }
    if (!rc) {
        char desc[512];
        snprintf(desc, sizeof desc, "%s split of %s: %d case%s, %ld slices of %dx%d per target", what, o->data,
                 E.n_eval, E.n_eval == 1 ? "" : "s", E.n_slices, E.img, E.img);
        print_tables(&E, desc);
        fprintf(o->out ? o->out : stdout, "\nregression baseline fitted on %s (%ld brain pixels per target)\n",
                E.fit_on_train ? "the training split" : "the evaluated cases", E.fit_px[0]);
    }
    if (!rc && o->json) rc = write_json(&E, what, err, errlen);
    cJSON_Delete(E.vols);
    free(E.eval_ci);
    free(E.fit_ci);
    if (E.cache) io_cache_close(E.cache);
    io_split_free(&split);
    io_caselist_free(&E.cl);
    if (opened) mist_imputer_close(&E.m);
    return rc;
}
