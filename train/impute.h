/* Imputation with a trained checkpoint (DESIGN §5-§7): the model loaded
 * into the device inference engine with what its metadata says about the
 * data (config, normalisation, split), slices in [0,1] imputed in batches,
 * style codes (the checkpoint's mean style, a reference scan's, or one
 * drawn through the mapping network), and `vkmist impute`'s whole job:
 * three NIfTI inputs -> the missing modality on the inputs' own grid. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "io/preprocess.h"
#include "model/config.h"
#include "runtime/vkm.h"
#include "train/infer.h"

/* A checkpoint loaded for inference. */
typedef struct mist_imputer {
    vkm_ctx *ctx;
    int own_ctx;
    mist_config cfg;
    io_norm norm;           /* the normalisation the model was trained with */
    mist_infer *inf;
    float *mean_style;      /* [4][style_dim] */
    char *split_json;       /* the run's split (io_split JSON), NULL if none */
    long step;
    char path[1024];
} mist_imputer;

/* Opens and checks the checkpoint (format version, config, tensor shapes)
 * before touching a device; ctx: an open device, or NULL to create one for
 * `device` (-1: automatic). Returns 0, or -1 with err naming the file. */
int mist_imputer_open(mist_imputer *m, const char *ckpt_path, vkm_ctx *ctx, int device, char *err, size_t errlen);
void mist_imputer_close(mist_imputer *m);

/* k slices [k][4][img][img] in [0,1] (the target channel is ignored) ->
 * out [k][img][img] in [0,1] (clamped), all with the style [style_dim]. */
int mist_imputer_run(mist_imputer *m, int target, const float *four, int k, const float *style, float *out,
                     char *err, size_t errlen);
/* Zeroes out[k][img][img] wherever none of the three inputs of `four` is > 0. */
void mist_mask_to_inputs(float *out, const float *four, int k, int img, int target);

enum { MIST_STYLE_MEAN = 0, MIST_STYLE_REF = 1, MIST_STYLE_SEED = 2 };
typedef struct {
    int kind;
    char ref[1024];         /* MIST_STYLE_REF: a scan of the target modality */
    uint32_t seed;          /* MIST_STYLE_SEED */
} mist_style_spec;

/* "mean", "ref:FILE" or "seed:N". */
int mist_style_parse(const char *s, mist_style_spec *out, char *err, size_t errlen);
/* The style code [style_dim] for target under spec. */
int mist_imputer_style(mist_imputer *m, int target, const mist_style_spec *spec, float *style, char *err,
                       size_t errlen);

typedef struct {
    const char *model;       /* checkpoint */
    const char *case_dir;    /* a case folder, or NULL with input[] */
    const char *input[4];    /* explicit files per domain, NULL = not given */
    int target;              /* -1: the missing one */
    const char *out;         /* file or folder; NULL: next to the inputs */
    mist_style_spec style;
    const char *preview;     /* PNG path or NULL */
    int device;              /* -1: automatic */
    vkm_ctx *ctx;            /* an open device to use, or NULL */
    FILE *log;               /* notes (reference slices, ...), or NULL */
} mist_impute_opts;

typedef struct {
    char out_path[4096];
    char case_id[256];
    int target;
    int slices, nz;          /* slices imputed of nz */
    double seconds;          /* reading, imputing and writing the volume */
} mist_impute_result;

void mist_impute_defaults(mist_impute_opts *o);
/* Returns 0, or -1 with err set; nothing is written on failure. */
int mist_impute(const mist_impute_opts *o, mist_impute_result *res, char *err, size_t errlen);
