/* ctest: the runtime itself: device choice errors, sub-allocation and reuse,
 * out-of-memory messages, hazard-tracked barriers (RAW, WAR, WAW and none for
 * independent work), replay, split submits, timestamps, the on-disk pipeline
 * cache; all under the validation layer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/ops.h"
#include "tests/testutil.h"

static vkm_ctx *open_ctx(void) {
    vkm_opts o = vkm_default_opts();
    o.validate = 1;
    vkm_ctx *ctx = NULL;
    char err[1024];
    if (vkm_ctx_create(&o, &ctx, err, sizeof err)) {
        fprintf(stderr, "cannot create a Vulkan context: %s\n", err);
        exit(1);
    }
    return ctx;
}

static void test_device_choice(void) {
    vkm_opts o = vkm_default_opts();
    o.device = 99;
    vkm_ctx *ctx = NULL;
    char err[1024] = "";
    TU_CHECK(vkm_ctx_create(&o, &ctx, err, sizeof err) != 0, "device 99 should not exist");
    TU_CHECK(strstr(err, "device 99") && strstr(err, "vkmist devices"), "unclear error: %s", err);
    vkm_device_info info[8];
    o.device = -1;
    int n = vkm_list_devices(&o, info, 8, err, sizeof err);
    TU_CHECK(n >= 1, "no device listed: %s", err);
    int chosen = 0;
    for (int i = 0; i < n; i++) chosen += info[i].chosen;
    TU_CHECK(chosen == 1, "%d devices marked chosen", chosen);
}

static void test_alloc(vkm_ctx *ctx) {
    vkm_buf a, b, c, d;
    uint64_t al = vkm_alignment(ctx);
    TU_CHECK(vkm_alloc(ctx, 1000, &a) == 0 && vkm_alloc(ctx, 3, &b) == 0 && vkm_alloc(ctx, 5000, &c) == 0, "alloc: %s",
             vkm_error(ctx));
    TU_CHECK(a.offset % al == 0 && b.offset % al == 0 && c.offset % al == 0, "unaligned allocation");
    TU_CHECK(a.buffer == b.buffer && b.offset >= a.offset + 1000, "allocations overlap");
    uint64_t a_off = a.offset;
    vkm_free(ctx, &b);
    vkm_free(ctx, &a);
    /* a and b coalesced: a request of their combined size lands at a's offset */
    TU_CHECK(vkm_alloc(ctx, 1000 + al, &d) == 0 && d.offset == a_off, "free ranges not coalesced");
    float in[5] = {1, 2, 3, 4, 5}, out[5] = {0};
    TU_CHECK(vkm_write(ctx, d, 4, in, sizeof in) == 0 && vkm_read(ctx, d, 4, out, sizeof out) == 0, "transfer");
    TU_CHECK(!memcmp(in, out, sizeof in), "read back differs");
    TU_CHECK(vkm_write(ctx, d, d.size - 2, in, 8) != 0 && strstr(vkm_error(ctx), "outside"), "out-of-range write accepted");
    vkm_free(ctx, &c);
    vkm_free(ctx, &d);
}

static void test_oom(void) {
    setenv("VKMIST_DEVICE_MEMORY_LIMIT_MB", "300", 1);
    vkm_ctx *ctx = open_ctx();
    unsetenv("VKMIST_DEVICE_MEMORY_LIMIT_MB");
    vkm_buf a, b;
    TU_CHECK(vkm_alloc(ctx, 1 << 20, &a) == 0, "small alloc: %s", vkm_error(ctx));
    TU_CHECK(vkm_alloc(ctx, 400ull << 20, &b) != 0, "400 MiB should exceed a 300 MiB device");
    TU_CHECK(strstr(vkm_error(ctx), "out of device memory") && strstr(vkm_error(ctx), "--batch"),
             "unclear OOM message: %s", vkm_error(ctx));
    vkm_free(ctx, &a);
    vkm_ctx_destroy(ctx);
}

/* y = a*x + b*y style dispatches on small tensors, counting barriers */
static int axpby(vkm_seq *s, vkm_buf x, vkm_buf y, vkm_buf out, float a, float b) {
    vkm_axpby_p p = {(int64_t)(out.size / 4), a, b, 0};
    return vkm_op_axpby(s, &p, x, y, out);
}

static void test_hazards(vkm_ctx *ctx) {
    vkm_buf big, x, y, z, w;
    TU_CHECK(vkm_alloc(ctx, 4 * 4096, &big) == 0, "alloc");
    uint64_t al = vkm_alignment(ctx), q = 1024 / al * al;
    x = vkm_sub(big, 0, 1000);
    y = vkm_sub(big, q, 1000);
    z = vkm_sub(big, 2 * q, 1000);
    w = vkm_sub(big, 3 * q, 1000);
    struct { const char *what; int want; } cases[] = {
        {"independent", 0}, {"read-after-write", 1}, {"write-after-read", 1}, {"write-after-write", 1}};
    for (int k = 0; k < 4; k++) {
        vkm_seq *s;
        TU_CHECK(vkm_seq_begin(ctx, 0, &s) == 0, "begin");
        axpby(s, x, x, y, 1, 0); /* reads x, writes y */
        if (k == 0) axpby(s, z, z, w, 1, 0);       /* disjoint */
        if (k == 1) axpby(s, y, y, z, 1, 0);       /* reads y */
        if (k == 2) axpby(s, z, z, x, 1, 0);       /* writes x */
        if (k == 3) axpby(s, z, z, y, 1, 0);       /* writes y */
        TU_CHECK(vkm_seq_barrier_count(s) == cases[k].want, "%s: %d barriers, want %d", cases[k].what,
                 vkm_seq_barrier_count(s), cases[k].want);
        TU_CHECK(vkm_seq_submit(s) == 0, "submit: %s", vkm_error(ctx));
        vkm_seq_destroy(s);
    }
    vkm_free(ctx, &big);
}

static void test_replay_split_timestamps(vkm_ctx *ctx) {
    enum { N = 777 };
    vkm_buf y;
    float h[N], r[N];
    for (int i = 0; i < N; i++) h[i] = (float)(i % 13) - 6;
    TU_CHECK(vkm_alloc(ctx, sizeof h, &y) == 0 && vkm_write(ctx, y, 0, h, sizeof h) == 0, "alloc");
    vkm_seq *s;
    TU_CHECK(vkm_seq_begin(ctx, VKM_SEQ_TIMESTAMPS, &s) == 0, "begin");
    /* y = 2y, twice, as one recorded sequence */
    vkm_axpby_p p = {N, 2, 0, 0};
    TU_CHECK(vkm_op_axpby(s, &p, y, y, y) == 0 && vkm_op_axpby(s, &p, y, y, y) == 0, "record: %s", vkm_error(ctx));
    TU_CHECK(vkm_seq_barrier_count(s) == 1, "in-place chain needs one barrier, got %d", vkm_seq_barrier_count(s));
    for (int rep = 0; rep < 3; rep++) TU_CHECK(vkm_seq_submit(s) == 0, "replay %d: %s", rep, vkm_error(ctx));
    TU_CHECK(vkm_read(ctx, y, 0, r, sizeof r) == 0, "read");
    int bad = 0;
    for (int i = 0; i < N; i++) bad += r[i] != h[i] * 64;
    TU_CHECK(!bad, "3 replays of y=4y should give 64y (%d wrong)", bad);
    const vkm_timing *t;
    int nt = 0;
    if (vkm_seq_timings(s, &t, &nt) == 0) {
        TU_CHECK(nt == 2, "%d timings for 2 dispatches", nt);
        for (int i = 0; i < nt; i++) TU_CHECK(t[i].ms >= 0 && t[i].label, "bad timing");
    }
    vkm_seq_destroy(s);

    /* split submits: a budget of one dispatch per submit */
    vkm_set_submit_budget(ctx, 0, 1);
    TU_CHECK(vkm_seq_begin(ctx, 0, &s) == 0, "begin");
    for (int i = 0; i < 3; i++) {
        vkm_axpby_p q = {N, 1, 0, 1};
        TU_CHECK(vkm_op_axpby(s, &q, y, y, y) == 0, "record");
    }
    TU_CHECK(vkm_seq_submit(s) == 0, "submit: %s", vkm_error(ctx));
    TU_CHECK(vkm_read(ctx, y, 0, r, sizeof r) == 0, "read");
    bad = 0;
    for (int i = 0; i < N; i++) bad += r[i] != h[i] * 512;
    TU_CHECK(!bad, "y += y three times should give 8x (%d wrong)", bad);
    TU_CHECK(vkm_seq_submit_count(s) == 3, "expected 3 submits, got %d", vkm_seq_submit_count(s));
    vkm_set_submit_budget(ctx, 0, 0);
    vkm_seq_destroy(s);
    vkm_free(ctx, &y);
}

static void test_pipeline_cache(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/cache", tu_tmpdir());
    setenv("XDG_CACHE_HOME", dir, 1);
    vkm_ctx *ctx = open_ctx();
    vkm_buf y;
    TU_CHECK(vkm_alloc(ctx, 64, &y) == 0, "alloc");
    vkm_seq *s;
    vkm_axpby_p p = {16, 1, 0, 0};
    TU_CHECK(vkm_seq_begin(ctx, 0, &s) == 0 && vkm_op_axpby(s, &p, y, y, y) == 0 && vkm_seq_submit(s) == 0, "run");
    vkm_seq_destroy(s);
    vkm_free(ctx, &y);
    vkm_ctx_destroy(ctx);
    char sub[700];
    snprintf(sub, sizeof sub, "%s/vkmist", dir);
    DIR *d = opendir(sub);
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) found |= !strncmp(e->d_name, "pipelines-", 10) && !strstr(e->d_name, ".tmp");
    if (d) closedir(d);
    TU_CHECK(found, "no pipeline cache file under %s", sub);
    /* a damaged cache file is ignored, not trusted */
    d = opendir(sub);
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "pipelines-", 10)) continue;
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
        FILE *f = fopen(path, "r+b");
        if (f) { fputs("garbage header bytes", f); fclose(f); }
    }
    if (d) closedir(d);
    ctx = open_ctx();
    TU_CHECK(ctx != NULL, "context with a damaged pipeline cache");
    vkm_ctx_destroy(ctx);
    unsetenv("XDG_CACHE_HOME");
}

/* The GPU paths on lavapipe: descriptor sets (no push descriptors), staged
 * transfers (no mapping) and the kernel shapes chosen for GPUs (workgroup
 * sizes, split reductions), through the conformance rows they touch. */
#include "runtime/conform/conform.h"
static void test_gpu_paths(void) {
    setenv("VKMIST_NO_PUSH_DESCRIPTORS", "1", 1);
    setenv("VKMIST_FORCE_STAGING", "1", 1);
    setenv("VKMIST_GPU_KERNELS", "1", 1);
    vkm_ctx *ctx = open_ctx();
    unsetenv("VKMIST_NO_PUSH_DESCRIPTORS");
    unsetenv("VKMIST_FORCE_STAGING");
    unsetenv("VKMIST_GPU_KERNELS");
    TU_CHECK(!vkm_device(ctx)->push_descriptors && !vkm_device(ctx)->unified && !vkm_device(ctx)->cpu_kernels,
             "switches ignored");
    vkm_buf b;
    TU_CHECK(vkm_alloc(ctx, 64, &b) == 0 && b.map == NULL, "staging mode still maps");
    vkm_free(ctx, &b);
    const char *ops[] = {"axpby", "conv2d", "conv2d_bwd_data", "conv2d_bwd_filter", "linear_bwd_weight",
                         "instnorm", "instnorm_bwd", "adam"};
    for (int i = 0; i < (int)(sizeof ops / sizeof ops[0]); i++) {
        int failed = conf_run(ctx, ops[i], 5, stdout);
        TU_CHECK(failed == 0, "%s failed with descriptor sets + staging", ops[i]);
    }
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation message(s)", vkm_validation_messages(ctx));
    vkm_ctx_destroy(ctx);
}

int main(void) {
    test_device_choice();
    vkm_ctx *ctx = open_ctx();
    test_alloc(ctx);
    test_hazards(ctx);
    test_replay_split_timestamps(ctx);
    TU_CHECK(vkm_validation_messages(ctx) == 0, "%d validation message(s)", vkm_validation_messages(ctx));
    vkm_ctx_destroy(ctx);
    test_oom();
    test_pipeline_cache();
    test_gpu_paths();
    return tu_finish("test_runtime");
}
