/* Sample sheets written during training: RUN/samples/step_<N>.png, one
 * labelled grid with a row per (validation slice, target modality) and the
 * columns "input 1 | input 2 | input 3 | imputed | truth", e.g.
 * "T1ce | T2 | FLAIR | imputed T1 | truth T1" (the inputs are the other
 * three modalities in domain order). Rows are slice-major: slice 0 with
 * targets T1, T1ce, T2, FLAIR, then slice 1, ... Images are [0, 1] floats;
 * small images are enlarged (nearest neighbour) to tiles of at least 96
 * pixels so the labels fit. The PNG is written to a temp file and renamed. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "io/cache.h"

#define MIST_SAMPLE_COLS 5

/* Display names: "T1", "T1ce", "T2", "FLAIR" (NULL for a bad d). */
const char *mist_domain_label(int d);

/* RUN/samples/step_<N>.png with N zero-padded to 6 digits (step_000500.png),
 * so the files sort by step. -1 when it does not fit. */
int mist_samples_path(const char *run_dir, long step, char *out, size_t outlen);

/* Writes the grid for k slices to path (its folder must exist).
 * truth:   [k][4][img][img], the slices' four modalities;
 * imputed: [k][4][img][img], imputed[s][t] = target t of slice s imputed
 *          from the other three.
 * Returns 0, or -1 with err set. */
int mist_samples_write(const char *path, int k, int img, const float *truth, const float *imputed, char *err,
                       size_t errlen);

/* Imputes target domain `target` for k slices at once: truth is
 * [k][4][img][img] in [0, 1] (the target's own channel must not be used),
 * out is [k][img][img] in [0, 1]. Returns 0, or -1 with err set. */
typedef int (*mist_impute_fn)(void *user, int k, int img, const float *truth, int target, float *out, char *err,
                              size_t errlen);

/* The training-time entry: takes cache slices slices[0..k-1] (e.g. from
 * mist_pick_slices on the validation part), calls impute once per target,
 * and writes RUN/samples/step_<N>.png (creating RUN/samples). The written
 * path goes to path_out when it is not NULL. Returns 0, or -1 with err set. */
int mist_samples_from_cache(const char *run_dir, long step, const io_cache *c, const int64_t *slices, int k,
                            mist_impute_fn impute, void *user, char *path_out, size_t path_len, char *err,
                            size_t errlen);
