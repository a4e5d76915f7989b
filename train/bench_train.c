/* The training-step benchmark (see bench_train.h). Inputs are random: the
 * step's cost does not depend on the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "train/bench_train.h"
#include "train/step.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { const char *label; double ms, flops; int count; } prof_row;

static int by_ms(const void *a, const void *b) {
    const prof_row *x = a, *y = b;
    return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : 0;
}

static void random_inputs(const mist_net *n, vkm_store_dev *sd) {
    int ids[MIST_N + 2];
    for (int d = 0; d < MIST_N; d++) ids[d] = n->ids.x[d];
    ids[MIST_N] = n->ids.xref, ids[MIST_N + 1] = n->ids.xref2;
    unsigned s = 1;
    for (int k = 0; k < MIST_N + 2; k++) {
        const vkm_store_entry *e = vkm_store_get(n->st, ids[k]);
        float *h = malloc((size_t)e->numel * sizeof *h);
        for (int64_t i = 0; h && i < e->numel; i++) {
            s = s * 1664525u + 1013904223u;
            h[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
        }
        if (h) vkm_store_write(sd, ids[k], 0, h);
        free(h);
    }
    uint32_t seeds[4] = {1, 2, 3, 4};
    vkm_store_write(sd, n->ids.seeds, 0, seeds);
    float w[MIST_NW];
    mist_step_loss_weights(&n->opts, 0, w);
    vkm_store_write(sd, n->ids.loss_weights, 0, w);
}

/* Peak resident set of this process in MiB (Linux), or -1: on a CPU device
 * (lavapipe) device memory is host memory, and this is what it cost. */
static double peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

/* --memory: what the step costs in device memory, after recording every
 * variant and running one iteration of one. */
static void memory_report(FILE *out, vkm_ctx *ctx, const mist_config *cfg, int batch, double store_mib,
                          const vkm_arena *arena, double run_s, const float *losses) {
    fprintf(out, "vkmist bench train --memory: config %s, batch %d on %s\n", cfg->name, batch, vkm_device(ctx)->name);
    fprintf(out, "  recorded all 8 variants (every binding checked against the device's limits); ran 1 iteration\n"
                 "  (target t1, latent path) in %.1f s; losses:", run_s);
    for (int l = 0; l < MIST_NLOSS; l++) fprintf(out, " %s %.4g", mist_loss_name(l), losses[l]);
    fprintf(out, "\n  device memory: %.1f MiB allocated, peak in use %.1f MiB\n", vkm_device_bytes(ctx) / 1048576.0,
            vkm_device_peak_bytes(ctx) / 1048576.0);
    int64_t cb = vkm_arena_chunk_bytes(arena);
    fprintf(out, "    store (parameters, gradients, Adam m and v, EMA, inputs) %.1f MiB\n", store_mib);
    fprintf(out, "    step arena %.1f MiB in %d chunk%s", vkm_arena_bytes(arena) / 1048576.0, vkm_arena_chunks(arena),
            vkm_arena_chunks(arena) > 1 ? "s" : "");
    if (cb) fprintf(out, " of <= %.1f MiB, one allocation each", cb / 1048576.0);
    fprintf(out, "\n");
    double rss = peak_rss_mib();
    if (rss > 0)
        fprintf(out, "  host: peak resident set %.1f MiB%s\n", rss,
                vkm_device(ctx)->type == VK_PHYSICAL_DEVICE_TYPE_CPU ? " (this device's memory is host memory)" : "");
}

int mist_bench_train(const mist_bench_opts *o, FILE *out, char *err, size_t errlen) {
    mist_config cfg;
    if (mist_config_get(o->config, &cfg, err, errlen)) return -1;
    vkm_opts vo = vkm_default_opts();
    vo.device = o->device;
    vkm_ctx *ctx = NULL;
    if (vkm_ctx_create(&vo, &ctx, err, errlen)) return -1;
    mist_train_opts to = mist_train_opts_default();
    to.batch = o->batch;
    mist_net n;
    memset(&n, 0, sizeof n);
    mist_step st[MIST_N][MIST_NPATH];
    vkm_graph_exec *ex[MIST_N][MIST_NPATH];
    memset(st, 0, sizeof st);
    memset(ex, 0, sizeof ex);
    vkm_store_dev *sd = NULL;
    vkm_arena *arena = NULL;
    double *times = calloc(o->iters, sizeof *times);
    int rc = times ? mist_net_init(&n, &cfg, &to, err, errlen) : -1;
    if (!rc && vkm_store_device_init(n.st, ctx, &sd)) {
        snprintf(err, errlen, "config %s, batch %d: %s", cfg.name, o->batch, vkm_error(ctx));
        rc = -1;
    }
    double store_mib = vkm_device_in_use_bytes(ctx) / 1048576.0;
    double flops[MIST_N][MIST_NPATH];
    vkm_graph *gs[MIST_N * MIST_NPATH];
    for (int t = 0; t < MIST_N && !rc; t++)
        for (int p = 0; p < MIST_NPATH && !rc; p++) {
            rc = mist_step_build(&st[t][p], &n, t, p, err, errlen);
            if (rc) break;
            gs[t * MIST_NPATH + p] = st[t][p].g;
            if (vkm_graph_plan(st[t][p].g, vkm_chunk_limit(ctx))) {
                snprintf(err, errlen, "config %s, batch %d: %s", cfg.name, o->batch, vkm_graph_error(st[t][p].g));
                rc = -1;
                break;
            }
            flops[t][p] = vkm_graph_stats_of(st[t][p].g).flops;
        }
    if (!rc && (vkm_store_init_params(sd, 1) || vkm_arena_new(ctx, gs, MIST_N * MIST_NPATH, &arena))) {
        snprintf(err, errlen, "config %s, batch %d: %s", cfg.name, o->batch, vkm_error(ctx));
        rc = -1;
    }
    if (!rc) random_inputs(&n, sd);
    uint32_t *steps = calloc((n.st ? vkm_store_count(n.st) : 0) + 1, 4);
    if (!steps) rc = -1;
    /* warm-up: record every variant and run it once (--memory: run only the first) */
    double run_s = 0;
    for (int t = 0; t < MIST_N && !rc; t++)
        for (int p = 0; p < MIST_NPATH && !rc; p++) {
            int run = !o->memory || (t == 0 && p == 0);
            if (run) {
                for (int k = 0; k < st[t][p].nupdated; k++) steps[st[t][p].updated[k]]++;
                vkm_store_write(sd, n.ids.adam_steps, 0, steps);
            }
            rc = vkm_graph_record(st[t][p].g, sd, arena, 0, &ex[t][p]);
            double t0 = now_s();
            if (!rc && run) rc = vkm_graph_exec_run(ex[t][p]);
            if (run) run_s = now_s() - t0;
            if (rc) snprintf(err, errlen, "%s", vkm_error(ctx));
        }
    if (!rc && o->memory) {
        float losses[MIST_NLOSS];
        rc = vkm_store_read(sd, n.ids.losses, 0, losses);
        if (rc) snprintf(err, errlen, "%s", vkm_error(ctx));
        else memory_report(out, ctx, &cfg, o->batch, store_mib, arena, run_s, losses);
    }
    double fsum = 0;
    for (int it = 0; it < o->iters && !rc && !o->memory; it++) {
        int t = it % MIST_N, p = (it / MIST_N) % MIST_NPATH;
        double t0 = now_s();
        for (int k = 0; k < st[t][p].nupdated; k++) steps[st[t][p].updated[k]]++;
        if (vkm_store_write(sd, n.ids.adam_steps, 0, steps) || vkm_graph_exec_run(ex[t][p])) {
            snprintf(err, errlen, "%s", vkm_error(ctx));
            rc = -1;
        }
        float losses[MIST_NLOSS];
        vkm_store_read(sd, n.ids.losses, 0, losses);
        times[it] = now_s() - t0;
        fsum += flops[t][p];
    }
    if (!rc && !o->memory) {
        double mean_t = 0;
        for (int i = 0; i < o->iters; i++) mean_t += times[i];
        mean_t /= o->iters;
        qsort(times, o->iters, sizeof *times, cmp_d);
        double med = times[o->iters / 2];
        int disp = vkm_seq_dispatch_count(vkm_graph_exec_seq(ex[0][0]));
        fprintf(out, "vkmist bench train: config %s, batch %d, %d timed iterations over the 8 variants on %s\n",
                cfg.name, o->batch, o->iters, vkm_device(ctx)->name);
        fprintf(out, "  median %.1f ms per iteration  (%.2f it/s; min %.1f, max %.1f ms)\n", med * 1e3, 1 / med,
                times[0] * 1e3, times[o->iters - 1] * 1e3);
        fprintf(out, "  %.2f GFLOP per iteration (forward + backward), achieved %.1f GFLOP/s\n", fsum / o->iters * 1e-9,
                fsum / o->iters / mean_t * 1e-9);
        fprintf(out, "  %d dispatches per iteration (target t1, latent path)\n", disp);
        fprintf(out, "  device memory: %.1f MiB allocated (peak in use %.1f MiB; arena %.1f MiB in %d chunk%s)\n",
                vkm_device_bytes(ctx) / 1048576.0, vkm_device_peak_bytes(ctx) / 1048576.0,
                vkm_arena_bytes(arena) / 1048576.0, vkm_arena_chunks(arena), vkm_arena_chunks(arena) > 1 ? "s" : "");
    }
    if (!rc && o->profile && !o->memory) {
        vkm_graph_exec *pe = NULL;
        if (vkm_graph_record(st[0][0].g, sd, arena, VKM_SEQ_TIMESTAMPS, &pe) || vkm_graph_exec_run(pe) ||
            vkm_graph_exec_run(pe)) {
            snprintf(err, errlen, "profiling: %s", vkm_error(ctx));
            rc = -1;
        }
        const vkm_timing *tm;
        int nt = 0;
        if (!rc && vkm_seq_timings(vkm_graph_exec_seq(pe), &tm, &nt) == 0 && nt > 0) {
            prof_row *rows = calloc(nt, sizeof *rows);
            int nr = 0;
            double total = 0;
            for (int i = 0; rows && i < nt; i++) {
                int k = 0;
                while (k < nr && strcmp(rows[k].label, tm[i].label)) k++;
                if (k == nr) rows[nr++] = (prof_row){tm[i].label, 0, 0, 0};
                rows[k].ms += tm[i].ms;
                rows[k].flops += tm[i].flops;
                rows[k].count++;
                total += tm[i].ms;
            }
            qsort(rows, nr, sizeof *rows, by_ms);
            fprintf(out, "\nper-op profile (target t1, latent path; GPU timestamps, %.1f ms in dispatches):\n", total);
            fprintf(out, "  %-20s %8s %7s %10s %10s\n", "op", "ms", "share", "GFLOP/s", "dispatches");
            for (int k = 0; k < nr; k++)
                fprintf(out, "  %-20s %8.2f %6.1f%% %10.1f %10d\n", rows[k].label, rows[k].ms, 100 * rows[k].ms / total,
                        rows[k].ms > 0 ? rows[k].flops / rows[k].ms * 1e-6 : 0, rows[k].count);
            free(rows);
        }
        vkm_graph_exec_free(pe);
    }
    free(steps);
    free(times);
    for (int t = 0; t < MIST_N; t++)
        for (int p = 0; p < MIST_NPATH; p++) {
            vkm_graph_exec_free(ex[t][p]);
            mist_step_free(&st[t][p]);
        }
    vkm_arena_free(arena);
    vkm_store_device_free(sd);
    mist_net_free(&n);
    vkm_ctx_destroy(ctx);
    return rc;
}
