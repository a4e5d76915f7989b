/* `vkmist bench train`: times the whole training step of a config on a
 * device (median ms per iteration over all eight variants, it/s, achieved
 * GFLOP/s from the graph's FLOP count, device memory) and, with profile,
 * a per-op-type table from timestamp queries. */
#pragma once
#include <stdio.h>

typedef struct {
    const char *config;
    int batch, iters, warmup, device, profile;
} mist_bench_opts;

int mist_bench_train(const mist_bench_opts *o, FILE *out, char *err, size_t errlen);
