/* Training batches from the slice cache (DESIGN §4-5), restricted to one
 * part of the subject split (the train cases).
 *
 * Batch i holds three independent sets of B four-modality slices, each
 * [B][4][img][img] in the network range [-1, 1] (data x -> 2x - 1): `x`
 * (the training slices), `ref` and `ref2` (reference slices for the style
 * paths s and s2: the trainer takes the target domain's channel). Every
 * sample is horizontally flipped or not by its own coin when flipping is on.
 *
 * Batch i is a pure function of (seed, i, the slice list): counter-based
 * hashing (splitmix64 of the seed, i and a stream number), no RNG state
 * carried from batch to batch, so resuming at iteration i gives exactly the
 * batches of an uninterrupted run. `x` walks the training slices in epochs,
 * each epoch a seeded permutation (every slice once per epoch); `ref` and
 * `ref2` pick slices uniformly at random.
 *
 * A background thread prefetches batches i+1 .. i+prefetch into a small
 * ring while the caller works; mist_loader_get(i) works for any i, in any
 * order (it blocks until batch i is ready). The cache must stay open while
 * the loader exists. One thread at a time may call mist_loader_get. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "io/cache.h"
#include "io/split.h"

typedef struct mist_loader_opts {
    int batch;         /* B >= 1 */
    int flip;          /* random horizontal flip per sample */
    int prefetch;      /* batches prepared ahead (ring size); 0 = no thread, batches built on demand */
    uint64_t seed;
    /* data parallelism: this loader serves samples [first, first + batch) of
     * the global batch of global_batch samples (0: batch), the very samples a
     * single process with batch global_batch would get */
    int global_batch;
    int first;
} mist_loader_opts;

mist_loader_opts mist_loader_opts_default(void); /* batch 2, flip on, prefetch 2, seed 0, no shard */

enum { MIST_BATCH_X = 0, MIST_BATCH_REF = 1, MIST_BATCH_REF2 = 2, MIST_BATCH_NSETS };

typedef struct mist_batch {
    int64_t index;               /* the iteration it belongs to */
    int batch, img;
    float *set[MIST_BATCH_NSETS];          /* each [batch][4][img][img] in [-1, 1] */
    int64_t *slice[MIST_BATCH_NSETS];      /* cache slice index of each sample */
    uint8_t *flipped[MIST_BATCH_NSETS];    /* 1 when that sample was flipped */
} mist_batch;

/* Allocates the arrays for batch x img; -1 when out of memory. */
int mist_batch_alloc(mist_batch *b, int batch, int img);
void mist_batch_free(mist_batch *b);
/* Gathers domain d of one set as [batch][img][img] (the layout of the
 * step's per-domain inputs) into out. */
void mist_batch_domain(const mist_batch *b, int set, int d, float *out);

/* Counter-based random 64-bit value for (seed, counter, stream): the same
 * arguments always give the same value. For per-iteration choices (target
 * domain, latent seeds) that must survive a resume. */
uint64_t mist_rng_u64(uint64_t seed, uint64_t counter, uint64_t stream);

/* The cache slices of the cases in part `part` (IO_SPLIT_*) of s, in
 * cache order; *out is malloc'd (NULL when *n == 0). -1 with err set on
 * out of memory. */
int mist_part_slices(const io_cache *c, const io_split *s, int part, int64_t **out, int64_t *n, char *err, size_t errlen);

/* A fixed, deterministic set of up to k slices of part `part` for sample
 * pictures and validation metrics: spread over the part's cases (sorted by
 * id, round-robin: case 0 gets the first, case 1 the second, ...) and,
 * within a case, spaced evenly over the middle half of its slices ordered
 * by z (one slice per case is the middle brain slice). Returns the count
 * written to out[] (< k when the part has fewer slices), or -1 with err set. */
int mist_pick_slices(const io_cache *c, const io_split *s, int part, int k, int64_t *out, char *err, size_t errlen);

typedef struct mist_loader mist_loader;

/* Opens a loader over the slices of part `part` of s (normally
 * IO_SPLIT_TRAIN). Fails (-1, err set) on bad options or when the part has
 * no cached slices. */
int mist_loader_open(const io_cache *c, const io_split *s, int part, const mist_loader_opts *o, mist_loader **out,
                     char *err, size_t errlen);
/* Copies batch i (>= 0) into b (allocated by mist_batch_alloc with the
 * loader's batch and img), then lets the thread prefetch i+1 ... Returns 0,
 * or -1 for bad arguments. */
int mist_loader_get(mist_loader *l, int64_t i, mist_batch *b);
int64_t mist_loader_nslices(const mist_loader *l);   /* slices of the part */
/* Stops and joins the prefetch thread and frees everything. NULL is fine. */
void mist_loader_close(mist_loader *l);
