/* Fuzz target: the slice-cache verifier (io_cache_try_open in io/cache.c).
 * The parameters and the expected key are taken from the input itself (the
 * header's img/norm/slice_frac, the first text at meta_off), so mutations are
 * not all stopped as "stale". Each input is tried as given and with every
 * checksum recomputed wherever its range lies inside the file, so the
 * header's sizes and offsets are exercised behind the CRCs too. A cache that
 * verifies must hand out only slices and ids inside the mapping. */
#include "io/cache_internal.h"
#include "tests/fuzz/fuzz.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int in_file(uint64_t off, uint64_t len, size_t n) {
    return off <= n && len <= n - off;
}

static void fix_checksums(uint8_t *b, size_t n) {
    io_cache_hdr h;
    if (n < sizeof h) return;
    memcpy(&h, b, sizeof h);
    if (in_file(h.data_off, h.data_bytes, n)) h.data_crc = (uint32_t)crc32_z(0, b + h.data_off, (size_t)h.data_bytes);
    if (h.n_slices <= n / sizeof(io_slice_info) && in_file(h.info_off, h.n_slices * sizeof(io_slice_info), n))
        h.info_crc = (uint32_t)crc32_z(0, b + h.info_off, (size_t)h.n_slices * sizeof(io_slice_info));
    if (in_file(h.meta_off, h.meta_len, n)) h.meta_crc = (uint32_t)crc32_z(0, b + h.meta_off, (size_t)h.meta_len);
    h.hdr_crc = io_cache_hdr_crc(&h);
    memcpy(b, &h, sizeof h);
}

static void try_one(const uint8_t *b, size_t n, const char *path) {
    fuzz_write(path, b, n);
    io_prep_params p = {8, IO_NORM_PERCENTILE, 0.02};
    char *key = NULL;
    io_cache_hdr h;
    if (n >= sizeof h) {
        memcpy(&h, b, sizeof h);
        if (h.img >= 4 && h.img <= 4096) p.img = (int)h.img;  /* io_cache_open's range */
        p.norm = (io_norm)(h.norm & 1);
        p.slice_frac = h.slice_frac;
        if (h.meta_off < n) {
            const uint8_t *z = memchr(b + h.meta_off, 0, n - h.meta_off);
            if (z) key = strdup((const char *)b + h.meta_off);
        }
    }
    io_cache *c = calloc(1, sizeof *c);
    FUZZ_ASSERT(c != NULL, "out of memory");
    char why[256] = "";
    int rc = io_cache_try_open(path, key ? key : "{}", &p, c, why, sizeof why);
    FUZZ_ASSERT(rc == 0 || why[0], "cache refused without a reason");
    if (rc == 0) {
        FUZZ_ASSERT(c->n_slices >= 0 && c->map && c->data, "verified cache without data");
        size_t plane = 4 * (size_t)p.img * (size_t)p.img;
        const char *lo = c->map, *hi = lo + c->map_len;
        double sum = 0;
        for (int64_t i = 0; i < c->n_slices; i++) {
            const float *s = io_cache_slice(c, i);
            FUZZ_ASSERT(s && (const char *)s >= lo && (const char *)(s + plane) <= hi, "slice outside the mapping");
            sum += s[0] + s[plane - 1];
            FUZZ_ASSERT(c->info[i].case_idx >= 0 && c->info[i].case_idx < c->n_cases, "slice of no case");
        }
        for (int i = 0; i < c->n_cases; i++) FUZZ_ASSERT(c->case_ids[i] != NULL, "case id");
        FUZZ_ASSERT(io_cache_slice(c, c->n_slices) == NULL, "slice past the end");
        (void)sum;
        io_cache_close(c);
    } else {
        free(c);
    }
    free(key);
}

FUZZ_TARGET(cache) {
    char path[512];
    fuzz_path(path, sizeof path, "in.cache");
    try_one(data, size, path);
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    if (memcmp(copy, data, size)) try_one(copy, size, path);
    free(copy);
    return 0;
}
