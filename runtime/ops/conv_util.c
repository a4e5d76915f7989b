/* Shared helpers of the conv-family launchers (see conv_util.h). */
#include "runtime/ops/conv_util.h"
#include <stdlib.h>
#include <unistd.h>

int conv_check_buf(vkm_seq *s, const char *op, const char *what, vkm_buf b, long long floats) {
    if (floats < 1 || floats > CONV_MAX_ELEMS)
        return vkm_seq_fail(s, "%s: %s of %lld floats is out of range", op, what, floats);
    if (b.buffer == VK_NULL_HANDLE) return vkm_seq_fail(s, "%s: %s has no buffer", op, what);
    if (b.size < (uint64_t)floats * 4)
        return vkm_seq_fail(s, "%s: %s holds %llu bytes, needs %lld floats", op, what,
                            (unsigned long long)b.size, floats);
    return 0;
}

vkm_buf conv_view(vkm_seq *s, vkm_buf b, int *eoff) {
    uint64_t a = vkm_alignment(vkm_seq_ctx(s));
    uint64_t d = b.offset % a;
    b.offset -= d;
    b.size += d;
    if (b.map) b.map -= d;
    *eoff = (int)(d / 4);
    return b;
}

uint32_t conv_local(vkm_seq *s, long long items, uint32_t max_local) {
    const vkm_device_info *dev = vkm_device(vkm_seq_ctx(s));
    if (!dev->cpu_kernels) return max_local;
    /* lavapipe starts one thread per online CPU (LP_NUM_THREADS overrides) */
    const char *env = getenv("LP_NUM_THREADS");
    long threads = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    uint32_t min_local = dev->subgroup_size > 8 ? dev->subgroup_size : 8, local = max_local;
    while (local / 2 >= min_local && (items + local - 1) / local < 2 * threads) local /= 2;
    return local;
}

int conv_grid(vkm_seq *s, const char *op, long long items, uint32_t local, uint32_t groups[3]) {
    long long wg = (items + local - 1) / local;
    long long gx = wg < 65535 ? wg : 65535, gy = (wg + gx - 1) / gx;
    if (gy > 65535) return vkm_seq_fail(s, "%s: %lld invocations are too many for one dispatch", op, items);
    groups[0] = (uint32_t)gx, groups[1] = (uint32_t)gy, groups[2] = 1;
    return 0;
}

int conv_vec4(vkm_seq *s, long long row, int off) {
    return vkm_device(vkm_seq_ctx(s))->vec4_reads && row % 4 == 0 && off % 4 == 0;
}

uint32_t conv_strategy(vkm_seq *s, int exact8) {
    /* Default: direct loads. On lavapipe they beat the subgroup broadcast
     * (measured: gemm 1024^3 21 vs 18 GFLOP/s, bwd_filter 25 vs 19);
     * VKMIST_TILE_STRATEGY=1 selects the broadcast where the device allows. */
    const char *force = getenv("VKMIST_TILE_STRATEGY");
    if (!force || *force != '1') return 0;
    uint32_t sg = vkm_device(vkm_seq_ctx(s))->subgroup_size;
    if (exact8) return sg == 8;
    return sg >= 8 && sg <= 64 && 64 % sg == 0;
}
