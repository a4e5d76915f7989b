/* The training loop (see trainer.h). Everything random is a pure function of
 * (seed, iteration) — target domain, style path, z seeds, batches — so a
 * resumed run continues exactly as an uninterrupted one, and every process
 * of a data-parallel run makes the same choices and takes its own share of
 * the same global batch. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io/metrics.h"
#include "train/dataset.h"
#include "train/loader.h"
#include "train/log.h"
#include "train/progress.h"
#include "train/samples.h"
#include "train/snapshot.h"
#include "train/trainer.h"

#define SAMPLE_SLICES 3
#define VAL_SLICES 24
#define STYLE_SLICES 32
#define INFER_BATCH 4

mist_trainer_opts mist_trainer_defaults(void) {
    mist_trainer_opts o;
    memset(&o, 0, sizeof o);
    o.opts = mist_train_opts_default();
    o.opts.iters = 20000;
    o.run_dir = "runs/tiny";
    o.config = "tiny";
    o.seed = 1;
    o.device = -1;
    o.ckpt_every = 1000;
    o.sample_every = 500;
    o.eval_every = 0;
    o.keep_ckpts = 3;
    o.flip = 1;
    o.norm = IO_NORM_PERCENTILE;
    return o;
}

typedef struct {
    const mist_trainer_opts *o;
    const mist_dist *dist;    /* o->dist, or a single process */
    mist_dist solo;
    int lead;                 /* rank 0: the one that writes files and talks */
    mist_config cfg;
    mist_dataset ds;
    vkm_ctx *ctx;
    mist_net net;
    vkm_store_dev *sd;
    mist_step step[MIST_N][MIST_NPATH];
    vkm_graph_exec *exec[MIST_N][MIST_NPATH];
    vkm_arena *arena;
    mist_loader *loader;
    mist_batch batch;
    uint32_t *adam_steps;
    float *mean_style;        /* [4][style_dim] */
    float *dom;               /* [B][img][img] scratch */
    mist_infer *inf;
    int64_t val_slices[VAL_SLICES];
    int n_val;
    csv_log train_csv, val_csv;
    int val_open;
    progress prog;
} trainer;

static int mkdir_p(const char *path) {
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* Copies the training store's EMA weights into the inference engine. */
static int sync_ema(trainer *T, char *err, size_t errlen) {
    if (!T->inf && mist_infer_open(T->ctx, &T->cfg, INFER_BATCH, &T->inf, err, errlen)) return -1;
    const vkm_store *st = T->net.st;
    for (int id = 0; id < vkm_store_count(st); id++) {
        const vkm_store_entry *e = vkm_store_get(st, id);
        if (e->kind != VKM_S_PARAM || !e->ema) continue;
        float *h = malloc((size_t)e->numel * sizeof *h);
        int rc = !h || vkm_store_read(T->sd, id, 4, h) || mist_infer_set_param(T->inf, id, h);
        free(h);
        if (rc) {
            snprintf(err, errlen, "copying EMA weights: %s", vkm_error(T->ctx));
            return -1;
        }
    }
    return 0;
}

/* DESIGN §6: the mean EMA style code per domain over training slices. */
static int mean_styles(trainer *T, char *err, size_t errlen) {
    int img = T->cfg.img, S = T->cfg.style_dim;
    int64_t picks[STYLE_SLICES];
    int np = mist_pick_slices(T->ds.cache, &T->ds.split, 0, STYLE_SLICES, picks, err, errlen);
    if (np <= 0) {
        if (np == 0) snprintf(err, errlen, "no training slices for the mean styles");
        return -1;
    }
    float *x = malloc((size_t)STYLE_SLICES * img * img * sizeof *x), *s = malloc((size_t)STYLE_SLICES * S * sizeof *s);
    int rc = !x || !s;
    for (int d = 0; d < MIST_N && !rc; d++) {
        for (int k = 0; k < np; k++) {
            const float *sl = io_cache_slice(T->ds.cache, picks[k]) + (size_t)d * img * img;
            for (int i = 0; i < img * img; i++) x[(size_t)k * img * img + i] = 2 * sl[i] - 1;
        }
        rc = mist_infer_style_encode(T->inf, d, x, np, s, err, errlen);
        for (int j = 0; j < S && !rc; j++) {
            double acc = 0;
            for (int k = 0; k < np; k++) acc += s[(size_t)k * S + j];
            T->mean_style[d * S + j] = (float)(acc / np);
        }
    }
    free(x);
    free(s);
    return rc;
}

/* Imputes target for k slices given in [0,1] ([k][4][img][img]) with the
 * mean style; out [k][img][img] in [0,1]. */
static int impute_mean(void *user, int k, int img, const float *truth, int target, float *out, char *err,
                       size_t errlen) {
    trainer *T = user;
    int S = T->cfg.style_dim;
    size_t px = (size_t)img * img;
    float *x = malloc((size_t)k * 4 * px * sizeof *x), *style = malloc((size_t)k * S * sizeof *style);
    if (!x || !style) {
        free(x), free(style);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    const float *xs[4];
    for (int d = 0; d < 4; d++) {
        for (int j = 0; j < k; j++)
            for (size_t i = 0; i < px; i++) x[((size_t)d * k + j) * px + i] = 2 * truth[((size_t)j * 4 + d) * px + i] - 1;
        xs[d] = x + (size_t)d * k * px;
    }
    for (int j = 0; j < k; j++) memcpy(style + (size_t)j * S, T->mean_style + target * S, S * sizeof(float));
    int rc = mist_infer_generate(T->inf, target, xs, style, k, out, err, errlen);
    for (size_t i = 0; !rc && i < (size_t)k * px; i++) {
        float v = 0.5f * (out[i] + 1);
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    free(x);
    free(style);
    return rc;
}

static int write_samples(trainer *T, long step, char *err, size_t errlen) {
    char path[1100];
    int k = T->n_val < SAMPLE_SLICES ? T->n_val : SAMPLE_SLICES;
    return mist_samples_from_cache(T->o->run_dir, step, T->ds.cache, T->val_slices, k, impute_mean, T, path,
                                   sizeof path, err, errlen);
}

static int validate(trainer *T, long step, char *err, size_t errlen) {
    int img = T->cfg.img;
    size_t px = (size_t)img * img;
    int k = T->n_val;
    float *truth = malloc((size_t)k * 4 * px * sizeof *truth), *out = malloc((size_t)k * px * sizeof *out);
    uint8_t *mask = malloc(px);
    if (!truth || !out || !mask) {
        free(truth), free(out), free(mask);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    for (int j = 0; j < k; j++) memcpy(truth + (size_t)j * 4 * px, io_cache_slice(T->ds.cache, T->val_slices[j]), 4 * px * sizeof(float));
    double vals[8];
    int rc = 0;
    for (int t = 0; t < 4 && !rc; t++) {
        rc = impute_mean(T, k, img, truth, t, out, err, errlen);
        io_metrics_stat st;
        io_metrics_stat_init(&st);
        for (int j = 0; j < k && !rc; j++) {
            io_metrics m;
            io_slice_mask(truth + (size_t)j * 4 * px, img, mask);
            io_metrics_slice(out + (size_t)j * px, truth + ((size_t)j * 4 + t) * px, img, img, NULL, &m);
            io_metrics_stat_add(&st, &m);
        }
        vals[t] = io_stat_mean(&st.ssim);
        vals[4 + t] = io_stat_mean(&st.psnr);
    }
    if (!rc) rc = csv_log_row(&T->val_csv, step, vals, 8, err, errlen);
    if (!rc && !T->o->quiet) {
        progress_clear(&T->prog);
        fprintf(stderr, "validation at %ld: SSIM T1 %.3f T1ce %.3f T2 %.3f FLAIR %.3f | PSNR %.2f %.2f %.2f %.2f dB\n", step,
                vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7]);
    }
    free(truth), free(out), free(mask);
    return rc;
}

static int save(trainer *T, long step, char *err, size_t errlen) {
    if (sync_ema(T, err, errlen) || mean_styles(T, err, errlen)) return -1;
    const mist_trainer_opts *o = T->o;
    char seed[32], batch[16], iters[32], lam[256], cfg[256];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(batch, sizeof batch, "%d", T->dist->size * o->opts.batch); /* global: what a resume with other ranks keeps */
    char ranks[16], per_rank[16];
    snprintf(ranks, sizeof ranks, "%d", T->dist->size);
    snprintf(per_rank, sizeof per_rank, "%d", o->opts.batch);
    snprintf(iters, sizeof iters, "%ld", o->opts.iters);
    snprintf(lam, sizeof lam, "{\"lr\":%g,\"lr_map\":%g,\"l_sty\":%g,\"l_cyc\":%g,\"l_ds\":%g,\"l_sup\":%g,\"ema_decay\":%g}",
             o->opts.lr, o->opts.lr_map, o->opts.l_sty, o->opts.l_cyc, o->opts.l_ds, o->opts.l_sup, o->opts.ema_decay);
    snprintf(cfg, sizeof cfg, "{\"name\":\"%s\",\"img\":%d,\"style_dim\":%d}", T->cfg.name, T->cfg.img, T->cfg.style_dim);
    char split_path[1100], *split = NULL;
    snprintf(split_path, sizeof split_path, "%s/split.json", o->run_dir);
    FILE *f = fopen(split_path, "rb");
    if (f) {
        split = calloc(1, 1 << 20);
        if (split && fread(split, 1, (1 << 20) - 1, f) == 0) split[0] = 0;
        fclose(f);
    }
    const char *meta[] = {"seed", seed, "batch", batch, "ranks", ranks, "batch_per_rank", per_rank, "iters", iters, "hyper", lam, "config_json", cfg,
                          "normalization", io_norm_name(o->norm), "split", split ? split : "{}",
                          "rng", "counter-based: (seed, iteration)", "program_version", VKMIST_VERSION_STRING, NULL};
    int rc = mist_snapshot_save(o->run_dir, step, o->keep_ckpts, T->sd, &T->net, T->adam_steps, T->mean_style, meta,
                                err, errlen);
    free(split);
    return rc;
}

/* The run directory, the split and the data set (with its slice cache). The
 * lead rank goes first and alone: it creates what the others then read. */
static int open_data(trainer *T, char *err, size_t errlen) {
    const mist_trainer_opts *o = T->o;
    FILE *log = o->quiet || !T->lead ? NULL : stderr;
    char path[1100];
    snprintf(path, sizeof path, "%s/samples", o->run_dir);
    if (T->lead && mkdir_p(path)) {
        snprintf(err, errlen, "cannot create the run directory %s: %s", o->run_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/split.json", o->run_dir);
    if (T->lead && o->split_file && !o->resume) {
        io_split sp;
        int rc = io_split_load(o->split_file, &sp, err, errlen);
        if (!rc) rc = io_split_save(&sp, path, err, errlen);
        if (!rc) io_split_free(&sp);
        if (rc) return -1;
    }
    return mist_dataset_open(&T->ds, o->data_dir, T->cfg.img, o->norm, o->seed, path, log, err, errlen);
}

/* Data-parallel ranks on one node take the devices of the automatic
 * choice's type in turn (local rank mod their count); --device or
 * VKMIST_DEVICE pins one for all. */
static int rank_device(const trainer *T, char *err, size_t errlen) {
    const char *env = getenv("VKMIST_DEVICE");
    if (T->o->device >= 0 || T->dist->local_size <= 1 || (env && *env)) return T->o->device;
    vkm_opts vo = vkm_default_opts();
    vkm_device_info info[16];
    int n = vkm_list_devices(&vo, info, 16, err, errlen), chosen = -1, same[16], ns = 0;
    for (int i = 0; i < n; i++)
        if (info[i].chosen) chosen = i;
    if (chosen < 0) return -1; /* vkm_ctx_create reports it */
    for (int i = 0; i < n; i++)
        if (info[i].type == info[chosen].type) same[ns++] = i;
    return same[T->dist->local_rank % ns];
}

/* The gradient callbacks of the step's host sync points: the mean over
 * ranks, started part by part as the backward finishes them. */
static int grad_start(void *user, int sync_id, const vkm_span *spans, int n) {
    (void)sync_id;
    const trainer *T = user;
    return mist_dist_allreduce_start(T->dist, spans, n);
}

static int grad_poll(void *user) {
    const trainer *T = user;
    return mist_dist_progress(T->dist);
}

static int grad_finish(void *user, int sync_id) {
    (void)sync_id;
    const trainer *T = user;
    return mist_dist_allreduce_finish(T->dist);
}

/* Every rank starts from the lead's state (fresh or resumed): iteration,
 * Adam step counters, parameters, Adam moments and EMA. */
static int share_state(trainer *T, long *start, char *err, size_t errlen) {
    const mist_dist *d = T->dist;
    if (d->size <= 1) return 0;
    const vkm_store *st = T->net.st;
    int64_t s = *start;
    int rc = mist_dist_bcast(d, &s, sizeof s, 0) ||
             mist_dist_bcast(d, T->adam_steps, (size_t)(vkm_store_count(st) + 1) * sizeof *T->adam_steps, 0);
    static const int copies[] = {0, 2, 3, 4}; /* value, Adam m and v, EMA */
    for (int id = 0; id < vkm_store_count(st) && !rc; id++) {
        const vkm_store_entry *e = vkm_store_get(st, id);
        if (e->kind != VKM_S_PARAM) continue;
        float *h = malloc((size_t)e->numel * sizeof *h);
        rc = !h;
        for (int c = 0; c < 4 && !rc; c++) {
            rc = (T->lead && vkm_store_read(T->sd, id, copies[c], h)) ||
                 mist_dist_bcast(d, h, (size_t)e->numel * sizeof *h, 0) ||
                 (!T->lead && vkm_store_write(T->sd, id, copies[c], h));
        }
        free(h);
    }
    *start = (long)s;
    if (rc) snprintf(err, errlen, "sharing the starting state between ranks failed%s%s", vkm_error(T->ctx)[0] ? ": " : "",
                     vkm_error(T->ctx));
    return rc;
}

static int setup(trainer *T, long *start, char *err, size_t errlen) {
    const mist_trainer_opts *o = T->o;
    const mist_dist *dist = T->dist;
    FILE *log = o->quiet || !T->lead ? NULL : stderr;
    if (mist_config_get(o->config, &T->cfg, err, errlen)) return -1;
    char path[1100];
    if (T->lead && open_data(T, err, errlen)) return -1;
    if (mist_dist_barrier(dist)) {
        snprintf(err, errlen, "waiting for rank 0 to prepare the run directory and data failed");
        return -1;
    }
    if (!T->lead && open_data(T, err, errlen)) return -1;
    vkm_opts vo = vkm_default_opts();
    vo.device = rank_device(T, err, errlen);
    vo.verbose = log != NULL;
    if (vkm_ctx_create(&vo, &T->ctx, err, errlen)) return -1;
    if (dist->size > 1 && !o->quiet)
        fprintf(stderr, "rank %d of %d (node rank %d): device %s, samples %d..%d of each global batch of %d\n",
                dist->rank, dist->size, dist->local_rank, vkm_device(T->ctx)->name, dist->rank * o->opts.batch,
                (dist->rank + 1) * o->opts.batch - 1, dist->size * o->opts.batch);
    if (mist_net_init(&T->net, &T->cfg, &o->opts, err, errlen)) return -1;
    T->net.sample0 = dist->rank * o->opts.batch;
    T->net.grad_sync = dist->size > 1;
    if (vkm_store_device_init(T->net.st, T->ctx, &T->sd)) {
        snprintf(err, errlen, "config %s, batch %d: %s", T->cfg.name, o->opts.batch, vkm_error(T->ctx));
        return -1;
    }
    int ns = vkm_store_count(T->net.st) + 1;
    T->adam_steps = calloc(ns, sizeof *T->adam_steps);
    T->mean_style = calloc(4 * T->cfg.style_dim, sizeof *T->mean_style);
    T->dom = calloc((size_t)o->opts.batch * T->cfg.img * T->cfg.img, sizeof *T->dom);
    if (!T->adam_steps || !T->mean_style || !T->dom) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    *start = 0;
    if (o->resume && T->lead) {
        char ck[1100];
        long step = 0;
        ckpt_reader *r = NULL;
        int st = ckpt_latest_good(o->run_dir, ck, sizeof ck, &step, &r, err, errlen);
        if (st == CKPT_FOUND) {
            err[0] = 0;
            int rc = mist_snapshot_load_train(r, T->sd, &T->net, T->adam_steps, T->mean_style, err, errlen);
            ckpt_close(r);
            if (rc) return -1;
            *start = step;
            if (log) fprintf(log, "resuming from %s (iteration %ld)\n", ck, step);
        } else if (st == CKPT_NONE) {
            if (log) fprintf(log, "no checkpoint in %s: starting a new run\n", o->run_dir);
        } else {
            return -1;
        }
    }
    if (*start == 0 && vkm_store_init_params(T->sd, o->seed)) {
        snprintf(err, errlen, "initialising parameters: %s", vkm_error(T->ctx));
        return -1;
    }
    if (share_state(T, start, err, errlen)) return -1;
    uint64_t arena = 0;
    vkm_graph *gs[MIST_N * MIST_NPATH];
    for (int t = 0; t < MIST_N; t++)
        for (int p = 0; p < MIST_NPATH; p++) {
            if (mist_step_build(&T->step[t][p], &T->net, t, p, err, errlen)) return -1;
            vkm_graph *g = gs[t * MIST_NPATH + p] = T->step[t][p].g;
            if (vkm_graph_plan(g, vkm_chunk_limit(T->ctx))) {
                snprintf(err, errlen, "config %s, batch %d: %s", T->cfg.name, o->opts.batch, vkm_graph_error(g));
                return -1;
            }
            uint64_t a = (uint64_t)vkm_graph_stats_of(g).arena_bytes;
            if (a > arena) arena = a;
        }
    if (vkm_arena_new(T->ctx, gs, MIST_N * MIST_NPATH, &T->arena)) {
        snprintf(err, errlen, "config %s, batch %d needs %.0f MiB of activations: %s", T->cfg.name, o->opts.batch,
                 arena / 1048576.0, vkm_error(T->ctx));
        return -1;
    }
    mist_loader_opts lo = mist_loader_opts_default();
    lo.batch = o->opts.batch;
    lo.flip = o->flip;
    lo.seed = o->seed;
    lo.global_batch = dist->size * o->opts.batch;
    lo.first = dist->rank * o->opts.batch;
    if (mist_loader_open(T->ds.cache, &T->ds.split, 0, &lo, &T->loader, err, errlen)) return -1;
    if (mist_batch_alloc(&T->batch, o->opts.batch, T->cfg.img)) {
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    /* fixed slices for pictures and validation: val cases, else train */
    int part = T->ds.split.n[1] > 0 ? 1 : 0;
    T->n_val = mist_pick_slices(T->ds.cache, &T->ds.split, part, VAL_SLICES, T->val_slices, err, errlen);
    if (T->n_val <= 0) {
        if (T->n_val == 0) snprintf(err, errlen, "no slices to validate on");
        return -1;
    }
    if (!T->lead) return 0; /* the files are the lead's */
    static const char *const tcols[] = {"step", "d_real", "d_fake", "g_adv", "csl", "ccl", "sdl", "sup", "loss_d", "loss_g",
                                        "lr", "lambda_ds", "it_s"};
    snprintf(path, sizeof path, "%s/train.csv", o->run_dir);
    if (csv_log_open(&T->train_csv, path, tcols, 13, *start > 0 ? *start : -1, err, errlen)) return -1;
    if (o->eval_every > 0) {
        static const char *const vcols[] = {"step", "ssim_t1", "ssim_t1ce", "ssim_t2", "ssim_flair",
                                            "psnr_t1", "psnr_t1ce", "psnr_t2", "psnr_flair"};
        snprintf(path, sizeof path, "%s/val.csv", o->run_dir);
        if (csv_log_open(&T->val_csv, path, vcols, 9, *start > 0 ? *start : -1, err, errlen)) return -1;
        T->val_open = 1;
    }
    return 0;
}

static void teardown(trainer *T) {
    mist_loader_close(T->loader);
    mist_batch_free(&T->batch);
    csv_log_close(&T->train_csv);
    if (T->val_open) csv_log_close(&T->val_csv);
    mist_infer_close(T->inf);
    for (int t = 0; t < MIST_N; t++)
        for (int p = 0; p < MIST_NPATH; p++) {
            vkm_graph_exec_free(T->exec[t][p]);
            mist_step_free(&T->step[t][p]);
        }
    vkm_arena_free(T->arena);
    vkm_store_device_free(T->sd);
    mist_net_free(&T->net);
    vkm_ctx_destroy(T->ctx);
    mist_dataset_close(&T->ds);
    free(T->adam_steps);
    free(T->mean_style);
    free(T->dom);
}

/* One iteration's inputs, then the variant's recorded step. */
static int iterate(trainer *T, long it, int *target, float losses[MIST_NLOSS], char *err, size_t errlen) {
    const mist_trainer_opts *o = T->o;
    const mist_step_ids *ids = &T->net.ids;
    int t = (int)(mist_rng_u64(o->seed, (uint64_t)it, 101) % MIST_N);
    int p = (int)(it % 2); /* even iterations: latent path; odd: reference */
    *target = t;
    if (mist_loader_get(T->loader, it, &T->batch)) {
        snprintf(err, errlen, "loading batch %ld failed", it);
        return -1;
    }
    int rc = 0;
    /* fault injection for tests: a NaN voxel in this iteration's input */
    const char *inj = getenv("VKMIST_INJECT_NAN_AT");
    int poison = inj && atol(inj) == it;
    for (int d = 0; d < MIST_N && !rc; d++) {
        mist_batch_domain(&T->batch, MIST_BATCH_X, d, T->dom);
        if (poison && d != t) T->dom[0] = NAN;
        rc = vkm_store_write(T->sd, ids->x[d], 0, T->dom);
    }
    if (!rc && p == MIST_PATH_REF) {
        mist_batch_domain(&T->batch, MIST_BATCH_REF, t, T->dom);
        rc = vkm_store_write(T->sd, ids->xref, 0, T->dom);
        mist_batch_domain(&T->batch, MIST_BATCH_REF2, t, T->dom);
        if (!rc) rc = vkm_store_write(T->sd, ids->xref2, 0, T->dom);
    }
    uint64_t z1 = mist_rng_u64(o->seed, (uint64_t)it, 102), z2 = mist_rng_u64(o->seed, (uint64_t)it, 103);
    uint32_t seeds[4] = {(uint32_t)z1, (uint32_t)(z1 >> 32), (uint32_t)z2, (uint32_t)(z2 >> 32)};
    float w[MIST_NW];
    mist_step_loss_weights(&o->opts, it, w);
    const mist_step *s = &T->step[t][p];
    for (int k = 0; k < s->nupdated; k++) T->adam_steps[s->updated[k]]++;
    if (!rc) rc = vkm_store_write(T->sd, ids->seeds, 0, seeds) || vkm_store_write(T->sd, ids->loss_weights, 0, w) ||
                  vkm_store_write(T->sd, ids->adam_steps, 0, T->adam_steps);
    if (!rc && !T->exec[t][p]) {
        rc = vkm_graph_record(T->step[t][p].g, T->sd, T->arena, 0, &T->exec[t][p]);
        static const vkm_grad_sync_ops ops = {grad_start, grad_poll, grad_finish};
        if (!rc && T->net.grad_sync) vkm_graph_exec_on_sync(T->exec[t][p], &ops, T);
    }
    if (!rc) rc = vkm_graph_exec_run(T->exec[t][p]);
    if (!rc) rc = vkm_store_read(T->sd, ids->losses, 0, losses);
    if (rc) snprintf(err, errlen, "iteration %ld (config %s, batch %d): %s", it, T->cfg.name, o->opts.batch,
                     vkm_error(T->ctx));
    return rc;
}

int mist_train(const mist_trainer_opts *o, char *err, size_t errlen) {
    trainer T;
    memset(&T, 0, sizeof T);
    T.o = o;
    mist_dist_single(&T.solo);
    T.dist = o->dist ? o->dist : &T.solo;
    T.lead = T.dist->rank == 0;
    err[0] = 0;
    long start = 0;
    if (setup(&T, &start, err, errlen)) {
        teardown(&T);
        return -1;
    }
    FILE *log = o->quiet || !T.lead ? NULL : stderr;
    if (log && T.dist->size > 1)
        fprintf(log, "training %s (global batch %d = %d ranks x batch %d, %ld iterations) into %s\n", T.cfg.name,
                T.dist->size * o->opts.batch, T.dist->size, o->opts.batch, o->opts.iters, o->run_dir);
    else if (log)
        fprintf(log, "training %s (batch %d, %ld iterations) into %s\n", T.cfg.name, o->opts.batch, o->opts.iters,
                o->run_dir);
    progress_init(&T.prog, stderr, log ? progress_is_tty(stderr) : 0, start, o->opts.iters, progress_now());
    double t0 = progress_now();
    long last_saved = start, it = start;
    int rc = 0;
    for (; it < o->opts.iters && !rc; it++) {
        float l[MIST_NLOSS + 1];
        int target;
        if (iterate(&T, it, &target, l, err, errlen)) {
            rc = -1;
            break;
        }
        /* the logged losses are the global batch's (means of the ranks'),
         * and every rank stops when any one's time is up */
        l[MIST_NLOSS] = o->max_minutes > 0 && progress_now() - t0 > 60 * o->max_minutes;
        vkm_span ls = {l, MIST_NLOSS + 1};
        if (mist_dist_allreduce_mean(T.dist, &ls, 1)) {
            snprintf(err, errlen, "iteration %ld: exchanging the losses between ranks failed", it);
            rc = -1;
            break;
        }
        for (int k = 0; k < MIST_NLOSS && !rc; k++)
            if (!isfinite(l[k])) {
                char ck[1100];
                ckpt_step_path(ck, sizeof ck, o->run_dir, last_saved);
                snprintf(err, errlen, "the %s loss became %s at iteration %ld (target %s); stopping. %s", mist_loss_name(k),
                         isnan(l[k]) ? "NaN" : "infinite", it, mist_domain_name(target),
                         last_saved > 0 ? "The last good checkpoint is kept." : "No checkpoint was written yet.");
                rc = -1;
            }
        if (rc) break;
        float w[MIST_NW];
        mist_step_loss_weights(&o->opts, it, w);
        double ld = l[MIST_L_D_REAL] + l[MIST_L_D_FAKE];
        double lg = l[MIST_L_G_ADV] + w[MIST_W_STY] * l[MIST_L_CSL] + w[MIST_W_CYC] * l[MIST_L_CCL] +
                    w[MIST_W_DS] * l[MIST_L_SDL] + w[MIST_W_SUP] * l[MIST_L_SUP];
        double row[12] = {l[0], l[1], l[2], l[3], l[4], l[5], l[6], ld, lg, o->opts.lr, -w[MIST_W_DS],
                          progress_rate(&T.prog)};
        if (T.lead && csv_log_row(&T.train_csv, it + 1, row, 12, err, errlen)) {
            rc = -1;
            break;
        }
        char extra[96];
        snprintf(extra, sizeof extra, "D %.3f  G %.3f", ld, lg);
        if (log) progress_update(&T.prog, it + 1, progress_now(), extra);
        long done = it + 1;
        int timeup = l[MIST_NLOSS] > 0;
        if (T.lead && o->sample_every > 0 && done % o->sample_every == 0)
            rc = sync_ema(&T, err, errlen) || mean_styles(&T, err, errlen) || write_samples(&T, done, err, errlen);
        if (T.lead && !rc && o->eval_every > 0 && done % o->eval_every == 0)
            rc = sync_ema(&T, err, errlen) || mean_styles(&T, err, errlen) || validate(&T, done, err, errlen);
        if (!rc && ((o->ckpt_every > 0 && done % o->ckpt_every == 0) || done == o->opts.iters || timeup)) {
            rc = T.lead ? save(&T, done, err, errlen) : 0;
            if (!rc) last_saved = done;
        }
        if (!rc && o->probe) o->probe(o->probe_user, done, vkm_device_in_use_bytes(T.ctx), vkm_device_bytes(T.ctx));
        if (timeup && !rc) {
            if (log) {
                progress_clear(&T.prog);
                fprintf(log, "time limit of %.1f minutes reached at iteration %ld: checkpoint written, stopping "
                        "(continue with --resume)\n", o->max_minutes, done);
            }
            it++;
            break;
        }
    }
    if (T.lead && !rc && last_saved != it && it > start) { /* a final picture and checkpoint of where we stopped */
        rc = sync_ema(&T, err, errlen) || mean_styles(&T, err, errlen) || write_samples(&T, it, err, errlen) ||
             save(&T, it, err, errlen);
    }
    if (log) {
        char extra[128];
        snprintf(extra, sizeof extra, "run directory %s", o->run_dir);
        progress_finish(&T.prog, it, progress_now(), extra);
    }
    teardown(&T);
    return rc;
}
