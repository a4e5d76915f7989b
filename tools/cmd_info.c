/* `vkmist info`: what a config costs before anything runs: parameters per
 * module, FLOPs of one training iteration (from the step graph) and the
 * planned device memory. Needs no Vulkan device: graphs plan on the host.
 * With --json: the config, the training defaults and every parameter's name
 * and shape, machine-readable (what tools/peer/mist_torch.py builds from). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli.h"
#include "train/step.h"

/* planned as one unbounded arena: the peak itself (a device whose largest
 * allocation is smaller cuts it into chunks, padding each chunk's end a little) */
#define PLAN_CHUNK 0
#define PAPER_BUDGET_GB 10.0    /* the paper config at batch 2 must fit this */

static double mb(double bytes) { return bytes / 1048576.0; }

/* 12345678 -> "12,345,678" */
static const char *grouped(int64_t v, char *buf, size_t n) {
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    size_t o = 0;
    if (v < 0 && o + 1 < n) buf[o++] = '-';
    for (int i = 0; i < len && o + 2 < n; i++) {
        buf[o++] = tmp[i];
        if ((len - i - 1) % 3 == 0 && i != len - 1) buf[o++] = ',';
    }
    buf[o] = 0;
    return buf;
}

static void print_size(const char *what, double bytes) {
    if (bytes >= 1073741824.0) printf("  %-44s %10.2f GB\n", what, bytes / 1073741824.0);
    else printf("  %-44s %10.1f MB\n", what, mb(bytes));
}

/* Device bytes of the store: parameters (value, gradient, Adam m and v, EMA
 * copy where kept) and the inputs/state/counters. */
static void store_bytes(const vkm_store *st, double *params, double *other) {
    *params = *other = 0;
    for (int i = 0; i < vkm_store_count(st); i++) {
        const vkm_store_entry *e = vkm_store_get(st, i);
        if (e->kind == VKM_S_PARAM) *params += 4.0 * e->numel * (4 + (e->ema ? 1 : 0));
        else *other += 4.0 * e->numel;
    }
}

/* A float as the shortest decimal that reads back as the same float (1e-4f
 * prints as 0.0001, not 9.99999974737875e-05). */
static cJSON *fnum(float f) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    return cJSON_CreateNumber(strtod(buf, NULL));
}

/* The config, the DESIGN §4-5 training defaults and the parameter list
 * (store order = checkpoint order), as one JSON object on stdout. */
static int print_json(const mist_net *net, const mist_train_opts *o) {
    const mist_config *c = &net->model.cfg;
    cJSON *root = cJSON_CreateObject(), *cf = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cf, "name", c->name);
    cJSON_AddNumberToObject(cf, "img", c->img);
    cJSON_AddNumberToObject(cf, "levels", c->levels);
    cJSON_AddNumberToObject(cf, "ch", c->ch);
    cJSON_AddNumberToObject(cf, "max_ch", c->max_ch);
    cJSON_AddNumberToObject(cf, "style_dim", c->style_dim);
    cJSON_AddNumberToObject(cf, "latent", c->latent);
    cJSON_AddNumberToObject(cf, "map_hidden", c->map_hidden);
    cJSON_AddItemToObject(cf, "w_hpf", fnum(c->w_hpf));
    cJSON_AddItemToObject(cf, "lrelu", fnum(MIST_LRELU));
    cJSON *doms = cJSON_AddArrayToObject(root, "domains");
    for (int d = 0; d < MIST_N; d++) cJSON_AddItemToArray(doms, cJSON_CreateString(mist_domain_name(d)));
    cJSON *tr = cJSON_AddObjectToObject(root, "train");
    cJSON_AddNumberToObject(tr, "batch", o->batch);
    const struct { const char *k; float v; } hp[] = {
        {"lr", o->lr},       {"lr_map", o->lr_map},         {"beta1", o->beta1}, {"beta2", o->beta2},
        {"eps", o->eps},     {"wd", o->wd},                 {"ema_decay", o->ema_decay},
        {"l_sty", o->l_sty}, {"l_cyc", o->l_cyc},           {"l_ds", o->l_ds},   {"l_sup", o->l_sup},
    };
    for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++) cJSON_AddItemToObject(tr, hp[i].k, fnum(hp[i].v));
    cJSON_AddNumberToObject(root, "params_total", (double)mist_model_params(net->st, -1));
    cJSON *per = cJSON_AddObjectToObject(root, "params_per_module");
    for (int m = 0; m < MIST_NMOD; m++)
        cJSON_AddNumberToObject(per, mist_module_prefix(m), (double)mist_model_params(net->st, m));
    cJSON *ps = cJSON_AddArrayToObject(root, "params");
    for (int i = 0; i < vkm_store_count(net->st); i++) {
        const vkm_store_entry *e = vkm_store_get(net->st, i);
        if (e->kind != VKM_S_PARAM) continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", e->name);
        const int sh[4] = {e->shape.n, e->shape.c, e->shape.h, e->shape.w};
        cJSON_AddItemToObject(p, "shape", cJSON_CreateIntArray(sh, 4));
        cJSON_AddStringToObject(p, "module", mist_module_prefix(e->group));
        cJSON_AddItemToObject(p, "lr", fnum(e->lr));
        cJSON_AddBoolToObject(p, "ema", e->ema);
        cJSON_AddItemToArray(ps, p);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "vkmist info: out of host memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

int cmd_info(int argc, char **argv) {
    cli_args a = cli_begin("info", argc, argv);
    const char *config = "paper";
    long batch = 2;
    int json = 0;
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            printf("usage: vkmist info [--config NAME] [--batch B] [--json]\n\n"
                   "Prints, for a model config (%s; default paper) and batch size\n"
                   "(default 2): the parameters of every module, the FLOPs of one training\n"
                   "iteration (forward + backward + optimizer, latent and reference style\n"
                   "path) and the planned device memory: parameters with gradients, Adam\n"
                   "moments and EMA copy, plus the planned peak of the step's transient\n"
                   "tensors (and their naive sum, for comparison). Needs no GPU.\n\n"
                   "--json prints instead one JSON object: the config, the training\n"
                   "defaults (lr, Adam, EMA, loss weights) and every parameter (name, shape\n"
                   "[n, c, h, w], module, lr, EMA flag, in checkpoint order) with the totals.\n",
                   mist_config_names());
            return 0;
        } else if ((v = cli_value(&a, "--config"))) config = v;
        else if ((v = cli_value(&a, "--batch"))) batch = cli_long(&a, "--batch", v, 1, 4096);
        else if (cli_flag(&a, "--json")) json = 1;
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;

    char err[512], b1[32], b2[32];
    mist_config cfg;
    if (mist_config_get(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "vkmist info: %s\n", err);
        return 2;
    }
    mist_train_opts o = mist_train_opts_default();
    o.batch = (int)batch;
    mist_net net;
    if (mist_net_init(&net, &cfg, &o, err, sizeof err)) {
        fprintf(stderr, "vkmist info: %s\n", err);
        return 1;
    }
    if (json) {
        int jrc = print_json(&net, &o);
        mist_net_free(&net);
        return jrc;
    }

    printf("config %s: img %d, levels %d, ch %d, max_ch %d, style_dim %d, latent %d, mapping hidden %d, w_hpf %g\n",
           cfg.name, cfg.img, cfg.levels, cfg.ch, cfg.max_ch, cfg.style_dim, cfg.latent, cfg.map_hidden, cfg.w_hpf);
    printf("content %d x %d x %d; skips:", mist_content_ch(&cfg), mist_content_size(&cfg), mist_content_size(&cfg));
    for (int k = 0; k < mist_num_skips(&cfg); k++)
        printf("%s %d x %d x %d", k ? "," : "", mist_skip_ch(&cfg, k), mist_skip_size(&cfg, k), mist_skip_size(&cfg, k));
    printf("%s; style encoder/discriminator: %d down blocks to %d x 4 x 4\n\n", mist_num_skips(&cfg) ? "" : " none",
           mist_se_blocks(&cfg), mist_se_ch(&cfg));

    printf("parameters:\n");
    for (int m = 0; m < MIST_NMOD; m++)
        printf("  %-20s %14s\n", mist_module_name(m), grouped(mist_model_params(net.st, m), b1, sizeof b1));
    int64_t gen = 0;
    for (int m = 0; m < MIST_NMOD; m++)
        if (m != MIST_M_DSC) gen += mist_model_params(net.st, m);
    printf("  %-20s %14s\n", "generator side", grouped(gen, b1, sizeof b1));
    printf("  %-20s %14s\n\n", "total", grouped(mist_model_params(net.st, -1), b2, sizeof b2));

    /* every variant is planned: the arena is shared, so its size is the max */
    int64_t arena = 0, naive = 0;
    double flops[MIST_NPATH] = {0}, fwd[MIST_NPATH] = {0};
    int nodes[MIST_NPATH] = {0}, rc = 0;
    for (int path = 0; path < MIST_NPATH && !rc; path++)
        for (int t = 0; t < MIST_N && !rc; t++) {
            mist_step s;
            if (mist_step_build(&s, &net, t, path, err, sizeof err)) {
                fprintf(stderr, "vkmist info: %s\n", err);
                rc = 1;
                break;
            }
            if (vkm_graph_plan(s.g, PLAN_CHUNK)) {
                fprintf(stderr, "vkmist info: planning failed: %s\n", vkm_graph_error(s.g));
                rc = 1;
            } else {
                vkm_graph_stats gs = vkm_graph_stats_of(s.g);
                if (gs.arena_bytes > arena) arena = gs.arena_bytes;
                if (gs.naive_bytes > naive) naive = gs.naive_bytes;
                flops[path] += gs.flops / MIST_N;
                fwd[path] += gs.forward_flops / MIST_N;
                nodes[path] = gs.nodes;
            }
            mist_step_free(&s);
        }
    if (!rc) {
        printf("FLOPs per training iteration (batch %d; forward + backward + update, mean over targets):\n", net.batch);
        static const char *const pname[MIST_NPATH] = {"latent path", "reference path"};
        for (int p = 0; p < MIST_NPATH; p++)
            printf("  %-16s %10.2f GFLOP (forward %.2f GFLOP, %d graph nodes)\n", pname[p], flops[p] / 1e9,
                   fwd[p] / 1e9, nodes[p]);
        printf("  %-16s %10.2f GFLOP\n\n", "mean", (flops[0] + flops[1]) / 2e9);

        double pbytes, obytes;
        store_bytes(net.st, &pbytes, &obytes);
        double total = pbytes + obytes + (double)arena;
        printf("planned device memory (batch %d):\n", net.batch);
        print_size("parameters (value, grad, Adam m and v, EMA)", pbytes);
        print_size("inputs, outputs, counters", obytes);
        print_size("step arena, planned peak (max of 8 variants)", (double)arena);
        print_size("step arena without reuse (naive sum)", (double)naive);
        print_size("total planned", total);
        if (!strcmp(cfg.name, "paper") && net.batch == 2)
            printf("  paper at batch 2: %.2f GB, %s the %.0f GB budget\n", total / 1073741824.0,
                   total <= PAPER_BUDGET_GB * 1073741824.0 ? "within" : "OVER", PAPER_BUDGET_GB);
    }
    mist_net_free(&net);
    return rc;
}
