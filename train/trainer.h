/* `vkmist train`: the MIST GAN training loop (DESIGN §4, §6): per iteration
 * a random target and alternating latent/reference style paths, the
 * recorded step of that variant replayed on the device, losses logged,
 * samples, validation metrics and checkpoints (with mean styles) on
 * schedule, exact resume; data-parallel over MPI processes (train/dist.h). */
#pragma once
#include <stdint.h>
#include "io/preprocess.h"
#include "train/dist.h"
#include "train/options.h"

typedef struct {
    const char *data_dir;   /* NULL: the built-in phantom data set */
    const char *run_dir;
    const char *config;
    const char *split_file; /* a split JSON to use (copied into the run); NULL: seeded 3:1:1 */
    mist_train_opts opts;   /* batch (per process), iters, lr, lambdas, Adam, EMA */
    const mist_dist *dist;  /* data-parallel processes; NULL: one. The global batch is
                             * size x batch: rank r trains samples [r B, (r+1) B) of the
                             * batch a single process with size x batch would get, the
                             * gradients are averaged before every Adam step, and rank
                             * 0 alone writes logs, samples and checkpoints */
    uint64_t seed;
    int device;             /* -1: automatic (data-parallel: by local rank) */
    int resume;
    long ckpt_every, sample_every, eval_every;
    int keep_ckpts;
    int flip;
    io_norm norm;
    double max_minutes;     /* stop with a checkpoint after this wall time (0: none) */
    int quiet;
    /* Called at the end of every iteration (after its checkpoint or
     * samples, if any) with the device memory in use and allocated (bytes);
     * lets a soak test watch for leaks. NULL: none. */
    void (*probe)(void *user, long iter, uint64_t device_in_use, uint64_t device_allocated);
    void *probe_user;
} mist_trainer_opts;

mist_trainer_opts mist_trainer_defaults(void);
/* Returns 0 when the run finished (or stopped at its time limit), -1 with
 * err set otherwise (the newest checkpoint on disk stays intact). */
int mist_train(const mist_trainer_opts *o, char *err, size_t errlen);
