/* `vkmist info`: what a config costs before anything runs: parameters per
 * module, FLOPs of one training iteration (from the step graph) and the
 * planned device memory. Needs no Vulkan device: graphs plan on the host. */
#include <stdio.h>
#include <string.h>
#include "tools/cli.h"
#include "train/step.h"

#define PLAN_ALIGN 256          /* a typical storage-buffer offset alignment */
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

int cmd_info(int argc, char **argv) {
    cli_args a = cli_begin("info", argc, argv);
    const char *config = "paper";
    long batch = 2;
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            printf("usage: vkmist info [--config NAME] [--batch B]\n\n"
                   "Prints, for a model config (%s; default paper) and batch size\n"
                   "(default 2): the parameters of every module, the FLOPs of one training\n"
                   "iteration (forward + backward + optimizer, latent and reference style\n"
                   "path) and the planned device memory: parameters with gradients, Adam\n"
                   "moments and EMA copy, plus the planned peak of the step's transient\n"
                   "tensors (and their naive sum, for comparison). Needs no GPU.\n",
                   mist_config_names());
            return 0;
        } else if ((v = cli_value(&a, "--config"))) config = v;
        else if ((v = cli_value(&a, "--batch"))) batch = cli_long(&a, "--batch", v, 1, 4096);
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
            if (vkm_graph_plan(s.g, PLAN_ALIGN)) {
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
