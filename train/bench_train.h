/* `vkmist bench train`: times the whole training step of a config on a
 * device (median ms per iteration over all eight variants, it/s, achieved
 * GFLOP/s from the graph's FLOP count, device memory) and, with profile,
 * a per-op-type table from timestamp queries. With memory: records every
 * variant, runs one iteration of one and reports the device memory it took
 * (for configs whose 8-variant warm-up alone takes too long, e.g. paper on a
 * CPU). */
#pragma once
#include <stdio.h>

typedef struct {
    const char *config;
    int batch, iters, warmup, device, profile;
    int memory;   /* record all variants, run one iteration of one, report memory, stop */
} mist_bench_opts;

int mist_bench_train(const mist_bench_opts *o, FILE *out, char *err, size_t errlen);
