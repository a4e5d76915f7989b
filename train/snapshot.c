/* Model checkpoints: see snapshot.h. Tensor names: the parameter's name for
 * its value, with ".ema", ".adam_m", ".adam_v" for the other copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/snapshot.h"

static const char *const suffix[5] = {"", ".grad", ".adam_m", ".adam_v", ".ema"};

int mist_snapshot_save(const char *run_dir, long step, int keep, vkm_store_dev *sd, const mist_net *n,
                       const uint32_t *adam_steps, const float *mean_style, const char *const *meta, char *err,
                       size_t errlen) {
    ckpt_writer *w = ckpt_begin();
    if (!w) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    int rc = 0;
    err[0] = 0;
    for (int id = 0; id < vkm_store_count(n->st) && !rc; id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM) continue;
        int64_t shape[4] = {e->shape.n, e->shape.c, e->shape.h, e->shape.w};
        float *h = malloc((size_t)e->numel * sizeof *h);
        if (!h) rc = -1;
        const int whats[4] = {0, 4, 2, 3};
        for (int k = 0; k < 4 && !rc; k++) {
            char name[160];
            snprintf(name, sizeof name, "%s%s", e->name, suffix[whats[k]]);
            if (vkm_store_read(sd, id, whats[k], h)) {
                snprintf(err, errlen, "reading %s from the device: %s", name, vkm_error(vkm_store_dev_ctx(sd)));
                rc = -1;
            } else {
                rc = ckpt_add_f32(w, name, h, shape, 4);
            }
        }
        free(h);
    }
    int64_t ns = vkm_store_count(n->st) + 1, ms[2] = {4, n->model.cfg.style_dim};
    if (!rc) rc = ckpt_add_u32(w, "adam_steps", adam_steps, &ns, 1);
    if (!rc) rc = ckpt_add_f32(w, "mean_style", mean_style, ms, 2);
    char buf[64];
    snprintf(buf, sizeof buf, "%ld", step);
    if (!rc) rc = ckpt_meta(w, "format", MIST_CKPT_FORMAT) || ckpt_meta(w, "config", n->model.cfg.name) ||
                  ckpt_meta(w, "step", buf);
    for (int i = 0; meta && meta[i] && !rc; i += 2) rc = ckpt_meta(w, meta[i], meta[i + 1]);
    /* the writer remembers the first failed add and reports it here */
    if (!err[0]) rc = ckpt_save_step(w, run_dir, step, keep, err, errlen) < 0 ? -1 : 0;
    ckpt_free(w);
    return rc;
}

int mist_snapshot_check(const ckpt_reader *r, const char *cfg_name, char *err, size_t errlen) {
    const char *f = ckpt_meta_get(r, "format"), *c = ckpt_meta_get(r, "config");
    if (!f || strcmp(f, MIST_CKPT_FORMAT)) {
        snprintf(err, errlen, "%s is not a vkmist MIST GAN checkpoint of this version (format '%s', expected '%s')",
                 ckpt_reader_path(r), f ? f : "none", MIST_CKPT_FORMAT);
        return -1;
    }
    if (cfg_name && (!c || strcmp(c, cfg_name))) {
        snprintf(err, errlen, "%s is a checkpoint of config '%s', not '%s'", ckpt_reader_path(r), c ? c : "?", cfg_name);
        return -1;
    }
    return 0;
}

static int load_param(const ckpt_reader *r, const vkm_store_entry *e, int what, float *h, char *err, size_t errlen) {
    char name[160];
    snprintf(name, sizeof name, "%s%s", e->name, suffix[what]);
    return ckpt_read_f32(r, name, h, e->numel, err, errlen);
}

int mist_snapshot_load_train(const ckpt_reader *r, vkm_store_dev *sd, const mist_net *n, uint32_t *adam_steps,
                             float *mean_style, char *err, size_t errlen) {
    if (mist_snapshot_check(r, n->model.cfg.name, err, errlen)) return -1;
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM) continue;
        float *h = malloc((size_t)e->numel * sizeof *h);
        if (!h) return -1;
        const int whats[4] = {0, 4, 2, 3};
        for (int k = 0; k < 4; k++)
            if (load_param(r, e, whats[k], h, err, errlen) || vkm_store_write(sd, id, whats[k], h)) {
                if (!err[0]) snprintf(err, errlen, "writing %s to the device", e->name);
                free(h);
                return -1;
            }
        free(h);
    }
    if (ckpt_read_u32(r, "adam_steps", adam_steps, vkm_store_count(n->st) + 1, err, errlen)) return -1;
    return ckpt_read_f32(r, "mean_style", mean_style, 4 * n->model.cfg.style_dim, err, errlen);
}

int mist_snapshot_load_infer(const ckpt_reader *r, mist_infer *inf, float *mean_style, char *err, size_t errlen) {
    const mist_net *n = mist_infer_net(inf);
    if (mist_snapshot_check(r, n->model.cfg.name, err, errlen)) return -1;
    for (int id = 0; id < vkm_store_count(n->st); id++) {
        const vkm_store_entry *e = vkm_store_get(n->st, id);
        if (e->kind != VKM_S_PARAM || !e->ema) continue;
        float *h = malloc((size_t)e->numel * sizeof *h);
        if (!h) return -1;
        int rc = load_param(r, e, 4, h, err, errlen) || mist_infer_set_param(inf, id, h);
        free(h);
        if (rc) {
            if (!err[0]) snprintf(err, errlen, "loading %s", e->name);
            return -1;
        }
    }
    return ckpt_read_f32(r, "mean_style", mean_style, 4 * n->model.cfg.style_dim, err, errlen);
}
