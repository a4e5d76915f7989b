/* Checkpoint files: round trip of tensors and metadata, the byte layout
 * safetensors expects, refusal of every kind of damage (truncation, flipped
 * bytes anywhere, bad lengths, overlapping/gapped/missized offsets, foreign
 * files), run-directory listing/pruning/fallback, and atomicity under
 * SIGKILL of a writer. */
#include "train/checkpoint.h"
#include "train/checkpoint_internal.h"
#include "tests/testutil.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned rng_next(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* (unlinks first: rewriting a file through O_TRUNC makes ext4 flush it on
 * close, which made the thousands of damaged copies below take seconds) */
static void spit(const char *path, const void *b, size_t len) {
    unlink(path);
    FILE *f = fopen(path, "wb");
    TU_CHECK(f && fwrite(b, 1, len, f) == len, "write %s", path);
    if (f) fclose(f);
}

/* ckpt_open must refuse path with an error naming the file and containing
 * `want` (when given). */
static void expect_refused(const char *path, const char *want, const char *what) {
    char err[512] = "";
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    TU_CHECK(!r, "%s: damaged file accepted", what);
    ckpt_close(r);
    TU_CHECK(strstr(err, path) != NULL, "%s: error does not name the file: %s", what, err);
    if (want) TU_CHECK(strstr(err, want) != NULL, "%s: error \"%s\" lacks \"%s\"", what, err, want);
}

#define NBIG 1000
static float big[NBIG];

static int write_sample(const char *path) {
    static const float a[12] = {1, -2, 3.5f, 0, 1e-30f, -0.0f, 7, 8, 9, 10, 11, 12};
    static const uint32_t u[5] = {0, 1, 0xffffffffu, 42, 7};
    static const uint64_t q[2] = {UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210)};
    static const int8_t i8[7] = {-1, 2, -3, 4, -5, 6, -7};
    static const float sc = 3.25f;
    for (int i = 0; i < NBIG; i++) big[i] = (float)i * 0.5f - 17.f;
    int64_t s34[2] = {3, 4}, s5[1] = {5}, s2[1] = {2}, s7[1] = {7}, s03[2] = {0, 3}, sb[3] = {10, 10, 10};
    ckpt_writer *w = ckpt_begin();
    int rc = ckpt_add_f32(w, "enc.conv1.weight", a, s34, 2) | ckpt_add_u32(w, "adam_steps", u, s5, 1)
           | ckpt_add_u64(w, "rng", q, s2, 1) | ckpt_add(w, "odd_bytes", CKPT_I8, i8, s7, 1)
           | ckpt_add_f32(w, "scalar", &sc, NULL, 0) | ckpt_add_f32(w, "empty", NULL, s03, 2)
           | ckpt_add_borrowed(w, "big", CKPT_F32, big, sb, 3)
           | ckpt_meta(w, "step", "1234")
           | ckpt_meta(w, "config", "{\"img\": 128, \"name\": \"caf\xc3\xa9 \\\"q\\\"\\n\"}")
           | ckpt_meta(w, "step", "1235");   /* replaces */
    char err[512];
    if (rc) fprintf(stderr, "add failed\n");
    rc |= ckpt_write(w, path, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    ckpt_free(w);
    return rc;
}

static void test_round_trip(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    TU_CHECK(write_sample(path) == 0, "write");
    char err[512];
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    TU_CHECK(r, "open: %s", err);
    if (!r) return;
    TU_CHECK(ckpt_count(r) == 7, "7 tensors, got %d", ckpt_count(r));
    const ckpt_tensor *t = ckpt_find(r, "enc.conv1.weight");
    TU_CHECK(t && t->dtype == CKPT_F32 && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4 && t->numel == 12,
             "f32 tensor info");
    float a[12];
    TU_CHECK(ckpt_read_f32(r, "enc.conv1.weight", a, 12, err, sizeof err) == 0, "%s", err);
    static const float ea[12] = {1, -2, 3.5f, 0, 1e-30f, -0.0f, 7, 8, 9, 10, 11, 12};
    TU_CHECK(!memcmp(a, ea, sizeof a), "f32 bytes (incl. -0 and denormal-ish)");
    uint32_t u[5];
    TU_CHECK(ckpt_read_u32(r, "adam_steps", u, 5, err, sizeof err) == 0 && u[2] == 0xffffffffu && u[3] == 42, "u32");
    uint64_t q[2];
    TU_CHECK(ckpt_read_u64(r, "rng", q, 2, err, sizeof err) == 0 && q[1] == UINT64_C(0xfedcba9876543210), "u64");
    int8_t i8[7];
    TU_CHECK(ckpt_read(r, "odd_bytes", CKPT_I8, i8, 7, err, sizeof err) == 0 && i8[6] == -7, "i8");
    float sc = 0;
    t = ckpt_find(r, "scalar");
    TU_CHECK(t && t->ndim == 0 && t->numel == 1, "scalar shape []");
    TU_CHECK(ckpt_read_f32(r, "scalar", &sc, 1, err, sizeof err) == 0 && sc == 3.25f, "scalar");
    t = ckpt_find(r, "empty");
    TU_CHECK(t && t->numel == 0 && t->nbytes == 0 && t->ndim == 2, "empty tensor");
    static float b2[NBIG];
    TU_CHECK(ckpt_read_f32(r, "big", b2, NBIG, err, sizeof err) == 0 && !memcmp(b2, big, sizeof big), "borrowed big tensor");
    /* mismatches are refused with both sides named */
    TU_CHECK(ckpt_read_f32(r, "adam_steps", a, 5, err, sizeof err) < 0 && strstr(err, "U32") && strstr(err, "F32"),
             "dtype mismatch: %s", err);
    TU_CHECK(ckpt_read_f32(r, "big", b2, 999, err, sizeof err) < 0 && strstr(err, "999"), "numel mismatch: %s", err);
    TU_CHECK(ckpt_read_f32(r, "nope", b2, 1, err, sizeof err) < 0 && strstr(err, "nope"), "missing tensor: %s", err);
    TU_CHECK(!ckpt_find(r, "nope"), "find missing");
    /* metadata */
    const char *m = ckpt_meta_get(r, "step");
    TU_CHECK(m && !strcmp(m, "1235"), "meta replaced: %s", m ? m : "(null)");
    m = ckpt_meta_get(r, "config");
    TU_CHECK(m && !strcmp(m, "{\"img\": 128, \"name\": \"caf\xc3\xa9 \\\"q\\\"\\n\"}"), "json-valued meta: %s", m ? m : "(null)");
    TU_CHECK(ckpt_meta_get(r, CKPT_KEY_VERSION) && ckpt_meta_get(r, CKPT_KEY_DATA_CRC), "checksum metadata present");
    TU_CHECK(!ckpt_meta_get(r, "absent"), "absent meta");
    /* tensors come back in data order */
    const ckpt_tensor *t0 = ckpt_tensor_at(r, 0), *t6 = ckpt_tensor_at(r, 6);
    TU_CHECK(t0 && !strcmp(t0->name, "enc.conv1.weight") && t6 && !strcmp(t6->name, "big") && !ckpt_tensor_at(r, 7),
             "file order");
    ckpt_close(r);

    /* the layout by hand: LE header length, 8-aligned data start, offsets
     * tiling the data section, as Python's safetensors requires */
    size_t len;
    unsigned char *b = slurp(path, &len);
    TU_CHECK(b && len > 8, "slurp");
    if (!b) return;
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)b[i] << (8 * i);
    TU_CHECK(hl + 8 <= len && (hl + 8) % 8 == 0 && b[8] == '{', "header length %llu, aligned", (unsigned long long)hl);
    cJSON *j = cJSON_ParseWithLength((const char *)b + 8, (size_t)hl);
    TU_CHECK(j != NULL, "header parses independently");
    uint64_t total = 0;
    for (cJSON *e = j ? j->child : NULL; e; e = e->next) {
        cJSON *of = cJSON_GetObjectItem(e, "data_offsets");
        if (!of) continue;
        total += (uint64_t)cJSON_GetArrayItem(of, 1)->valuedouble - (uint64_t)cJSON_GetArrayItem(of, 0)->valuedouble;
    }
    TU_CHECK(total == len - 8 - hl, "offsets cover the data: %llu vs %llu", (unsigned long long)total,
             (unsigned long long)(len - 8 - hl));
    cJSON *o = j ? cJSON_GetObjectItem(j, "odd_bytes") : NULL;
    TU_CHECK(o && !strcmp(cJSON_GetObjectItem(o, "dtype")->valuestring, "I8"), "dtype string");
    cJSON_Delete(j);
    free(b);
}

static void test_writer_errors(const char *dir) {
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    float x[2] = {1, 2};
    int64_t s[9] = {2, 1, 1, 1, 1, 1, 1, 1, 1}, neg[1] = {-2};
    struct { const char *want; int kind; } cases[] = {
        {"twice", 0}, {"reserved", 1}, {"dimensions", 2}, {"shape", 3}, {"empty name", 4}, {"UTF-8", 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ckpt_writer *w = ckpt_begin();
        ckpt_add_f32(w, "a", x, s, 1);
        int rc = 0;
        switch (cases[c].kind) {
        case 0: rc = ckpt_add_f32(w, "a", x, s, 1); break;
        case 1: rc = ckpt_meta(w, "vkmist_crc32", "0"); break;
        case 2: rc = ckpt_add_f32(w, "b", x, s, 9); break;
        case 3: rc = ckpt_add_f32(w, "b", x, neg, 1); break;
        case 4: rc = ckpt_add_f32(w, "", x, s, 1); break;
        case 5: rc = ckpt_meta(w, "k", "bad \xff byte"); break;
        }
        TU_CHECK(rc < 0, "case %s: add refused", cases[c].want);
        ckpt_add_f32(w, "later", x, s, 1);   /* the first error is the one kept */
        TU_CHECK(ckpt_write(w, path, err, sizeof err) < 0 && strstr(err, cases[c].want), "case %s: %s", cases[c].want, err);
        ckpt_free(w);
        TU_CHECK(access(path, F_OK) != 0, "nothing written for case %s", cases[c].want);
    }
    /* a folder that does not exist: clear error, no temp file left */
    ckpt_writer *w = ckpt_begin();
    ckpt_add_f32(w, "a", x, s, 1);
    snprintf(path, sizeof path, "%s/missing/x.safetensors", dir);
    TU_CHECK(ckpt_write(w, path, err, sizeof err) < 0 && strstr(err, "missing/x.safetensors"), "no folder: %s", err);
    ckpt_free(w);
}

/* Writes a hand-made safetensors file: `json` is the header with the tokens
 * DDDDDDDD (data CRC) and HHHHHHHH (header CRC) filled in here, so each case
 * reaches exactly the check it means to test. */
static void craft(const char *path, const char *json, const void *data, size_t dlen) {
    size_t jl = strlen(json), hl = (jl + 8 + 7) / 8 * 8 - 8;
    char *h = malloc(hl + 1);
    memcpy(h, json, jl);
    memset(h + jl, ' ', hl - jl);
    char hex[9];
    char *d = memmem(h, hl, "DDDDDDDD", 8);
    if (d) { snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_crc32(0, data, dlen)); memcpy(d, hex, 8); }
    char *hh = memmem(h, hl, "HHHHHHHH", 8);
    if (hh) {
        memcpy(hh, "00000000", 8);
        int64_t pos = ckpt_hdr_crc_pos(h, hl);
        if (pos >= 0) {
            snprintf(hex, sizeof hex, "%08x", (unsigned)ckpt_hdr_crc(h, hl, (size_t)pos));
            memcpy(h + pos, hex, 8);
        }
    }
    unsigned char lb[8];
    for (int i = 0; i < 8; i++) lb[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    FILE *f = fopen(path, "wb");
    TU_CHECK(f && fwrite(lb, 1, 8, f) == 8 && fwrite(h, 1, hl, f) == hl && (!dlen || fwrite(data, 1, dlen, f) == dlen),
             "craft %s", path);
    if (f) fclose(f);
    free(h);
}

#define META "\"__metadata__\":{\"vkmist_format_version\":\"1\",\"vkmist_crc32\":\"DDDDDDDD\",\"vkmist_header_crc32\":\"HHHHHHHH\"}"

static void test_crafted(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/craft.safetensors", dir);
    unsigned char data[32];
    for (int i = 0; i < 32; i++) data[i] = (unsigned char)(i * 7);
    struct { const char *json; size_t dlen; const char *want; } cases[] = {
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}", 12, NULL},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "gap"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12"},
        {"{" META ",\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "needs 16"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "outside"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside"},
        {"{" META ",\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "shape[0]"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "too large"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "data_offsets"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
        {"{" META ",\"a\":[1,2]}", 8, "not an object"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "twice"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "trailing"},
        {"{" META "," META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "damaged"},
        {"{\"__metadata__\":{\"vkmist_format_version\":\"2\",\"vkmist_crc32\":\"DDDDDDDD\",\"vkmist_header_crc32\":\"HHHHHHHH\"},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "format version"},
        {"{\"__metadata__\":{\"vkmist_format_version\":\"1\",\"vkmist_crc32\":\"DDDDDDDD\",\"vkmist_header_crc32\":\"HHHHHHHH\",\"n\":3},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "not a string"},
        /* a foreign safetensors file (Python's, with or without metadata) */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "not a vkmist checkpoint"},
        {"{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "not a vkmist checkpoint"},
        {"{" META ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "after the JSON"},
        {"[" META "]", 0, "'{'"},
        {"{" META ",\"a\":{", 0, "not valid JSON"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        craft(path, cases[c].json, data, cases[c].dlen);
        char what[64];
        snprintf(what, sizeof what, "crafted case %zu", c);
        if (!cases[c].want) {
            char err[512];
            ckpt_reader *r = ckpt_open(path, err, sizeof err);
            TU_CHECK(r, "%s should open: %s", what, err);
            ckpt_close(r);
        } else {
            expect_refused(path, cases[c].want, what);
        }
    }
    /* a header that claims more than the file holds, or nothing at all */
    static const uint64_t lens[] = {0, 41, UINT64_C(1) << 40, UINT64_MAX};
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        unsigned char b[48] = {0};
        for (int i = 0; i < 8; i++) b[i] = (unsigned char)(lens[c] >> (8 * i));
        b[8] = '{';
        spit(path, b, sizeof b);
        expect_refused(path, "header length", "header length vs file");
    }
    spit(path, "", 0);
    expect_refused(path, "truncated", "empty file");
    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    expect_refused(path, "cannot open", "absent file");
    expect_refused(dir, NULL, "a folder");
}

static void test_damage(const char *dir) {
    char src[600], path[600];
    snprintf(src, sizeof src, "%s/src.safetensors", dir);
    snprintf(path, sizeof path, "%s/dmg.safetensors", dir);
    TU_CHECK(write_sample(src) == 0, "write");
    size_t len;
    unsigned char *b = slurp(src, &len);
    if (!b) return;
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)b[i] << (8 * i);
    /* truncation: every cut in the length and header region, then a spread over the data */
    int refused = 0, tries = 0;
    for (size_t cut = 0; cut < len; cut += cut < 8 + hl + 16 ? 1 : 37) {
        spit(path, b, cut);
        char err[512];
        ckpt_reader *r = ckpt_open(path, err, sizeof err);
        tries++;
        if (!r && strstr(err, path)) refused++;
        ckpt_close(r);
    }
    TU_CHECK(refused == tries, "truncated files refused: %d of %d", refused, tries);
    /* one flipped byte anywhere: every byte of the header, every 3rd of the data */
    int hdr_ref = 0, hdr_tries = 0, data_ref = 0, data_tries = 0;
    for (size_t i = 0; i < len; i += i < 8 + hl ? 1 : 3) {
        unsigned char old = b[i];
        b[i] ^= (unsigned char)(i % 2 ? 0x01 : 0x80);
        spit(path, b, len);
        b[i] = old;
        char err[512];
        ckpt_reader *r = ckpt_open(path, err, sizeof err);
        if (i < 8 + hl) { hdr_tries++; hdr_ref += !r; }
        else { data_tries++; data_ref += !r && strstr(err, "data checksum") != NULL; }
        ckpt_close(r);
    }
    TU_CHECK(hdr_ref == hdr_tries, "flipped header bytes refused: %d of %d", hdr_ref, hdr_tries);
    TU_CHECK(data_ref == data_tries, "flipped data bytes refused as checksum mismatch: %d of %d", data_ref, data_tries);
    /* a flipped header byte that keeps the JSON valid still fails the header CRC */
    char *p = memmem(b, 8 + hl, "1235", 4);
    TU_CHECK(p != NULL, "metadata value in header");
    if (p) {
        p[3] = '6';
        spit(path, b, len);
        expect_refused(path, "header checksum", "metadata edit");
        p[3] = '5';
    }
    /* appended bytes */
    unsigned char *b2 = malloc(len + 4);
    memcpy(b2, b, len);
    memset(b2 + len, 0, 4);
    spit(path, b2, len + 4);
    expect_refused(path, "trailing", "appended bytes");
    free(b2);
    free(b);
    printf("damage: %d truncations, %d header flips, %d data flips refused\n", tries, hdr_tries, data_tries);
}

static int write_step(const char *run, long step, size_t nfloat) {
    float *v = malloc(nfloat * sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < nfloat; i++) v[i] = (float)step + (float)(i % 97);
    int64_t shape[1] = {(int64_t)nfloat};
    char path[600], err[512], sv[32];
    snprintf(sv, sizeof sv, "%ld", step);
    ckpt_writer *w = ckpt_begin();
    ckpt_add_borrowed(w, "w", CKPT_F32, v, shape, 1);
    ckpt_meta(w, "step", sv);
    int rc = ckpt_step_path(path, sizeof path, run, step) || ckpt_write(w, path, err, sizeof err);
    ckpt_free(w);
    free(v);
    return rc ? -1 : 0;
}

/* The file's "step" metadata and tensor agree with its name. */
static int check_step(const char *run, long step) {
    char path[600], err[512];
    ckpt_step_path(path, sizeof path, run, step);
    ckpt_reader *r = ckpt_open(path, err, sizeof err);
    if (!r) { fprintf(stderr, "%s\n", err); return -1; }
    const char *m = ckpt_meta_get(r, "step");
    const ckpt_tensor *t = ckpt_find(r, "w");
    float v0 = 0;
    int ok = m && atol(m) == step && t && t->nbytes >= 4;
    if (ok) { memcpy(&v0, t->data, 4); ok = v0 == (float)step; }
    ckpt_close(r);
    return ok ? 0 : -1;
}

static pid_t dead_pid(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void test_run_dir(const char *dir) {
    char run[600], err[512], path[700];
    snprintf(run, sizeof run, "%s/run", dir);
    long *steps;
    size_t n;
    TU_CHECK(ckpt_latest_good(run, path, sizeof path, NULL, NULL, err, sizeof err) == CKPT_NONE, "no run dir: none");
    TU_CHECK(ckpt_prepare_dir(run, err, sizeof err) == 0, "%s", err);
    TU_CHECK(ckpt_prepare_dir(run, err, sizeof err) == 0, "prepare twice: %s", err);
    TU_CHECK(ckpt_latest_good(run, path, sizeof path, NULL, NULL, err, sizeof err) == CKPT_NONE && strstr(err, "no checkpoint"),
             "empty: %s", err);
    for (long s = 100; s <= 400; s += 100) TU_CHECK(write_step(run, s, 256) == 0, "write step %ld", s);
    TU_CHECK(write_step(run, 123456789, 16) == 0, "9-digit step");
    /* stray names: a dead writer's temp file of a newer step (complete), a
     * live one's, a non-canonical name and an unrelated file */
    char src[700];
    ckpt_step_path(src, sizeof src, run, 400);
    long live = (long)getpid(), dead = (long)dead_pid();
    char tmp_dead[800], tmp_live[800], odd[700];
    snprintf(tmp_dead, sizeof tmp_dead, "%s/ckpt/step_999999999.safetensors.tmp.%ld", run, dead);
    snprintf(tmp_live, sizeof tmp_live, "%s/ckpt/step_00000500.safetensors.tmp.%ld", run, live);
    snprintf(odd, sizeof odd, "%s/ckpt/step_7.safetensors", run);
    size_t len;
    unsigned char *b = slurp(src, &len);
    if (b) { spit(tmp_dead, b, len); spit(tmp_live, b, len); spit(odd, b, len); free(b); }
    snprintf(path, sizeof path, "%s/ckpt/notes.txt", run);
    spit(path, "x", 1);

    TU_CHECK(ckpt_list(run, &steps, &n, err, sizeof err) == 0, "%s", err);
    TU_CHECK(n == 5 && steps[0] == 100 && steps[3] == 400 && steps[4] == 123456789, "list sorted, strays ignored (n=%zu)", n);
    free(steps);
    long step = -1;
    ckpt_reader *r = NULL;
    TU_CHECK(ckpt_latest_good(run, path, sizeof path, &step, &r, err, sizeof err) == CKPT_FOUND && step == 123456789 && r,
             "latest: %s", err);
    TU_CHECK(r && strstr(ckpt_reader_path(r), "step_123456789.safetensors"), "reader handed over");
    ckpt_close(r);

    /* damage the two newest: fall back to 400, reporting both */
    ckpt_step_path(path, sizeof path, run, 123456789);
    TU_CHECK(truncate(path, 100) == 0, "truncate");
    ckpt_step_path(path, sizeof path, run, 400);
    b = slurp(path, &len);
    if (b) { b[len - 1] ^= 0x40; spit(path, b, len); free(b); }
    fprintf(stderr, "(two 'skipping damaged' warnings expected next)\n");
    TU_CHECK(ckpt_latest_good(run, path, sizeof path, &step, NULL, err, sizeof err) == CKPT_FOUND && step == 300,
             "fallback to 300, got %ld: %s", step, err);
    TU_CHECK(strstr(path, "step_00000300.safetensors") != NULL, "path %s", path);
    TU_CHECK(check_step(run, 300) == 0, "fallback content");

    /* prune: keeps the newest 2 (by step, damaged or not), drops the dead
     * writer's temp file, keeps the live one's and unrelated files */
    int rm = ckpt_prune(run, 2, err, sizeof err);
    TU_CHECK(rm == 4, "pruned %d files (want 100, 200, 300 and the dead temp)", rm);
    TU_CHECK(ckpt_list(run, &steps, &n, err, sizeof err) == 0 && n == 2 && steps[0] == 400 && steps[1] == 123456789,
             "after prune n=%zu", n);
    free(steps);
    TU_CHECK(access(tmp_dead, F_OK) != 0 && access(tmp_live, F_OK) == 0 && access(odd, F_OK) == 0, "temp files");
    TU_CHECK(ckpt_prune(run, 0, err, sizeof err) < 0, "keep_last 0 refused");
    fprintf(stderr, "(two 'skipping damaged' warnings expected next)\n");
    TU_CHECK(ckpt_latest_good(run, path, sizeof path, &step, NULL, err, sizeof err) == CKPT_ALL_DAMAGED &&
             strstr(err, "all 2 checkpoints"), "all damaged: %s", err);
    unlink(tmp_live);

    /* the one-call save: makes the folders, writes, prunes */
    snprintf(run, sizeof run, "%s/runs/deeper/run2", dir);
    TU_CHECK(ckpt_save_step(NULL, run, 1, 2, err, sizeof err) < 0, "no writer refused");
    for (long s = 1; s <= 4; s++) {
        ckpt_writer *w = ckpt_begin();
        float v = (float)s;
        char sv[32];
        snprintf(sv, sizeof sv, "%ld", s);
        ckpt_add_f32(w, "w", &v, NULL, 0);
        ckpt_meta(w, "step", sv);
        TU_CHECK(ckpt_save_step(w, run, s, 2, err, sizeof err) == 0, "save %ld: %s", s, err);
        ckpt_free(w);
    }
    TU_CHECK(ckpt_list(run, &steps, &n, err, sizeof err) == 0 && n == 2 && steps[0] == 3 && steps[1] == 4,
             "save_step keeps 2 (n=%zu)", n);
    free(steps);
    TU_CHECK(check_step(run, 4) == 0, "saved content");
}

static int has_tmp(const char *run, pid_t pid) {
    char d[700], suffix[64];
    snprintf(d, sizeof d, "%s/ckpt", run);
    snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)pid);
    DIR *dir = opendir(d);
    struct dirent *e;
    int found = 0;
    while (dir && (e = readdir(dir))) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        found |= l > sl && !strcmp(e->d_name + l - sl, suffix);
    }
    if (dir) closedir(dir);
    return found;
}

/* A child writes ~2 MB checkpoints in a loop (pruning to 3) and is killed
 * with SIGKILL at random moments; after every kill each listed checkpoint,
 * and so the newest, must open cleanly and hold its own step. */
static void test_sigkill(const char *dir) {
    char run[600], err[512];
    snprintf(run, sizeof run, "%s/killrun", dir);
    TU_CHECK(ckpt_prepare_dir(run, err, sizeof err) == 0, "%s", err);
    unsigned seed = 12345;
    int kills = 0, bad = 0, mid_write = 0;
    long last = 0;
    for (int it = 0; it < 20; it++) {
        pid_t c = fork();
        if (c == 0) {
            long *steps;
            size_t n;
            long s = 0;
            if (ckpt_list(run, &steps, &n, NULL, 0) == 0 && n) s = steps[n - 1];
            free(steps);
            for (;;) {
                if (write_step(run, ++s, 512 * 1024) < 0) _exit(3);
                ckpt_prune(run, 3, NULL, 0);
            }
        }
        struct timespec d = {0, (long)(rng_next(&seed) % 150 + 5) * 1000000L};
        nanosleep(&d, NULL);
        kill(c, SIGKILL);
        int st = 0;
        waitpid(c, &st, 0);
        TU_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child ended by SIGKILL (status %d)", st);
        kills++;
        /* a temp file of this child means the kill landed mid-write */
        mid_write += has_tmp(run, c);
        long *steps;
        size_t n;
        TU_CHECK(ckpt_list(run, &steps, &n, err, sizeof err) == 0, "%s", err);
        for (size_t i = 0; i < n; i++)
            if (check_step(run, steps[i]) < 0) { bad++; fprintf(stderr, "kill %d: step %ld unreadable\n", it, steps[i]); }
        char path[700];
        long step = -1;
        if (n) {
            TU_CHECK(ckpt_latest_good(run, path, sizeof path, &step, NULL, err, sizeof err) == CKPT_FOUND &&
                     step == steps[n - 1], "kill %d: newest %ld is the good one (got %ld)", it, steps[n - 1], step);
            TU_CHECK(steps[n - 1] >= last, "steps never go back");
            last = steps[n - 1];
        }
        free(steps);
    }
    TU_CHECK(bad == 0, "%d unreadable checkpoints after kills", bad);
    TU_CHECK(last > 0, "the writer made progress");
    printf("sigkill: %d kills, %d landed mid-write, reached step %ld, every checkpoint intact\n", kills, mid_write, last);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
    const char *dir = tu_tmpdir();
    static void (*const parts[])(const char *) = {test_round_trip, test_writer_errors, test_crafted,
                                                  test_damage, test_run_dir, test_sigkill};
    static const char *const names[] = {"round trip", "writer errors", "crafted", "damage", "run dir", "sigkill"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        double t = now_s();
        parts[i](dir);
        printf("%s: %.2f s\n", names[i], now_s() - t);
    }
    return tu_finish("test_train_ckpt");
}
