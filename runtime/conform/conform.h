/* The op conformance suite: each row runs one shader on the device against
 * its CPU reference (runtime/ref) over random shapes, odd sizes included,
 * with guard regions around every output and NaN/Inf checks. Shared by the
 * ctest suite and `vkmist selftest`. */
#pragma once
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "runtime/vkm.h"

typedef struct { uint64_t s; } conf_rng;
uint64_t conf_next(conf_rng *r);
double conf_uniform(conf_rng *r);              /* [0, 1) */
int conf_int(conf_rng *r, int lo, int hi);     /* inclusive */
double conf_normal(conf_rng *r);
void conf_fill_normal(conf_rng *r, double *x, size_t n, double std);

/* A device tensor of n floats with guard regions before and after, filled
 * with a sentinel; conf_guard_ok tells whether anything wrote into them. */
typedef struct { vkm_buf all, data; size_t n; size_t guard_bytes; } conf_tensor;
int conf_tensor_new(vkm_ctx *ctx, size_t n, conf_tensor *t);
void conf_tensor_free(vkm_ctx *ctx, conf_tensor *t);
int conf_upload(vkm_ctx *ctx, conf_tensor *t, const double *src);   /* double -> float */
int conf_upload_u32(vkm_ctx *ctx, conf_tensor *t, const uint32_t *src);
int conf_download(vkm_ctx *ctx, conf_tensor *t, double *dst);       /* float -> double */
int conf_guard_ok(vkm_ctx *ctx, conf_tensor *t);
/* Rounds through float so the reference sees exactly what the device sees. */
void conf_round_f32(double *x, size_t n);

typedef struct {
    double worst_nmse;
    int cases;
    int failed;
    char msg[512];
} conf_result;

double conf_nmse(const double *got, const double *want, size_t n);
/* Compares one output: NaN/Inf, guards, NMSE against limit. Returns 0 when ok
 * (and updates worst_nmse), else marks r failed with a message naming what. */
int conf_check(vkm_ctx *ctx, conf_result *r, const char *what, conf_tensor *t,
               const double *want, double limit);
/* Marks r failed with a formatted message (device/launch errors). */
void conf_fail(conf_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef void (*conf_row_fn)(vkm_ctx *ctx, conf_rng *rng, double limit, conf_result *r);
typedef struct { const char *name; conf_row_fn fn; double nmse_limit; } conf_row;

/* The table (runtime/conform/table.c, rows listed in table.def). */
extern const conf_row conf_rows[];
extern const int conf_nrows;

/* Runs rows whose name matches filter (NULL/"" = all), prints one line per
 * row to out; returns the number of failed rows. Also fails a row when the
 * validation layer reported anything while it ran. */
int conf_run(vkm_ctx *ctx, const char *filter, uint64_t seed, FILE *out);
