/* Fuzz target: the safetensors checkpoint reader (train/checkpoint_read.c).
 * Each input is opened twice: as given, and with both vkmist checksums
 * recomputed, so mutations get past the CRC checks into the shape, offset
 * and metadata validation behind them. An opened checkpoint is then used the
 * way resume and impute use it: every tensor found by name and copied, and
 * the split metadata parsed. An input starting with '{' is also read as a
 * split file (train --split-file), so the split parser is fuzzed directly. */
#include "io/split.h"
#include "tests/fuzz/fuzz.h"
#include "train/checkpoint_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the CRC of the data section into "vkmist_crc32":"........" and then
 * the header self-checksum, where the header is in range. */
static void fix_checksums(uint8_t *b, size_t n) {
    if (n < 8) return;
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)b[i] << (8 * i);
    if (hlen == 0 || hlen > n - 8) return;
    char *hdr = (char *)b + 8;
    static const char dkey[] = "\"" CKPT_KEY_DATA_CRC "\":\"";
    char *hit = memmem(hdr, (size_t)hlen, dkey, sizeof dkey - 1);
    if (hit && (size_t)(hit - hdr) + sizeof dkey - 1 + 8 <= hlen) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_crc32(0, hdr + hlen, n - 8 - hlen));
        memcpy(hit + sizeof dkey - 1, hex, 8);
    }
    int64_t pos = ckpt_hdr_crc_pos(hdr, (size_t)hlen);
    if (pos >= 0) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_hdr_crc(hdr, (size_t)hlen, (size_t)pos));
        memcpy(hdr + pos, hex, 8);
    }
}

static void load_split(const char *json, size_t n) {
    char sp[512], err[512] = "";
    fuzz_path(sp, sizeof sp, "split.json");
    fuzz_write(sp, json, n);
    io_split s;
    int rc = io_split_load(sp, &s, err, sizeof err);
    fuzz_expect_error(rc, err, sp);
    for (int p = 0; !rc && p < 3; p++)
        for (int i = 0; i < s.n[p]; i++) FUZZ_ASSERT(io_split_find(&s, s.ids[p][i]) == p, "split id not found");
    io_split_free(&s);
}

static void use(ckpt_reader *r, const char *path) {
    char err[512];
    for (int i = 0; i < ckpt_count(r); i++) {
        const ckpt_tensor *t = ckpt_tensor_at(r, i);
        FUZZ_ASSERT(t && t->ndim >= 0 && t->ndim <= CKPT_MAX_DIM, "tensor_at");
        const ckpt_tensor *f = ckpt_find(r, t->name);
        FUZZ_ASSERT(f && !strcmp(f->name, t->name), "ckpt_find does not find a listed tensor");
        FUZZ_ASSERT(t->nbytes == (uint64_t)t->numel * ckpt_dtype_size(t->dtype), "nbytes != numel x dtype size");
        void *buf = malloc(t->nbytes ? (size_t)t->nbytes : 1);
        FUZZ_ASSERT(buf != NULL, "out of memory");
        err[0] = 0;
        int rc = ckpt_read(r, t->name, t->dtype, buf, t->numel, err, sizeof err);
        FUZZ_ASSERT(rc == 0, "ckpt_read of a listed tensor failed");
        FUZZ_ASSERT(!t->nbytes || !memcmp(buf, t->data, (size_t)t->nbytes), "ckpt_read copied other bytes");
        rc = ckpt_read(r, t->name, t->dtype, buf, t->numel + 1, err, sizeof err);
        FUZZ_ASSERT(rc != 0, "ckpt_read accepted a wrong element count");
        fuzz_expect_error(rc, err, path);
        free(buf);
    }
    const char *split = ckpt_meta_get(r, "split");
    if (split) load_split(split, strlen(split));   /* as evaluate.c does */
    (void)ckpt_meta_get(r, "config");
}

static void open_one(const uint8_t *b, size_t n, const char *path) {
    fuzz_write(path, b, n);
    char err[512] = "";
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    fuzz_expect_error(r ? 0 : -1, err, path);
    if (r) {
        use(r, path);
        ckpt_close(r);
    }
}

FUZZ_TARGET(checkpoint) {
    if (size && data[0] == '{') load_split((const char *)data, size);
    char path[512];
    fuzz_path(path, sizeof path, "in.safetensors");
    open_one(data, size, path);
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    if (memcmp(copy, data, size)) open_one(copy, size, path);
    free(copy);
    return 0;
}
