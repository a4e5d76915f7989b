/* The preprocessed slice cache: one memory-mappable file per data set and
 * parameters holding every selected slice as float32 [n_slices][4][img][img]
 * (domain order t1, t1ce, t2, flair) plus per-slice case index, z and brain
 * fraction. The header records the parameters, the cases with each input
 * file's size and mtime, and CRC-32s of the header, tables and slice data.
 * A cache whose inputs or parameters changed (stale) or that fails any check
 * (truncated, bad magic, bad checksum) is rebuilt, never trusted. It is
 * written to a temp file, fsynced and renamed.
 *
 * The file name is <cache_dir>/slices-<img>-<norm>-<16 hex>.cache, the hex
 * being a hash of the data folder's absolute path and the parameters, so
 * several data sets and sizes coexist. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "io/discover.h"
#include "io/preprocess.h"

#define IO_CACHE_VERSION 1

typedef struct io_slice_info {
    int32_t case_idx;    /* into io_cache.case_ids */
    int32_t z;           /* axial index in the RAS volume */
    float brain_frac;    /* fraction of the full-resolution slice that is brain */
} io_slice_info;

typedef struct io_cache {
    char path[4096];
    io_prep_params params;
    int64_t n_slices;
    int n_cases;
    char **case_ids;                /* cases with slices in the cache */
    const io_slice_info *info;      /* n_slices entries (in the mapping) */
    const float *data;              /* n_slices * 4 * img * img */
    int rebuilt;                    /* 1 when this open built the file */
    char why[256];                  /* why it was (re)built */
    int n_skipped;                  /* cases that could not be read */
    double build_s, load_s;         /* wall times of build and of open+verify */
    void *map;
    size_t map_len;
} io_cache;

/* Opens the cache for the complete cases of cl under cache_dir (created if
 * missing), building it first when absent, stale or damaged. Progress and
 * warnings (skipped cases, replaced non-finite voxels) go to log when it
 * is not NULL. Returns 0, or -1 with err set. */
int io_cache_open(const io_caselist *cl, const char *cache_dir, const io_prep_params *p, FILE *log,
                  io_cache **out, char *err, size_t errlen);
/* Slice i: 4 * img * img floats, domain-major. */
const float *io_cache_slice(const io_cache *c, int64_t i);
void io_cache_close(io_cache *c);
/* The file io_cache_open would use (for tools and tests). */
int io_cache_path(const io_caselist *cl, const char *cache_dir, const io_prep_params *p, char *out, size_t outlen);
