/* Device inference with a trained model (see infer.h): an inference store
 * built from the config, twelve small graphs (generate per target, style
 * encoder and mapping per domain) recorded on first use and replayed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/infer.h"

enum { G_GEN = 0, G_SE = 4, G_MAP = 8, G_COUNT = 12 };

struct mist_infer {
    vkm_ctx *ctx;
    mist_net net;
    int style_out;          /* STATE [B, style_dim] */
    vkm_store_dev *sd;
    vkm_graph *g[G_COUNT];
    vkm_graph_exec *e[G_COUNT];
    vkm_arena *arena;
    float *scratch;         /* [B][img][img] */
    float *style_scratch;   /* [B][style_dim] */
};

int mist_infer_batch(const mist_infer *inf) { return inf->net.batch; }
const mist_net *mist_infer_net(const mist_infer *inf) { return &inf->net; }

void mist_infer_close(mist_infer *inf) {
    if (!inf) return;
    for (int i = 0; i < G_COUNT; i++) {
        vkm_graph_exec_free(inf->e[i]);
        vkm_graph_free(inf->g[i]);
    }
    vkm_arena_free(inf->arena);
    vkm_store_device_free(inf->sd);
    mist_net_free(&inf->net);
    free(inf->scratch);
    free(inf->style_scratch);
    free(inf);
}

static int build_graphs(mist_infer *inf, char *err, size_t errlen) {
    const mist_net *n = &inf->net;
    const mist_model *m = &n->model;
    for (int i = 0; i < G_COUNT; i++) {
        vkm_graph *g = inf->g[i] = vkm_graph_new(n->st);
        if (!g) {
            snprintf(err, errlen, "out of host memory");
            return -1;
        }
        int d = i % 4;
        if (i < G_SE) {
            vkm_t y = mist_infer_build(g, n, 0xFu & ~(1u << d));
            if (y) vkm_g_output(g, y, n->ids.x_hat);
        } else if (i < G_MAP) {
            vkm_t s = mist_style_encoder(g, m, vkm_g_store(g, n->ids.x[d]), d);
            if (s) vkm_g_output(g, s, inf->style_out);
        } else {
            vkm_t z = vkm_g_randn(g, vkm_shp(n->batch, m->cfg.latent, 1, 1), n->ids.seeds, 0, 0);
            vkm_t s = mist_mapping(g, m, z, d);
            if (s) vkm_g_output(g, s, inf->style_out);
        }
        if (vkm_graph_error(g)[0] || vkm_graph_plan(g, vkm_chunk_limit(inf->ctx))) {
            snprintf(err, errlen, "inference graph: %s", vkm_graph_error(g));
            return -1;
        }
    }
    return 0;
}

int mist_infer_open(vkm_ctx *ctx, const mist_config *cfg, int batch, mist_infer **out, char *err, size_t errlen) {
    *out = NULL;
    mist_infer *inf = calloc(1, sizeof *inf);
    if (!inf) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    inf->ctx = ctx;
    mist_train_opts o = mist_train_opts_default();
    o.batch = batch;
    int rc = mist_net_init(&inf->net, cfg, &o, err, errlen);
    if (!rc) {
        inf->style_out = vkm_store_add(inf->net.st, "style_out", VKM_S_STATE, vkm_shp(batch, cfg->style_dim, 1, 1));
        rc = inf->style_out < 0 ? -1 : 0;
        if (rc) snprintf(err, errlen, "inference store");
    }
    if (!rc) rc = build_graphs(inf, err, errlen);
    if (!rc &&
        (vkm_store_device_init(inf->net.st, ctx, &inf->sd) || vkm_arena_new(ctx, inf->g, G_COUNT, &inf->arena))) {
        snprintf(err, errlen, "config %s, inference batch %d: %s", cfg->name, batch, vkm_error(ctx));
        rc = -1;
    }
    if (!rc) {
        inf->scratch = calloc((size_t)batch * cfg->img * cfg->img, sizeof(float));
        inf->style_scratch = calloc((size_t)batch * cfg->style_dim, sizeof(float));
        if (!inf->scratch || !inf->style_scratch) {
            snprintf(err, errlen, "out of host memory");
            rc = -1;
        }
    }
    if (rc) {
        mist_infer_close(inf);
        return -1;
    }
    *out = inf;
    return 0;
}

int mist_infer_set_param(mist_infer *inf, int id, const float *values) {
    return vkm_store_write(inf->sd, id, 0, values);
}

static int run(mist_infer *inf, int gi, char *err, size_t errlen) {
    if (!inf->e[gi] && vkm_graph_record(inf->g[gi], inf->sd, inf->arena, 0, &inf->e[gi])) {
        snprintf(err, errlen, "recording inference: %s", vkm_error(inf->ctx));
        return -1;
    }
    if (vkm_graph_exec_run(inf->e[gi])) {
        snprintf(err, errlen, "inference: %s", vkm_error(inf->ctx));
        return -1;
    }
    return 0;
}

/* Writes rows [first, first+k) of src (row = `row` floats) into a B-row
 * store tensor, zero-padding the rest. */
static int put_rows(mist_infer *inf, int id, const float *src, int first, int k, size_t row, float *scratch) {
    int B = inf->net.batch;
    memcpy(scratch, src + (size_t)first * row, (size_t)k * row * sizeof(float));
    memset(scratch + (size_t)k * row, 0, (size_t)(B - k) * row * sizeof(float));
    return vkm_store_write(inf->sd, id, 0, scratch);
}

int mist_infer_generate(mist_infer *inf, int target, const float *const x[4], const float *style, int n, float *out,
                        char *err, size_t errlen) {
    const mist_net *net = &inf->net;
    int B = net->batch, img = net->model.cfg.img, S = net->model.cfg.style_dim;
    size_t px = (size_t)img * img;
    if (target < 0 || target > 3) {
        snprintf(err, errlen, "bad target domain %d", target);
        return -1;
    }
    for (int first = 0; first < n; first += B) {
        int k = n - first < B ? n - first : B;
        for (int d = 0; d < 4; d++)
            if (d != target && put_rows(inf, net->ids.x[d], x[d], first, k, px, inf->scratch)) goto fail;
        if (put_rows(inf, net->ids.style, style, first, k, (size_t)S, inf->style_scratch)) goto fail;
        if (run(inf, G_GEN + target, err, errlen)) return -1;
        if (vkm_store_read(inf->sd, net->ids.x_hat, 0, inf->scratch)) goto fail;
        memcpy(out + (size_t)first * px, inf->scratch, (size_t)k * px * sizeof(float));
    }
    return 0;
fail:
    snprintf(err, errlen, "inference transfer: %s", vkm_error(inf->ctx));
    return -1;
}

int mist_infer_style_encode(mist_infer *inf, int d, const float *x, int n, float *out, char *err, size_t errlen) {
    const mist_net *net = &inf->net;
    int B = net->batch, img = net->model.cfg.img, S = net->model.cfg.style_dim;
    for (int first = 0; first < n; first += B) {
        int k = n - first < B ? n - first : B;
        if (put_rows(inf, net->ids.x[d], x, first, k, (size_t)img * img, inf->scratch)) goto fail;
        if (run(inf, G_SE + d, err, errlen)) return -1;
        if (vkm_store_read(inf->sd, inf->style_out, 0, inf->style_scratch)) goto fail;
        memcpy(out + (size_t)first * S, inf->style_scratch, (size_t)k * S * sizeof(float));
    }
    return 0;
fail:
    snprintf(err, errlen, "inference transfer: %s", vkm_error(inf->ctx));
    return -1;
}

int mist_infer_style_map(mist_infer *inf, int d, uint32_t seed, int n, float *out, char *err, size_t errlen) {
    const mist_net *net = &inf->net;
    int B = net->batch, S = net->model.cfg.style_dim;
    for (int first = 0, chunk = 0; first < n; first += B, chunk++) {
        int k = n - first < B ? n - first : B;
        uint32_t seeds[4] = {seed, 0x5eed0000u + (uint32_t)chunk, 0, 0};
        if (vkm_store_write(inf->sd, net->ids.seeds, 0, seeds)) goto fail;
        if (run(inf, G_MAP + d, err, errlen)) return -1;
        if (vkm_store_read(inf->sd, inf->style_out, 0, inf->style_scratch)) goto fail;
        memcpy(out + (size_t)first * S, inf->style_scratch, (size_t)k * S * sizeof(float));
    }
    return 0;
fail:
    snprintf(err, errlen, "inference transfer: %s", vkm_error(inf->ctx));
    return -1;
}
