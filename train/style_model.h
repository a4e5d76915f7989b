/* A trained model opened for the style analyses (`vkmist style`): the
 * checkpoint (a file, or a run directory's newest good one) loaded into a
 * device inference engine with its EMA weights and mean styles, plus the
 * conversions the analyses share: data in [0, 1] -> network range
 * (2x - 1) and outputs back to [0, 1], clamped, as the trainer does. */
#pragma once
#include <stddef.h>
#include "io/preprocess.h"
#include "model/config.h"
#include "train/infer.h"

typedef struct mist_style_model {
    vkm_ctx *ctx;
    mist_config cfg;
    mist_infer *inf;
    float *mean_style;   /* [4][style_dim]: the checkpoint's mean style per domain */
    io_norm norm;        /* the run's intensity normalisation */
    long step;
    char path[1100];     /* the checkpoint file in use */
} mist_style_model;

/* model: a checkpoint file or a run directory. config: NULL, or the config
 * the caller expects (a checkpoint of another config is refused). device:
 * -1 = automatic. Returns 0, or -1 with err set (nothing left open). */
int mist_style_model_open(mist_style_model *m, const char *model, const char *config, int device, int verbose,
                          char *err, size_t errlen);
void mist_style_model_close(mist_style_model *m);

/* Domain index of a modality name: t1, t1ce, t2, flair (any case) or the
 * BraTS 2023 names t1n, t1c, t2w, t2f; -1 when unknown. */
int mist_style_domain(const char *name);

/* Target domain of n slices imputed from the other three: four is
 * [n][4][img][img] in [0, 1] (the target's channel is not read), style
 * [n][style_dim]; out [n][img][img] in [0, 1]. */
int mist_style_generate(mist_style_model *m, int target, const float *four, int n, const float *style, float *out,
                        char *err, size_t errlen);
/* Style codes of n slices x [n][img][img] in [0, 1] of domain d (EMA style
 * encoder) -> codes [n][style_dim]. */
int mist_style_encode(mist_style_model *m, int d, const float *x, int n, float *codes, char *err, size_t errlen);
