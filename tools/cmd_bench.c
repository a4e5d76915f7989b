/* `vkmist bench ops`: throughput of the hot kernels on one device: conv2d
 * forward / backward-data / backward-filter at the 3x3 shapes of the `small`
 * config's content encoder and decoder (batch 2), a 1024^3 GEMM and an
 * elementwise axpby. Each measurement pre-records a sequence that repeats the
 * dispatch, submits it once to warm up, then reports the median wall time of
 * several submits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "runtime/ops/ops_conv.h"
#include "runtime/ops/ops_elem.h"
#include "tools/cli.h"
#include "train/bench_train.h"

/* A 3x3 conv of `small` (img 128, ch 32 -> 256) and how often the content
 * encoder + decoder run it per forward pass. */
typedef struct { int cin, cout, res, count; } bench_conv;
static const bench_conv small_convs[] = {
    {1, 32, 128, 1},   {32, 32, 128, 2}, {32, 64, 64, 1},  {64, 64, 64, 2},   {64, 128, 32, 1},
    {128, 128, 32, 2}, {128, 256, 16, 1}, {256, 256, 16, 8}, {256, 128, 32, 1}, {128, 64, 64, 1},
    {64, 32, 128, 1},
};
#define NCONV ((int)(sizeof small_convs / sizeof small_convs[0]))
#define BENCH_BATCH 2
#define TARGET_SECONDS 0.05  /* per timed submit */
#define MAX_REPS 64

typedef enum { K_FWD, K_DATA, K_FILTER, K_GEMM, K_AXPBY } bench_kind;
typedef struct {
    bench_kind kind;
    vkm_conv2d_p conv;
    vkm_gemm_p gemm;
    vkm_axpby_p axpby;
    vkm_buf buf[4];
} bench_op;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int record(vkm_seq *s, const bench_op *o) {
    switch (o->kind) {
    case K_FWD: return vkm_op_conv2d(s, &o->conv, o->buf[0], o->buf[1], o->buf[2], o->buf[3]);
    case K_DATA: return vkm_op_conv2d_bwd_data(s, &o->conv, o->buf[3], o->buf[1], o->buf[0]);
    case K_FILTER: return vkm_op_conv2d_bwd_filter(s, &o->conv, o->buf[0], o->buf[3], o->buf[1], o->buf[2]);
    case K_GEMM: return vkm_op_gemm(s, &o->gemm, o->buf[0], o->buf[1], o->buf[2], o->buf[3]);
    default: return vkm_op_axpby(s, &o->axpby, o->buf[0], o->buf[1], o->buf[2]);
    }
}

/* Median seconds of one run of o (reps dispatches per timed submit). */
static int time_op(vkm_ctx *ctx, const bench_op *o, int iters, double *sec) {
    double t[64];
    int reps = 1;
    for (int pass = 0; pass < 2; pass++) {
        vkm_seq *s = NULL;
        int rc = vkm_seq_begin(ctx, 0, &s);
        for (int r = 0; !rc && r < reps; r++) rc = record(s, o);
        if (!rc) rc = vkm_seq_end(s);
        if (!rc) rc = vkm_seq_submit(s);   /* warm-up: pipelines, caches */
        for (int i = 0; !rc && i < (pass ? iters : 1); i++) {
            double t0 = now_s();
            rc = vkm_seq_submit(s);
            t[i] = now_s() - t0;
        }
        vkm_seq_destroy(s);
        if (rc) {
            fprintf(stderr, "vkmist bench: %s\n", vkm_error(ctx));
            return -1;
        }
        if (!pass) {
            /* repeat the dispatch so one submit takes about TARGET_SECONDS */
            reps = t[0] > 0 ? (int)(TARGET_SECONDS / t[0]) + 1 : MAX_REPS;
            if (reps > MAX_REPS) reps = MAX_REPS;
        }
    }
    qsort(t, (size_t)iters, sizeof t[0], cmp_double);
    *sec = t[iters / 2] / reps;
    return 0;
}

/* Allocates o's buffers (sizes in floats) filled with a small constant. */
static int alloc_bufs(vkm_ctx *ctx, bench_op *o, const long long *n, int count) {
    for (int i = 0; i < count; i++) {
        if (vkm_alloc(ctx, (uint64_t)n[i] * 4, &o->buf[i]) ||
            vkm_fill_bytes(ctx, o->buf[i], 0x3c23d70au /* 0.01f */)) {
            fprintf(stderr, "vkmist bench: %s\n", vkm_error(ctx));
            return -1;
        }
    }
    return 0;
}

static void free_bufs(vkm_ctx *ctx, bench_op *o) {
    for (int i = 0; i < 4; i++)
        if (o->buf[i].buffer) vkm_free(ctx, &o->buf[i]);
}

/* shapes: the table to run (nshapes rows); own: the user's --conv shapes
 * (no per-pass totals, which weight the small config's encoder/decoder) */
static int bench_convs(vkm_ctx *ctx, int iters, const bench_conv *shapes, int nshapes, int own) {
    static const char *pass_name[3] = {"forward", "bwd_data", "bwd_filter"};
    double tot_flops[3] = {0}, tot_sec[3] = {0};
    if (own)
        printf("conv2d 3x3, pad 1, batch %d: the shapes given with --conv\n", BENCH_BATCH);
    else
        printf("conv2d 3x3, pad 1, batch %d: the content encoder + decoder shapes of config small\n",
               BENCH_BATCH);
    printf("%-20s %5s %9s %12s %12s %12s\n", "shape (cin->cout@res)", "count", "MFLOP", "fwd GFLOP/s",
           "bwd_data", "bwd_filter");
    for (int c = 0; c < nshapes; c++) {
        const bench_conv *sc = &shapes[c];
        bench_op o;
        memset(&o, 0, sizeof o);
        o.conv = (vkm_conv2d_p){BENCH_BATCH, sc->cin, sc->res, sc->res, sc->cout, 3, 1, 1, 0, 0, 0};
        long long nx = (long long)BENCH_BATCH * sc->cin * sc->res * sc->res;
        long long ny = (long long)BENCH_BATCH * sc->cout * sc->res * sc->res;
        long long n[4] = {nx, (long long)sc->cout * sc->cin * 9, sc->cout, ny};
        double flops = 2.0 * BENCH_BATCH * sc->cout * sc->res * sc->res * (double)sc->cin * 9;
        double gf[3];
        if (alloc_bufs(ctx, &o, n, 4)) { free_bufs(ctx, &o); return -1; }
        for (int k = 0; k < 3; k++) {
            double sec;
            o.kind = (bench_kind)k;
            /* bwd_filter accumulates, as parameter gradients do in training */
            o.conv.acc = k == K_FILTER;
            if (time_op(ctx, &o, iters, &sec)) { free_bufs(ctx, &o); return -1; }
            gf[k] = flops / sec * 1e-9;
            tot_flops[k] += sc->count * flops;
            tot_sec[k] += sc->count * sec;
        }
        free_bufs(ctx, &o);
        char shape[32];
        snprintf(shape, sizeof shape, "%d->%d@%d", sc->cin, sc->cout, sc->res);
        printf("%-20s %5d %9.1f %12.1f %12.1f %12.1f\n", shape, sc->count, flops * 1e-6, gf[0], gf[1], gf[2]);
        fflush(stdout);
    }
    if (own) return 0;
    printf("%-20s %5s %9.1f %12.1f %12.1f %12.1f\n", "total (per pass)", "", tot_flops[0] * 1e-6,
           tot_flops[0] / tot_sec[0] * 1e-9, tot_flops[1] / tot_sec[1] * 1e-9,
           tot_flops[2] / tot_sec[2] * 1e-9);
    for (int k = 0; k < 3; k++)
        printf("  %-10s %8.2f ms per encoder+decoder pass\n", pass_name[k], tot_sec[k] * 1e3);
    return 0;
}

static int bench_gemm(vkm_ctx *ctx, int iters) {
    const int n = 1024;
    bench_op o;
    memset(&o, 0, sizeof o);
    o.kind = K_GEMM;
    o.gemm = (vkm_gemm_p){n, n, n, 0, 0, 0, 0, 1.0f};
    long long sz[4] = {(long long)n * n, (long long)n * n, n, (long long)n * n};
    double sec;
    int rc = alloc_bufs(ctx, &o, sz, 4) || time_op(ctx, &o, iters, &sec);
    free_bufs(ctx, &o);
    if (rc) return -1;
    printf("\n%-20s %12.1f GFLOP/s  (%.2f ms)\n", "gemm 1024^3", 2.0 * n * n * n / sec * 1e-9, sec * 1e3);
    return 0;
}

static int bench_axpby(vkm_ctx *ctx, int iters) {
    const long long n = 1ll << 23;
    bench_op o;
    memset(&o, 0, sizeof o);
    o.kind = K_AXPBY;
    o.axpby = (vkm_axpby_p){n, 0.5f, 0.25f, 0};
    long long sz[3] = {n, n, n};
    double sec;
    int rc = alloc_bufs(ctx, &o, sz, 3) || time_op(ctx, &o, iters, &sec);
    free_bufs(ctx, &o);
    if (rc) return -1;
    printf("%-20s %12.1f GB/s     (%.2f ms; reads x, y, writes out)\n", "axpby 8M floats",
           3.0 * n * 4 / sec * 1e-9, sec * 1e3);
    return 0;
}

/* A CPU device shares the cores with everything else: say when the system
 * was busy, since the figures are then lower bounds. */
static void load_note(void) {
    FILE *f = fopen("/proc/loadavg", "r");
    double l1 = 0;
    if (!f) return;
    if (fscanf(f, "%lf", &l1) == 1)
        printf("\nsystem load average %.2f over the last minute%s\n", l1,
               l1 > 2.5 ? ": other processes competed for the CPU, figures are lower bounds" : "");
    fclose(f);
}

static void usage(FILE *f) {
    fprintf(f, "usage: vkmist bench ops [--device N] [--iters N] [--conv CIN,COUT,RES ...]\n"
           "       vkmist bench train [--config NAME] [--batch B] [--iters N] [--device N] [--profile] [--memory]\n\n"
           "bench train times the whole training step, or with --memory records every variant,\n"
           "runs one iteration and reports the device memory it took (vkmist bench train --help).\n\n"
           "bench ops measures kernel throughput on the device: conv2d forward, backward-data and\n"
           "backward-filter GFLOP/s at every 3x3 shape of the `small` config's content\n"
           "encoder and decoder at batch 2 (FLOPs = 2*B*Cout*Ho*Wo*Cin*9; the total row\n"
           "weights each shape by how often one pass runs it), a 1024^3 GEMM, and the\n"
           "GB/s of an elementwise axpby. Each figure is the median of --iters timed\n"
           "submits (default 5) of a pre-recorded sequence repeating the dispatch,\n"
           "after a warm-up submit.\n\n"
           "  --conv CIN,COUT,RES  time only this 3x3 conv shape (batch 2, RES x RES), in all three\n"
           "                       passes; repeat for several (e.g. the deep levels of config tiny:\n"
           "                       --conv 128,128,8 --conv 128,128,4)\n");
}

/* `vkmist bench train --config NAME [--batch B] [--iters N] [--device N] [--profile] [--memory]` */
static int bench_train_cmd(int argc, char **argv) {
    cli_args a = cli_begin("bench train", argc, argv);
    mist_bench_opts o = {"tiny", 2, 16, 1, -1, 0, 0};
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            printf("usage: vkmist bench train [--config NAME] [--batch B] [--iters N] [--device N] [--profile]\n"
                   "                          [--memory]\n\n"
                   "Times the whole MIST GAN training step (D and G updates, Adam, EMA) of a config: every\n"
                   "variant (4 targets x 2 style paths) is recorded and run once as warm-up, then --iters\n"
                   "iterations (default 16) cycle through them. Prints the median ms per iteration, it/s,\n"
                   "the achieved GFLOP/s (FLOPs counted from the graph) and the device memory; --profile adds\n"
                   "a per-op table (share of time, GFLOP/s, dispatch count) from timestamp queries.\n"
                   "--memory measures device memory instead of time: every variant is recorded (so every\n"
                   "binding is checked against the device's limits) and one iteration of one (target t1,\n"
                   "latent path) runs; then it prints the device memory allocated and the peak in use, the\n"
                   "step arena's chunks and, on a CPU device, the process's peak resident memory, and stops.\n"
                   "For configs whose full warm-up takes too long on the device (paper on a CPU: minutes per\n"
                   "iteration).\n");
            return 0;
        } else if ((v = cli_value(&a, "--config"))) o.config = v;
        else if ((v = cli_value(&a, "--batch"))) o.batch = (int)cli_long(&a, "--batch", v, 1, 4096);
        else if ((v = cli_value(&a, "--iters"))) o.iters = (int)cli_long(&a, "--iters", v, 1, 100000);
        else if ((v = cli_value(&a, "--device"))) o.device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if (cli_flag(&a, "--profile")) o.profile = 1;
        else if (cli_flag(&a, "--memory")) o.memory = 1;
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    char err[1024];
    if (mist_bench_train(&o, stdout, err, sizeof err)) {
        fprintf(stderr, "vkmist bench train: %s\n", err);
        return 1;
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train")) return bench_train_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "ops") != 0) {
        fprintf(stderr, "vkmist bench: unknown benchmark '%s' (try: vkmist bench ops | vkmist bench train)\n", argv[1]);
        return 2;
    }
    cli_args a = cli_begin("bench ops", argc - 1, argv + 1);
    int device = -1, iters = 5, nown = 0;
    bench_conv own[16];
    while (cli_more(&a)) {
        const char *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            usage(stdout);
            return 0;
        } else if ((v = cli_value(&a, "--device"))) device = (int)cli_long(&a, "--device", v, 0, 1000);
        else if ((v = cli_value(&a, "--conv"))) {
            bench_conv c = {0, 0, 0, 1};
            char end = 0;
            if (nown == 16) {
                fprintf(stderr, "vkmist bench ops: at most 16 --conv shapes\n");
                return 2;
            }
            if (sscanf(v, "%d,%d,%d%c", &c.cin, &c.cout, &c.res, &end) != 3 || c.cin < 1 || c.cin > 4096 ||
                c.cout < 1 || c.cout > 4096 || c.res < 1 || c.res > 1024) {
                fprintf(stderr, "vkmist bench ops: --conv wants CIN,COUT,RES (1-4096, 1-4096, 1-1024), got '%s'\n", v);
                return 2;
            }
            own[nown++] = c;
        }
        else if ((v = cli_value(&a, "--iters"))) iters = (int)cli_long(&a, "--iters", v, 1, 64);
        else if (!a.bad) cli_unknown(&a);
    }
    if (a.bad) return 2;
    vkm_ctx *ctx = cli_open_device("bench", device, 0);
    if (!ctx) return 1;
    printf("vkmist bench ops on %s (%s), median of %d\n\n", vkm_device(ctx)->name,
           vkm_device(ctx)->driver, iters);
    int rc = nown ? bench_convs(ctx, iters, own, nown, 1)
                  : bench_convs(ctx, iters, small_convs, NCONV, 0) || bench_gemm(ctx, iters) || bench_axpby(ctx, iters);
    if (!rc && vkm_device(ctx)->type == VK_PHYSICAL_DEVICE_TYPE_CPU) load_note();
    vkm_ctx_destroy(ctx);
    return rc ? 1 : 0;
}
