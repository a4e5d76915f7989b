/* Opening a checkpoint for the style analyses (see style_model.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "train/checkpoint.h"
#include "train/snapshot.h"
#include "train/style_model.h"

#define INFER_BATCH 4

int mist_style_domain(const char *name) {
    static const char *const names[2][4] = {{"t1", "t1ce", "t2", "flair"}, {"t1n", "t1c", "t2w", "t2f"}};
    for (int k = 0; name && k < 2; k++)
        for (int d = 0; d < 4; d++)
            if (!strcasecmp(name, names[k][d])) return d;
    return -1;
}

static ckpt_reader *open_ckpt(const char *model, char *path, size_t pathlen, char *err, size_t errlen) {
    struct stat st;
    if (!model || stat(model, &st)) {
        snprintf(err, errlen, "checkpoint %s: no such file or run directory", model ? model : "(none)");
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(path, pathlen, "%s", model);
        return ckpt_open(model, err, errlen);
    }
    long step;
    ckpt_reader *r = NULL;
    int found = ckpt_latest_good(model, path, pathlen, &step, &r, err, errlen);
    if (found == CKPT_NONE)
        snprintf(err, errlen, "%s holds no checkpoint (expected %s/ckpt/step_*.safetensors)", model, model);
    return found == CKPT_FOUND ? r : NULL;
}

int mist_style_model_open(mist_style_model *m, const char *model, const char *config, int device, int verbose,
                          char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    ckpt_reader *r = open_ckpt(model, m->path, sizeof m->path, err, errlen);
    if (!r) return -1;
    int rc = mist_snapshot_check(r, config, err, errlen);
    const char *cname = ckpt_meta_get(r, "config"), *norm = ckpt_meta_get(r, "normalization"),
               *step = ckpt_meta_get(r, "step");
    if (!rc && mist_config_get(cname ? cname : "?", &m->cfg, err, errlen)) rc = -1;
    m->norm = IO_NORM_PERCENTILE;
    if (!rc && norm && io_norm_parse(norm, &m->norm)) {
        snprintf(err, errlen, "%s: unknown normalization '%s'", m->path, norm);
        rc = -1;
    }
    m->step = step ? atol(step) : 0;
    if (!rc) {
        vkm_opts vo = vkm_default_opts();
        vo.device = device;
        vo.verbose = verbose;
        rc = vkm_ctx_create(&vo, &m->ctx, err, errlen);
    }
    if (!rc) rc = mist_infer_open(m->ctx, &m->cfg, INFER_BATCH, &m->inf, err, errlen);
    if (!rc && !(m->mean_style = calloc(4 * (size_t)m->cfg.style_dim, sizeof(float)))) {
        snprintf(err, errlen, "out of host memory");
        rc = -1;
    }
    if (!rc) {
        err[0] = 0;
        rc = mist_snapshot_load_infer(r, m->inf, m->mean_style, err, errlen);
        if (rc && !err[0]) snprintf(err, errlen, "loading %s failed", m->path);
    }
    ckpt_close(r);
    if (rc) mist_style_model_close(m);
    return rc;
}

void mist_style_model_close(mist_style_model *m) {
    mist_infer_close(m->inf);
    if (m->ctx) vkm_ctx_destroy(m->ctx);
    free(m->mean_style);
    m->inf = NULL;
    m->ctx = NULL;
    m->mean_style = NULL;
}

int mist_style_generate(mist_style_model *m, int target, const float *four, int n, const float *style, float *out,
                        char *err, size_t errlen) {
    size_t px = (size_t)m->cfg.img * m->cfg.img;
    if (target < 0 || target > 3 || n < 1) {
        snprintf(err, errlen, "bad target %d or slice count %d", target, n);
        return -1;
    }
    float *x = malloc((size_t)n * 4 * px * sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    const float *xs[4];
    for (int d = 0; d < 4; d++) {
        for (int j = 0; j < n; j++)
            for (size_t i = 0; i < px; i++) x[((size_t)d * n + j) * px + i] = 2 * four[((size_t)j * 4 + d) * px + i] - 1;
        xs[d] = x + (size_t)d * n * px;
    }
    int rc = mist_infer_generate(m->inf, target, xs, style, n, out, err, errlen);
    for (size_t i = 0; !rc && i < (size_t)n * px; i++) {
        float v = 0.5f * (out[i] + 1);
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    free(x);
    return rc;
}

int mist_style_encode(mist_style_model *m, int d, const float *x, int n, float *codes, char *err, size_t errlen) {
    size_t px = (size_t)m->cfg.img * m->cfg.img;
    if (d < 0 || d > 3 || n < 1) {
        snprintf(err, errlen, "bad domain %d or slice count %d", d, n);
        return -1;
    }
    float *y = malloc((size_t)n * px * sizeof *y);
    if (!y) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    for (size_t i = 0; i < (size_t)n * px; i++) y[i] = 2 * x[i] - 1;
    int rc = mist_infer_style_encode(m->inf, d, y, n, codes, err, errlen);
    free(y);
    return rc;
}
