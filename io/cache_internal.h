/* The slice cache's on-disk header and the verifying opener, shared by
 * io/cache.c and the cache fuzz target (tests/fuzz/fuzz_cache.c), which
 * feeds damaged files straight to the verifier. Not for other callers:
 * io_cache_open is the API. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "io/cache.h"

#define IO_CACHE_DATA_OFF 4096
#define IO_CACHE_MAGIC {'V', 'K', 'M', 'S', 'L', 'C', 0, 1}

typedef struct {
    char magic[8];
    uint32_t version, img, norm, n_cases;
    double slice_frac;
    uint64_t n_slices, data_off, data_bytes, info_off, meta_off, meta_len, file_size, dataset_key;
    uint32_t data_crc, info_crc, meta_crc, hdr_crc;
} io_cache_hdr;
_Static_assert(sizeof(io_cache_hdr) == 112, "cache header layout");

/* CRC-32 of the header up to (not including) hdr_crc. */
uint32_t io_cache_hdr_crc(const io_cache_hdr *h);
/* Maps and verifies the cache file at path against key and p; fills c's
 * mapping, slice table and case ids. 0 when usable, else 1 with the reason
 * in why (c then holds nothing to free). */
int io_cache_try_open(const char *path, const char *key, const io_prep_params *p, io_cache *c,
                      char *why, size_t whylen);
