/* The training-step graph (DESIGN §4) and the store layout it runs on. The
 * order inside one graph is the order of the algorithm: generator forward,
 * D loss/backward/Adam, G losses with the updated D, G backward/Adam, EMA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/step.h"

static const char *const loss_names[MIST_NLOSS] = {"d_real", "d_fake", "g_adv", "csl", "ccl", "sdl", "sup"};

const char *mist_loss_name(int l) { return l >= 0 && l < MIST_NLOSS ? loss_names[l] : "?"; }

static int add(vkm_store *st, const char *name, int kind, vkm_shape s, int *id, char *err, size_t errlen) {
    *id = vkm_store_add(st, name, kind, s);
    if (*id < 0) snprintf(err, errlen, "cannot add store tensor %s (duplicate name?)", name);
    return *id < 0 ? -1 : 0;
}

int mist_net_init(mist_net *n, const mist_config *cfg, const mist_train_opts *o, char *err, size_t errlen) {
    memset(n, 0, sizeof *n);
    if (o->batch < 1) {
        snprintf(err, errlen, "batch must be >= 1 (got %d)", o->batch);
        return -1;
    }
    n->opts = *o;
    n->batch = o->batch;
    n->st = vkm_store_new();
    if (!n->st) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    if (mist_model_init(&n->model, cfg, n->st, o->lr, o->lr_map, err, errlen)) goto fail;
    const int B = o->batch, img = cfg->img;
    mist_step_ids *ids = &n->ids;
    char nm[32];
    for (int d = 0; d < MIST_N; d++) {
        snprintf(nm, sizeof nm, "x_d%d", d);
        if (add(n->st, nm, VKM_S_INPUT, vkm_shp(B, 1, img, img), &ids->x[d], err, errlen)) goto fail;
    }
    if (add(n->st, "xref", VKM_S_INPUT, vkm_shp(B, 1, img, img), &ids->xref, err, errlen) ||
        add(n->st, "xref2", VKM_S_INPUT, vkm_shp(B, 1, img, img), &ids->xref2, err, errlen) ||
        add(n->st, "style", VKM_S_INPUT, vkm_shp(B, cfg->style_dim, 1, 1), &ids->style, err, errlen) ||
        add(n->st, "seeds", VKM_S_U32, vkm_shp(1, 4, 1, 1), &ids->seeds, err, errlen) ||
        add(n->st, "loss_weights", VKM_S_INPUT, vkm_shp(1, MIST_NW, 1, 1), &ids->loss_weights, err, errlen) ||
        add(n->st, "losses", VKM_S_STATE, vkm_shp(1, MIST_NLOSS, 1, 1), &ids->losses, err, errlen) ||
        add(n->st, "x_hat", VKM_S_STATE, vkm_shp(B, 1, img, img), &ids->x_hat, err, errlen))
        goto fail;
    /* last, with a word for every id (its own included: Adam wants one per store entry) */
    if (add(n->st, "adam_steps", VKM_S_U32, vkm_shp(1, vkm_store_count(n->st) + 1, 1, 1), &ids->adam_steps, err, errlen))
        goto fail;
    return 0;
fail:
    vkm_store_free(n->st);
    n->st = NULL;
    return -1;
}

void mist_net_free(mist_net *n) {
    if (n->st) vkm_store_free(n->st);
    n->st = NULL;
}

void mist_step_loss_weights(const mist_train_opts *o, long it, float w[MIST_NW]) {
    long ds_iters = o->ds_iters > 0 ? o->ds_iters : o->iters / 2;
    double decay = ds_iters > 0 ? 1.0 - (double)it / (double)ds_iters : 0.0;
    if (decay < 0) decay = 0;
    w[MIST_W_ONE] = 1.0f;
    w[MIST_W_STY] = o->l_sty;
    w[MIST_W_CYC] = o->l_cyc;
    w[MIST_W_DS] = (float)(-o->l_ds * decay);
    w[MIST_W_SUP] = o->l_sup;
}

/* Appends the ids updated by the last vkm_g_adam to s->updated. */
static int collect_updated(mist_step *s) {
    const int *ids = NULL;
    int k = vkm_g_updated_params(s->g, &ids);
    if (k <= 0) return k;
    int *u = realloc(s->updated, (size_t)(s->nupdated + k) * sizeof *u);
    if (!u) return -1;
    memcpy(u + s->nupdated, ids, (size_t)k * sizeof *u);
    s->updated = u;
    s->nupdated += k;
    return 0;
}

/* Store ids of the generator-side (disc = 0) or discriminator parameters. */
static int *param_list(const vkm_store *st, int disc, int *count) {
    int k = mist_model_param_ids(st, disc, NULL, 0);
    int *ids = malloc((size_t)(k ? k : 1) * sizeof *ids);
    if (ids) mist_model_param_ids(st, disc, ids, k);
    *count = k;
    return ids;
}

/* The styles s[0..count) of the step (count 1, or 2 when the G update needs
 * the diversification style too). On the latent path both come from one
 * stacked pass of the mapping network (its backward over the second, unused
 * part costs next to nothing); on the reference path each gets its own pass
 * of the style encoder, so that no backward runs over xref2's part. */
static void styles_of(vkm_graph *g, const mist_net *n, int target, int path, int count, vkm_t *s) {
    const mist_model *m = &n->model;
    if (path == MIST_PATH_REF) {
        for (int i = 0; i < count; i++)
            s[i] = mist_style_encoder(g, m, vkm_g_store(g, i ? n->ids.xref2 : n->ids.xref), target);
        return;
    }
    vkm_t z[2];
    for (int i = 0; i < count; i++)
        z[i] = vkm_g_randn(g, vkm_shp(n->batch, m->cfg.latent, 1, 1), n->ids.seeds, i,
                           (int64_t)n->sample0 * m->cfg.latent);
    vkm_t st = mist_mapping(g, m, vkm_g_stack(g, z, count), target);
    for (int i = 0; i < count; i++) s[i] = vkm_g_unstack(g, st, count, i);
}

/* The step on an empty graph: phases bit 0 = the D update, bit 1 = the G
 * update; backward/optimize add the backward passes and Adam/EMA. The full
 * training step is (3, 1, 1); the loss-only graphs of the conformance test
 * use one phase. Returns -1 on a graph error or OOM. */
static int build(mist_step *s, const mist_net *n, int t, int path, int phases, int backward, int optimize) {
    vkm_graph *g = s->g;
    const mist_model *m = &n->model;
    const mist_step_ids *ids = &n->ids;
    int ng = 0, nd = 0, rc = -1;
    int *gp = param_list(n->st, 0, &ng), *dp = param_list(n->st, 1, &nd);
    if (!gp || !dp) goto out;

    /* 1-2: the generator forward */
    vkm_t x[MIST_N], xin[MIST_N];
    for (int d = 0; d < MIST_N; d++) {
        x[d] = vkm_g_store(g, ids->x[d]);
        xin[d] = d == t ? 0 : x[d];
    }
    vkm_t sty[2] = {0, 0};
    styles_of(g, n, t, path, phases & 2 ? 2 : 1, sty);
    vkm_t s1 = sty[0];
    vkm_t cc = 0, skips[MIST_MAX_LEVELS] = {0};
    vkm_t x_hat = mist_generate(g, m, xin, s1, &cc, skips);
    s->x_hat = x_hat;

    /* 3: the discriminator update on a detached x_hat */
    vkm_t d_loss[2] = {0, 0};
    if (phases & 1) {
        /* real and fake as one stacked batch (D has no batch-coupled layer) */
        vkm_t rf[2] = {x[t], vkm_g_detach(g, x_hat)};
        vkm_t logit = mist_discriminator(g, m, vkm_g_stack(g, rf, 2), t);
        d_loss[0] = vkm_g_bce(g, vkm_g_unstack(g, logit, 2, 0), 1.0f);
        d_loss[1] = vkm_g_bce(g, vkm_g_unstack(g, logit, 2, 1), 0.0f);
        const int d_w[2] = {MIST_W_ONE, MIST_W_ONE};
        if (backward && vkm_g_backward(g, d_loss, d_w, 2, ids->loss_weights, dp, nd)) goto out;
        if (optimize && n->grad_sync && vkm_g_host_sync(g, MIST_SYNC_D)) goto out;
        if (optimize && vkm_g_adam(g, n->opts.beta1, n->opts.beta2, n->opts.eps, n->opts.wd, ids->adam_steps)) goto out;
        if (optimize && collect_updated(s)) goto out;
    }
    vkm_t g_adv = 0, csl = 0, ccl = 0, sdl = 0, sup = 0;
    if (phases & 2) {

    /* 4: the generator losses, evaluated with the updated discriminator */
    g_adv = vkm_g_bce(g, mist_discriminator(g, m, x_hat, t), 1.0f);
    vkm_t skips_hat[MIST_MAX_LEVELS] = {0};
    vkm_t c_hat = mist_content_encoder(g, m, x_hat, skips_hat);
    /* Stacked batches through the shared networks: the style encoder takes
     * x_hat (for CSL) and the ni input domains (their CCL styles) in one
     * pass, each part through its domain's head; the ni reconstructions go
     * through the decoder as one batch (only the separators differ per
     * domain), and one L1 sums the domains' CCL means. */
    vkm_t sep[MIST_N], xi[MIST_N], se_in[MIST_N + 1], sty_p[MIST_N + 1], sk[MIST_MAX_LEVELS];
    int dom[MIST_N + 1] = {t}, ni = 0;
    se_in[0] = x_hat;
    for (int d = 0; d < MIST_N; d++)
        if (d != t) {
            xi[ni] = se_in[ni + 1] = x[d], dom[ni + 1] = d;
            sep[ni++] = mist_separator(g, m, c_hat, d);
        }
    mist_style_encoder_parts(g, m, vkm_g_stack(g, se_in, ni + 1), dom, ni + 1, sty_p);
    csl = vkm_g_l1(g, sty_p[0], s1);
    for (int k = 0; k < mist_num_skips(&m->cfg); k++) {
        vkm_t rep[MIST_N] = {skips_hat[k], skips_hat[k], skips_hat[k], skips_hat[k]};
        sk[k] = vkm_g_stack(g, rep, ni);
    }
    vkm_t xs = vkm_g_stack(g, xi, ni);
    vkm_t rec = mist_decoder(g, m, vkm_g_stack(g, sep, ni), vkm_g_stack(g, sty_p + 1, ni), sk);
    ccl = vkm_g_l1_parts(g, rec, xs, ni);
    /* the backward takes loss-op outputs only */
    vkm_t g_loss[5];
    int g_w[5], nl = 0;
    g_loss[nl] = g_adv, g_w[nl++] = MIST_W_ONE;
    g_loss[nl] = csl, g_w[nl++] = MIST_W_STY;
    g_loss[nl] = ccl, g_w[nl++] = MIST_W_CYC;
    vkm_t x2 = vkm_g_detach(g, mist_decoder(g, m, cc, sty[1], skips));
    sdl = vkm_g_l1(g, x_hat, x2);
    sup = vkm_g_l1(g, x_hat, x[t]);
    g_loss[nl] = sdl, g_w[nl++] = MIST_W_DS;
    g_loss[nl] = sup, g_w[nl++] = MIST_W_SUP;
    if (backward && vkm_g_backward(g, g_loss, g_w, nl, ids->loss_weights, gp, ng)) goto out;
    if (optimize && n->grad_sync && vkm_g_host_sync(g, MIST_SYNC_G)) goto out;
    if (optimize && vkm_g_adam(g, n->opts.beta1, n->opts.beta2, n->opts.eps, n->opts.wd, ids->adam_steps)) goto out;
    if (optimize && collect_updated(s)) goto out;
    if (optimize && vkm_g_ema(g, n->opts.ema_decay)) goto out;
    }

    /* what the host reads back (a phase not built reads 0) */
    vkm_t all[MIST_NLOSS] = {d_loss[0], d_loss[1], g_adv, csl, ccl, sdl, sup};
    if (vkm_g_output(g, vkm_g_concat(g, all, MIST_NLOSS, 1), ids->losses)) goto out;
    if (vkm_g_output(g, x_hat, ids->x_hat)) goto out;
    rc = 0;
out:
    free(gp);
    free(dp);
    return rc;
}

static int build_variant(mist_step *s, const mist_net *n, int target, int path, int phases, int backward,
                         int optimize, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (target < 0 || target >= MIST_N || (path != MIST_PATH_LATENT && path != MIST_PATH_REF)) {
        snprintf(err, errlen, "bad step variant (target %d, path %d)", target, path);
        return -1;
    }
    s->target = target, s->path = path;
    s->g = vkm_graph_new(n->st);
    if (!s->g) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    int rc = build(s, n, target, path, phases, backward, optimize);
    const char *gerr = vkm_graph_error(s->g);
    if (rc || (gerr && gerr[0])) {
        snprintf(err, errlen, "training step (config %s, target %s, %s path): %s", n->model.cfg.name,
                 mist_domain_name(target), path == MIST_PATH_REF ? "reference" : "latent",
                 gerr && gerr[0] ? gerr : "out of host memory");
        mist_step_free(s);
        return -1;
    }
    return 0;
}

int mist_step_build(mist_step *s, const mist_net *n, int target, int path, char *err, size_t errlen) {
    return build_variant(s, n, target, path, 3, 1, 1, err, errlen);
}

int mist_loss_build(mist_step *s, const mist_net *n, int target, int path, int which, int backward, char *err,
                    size_t errlen) {
    return build_variant(s, n, target, path, which ? 2 : 1, backward, 0, err, errlen);
}

void mist_step_free(mist_step *s) {
    if (s->g) vkm_graph_free(s->g);
    free(s->updated);
    memset(s, 0, sizeof *s);
}

vkm_t mist_infer_build(vkm_graph *g, const mist_net *n, unsigned present) {
    vkm_t xin[MIST_N];
    for (int d = 0; d < MIST_N; d++) xin[d] = present >> d & 1 ? vkm_g_store(g, n->ids.x[d]) : 0;
    return mist_generate(g, &n->model, xin, vkm_g_store(g, n->ids.style), NULL, NULL);
}
