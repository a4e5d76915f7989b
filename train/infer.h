/* Inference with a trained model on the device: the generator for each
 * target domain (the other three as inputs), the style encoder and the
 * mapping network per domain, each a graph recorded once and replayed over
 * batches. Parameters come from the training store's EMA copies or from a
 * checkpoint (same config, so the same parameter ids and names). Used by the
 * trainer (samples, validation, mean styles) and by impute/eval. */
#pragma once
#include <stdint.h>
#include "train/step.h"

typedef struct mist_infer mist_infer;

/* batch: slices per device submit. */
int mist_infer_open(vkm_ctx *ctx, const mist_config *cfg, int batch, mist_infer **out, char *err, size_t errlen);
void mist_infer_close(mist_infer *inf);
int mist_infer_batch(const mist_infer *inf);
const mist_net *mist_infer_net(const mist_infer *inf);
/* Sets parameter id's values (ids as in any store built from the same config). */
int mist_infer_set_param(mist_infer *inf, int id, const float *values);

/* x[d]: [n][img][img] in [-1,1] for the three input domains (x[target] is
 * ignored); style: [n][style_dim]; out: [n][img][img] in [-1,1]. Any n >= 1
 * (batched internally; a short last batch is zero-padded). */
int mist_infer_generate(mist_infer *inf, int target, const float *const x[4], const float *style, int n, float *out,
                        char *err, size_t errlen);
/* Style codes of n slices of domain d: x [n][img][img] -> out [n][style_dim]. */
int mist_infer_style_encode(mist_infer *inf, int d, const float *x, int n, float *out, char *err, size_t errlen);
/* n style codes of domain d drawn through the mapping network from seed. */
int mist_infer_style_map(mist_infer *inf, int d, uint32_t seed, int n, float *out, char *err, size_t errlen);
