/* `vkmist eval`: imputation quality of a checkpoint per target modality on
 * the preprocessed [0,1] slices of a split (the checkpoint's own split
 * applied to the cases under a data folder), shaped like the paper's
 * Table 1 (SSIM and PSNR mean +- std over slices, plus MAE), whole slice
 * and inside the brain mask, with per-volume 3-D figures, next to two
 * baselines computed by the same code on the same slices: the mean of the
 * three inputs, and a per-target least-squares linear regression (with
 * intercept) from the three inputs fitted on the training split's brain
 * pixels. Every prediction, the model's and the baselines', is zero where
 * none of the three inputs is > 0, as `vkmist impute` writes it. */
#pragma once
#include <stdio.h>
#include "runtime/vkm.h"

enum { MIST_EVAL_ALL = -1 };   /* or IO_SPLIT_TRAIN / _VAL / _TEST */

typedef struct {
    const char *model;      /* checkpoint */
    const char *data;       /* data folder */
    int split;              /* IO_SPLIT_* or MIST_EVAL_ALL */
    const char *json;       /* everything as JSON, or NULL */
    const char *csv;        /* per-slice rows, or NULL */
    int device;             /* -1: automatic */
    vkm_ctx *ctx;           /* an open device to use, or NULL */
    int max_slices;         /* per volume, evenly spaced (0: all) */
    FILE *out;              /* the tables (stdout) */
    FILE *log;              /* progress and notes, or NULL */
} mist_eval_opts;

void mist_eval_defaults(mist_eval_opts *o);
/* "test", "val", "train" or "all" -> o->split; -1 when unknown. */
int mist_eval_split_parse(const char *s, int *split);
int mist_eval(const mist_eval_opts *o, char *err, size_t errlen);
