/* `vkmist style diversity`: how different the outputs for one input are
 * under random styles from the mapping network — mean pairwise L1 and SSIM
 * of K samples per slice and target domain (LPIPS would need network
 * weights vkmist does not ship). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "io/grid.h"
#include "io/metrics.h"
#include "io/util.h"
#include "train/dataset.h"
#include "train/samples.h"
#include "train/style_tools.h"

mist_style_div_opts mist_style_div_defaults(void) {
    mist_style_div_opts o = {NULL, 5, 8, 1, NULL};
    return o;
}

int mist_style_diverse(mist_style_model *m, const float *four, int n, int target, int K, uint32_t seed, float *out,
                       char *err, size_t errlen) {
    int S = m->cfg.style_dim;
    size_t px = (size_t)m->cfg.img * m->cfg.img;
    float *st = malloc(sizeof(float) * (size_t)n * S);
    if (!st) return io_err(err, errlen, "out of host memory");
    int rc = 0;
    for (int k = 0; k < K && !rc; k++) {
        rc = mist_infer_style_map(m->inf, target, seed + (uint32_t)k, n, st, err, errlen);
        if (!rc) rc = mist_style_generate(m, target, four, n, st, out + (size_t)k * n * px, err, errlen);
    }
    free(st);
    return rc;
}

void mist_style_pairwise(const float *out, int K, int n, int img, double *l1, double *ssim) {
    size_t px = (size_t)img * img;
    double sl = 0, ss = 0;
    long pairs = 0;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < K; a++)
            for (int b = a + 1; b < K; b++) {
                const float *x = out + ((size_t)a * n + i) * px, *y = out + ((size_t)b * n + i) * px;
                sl += io_mae(x, y, px, NULL);
                ss += io_ssim(x, y, img, img, NULL);
                pairs++;
            }
    *l1 = pairs ? sl / pairs : 0;
    *ssim = pairs ? ss / pairs : 1;
}

static int write_json(const char *path, const mist_style_model *m, const mist_style_div_result *r, uint32_t seed,
                      char *err, size_t errlen) {
    cJSON *root = cJSON_CreateObject(), *l1 = cJSON_CreateObject(), *ss = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", m->path);
    cJSON_AddNumberToObject(root, "step", (double)m->step);
    cJSON_AddNumberToObject(root, "samples", r->samples);
    cJSON_AddNumberToObject(root, "slices", r->slices);
    cJSON_AddNumberToObject(root, "seed", seed);
    for (int d = 0; d < 4; d++) {
        cJSON_AddNumberToObject(l1, mist_domain_name(d), r->l1[d]);
        cJSON_AddNumberToObject(ss, mist_domain_name(d), r->ssim[d]);
    }
    cJSON_AddItemToObject(root, "mean_pairwise_l1", l1);
    cJSON_AddItemToObject(root, "mean_pairwise_ssim", ss);
    cJSON_AddStringToObject(root, "note", "images in [0, 1]; LPIPS not reported (needs network weights vkmist does not ship)");
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = txt ? fopen(path, "w") : NULL;
    int rc = f && fputs(txt, f) >= 0 && fputc('\n', f) != EOF ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    free(txt);
    return rc ? io_err(err, errlen, "cannot write %s", path) : 0;
}

int mist_style_diversity(mist_style_model *m, const mist_style_div_opts *o, mist_style_div_result *r, FILE *log,
                         char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    int img = m->cfg.img, K = o->samples, N = o->slices, rc = 0;
    size_t px = (size_t)img * img;
    if (K < 2 || N < 1) return io_err(err, errlen, "diversity: needs --samples >= 2 and --slices >= 1");
    mist_dataset ds;
    if (mist_dataset_open(&ds, o->data_dir, img, m->norm, 1, NULL, log, err, errlen)) return -1;
    int64_t *picks = malloc(sizeof(int64_t) * N);
    float *four = NULL, *out = NULL;
    io_grid *g = NULL;
    if (!picks) rc = io_err(err, errlen, "out of host memory");
    if (!rc && (N = mist_style_pick(ds.cache, N, picks, err, errlen)) < 1) {
        if (N == 0) io_err(err, errlen, "diversity: the data holds no slices");
        rc = -1;
    }
    if (!rc) {
        four = malloc(sizeof(float) * 4 * px * N);
        out = malloc(sizeof(float) * px * (size_t)N * K);
        if (!four || !out) rc = io_err(err, errlen, "out of host memory");
    }
    for (int i = 0; i < N && !rc; i++) memcpy(four + (size_t)i * 4 * px, io_cache_slice(ds.cache, picks[i]), sizeof(float) * 4 * px);
    if (!rc && o->out && !(g = io_grid_new(K + 1, 4, mist_style_tile(img), mist_style_tile(img), 11)))
        rc = io_err(err, errlen, "cannot make a %d x 4 picture grid", K + 1);
    r->samples = K;
    r->slices = N;
    if (!rc && log) fprintf(log, "%d random styles (mapping seeds %u..%u) for each of %d slices and 4 target domains\n", K,
                            o->seed, o->seed + (uint32_t)K - 1, N);
    for (int t = 0; t < 4 && !rc; t++) {
        rc = mist_style_diverse(m, four, N, t, K, o->seed, out, err, errlen);
        if (rc) break;
        mist_style_pairwise(out, K, N, img, &r->l1[t], &r->ssim[t]);
        if (log) fprintf(log, "  %-5s mean pairwise L1 %.4f  SSIM %.4f\n", mist_domain_label(t), r->l1[t], r->ssim[t]);
        if (g) { /* first slice: the truth, then the K samples */
            char lab[32];
            io_grid_put(g, 0, t, four + (size_t)t * px, img, img);
            snprintf(lab, sizeof lab, "truth %s", mist_domain_label(t));
            io_grid_label(g, 0, t, lab);
            for (int k = 0; k < K; k++) {
                io_grid_put(g, k + 1, t, out + (size_t)k * N * px, img, img);
                snprintf(lab, sizeof lab, "seed %u", o->seed + (uint32_t)k);
                io_grid_label(g, k + 1, t, lab);
            }
        }
    }
    if (!rc && log) fprintf(log, "(LPIPS is not reported: it needs network weights vkmist does not ship)\n");
    if (!rc && o->out) {
        char path[1200];
        snprintf(path, sizeof path, "%s.json", o->out);
        rc = write_json(path, m, r, o->seed, err, errlen);
        snprintf(path, sizeof path, "%s.png", o->out);
        if (!rc) rc = io_grid_write(g, path, err, errlen);
        if (!rc && log) fprintf(log, "wrote %s.json, %s.png\n", o->out, o->out);
    }
    io_grid_free(g);
    free(picks), free(four), free(out);
    mist_dataset_close(&ds);
    return rc;
}
