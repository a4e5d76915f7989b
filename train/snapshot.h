/* A model's checkpoint (safetensors through train/checkpoint): every
 * parameter with its EMA copy and Adam moments, the Adam step counters, the
 * mean style per domain and the run's metadata; loading it back for
 * training (exact resume) or into an inference engine (EMA weights). */
#pragma once
#include "train/checkpoint.h"
#include "train/infer.h"
#include "train/step.h"

#define MIST_CKPT_FORMAT "vkmist-mist-1"

/* Writes RUN/ckpt/step_<step>.safetensors (atomically), keeping the newest
 * `keep`. meta: key/value pairs (NULL-terminated list of 2*k strings). */
int mist_snapshot_save(const char *run_dir, long step, int keep, vkm_store_dev *sd, const mist_net *n,
                       const uint32_t *adam_steps, const float *mean_style, const char *const *meta, char *err,
                       size_t errlen);
/* Checks that r is a vkmist MIST checkpoint of config cfg_name. */
int mist_snapshot_check(const ckpt_reader *r, const char *cfg_name, char *err, size_t errlen);
/* Restores parameters, EMA, Adam moments and step counters (training). */
int mist_snapshot_load_train(const ckpt_reader *r, vkm_store_dev *sd, const mist_net *n, uint32_t *adam_steps,
                             float *mean_style, char *err, size_t errlen);
/* Loads the EMA weights into an inference engine, and the mean styles. */
int mist_snapshot_load_infer(const ckpt_reader *r, mist_infer *inf, float *mean_style, char *err, size_t errlen);
